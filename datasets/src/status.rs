//! Reading and writing dataset status files (`_edp/datasets/<dataset>.json`), and the update
//! after a run: coverage from the manifest and the run's ledger, then the state.
//!
//! Status files are updated optimistically (read with the ETag, change, conditional write,
//! again on conflict), like manifests: the reporter, `edp run` and the commands may update the
//! same dataset at once without losing each other's changes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDateTime, SecondsFormat, Utc};
use edp_conventions::naming::GranuleName;
use edp_plan::roots::Root;
use edp_plan::state::{Layout, read_ledger, read_manifest};
use edp_store::{Location, Store};
use edp_task_schemas::{
    Coverage, DatasetState, DatasetStatus, ExpectedSteps, FailedStep, ManifestGranule, TaskStatus,
};

use crate::DatasetError;
use crate::id::DatasetId;
use crate::lifecycle::{Actor, creation, transition};
use crate::steps::{Spacing, enumerate, ranges, step_name};

/// Conditional update attempts before giving up.
const UPDATE_ATTEMPTS: u32 = 8;

/// The current UTC time as RFC 3339 (seconds).
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Reads the status of a dataset; `None` when it has none yet.
pub async fn read_status(
    store: &Store,
    layout: &Layout,
    id: &DatasetId,
) -> Result<Option<DatasetStatus>, DatasetError> {
    let location = id.status_location(layout);
    match store.get(&location).await {
        Ok(bytes) => decode(&bytes, &location).map(Some),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err.into()),
    }
}

fn decode(bytes: &[u8], location: &Location) -> Result<DatasetStatus, DatasetError> {
    serde_json::from_slice(bytes).map_err(|source| DatasetError::Decode {
        location: location.to_string(),
        expected: "dataset status",
        source,
    })
}

/// Every dataset status below `_edp/datasets/`, sorted by dataset.
pub async fn list_statuses(
    store: &Store,
    layout: &Layout,
) -> Result<Vec<DatasetStatus>, DatasetError> {
    let dir = layout.state_dir().join("datasets");
    let mut out = Vec::new();
    for object in store.list(&dir).await? {
        if !object.location.to_string().ends_with(".json") {
            continue;
        }
        let bytes = store.get(&object.location).await?;
        out.push(decode(&bytes, &object.location)?);
    }
    out.sort_by(|a, b| a.dataset.cmp(&b.dataset));
    Ok(out)
}

/// Read-change-write of one status with a conditional write, again on conflicts. `change`
/// gets the current status (`None` when there is none) and returns the new one.
pub async fn update_status<F>(
    store: &Store,
    layout: &Layout,
    id: &DatasetId,
    mut change: F,
) -> Result<DatasetStatus, DatasetError>
where
    F: FnMut(Option<DatasetStatus>) -> Result<DatasetStatus, DatasetError>,
{
    let location = id.status_location(layout);
    for _ in 0..UPDATE_ATTEMPTS {
        let head = store.head(&location).await?;
        let current = match &head {
            Some(_) => match store.get(&location).await {
                Ok(bytes) => Some(decode(&bytes, &location)?),
                // Deleted between HEAD and GET: start again.
                Err(err) if err.is_not_found() => continue,
                Err(err) => return Err(err.into()),
            },
            None => None,
        };
        let mut status = change(current)?;
        status.updated_at = now();
        let body = serde_json::to_vec_pretty(&status).map_err(|source| DatasetError::Encode {
            location: location.to_string(),
            source,
        })?;
        let written = store
            .put_if_unchanged(&location, body, head.as_ref())
            .await?;
        if written {
            return Ok(status);
        }
    }
    Err(DatasetError::Contention {
        location: location.to_string(),
        attempts: UPDATE_ATTEMPTS,
    })
}

/// What a run attempted for one dataset.
#[derive(Debug, Clone, Default)]
pub struct RunAttempts {
    /// File names produced (done) in the run.
    pub produced: BTreeSet<String>,
    /// File names skipped as already done.
    pub skipped: BTreeSet<String>,
    /// Failures of the run: file name -> (relative path, message).
    pub failed: BTreeMap<String, (String, String)>,
}

/// Expected steps and coverage of a dataset from its manifest granules, the attempts of a
/// run and the previous status (whose expected range and older failures are kept).
pub fn coverage_of(
    id: &DatasetId,
    manifest: &[ManifestGranule],
    run_id: &str,
    attempts: &RunAttempts,
    previous: Option<&DatasetStatus>,
) -> (ExpectedSteps, Coverage) {
    let period = id.period.period();
    let step_of = |file: &str| -> Option<NaiveDateTime> {
        GranuleName::parse(file)
            .ok()
            .filter(|name| id.owns(name))
            .and_then(|name| name.date_time())
    };
    let file_of = |path: &str| path.rsplit('/').next().unwrap_or(path).to_string();

    let mut present: BTreeMap<NaiveDateTime, String> = BTreeMap::new();
    for granule in manifest {
        if let Some(t) = step_of(&file_of(&granule.path)) {
            present.insert(t, granule.path.clone());
        }
    }
    let mut failed: BTreeMap<NaiveDateTime, FailedStep> = BTreeMap::new();
    if let Some(previous) = previous {
        for old in &previous.coverage.failed {
            let file = file_of(&old.granule);
            let retried = attempts.produced.contains(&file)
                || attempts.skipped.contains(&file)
                || attempts.failed.contains_key(&file);
            if let Some(t) = step_of(&file).filter(|_| !retried) {
                failed.insert(t, old.clone());
            }
        }
    }
    for (file, (path, message)) in &attempts.failed {
        if let Some(t) = step_of(file) {
            failed.insert(
                t,
                FailedStep {
                    step: step_name(period, t),
                    granule: path.clone(),
                    run_id: run_id.to_string(),
                    message: message.clone(),
                },
            );
        }
    }
    failed.retain(|t, _| !present.contains_key(t));

    let mut known: Vec<NaiveDateTime> = present.keys().chain(failed.keys()).copied().collect();
    let attempted = attempts.produced.iter().chain(&attempts.skipped);
    known.extend(attempted.filter_map(|f| step_of(f)));
    if let Some(previous) = previous {
        for text in [&previous.expected.first, &previous.expected.last] {
            if let Some(t) = parse_step(period, text) {
                known.push(t);
            }
        }
    }
    known.sort_unstable();
    known.dedup();
    let spacing = Spacing::of(period, &known);
    let (first, last) = match (known.first(), known.last()) {
        (Some(first), Some(last)) => (*first, *last),
        _ => {
            return (
                ExpectedSteps {
                    first: String::new(),
                    last: String::new(),
                    count: 0,
                    source: EXPECTED_SOURCE.into(),
                },
                Coverage::default(),
            );
        }
    };
    let expected = enumerate(spacing, first, last);
    let missing: Vec<NaiveDateTime> = expected
        .iter()
        .filter(|t| !present.contains_key(t) && !failed.contains_key(t))
        .copied()
        .collect();
    let latest = present.iter().next_back();
    (
        ExpectedSteps {
            first: step_name(period, first),
            last: step_name(period, last),
            count: expected.len() as u64,
            source: EXPECTED_SOURCE.into(),
        },
        Coverage {
            present: present.len() as u64,
            failed: failed.into_values().collect(),
            missing: ranges(period, spacing, &missing),
            first: present.keys().next().map(|t| step_name(period, *t)),
            last: latest.map(|(t, _)| step_name(period, *t)),
            latest_granule: latest.map(|(_, path)| path.clone()),
            present_steps: present.keys().map(|t| step_name(period, *t)).collect(),
        },
    )
}

/// How the expected range is known (recorded in the status).
const EXPECTED_SOURCE: &str =
    "every step from the first to the last granule planned, produced or failed so far";

/// Parses a step name of `period` (the date part of a granule name).
pub fn parse_step(
    period: edp_conventions::naming::OutputPeriod,
    text: &str,
) -> Option<NaiveDateTime> {
    let probe = format!("X_{period}_{text}_ECCO_V_native_g.nc");
    GranuleName::parse(&probe).ok()?.date_time()
}

/// What [`update_after_run`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunUpdate {
    /// Dataset -> state after the update.
    pub datasets: BTreeMap<String, DatasetState>,
    /// Granules of the ledger outside the dataset layout (not counted).
    pub ignored: Vec<String>,
}

/// Updates the status of every dataset the run `run_id` touched: coverage from the manifest
/// and the run's ledger, state `produced` (complete) or `incomplete`. A dataset that was
/// validated, publishable, published or failed goes back to `produced`/`incomplete` when the
/// run produced granules of it (it must be checked again); otherwise its state is kept.
pub async fn update_after_run(
    store: &Store,
    dest: &Root,
    run_id: &str,
    actor: &Actor,
) -> Result<RunUpdate, DatasetError> {
    let layout = Layout::new(dest.location());
    let records = read_ledger(store, &layout, run_id).await?;
    let mut by_dataset: BTreeMap<DatasetId, RunAttempts> = BTreeMap::new();
    let mut update = RunUpdate::default();
    for record in records {
        let parsed = dest.relative(&record.granule).and_then(|rel| {
            DatasetId::of_granule(&rel)
                .ok()
                .map(|(id, file)| (id, file, rel))
        });
        let Some((id, file, relative)) = parsed else {
            update.ignored.push(record.granule.clone());
            continue;
        };
        let attempts = by_dataset.entry(id).or_default();
        match record.status {
            TaskStatus::Done => {
                attempts.produced.insert(file);
            }
            TaskStatus::Skipped => {
                attempts.skipped.insert(file);
            }
            TaskStatus::Failed => {
                let message = record
                    .error
                    .as_ref()
                    .map(|e| e.message.clone())
                    .unwrap_or_else(|| "failed without a message".into());
                attempts.failed.insert(file, (relative, message));
            }
            TaskStatus::Planned | TaskStatus::Running => {}
        }
    }
    for (id, attempts) in by_dataset {
        let manifest = read_manifest(store, &layout, &id.path())
            .await?
            .map(|m| m.granules)
            .unwrap_or_default();
        let status = update_status(store, &layout, &id, |previous| {
            apply_run(&id, &manifest, run_id, &attempts, previous, actor)
        })
        .await?;
        update.datasets.insert(id.path(), status.state);
    }
    Ok(update)
}

/// The new status of one dataset after a run.
fn apply_run(
    id: &DatasetId,
    manifest: &[ManifestGranule],
    run_id: &str,
    attempts: &RunAttempts,
    previous: Option<DatasetStatus>,
    actor: &Actor,
) -> Result<DatasetStatus, DatasetError> {
    let (expected, coverage) = coverage_of(id, manifest, run_id, attempts, previous.as_ref());
    let complete = coverage.failed.is_empty() && coverage.missing.is_empty();
    let target = if complete {
        DatasetState::Produced
    } else {
        DatasetState::Incomplete
    };
    let reason = format!(
        "run {run_id}: {} produced, {} failed in this run; {} of {} expected step(s) present, \
         {} failed, {} missing",
        attempts.produced.len(),
        attempts.failed.len(),
        coverage.present,
        expected.count,
        coverage.failed.len(),
        coverage.missing.iter().map(|r| r.count).sum::<u64>()
    );
    let at = now();
    match previous {
        None => {
            let first = creation(&id.path(), target, actor, &reason, &at)?;
            Ok(DatasetStatus {
                dataset: id.path(),
                state: target,
                expected,
                coverage,
                last_check: None,
                publication: None,
                history: vec![first],
                updated_at: at,
            })
        }
        Some(mut status) => {
            let reopen = matches!(
                status.state,
                DatasetState::Incomplete | DatasetState::Produced
            ) || !attempts.produced.is_empty();
            status.expected = expected;
            status.coverage = coverage;
            if reopen && status.state != target {
                transition(&mut status, target, actor, &reason, &at)?;
            }
            Ok(status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granule(date: &str) -> ManifestGranule {
        ManifestGranule {
            path: format!(
                "V4r4/native/mon_mean/SSH/SSH_mon_mean_{date}_ECCO_V4r4_native_llc0090.nc"
            ),
            size: 1,
            sha256: "00".into(),
        }
    }

    fn file(date: &str) -> String {
        format!("SSH_mon_mean_{date}_ECCO_V4r4_native_llc0090.nc")
    }

    #[test]
    fn a_run_with_a_failure_and_a_hole_is_incomplete_then_repaired() {
        let id = DatasetId::parse("V4r4/native/mon_mean/SSH").unwrap();
        let actor = Actor::in_run("edp run", "r1");
        let manifest = [granule("1992-01"), granule("1992-02"), granule("1992-05")];
        let mut attempts = RunAttempts::default();
        attempts
            .produced
            .extend(["1992-01", "1992-02", "1992-05"].map(file));
        attempts.failed.insert(
            file("1992-03"),
            ("V4r4/native/mon_mean/SSH/x".into(), "bad input".into()),
        );
        let status = apply_run(&id, &manifest, "r1", &attempts, None, &actor).unwrap();
        assert_eq!(status.state, DatasetState::Incomplete);
        assert_eq!(status.expected.count, 5);
        assert_eq!(status.coverage.present, 3);
        assert_eq!(status.coverage.failed.len(), 1);
        assert_eq!(status.coverage.failed[0].step, "1992-03");
        assert_eq!(status.coverage.missing.len(), 1);
        assert_eq!(status.coverage.missing[0].first, "1992-04");
        assert_eq!(status.coverage.last.as_deref(), Some("1992-05"));

        // Run 2 produces the two holes: complete, produced, failure forgotten.
        let full: Vec<_> = ["1992-01", "1992-02", "1992-03", "1992-04", "1992-05"]
            .map(granule)
            .to_vec();
        let mut second = RunAttempts::default();
        second.produced.extend(["1992-03", "1992-04"].map(file));
        let repaired = apply_run(&id, &full, "r2", &second, Some(status), &actor).unwrap();
        assert_eq!(repaired.state, DatasetState::Produced);
        assert!(repaired.coverage.failed.is_empty() && repaired.coverage.missing.is_empty());
        assert_eq!(repaired.history.len(), 2);
    }

    #[test]
    fn a_run_that_skips_everything_keeps_a_validated_state() {
        let id = DatasetId::parse("V4r4/native/mon_mean/SSH").unwrap();
        let actor = Actor::in_run("edp run", "r1");
        let manifest = [granule("1992-01")];
        let mut attempts = RunAttempts::default();
        attempts.produced.insert(file("1992-01"));
        let mut status = apply_run(&id, &manifest, "r1", &attempts, None, &actor).unwrap();
        transition(&mut status, DatasetState::Validated, &actor, "check", "t").unwrap();
        let mut skip = RunAttempts::default();
        skip.skipped.insert(file("1992-01"));
        let kept = apply_run(&id, &manifest, "r2", &skip, Some(status.clone()), &actor).unwrap();
        assert_eq!(kept.state, DatasetState::Validated);
        let redo = apply_run(&id, &manifest, "r3", &attempts, Some(status), &actor).unwrap();
        assert_eq!(redo.state, DatasetState::Produced);
    }
}
