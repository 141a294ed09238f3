//! Reading and writing dataset status files (`_edp/datasets/<dataset>.json`), and the update
//! after a run: coverage from the manifest and the run's ledger, then the state.
//!
//! Status files are updated optimistically (read with the ETag, change, conditional write,
//! again on conflict), like manifests: the reporter, `edp run` and the commands may update the
//! same dataset at once without losing each other's changes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDateTime, SecondsFormat, TimeDelta, Utc};
use edp_conventions::naming::{GranuleName, OutputPeriod};
use edp_plan::roots::Root;
use edp_plan::state::{Layout, read_ledger, read_manifest, read_run_record};
use edp_store::{Location, Store};
use edp_task_schemas::{
    Coverage, DatasetState, DatasetStatus, ExpectedSteps, FailedStep, ManifestGranule,
    ModelTimeRange, TaskStatus,
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
    /// The model's time range of the run's configuration (its run record), which bounds the
    /// steps a complete dataset holds.
    pub model_time_range: Option<ModelTimeRange>,
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
    let time_invariant = period == OutputPeriod::TimeInvariant;
    // A time-invariant dataset has one step, its one granule; it stands at a fixed time.
    let step_of = |file: &str| -> Option<NaiveDateTime> {
        GranuleName::parse(file)
            .ok()
            .filter(|name| id.owns(name))
            .and_then(|name| {
                if time_invariant {
                    Some(NaiveDateTime::MIN)
                } else {
                    name.date_time()
                }
            })
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
    if time_invariant {
        known.push(NaiveDateTime::MIN);
    }
    known.sort_unstable();
    known.dedup();
    let spacing = Spacing::of(period, &known);
    let model = attempts
        .model_time_range
        .as_ref()
        .and_then(|range| model_steps(period, spacing, range, &known).map(|b| (range, b)));
    if let Some((_, (first, last))) = model {
        known.extend([first, last]);
        known.sort_unstable();
        known.dedup();
    }
    let source = match model {
        Some((range, _)) => format!(
            "every step of the model run {} .. {} (production configuration), and any step \
             planned, produced or failed outside it",
            range.start, range.end
        ),
        None => previous
            .map(|p| p.expected.source.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| EXPECTED_SOURCE.into()),
    };
    let (first, last) = match (known.first(), known.last()) {
        (Some(first), Some(last)) => (*first, *last),
        _ => {
            return (
                ExpectedSteps {
                    first: String::new(),
                    last: String::new(),
                    count: 0,
                    source,
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
            source,
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

/// How the expected range is known when no run told the model's time range.
const EXPECTED_SOURCE: &str =
    "every step from the first to the last granule planned, produced or failed so far";

/// The first and last step of `period` inside the model run `range`: monthly and daily means
/// from the month or day holding the model start to the last one that starts before the model
/// end; snapshots on the grid of the `known` snapshots (`spacing` apart), within the range.
/// `None` when the range does not parse, is empty, or (snapshots) no snapshot is known.
pub fn model_steps(
    period: OutputPeriod,
    spacing: Spacing,
    range: &ModelTimeRange,
    known: &[NaiveDateTime],
) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let parse = |text: &str| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok();
    let (start, end) = (parse(&range.start)?, parse(&range.end)?);
    if end <= start {
        return None;
    }
    // The last instant of the run that a period can start at.
    let before_end = end - TimeDelta::seconds(1);
    let midnight = |t: NaiveDateTime| t.date().and_hms_opt(0, 0, 0);
    let (first, last) = match period {
        // One granule whatever the model's time range.
        OutputPeriod::TimeInvariant => return None,
        OutputPeriod::MonMean => (
            midnight(start)?.with_day(1)?,
            midnight(before_end)?.with_day(1)?,
        ),
        OutputPeriod::DayMean => (midnight(start)?, midnight(before_end)?),
        OutputPeriod::Snap => {
            let Spacing::Fixed(delta) = spacing else {
                return None;
            };
            let step = delta.num_seconds();
            let anchor = *known.first()?;
            if step <= 0 {
                return None;
            }
            let after_start = (start - anchor).num_seconds();
            let to_end = (end - anchor).num_seconds();
            // Whole steps from the anchor: up to the first one at or after the start, down to
            // the last one at or before the end.
            let first_k =
                after_start.div_euclid(step) + i64::from(after_start.rem_euclid(step) != 0);
            let last_k = to_end.div_euclid(step);
            (
                anchor.checked_add_signed(TimeDelta::try_seconds(first_k.checked_mul(step)?)?)?,
                anchor.checked_add_signed(TimeDelta::try_seconds(last_k.checked_mul(step)?)?)?,
            )
        }
    };
    (first <= last).then_some((first, last))
}

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
    // An unreadable run record costs only the model's time range: coverage falls back to the
    // steps known so far.
    let model_time_range = match read_run_record(store, &layout, run_id).await {
        Ok(record) => record.and_then(|record| record.model_time_range),
        Err(error) => {
            tracing::warn!(run_id, %error, "run record unreadable: expected steps from the granules known so far");
            None
        }
    };
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
        let attempts = by_dataset.entry(id).or_insert_with(|| RunAttempts {
            model_time_range: model_time_range.clone(),
            ..RunAttempts::default()
        });
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

    #[test]
    fn a_time_invariant_dataset_expects_its_one_granule_whatever_the_model_range() {
        let id = DatasetId::parse("V4r4/native/time_invariant/MIX").unwrap();
        let actor = Actor::in_run("edp run", "r1");
        let name = "MIX_ECCO_V4r4_native_llc0090.nc";
        let path = format!("V4r4/native/time_invariant/MIX/{name}");
        let mut attempts = RunAttempts {
            model_time_range: Some(v4r4_range()),
            ..RunAttempts::default()
        };
        attempts
            .failed
            .insert(name.to_string(), (path.clone(), "bad input".into()));
        let failed = apply_run(&id, &[], "r1", &attempts, None, &actor).unwrap();
        assert_eq!(failed.state, DatasetState::Incomplete);
        assert_eq!(failed.expected.count, 1);
        assert_eq!(
            (failed.coverage.present, failed.coverage.failed.len()),
            (0, 1)
        );

        let manifest = [ManifestGranule {
            path,
            size: 1,
            sha256: "00".into(),
        }];
        let mut second = RunAttempts {
            model_time_range: Some(v4r4_range()),
            ..RunAttempts::default()
        };
        second.produced.insert(name.to_string());
        let done = apply_run(&id, &manifest, "r2", &second, Some(failed), &actor).unwrap();
        assert_eq!(done.state, DatasetState::Produced);
        assert_eq!((done.expected.count, done.coverage.present), (1, 1));
        assert!(done.coverage.failed.is_empty() && done.coverage.missing.is_empty());
        // A time-varying name in the folder is not part of it.
        let stray = [granule("1992-01")];
        let (expected, coverage) = coverage_of(&id, &stray, "r3", &RunAttempts::default(), None);
        assert_eq!((expected.count, coverage.present), (1, 0));
        assert_eq!(coverage.missing.len(), 1);
    }

    fn v4r4_range() -> ModelTimeRange {
        ModelTimeRange {
            start: "1992-01-01T12:00:00".into(),
            end: "2017-12-31T12:00:00".into(),
        }
    }

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    #[test]
    fn three_months_of_a_26_year_run_are_incomplete_with_the_rest_missing() {
        let id = DatasetId::parse("V4r4/native/mon_mean/SSH").unwrap();
        let actor = Actor::in_run("edp run", "r1");
        let manifest = ["1992-01", "1992-02", "1992-03"].map(granule);
        let mut attempts = RunAttempts {
            model_time_range: Some(v4r4_range()),
            ..RunAttempts::default()
        };
        attempts
            .produced
            .extend(["1992-01", "1992-02", "1992-03"].map(file));
        let status = apply_run(&id, &manifest, "r1", &attempts, None, &actor).unwrap();
        assert_eq!(status.state, DatasetState::Incomplete);
        // 1992-01 .. 2017-12: 26 years of months.
        assert_eq!(
            (
                status.expected.first.as_str(),
                status.expected.last.as_str()
            ),
            ("1992-01", "2017-12")
        );
        assert_eq!(status.expected.count, 26 * 12);
        assert!(status.expected.source.contains("1992-01-01T12:00:00"));
        assert_eq!(status.coverage.missing.len(), 1);
        assert_eq!(
            (
                status.coverage.missing[0].first.as_str(),
                status.coverage.missing[0].last.as_str(),
                status.coverage.missing[0].count
            ),
            ("1992-04", "2017-12", 26 * 12 - 3)
        );
        // A later run without the range (an older planner) keeps the expected range.
        let mut later = RunAttempts::default();
        later.skipped.insert(file("1992-01"));
        let kept = apply_run(&id, &manifest, "r2", &later, Some(status.clone()), &actor).unwrap();
        assert_eq!(kept.expected, status.expected);
    }

    #[test]
    fn model_steps_follow_the_period_and_the_model_clock() {
        let range = v4r4_range();
        let known = [at("1992-01-01T00:00:00")];
        // Means: the period holding the start to the last one starting before the end.
        assert_eq!(
            model_steps(
                OutputPeriod::DayMean,
                Spacing::Fixed(TimeDelta::days(1)),
                &range,
                &known
            ),
            Some((at("1992-01-01T00:00:00"), at("2017-12-31T00:00:00")))
        );
        let month_end = ModelTimeRange {
            start: "1992-01-01T12:00:00".into(),
            end: "1992-04-01T00:00:00".into(),
        };
        assert_eq!(
            model_steps(OutputPeriod::MonMean, Spacing::Month, &month_end, &known),
            Some((at("1992-01-01T00:00:00"), at("1992-03-01T00:00:00")))
        );
        // Snapshots: the grid of the known snapshots, clipped to the run.
        let snaps = [at("1992-01-05T00:00:00"), at("1992-01-06T00:00:00")];
        let daily = Spacing::Fixed(TimeDelta::days(1));
        assert_eq!(
            model_steps(OutputPeriod::Snap, daily, &range, &snaps),
            Some((at("1992-01-02T00:00:00"), at("2017-12-31T00:00:00")))
        );
        // Nothing known, an empty or unreadable range: no bounds.
        assert_eq!(model_steps(OutputPeriod::Snap, daily, &range, &[]), None);
        let backwards = ModelTimeRange {
            start: range.end.clone(),
            end: range.start.clone(),
        };
        assert_eq!(
            model_steps(OutputPeriod::DayMean, daily, &backwards, &known),
            None
        );
        let garbled = ModelTimeRange {
            start: "soon".into(),
            end: range.end.clone(),
        };
        assert_eq!(
            model_steps(OutputPeriod::DayMean, daily, &garbled, &known),
            None
        );
    }
}
