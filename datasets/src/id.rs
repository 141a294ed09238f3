//! Dataset identity: `<ecco_version>/<native|latlon>/<period>/<GROUPING>` below the
//! destination root, and where its state files live.

use std::fmt;

use edp_conventions::naming::{GranuleName, OutputPeriod};
use edp_plan::state::Layout;
use edp_store::Location;

use crate::DatasetError;

/// One dataset: all granules of one grouping, product type and period of one ECCO version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatasetId {
    /// ECCO version (`V4r4`).
    pub ecco_version: String,
    /// `native` or `latlon`.
    pub product: String,
    /// Output period.
    pub period: OutputPeriodName,
    /// Grouping file-name prefix (`SEA_SURFACE_HEIGHT`).
    pub grouping: String,
}

/// [`OutputPeriod`] with an order (for sorting tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputPeriodName {
    /// `mon_mean`.
    MonMean,
    /// `day_mean`.
    DayMean,
    /// `snap`.
    Snap,
    /// `time_invariant`: one granule without a time axis.
    TimeInvariant,
}

impl OutputPeriodName {
    /// The conventions' period.
    pub fn period(self) -> OutputPeriod {
        match self {
            OutputPeriodName::MonMean => OutputPeriod::MonMean,
            OutputPeriodName::DayMean => OutputPeriod::DayMean,
            OutputPeriodName::Snap => OutputPeriod::Snap,
            OutputPeriodName::TimeInvariant => OutputPeriod::TimeInvariant,
        }
    }

    fn parse(text: &str) -> Option<OutputPeriodName> {
        match text {
            "mon_mean" => Some(OutputPeriodName::MonMean),
            "day_mean" => Some(OutputPeriodName::DayMean),
            "snap" => Some(OutputPeriodName::Snap),
            "time_invariant" => Some(OutputPeriodName::TimeInvariant),
            _ => None,
        }
    }
}

impl DatasetId {
    /// Parses `<ecco_version>/<native|latlon>/<mon_mean|day_mean|snap|time_invariant>/<GROUPING>`.
    pub fn parse(text: &str) -> Result<DatasetId, DatasetError> {
        let invalid = |reason: &str| DatasetError::InvalidDataset {
            found: text.to_string(),
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = text.trim_matches('/').split('/').collect();
        let [version, product, period, grouping] = parts.as_slice() else {
            return Err(invalid("expected 4 parts separated by '/'"));
        };
        if parts.iter().any(|p| !is_safe(p)) {
            return Err(invalid(
                "each part must be 1-128 characters of A-Z a-z 0-9 . _ -, not starting with '.'",
            ));
        }
        if !matches!(*product, "native" | "latlon") {
            return Err(invalid("the product type must be 'native' or 'latlon'"));
        }
        let period = OutputPeriodName::parse(period).ok_or_else(|| {
            invalid("the period must be 'mon_mean', 'day_mean', 'snap' or 'time_invariant'")
        })?;
        Ok(DatasetId {
            ecco_version: version.to_string(),
            product: product.to_string(),
            period,
            grouping: grouping.to_string(),
        })
    }

    /// The dataset of a granule path relative to the destination root
    /// (`<ecco_version>/<type>/<period>/<GROUPING>/<file>.nc`) and the file name.
    pub fn of_granule(relative: &str) -> Result<(DatasetId, String), DatasetError> {
        let (dir, file) =
            relative
                .rsplit_once('/')
                .ok_or_else(|| DatasetError::InvalidDataset {
                    found: relative.to_string(),
                    reason: "expected <ecco_version>/<type>/<period>/<GROUPING>/<file>.nc".into(),
                })?;
        Ok((DatasetId::parse(dir)?, file.to_string()))
    }

    /// `<ecco_version>/<type>/<period>/<GROUPING>`.
    pub fn path(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.ecco_version,
            self.product,
            self.period.period().as_str(),
            self.grouping
        )
    }

    /// The ESGF-style dataset id of mapfiles: `ECCO.<version>.<type>.<period>.<GROUPING>`.
    pub fn esgf_id(&self) -> String {
        format!("ECCO.{}", self.path().replace('/', "."))
    }

    /// A single path segment naming the dataset (file names of quicklooks).
    pub fn slug(&self) -> String {
        self.path().replace('/', "__")
    }

    /// `_edp/datasets/<dataset>.json`.
    pub fn status_location(&self, layout: &Layout) -> Location {
        layout
            .state_dir()
            .join(&format!("datasets/{}.json", self.path()))
    }

    /// `_edp/mapfiles/<dataset>.map`: the mapfile written when the dataset became publishable.
    pub fn mapfile_location(&self, layout: &Layout) -> Location {
        layout
            .state_dir()
            .join(&format!("mapfiles/{}.map", self.path()))
    }

    /// The granule name's parts agree with this dataset (version, type, period, grouping).
    pub fn owns(&self, name: &GranuleName) -> bool {
        name.ecco_version == self.ecco_version
            && name.product.as_str() == self.product
            && name.period == self.period.period()
            && name.prefix == self.grouping
    }
}

impl fmt::Display for DatasetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// A path segment we are willing to turn into a file name.
fn is_safe(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 128
        && !part.starts_with('.')
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_paths_parse_and_name_their_files() {
        let id = DatasetId::parse("V4r4/native/mon_mean/SEA_SURFACE_HEIGHT").unwrap();
        assert_eq!(id.esgf_id(), "ECCO.V4r4.native.mon_mean.SEA_SURFACE_HEIGHT");
        let layout = Layout::new(&Location::parse("s3://b/p").unwrap());
        assert_eq!(
            id.status_location(&layout).to_string(),
            "s3://b/p/_edp/datasets/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT.json"
        );
        for bad in [
            "V4r4/native/mon_mean",
            "V4r4/grid/mon_mean/X",
            "V4r4/native/yearly/X",
            "V4r4/native/mon_mean/../x",
        ] {
            assert!(DatasetId::parse(bad).is_err(), "{bad}");
        }
        let (of, file) = DatasetId::of_granule(
            "V4r4/latlon/day_mean/SSH/SSH_day_mean_1992-01-01_ECCO_V4r4_latlon_0p50deg.nc",
        )
        .unwrap();
        assert_eq!(of.path(), "V4r4/latlon/day_mean/SSH");
        assert!(file.ends_with(".nc"));
    }
}
