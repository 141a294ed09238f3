//! Dataset manifests: `_edp/manifests/<ecco_version>/<native|latlon>/<period>/<GROUPING>.json`,
//! the path, size and SHA-256 of every granule of the dataset, sorted by path.
//!
//! [`write_manifests`] merges the successes of one run into the manifests of their datasets.
//! Each manifest is updated optimistically (read with its ETag, merge, conditional write,
//! retry on conflict), so two runs finishing at once do not lose each other's entries.

use std::collections::BTreeMap;

use chrono::{SecondsFormat, Utc};
use edp_store::{Location, Store};
use edp_task_schemas::{DatasetManifest, LedgerRecord, ManifestGranule, TaskStatus};

use super::ledger::read_ledger;
use super::{Layout, StateError, encode_json, get_json};
use crate::roots::Root;

/// Attempts at a conditional manifest update before giving up.
const MANIFEST_ATTEMPTS: u32 = 8;

/// What [`write_manifests`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestOutcome {
    /// Manifests written, sorted.
    pub written: Vec<Location>,
    /// Granules merged into them.
    pub granules: usize,
    /// Done records left out because they lack `output_bytes` or `sha256` (granule named).
    pub skipped: Vec<String>,
}

/// Reads the manifest of `dataset` (`<ecco_version>/<type>/<period>/<GROUPING>`).
pub async fn read_manifest(
    store: &Store,
    layout: &Layout,
    dataset: &str,
) -> Result<Option<DatasetManifest>, StateError> {
    get_json(store, &layout.manifest(dataset), "dataset manifest").await
}

/// Merges every `done` ledger record of run `run_id` into the manifests of their datasets
/// (entries of other granules are kept; an entry of the same path is replaced).
pub async fn write_manifests(
    store: &Store,
    dest: &Root,
    run_id: &str,
) -> Result<ManifestOutcome, StateError> {
    let layout = Layout::new(dest.location());
    let records = read_ledger(store, &layout, run_id).await?;
    let mut outcome = ManifestOutcome::default();
    let mut datasets: BTreeMap<String, Vec<ManifestGranule>> = BTreeMap::new();
    for record in records.iter().filter(|r| r.status == TaskStatus::Done) {
        let Some(entry) = manifest_entry(dest, record)? else {
            outcome.skipped.push(record.granule.clone());
            continue;
        };
        let dataset = dataset_of(&entry.path, dest, &record.granule)?;
        datasets.entry(dataset).or_default().push(entry);
    }
    for (dataset, entries) in datasets {
        outcome.granules += entries.len();
        let location = merge_manifest(store, &layout, &dataset, entries).await?;
        outcome.written.push(location);
    }
    Ok(outcome)
}

/// The manifest entry of a done record, `None` when size or checksum are unknown.
fn manifest_entry(
    dest: &Root,
    record: &LedgerRecord,
) -> Result<Option<ManifestGranule>, StateError> {
    let (Some(size), Some(sha256)) = (record.output_bytes, record.sha256.as_ref()) else {
        return Ok(None);
    };
    let path = dest
        .relative(&record.granule)
        .ok_or_else(|| StateError::OutsideDestination {
            granule: record.granule.clone(),
            dest: dest.written().to_string(),
        })?;
    Ok(Some(ManifestGranule {
        path,
        size,
        sha256: sha256.clone(),
    }))
}

/// `<ecco_version>/<type>/<period>/<GROUPING>` of a granule path relative to the root.
fn dataset_of(relative: &str, dest: &Root, granule: &str) -> Result<String, StateError> {
    let parts: Vec<&str> = relative.split('/').collect();
    if parts.len() != 5 || parts.iter().any(|p| p.is_empty()) {
        return Err(StateError::OutsideDestination {
            granule: granule.to_string(),
            dest: dest.written().to_string(),
        });
    }
    Ok(parts[..4].join("/"))
}

/// Read-merge-write of one manifest with a conditional write, retried on conflicts.
async fn merge_manifest(
    store: &Store,
    layout: &Layout,
    dataset: &str,
    entries: Vec<ManifestGranule>,
) -> Result<Location, StateError> {
    let location = layout.manifest(dataset);
    for _ in 0..MANIFEST_ATTEMPTS {
        let head = store.head(&location).await?;
        let existing: Option<DatasetManifest> = match &head {
            Some(_) => get_json(store, &location, "dataset manifest").await?,
            None => None,
        };
        let mut by_path: BTreeMap<String, ManifestGranule> = existing
            .map(|m| m.granules)
            .unwrap_or_default()
            .into_iter()
            .map(|g| (g.path.clone(), g))
            .collect();
        for entry in &entries {
            by_path.insert(entry.path.clone(), entry.clone());
        }
        let manifest = DatasetManifest {
            dataset: dataset.to_string(),
            updated_at: Some(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)),
            granules: by_path.into_values().collect(),
        };
        let body = encode_json(&manifest, &location, "dataset manifest")?;
        let written = store
            .put_if_unchanged(&location, body, head.as_ref())
            .await?;
        if written {
            return Ok(location);
        }
    }
    Err(StateError::Contention {
        location: location.to_string(),
        attempts: MANIFEST_ATTEMPTS,
    })
}
