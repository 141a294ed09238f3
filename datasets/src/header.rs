//! What a granule says about itself, read from the NetCDF file ([`read_granule`]) or from its
//! chunk index plus a few ranged reads ([`crate::check`]), and the field of its quicklook.

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;

use netcdf::AttributeValue;

use crate::DatasetError;
use crate::mask::GridMasks;
use crate::quicklook::GridLayout;
use crate::series::{GranuleHeader, ValueSummary, VariableShape};

/// Global attributes that legitimately differ between the granules of a dataset (times,
/// creation dates, the file's own name and identifier, per-granule provenance); every other
/// one (title, DOI `id`, history, source, ...) must be equal.
pub fn varies_per_granule(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("time_coverage")
        || lower.starts_with("date_")
        || lower.starts_with("edp_")
        || matches!(
            lower.as_str(),
            "product_name"
                | "uuid"
                | "tracking_id"
                | "product_time_coverage_start"
                | "product_time_coverage_end"
        )
}

/// Variable attributes that differ per granule (the granule's own value range).
pub fn varies_per_variable(name: &str) -> bool {
    matches!(name, "valid_min" | "valid_max" | "actual_range")
}

/// An attribute value as text (numbers in Rust's shortest form).
pub fn attribute_text(value: &AttributeValue) -> String {
    match value {
        AttributeValue::Str(s) => s.clone(),
        AttributeValue::Strs(v) => v.join("\n"),
        other => match attribute_numbers(other) {
            Some(v) if v.len() == 1 => format!("{}", v[0]),
            Some(v) => format!("{v:?}"),
            None => format!("{other:?}"),
        },
    }
}

/// The numbers of a numeric attribute.
pub fn attribute_numbers(value: &AttributeValue) -> Option<Vec<f64>> {
    use AttributeValue as A;
    Some(match value {
        A::Uchar(x) => vec![f64::from(*x)],
        A::Uchars(v) => v.iter().map(|x| f64::from(*x)).collect(),
        A::Schar(x) => vec![f64::from(*x)],
        A::Schars(v) => v.iter().map(|x| f64::from(*x)).collect(),
        A::Ushort(x) => vec![f64::from(*x)],
        A::Ushorts(v) => v.iter().map(|x| f64::from(*x)).collect(),
        A::Short(x) => vec![f64::from(*x)],
        A::Shorts(v) => v.iter().map(|x| f64::from(*x)).collect(),
        A::Uint(x) => vec![f64::from(*x)],
        A::Uints(v) => v.iter().map(|x| f64::from(*x)).collect(),
        A::Int(x) => vec![f64::from(*x)],
        A::Ints(v) => v.iter().map(|x| f64::from(*x)).collect(),
        A::Ulonglong(x) => vec![*x as f64],
        A::Ulonglongs(v) => v.iter().map(|x| *x as f64).collect(),
        A::Longlong(x) => vec![*x as f64],
        A::Longlongs(v) => v.iter().map(|x| *x as f64).collect(),
        A::Float(x) => vec![f64::from(*x)],
        A::Floats(v) => v.iter().map(|x| f64::from(*x)).collect(),
        A::Double(x) => vec![*x],
        A::Doubles(v) => v.clone(),
        A::Str(_) | A::Strs(_) => return None,
    })
}

fn nc_error(name: &str, what: &str, err: netcdf::Error) -> DatasetError {
    DatasetError::Granule {
        granule: name.to_string(),
        reason: format!("{what}: {err}"),
    }
}

/// Reads the header of the granule file at `path` (named `name` in reports); with `values`,
/// also every data variable's value statistics. `masks` (the native grid's) enable the
/// fill-on-land check of native variables.
pub fn read_granule(
    path: &Path,
    name: &str,
    values: bool,
    masks: Option<&GridMasks>,
) -> Result<GranuleHeader, DatasetError> {
    edp_h5chunks::quiet_error_traces();
    let file = netcdf::open(path).map_err(|e| nc_error(name, "cannot open as NetCDF", e))?;
    let mut header = GranuleHeader {
        name: name.to_string(),
        ..GranuleHeader::default()
    };
    for attr in file.attributes() {
        let key = attr.name().to_string();
        let value = attr
            .value()
            .map_err(|e| nc_error(name, &format!("global attribute {key}"), e))?;
        let text = attribute_text(&value);
        match key.as_str() {
            "time_coverage_start" => header.coverage_start = Some(text),
            "time_coverage_end" => header.coverage_end = Some(text),
            _ if varies_per_granule(&key) => {}
            _ => {
                header.invariant_attributes.insert(key, text);
            }
        }
    }
    for var in file.variables() {
        let var_name = var.name();
        let dims: Vec<String> = var
            .dimensions()
            .iter()
            .map(|d| format!("{}={}", d.name(), d.len()))
            .collect();
        let mut attributes = BTreeMap::new();
        for attr in var.attributes() {
            let key = attr.name().to_string();
            if varies_per_variable(&key) {
                continue;
            }
            let value = attr
                .value()
                .map_err(|e| nc_error(name, &format!("attribute {var_name}:{key}"), e))?;
            attributes.insert(key, attribute_text(&value));
        }
        let chunking = var
            .chunking()
            .map_err(|e| nc_error(name, &format!("chunking of {var_name}"), e))?
            .map(|c| c.iter().map(|x| *x as u64).collect());
        header.variables.push(VariableShape {
            name: var_name.clone(),
            dims,
            dtype: format!("{:?}", var.vartype()),
            chunking,
            filters: None,
            attributes,
        });
        if var_name == "time" {
            header.time = var
                .get_values::<f64, _>(..)
                .map_err(|e| nc_error(name, "time values", e))?;
            header.time_units = text_attribute(&var, "units");
            header.time_calendar = text_attribute(&var, "calendar");
        } else if var_name == "time_bnds" {
            header.time_bnds = Some(
                var.get_values::<f64, _>(..)
                    .map_err(|e| nc_error(name, "time_bnds values", e))?,
            );
        } else if values && is_data_variable(&var) {
            header.values.push(value_summary(&var, name, masks)?);
        }
    }
    Ok(header)
}

fn text_attribute(var: &netcdf::Variable<'_>, key: &str) -> Option<String> {
    var.attribute_value(key)
        .and_then(Result::ok)
        .map(|v| attribute_text(&v))
}

fn number_attribute(var: &netcdf::Variable<'_>, key: &str) -> Option<f64> {
    var.attribute_value(key)
        .and_then(Result::ok)
        .and_then(|v| attribute_numbers(&v))
        .and_then(|v| v.first().copied())
}

/// A data variable: floating point, first dimension `time`, not a coordinate or bounds.
fn is_data_variable(var: &netcdf::Variable<'_>) -> bool {
    let name = var.name();
    let float = matches!(var.vartype(), netcdf::types::NcVariableType::Float(_));
    float
        && var.dimensions().first().is_some_and(|d| d.name() == "time")
        && !name.ends_with("_bnds")
        && name != "time"
}

/// Inf/NaN counts, value range, valid range, fill pattern and mask agreement of one data
/// variable.
fn value_summary(
    var: &netcdf::Variable<'_>,
    granule: &str,
    masks: Option<&GridMasks>,
) -> Result<ValueSummary, DatasetError> {
    let name = var.name();
    let dims: Vec<(String, usize)> = var
        .dimensions()
        .iter()
        .map(|d| (d.name(), d.len()))
        .collect();
    let mask = match masks.map(|m| m.for_variable(&dims)).transpose() {
        Ok(mask) => mask.flatten(),
        Err(reason) => {
            return Err(DatasetError::Granule {
                granule: granule.to_string(),
                reason: format!("variable {name} does not fit the grid given: {reason}"),
            });
        }
    };
    let values: Vec<f32> = var
        .get_values::<f32, _>(..)
        .map_err(|e| nc_error(granule, &format!("values of {name}"), e))?;
    let fill: Option<f32> = var
        .fill_value::<f32>()
        .map_err(|e| nc_error(granule, &format!("_FillValue of {name}"), e))?
        .or(Some(netcdf_default_fill()));
    let mut summary = ValueSummary {
        variable: name.clone(),
        valid_min: number_attribute(var, "valid_min"),
        valid_max: number_attribute(var, "valid_max"),
        ..ValueSummary::default()
    };
    let mut hasher = DefaultHasher::new();
    for (k, v) in values.iter().enumerate() {
        let is_fill = fill.is_some_and(|f| *v == f);
        if is_fill {
            k.hash(&mut hasher);
        }
        let ocean = mask.map(|m| m.is_ocean(k));
        match ocean {
            Some(true) if is_fill => summary.fill_on_ocean += 1,
            Some(false) if !is_fill => summary.data_on_land += 1,
            _ => {}
        }
        if is_fill {
            continue;
        }
        if v.is_infinite() {
            summary.infinite += 1;
        } else if v.is_nan() {
            summary.nan += 1;
        } else {
            let x = f64::from(*v);
            summary.min = Some(summary.min.map_or(x, |m| m.min(x)));
            summary.max = Some(summary.max.map_or(x, |m| m.max(x)));
        }
    }
    summary.fill_pattern = hasher.finish();
    Ok(summary)
}

/// NetCDF's default fill of `float` (`NC_FILL_FLOAT`).
fn netcdf_default_fill() -> f32 {
    9.969_21e36
}

/// The field of a quicklook: the first data variable's first time step and top level, with
/// fill as NaN, and its layout (native tiles or lat-lon).
#[derive(Debug, Clone, PartialEq)]
pub struct QuicklookField {
    /// Variable name.
    pub variable: String,
    /// Its `units`.
    pub units: Option<String>,
    /// Values (NaN = fill).
    pub values: Vec<f32>,
    /// Arrangement.
    pub layout: GridLayout,
}

/// Reads the quicklook field of the granule at `path`.
pub fn read_quicklook_field(path: &Path, name: &str) -> Result<QuicklookField, DatasetError> {
    edp_h5chunks::quiet_error_traces();
    let file = netcdf::open(path).map_err(|e| nc_error(name, "cannot open as NetCDF", e))?;
    let var = file
        .variables()
        .find(|v| is_data_variable(v))
        .ok_or_else(|| DatasetError::Granule {
            granule: name.to_string(),
            reason: "no data variable (float, first dimension time)".into(),
        })?;
    let dims: Vec<(String, usize)> = var
        .dimensions()
        .iter()
        .map(|d| (d.name(), d.len()))
        .collect();
    let names: Vec<&str> = dims.iter().map(|(n, _)| n.as_str()).collect();
    let len = |d: &str| dims.iter().find(|(n, _)| n == d).map_or(0, |(_, l)| *l);
    let (layout, horizontal) = match names.as_slice() {
        [.., "tile", "j", "i"] | [.., "tile", "j_g", "i"] | [.., "tile", "j", "i_g"] => {
            let n = dims[dims.len() - 1].1;
            (GridLayout::Llc { n }, 13 * n * n)
        }
        [.., "latitude", "longitude"] => {
            let (ny, nx) = (len("latitude"), len("longitude"));
            (GridLayout::LatLon { ny, nx }, ny * nx)
        }
        _ => {
            return Err(DatasetError::Granule {
                granule: name.to_string(),
                reason: format!("cannot lay out dimensions {names:?} as tiles or a map"),
            });
        }
    };
    // First time step, first level: index 0 of every dimension but the horizontal ones.
    let horizontal_dims = match layout {
        GridLayout::Llc { .. } => 3,
        GridLayout::LatLon { .. } => 2,
    };
    let start = vec![0usize; dims.len()];
    let count: Vec<usize> = dims
        .iter()
        .enumerate()
        .map(|(k, (_, l))| {
            if k + horizontal_dims >= dims.len() {
                *l
            } else {
                1
            }
        })
        .collect();
    let mut values: Vec<f32> = var
        .get_values::<f32, _>((start, count))
        .map_err(|e| nc_error(name, &format!("values of {}", var.name()), e))?;
    values.truncate(horizontal);
    let fill = var
        .fill_value::<f32>()
        .ok()
        .flatten()
        .unwrap_or_else(netcdf_default_fill);
    for v in &mut values {
        if *v == fill || !v.is_finite() {
            *v = f32::NAN;
        }
    }
    Ok(QuicklookField {
        variable: var.name(),
        units: text_attribute(&var, "units"),
        values,
        layout,
    })
}
