//! List-shaped metadata files: variable, geometry and coordinate metadata (`{name, ...}`
//! objects) and global metadata (`{name, type, value, [grid_dimension]}`), `docs/metadata.md`
//! 2.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::CatalogError;
use super::files::{as_list, entry_location, structure, type_name};
use crate::attr_value::AttrValue;
use crate::vocab::Dimension;

/// One `{name, key: value, ...}` object of a variable, geometry or coordinate metadata file,
/// keys in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataEntry {
    /// The `name` key.
    pub name: String,
    /// Every other key with its JSON value, in file order.
    pub keys: Vec<(String, Value)>,
}

impl MetadataEntry {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.keys.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key` when it is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
}

/// The entries of one metadata file.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataList {
    /// The file.
    pub path: PathBuf,
    /// Entries in file order.
    pub entries: Vec<MetadataEntry>,
}

impl MetadataList {
    /// Parses a list of `{name, ...}` objects.
    pub(crate) fn parse(path: &Path, value: &Value) -> Result<MetadataList, CatalogError> {
        let mut entries = Vec::new();
        for (index, item) in as_list(path, value)?.iter().enumerate() {
            let object = item.as_object().ok_or_else(|| {
                structure(
                    path,
                    format!("entry {index}"),
                    format!("expected an object, found {}", type_name(item)),
                )
            })?;
            let name = object.get("name").and_then(Value::as_str).ok_or_else(|| {
                structure(
                    path,
                    entry_location(index, item),
                    "missing string key 'name'",
                )
            })?;
            entries.push(MetadataEntry {
                name: name.to_string(),
                keys: object
                    .iter()
                    .filter(|(k, _)| k.as_str() != "name")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            });
        }
        Ok(MetadataList {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The first entry called `name` (EDP takes the first match).
    pub fn find(&self, name: &str) -> Option<&MetadataEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

/// One global attribute definition.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalEntry {
    /// Attribute name.
    pub name: String,
    /// Typed value: `s` → `Str`, `f` → `F64` (also from a numeric string such as the `"0"`
    /// of `geospatial_vertical_max`), `i` → `I32`.
    pub value: AttrValue,
    /// The `grid_dimension` filter (`["2D", "3D"]`), `None` when the entry applies to every
    /// granule.
    pub grid_dimension: Option<Vec<String>>,
}

impl GlobalEntry {
    /// True when the entry applies to a granule of `dimension` (10.3 step 4).
    pub fn applies_to(&self, dimension: Dimension) -> bool {
        self.grid_dimension
            .as_ref()
            .is_none_or(|dims| dims.iter().any(|d| d == dimension.as_str()))
    }

    /// Parses a global metadata file.
    pub(crate) fn parse_list(path: &Path, value: &Value) -> Result<Vec<GlobalEntry>, CatalogError> {
        as_list(path, value)?
            .iter()
            .enumerate()
            .map(|(index, item)| GlobalEntry::parse(path, index, item))
            .collect()
    }

    fn parse(path: &Path, index: usize, item: &Value) -> Result<GlobalEntry, CatalogError> {
        let at = || entry_location(index, item);
        let text = |key: &str| -> Result<&str, CatalogError> {
            item.get(key)
                .and_then(Value::as_str)
                .ok_or_else(|| structure(path, at(), format!("missing string key '{key}'")))
        };
        let name = text("name")?;
        let kind = text("type")?;
        let raw = item
            .get("value")
            .ok_or_else(|| structure(path, at(), "missing key 'value'"))?;
        let bad = |expected: &str| {
            structure(
                path,
                at(),
                format!("type '{kind}' expects {expected}, found {raw}"),
            )
        };
        let value = match kind {
            "s" => AttrValue::Str(raw.as_str().ok_or_else(|| bad("a string"))?.to_string()),
            "f" => AttrValue::F64(match raw {
                Value::Number(n) => n.as_f64().ok_or_else(|| bad("a number"))?,
                // geospatial_vertical_max is typed f but written "0" (docs/metadata.md 2).
                Value::String(s) => s.trim().parse().map_err(|_| bad("a number"))?,
                _ => return Err(bad("a number")),
            }),
            "i" => AttrValue::I32(match raw {
                Value::Number(n) => n
                    .as_i64()
                    .and_then(|i| i32::try_from(i).ok())
                    .ok_or_else(|| bad("an int32"))?,
                Value::String(s) => s.trim().parse().map_err(|_| bad("an int32"))?,
                _ => return Err(bad("an int32")),
            }),
            other => {
                return Err(structure(
                    path,
                    at(),
                    format!("unknown type '{other}', expected 's', 'f' or 'i'"),
                ));
            }
        };
        let grid_dimension = match item.get("grid_dimension") {
            None => None,
            Some(Value::String(s)) => Some(s.split_whitespace().map(str::to_string).collect()),
            Some(other) => {
                return Err(structure(
                    path,
                    at(),
                    format!(
                        "'grid_dimension' must be a string, found {}",
                        type_name(other)
                    ),
                ));
            }
        };
        Ok(GlobalEntry {
            name: name.to_string(),
            value,
            grid_dimension,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn global_entries_are_typed() {
        let p = Path::new("g.json");
        let list = json!([
            {"name": "a", "type": "s", "value": "x"},
            {"name": "geospatial_vertical_max", "type": "f", "value": "0", "grid_dimension": "3D"},
            {"name": "n", "type": "i", "value": 7, "grid_dimension": "2D 3D"}
        ]);
        let entries = GlobalEntry::parse_list(p, &list).unwrap();
        assert_eq!(entries[1].value, AttrValue::F64(0.0));
        assert_eq!(entries[2].value, AttrValue::I32(7));
        assert!(entries[0].applies_to(Dimension::TwoD));
        assert!(!entries[1].applies_to(Dimension::TwoD));
        assert!(entries[1].applies_to(Dimension::ThreeD));
    }

    #[test]
    fn global_type_errors_name_the_entry() {
        let p = Path::new("g.json");
        let err = GlobalEntry::parse_list(p, &json!([{"name": "x", "type": "f", "value": "abc"}]))
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("g.json") && msg.contains("'x'") && msg.contains("abc"),
            "{msg}"
        );
        let err = GlobalEntry::parse_list(p, &json!([{"name": "x", "type": "q", "value": 1}]))
            .unwrap_err();
        assert!(err.to_string().contains("unknown type 'q'"));
    }

    #[test]
    fn metadata_entries_keep_key_order() {
        let p = Path::new("v.json");
        let list = MetadataList::parse(p, &json!([{"name": "T", "b": "1", "a": "2"}])).unwrap();
        let e = list.find("T").unwrap();
        assert_eq!(e.keys[0].0, "b");
        assert_eq!(e.get_str("a"), Some("2"));
        let err = MetadataList::parse(p, &json!([{"long_name": "x"}])).unwrap_err();
        assert!(err.to_string().contains("entry 0"));
    }
}
