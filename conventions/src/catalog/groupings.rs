//! Groupings files (`*groupings_for_{native,latlon,1D}_datasets.json`): which fields go into
//! which granule. The position in the list is the grouping id of job files.

use std::fmt;
use std::path::Path;

use serde_json::Value;

use super::error::CatalogError;
use super::files::{as_list, entry_location, structure, type_name};
use crate::time::Frequency;

/// A value of a grouping's `frequency` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupingFrequency {
    /// `AVG_MON`.
    AvgMon,
    /// `AVG_DAY`.
    AvgDay,
    /// `SNAP`.
    Snap,
    /// `TI` (V4r4) or `TIME-INVARIANT` (V4r5): time-invariant fields, one granule.
    TimeInvariant,
}

impl GroupingFrequency {
    /// Parses one list element (case-insensitive).
    pub fn parse(s: &str) -> Option<GroupingFrequency> {
        match s.trim().to_ascii_uppercase().as_str() {
            "AVG_MON" => Some(GroupingFrequency::AvgMon),
            "AVG_DAY" => Some(GroupingFrequency::AvgDay),
            "SNAP" => Some(GroupingFrequency::Snap),
            "TI" | "TIME-INVARIANT" => Some(GroupingFrequency::TimeInvariant),
            _ => None,
        }
    }

    /// The name as V4r4 writes it (`AVG_MON`, `AVG_DAY`, `SNAP`, `TI`).
    pub fn as_str(self) -> &'static str {
        match self {
            GroupingFrequency::AvgMon => "AVG_MON",
            GroupingFrequency::AvgDay => "AVG_DAY",
            GroupingFrequency::Snap => "SNAP",
            GroupingFrequency::TimeInvariant => "TI",
        }
    }

    /// The job frequency.
    pub fn job_frequency(self) -> Frequency {
        match self {
            GroupingFrequency::AvgMon => Frequency::AvgMon,
            GroupingFrequency::AvgDay => Frequency::AvgDay,
            GroupingFrequency::Snap => Frequency::Snap,
            GroupingFrequency::TimeInvariant => Frequency::TimeInvariant,
        }
    }
}

/// Orientation of a lat-lon vector variable (`field_orientations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Orientation {
    /// `zonal`: keep the eastward component.
    Zonal,
    /// `meridional`: keep the northward component.
    Meridional,
}

impl Orientation {
    /// `zonal` or `meridional`.
    pub fn as_str(self) -> &'static str {
        match self {
            Orientation::Zonal => "zonal",
            Orientation::Meridional => "meridional",
        }
    }
}

impl fmt::Display for Orientation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The x/y input variables of a vector variable (`field_components[var]`): the task-list
/// type, defined once in `edp-task-schemas`.
pub use edp_task_schemas::XyComponents;

/// One grouping as written in the groupings file (values parsed, nothing resolved).
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    /// Position in the list: the grouping id.
    pub id: usize,
    /// `name` (feeds the summary).
    pub name: String,
    /// `fields`, split on `,` and trimmed (output variable names, before renaming).
    pub fields: Vec<String>,
    /// `product` when present.
    pub product: Option<String>,
    /// `filename`: granule prefix and directory.
    pub filename: String,
    /// `dimension` as written (`1D`, `2D`, `3D`).
    pub dimension: String,
    /// `frequency` list (empty when the key is absent, as for some V4r5 groupings).
    pub frequencies: Vec<GroupingFrequency>,
    /// `comment`, verbatim.
    pub comment: Option<String>,
    /// `dataset_description`, verbatim.
    pub dataset_description: Option<String>,
    /// `variable_rename` as `(OLD, NEW)` pairs.
    pub variable_rename: Vec<(String, String)>,
    /// `field_components` in file order.
    pub field_components: Vec<(String, XyComponents)>,
    /// `field_orientations` in file order.
    pub field_orientations: Vec<(String, Orientation)>,
}

impl Grouping {
    /// Parses a groupings file.
    pub(crate) fn parse_list(path: &Path, value: &Value) -> Result<Vec<Grouping>, CatalogError> {
        as_list(path, value)?
            .iter()
            .enumerate()
            .map(|(id, item)| Grouping::parse(path, id, item))
            .collect()
    }

    fn parse(path: &Path, id: usize, item: &Value) -> Result<Grouping, CatalogError> {
        let at = || entry_location(id, item).replacen("entry", "grouping", 1);
        let fail = |reason: String| structure(path, at(), reason);
        let object = item
            .as_object()
            .ok_or_else(|| fail(format!("expected an object, found {}", type_name(item))))?;
        let opt_str = |key: &str| -> Result<Option<String>, CatalogError> {
            match object.get(key) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(fail(format!(
                    "'{key}' must be a string, found {}",
                    type_name(other)
                ))),
            }
        };
        let req_str = |key: &str| -> Result<String, CatalogError> {
            opt_str(key)?.ok_or_else(|| fail(format!("missing string key '{key}'")))
        };
        let name = req_str("name")?;
        let fields = split_list(&req_str("fields")?).map_err(|e| fail(format!("'fields': {e}")))?;
        let frequencies = match opt_str("frequency")? {
            None => Vec::new(),
            Some(text) => split_list(&text)
                .map_err(|e| fail(format!("'frequency': {e}")))?
                .iter()
                .map(|f| {
                    GroupingFrequency::parse(f).ok_or_else(|| {
                        fail(format!(
                            "unknown frequency '{f}', expected AVG_MON, AVG_DAY, SNAP or TI"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let variable_rename = match opt_str("variable_rename")? {
            None => Vec::new(),
            Some(text) => {
                parse_renames(&text).map_err(|e| fail(format!("'variable_rename': {e}")))?
            }
        };
        Ok(Grouping {
            id,
            name,
            fields,
            product: opt_str("product")?,
            filename: req_str("filename")?,
            dimension: req_str("dimension")?,
            frequencies,
            comment: opt_str("comment")?,
            dataset_description: opt_str("dataset_description")?,
            variable_rename,
            field_components: parse_components(object.get("field_components"))
                .map_err(|e| fail(format!("'field_components': {e}")))?,
            field_orientations: parse_orientations(object.get("field_orientations"))
                .map_err(|e| fail(format!("'field_orientations': {e}")))?,
        })
    }

    /// The output name of field `field` after `variable_rename`.
    pub fn output_name<'a>(&'a self, field: &'a str) -> &'a str {
        self.variable_rename
            .iter()
            .find(|(old, _)| old == field)
            .map_or(field, |(_, new)| new.as_str())
    }
}

/// Splits a comma-separated list and trims each item; empty items are an error.
fn split_list(text: &str) -> Result<Vec<String>, String> {
    text.split(',')
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                Err(format!("empty item in '{text}'"))
            } else {
                Ok(item.to_string())
            }
        })
        .collect()
}

/// Parses `"OLD:NEW"` pairs separated by commas.
fn parse_renames(text: &str) -> Result<Vec<(String, String)>, String> {
    split_list(text)?
        .into_iter()
        .map(|pair| match pair.split_once(':') {
            Some((old, new))
                if !old.trim().is_empty() && !new.trim().is_empty() && !new.contains(':') =>
            {
                Ok((old.trim().to_string(), new.trim().to_string()))
            }
            _ => Err(format!("expected OLD:NEW, found '{pair}'")),
        })
        .collect()
}

fn parse_components(value: Option<&Value>) -> Result<Vec<(String, XyComponents)>, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let object = value
        .as_object()
        .ok_or_else(|| format!("expected an object, found {}", type_name(value)))?;
    object
        .iter()
        .map(|(var, xy)| {
            let get = |axis: &str| {
                xy.get(axis)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("entry '{var}' needs string keys 'x' and 'y'"))
            };
            Ok((
                var.clone(),
                XyComponents {
                    x: get("x")?,
                    y: get("y")?,
                },
            ))
        })
        .collect()
}

fn parse_orientations(value: Option<&Value>) -> Result<Vec<(String, Orientation)>, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let object = value
        .as_object()
        .ok_or_else(|| format!("expected an object, found {}", type_name(value)))?;
    object
        .iter()
        .map(|(var, o)| match o.as_str() {
            Some("zonal") => Ok((var.clone(), Orientation::Zonal)),
            Some("meridional") => Ok((var.clone(), Orientation::Meridional)),
            _ => Err(format!(
                "entry '{var}' must be 'zonal' or 'meridional', found {o}"
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_trimmed_and_renames_parsed() {
        let p = Path::new("g.json");
        let list = json!([{
            "name": "n", "fields": "ADVxHEFF, ADVxSNOW , WVELMASS", "filename": "F",
            "dimension": "3D", "frequency": "AVG_DAY, TI",
            "variable_rename": "WVELMASS:WVEL, A:B"
        }]);
        let g = &Grouping::parse_list(p, &list).unwrap()[0];
        assert_eq!(g.fields, ["ADVxHEFF", "ADVxSNOW", "WVELMASS"]);
        assert_eq!(
            g.frequencies,
            [GroupingFrequency::AvgDay, GroupingFrequency::TimeInvariant]
        );
        assert_eq!(g.variable_rename[0], ("WVELMASS".into(), "WVEL".into()));
        assert_eq!(g.output_name("WVELMASS"), "WVEL");
        assert_eq!(g.output_name("ADVxSNOW"), "ADVxSNOW");
    }

    #[test]
    fn malformed_groupings_are_errors_naming_the_grouping() {
        let p = Path::new("g.json");
        let bad = [
            json!([{"name": "n", "fields": "A,,B", "filename": "F", "dimension": "2D"}]),
            json!([{"name": "n", "fields": "A", "filename": "F", "dimension": "2D",
                    "variable_rename": "A-B"}]),
            json!([{"name": "n", "fields": "A", "filename": "F", "dimension": "2D",
                    "frequency": "HOURLY"}]),
            json!([{"name": "n", "fields": "A", "dimension": "2D"}]),
            json!([{"name": "n", "fields": "E", "filename": "F", "dimension": "2D",
                    "field_orientations": {"E": "east"}}]),
        ];
        for list in bad {
            let err = Grouping::parse_list(p, &list).unwrap_err();
            assert!(err.to_string().contains("grouping 0 ('n')"), "{err}");
        }
    }
}
