//! The production configuration (`docs/edp-compatibility.md` 6): typed, with the V4r4 values built in,
//! and loadable from an EDP Gen B/C YAML file.
//!
//! Loading validates the whole file once (EDP Gen B fails per granule on a missing key, bug
//! 7.17): a missing required key is an error naming the key and the file; unknown keys are
//! ignored with a debug message.

use std::path::Path;

mod yaml;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::{DEFAULT_METADATA_LINK_ROOT, DEFAULT_PODAAC_FILENAME};
use crate::naming::SnapInstants;
use crate::time::{ModelClock, TimeError};
use crate::vocab::ProductType;

/// Errors of loading a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read configuration {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not YAML.
    #[error("invalid YAML in configuration {file}: {message}")]
    Yaml {
        /// The file.
        file: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// The top level is not a mapping.
    #[error("configuration {file} must be a YAML mapping of keys to values")]
    NotAMapping {
        /// The file.
        file: String,
    },
    /// A required key is absent (or null).
    #[error("configuration {file} lacks the required key '{key}'")]
    MissingKey {
        /// The key.
        key: &'static str,
        /// The file.
        file: String,
    },
    /// A key has a value of the wrong type or out of range.
    #[error("configuration {file}: key '{key}' must be {expected}, found {found}")]
    InvalidValue {
        /// The key.
        key: &'static str,
        /// The file.
        file: String,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: String,
    },
    /// The model times do not form a valid clock.
    #[error("configuration {file}: {source}")]
    Clock {
        /// The file.
        file: String,
        /// The clock error.
        source: TimeError,
    },
}

/// Grid labels of the granule file names (`ecco_production_filestr_grid_label`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GridLabels {
    /// `llc0090` for V4r4.
    pub native: String,
    /// `0p50deg` for V4r4.
    pub latlon: String,
}

/// Floating-point type of the data variables (`array_precision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArrayPrecision {
    /// `float32` (V4r4; fill value 9.969209968386869e36).
    Float32,
    /// `float64` (EDP's default when the key is absent; ours is float32).
    Float64,
}

/// The lat-lon target area (`latlon_grid_area_extent` = `[lon_min, lat_max, lon_max, lat_min]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatLonExtent {
    /// Western edge (degrees east).
    pub lon_min: f64,
    /// Northern edge (degrees north).
    pub lat_max: f64,
    /// Eastern edge (degrees east).
    pub lon_max: f64,
    /// Southern edge (degrees north).
    pub lat_min: f64,
}

/// Deflate settings of the data variables (`netcdf4_compression_encodings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Compression {
    /// Deflate on.
    pub zlib: bool,
    /// Deflate level (0-9).
    pub complevel: u8,
    /// Byte shuffle on.
    pub shuffle: bool,
}

/// The production configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductionConfig {
    /// `ecco_version` (`V4r4`): output path and file name.
    pub ecco_version: String,
    /// `product_version` (`Version 4, Release 4`): global attribute.
    pub product_version: String,
    /// File-name grid labels.
    pub grid_labels: GridLabels,
    /// Data variable precision.
    pub array_precision: ArrayPrecision,
    /// `model_start_time`, `model_end_time`, `model_timestep` x `model_timestep_units`.
    pub clock: ModelClock,
    /// `num_vertical_levels` (50), validated against the grid by its consumers.
    pub num_vertical_levels: u32,
    /// `geospatial_vertical_min` (-6134.5), written to 3-D granules only.
    pub geospatial_vertical_min: f64,
    /// `latlon_grid_resolution` in degrees (0.5).
    pub latlon_grid_resolution: f64,
    /// `latlon_grid_area_extent`.
    pub latlon_grid_area_extent: LatLonExtent,
    /// `latlon_effective_grid_radius` converted from km to metres; `None` means the V4r4
    /// target radius `sqrt(area/π)` (`docs/regridding.md` 2.2).
    pub latlon_effective_grid_radius_m: Option<f64>,
    /// `podaac_metadata_filename`: the PO.DAAC CSV in the metadata directory.
    pub podaac_metadata_filename: String,
    /// `metadata_link_root`: prefix of the global `metadata_link`.
    pub metadata_link_root: String,
    /// `history` global attribute.
    pub history: String,
    /// `references` global attribute.
    pub references: String,
    /// `source` global attribute.
    pub source: String,
    /// Project text appended to every granule summary (Gen B `summary`; Gen C's
    /// `project_summary` is ignored, docs/edp-compatibility.md 7.11). Empty: the static `summary` of the
    /// global metadata JSON is appended instead.
    pub summary: String,
    /// `dataset_description_tail_native`.
    pub dataset_description_tail_native: String,
    /// `dataset_description_tail_latlon`.
    pub dataset_description_tail_latlon: String,
    /// `dataset_description_tail_1D`.
    pub dataset_description_tail_1d: String,
    /// Override of the global `product_time_coverage_end`; `None` keeps the metadata value
    /// (`2018-01-01T00:00:00` for V4r4, as in the released granules; EDP writes
    /// `model_end_time` instead, docs/metadata.md 7.1).
    pub product_time_coverage_end: Option<String>,
    /// Which instantaneous inputs SNAP jobs read (our key `snap_instant_period`).
    pub snap_instants: SnapInstants,
    /// Deflate settings.
    pub compression: Compression,
    /// `ecco_native_grid_filename` (Gen C; optional).
    pub ecco_native_grid_filename: Option<String>,
}

/// The V4r4 `history` (configuration value; also in the reference granules).
const V4R4_HISTORY: &str = "Inaugural release of an ECCO Central Estimate solution to PO.DAAC";
/// The V4r4 `references`.
const V4R4_REFERENCES: &str = "ECCO Consortium, Fukumori, I., Wang, O., Fenty, I., Forget, G., \
     Heimbach, P., & Ponte, R. M. 2020. Synopsis of the ECCO Central Production Global Ocean and \
     Sea-Ice State Estimate (Version 4 Release 4). doi:10.5281/zenodo.3765928";
/// The V4r4 `source`.
const V4R4_SOURCE: &str = "The ECCO V4r4 state estimate was produced by fitting a free-running \
     solution of the MITgcm (checkpoint 66g) to satellite and in situ observational data in a \
     least squares sense using the adjoint method.";
/// `dataset_description_tail_native` of V4r4 (docs/edp-compatibility.md 2.1).
const V4R4_TAIL_NATIVE: &str = " on the native Lat-Lon-Cap 90 (LLC90) model grid from the ECCO \
     Version 4 revision 4 (V4r4) ocean and sea-ice state estimate.";
/// `dataset_description_tail_latlon` of V4r4 (docs/edp-compatibility.md 2.2).
const V4R4_TAIL_LATLON: &str = " interpolated to a regular 0.5-degree grid from the ECCO Version \
     4 revision 4 (V4r4) ocean and sea-ice state estimate.";

impl ProductionConfig {
    /// The built-in V4r4 configuration (EDP `configs/config_V4r4.yaml` values; the texts
    /// of `history`, `references` and `source` are those of the reference granules).
    pub fn v4r4() -> ProductionConfig {
        ProductionConfig {
            ecco_version: "V4r4".to_string(),
            product_version: "Version 4, Release 4".to_string(),
            grid_labels: GridLabels {
                native: "llc0090".to_string(),
                latlon: "0p50deg".to_string(),
            },
            array_precision: ArrayPrecision::Float32,
            clock: ModelClock::v4r4(),
            num_vertical_levels: 50,
            geospatial_vertical_min: -6134.5,
            latlon_grid_resolution: 0.5,
            latlon_grid_area_extent: LatLonExtent {
                lon_min: -180.0,
                lat_max: 90.0,
                lon_max: 180.0,
                lat_min: -90.0,
            },
            latlon_effective_grid_radius_m: None,
            podaac_metadata_filename: DEFAULT_PODAAC_FILENAME.to_string(),
            metadata_link_root: DEFAULT_METADATA_LINK_ROOT.to_string(),
            history: V4R4_HISTORY.to_string(),
            references: V4R4_REFERENCES.to_string(),
            source: V4R4_SOURCE.to_string(),
            // The V4r4 project text was to be taken from the shared
            // `product_generation_config*.yaml` files, but those are V4r5 files: one has a
            // V4r5 `summary`, the other a version-neutral `project_summary`, neither the V4r4
            // text. The built-in summary is therefore empty, and the global attribute builder
            // then appends the static `summary` of the V4r4 global metadata JSON (ECCO's
            // project text) to the task summary, trimmed (no trailing space as in EDP Gen C,
            // bug 7.11). A configuration file with a `summary` key replaces the project text.
            summary: String::new(),
            dataset_description_tail_native: V4R4_TAIL_NATIVE.to_string(),
            dataset_description_tail_latlon: V4R4_TAIL_LATLON.to_string(),
            dataset_description_tail_1d: String::new(),
            product_time_coverage_end: None,
            snap_instants: SnapInstants::Daily,
            compression: Compression {
                zlib: true,
                complevel: 5,
                shuffle: true,
            },
            ecco_native_grid_filename: None,
        }
    }

    /// The grid label of a product type.
    pub fn grid_label(&self, product: ProductType) -> &str {
        match product {
            ProductType::Native => &self.grid_labels.native,
            ProductType::Latlon => &self.grid_labels.latlon,
        }
    }

    /// The summary tail of a product type.
    pub fn dataset_description_tail(&self, product: ProductType) -> &str {
        match product {
            ProductType::Native => &self.dataset_description_tail_native,
            ProductType::Latlon => &self.dataset_description_tail_latlon,
        }
    }

    /// Loads a YAML configuration file.
    pub fn from_yaml_file(path: impl AsRef<Path>) -> Result<ProductionConfig, ConfigError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        ProductionConfig::from_yaml_str(&text, &file)
    }

    /// Parses YAML configuration text; `file` names it in errors.
    pub fn from_yaml_str(text: &str, file: &str) -> Result<ProductionConfig, ConfigError> {
        yaml::parse(text, file)
    }

    /// The configuration as canonical JSON: keys sorted at every level, no whitespace.
    pub fn canonical_json(&self) -> String {
        // Serialising plain data to a JSON value cannot fail (no maps with non-string keys,
        // no custom errors); fall back to Null rather than panicking.
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        canonical(&value).to_string()
    }

    /// SHA-256 (lower-case hex) of [`ProductionConfig::canonical_json`]: a stable identity of
    /// the configuration for ledger records.
    pub fn config_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json().as_bytes()))
    }
}

/// A JSON value with object keys sorted recursively.
fn canonical(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            serde_json::Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&map[k])))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(canonical).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4r4_defaults_match_the_compat_table() {
        let c = ProductionConfig::v4r4();
        assert_eq!(c.grid_label(ProductType::Native), "llc0090");
        assert_eq!(c.grid_label(ProductType::Latlon), "0p50deg");
        assert_eq!(c.clock.end_step().unwrap(), 227_904);
        assert!(
            c.dataset_description_tail_native
                .starts_with(" on the native Lat-Lon-Cap 90")
        );
        assert!(
            c.dataset_description_tail_latlon
                .starts_with(" interpolated to a regular 0.5")
        );
        assert!(c.summary.is_empty());
    }

    #[test]
    fn config_hash_is_stable_and_sensitive() {
        let a = ProductionConfig::v4r4();
        let h = a.config_hash();
        assert_eq!(h.len(), 64);
        assert_eq!(h, ProductionConfig::v4r4().config_hash());
        let mut b = a.clone();
        b.history.push('.');
        assert_ne!(b.config_hash(), h);
        // Canonical: keys sorted at every level.
        let json = a.canonical_json();
        let pos = |k: &str| json.find(&format!("\"{k}\"")).unwrap();
        assert!(pos("array_precision") < pos("clock") && pos("clock") < pos("ecco_version"));
        assert!(pos("end") < pos("start"));
    }
}
