//! Repairs of known defects of published ECCO metadata directories.
//!
//! Each rule fixes exactly one kind of defect found in a released metadata directory, and
//! every use is recorded as a [`MetadataRepair`] so that the planner can report it once per
//! run (and the granule writer can name it in its provenance). A defect outside these rules
//! stays an error (or, with `LoadOptions::skip_invalid`, a skipped file).
//!
//! | rule | defect (V4r5 as published) | repair |
//! |---|---|---|
//! | [`RepairKind::MissingComma`] | `global_metadata_for_all_datasets.json`: two objects of a list with no comma between them | insert the comma, when the parser stops at a `{` directly preceded (up to whitespace) by `}` |
//! | [`RepairKind::FilenameFromPodaac`] | groupings `OCEAN_3D_VOLUME_FLUX` ... while the PO.DAAC table names the datasets `OCEAN_VOLUME_FLUX` ... | when the table has no dataset of the grouping's `filename` but has one of the name without `_3D_`, the table's name is the granule prefix |
//! | [`RepairKind::FrequenciesFromPodaac`] | native groupings 20-28 list no `frequency` | the frequencies of the table's rows for the dataset (`day_mean` = `AVG_DAY`, `mon_mean` = `AVG_MON`, `snap` = `SNAP`) are added to the grouping's |
//! | [`RepairKind::VariableMetadataFromLog`] | no variable metadata for `OBPAnoma`, the momentum tendencies, ... | `long_name` and `units` from `available_diagnostics.log` |
//! | [`RepairKind::PlaceholderFromPodaac`] | `identifier_product_doi` = `TBD_DOI` | the dataset DOI of the PO.DAAC table (the one written to `id`) |
//! | [`RepairKind::GroupingFromPodaac`] | the table lists lat-lon ICE_SHELF_FLUX and ICE_FRONT_FLUX datasets; the lat-lon groupings have none | a lat-lon grouping with the native grouping's (scalar) fields is appended (next ids) |

use std::fmt;
use std::path::{Path, PathBuf};

use super::groupings::GroupingFrequency;
use super::podaac::PodaacTable;
use crate::vocab::ProductType;

/// Which rule repaired a defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepairKind {
    /// A missing comma between two objects of a JSON list was inserted.
    MissingComma,
    /// The granule prefix was taken from the PO.DAAC table.
    FilenameFromPodaac,
    /// Frequencies were taken from the PO.DAAC table.
    FrequenciesFromPodaac,
    /// Variable attributes were taken from the diagnostics log.
    VariableMetadataFromLog,
    /// A `TBD_*` global attribute was filled from the PO.DAAC table.
    PlaceholderFromPodaac,
    /// A grouping was added for datasets the PO.DAAC table lists and no grouping produces.
    GroupingFromPodaac,
}

impl RepairKind {
    /// Short stable name (logs, provenance).
    pub fn as_str(self) -> &'static str {
        match self {
            RepairKind::MissingComma => "missing-comma",
            RepairKind::FilenameFromPodaac => "filename-from-podaac",
            RepairKind::FrequenciesFromPodaac => "frequencies-from-podaac",
            RepairKind::VariableMetadataFromLog => "variable-metadata-from-log",
            RepairKind::PlaceholderFromPodaac => "placeholder-from-podaac",
            RepairKind::GroupingFromPodaac => "grouping-from-podaac",
        }
    }
}

/// One defect of the metadata directory and how it was repaired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRepair {
    /// The rule.
    pub kind: RepairKind,
    /// The defective file.
    pub path: PathBuf,
    /// What was found and what is used instead.
    pub detail: String,
}

impl fmt::Display for MetadataRepair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.path.display(),
            self.kind.as_str(),
            self.detail
        )
    }
}

/// Upper bound of commas inserted into one file: a file needing more is not the known
/// defect but a broken file.
const MAX_COMMAS: usize = 64;

/// Applies [`RepairKind::MissingComma`] to JSON text until it parses or the parser stops
/// somewhere else. Returns the text to parse and the 1-based lines of the `}` that got a comma
/// (empty when nothing was changed). The caller parses the returned text and reports a
/// remaining error as usual.
pub(crate) fn insert_missing_commas(text: &str) -> (String, Vec<usize>) {
    let mut text = text.to_string();
    let mut lines = Vec::new();
    while lines.len() < MAX_COMMAS {
        let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(&text) else {
            break;
        };
        let Some(at) = byte_offset(&text, error.line(), error.column()) else {
            break;
        };
        if !text[at..].starts_with('{') {
            break;
        }
        let before = text[..at].trim_end();
        if !before.ends_with('}') {
            break;
        }
        let brace = before.len();
        lines.push(text[..brace].matches('\n').count() + 1);
        text.insert(brace, ',');
    }
    (text, lines)
}

/// Byte offset of 1-based `(line, column)` as serde_json reports them (column counts bytes
/// from 1); `None` past the end.
fn byte_offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut start = 0usize;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let at = start + column.checked_sub(1)?;
    (at < text.len() && text.is_char_boundary(at)).then_some(at)
}

/// A repair record of [`RepairKind::MissingComma`] for `path`.
pub(crate) fn comma_repair(path: &Path, lines: &[usize]) -> MetadataRepair {
    let shown: Vec<String> = lines.iter().map(usize::to_string).collect();
    MetadataRepair {
        kind: RepairKind::MissingComma,
        path: path.to_path_buf(),
        detail: format!(
            "invalid JSON: no comma after the list object ending at line(s) {}; inserted",
            shown.join(", ")
        ),
    }
}

/// Global attributes whose `TBD_*` placeholder is replaced by the dataset DOI of the PO.DAAC
/// table ([`RepairKind::PlaceholderFromPodaac`]).
pub const DOI_PLACEHOLDER_ATTRIBUTES: &[&str] = &["identifier_product_doi"];

/// Repair records of the `TBD_*` placeholders of one global metadata file that
/// [`DOI_PLACEHOLDER_ATTRIBUTES`] fills.
pub(crate) fn placeholder_repairs(
    path: &Path,
    entries: &[super::GlobalEntry],
) -> Vec<MetadataRepair> {
    entries
        .iter()
        .filter(|e| DOI_PLACEHOLDER_ATTRIBUTES.contains(&e.name.as_str()))
        .filter_map(|e| {
            let value = e.value.as_str()?;
            value.starts_with("TBD_").then(|| MetadataRepair {
                kind: RepairKind::PlaceholderFromPodaac,
                path: path.to_path_buf(),
                detail: format!(
                    "global attribute '{}' is the placeholder '{value}'; each granule gets its \
                     dataset's DOI from the PO.DAAC table",
                    e.name
                ),
            })
        })
        .collect()
}

/// The frequency a PO.DAAC `DATASET.FILENAME` stands for when it names a dataset of granule
/// prefix `prefix` and product `product`: the token after `<prefix>_` (`day_mean_`,
/// `mon_mean_`, `snap_`, or `ECCO_` for a time-invariant dataset). `None` for a row of another
/// dataset.
fn row_frequency(filename: &str, prefix: &str, product: ProductType) -> Option<GroupingFrequency> {
    let rest = filename.strip_prefix(prefix)?.strip_prefix('_')?;
    if !filename.contains(&format!("_{}_", product.as_str())) {
        return None;
    }
    [
        ("day_mean_", GroupingFrequency::AvgDay),
        ("mon_mean_", GroupingFrequency::AvgMon),
        ("snap_", GroupingFrequency::Snap),
        ("ECCO_", GroupingFrequency::TimeInvariant),
    ]
    .into_iter()
    .find(|(token, _)| rest.starts_with(token))
    .map(|(_, f)| f)
}

/// The frequencies of the PO.DAAC rows of a dataset, in table order, each once.
pub(crate) fn podaac_frequencies(
    table: &PodaacTable,
    prefix: &str,
    product: ProductType,
) -> Vec<GroupingFrequency> {
    let mut found = Vec::new();
    for row in &table.rows {
        if let Some(f) = row_frequency(&row.filename, prefix, product)
            && !found.contains(&f)
        {
            found.push(f);
        }
    }
    found
}

/// A grouping's granule prefix and frequencies after [`RepairKind::FilenameFromPodaac`] and
/// [`RepairKind::FrequenciesFromPodaac`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodaacResolved {
    /// Granule prefix (the grouping's `filename`, or the table's name).
    pub filename: String,
    /// The grouping's frequencies followed by those only the table gives.
    pub frequencies: Vec<GroupingFrequency>,
    /// What was repaired.
    pub repairs: Vec<MetadataRepair>,
}

/// Resolves grouping `id` (`filename`, `frequencies`, from `groupings_path`) against the
/// PO.DAAC table.
pub(crate) fn resolve_with_podaac(
    table: &PodaacTable,
    product: ProductType,
    id: usize,
    filename: &str,
    frequencies: &[GroupingFrequency],
    groupings_path: &Path,
) -> PodaacResolved {
    let mut repairs = Vec::new();
    let mut prefix = filename.to_string();
    let mut table_frequencies = podaac_frequencies(table, filename, product);
    if table_frequencies.is_empty() && filename.contains("_3D_") {
        let renamed = filename.replacen("_3D_", "_", 1);
        let renamed_frequencies = podaac_frequencies(table, &renamed, product);
        if !renamed_frequencies.is_empty() {
            repairs.push(MetadataRepair {
                kind: RepairKind::FilenameFromPodaac,
                path: groupings_path.to_path_buf(),
                detail: format!(
                    "{product} grouping {id} has filename '{filename}' but {} names this \
                     dataset '{renamed}'; granule names, ids, titles and links use '{renamed}'",
                    table.path.display()
                ),
            });
            prefix = renamed;
            table_frequencies = renamed_frequencies;
        }
    }
    let mut all = frequencies.to_vec();
    let added: Vec<GroupingFrequency> = table_frequencies
        .into_iter()
        .filter(|f| !frequencies.contains(f))
        .collect();
    if !added.is_empty() {
        let shown = |list: &[GroupingFrequency]| {
            list.iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        repairs.push(MetadataRepair {
            kind: RepairKind::FrequenciesFromPodaac,
            path: groupings_path.to_path_buf(),
            detail: format!(
                "{product} grouping {id} ({prefix}) lists frequencies [{}] but {} has \
                 datasets at [{}]; produced at [{}]",
                shown(frequencies),
                table.path.display(),
                shown(&added),
                shown(&[frequencies, &added[..]].concat())
            ),
        });
        all.extend(added);
    }
    PodaacResolved {
        filename: prefix,
        frequencies: all,
        repairs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::PodaacRow;

    fn table(names: &[&str]) -> PodaacTable {
        PodaacTable {
            path: PathBuf::from("t.csv"),
            rows: names
                .iter()
                .map(|n| PodaacRow {
                    long_name: String::new(),
                    short_name: String::new(),
                    filename: n.to_string(),
                    persistent_id: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn table_names_and_frequencies_repair_the_grouping() {
        use GroupingFrequency::*;
        let t = table(&[
            "OCEAN_VOLUME_FLUX_day_mean_1992-01-01_ECCO_V4r5_native_llc0090.nc",
            "OCEAN_VOLUME_FLUX_mon_mean_1992-01_ECCO_V4r5_native_llc0090.nc",
            "ICE_FLUX_mon_mean_1992-01-01_ECCO_V4r5_native_llc0090.nc",
            "ICE_FLUX_mon_mean_1992-01-01_ECCO_V4r5_latlon_0p50deg.nc",
            "ICE_FLUX_snap_1992-01-01T000000_ECCO_V4r5_latlon_0p50deg.nc",
            "ICE_FLUX_EXTRA_day_mean_1992-01-01_ECCO_V4r5_native_llc0090.nc",
            "MIXING_ECCO_V4r5_native_llc0090.nc",
        ]);
        let g = Path::new("g.json");
        let native = ProductType::Native;
        let r = resolve_with_podaac(&t, native, 16, "OCEAN_3D_VOLUME_FLUX", &[AvgDay, AvgMon], g);
        assert_eq!(r.filename, "OCEAN_VOLUME_FLUX");
        assert_eq!(r.frequencies, [AvgDay, AvgMon]);
        assert_eq!(r.repairs.len(), 1);
        assert_eq!(r.repairs[0].kind, RepairKind::FilenameFromPodaac);
        // No frequency: the native rows only (not lat-lon, not ICE_FLUX_EXTRA).
        let r = resolve_with_podaac(&t, native, 26, "ICE_FLUX", &[], g);
        assert_eq!(
            (r.filename.as_str(), r.frequencies.as_slice()),
            ("ICE_FLUX", &[AvgMon][..])
        );
        assert_eq!(r.repairs[0].kind, RepairKind::FrequenciesFromPodaac);
        assert!(
            r.repairs[0].to_string().contains("lists frequencies []"),
            "{}",
            r.repairs[0]
        );
        // Consistent groupings are untouched; unknown datasets too.
        let r = resolve_with_podaac(&t, native, 13, "MIXING", &[TimeInvariant], g);
        assert!(r.repairs.is_empty());
        let r = resolve_with_podaac(&t, native, 1, "OTHER_3D_X", &[AvgMon], g);
        assert_eq!((r.filename.as_str(), r.repairs.len()), ("OTHER_3D_X", 0));
    }

    #[test]
    fn missing_commas_between_list_objects_are_inserted() {
        let text = "[\n  {\"a\": 1}\n  {\"b\": 2}\n  {\"c\": 3},\n  {\"d\": 4}   \n {\"e\": 5}\n]";
        let (fixed, lines) = insert_missing_commas(text);
        assert_eq!(lines, [2, 3, 5]);
        let value: serde_json::Value = serde_json::from_str(&fixed).unwrap();
        assert_eq!(value.as_array().unwrap().len(), 5);
    }

    #[test]
    fn valid_text_is_unchanged() {
        let text = "[{\"a\": 1}, {\"b\": 2}]";
        let (fixed, lines) = insert_missing_commas(text);
        assert!(lines.is_empty());
        assert_eq!(fixed, text);
    }

    #[test]
    fn other_syntax_errors_are_left_for_the_parser() {
        // A missing comma between two keys is not the known defect.
        for text in [
            "{\"a\": 1 \"b\": 2}",
            "[1 2]",
            "[{\"a\": 1} [2]]",
            "[{\"a\": 1}",
        ] {
            let (fixed, lines) = insert_missing_commas(text);
            assert!(lines.is_empty(), "{text}");
            assert_eq!(fixed, text);
            assert!(serde_json::from_str::<serde_json::Value>(&fixed).is_err());
        }
    }
}
