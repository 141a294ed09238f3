//! `*dataset_summary.json`: an object keyed by PO.DAAC dataset id (`ECL5M-SSH44`) holding the
//! texts of the released granules (`docs/metadata.md` 6; used by an optional "finalise" pass).

use std::path::Path;

use serde_json::Value;

use super::error::CatalogError;
use super::files::{structure, type_name};

/// One dataset of the summary file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSummary {
    /// Dataset id (the key), e.g. `ECL5M-SSH44`.
    pub id: String,
    /// `title`.
    pub title: String,
    /// `shortname`.
    pub shortname: String,
    /// `summary_first_part`.
    pub summary_first_part: String,
    /// `summary`: the released granules' `summary` attribute.
    pub summary: String,
}

/// Parses the summary file.
pub(crate) fn parse(path: &Path, value: &Value) -> Result<Vec<DatasetSummary>, CatalogError> {
    let object = value.as_object().ok_or_else(|| {
        structure(
            path,
            "top level",
            format!(
                "expected an object keyed by dataset id, found {}",
                type_name(value)
            ),
        )
    })?;
    object
        .iter()
        .map(|(id, entry)| {
            let text = |key: &str| -> Result<String, CatalogError> {
                match entry.get(key) {
                    None => Ok(String::new()),
                    Some(Value::String(s)) => Ok(s.clone()),
                    Some(other) => Err(structure(
                        path,
                        format!("dataset '{id}'"),
                        format!("'{key}' must be a string, found {}", type_name(other)),
                    )),
                }
            };
            Ok(DatasetSummary {
                id: id.clone(),
                title: text("title")?,
                shortname: text("shortname")?,
                summary_first_part: text("summary_first_part")?,
                summary: text("summary")?,
            })
        })
        .collect()
}
