//! The 1-D datasets (`*groupings_for_1D_datasets.json`): global time series with one file
//! per dataset and frequency, `<filename>_<period>_ECCO_<version>_1D.nc`.
//!
//! Their frequencies come from the PO.DAAC table when it lists the dataset: the published
//! groupings disagree with it (V4r4 lists `AVG_DAY, AVG_MON` for the atmospheric pressure,
//! whose only dataset is hourly snapshots; V4r5 lists none), and the table is what was
//! released. A difference is reported as a [`RepairKind::FrequenciesFromPodaac`].

use super::groupings::GroupingFrequency;
use super::repair::{MetadataRepair, RepairKind};
use super::{Catalog, CatalogError};
use crate::naming::OutputPeriod;
use crate::time::Frequency;

/// One 1-D grouping resolved against the PO.DAAC table.
#[derive(Debug, Clone, PartialEq)]
pub struct OneDDataset {
    /// Position in the 1-D groupings file.
    pub grouping_id: usize,
    /// Grouping `name`.
    pub name: String,
    /// Grouping `filename`: the file-name prefix.
    pub filename: String,
    /// Output variable names (`fields`).
    pub fields: Vec<String>,
    /// Grouping `comment`.
    pub comment: Option<String>,
    /// Frequencies produced (from the PO.DAAC table when it lists the dataset).
    pub frequencies: Vec<Frequency>,
    /// What was repaired.
    pub repairs: Vec<MetadataRepair>,
}

/// `<prefix>_<mon_mean|day_mean|snap>_ECCO_<version>_1D.nc`.
pub fn one_d_file_name(prefix: &str, frequency: Frequency, ecco_version: &str) -> String {
    format!(
        "{prefix}_{}_ECCO_{ecco_version}_1D.nc",
        OutputPeriod::of(frequency).as_str()
    )
}

impl Catalog {
    /// Resolves 1-D grouping `id`.
    pub fn dataset_1d(&self, id: usize) -> Result<OneDDataset, CatalogError> {
        let groupings = self.groupings_1d()?;
        let grouping = groupings.get(id).ok_or_else(|| CatalogError::Unavailable {
            what: "1D grouping",
            reason: format!(
                "no 1D grouping {id}: the 1D groupings file has {}",
                groupings.len()
            ),
        })?;
        let listed: Vec<Frequency> = grouping
            .frequencies
            .iter()
            .map(|f| GroupingFrequency::job_frequency(*f))
            .filter(|f| !f.is_time_invariant())
            .collect();
        let mut in_table = Vec::new();
        if let Some(table) = self.podaac.loaded() {
            for row in &table.rows {
                for frequency in Frequency::TIME_VARYING {
                    // `<prefix>_<period>_ECCO_<any version>_1D.nc`.
                    let head = format!(
                        "{}_{}_ECCO_",
                        grouping.filename,
                        OutputPeriod::of(frequency).as_str()
                    );
                    if row.filename.starts_with(&head)
                        && row.filename.ends_with("_1D.nc")
                        && !in_table.contains(&frequency)
                    {
                        in_table.push(frequency);
                    }
                }
            }
        }
        let mut repairs = Vec::new();
        let frequencies = if in_table.is_empty() || !self.repair {
            listed.clone()
        } else {
            let mut sorted = in_table.clone();
            sorted.sort_by_key(|f| Frequency::TIME_VARYING.iter().position(|g| g == f));
            if sorted != listed {
                let shown =
                    |l: &[Frequency]| l.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ");
                repairs.push(MetadataRepair {
                    kind: RepairKind::FrequenciesFromPodaac,
                    path: self
                        .groupings_1d
                        .loaded()
                        .map(|(p, _)| p.clone())
                        .unwrap_or_default(),
                    detail: format!(
                        "1D grouping {id} ({}) lists frequencies [{}] but the PO.DAAC table \
                         has its datasets at [{}]; produced at [{}]",
                        grouping.filename,
                        shown(&listed),
                        shown(&sorted),
                        shown(&sorted)
                    ),
                });
            }
            sorted
        };
        Ok(OneDDataset {
            grouping_id: id,
            name: grouping.name.clone(),
            filename: grouping.filename.clone(),
            fields: grouping.fields.clone(),
            comment: grouping.comment.clone(),
            frequencies,
            repairs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_the_table() {
        assert_eq!(
            one_d_file_name("GLOBAL_MEAN_SEA_LEVEL", Frequency::AvgDay, "V4r5"),
            "GLOBAL_MEAN_SEA_LEVEL_day_mean_ECCO_V4r5_1D.nc"
        );
        assert_eq!(
            one_d_file_name("SBO_CORE_PRODUCTS", Frequency::Snap, "V4r4"),
            "SBO_CORE_PRODUCTS_snap_ECCO_V4r4_1D.nc"
        );
    }
}
