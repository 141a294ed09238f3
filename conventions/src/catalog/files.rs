//! Finding and reading the files of a metadata directory.
//!
//! EDP finds each metadata file with `fnmatch('*' + identifier + '.*')`, so that the V4r4
//! names (`ECCOv4r4_groupings_for_native_datasets.json`) and the V4r5 names
//! (`groupings_for_native_datasets.json`, `spatial_coordinate_metadata_for_native_datasets.json`)
//! are both found. We match `*<identifier>.json` and reject a directory where a pattern
//! matches more than one file instead of picking one.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::error::CatalogError;

/// The file names of a directory (non-UTF-8 names are ignored: no metadata file has one).
pub(crate) fn list_dir(dir: &Path) -> Result<Vec<String>, CatalogError> {
    let read_err = |source| CatalogError::ReadDir {
        dir: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// How a metadata file is recognised.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pattern {
    /// `*<identifier>.json`.
    JsonSuffix(&'static str),
    /// An exact file name.
    Exact,
}

/// Finds the file name for `pattern` (`exact` is the name for [`Pattern::Exact`]). `Ok(None)`
/// when absent, an error naming `dir` when ambiguous.
pub(crate) fn find(
    dir: &Path,
    names: &[String],
    pattern: Pattern,
    exact: &str,
) -> Result<Option<String>, CatalogError> {
    let (shown, matches): (String, Vec<&String>) = match pattern {
        Pattern::JsonSuffix(identifier) => {
            let suffix = format!("{identifier}.json");
            let found = names.iter().filter(|n| n.ends_with(&suffix)).collect();
            (format!("*{suffix}"), found)
        }
        Pattern::Exact => (
            exact.to_string(),
            names.iter().filter(|n| n.as_str() == exact).collect(),
        ),
    };
    match matches.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.to_string())),
        many => Err(CatalogError::AmbiguousFile {
            dir: dir.to_path_buf(),
            pattern: shown,
            candidates: many.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

/// The pattern as shown in error messages.
pub(crate) fn shown_pattern(pattern: Pattern, exact: &str) -> String {
    match pattern {
        Pattern::JsonSuffix(identifier) => format!("*{identifier}.json"),
        Pattern::Exact => exact.to_string(),
    }
}

/// Where the files of a catalog come from.
#[derive(Debug)]
pub(crate) enum Contents {
    /// A local directory.
    Disk,
    /// Files already in memory (e.g. fetched from S3), by file name.
    Memory(BTreeMap<String, Vec<u8>>),
}

impl Contents {
    /// The file names available.
    pub(crate) fn names(&self, dir: &Path) -> Result<Vec<String>, CatalogError> {
        match self {
            Contents::Disk => list_dir(dir),
            Contents::Memory(files) => Ok(files.keys().cloned().collect()),
        }
    }

    /// The text of file `name` (shown as `dir/name` in errors).
    pub(crate) fn read(&self, dir: &Path, name: &str) -> Result<String, CatalogError> {
        let path = dir.join(name);
        let bytes = match self {
            Contents::Disk => std::fs::read(&path).map_err(|source| CatalogError::ReadFile {
                path: path.clone(),
                source,
            })?,
            Contents::Memory(files) => files.get(name).cloned().unwrap_or_default(),
        };
        String::from_utf8(bytes).map_err(|e| CatalogError::NotText {
            path,
            message: e.to_string(),
        })
    }
}

/// Parses JSON text; a syntax error names the file, line and column.
pub(crate) fn parse_json(path: &Path, text: &str) -> Result<Value, CatalogError> {
    serde_json::from_str(text).map_err(|e| CatalogError::InvalidJson {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// A structure error at `location` of `path`.
pub(crate) fn structure(
    path: &Path,
    location: impl Into<String>,
    reason: impl Into<String>,
) -> CatalogError {
    CatalogError::Structure {
        path: path.to_path_buf(),
        location: location.into(),
        reason: reason.into(),
    }
}

/// The JSON type name of a value, for error messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The top-level array of a list-shaped metadata file.
pub(crate) fn as_list<'a>(path: &Path, value: &'a Value) -> Result<&'a Vec<Value>, CatalogError> {
    value.as_array().ok_or_else(|| {
        structure(
            path,
            "top level",
            format!("expected a JSON array, found {}", type_name(value)),
        )
    })
}

/// Describes list entry `index` for messages: `entry 3 ('THETA')`.
pub(crate) fn entry_location(index: usize, value: &Value) -> String {
    match value.get("name").and_then(Value::as_str) {
        Some(name) => format!("entry {index} ('{name}')"),
        None => format!("entry {index}"),
    }
}
