//! The 1-D datasets: global time series (global mean sea level and its barystatic and
//! sterodynamic parts, global mean atmospheric surface pressure, the SBO core products), one
//! file per dataset and frequency for the whole run,
//! `<dest>/<version>/1D/<period>/<PREFIX>/<PREFIX>_<period>_ECCO_<version>_1D.nc`.
//!
//! ECCO computes these series in the model run's own post-processing (MITgcm `pkg/sbo` and
//! global integrals written every time step) and its production code only adds metadata to
//! them, so the input is the scalar time-series folder ECCO keeps, one NetCDF file per series
//! (see `docs/one-d-datasets.md`):
//!
//! | dataset | frequency | input file |
//! |---|---|---|
//! | GLOBAL_MEAN_ATM_SURFACE_PRES | SNAP | `Pa_global.nc` |
//! | GLOBAL_MEAN_SEA_LEVEL | AVG_MON | `GMSL.nc` |
//! | GLOBAL_MEAN_SEA_LEVEL | AVG_DAY | `GMSL_day.nc` |
//! | SBO_CORE_PRODUCTS | SNAP | `SBO_global.nc` |
//! | any other | any | `<PREFIX>_<period>.nc` |
//!
//! Each file has a `time` dimension, a `time` variable (its values and `units` are copied)
//! and one variable per field of the grouping. ECCO's adjustments are applied
//! ([`apply_ecco_adjustments`]).

use std::path::{Path, PathBuf};

use edp_conventions::attrs::{
    AttrValue, global_attributes_1d, set_attr, time_attributes_1d, variable_attributes_1d,
};
use edp_conventions::catalog::{OneDDataset, one_d_file_name};
use edp_conventions::naming::OutputPeriod;
use edp_conventions::{Catalog, Frequency, ProductionConfig};

use crate::atomic::AtomicFile;
use crate::error::{GranuleError, Result, nc_err};
use crate::nc;

/// One input series file, read.
#[derive(Debug, Clone, PartialEq)]
pub struct OneDInput {
    /// The file.
    pub path: PathBuf,
    /// `time` values.
    pub time: Vec<f64>,
    /// `time:units`.
    pub time_units: String,
    /// `(field, values)` in grouping order.
    pub fields: Vec<(String, Vec<f64>)>,
}

/// What [`write_one_d`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct OneDReport {
    /// The granule.
    pub path: PathBuf,
    /// Its file name.
    pub granule_name: String,
    /// Records written.
    pub records: usize,
    /// Size in bytes.
    pub bytes: u64,
}

/// The input file name of dataset `prefix` at `frequency` (the table of the module docs).
pub fn input_file_name(prefix: &str, frequency: Frequency) -> String {
    match (prefix, frequency) {
        ("GLOBAL_MEAN_ATM_SURFACE_PRES", Frequency::Snap) => "Pa_global.nc".into(),
        ("GLOBAL_MEAN_SEA_LEVEL", Frequency::AvgMon) => "GMSL.nc".into(),
        ("GLOBAL_MEAN_SEA_LEVEL", Frequency::AvgDay) => "GMSL_day.nc".into(),
        ("SBO_CORE_PRODUCTS", Frequency::Snap) => "SBO_global.nc".into(),
        _ => format!("{prefix}_{}.nc", OutputPeriod::of(frequency).as_str()),
    }
}

/// Where the granule of `dataset` at `frequency` goes below `dest_root`.
pub fn one_d_path(
    dest_root: &Path,
    ecco_version: &str,
    dataset: &OneDDataset,
    frequency: Frequency,
) -> PathBuf {
    dest_root
        .join(ecco_version)
        .join("1D")
        .join(OutputPeriod::of(frequency).as_str())
        .join(&dataset.filename)
        .join(one_d_file_name(&dataset.filename, frequency, ecco_version))
}

/// Reads `path`: `time` and every field of `fields` (each must have one value per time).
pub fn read_input(path: &Path, fields: &[String]) -> Result<OneDInput> {
    let file = netcdf::open(path).map_err(nc_err(path, "open"))?;
    let values = |name: &str| -> Result<Vec<f64>> {
        let var = file
            .variable(name)
            .ok_or_else(|| GranuleError::InvalidTask {
                granule: path.display().to_string(),
                reason: format!("the 1-D input has no variable '{name}'"),
            })?;
        var.get_values::<f64, _>(..)
            .map_err(nc_err(path, format!("read variable {name}")))
    };
    let time = values("time")?;
    let time_units = file
        .variable("time")
        .and_then(|v| {
            v.attributes()
                .find(|a| a.name() == "units")
                .and_then(|a| a.value().ok())
        })
        .and_then(|v| match v {
            netcdf::AttributeValue::Str(s) => Some(s),
            _ => None,
        })
        .ok_or_else(|| GranuleError::InvalidTask {
            granule: path.display().to_string(),
            reason: "the 1-D input's time variable has no text 'units' attribute".into(),
        })?;
    let mut out = Vec::with_capacity(fields.len());
    for field in fields {
        let v = values(field)?;
        if v.len() != time.len() {
            return Err(GranuleError::InvalidTask {
                granule: path.display().to_string(),
                reason: format!(
                    "variable '{field}' has {} values, expected one per time ({})",
                    v.len(),
                    time.len()
                ),
            });
        }
        out.push((field.clone(), v));
    }
    Ok(OneDInput {
        path: path.to_path_buf(),
        time,
        time_units,
        fields: out,
    })
}

/// ECCO's adjustments of the raw series (its 2022 1-D production code):
/// * atmospheric pressure: the first two records are missing in the model output (fill);
/// * global mean sea level: daily, the first record is a start-up discontinuity (fill); both
///   frequencies are anomalies about the series' own time mean (fill values excluded);
/// * SBO: the first record of the centre-of-mass, angular-momentum and mass series (names
///   containing `com`, `amp` or `mass`) is a start-up value (fill).
pub fn apply_ecco_adjustments(prefix: &str, frequency: Frequency, input: &mut OneDInput) {
    let blank = |values: &mut Vec<f64>, n: usize| {
        for v in values.iter_mut().take(n) {
            *v = f64::NAN;
        }
    };
    match prefix {
        "GLOBAL_MEAN_ATM_SURFACE_PRES" => {
            for (_, values) in &mut input.fields {
                blank(values, 2);
            }
        }
        "GLOBAL_MEAN_SEA_LEVEL" => {
            for (_, values) in &mut input.fields {
                if frequency == Frequency::AvgDay {
                    blank(values, 1);
                }
                let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
                if !finite.is_empty() {
                    let mean = finite.iter().sum::<f64>() / finite.len() as f64;
                    for v in values.iter_mut() {
                        *v -= mean;
                    }
                }
            }
        }
        "SBO_CORE_PRODUCTS" => {
            for (name, values) in &mut input.fields {
                if name.contains("com") || name.contains("amp") || name.contains("mass") {
                    blank(values, 1);
                }
            }
        }
        _ => {}
    }
}

/// Writes the 1-D granule of `dataset` at `frequency` from the series files in `input_dir`
/// into `dest_root` (atomically).
pub fn write_one_d(
    catalog: &Catalog,
    config: &ProductionConfig,
    dataset: &OneDDataset,
    frequency: Frequency,
    input_dir: &Path,
    dest_root: &Path,
) -> Result<OneDReport> {
    let input_path = input_dir.join(input_file_name(&dataset.filename, frequency));
    let mut input = read_input(&input_path, &dataset.fields)?;
    apply_ecco_adjustments(&dataset.filename, frequency, &mut input);

    let granule_name = one_d_file_name(&dataset.filename, frequency, &config.ecco_version);
    let uuid = uuid::Uuid::new_v4().to_string();
    let mut globals = global_attributes_1d(
        catalog,
        config,
        dataset,
        frequency,
        &granule_name,
        chrono::Utc::now().naive_utc(),
        &uuid,
    )?;
    let time_attrs = time_attributes_1d(catalog, frequency, &input.time_units)?;
    let mut variables = Vec::with_capacity(input.fields.len());
    for (name, values) in &input.fields {
        let mut attrs = variable_attributes_1d(catalog, name)?;
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if lo <= hi {
            set_attr(&mut attrs, "valid_min", AttrValue::F32(lo as f32));
            set_attr(&mut attrs, "valid_max", AttrValue::F32(hi as f32));
        }
        set_attr(&mut attrs, "coordinates", AttrValue::Str("time".into()));
        let data: Vec<f32> = values
            .iter()
            .map(|v| {
                if v.is_finite() {
                    *v as f32
                } else {
                    crate::FILL_F32
                }
            })
            .collect();
        variables.push((name.clone(), attrs, data));
    }
    set_attr(
        &mut globals,
        "edp_software_version",
        AttrValue::Str(env!("CARGO_PKG_VERSION").into()),
    );
    set_attr(
        &mut globals,
        "edp_config_hash",
        AttrValue::Str(config.config_hash()),
    );
    set_attr(
        &mut globals,
        "edp_input_files",
        AttrValue::Strs(vec![input.path.display().to_string()]),
    );
    if !dataset.repairs.is_empty() {
        set_attr(
            &mut globals,
            "edp_metadata_repairs",
            AttrValue::Strs(
                dataset
                    .repairs
                    .iter()
                    .map(|r| format!("{}: {}", r.kind.as_str(), r.detail))
                    .collect(),
            ),
        );
    }

    let out = one_d_path(dest_root, &config.ecco_version, dataset, frequency);
    let atomic = AtomicFile::new(&out)?;
    let path = atomic.temp_path().to_path_buf();
    let mut file = netcdf::create(&path).map_err(nc_err(&path, "create"))?;
    let records = input.time.len();
    nc::add_dimensions(&mut file, &path, &[("time", records)])?;
    nc::define_coordinate::<f64>(&mut file, &path, "time", &["time"], &time_attrs)?;
    nc::put_values(&mut file, &path, "time", &input.time)?;
    for (name, attrs, data) in &variables {
        nc::define_data_variable(
            &mut file,
            &path,
            name,
            &["time"],
            &[records],
            &config.compression,
            attrs,
        )?;
        nc::put_values(&mut file, &path, name, data)?;
    }
    nc::put_global_attributes(&mut file, &path, &globals)?;
    file.close().map_err(nc_err(&path, "close"))?;
    let final_path = atomic.final_path().to_path_buf();
    let bytes = atomic.commit()?;
    Ok(OneDReport {
        path: final_path,
        granule_name,
        records,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(fields: &[(&str, Vec<f64>)]) -> OneDInput {
        OneDInput {
            path: PathBuf::from("x.nc"),
            time: (0..fields[0].1.len()).map(|t| t as f64).collect(),
            time_units: "hours since 1992-01-01 12:00:00".into(),
            fields: fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone()))
                .collect(),
        }
    }

    #[test]
    fn ecco_adjustments() {
        let mut pa = input(&[("Pa_global", vec![1.0, 2.0, 3.0, 4.0])]);
        apply_ecco_adjustments("GLOBAL_MEAN_ATM_SURFACE_PRES", Frequency::Snap, &mut pa);
        let v = &pa.fields[0].1;
        assert!(v[0].is_nan() && v[1].is_nan() && v[2] == 3.0 && v[3] == 4.0);

        // Daily GMSL: first record dropped, then anomalies about the mean of the rest (3).
        let mut gmsl = input(&[("global_mean_sea_level_anomaly", vec![100.0, 2.0, 3.0, 4.0])]);
        apply_ecco_adjustments("GLOBAL_MEAN_SEA_LEVEL", Frequency::AvgDay, &mut gmsl);
        let v = &gmsl.fields[0].1;
        assert!(v[0].is_nan());
        assert_eq!(&v[1..], &[-1.0, 0.0, 1.0]);
        // Monthly: every record kept.
        let mut gmsl = input(&[("global_mean_sea_level_anomaly", vec![1.0, 2.0, 6.0])]);
        apply_ecco_adjustments("GLOBAL_MEAN_SEA_LEVEL", Frequency::AvgMon, &mut gmsl);
        assert_eq!(gmsl.fields[0].1, [-2.0, -1.0, 3.0]);

        let mut sbo = input(&[
            ("xoamc", vec![1.0, 2.0]),
            ("mass", vec![1.0, 2.0]),
            ("xcom", vec![1.0, 2.0]),
            ("sboarea", vec![1.0, 2.0]),
        ]);
        apply_ecco_adjustments("SBO_CORE_PRODUCTS", Frequency::Snap, &mut sbo);
        let first: Vec<bool> = sbo.fields.iter().map(|(_, v)| v[0].is_nan()).collect();
        // xoamc is angular momentum of currents ("oamc"): ECCO's rule matches "amp", not it.
        assert_eq!(first, [false, true, true, false]);
    }

    #[test]
    fn input_names_follow_ecco() {
        assert_eq!(
            input_file_name("GLOBAL_MEAN_SEA_LEVEL", Frequency::AvgDay),
            "GMSL_day.nc"
        );
        assert_eq!(input_file_name("X", Frequency::AvgMon), "X_mon_mean.nc");
    }
}
