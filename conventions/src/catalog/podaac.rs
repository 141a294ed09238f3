//! The PO.DAAC dataset table (CSV) and the per-granule lookup of `id`, `metadata_link` and
//! `title` (`docs/metadata.md` 5).

use std::path::{Path, PathBuf};

use super::error::CatalogError;
use crate::naming::{GranuleName, OutputPeriod};

/// The CMR collection URL prefix of `metadata_link` (V4r4 `metadata_link_root`).
pub const DEFAULT_METADATA_LINK_ROOT: &str =
    "https://cmr.earthdata.nasa.gov/search/collections.umm_json?ShortName=";

/// One dataset row (only the columns we use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodaacRow {
    /// `DATASET.LONG_NAME`: the `title`.
    pub long_name: String,
    /// `DATASET.SHORT_NAME`: the end of `metadata_link`.
    pub short_name: String,
    /// `DATASET.FILENAME`: an example granule name of the dataset.
    pub filename: String,
    /// `DATASET.PERSISTENT_ID`, e.g. `PODAAC-ECL5M-SSH44` (V4r4) or `10.5067/ECG5D-ATM45`.
    pub persistent_id: String,
}

/// The identifiers of one granule's dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodaacIds {
    /// `id`: the persistent id with `PODAAC-` replaced by `10.5067/`.
    pub id: String,
    /// `metadata_link`: metadata-link root + short name.
    pub metadata_link: String,
    /// `title`: the long name.
    pub title: String,
    /// The dataset short name.
    pub short_name: String,
    /// The dataset key of `dataset_summary.json` (`ECL5M-SSH44`).
    pub summary_key: String,
}

/// The PO.DAAC table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodaacTable {
    /// The CSV file.
    pub path: PathBuf,
    /// Every row, in file order.
    pub rows: Vec<PodaacRow>,
}

const COLUMNS: [&str; 4] = [
    "DATASET.LONG_NAME",
    "DATASET.SHORT_NAME",
    "DATASET.FILENAME",
    "DATASET.PERSISTENT_ID",
];

impl PodaacTable {
    /// Parses the CSV text; the four columns are found by header name.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<PodaacTable, CatalogError> {
        let invalid = |message: String| CatalogError::InvalidCsv {
            path: path.to_path_buf(),
            message,
        };
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| invalid(e.to_string()))?
            .clone();
        let mut index = [0usize; 4];
        for (slot, column) in index.iter_mut().zip(COLUMNS) {
            *slot = headers
                .iter()
                .position(|h| h.trim() == column)
                .ok_or_else(|| invalid(format!("missing column '{column}'")))?;
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| invalid(e.to_string()))?;
            let field = |i: usize| record.get(index[i]).unwrap_or("").trim().to_string();
            rows.push(PodaacRow {
                long_name: field(0),
                short_name: field(1),
                filename: field(2),
                persistent_id: field(3),
            });
        }
        Ok(PodaacTable {
            path: path.to_path_buf(),
            rows,
        })
    }

    /// The single row whose `DATASET.FILENAME` starts with the granule's head (up to and
    /// including the period token) and ends with its tail (after `_ECCO_<version>_`). No row
    /// or several rows is an error (upstream silently keeps `TBD_*`).
    ///
    /// Time-invariant and 1-D datasets have one file whose name has no period
    /// (`GRID_GEOMETRY_ECCO_V4r5_native_llc0090.nc`): a row whose `DATASET.FILENAME` is the
    /// granule name matches it first.
    pub fn lookup(&self, granule_file_name: &str) -> Result<&PodaacRow, CatalogError> {
        let exact: Vec<&PodaacRow> = self
            .rows
            .iter()
            .filter(|r| r.filename == granule_file_name)
            .collect();
        if let [one] = exact.as_slice() {
            return Ok(one);
        }
        let name = GranuleName::parse(granule_file_name)?;
        let (head, tail) = (name.podaac_head(), name.podaac_tail());
        // A time-invariant name is its dataset's only file: no other row stands for it (the
        // head/tail rule would take another version's row).
        let time_invariant = name.period == OutputPeriod::TimeInvariant;
        let matches: Vec<&PodaacRow> = self
            .rows
            .iter()
            .filter(|r| {
                !time_invariant && r.filename.starts_with(&head) && r.filename.ends_with(&tail)
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(CatalogError::PodaacNoMatch {
                path: self.path.clone(),
                granule: granule_file_name.to_string(),
                head,
                tail,
            }),
            many => Err(CatalogError::PodaacAmbiguous {
                path: self.path.clone(),
                granule: granule_file_name.to_string(),
                head,
                tail,
                matches: many.iter().map(|r| r.filename.clone()).collect(),
            }),
        }
    }

    /// The identifiers of a granule's dataset (10.5).
    pub fn ids(
        &self,
        granule_file_name: &str,
        metadata_link_root: &str,
    ) -> Result<PodaacIds, CatalogError> {
        let row = self.lookup(granule_file_name)?;
        let id = row.persistent_id.replacen("PODAAC-", "10.5067/", 1);
        let summary_key = id.strip_prefix("10.5067/").unwrap_or(&id).to_string();
        Ok(PodaacIds {
            metadata_link: format!("{metadata_link_root}{}", row.short_name),
            title: row.long_name.clone(),
            short_name: row.short_name.clone(),
            summary_key,
            id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "concept-id,DATASET.LONG_NAME,DATASET.SHORT_NAME,DATASET.FILENAME,DATASET.PERSISTENT_ID\n\
        c1,\"Title, one\",SHORT_ONE,SSH_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc,PODAAC-ECL5M-SSH44\n\
        c2,Two,SHORT_TWO,SSH_mon_mean_1992-01_ECCO_V4r4_latlon_0p50deg.nc,10.5067/ECG5M-SSH45\n\
        c3,Three,SHORT_3,X_mon_mean_1992-01_ECCO_V4r4_latlon_0p50deg.nc,PODAAC-A\n\
        c4,Four,SHORT_4,X_mon_mean_1993-01_ECCO_V4r4_latlon_0p50deg.nc,PODAAC-B\n";

    #[test]
    fn lookup_matches_head_and_tail() {
        let t = PodaacTable::parse(Path::new("p.csv"), CSV).unwrap();
        let ids = t
            .ids("SSH_mon_mean_2000-05_ECCO_V4r4_native_llc0090.nc", "root=")
            .unwrap();
        assert_eq!(ids.id, "10.5067/ECL5M-SSH44");
        assert_eq!(ids.title, "Title, one");
        assert_eq!(ids.metadata_link, "root=SHORT_ONE");
        assert_eq!(ids.summary_key, "ECL5M-SSH44");
        let ids = t
            .ids("SSH_mon_mean_2000-05_ECCO_V4r4_latlon_0p50deg.nc", "")
            .unwrap();
        assert_eq!(ids.id, "10.5067/ECG5M-SSH45");
    }

    #[test]
    fn no_match_and_ambiguity_are_errors() {
        let t = PodaacTable::parse(Path::new("p.csv"), CSV).unwrap();
        let err = t
            .lookup("SSH_day_mean_2000-05-01_ECCO_V4r4_native_llc0090.nc")
            .unwrap_err();
        assert!(matches!(err, CatalogError::PodaacNoMatch { .. }), "{err}");
        let err = t
            .lookup("X_mon_mean_2000-05_ECCO_V4r4_latlon_0p50deg.nc")
            .unwrap_err();
        assert!(
            matches!(err, CatalogError::PodaacAmbiguous { ref matches, .. } if matches.len() == 2)
        );
        assert!(err.to_string().contains("p.csv"));
    }

    #[test]
    fn a_file_name_without_period_matches_its_row_exactly() {
        let csv = format!(
            "{CSV}c5,Geometry,SHORT_G,GRID_GEOMETRY_ECCO_V4r4_native_llc0090.nc,PODAAC-ECL5A-GRD44\n"
        );
        let t = PodaacTable::parse(Path::new("p.csv"), &csv).unwrap();
        let ids = t
            .ids("GRID_GEOMETRY_ECCO_V4r4_native_llc0090.nc", "r=")
            .unwrap();
        assert_eq!(
            (ids.id.as_str(), ids.title.as_str()),
            ("10.5067/ECL5A-GRD44", "Geometry")
        );
        // Another version is not this row, and has no period to match with.
        assert!(
            t.lookup("GRID_GEOMETRY_ECCO_V4r5_native_llc0090.nc")
                .is_err()
        );
    }

    #[test]
    fn missing_column_is_an_error() {
        let err = PodaacTable::parse(Path::new("p.csv"), "a,b\n1,2\n").unwrap_err();
        assert!(err.to_string().contains("DATASET.LONG_NAME"), "{err}");
    }
}
