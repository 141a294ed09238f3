//! Reading a production configuration from EDP Gen B/C YAML.

use chrono::TimeDelta;
use serde_yaml_ng::{Mapping, Value};

use super::{ArrayPrecision, Compression, ConfigError, GridLabels, LatLonExtent, ProductionConfig};
use crate::naming::SnapInstants;
use crate::time::{ModelClock, format_time, parse_time};

/// Parses YAML configuration text; `file` names it in errors.
pub(super) fn parse(text: &str, file: &str) -> Result<ProductionConfig, ConfigError> {
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Yaml {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let Value::Mapping(map) = value else {
        return Err(ConfigError::NotAMapping {
            file: file.to_string(),
        });
    };
    for key in map.keys() {
        match key.as_str() {
            Some(k) if KNOWN_KEYS.contains(&k) => {}
            _ => tracing::debug!(file, key = ?key, "ignored configuration key"),
        }
    }
    Yaml { map: &map, file }.config()
}

/// Keys this module reads; any other key is logged at debug level and ignored.
const KNOWN_KEYS: &[&str] = &[
    "ecco_version",
    "product_version",
    "ecco_production_filestr_grid_label",
    "filename_tail_native",
    "filename_tail_latlon",
    "array_precision",
    "model_start_time",
    "model_end_time",
    "model_timestep",
    "model_timestep_units",
    "num_vertical_levels",
    "geospatial_vertical_min",
    "latlon_grid_resolution",
    "latlon_grid_area_extent",
    "latlon_effective_grid_radius",
    "podaac_metadata_filename",
    "metadata_link_root",
    "history",
    "references",
    "source",
    "summary",
    "dataset_description_tail_native",
    "dataset_description_tail_latlon",
    "dataset_description_tail_1D",
    "product_time_coverage_end",
    "snap_instant_period",
    "netcdf4_compression_encodings",
    "ecco_native_grid_filename",
];

/// Typed access to the keys of one YAML mapping.
struct Yaml<'a> {
    map: &'a Mapping,
    file: &'a str,
}

impl Yaml<'_> {
    /// The value of `key`; null (a blank value) counts as absent.
    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn invalid(&self, key: &'static str, expected: &'static str, found: &Value) -> ConfigError {
        let found = serde_yaml_ng::to_string(found)
            .map(|s| s.trim_end().to_string())
            .unwrap_or_else(|_| format!("{found:?}"));
        ConfigError::InvalidValue {
            key,
            file: self.file.to_string(),
            expected,
            found,
        }
    }

    fn missing(&self, key: &'static str) -> ConfigError {
        ConfigError::MissingKey {
            key,
            file: self.file.to_string(),
        }
    }

    fn string(&self, key: &'static str) -> Result<Option<String>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.invalid(key, "a string", other)),
        }
    }

    fn req_string(&self, key: &'static str) -> Result<String, ConfigError> {
        self.string(key)?.ok_or_else(|| self.missing(key))
    }

    fn number(&self, key: &'static str) -> Result<Option<f64>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(v @ Value::Number(n)) => n
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.invalid(key, "a number", v)),
            Some(other) => Err(self.invalid(key, "a number", other)),
        }
    }

    fn boolean(value: &Value) -> Option<bool> {
        match value {
            Value::Bool(b) => Some(*b),
            // Python-style YAML files write True/False, which YAML 1.2 reads as strings.
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    fn config(&self) -> Result<ProductionConfig, ConfigError> {
        let defaults = ProductionConfig::v4r4();
        let time = |key: &'static str| -> Result<_, ConfigError> {
            let text = self.req_string(key)?;
            parse_time(&text, key).map_err(|_| {
                self.invalid(
                    key,
                    "a time YYYY-MM-DDThh:mm:ss",
                    &Value::String(text.clone()),
                )
            })
        };
        let start = time("model_start_time")?;
        let end = time("model_end_time")?;
        let step = self.timestep()?;
        let clock = ModelClock::new(start, end, step).map_err(|source| ConfigError::Clock {
            file: self.file.to_string(),
            source,
        })?;
        let product_time_coverage_end = match self.string("product_time_coverage_end")? {
            Some(text) => {
                let t = parse_time(&text, "product_time_coverage_end").map_err(|_| {
                    self.invalid(
                        "product_time_coverage_end",
                        "a time YYYY-MM-DDThh:mm:ss",
                        &Value::String(text.clone()),
                    )
                })?;
                Some(format_time(t))
            }
            None => None,
        };
        Ok(ProductionConfig {
            ecco_version: self.req_string("ecco_version")?,
            product_version: self.req_string("product_version")?,
            grid_labels: self.grid_labels()?,
            array_precision: self.precision()?,
            clock,
            num_vertical_levels: self.levels()?.unwrap_or(defaults.num_vertical_levels),
            geospatial_vertical_min: self
                .number("geospatial_vertical_min")?
                .ok_or_else(|| self.missing("geospatial_vertical_min"))?,
            latlon_grid_resolution: self
                .resolution()?
                .unwrap_or(defaults.latlon_grid_resolution),
            latlon_grid_area_extent: self.extent()?.unwrap_or(defaults.latlon_grid_area_extent),
            latlon_effective_grid_radius_m: self.radius()?,
            podaac_metadata_filename: self.req_string("podaac_metadata_filename")?,
            metadata_link_root: self
                .string("metadata_link_root")?
                .unwrap_or(defaults.metadata_link_root),
            history: self.req_string("history")?,
            references: self.req_string("references")?,
            source: self.req_string("source")?,
            summary: self.string("summary")?.unwrap_or_default(),
            dataset_description_tail_native: self.req_string("dataset_description_tail_native")?,
            dataset_description_tail_latlon: self.req_string("dataset_description_tail_latlon")?,
            dataset_description_tail_1d: self
                .string("dataset_description_tail_1D")?
                .unwrap_or_default(),
            product_time_coverage_end,
            snap_instants: self.snap()?,
            compression: self.compression(defaults.compression)?,
            ecco_native_grid_filename: self.string("ecco_native_grid_filename")?,
        })
    }

    /// `ecco_production_filestr_grid_label: {latlon, native}` (Gen C), or else the Gen A/B
    /// `filename_tail_{native,latlon}` (`llc0090.nc`) without `.nc`.
    fn grid_labels(&self) -> Result<GridLabels, ConfigError> {
        const KEY: &str = "ecco_production_filestr_grid_label";
        if let Some(value) = self.get(KEY) {
            let label = |product: &str| {
                value
                    .get(product)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| {
                        self.invalid(
                            KEY,
                            "a mapping with string keys 'native' and 'latlon'",
                            value,
                        )
                    })
            };
            return Ok(GridLabels {
                native: label("native")?,
                latlon: label("latlon")?,
            });
        }
        let tail = |key: &'static str| -> Result<Option<String>, ConfigError> {
            Ok(self
                .string(key)?
                .map(|t| t.strip_suffix(".nc").unwrap_or(&t).to_string()))
        };
        match (tail("filename_tail_native")?, tail("filename_tail_latlon")?) {
            (Some(native), Some(latlon)) if !native.is_empty() && !latlon.is_empty() => {
                Ok(GridLabels { native, latlon })
            }
            _ => Err(self.missing(KEY)),
        }
    }

    fn precision(&self) -> Result<ArrayPrecision, ConfigError> {
        const KEY: &str = "array_precision";
        match self.string(KEY)?.as_deref() {
            None | Some("float32") => Ok(ArrayPrecision::Float32),
            Some("float64") => Ok(ArrayPrecision::Float64),
            Some(other) => Err(self.invalid(
                KEY,
                "'float32' or 'float64'",
                &Value::String(other.to_string()),
            )),
        }
    }

    /// `model_timestep` (default 1) in `model_timestep_units` (numpy spelling, default `h`).
    fn timestep(&self) -> Result<TimeDelta, ConfigError> {
        const UNITS: &str = "model_timestep_units";
        const STEP: &str = "model_timestep";
        let unit_seconds = match self.string(UNITS)?.as_deref() {
            None | Some("h") => 3600.0,
            Some("m") => 60.0,
            Some("s") => 1.0,
            Some("D") => 86400.0,
            Some(other) => {
                return Err(self.invalid(
                    UNITS,
                    "one of 'D', 'h', 'm', 's'",
                    &Value::String(other.to_string()),
                ));
            }
        };
        let count = self.number(STEP)?.unwrap_or(1.0);
        let seconds = count * unit_seconds;
        if !(seconds >= 1.0 && seconds.fract() == 0.0 && seconds < 1e12) {
            let found = self.get(STEP).cloned().unwrap_or(Value::Null);
            return Err(self.invalid(STEP, "a positive whole number of seconds", &found));
        }
        // Checked above: a whole number of seconds in [1, 1e12), exact in i64.
        Ok(TimeDelta::seconds(seconds as i64))
    }

    fn levels(&self) -> Result<Option<u32>, ConfigError> {
        const KEY: &str = "num_vertical_levels";
        match self.get(KEY) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| self.invalid(KEY, "a positive integer", v)),
        }
    }

    fn resolution(&self) -> Result<Option<f64>, ConfigError> {
        const KEY: &str = "latlon_grid_resolution";
        match self.number(KEY)? {
            Some(r) if !(r > 0.0 && r <= 180.0) => {
                Err(self.invalid(KEY, "a positive number of degrees", &Value::from(r)))
            }
            other => Ok(other),
        }
    }

    fn extent(&self) -> Result<Option<LatLonExtent>, ConfigError> {
        const KEY: &str = "latlon_grid_area_extent";
        let Some(value) = self.get(KEY) else {
            return Ok(None);
        };
        let bad = || {
            self.invalid(
                KEY,
                "[lon_min, lat_max, lon_max, lat_min] with min < max",
                value,
            )
        };
        let numbers: Vec<f64> = value
            .as_sequence()
            .ok_or_else(bad)?
            .iter()
            .map(Value::as_f64)
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        let [lon_min, lat_max, lon_max, lat_min] = numbers[..] else {
            return Err(bad());
        };
        if !(lon_min < lon_max && lat_min < lat_max) {
            return Err(bad());
        }
        Ok(Some(LatLonExtent {
            lon_min,
            lat_max,
            lon_max,
            lat_min,
        }))
    }

    /// `latlon_effective_grid_radius` in km (as the config file documents) → metres.
    /// Upstream is inconsistent here (schema: metres; factor code divides by 1000, bug 7.15).
    fn radius(&self) -> Result<Option<f64>, ConfigError> {
        const KEY: &str = "latlon_effective_grid_radius";
        match self.number(KEY)? {
            None => Ok(None),
            Some(km) if km > 0.0 && km.is_finite() => Ok(Some(km * 1000.0)),
            Some(km) => Err(self.invalid(KEY, "a positive number of kilometres", &Value::from(km))),
        }
    }

    fn snap(&self) -> Result<SnapInstants, ConfigError> {
        const KEY: &str = "snap_instant_period";
        match self.string(KEY)?.as_deref() {
            None | Some("daily") => Ok(SnapInstants::Daily),
            Some("monthly") => Ok(SnapInstants::Monthly),
            Some(other) => Err(self.invalid(
                KEY,
                "'daily' or 'monthly'",
                &Value::String(other.to_string()),
            )),
        }
    }

    fn compression(&self, defaults: Compression) -> Result<Compression, ConfigError> {
        const KEY: &str = "netcdf4_compression_encodings";
        let Some(value) = self.get(KEY) else {
            return Ok(defaults);
        };
        let bad = || {
            self.invalid(
                KEY,
                "a mapping {zlib: bool, complevel: 0-9, shuffle: bool}",
                value,
            )
        };
        if !value.is_mapping() {
            return Err(bad());
        }
        let flag = |name: &str, default: bool| match value.get(name) {
            None => Ok(default),
            Some(v) => Yaml::boolean(v).ok_or_else(bad),
        };
        let complevel = match value.get("complevel") {
            None => defaults.complevel,
            Some(v) => v
                .as_u64()
                .filter(|l| *l <= 9)
                .and_then(|l| u8::try_from(l).ok())
                .ok_or_else(bad)?,
        };
        Ok(Compression {
            zlib: flag("zlib", defaults.zlib)?,
            complevel,
            shuffle: flag("shuffle", defaults.shuffle)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boolean_accepts_python_spellings() {
        assert_eq!(Yaml::boolean(&Value::String("True".into())), Some(true));
        assert_eq!(Yaml::boolean(&Value::Bool(false)), Some(false));
        assert_eq!(Yaml::boolean(&Value::from(1)), None);
    }
}
