//! The ledger: per-run records of each granule (`runs/<run_id>/ledger/<task_id>.json`, latest
//! attempt), success markers (`done/<task_id>.json` = the ledger record of the success), the
//! skip rule and run reports reconciled from the ledger.
//!
//! Skip rule (`docs/architecture.md`): a task is done when `done/<task_id>.json` exists, says
//! `done` for that task, **and** the granule object exists with the recorded size.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{SecondsFormat, Utc};
use edp_store::{Location, Store};
use edp_task_schemas::{
    Failure, KindStats, LedgerRecord, ProductKind, RunRecord, RunReport, StatusCounts, Task,
    TaskStatus,
};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::runs::{check_run_id, read_run_record, read_scratch_tasks};
use super::{IO_CONCURRENCY, Layout, StateError, check_task_id, get_json, put_json};
use crate::cost::{FARGATE_SPOT_VCPU_HOUR_USD, estimate_cloud_cost_usd, task_kind};
use crate::roots::Root;
use crate::task_id::{legacy_task_id, task_id};

/// The id under which a task's state is stored: `edp.task_id` when the planner set it, else
/// the content hash with an empty configuration hash (tasks read from EDP task lists).
pub fn task_key(task: &Task) -> String {
    match &task.edp {
        Some(edp) if !edp.task_id.is_empty() => edp.task_id.clone(),
        _ => task_id(task, ""),
    }
}

/// Writes the ledger record of `record.task_id` in run `record.run_id` (latest attempt wins).
pub async fn write_ledger(
    store: &Store,
    layout: &Layout,
    record: &LedgerRecord,
) -> Result<Location, StateError> {
    check_run_id(&record.run_id)?;
    check_task_id(&record.task_id)?;
    let location = layout.ledger(&record.run_id, &record.task_id);
    put_json(store, &location, record, "ledger record").await?;
    Ok(location)
}

/// Writes the success marker `done/<task_id>.json`. The record must have status `done`.
pub async fn write_done_marker(
    store: &Store,
    layout: &Layout,
    record: &LedgerRecord,
) -> Result<Location, StateError> {
    check_task_id(&record.task_id)?;
    let location = layout.done(&record.task_id);
    if record.status != TaskStatus::Done {
        return Err(StateError::Mismatch {
            location: location.to_string(),
            field: "status",
            expected: "done".to_string(),
            found: record.status.as_str().to_string(),
        });
    }
    put_json(store, &location, record, "done marker").await?;
    Ok(location)
}

/// Records a success: the run's ledger record first, then the done marker (so a marker never
/// exists without its ledger record).
pub async fn record_success(
    store: &Store,
    layout: &Layout,
    record: &LedgerRecord,
) -> Result<(), StateError> {
    write_ledger(store, layout, record).await?;
    write_done_marker(store, layout, record).await?;
    Ok(())
}

/// Reads `done/<task_id>.json`, `None` when absent.
///
/// A marker that does not decode (truncated by a crash of another tool, edited by hand) is
/// reported as a warning and treated as absent: the granule is produced again, which is always
/// safe, instead of one bad file stopping a whole run.
pub async fn read_done_marker(
    store: &Store,
    layout: &Layout,
    task_id: &str,
) -> Result<Option<LedgerRecord>, StateError> {
    check_task_id(task_id)?;
    match get_json(store, &layout.done(task_id), "done marker").await {
        Err(err @ StateError::Decode { .. }) => {
            tracing::warn!(error = %err, "corrupt done marker ignored: the granule will be redone");
            Ok(None)
        }
        other => other,
    }
}

/// Every ledger record of a run, sorted by task id.
pub async fn read_ledger(
    store: &Store,
    layout: &Layout,
    run_id: &str,
) -> Result<Vec<LedgerRecord>, StateError> {
    check_run_id(run_id)?;
    let objects = store.list(&layout.ledger_dir(run_id)).await?;
    let mut records: Vec<LedgerRecord> = stream::iter(
        objects
            .into_iter()
            .filter(|o| o.location.file_name().is_some_and(|n| n.ends_with(".json")))
            .map(|object| async move {
                let location = object.location;
                let record: Option<LedgerRecord> =
                    get_json(store, &location, "ledger record").await?;
                Ok::<_, StateError>(record)
            }),
    )
    .buffer_unordered(IO_CONCURRENCY)
    .try_filter_map(|record| async move { Ok(record) })
    .try_collect()
    .await?;
    records.sort_by(|a, b| a.task_id.cmp(&b.task_id));
    Ok(records)
}

/// True when `task` is done: its marker says so and its granule exists with the recorded
/// size. `dest` maps the task's granule path to a location.
pub async fn is_done(store: &Store, dest: &Root, task: &Task) -> Result<bool, StateError> {
    Ok(find_done(store, dest, task).await?.is_some())
}

/// The done marker that makes `task` done (see [`is_done`]): the marker of its id, else the
/// marker an older release wrote under its legacy id ([`legacy_task_key`]), so that an
/// upgrade does not redo finished granules.
pub async fn find_done(
    store: &Store,
    dest: &Root,
    task: &Task,
) -> Result<Option<LedgerRecord>, StateError> {
    let layout = Layout::new(dest.location());
    for id in [task_key(task), legacy_task_key(task)] {
        if let Some(record) = read_done_marker(store, &layout, &id).await?
            && marker_check(store, dest, task, &id, &record)
                .await?
                .is_none()
        {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// The final location of `task`'s granule below `dest`.
pub fn granule_location(dest: &Root, task: &Task) -> Result<Location, StateError> {
    dest.resolve(&task.granule)
        .map_err(|source| StateError::Location {
            path: task.granule.clone(),
            source,
        })
}

/// The id an older release (`edp-task-id/v1`) stored the task's state under.
pub fn legacy_task_key(task: &Task) -> String {
    let config_hash = task.edp.as_ref().map_or("", |e| e.config_hash.as_str());
    legacy_task_id(task, config_hash)
}

/// True when a done record written by software `recorded` may stand for this release:
/// same major version (same minor too while the major is 0); an empty version (records of
/// early releases) is accepted.
pub fn is_compatible_version(recorded: &str, ours: &str) -> bool {
    fn parts(v: &str) -> (Option<&str>, Option<&str>) {
        let mut it = v.split('.');
        (it.next(), it.next())
    }
    if recorded.is_empty() {
        return true;
    }
    let (rm, rn) = parts(recorded);
    let (om, on) = parts(ours);
    rm == om && (om != Some("0") || rn == on)
}

/// `None` when the marker is for this task and the granule is there with the recorded size
/// (written by a compatible release); else why not.
async fn marker_check(
    store: &Store,
    dest: &Root,
    task: &Task,
    id: &str,
    record: &LedgerRecord,
) -> Result<Option<String>, StateError> {
    if record.status != TaskStatus::Done || record.task_id != id {
        return Ok(Some(format!(
            "the done marker {} says {} for task {}",
            id,
            record.status.as_str(),
            record.task_id
        )));
    }
    if !is_compatible_version(&record.software_version, SOFTWARE_VERSION) {
        return Ok(Some(format!(
            "made by edp {}, incompatible with edp {SOFTWARE_VERSION}",
            record.software_version
        )));
    }
    let granule = granule_location(dest, task)?;
    let Some(meta) = store.head(&granule).await? else {
        return Ok(Some(format!("the granule file {granule} is missing")));
    };
    match record.output_bytes {
        Some(bytes) if bytes != meta.size => Ok(Some(format!(
            "the granule file {granule} has {} bytes, the done marker recorded {bytes}",
            meta.size
        ))),
        _ => Ok(None),
    }
}

/// Version of this release, compared with the versions recorded in done markers.
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Records that edp writes (or wrote) the granule at `granule` (below the destination root of
/// `layout`): `_edp/granules/<path below the root>.json` holds the latest record of it, the
/// intent (status `running`) before the file is written and the `done` record after. A file
/// at a final name without this record was not made by edp and is never replaced without
/// `--force`; [`redo_reason`] compares it with the task to say why a granule is redone.
pub async fn write_granule_record(
    store: &Store,
    layout: &Layout,
    granule: &Location,
    record: &LedgerRecord,
) -> Result<Location, StateError> {
    let location = granule_record_location(layout, granule)?;
    put_json(store, &location, record, "granule record").await?;
    Ok(location)
}

/// Reads the record of [`write_granule_record`]; `None` when absent or corrupt (reported).
pub async fn read_granule_record(
    store: &Store,
    layout: &Layout,
    granule: &Location,
) -> Result<Option<LedgerRecord>, StateError> {
    let location = granule_record_location(layout, granule)?;
    match get_json(store, &location, "granule record").await {
        Err(err @ StateError::Decode { .. }) => {
            tracing::warn!(error = %err, "corrupt granule record ignored");
            Ok(None)
        }
        other => other,
    }
}

fn granule_record_location(layout: &Layout, granule: &Location) -> Result<Location, StateError> {
    match granule.relative_to(layout.dest()) {
        Some(relative) if !relative.is_empty() => Ok(layout.granule_record(&relative)),
        _ => Err(StateError::OutsideDestination {
            granule: granule.to_string(),
            dest: layout.dest().to_string(),
        }),
    }
}

/// True when edp recorded the granule file at `granule` as its own: a granule record, or a
/// done marker of the task (current or legacy id) from a release that wrote no granule
/// records.
pub async fn is_recorded(
    store: &Store,
    layout: &Layout,
    granule: &Location,
    task: &Task,
) -> Result<bool, StateError> {
    if read_granule_record(store, layout, granule).await?.is_some() {
        return Ok(true);
    }
    for id in [task_key(task), legacy_task_key(task)] {
        if read_done_marker(store, layout, &id).await?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Why a granule would be produced (again): a category for counting and the details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedoReason {
    /// `never produced`, `unrecorded file`, `unfinished`, `changed`, `not confirmed`.
    pub kind: &'static str,
    /// What exactly (versions, sizes, ETags, hashes).
    pub detail: String,
}

impl std::fmt::Display for RedoReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

/// Why `task` would be produced (again), or `None` when it is done: for `edp plan --dry-run`.
pub async fn redo_reason(
    store: &Store,
    dest: &Root,
    task: &Task,
) -> Result<Option<RedoReason>, StateError> {
    let reason = |kind, detail: String| Ok(Some(RedoReason { kind, detail }));
    let layout = Layout::new(dest.location());
    let id = task_key(task);
    if let Some(record) = read_done_marker(store, &layout, &id).await? {
        return match marker_check(store, dest, task, &id, &record).await? {
            Some(detail) => reason("not confirmed", detail),
            None => Ok(None),
        };
    }
    let legacy = legacy_task_key(task);
    if let Some(record) = read_done_marker(store, &layout, &legacy).await?
        && marker_check(store, dest, task, &legacy, &record)
            .await?
            .is_none()
    {
        return Ok(None);
    }
    let granule = granule_location(dest, task)?;
    let exists = store.head(&granule).await?.is_some();
    let Some(previous) = read_granule_record(store, &layout, &granule).await? else {
        return if exists {
            reason(
                "unrecorded file",
                format!("{granule} was not made by edp (refused unless --force)"),
            )
        } else {
            reason(
                "never produced",
                format!("no done marker for task {}", short(&id)),
            )
        };
    };
    if previous.status != TaskStatus::Done {
        return reason(
            "unfinished",
            format!("the last attempt (run {}) did not finish", previous.run_id),
        );
    }
    let mut changes = Vec::new();
    let config_hash = task.edp.as_ref().map_or("", |e| e.config_hash.as_str());
    if !config_hash.is_empty() && previous.config_hash != config_hash {
        changes.push(format!(
            "configuration {} -> {}",
            short(&previous.config_hash),
            short(config_hash)
        ));
    }
    if let Some(edp) = &task.edp {
        for input in &edp.inputs {
            let Some(etag) = input.etag.as_deref() else {
                continue;
            };
            let etag = etag.trim_matches('"');
            let before = previous
                .input_etags
                .iter()
                .find(|(location, _)| same_location(location, &input.location))
                .map(|(_, e)| e.as_str());
            match before {
                Some(before) if before == etag => {}
                Some(before) => {
                    changes.push(format!("input {} ETag {before} -> {etag}", input.location))
                }
                None => changes.push(format!("input {} is new", input.location)),
            }
        }
    }
    if changes.is_empty() {
        changes.push(format!(
            "task id {} -> {} (variables, metadata or locations)",
            short(&previous.task_id),
            short(&id)
        ));
    }
    reason("changed", changes.join("; "))
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn same_location(a: &str, b: &str) -> bool {
    a == b || matches!((Location::parse(a), Location::parse(b)), (Ok(a), Ok(b)) if a == b)
}

/// The done markers of a destination, from one listing: cheap membership tests before the
/// per-task check of [`DoneIndex::confirm`].
#[derive(Debug, Clone, Default)]
pub struct DoneIndex {
    ids: HashSet<String>,
}

impl DoneIndex {
    /// Lists `_edp/done/`.
    pub async fn load(store: &Store, layout: &Layout) -> Result<DoneIndex, StateError> {
        let done_dir = layout.done_dir();
        let ids = store
            .list(&done_dir)
            .await?
            .into_iter()
            .filter_map(|o| {
                o.location
                    .file_name()
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(str::to_string)
            })
            .collect();
        Ok(DoneIndex { ids })
    }

    /// True when a marker exists for `task_id` (not yet confirmed).
    pub fn contains(&self, task_id: &str) -> bool {
        self.ids.contains(task_id)
    }

    /// Number of markers.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there is no marker.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Splits `tasks` into (to do, done): tasks with a marker are checked as by [`is_done`]
    /// (concurrently); the others are to do without any request. Order is kept.
    pub async fn partition(
        &self,
        store: &Store,
        dest: &Root,
        tasks: Vec<Task>,
    ) -> Result<(Vec<Task>, Vec<Task>), StateError> {
        let layout = Layout::new(dest.location());
        let checks: Vec<bool> = stream::iter(tasks.iter().map(|task| {
            let layout = &layout;
            async move {
                for id in [task_key(task), legacy_task_key(task)] {
                    if !self.contains(&id) {
                        continue;
                    }
                    if let Some(record) = read_done_marker(store, layout, &id).await?
                        && marker_check(store, dest, task, &id, &record)
                            .await?
                            .is_none()
                    {
                        return Ok::<bool, StateError>(true);
                    }
                }
                Ok(false)
            }
        }))
        .buffered(IO_CONCURRENCY)
        .try_collect()
        .await?;
        let mut todo = Vec::new();
        let mut done = Vec::new();
        for (task, is_done) in tasks.into_iter().zip(checks) {
            if is_done {
                done.push(task);
            } else {
                todo.push(task);
            }
        }
        Ok((todo, done))
    }
}

/// Per-kind accumulator of a report.
#[derive(Default)]
struct KindAcc {
    counts: StatusCounts,
    seconds: f64,
    output_bytes: u64,
    estimated: f64,
}

/// Builds the report of a run from its ledger.
///
/// Tasks come from the run's scratch task list when it still exists (tasks never recorded
/// count as `planned`), else from the run record's `task_count`. Costs come from the tasks'
/// estimates; the price per core-hour from the run record (its cost / its core-seconds),
/// else [`FARGATE_SPOT_VCPU_HOUR_USD`].
pub async fn reconcile_run(
    store: &Store,
    dest: &Location,
    run_id: &str,
) -> Result<RunReport, StateError> {
    let layout = Layout::new(dest);
    check_run_id(run_id)?;
    let run = read_run_record(store, &layout, run_id).await?;
    let tasks = read_scratch_tasks(store, &layout, run_id).await?;
    let records = read_ledger(store, &layout, run_id).await?;
    if run.is_none() && tasks.is_none() && records.is_empty() {
        return Err(StateError::RunNotFound {
            run_id: run_id.to_string(),
            run_record: layout.run_record(run_id).to_string(),
        });
    }
    Ok(build_report(
        run_id,
        run.as_ref(),
        tasks.as_deref(),
        &records,
    ))
}

/// The report of a run from what is known about it (pure; see [`reconcile_run`]).
pub fn build_report(
    run_id: &str,
    run: Option<&RunRecord>,
    tasks: Option<&[Task]>,
    records: &[LedgerRecord],
) -> RunReport {
    let by_id: HashMap<&str, &LedgerRecord> =
        records.iter().map(|r| (r.task_id.as_str(), r)).collect();
    let mut counts = StatusCounts::default();
    let mut kinds: BTreeMap<ProductKind, KindAcc> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut seconds = 0.0;
    let mut output_bytes = 0u64;
    let mut estimated = 0.0;
    let mut seen: HashSet<&str> = HashSet::new();

    let mut account = |record: Option<&LedgerRecord>, kind: Option<ProductKind>, cost: f64| {
        let status = record.map_or(TaskStatus::Planned, |r| r.status);
        counts.add(status);
        estimated += cost;
        let task_seconds = record.and_then(|r| r.seconds).unwrap_or(0.0);
        let bytes = record.and_then(|r| r.output_bytes).unwrap_or(0);
        seconds += task_seconds;
        output_bytes += bytes;
        if let Some(kind) = kind {
            let acc = kinds.entry(kind).or_default();
            acc.counts.add(status);
            acc.seconds += task_seconds;
            acc.output_bytes += bytes;
            acc.estimated += cost;
        }
        if let Some(record) = record
            && record.status == TaskStatus::Failed
        {
            failures.push(Failure {
                task_id: record.task_id.clone(),
                granule: record.granule.clone(),
                attempts: record.attempts,
                error: record.error.clone().unwrap_or(edp_task_schemas::TaskError {
                    kind: edp_task_schemas::ErrorKind::Permanent,
                    message: "failed without a recorded error".to_string(),
                }),
            });
        }
    };

    if let Some(tasks) = tasks {
        for task in tasks {
            let id = task_key(task);
            let record = by_id.get(id.as_str()).copied();
            let kind = task_kind(task).ok();
            let cost = task.edp.as_ref().map_or(0.0, |e| e.cost_core_seconds);
            account(record, kind, cost);
            if let Some(record) = record {
                seen.insert(record.task_id.as_str());
            }
        }
    }
    // Records of tasks not in the task list (no list, or a list that expired).
    for record in records {
        if !seen.contains(record.task_id.as_str()) {
            account(Some(record), None, 0.0);
        }
    }
    if tasks.is_none()
        && let Some(run) = run
    {
        let recorded = records.len() as u64;
        for _ in recorded..run.task_count {
            account(None, None, 0.0);
        }
        estimated = run.estimated_core_seconds;
    }

    failures.sort_by(|a, b| a.granule.cmp(&b.granule));
    let price = run
        .and_then(|r| {
            let cost = r.estimated_cost_usd?;
            (r.estimated_core_seconds > 0.0).then(|| cost / (r.estimated_core_seconds / 3600.0))
        })
        .unwrap_or(FARGATE_SPOT_VCPU_HOUR_USD);
    RunReport {
        run_id: run_id.to_string(),
        generated_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        complete: counts.planned == 0 && counts.running == 0,
        counts,
        failures,
        seconds,
        output_bytes,
        estimated_core_seconds: estimated,
        estimated_cost_usd: Some(estimate_cloud_cost_usd(estimated, price)),
        by_kind: kinds
            .into_iter()
            .map(|(kind, acc)| KindStats {
                kind,
                counts: acc.counts,
                seconds: acc.seconds,
                output_bytes: acc.output_bytes,
                estimated_core_seconds: acc.estimated,
            })
            .collect(),
        batch_job_id: run.and_then(|r| r.batch_job_id.clone()),
        virtual_stores: Vec::new(),
        icechunk_repositories: Vec::new(),
    }
}
