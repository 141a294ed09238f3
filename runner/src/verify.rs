//! Checking a destination against its dataset manifests (`edp verify`):
//!
//! * every granule listed in `_edp/manifests/**.json` exists with the listed size and SHA-256;
//! * it opens as NetCDF and holds the data variables of its task (from the runs' task lists
//!   in `_edp/scratch/<run>/tasks.json`; when no task list knows the granule, it must at least
//!   hold one variable and that is noted);
//! * with a run id: every granule the run's ledger records as done is in a manifest, and only
//!   those granules are checked.
//!
//! Remote (`s3://`) granules are downloaded one by one into the cache folder to be hashed and
//! opened, then deleted.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use edp_plan::roots::Root;
use edp_plan::state::{
    Layout, StateError, list_runs, read_ledger, read_manifest, read_scratch_tasks,
};
use edp_store::{Location, Store};
use edp_task_schemas::{ManifestGranule, TaskStatus};
use futures::stream::{self, StreamExt};
use thiserror::Error;

use crate::digest::sha256_file;

/// One thing wrong with one granule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Granule path relative to the destination root (or the state file concerned).
    pub granule: String,
    /// What is wrong, with expected and found values.
    pub what: String,
}

/// What [`verify_destination`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Manifests read.
    pub manifests: usize,
    /// Granules checked.
    pub checked: usize,
    /// Granules whose variables were checked against their task.
    pub variables_checked: usize,
    /// Everything wrong, sorted by granule.
    pub problems: Vec<Problem>,
    /// Remarks that are not problems (e.g. no task list for a granule).
    pub notes: Vec<String>,
}

impl VerifyReport {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Why verification could not be done at all.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// Reading run state failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// Listing the manifests failed.
    #[error(transparent)]
    Store(#[from] edp_store::StoreError),
}

/// Checks the granules of `dest` (see the module documentation). `run_id` restricts the
/// check to the granules done by that run; `cache_dir` holds downloads of remote granules.
pub async fn verify_destination(
    store: &Store,
    dest: &Root,
    run_id: Option<&str>,
    cache_dir: &Path,
    concurrency: usize,
) -> Result<VerifyReport, VerifyError> {
    edp_granule::nc_thread::start();
    let layout = Layout::new(dest.location());
    let mut report = VerifyReport::default();

    // Every manifest entry, by relative path.
    let manifests_dir = layout.manifests_dir();
    let mut entries: BTreeMap<String, ManifestGranule> = BTreeMap::new();
    for object in store.list(&manifests_dir).await? {
        let Some(relative) = object.location.relative_to(&manifests_dir) else {
            continue;
        };
        let Some(dataset) = relative.strip_suffix(".json") else {
            continue;
        };
        match read_manifest(store, &layout, dataset).await {
            Ok(Some(manifest)) => {
                report.manifests += 1;
                for granule in manifest.granules {
                    entries.insert(granule.path.clone(), granule);
                }
            }
            Ok(None) => {}
            Err(err) => report.problems.push(Problem {
                granule: object.location.to_string(),
                what: format!("unreadable manifest: {err}"),
            }),
        }
    }

    // Restrict to one run: its done records must all be in a manifest.
    if let Some(run_id) = run_id {
        let records = read_ledger(store, &layout, run_id).await?;
        let mut in_run = BTreeMap::new();
        for record in records.iter().filter(|r| r.status == TaskStatus::Done) {
            let relative = dest
                .relative(&record.granule)
                .unwrap_or(record.granule.clone());
            match entries.remove(&relative) {
                Some(entry) => {
                    in_run.insert(relative, entry);
                }
                None => report.problems.push(Problem {
                    granule: relative,
                    what: format!("done in run {run_id} but listed in no manifest"),
                }),
            }
        }
        if records.is_empty() {
            report.problems.push(Problem {
                granule: layout.ledger_dir(run_id).to_string(),
                what: format!("run {run_id} has no ledger records"),
            });
        }
        entries = in_run;
    }
    if entries.is_empty() && report.problems.is_empty() {
        report.problems.push(Problem {
            granule: manifests_dir.to_string(),
            what: "no granule to verify: no manifest lists any (has a run finished here?)"
                .to_string(),
        });
    }

    let expected = expected_variables(store, dest, &layout).await?;
    let checks: Vec<(Vec<Problem>, Option<String>, bool)> = stream::iter(entries.into_values())
        .map(|entry| {
            let variables = expected.get(&entry.path).cloned();
            check_granule(store, dest, entry, variables, cache_dir)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for (problems, note, variables_checked) in checks {
        report.checked += 1;
        report.variables_checked += usize::from(variables_checked);
        report.problems.extend(problems);
        report.notes.extend(note);
    }
    report.problems.sort_by(|a, b| a.granule.cmp(&b.granule));
    report.notes.sort();
    Ok(report)
}

/// Relative granule path -> data variables, from every run's task list still present.
async fn expected_variables(
    store: &Store,
    dest: &Root,
    layout: &Layout,
) -> Result<HashMap<String, Vec<String>>, VerifyError> {
    let mut map = HashMap::new();
    for run in list_runs(store, layout).await? {
        let Some(tasks) = read_scratch_tasks(store, layout, &run).await? else {
            continue;
        };
        for task in tasks {
            if let Some(relative) = dest.relative(&task.granule) {
                map.insert(relative, task.variables.keys().cloned().collect());
            }
        }
    }
    Ok(map)
}

/// Checks one granule: (problems, note, whether its variables were checked).
async fn check_granule(
    store: &Store,
    dest: &Root,
    entry: ManifestGranule,
    variables: Option<Vec<String>>,
    cache_dir: &Path,
) -> (Vec<Problem>, Option<String>, bool) {
    let problem = |what: String| Problem {
        granule: entry.path.clone(),
        what,
    };
    let location = dest.location().join(&entry.path);
    let meta = match store.head(&location).await {
        Ok(Some(meta)) => meta,
        Ok(None) => {
            return (
                vec![problem(format!("missing: {location} does not exist"))],
                None,
                false,
            );
        }
        Err(err) => return (vec![problem(format!("cannot check: {err}"))], None, false),
    };
    if meta.size != entry.size {
        return (
            vec![problem(format!(
                "size differs from the manifest: expected {} bytes, found {}",
                entry.size, meta.size
            ))],
            None,
            false,
        );
    }
    let (path, downloaded) = match local_copy(store, &location, cache_dir).await {
        Ok(found) => found,
        Err(err) => return (vec![problem(format!("cannot read: {err}"))], None, false),
    };
    let expected_sha = entry.sha256.clone();
    let wanted = variables.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let mut problems = Vec::new();
        match sha256_file(&path) {
            Ok((_, sha)) if sha != expected_sha => problems.push(format!(
                "sha256 differs from the manifest: expected {expected_sha}, found {sha}"
            )),
            Ok(_) => {}
            Err(err) => problems.push(format!("cannot read {}: {err}", path.display())),
        }
        // On the NetCDF thread: no HDF5 diagnostics on stderr (see `nc_thread`).
        let found = {
            let path = path.clone();
            edp_granule::nc_thread::run_blocking(move || {
                netcdf_variables(&path).map_err(|e| e.to_string())
            })
            .unwrap_or_else(|e| Err(e.to_string()))
        };
        if downloaded {
            let _ = std::fs::remove_file(&path);
        }
        match (found, wanted) {
            (Err(err), _) => problems.push(format!("does not open as NetCDF: {err}")),
            (Ok(names), Some(wanted)) => {
                let missing: Vec<&String> = wanted.iter().filter(|w| !names.contains(w)).collect();
                if !missing.is_empty() {
                    problems.push(format!(
                        "missing data variables {missing:?} of its task (found {names:?})"
                    ));
                }
            }
            (Ok(names), None) if names.is_empty() => {
                problems.push("holds no variables".to_string());
            }
            (Ok(_), None) => {}
        }
        problems
    })
    .await;
    let problems: Vec<Problem> = match checked {
        Ok(list) => list.into_iter().map(problem).collect(),
        Err(err) => vec![problem(format!("check failed: {err}"))],
    };
    let note = variables.is_none().then(|| {
        format!(
            "{}: no task list knows it; variables not compared",
            entry.path
        )
    });
    (problems, note, variables.is_some())
}

/// The local path of a granule: itself, or a download into the cache folder (`true`).
async fn local_copy(
    store: &Store,
    location: &Location,
    cache_dir: &Path,
) -> Result<(PathBuf, bool), edp_store::StoreError> {
    if let Some(path) = location.as_local_path() {
        return Ok((path.to_path_buf(), false));
    }
    let name = location.file_name().unwrap_or("granule.nc");
    let target = cache_dir
        .join("verify")
        .join(format!("{}-{name}", std::process::id()));
    store.download_to(location, &target).await?;
    Ok((target, true))
}

/// The variable names of a NetCDF file.
fn netcdf_variables(path: &Path) -> Result<Vec<String>, netcdf::Error> {
    let file = netcdf::open(path)?;
    Ok(file.variables().map(|v| v.name()).collect())
}
