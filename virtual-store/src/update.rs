//! Updating the virtual stores of a destination root from done records.
//!
//! [`update`] takes the done records of one run ([`Scope::Run`], what `edp run` and the
//! reporter Lambda do after a run) or every done record of the root ([`Scope::AllDone`],
//! `edp virtual`), groups them by dataset, and merges each dataset's granules into its
//! `state.json` with a conditional write, retried on conflict; then renders the reference
//! files. Granules whose done record has no chunk index (written by a writer that did not
//! record one) are skipped and listed.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use edp_plan::roots::Root;
use edp_plan::state::{IO_CONCURRENCY, Layout, read_ledger};
use edp_store::{Location, Store};
use edp_task_schemas::{LedgerRecord, TaskStatus};
use futures::{StreamExt, TryStreamExt, stream};
use serde::de::DeserializeOwned;

use crate::error::{Result, VirtualError};
use crate::layout::{self, VirtualLocations, dataset_of};
use crate::model::{GranuleLayout, Merge, ObjectFacts, STATE_FORMAT, VirtualState};
use crate::{icechunk_repo, kerchunk, parquet_refs};

/// Attempts at a conditional state update (or at publishing references that match the
/// current state) before giving up.
const ATTEMPTS: u32 = 8;

/// Which done records to merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The `done` records of one run's ledger.
    Run(&'a str),
    /// Every done marker below `_edp/done/`.
    AllDone,
}

/// How to update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateOptions {
    /// Base URL of the destination root over HTTPS (e.g. a CloudFront or S3 website URL);
    /// when set, `refs.https.json` is written too.
    pub https_base: Option<String>,
    /// Build each store from the records alone, dropping what the stored state holds.
    pub rebuild: bool,
    /// Only these datasets (`<ecco_version>/<type>/<period>/<GROUPING>`, or any trailing part
    /// of it such as the grouping); empty means all.
    pub datasets: Vec<String>,
    /// Re-render the reference files of unchanged stores and rewrite them when they differ
    /// (a repair); otherwise unchanged stores are only checked for missing files.
    pub repair: bool,
}

/// What happened to one dataset's store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetOutcome {
    /// The dataset.
    pub dataset: String,
    /// Its kerchunk references.
    pub refs: Location,
    /// Its Icechunk repository.
    pub icechunk: Location,
    /// Granules added.
    pub added: usize,
    /// Granules replaced (reprocessed).
    pub replaced: usize,
    /// Granules already present and unchanged.
    pub unchanged: usize,
    /// Granules in the store after the update.
    pub granules: usize,
    /// True when `state.json` was written.
    pub state_written: bool,
    /// True when reference files or the Icechunk repository were written.
    pub refs_written: bool,
    /// Granules left out: done records without a chunk index, or whose object is missing.
    pub skipped: Vec<String>,
}

/// What [`update`] did, per dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VirtualReport {
    /// One entry per dataset touched, sorted by dataset.
    pub datasets: Vec<DatasetOutcome>,
}

impl VirtualReport {
    /// Datasets whose state changed.
    pub fn changed(&self) -> usize {
        self.datasets.iter().filter(|d| d.state_written).count()
    }

    /// The reference files of the stores that hold granules.
    pub fn stores(&self) -> Vec<String> {
        self.datasets
            .iter()
            .filter(|d| d.granules > 0)
            .map(|d| d.refs.to_string())
            .collect()
    }

    /// The Icechunk repositories of the stores that hold granules.
    pub fn repositories(&self) -> Vec<String> {
        self.datasets
            .iter()
            .filter(|d| d.granules > 0)
            .map(|d| d.icechunk.to_string())
            .collect()
    }
}

impl fmt::Display for VirtualReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.datasets {
            if d.granules == 0 {
                writeln!(
                    f,
                    "  {}: no store ({} done granule(s) without chunk index or object)",
                    d.dataset,
                    d.skipped.len()
                )?;
                continue;
            }
            writeln!(
                f,
                "  {}: {} granule(s) (+{} added, {} replaced, {} unchanged{}) {} {}",
                d.dataset,
                d.granules,
                d.added,
                d.replaced,
                d.unchanged,
                if d.skipped.is_empty() {
                    String::new()
                } else {
                    format!(", {} without chunk index or object", d.skipped.len())
                },
                d.refs,
                d.icechunk
            )?;
        }
        Ok(())
    }
}

/// Merges the done records of `scope` into the virtual stores of their datasets below
/// `dest` (see the module documentation).
pub async fn update(
    store: &Store,
    dest: &Root,
    scope: Scope<'_>,
    options: &UpdateOptions,
) -> Result<VirtualReport> {
    let layout = Layout::new(dest.location());
    let records = match scope {
        Scope::Run(run_id) => read_ledger(store, &layout, run_id).await?,
        Scope::AllDone => read_done_markers(store, &layout).await?,
    };
    let mut by_dataset: BTreeMap<String, BTreeMap<String, LedgerRecord>> = BTreeMap::new();
    for record in records.into_iter().filter(|r| r.status == TaskStatus::Done) {
        let outside = || VirtualError::OutsideDestination {
            granule: record.granule.clone(),
            dest: dest.written().to_string(),
        };
        let relative = dest.relative(&record.granule).ok_or_else(outside)?;
        let dataset = dataset_of(&relative).ok_or_else(outside)?;
        if !selected(&dataset, &options.datasets) {
            continue;
        }
        let granules = by_dataset.entry(dataset).or_default();
        // Two records of one granule (a task id changed): the later one describes the file.
        let newer = granules
            .get(&relative)
            .is_none_or(|old| old.finished_at <= record.finished_at);
        if newer {
            granules.insert(relative, record);
        }
    }
    let mut report = VirtualReport::default();
    for (dataset, records) in by_dataset {
        let outcome = update_dataset(store, dest, &dataset, records, options).await?;
        report.datasets.push(outcome);
    }
    Ok(report)
}

/// True when `dataset` is one of `wanted` (exactly, or a trailing part of its path).
fn selected(dataset: &str, wanted: &[String]) -> bool {
    wanted.is_empty()
        || wanted.iter().any(|w| {
            let w = w.trim_matches('/');
            dataset == w || dataset.ends_with(&format!("/{w}"))
        })
}

/// Every done marker (`_edp/done/*.json`).
async fn read_done_markers(store: &Store, layout: &Layout) -> Result<Vec<LedgerRecord>> {
    let objects = store.list(&layout.done_dir()).await?;
    stream::iter(
        objects
            .into_iter()
            .filter(|o| o.location.file_name().is_some_and(|n| n.ends_with(".json")))
            .map(|object| async move {
                get_json::<LedgerRecord>(store, &object.location, "done marker").await
            }),
    )
    .buffer_unordered(IO_CONCURRENCY)
    .try_filter_map(|record| async move { Ok(record) })
    .try_collect()
    .await
}

/// The layouts of a dataset's granules (objects checked), sorted in time order; granules
/// without a chunk index or object are left out.
async fn granule_layouts(
    store: &Store,
    dest: &Root,
    records: BTreeMap<String, LedgerRecord>,
) -> Result<Vec<GranuleLayout>> {
    let results: Vec<Option<GranuleLayout>> =
        stream::iter(records.into_iter().map(|(relative, record)| async move {
            let Some(index) = &record.chunk_index else {
                tracing::warn!(granule = %record.granule,
                    "done record has no chunk index: granule left out of the virtual store");
                return Ok::<_, VirtualError>(None);
            };
            let location = dest.location().join(&relative);
            let Some(meta) = store.head(&location).await? else {
                tracing::warn!(granule = %location,
                    "granule of a done record is missing: left out of the virtual store");
                return Ok(None);
            };
            if let Some(expected) = record.output_bytes
                && expected != meta.size
            {
                return Err(VirtualError::SizeMismatch {
                    granule: location.to_string(),
                    expected,
                    found: meta.size,
                });
            }
            let facts = ObjectFacts {
                path: relative,
                size: meta.size,
                etag: meta.etag,
                sha256: record.sha256.clone(),
            };
            GranuleLayout::from_index(facts, index).map(Some)
        }))
        .buffer_unordered(IO_CONCURRENCY)
        .try_collect()
        .await?;
    let mut layouts: Vec<GranuleLayout> = results.into_iter().flatten().collect();
    layouts.sort_by(|a, b| a.refs.order_key().cmp(&b.refs.order_key()));
    Ok(layouts)
}

/// Merges `records` into the store of `dataset` (conditional write, retried on conflict),
/// then publishes the reference files.
async fn update_dataset(
    store: &Store,
    dest: &Root,
    dataset: &str,
    records: BTreeMap<String, LedgerRecord>,
    options: &UpdateOptions,
) -> Result<DatasetOutcome> {
    let at = VirtualLocations::new(dest.location(), dataset);
    let wanted: Vec<String> = records.keys().cloned().collect();
    let layouts = granule_layouts(store, dest, records).await?;
    let skipped: Vec<String> = wanted
        .into_iter()
        .filter(|path| !layouts.iter().any(|l| &l.refs.path == path))
        .collect();
    let mut outcome = DatasetOutcome {
        dataset: dataset.to_string(),
        refs: at.refs.clone(),
        icechunk: at.icechunk.clone(),
        added: 0,
        replaced: 0,
        unchanged: 0,
        granules: 0,
        state_written: false,
        refs_written: false,
        skipped,
    };
    for _ in 0..ATTEMPTS {
        let head = store.head(&at.state).await?;
        let stored: Option<VirtualState> = match &head {
            Some(_) => read_state(store, &at.state).await?,
            None => None,
        };
        // Merged into the stored state in place (no copy of a state of thousands of
        // granules); a rebuild starts empty and is compared with the stored state at the end.
        let (mut next, stored) = if options.rebuild {
            (None, stored)
        } else {
            (stored, None)
        };
        let (mut added, mut replaced, mut unchanged) = (0, 0, 0);
        for layout in &layouts {
            match next.as_mut() {
                None => {
                    next = Some(VirtualState::new(dataset, layout.clone()));
                    added += 1;
                }
                Some(state) => match state.merge(layout.clone())? {
                    Merge::Added => added += 1,
                    Merge::Replaced => replaced += 1,
                    Merge::Unchanged => unchanged += 1,
                },
            }
        }
        (outcome.added, outcome.replaced, outcome.unchanged) = (added, replaced, unchanged);
        let Some(next) = next else {
            // Nothing to put in a store (no granule had a chunk index).
            return Ok(outcome);
        };
        outcome.granules = next.granules.len();
        let unchanged_state = if options.rebuild {
            stored.as_ref() == Some(&next)
        } else {
            head.is_some() && added + replaced == 0
        };
        if unchanged_state {
            let known = head
                .and_then(|meta| meta.etag)
                .map(|etag| KnownState { etag, state: next });
            outcome.refs_written =
                publish(store, dest, &at, options, !options.repair, known).await?;
            return Ok(outcome);
        }
        next.check_extents()
            .map_err(|problem| VirtualError::BadState {
                location: at.state.to_string(),
                problem,
            })?;
        let body = encode(&next, &at.state, "virtual store state")?;
        let written = store
            .put_if_unchanged_tagged(&at.state, body, head.as_ref())
            .await?;
        if let Some(etag) = written {
            outcome.state_written = true;
            let known = etag.map(|etag| KnownState { etag, state: next });
            outcome.refs_written = publish(store, dest, &at, options, false, known).await?;
            return Ok(outcome);
        }
        tracing::debug!(state = %at.state, "concurrent update of a virtual store: merging again");
    }
    Err(VirtualError::Contention {
        location: at.state.to_string(),
        attempts: ATTEMPTS,
    })
}

/// A state the caller holds and the ETag of `state.json` when it held exactly that state:
/// [`publish`] renders from it instead of reading and parsing `state.json` again while the
/// object still has that ETag.
struct KnownState {
    etag: String,
    state: VirtualState,
}

/// Renders the reference files from the current `state.json` and writes those that differ
/// (or, with `only_missing`, those that do not exist). Repeats while the state changed
/// during the write, so that the last reference files written match the last state.
async fn publish(
    store: &Store,
    dest: &Root,
    at: &VirtualLocations,
    options: &UpdateOptions,
    only_missing: bool,
    mut known: Option<KnownState>,
) -> Result<bool> {
    let s3 = icechunk_repo::S3Settings::of_store(store);
    // Per URL flavour: refs.json, refs.parq/, their URL base, and the Icechunk repository.
    let mut targets: Vec<(Location, Location, String, icechunk_repo::RepoTarget)> = vec![(
        at.refs.clone(),
        at.parquet_refs.clone(),
        storage_base(dest.location()),
        icechunk_repo::RepoTarget {
            location: at.icechunk.clone(),
            url_base: icechunk_repo::storage_url_base(dest.location()),
        },
    )];
    if let Some(base) = &options.https_base {
        let base = base.trim_end_matches('/').to_string();
        targets.push((
            at.https_refs.clone(),
            at.https_parquet_refs.clone(),
            base.clone(),
            icechunk_repo::RepoTarget {
                location: at.https_icechunk.clone(),
                url_base: base,
            },
        ));
    }
    // With `only_missing` (the state is unchanged) only what is missing is made: reference
    // files, or a repository. A repository that lags behind its state (a writer stopped
    // between the two) catches up at the dataset's next change or with `edp virtual`.
    let mut render_refs = !only_missing;
    let mut sync_repos = !only_missing;
    if only_missing {
        for (json, parquet, _, repo) in &targets {
            render_refs |= store.head(json).await?.is_none();
            render_refs |= store
                .head(&parquet.join(parquet_refs::ZMETADATA))
                .await?
                .is_none();
            sync_repos |= store
                .head(&repo.location.join(icechunk_repo::CONFIG_FILE))
                .await?
                .is_none();
        }
    }
    let mut wrote = false;
    for _ in 0..ATTEMPTS {
        let Some(before) = store.head(&at.state).await? else {
            return Ok(wrote);
        };
        let state = match known.take() {
            Some(known) if before.etag.as_deref() == Some(known.etag.as_str()) => known.state,
            _ => match read_state(store, &at.state).await? {
                Some(state) => state,
                None => return Ok(wrote),
            },
        };
        // The references and the repository are independent renderings of one state: the
        // references are rendered on blocking threads while the repository commits.
        let state = Arc::new(state);
        for (json, parquet, base, repo) in &targets {
            let references = async {
                if !render_refs {
                    return Ok(false);
                }
                write_references(store, &state, json, parquet, base).await
            };
            let repository = async {
                if !sync_repos {
                    return Ok(false);
                }
                // A no-op (one read of the branch tip) when the repository holds the state.
                let synced = icechunk_repo::sync(repo, &state, &s3).await?;
                Ok(synced != icechunk_repo::SyncOutcome::Unchanged)
            };
            let (references, repository) = tokio::try_join!(references, repository)?;
            wrote |= references | repository;
        }
        let after = store.head(&at.state).await?;
        if after.map(|m| m.etag) == Some(before.etag) {
            return Ok(wrote);
        }
        // The state changed under us: its references are stale whatever existed before.
        render_refs = true;
        sync_repos = true;
    }
    Err(VirtualError::Contention {
        location: at.refs.to_string(),
        attempts: ATTEMPTS,
    })
}

/// Renders `refs.json` and the Parquet references of `state` with granule URLs below `base`
/// (each on a blocking thread, so both renderings and the caller's other work overlap) and
/// writes the files that differ; true when any was written.
async fn write_references(
    store: &Store,
    state: &Arc<VirtualState>,
    json: &Location,
    parquet: &Location,
    base: &str,
) -> Result<bool> {
    let render_json = {
        let (state, base) = (Arc::clone(state), base.to_string());
        tokio::task::spawn_blocking(move || {
            kerchunk::render(&state, &|relative| format!("{base}/{relative}"))
        })
    };
    let render_parquet = {
        let (state, base) = (Arc::clone(state), base.to_string());
        tokio::task::spawn_blocking(move || {
            parquet_refs::render(&state, &|relative| format!("{base}/{relative}"))
        })
    };
    let mut wrote = put_if_changed(store, json, joined(render_json.await)).await?;
    let files = joined(render_parquet.await).map_err(|e| VirtualError::Parquet {
        location: parquet.to_string(),
        reason: e.to_string(),
    })?;
    // Record files first, `.zmetadata` last (the order `render` gives).
    for (relative, body) in files {
        wrote |= put_if_changed(store, &parquet.join(&relative), body).await?;
    }
    Ok(wrote)
}

/// The value of a finished blocking task; a panic in it continues in the caller, as if the
/// work had run inline.
fn joined<T>(result: std::result::Result<T, tokio::task::JoinError>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => match err.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            // Only a runtime shutting down cancels a blocking task, and then no caller is
            // left to see this.
            Err(err) => panic!("rendering task cancelled: {err}"),
        },
    }
}

/// Writes `body` to `location` unless it holds exactly that already; true when written.
/// An object of another size is replaced without reading it (on S3, a HEAD instead of a
/// GET of megabytes of references after every append).
async fn put_if_changed(store: &Store, location: &Location, body: Vec<u8>) -> Result<bool> {
    match store.head(location).await? {
        Some(meta) if meta.size == body.len() as u64 => {}
        _ => {
            store.put(location, body).await?;
            return Ok(true);
        }
    }
    let current = match store.get(location).await {
        Ok(bytes) => Some(bytes),
        Err(err) if err.is_not_found() => None,
        Err(err) => return Err(err.into()),
    };
    if current.as_deref() == Some(body.as_slice()) {
        return Ok(false);
    }
    store.put(location, body).await?;
    Ok(true)
}

/// The URL prefix of granules in the reference files: `s3://bucket/prefix` or the absolute
/// local path of the root.
fn storage_base(dest: &Location) -> String {
    dest.to_string().trim_end_matches('/').to_string()
}

async fn read_state(store: &Store, location: &Location) -> Result<Option<VirtualState>> {
    let bytes = match store.get(location).await {
        Ok(bytes) => bytes,
        Err(err) if err.is_not_found() => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    let decode_error = |source| VirtualError::Decode {
        location: location.to_string(),
        expected: "virtual store state",
        source,
    };
    // The format first (a state of another format may not parse as this one), then the state
    // straight from the bytes: no intermediate `Value` of a document of a million chunks.
    #[derive(serde::Deserialize)]
    struct Format {
        #[serde(default)]
        format: Option<serde_json::Value>,
    }
    let found = serde_json::from_slice::<Format>(&bytes)
        .map_err(decode_error)?
        .format
        .and_then(|format| format.as_u64())
        .unwrap_or(0);
    if found != u64::from(STATE_FORMAT) {
        return Err(VirtualError::StateFormat {
            location: location.to_string(),
            expected: STATE_FORMAT,
            found: u32::try_from(found).unwrap_or(u32::MAX),
        });
    }
    let state: VirtualState = serde_json::from_slice(&bytes).map_err(decode_error)?;
    state
        .check_extents()
        .map_err(|problem| VirtualError::BadState {
            location: location.to_string(),
            problem,
        })?;
    Ok(Some(state))
}

async fn get_json<T: DeserializeOwned>(
    store: &Store,
    location: &Location,
    expected: &'static str,
) -> Result<Option<T>> {
    let bytes = match store.get(location).await {
        Ok(bytes) => bytes,
        Err(err) if err.is_not_found() => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| VirtualError::Decode {
            location: location.to_string(),
            expected,
            source,
        })
}

fn encode<T: serde::Serialize>(
    value: &T,
    location: &Location,
    what: &'static str,
) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|source| VirtualError::Encode {
        what,
        location: location.to_string(),
        source,
    })
}

/// The virtual stores below `dest`: `(dataset, refs.json location)`, sorted.
pub async fn list_virtual_stores(
    store: &Store,
    dest: &Location,
) -> Result<Vec<(String, Location)>> {
    let root = layout::root(dest);
    let mut out = Vec::new();
    for object in store.list(&root).await? {
        if !layout::is_state_file(&object.location) {
            continue;
        }
        let Some(dir) = object.location.parent() else {
            continue;
        };
        if let Some(dataset) = dir.relative_to(&root) {
            let refs = VirtualLocations::new(dest, &dataset).refs;
            out.push((dataset, refs));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    const DATASET: &str = "V4r4/native/mon_mean/SSH";

    /// Writes a fake granule of `size` bytes for `month` and its done record (in `_edp/done`
    /// and in the ledger of `run`), with a chunk index unless `indexed` is false.
    fn produce(dest: &Path, run: &str, month: u32, size: u64, indexed: bool) -> String {
        let relative =
            format!("{DATASET}/SSH_mon_mean_1992-{month:02}_ECCO_V4r4_native_llc0090.nc");
        let granule = dest.join(&relative);
        std::fs::create_dir_all(granule.parent().unwrap_or(dest)).unwrap();
        std::fs::write(&granule, vec![month as u8; size as usize]).unwrap();
        let index = json!({
            "attributes": {"time_coverage_start": format!("1992-{month:02}-01T00:00:00")},
            "variables": [
                {"name": "time", "dimensions": ["time"], "shape": [1], "dtype": "<f8",
                 "chunks": [{"index": [0], "offset": 0, "length": 8}]},
                {"name": "SSH", "dimensions": ["time", "i"], "shape": [1, 4], "dtype": "<f4",
                 "chunk_shape": [1, 4], "chunks": [{"index": [0, 0], "offset": 8, "length": 16}]}
            ]
        });
        let task_id = format!("task{month:02}");
        let mut record = json!({
            "task_id": task_id, "granule": granule.display().to_string(), "run_id": run,
            "status": "done", "attempts": 1, "software_version": "test",
            "output_bytes": size, "sha256": format!("{size:064x}"),
            "finished_at": "2026-12-06T03:00:00Z",
        });
        if indexed {
            record["chunk_index"] = index;
        }
        let body = serde_json::to_vec(&record).unwrap();
        for dir in ["_edp/done".to_string(), format!("_edp/runs/{run}/ledger")] {
            std::fs::create_dir_all(dest.join(&dir)).unwrap();
            std::fs::write(dest.join(&dir).join(format!("{task_id}.json")), &body).unwrap();
        }
        relative
    }

    fn root(dest: &Path) -> Root {
        Root::parse(&dest.display().to_string()).unwrap()
    }

    /// `edp virtual --repair` over every done record of `dest`.
    async fn repair_all(store: &Store, dest: &Path) -> VirtualReport {
        let options = UpdateOptions {
            repair: true,
            ..UpdateOptions::default()
        };
        update(store, &root(dest), Scope::AllDone, &options)
            .await
            .unwrap()
    }

    fn state(dest: &Path) -> VirtualState {
        let at = dest.join("_edp/virtual").join(DATASET).join("state.json");
        serde_json::from_slice(&std::fs::read(at).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn appends_backfills_and_a_second_update_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        let store = Store::local_only();
        let options = UpdateOptions::default();
        produce(dest, "r1", 1, 100, true);
        produce(dest, "r1", 3, 300, true);
        let report = update(&store, &root(dest), Scope::Run("r1"), &options)
            .await
            .unwrap();
        assert_eq!(report.datasets.len(), 1);
        assert_eq!(
            (report.datasets[0].added, report.datasets[0].granules),
            (2, 2)
        );

        let february = produce(dest, "r2", 2, 200, true);
        let report = update(&store, &root(dest), Scope::Run("r2"), &options)
            .await
            .unwrap();
        assert_eq!(report.datasets[0].added, 1);
        let paths: Vec<u64> = state(dest).granules.iter().map(|g| g.size).collect();
        assert_eq!(paths, [100, 200, 300], "backfill inserted in time order");
        let refs_path = dest.join("_edp/virtual").join(DATASET).join("refs.json");
        let refs: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&refs_path).unwrap()).unwrap();
        let url = dest.join(&february).display().to_string();
        assert_eq!(refs["refs"]["SSH/1.0"], json!([url, 8, 16]));

        // The Parquet references sit beside: SSH's one record file, `.zmetadata` last.
        let parquet = dest.join("_edp/virtual").join(DATASET).join("refs.parq");
        let ssh_record = parquet.join("SSH/refs.0.parq");
        assert!(ssh_record.is_file(), "{} missing", ssh_record.display());
        let zmetadata: serde_json::Value =
            serde_json::from_slice(&std::fs::read(parquet.join(".zmetadata")).unwrap()).unwrap();
        assert_eq!(zmetadata["record_size"], 10_000);
        assert!(zmetadata["metadata"]["SSH/.zarray"].is_object());

        let state_path = dest.join("_edp/virtual").join(DATASET).join("state.json");
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).unwrap();
        let (state_time, refs_time) = (modified(&state_path), modified(&refs_path));
        let record_time = modified(&ssh_record);
        let report = repair_all(&store, dest).await;
        assert_eq!((report.datasets[0].unchanged, report.changed()), (3, 0));
        assert!(!report.datasets[0].refs_written);
        assert_eq!(
            (modified(&state_path), modified(&refs_path)),
            (state_time, refs_time)
        );
        assert_eq!(modified(&ssh_record), record_time);

        // A repair restores lost Parquet metadata, and only that.
        std::fs::remove_file(parquet.join(".zmetadata")).unwrap();
        let report = repair_all(&store, dest).await;
        assert!(report.datasets[0].refs_written);
        assert!(parquet.join(".zmetadata").is_file());
        assert_eq!(modified(&ssh_record), record_time);

        // A lost Icechunk repository is made again by the next update, even one that brings
        // nothing new, and holds every granule of the state.
        let repo = dest.join("_edp/virtual").join(DATASET).join("icechunk");
        assert!(repo.join(icechunk_repo::CONFIG_FILE).is_file());
        std::fs::remove_dir_all(&repo).unwrap();
        let report = update(&store, &root(dest), Scope::Run("r2"), &options)
            .await
            .unwrap();
        assert_eq!(report.changed(), 0);
        assert!(
            report.datasets[0].refs_written,
            "the repository was written"
        );
        let target = icechunk_repo::RepoTarget {
            location: Location::parse(&repo.display().to_string()).unwrap(),
            url_base: icechunk_repo::storage_url_base(root(dest).location()),
        };
        let held = icechunk_repo::granules_held(&target, &icechunk_repo::S3Settings::default())
            .await
            .unwrap();
        assert_eq!(held, Some(3));
    }

    #[tokio::test]
    async fn a_reprocessed_granule_is_replaced_and_a_changed_object_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        let store = Store::local_only();
        let options = UpdateOptions::default();
        produce(dest, "r1", 1, 100, true);
        produce(dest, "r1", 2, 200, true);
        update(&store, &root(dest), Scope::Run("r1"), &options)
            .await
            .unwrap();
        produce(dest, "r2", 2, 250, true);
        let report = update(&store, &root(dest), Scope::Run("r2"), &options)
            .await
            .unwrap();
        assert_eq!(report.datasets[0].replaced, 1);
        assert_eq!(state(dest).granules[1].size, 250);

        // The object no longer matches its done record.
        let relative = produce(dest, "r3", 2, 260, true);
        std::fs::write(dest.join(&relative), [0u8; 7]).unwrap();
        let err = update(&store, &root(dest), Scope::Run("r3"), &options)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("the done record says 260 bytes, the stored object has 7"),
            "{err}"
        );
        assert_eq!(state(dest).granules[1].size, 250, "state kept");
    }

    #[tokio::test]
    async fn records_without_chunk_index_are_skipped_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        let store = Store::local_only();
        produce(dest, "r1", 1, 100, true);
        let unindexed = produce(dest, "r1", 2, 200, false);
        let report = update(
            &store,
            &root(dest),
            Scope::Run("r1"),
            &UpdateOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(report.datasets[0].granules, 1);
        assert_eq!(report.datasets[0].skipped, [unindexed]);
    }

    #[tokio::test]
    async fn a_state_of_another_format_or_broken_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        let store = Store::local_only();
        produce(dest, "r1", 1, 100, true);
        let (root, options) = (root(dest), UpdateOptions::default());
        let run = || update(&store, &root, Scope::Run("r1"), &options);
        run().await.unwrap();
        let at = dest.join("_edp/virtual").join(DATASET).join("state.json");
        let mut state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&at).unwrap()).unwrap();
        state["format"] = json!(99);
        std::fs::write(&at, state.to_string()).unwrap();
        let err = run().await.unwrap_err().to_string();
        assert!(
            err.contains("state.json") && err.contains("state format 99"),
            "{err}"
        );
        std::fs::write(&at, b"{\"format\": 1, \"granules\": [").unwrap();
        let err = run().await.unwrap_err().to_string();
        assert!(err.contains("state.json"), "{err}");
    }

    #[tokio::test]
    async fn a_state_the_renderers_cannot_index_is_refused_naming_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        let store = Store::local_only();
        produce(dest, "r1", 1, 100, true);
        produce(dest, "r1", 2, 101, true);
        let (root, options) = (root(dest), UpdateOptions::default());
        update(&store, &root, Scope::Run("r1"), &options)
            .await
            .unwrap();
        let at = dest.join("_edp/virtual").join(DATASET).join("state.json");
        let good: serde_json::Value = serde_json::from_slice(&std::fs::read(&at).unwrap()).unwrap();
        let ssh = good["variables"]
            .as_array()
            .unwrap()
            .iter()
            .position(|v| v["name"] == "SSH")
            .unwrap();
        let refused = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut state = good.clone();
            edit(&mut state);
            std::fs::write(&at, state.to_string()).unwrap();
            let store = &store;
            let (root, options) = (&root, &options);
            async move {
                update(store, root, Scope::Run("r1"), options)
                    .await
                    .unwrap_err()
                    .to_string()
            }
        };
        // A chunk index of the wrong rank (a renderer indexed past its end).
        let err = refused(&|s| s["granules"][0]["chunks"]["SSH"][0] = json!([8, 16, 0])).await;
        assert!(
            err.contains("state.json") && err.contains("SSH") && err.contains("chunk grid"),
            "{err}"
        );
        // A time extent that overflows once multiplied by the granules (it wrapped).
        let huge = json!(1u64 << 63);
        let err = refused(&|s| {
            s["variables"][ssh]["shape"][0] = huge.clone();
            s["variables"][ssh]["chunk_shape"][0] = huge.clone();
        })
        .await;
        assert!(err.contains("SSH") && err.contains("overflows"), "{err}");
        // Mismatched ranks.
        let err = refused(&|s| s["variables"][ssh]["chunk_shape"] = json!([1])).await;
        assert!(err.contains("differ in rank"), "{err}");
        // The untouched state still renders.
        std::fs::write(&at, good.to_string()).unwrap();
        update(&store, &root, Scope::Run("r1"), &options)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn concurrent_updates_of_one_dataset_keep_every_append() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        let store = Store::local_only();
        for month in 1..=6 {
            produce(
                dest,
                &format!("r{month}"),
                month,
                100 * u64::from(month),
                true,
            );
        }
        let options = UpdateOptions::default();
        let dest_root = root(dest);
        let runs: Vec<String> = (1..=6).map(|m| format!("r{m}")).collect();
        let updates = runs
            .iter()
            .map(|run| update(&store, &dest_root, Scope::Run(run), &options));
        for result in futures::future::join_all(updates).await {
            result.unwrap();
        }
        let sizes: Vec<u64> = state(dest).granules.iter().map(|g| g.size).collect();
        assert_eq!(sizes, [100, 200, 300, 400, 500, 600]);
        let refs: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dest.join("_edp/virtual").join(DATASET).join("refs.json")).unwrap(),
        )
        .unwrap();
        assert!(
            refs["refs"].get("SSH/5.0").is_some(),
            "references match the final state"
        );
        // So does the Icechunk repository (commits serialised by its lock file).
        let at = VirtualLocations::new(dest_root.location(), DATASET);
        let target = icechunk_repo::RepoTarget {
            location: at.icechunk,
            url_base: icechunk_repo::storage_url_base(dest_root.location()),
        };
        let held = icechunk_repo::granules_held(&target, &icechunk_repo::S3Settings::default())
            .await
            .unwrap();
        assert_eq!(held, Some(6));
    }

    #[tokio::test]
    async fn https_references_use_the_base_url_and_datasets_can_be_selected() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        let store = Store::local_only();
        let relative = produce(dest, "r1", 1, 100, true);
        let options = UpdateOptions {
            https_base: Some("https://data.example/ecco/".into()),
            datasets: vec!["OTHER".into()],
            ..UpdateOptions::default()
        };
        let report = update(&store, &root(dest), Scope::AllDone, &options)
            .await
            .unwrap();
        assert!(report.datasets.is_empty());
        let options = UpdateOptions {
            datasets: vec!["SSH".into()],
            ..options
        };
        update(&store, &root(dest), Scope::AllDone, &options)
            .await
            .unwrap();
        let refs: serde_json::Value = serde_json::from_slice(
            &std::fs::read(
                dest.join("_edp/virtual")
                    .join(DATASET)
                    .join("refs.https.json"),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            refs["refs"]["SSH/0.0"][0],
            format!("https://data.example/ecco/{relative}")
        );
        let listed = list_virtual_stores(&store, &Location::local(dest).unwrap())
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].0, DATASET);
    }

    #[tokio::test]
    async fn references_are_rewritten_only_when_their_bytes_differ() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::local_only();
        let at = Location::local(dir.path().join("refs.json")).unwrap();
        let read = || std::fs::read(dir.path().join("refs.json")).unwrap();
        let put = |body: &[u8]| put_if_changed(&store, &at, body.to_vec());
        assert!(put(b"{\"a\":1}").await.unwrap());
        // Same bytes: nothing written (the object keeps its ETag).
        let before = store.head(&at).await.unwrap().and_then(|m| m.etag);
        assert!(!put(b"{\"a\":1}").await.unwrap());
        assert_eq!(store.head(&at).await.unwrap().and_then(|m| m.etag), before);
        // Same size, other bytes: compared, and written.
        assert!(put(b"{\"a\":2}").await.unwrap());
        assert_eq!(read(), b"{\"a\":2}");
        // Another size: written without comparing.
        assert!(put(b"{\"a\":22}").await.unwrap());
        assert_eq!(read(), b"{\"a\":22}");
    }
}
