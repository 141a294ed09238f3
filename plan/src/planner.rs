//! Incremental planning of a run, shared by the planner Lambda and the command line
//! (`edp plan`, `edp submit`):
//!
//! ```text
//! inventory (parallel listings of the jobs' input prefixes, or HEADs for one event: scope)
//!   -> tasks (builder: one per complete granule)
//!   -> drop tasks already done (done marker + granule with the recorded size), unless `force`
//!   -> claim the rest (put-if-absent; skip tasks held by a live run; take over dead claims)
//!   -> write scratch/<run>/tasks.json and scratch/<run>/shards/shard-NNNNN.json
//!   -> write runs/<run>/run.json
//! ```
//!
//! A dry run writes nothing and claims nothing; it reads the done markers and the existing
//! claims to report what a real run would skip. When nothing is left to plan, no run state is
//! written either (the outcome says so), so redelivered events leave no empty runs behind.
//!
//! Claims make concurrent planners safe: of two planners (or a redelivered event) planning the
//! same inputs, each granule ends up in exactly one run. If writing the run fails after
//! claiming, the claims of the run are released again (best effort; otherwise they expire after
//! `claim_ttl_seconds`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::SystemTime;

use chrono::{SecondsFormat, Utc};
use edp_conventions::time::format_time;
use edp_conventions::{Catalog, ProductionConfig};
use edp_store::{Location, ObjectMeta, Store};
use edp_task_schemas::{
    Claim, Job, KindPlan, ModelTimeRange, ProductKind, RunRecord, RunTrigger, ShardSizing, Task,
    deploy::MAX_ARRAY_SIZE,
};
use futures::stream::{self, StreamExt, TryStreamExt};
use thiserror::Error;

use crate::builder::{
    BuildError, BuildOptions, BuildWarning, Incomplete, SOFTWARE_VERSION, TaskLocations,
    build_tasks, job_searches, task_input_bytes,
};
use crate::cost::{CostModel, FARGATE_SPOT_VCPU_HOUR_USD, estimate_cloud_cost_usd};
use crate::inventory::{Inventory, InventoryError, InventoryOptions, InventoryStats, Orphan};
use crate::roots::Root;
use crate::shard::{ShardError, shard_count, split_into_shards};
use crate::state::runs::check_run_id;
use crate::state::{
    CLAIM_CONCURRENCY, ClaimOutcome, DoneIndex, ExistingClaim, IO_CONCURRENCY, Layout, StateError,
    claim_task, granule_location, inspect_claim, is_done, new_run_id, release_claim, task_key,
    write_run_record, write_scratch_tasks, write_shards,
};

/// Default target of estimated core-seconds per shard (one hour).
pub const DEFAULT_SHARD_TARGET_SECONDS: f64 = 3600.0;
/// Default claim time-to-live (six hours).
pub const DEFAULT_CLAIM_TTL_SECONDS: u64 = 6 * 3600;

/// What to plan and how.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// Jobs to plan.
    pub jobs: Vec<Job>,
    /// Root of the model output.
    pub source_root: Root,
    /// Root of the products (run state goes to `<dest>/_edp/`).
    pub dest_root: Root,
    /// Locations copied into the tasks.
    pub locations: TaskLocations,
    /// Shard count or target seconds per shard.
    pub sizing: ShardSizing,
    /// Upper bound of the shard count (Batch array size; values above 10 000 are capped).
    pub max_shards: u32,
    /// Lifetime of our claims while the run is unfinished.
    pub claim_ttl_seconds: u64,
    /// Plan only: write nothing, claim nothing.
    pub dry_run: bool,
    /// Plan granules that are already done again.
    pub force: bool,
    /// Plan granules with missing inputs from their complete variables (EDP's behaviour).
    pub allow_partial: bool,
    /// What started the run.
    pub trigger: RunTrigger,
    /// Who plans (Lambda request id, host name), written into claims.
    pub claimed_by: Option<String>,
    /// Run id to use; a new time-sortable id when `None`.
    pub run_id: Option<String>,
    /// Cost model of the estimates.
    pub cost_model: CostModel,
    /// Price of one vCPU-hour (memory included) for the cost estimate.
    pub vcpu_hour_usd: f64,
    /// How the destination's state (done markers, claims, granules) is read.
    pub state_reads: StateReads,
    /// Plan a finished granule again when one of its inputs was re-uploaded after it was
    /// written (default: report it in [`PlanOutcome::changed_inputs`] and leave it).
    pub replan_changed_inputs: bool,
}

/// How [`plan_with_inventory`] reads the state of the destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StateReads {
    /// Listings: `_edp/done/` (and `_edp/claims/` for dry runs) once, and the folder of every
    /// dataset with candidates once; then one GET per done marker found. For full plans: the
    /// requests grow with the destination divided by 1,000, not with the task count.
    #[default]
    Listing,
    /// Per task: GET of its done marker and HEAD of its granule (and, for dry runs, of its
    /// claim). For event-scoped plans: the requests grow with the tasks of the event, not
    /// with the destination.
    PerTask,
}

/// A finished granule whose inputs changed after it was written (new ETag, later upload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedInputs {
    /// The granule.
    pub granule: String,
    /// The task id of the current inputs.
    pub task_id: String,
    /// The inputs modified after the granule was written, sorted.
    pub inputs: Vec<String>,
    /// True when the granule was planned again ([`PlanRequest::replan_changed_inputs`]).
    pub replanned: bool,
}

impl PlanRequest {
    /// A request with the defaults: shards of about [`DEFAULT_SHARD_TARGET_SECONDS`], at most
    /// [`MAX_ARRAY_SIZE`] shards, claims living [`DEFAULT_CLAIM_TTL_SECONDS`], triggered from
    /// the command line, default cost model and Fargate Spot prices.
    pub fn new(jobs: Vec<Job>, source_root: Root, dest_root: Root) -> PlanRequest {
        PlanRequest {
            jobs,
            source_root,
            dest_root,
            locations: TaskLocations::default(),
            sizing: ShardSizing::TargetSeconds(DEFAULT_SHARD_TARGET_SECONDS),
            max_shards: MAX_ARRAY_SIZE,
            claim_ttl_seconds: DEFAULT_CLAIM_TTL_SECONDS,
            dry_run: false,
            force: false,
            allow_partial: false,
            trigger: RunTrigger::Cli,
            claimed_by: None,
            run_id: None,
            cost_model: CostModel::default(),
            vcpu_hour_usd: FARGATE_SPOT_VCPU_HOUR_USD,
            state_reads: StateReads::Listing,
            replan_changed_inputs: false,
        }
    }
}

/// Planned work of one product kind (or of all, in [`PlanOutcome::total`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KindSummary {
    /// Product kind (`None` for the total).
    pub kind: Option<ProductKind>,
    /// Tasks.
    pub tasks: u64,
    /// Sum of their input sizes.
    pub input_bytes: u64,
    /// Sum of their cost estimates.
    pub core_seconds: f64,
    /// Estimated compute cost.
    pub cost_usd: f64,
}

/// A task skipped because a live run holds its claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedElsewhere {
    /// The granule.
    pub granule: String,
    /// Its task id.
    pub task_id: String,
    /// The run holding it.
    pub run_id: String,
}

/// What planning did.
#[derive(Debug, Clone)]
pub struct PlanOutcome {
    /// The run id (generated even when nothing is written).
    pub run_id: String,
    /// Tasks of this run, sorted by granule path.
    pub tasks: Vec<Task>,
    /// Granules skipped because they are done.
    pub skipped_done: Vec<String>,
    /// Tasks skipped because a live run holds them, sorted by granule.
    pub skipped_claimed: Vec<ClaimedElsewhere>,
    /// Dead claims of other runs taken over.
    pub taken_over: usize,
    /// Granules with missing inputs (planned only with `allow_partial`).
    pub incomplete: Vec<Incomplete>,
    /// Finished granules with inputs re-uploaded since, sorted by granule (planned again only
    /// with [`PlanRequest::replan_changed_inputs`]).
    pub changed_inputs: Vec<ChangedInputs>,
    /// Inputs without their partner file.
    pub orphans: Vec<Orphan>,
    /// Builder warnings.
    pub warnings: Vec<BuildWarning>,
    /// Per product kind, cheapest kind first; only kinds with tasks.
    pub by_kind: Vec<KindSummary>,
    /// Sum over kinds.
    pub total: KindSummary,
    /// What the source listing held.
    pub inventory: InventoryStats,
    /// Shards of the run (what a dry run would write).
    pub shard_count: u32,
    /// `scratch/<run>/tasks.json`, when written.
    pub tasks_location: Option<Location>,
    /// `scratch/<run>/shards`, when written (the worker's `EDP_SHARDS_URI`).
    pub shards_location: Option<Location>,
    /// Every shard file written, in index order.
    pub shard_locations: Vec<Location>,
    /// The run record written (`None` for dry runs and when nothing was left to plan).
    pub run_record: Option<RunRecord>,
    /// `runs/<run>/run.json`, when written.
    pub run_record_location: Option<Location>,
}

/// Why planning failed.
#[derive(Debug, Error)]
pub enum PlanError {
    /// Listing the source failed or it holds duplicates.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// A job could not be resolved.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Reading or writing run state failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The shards could not be formed.
    #[error("run {run_id}: {source}")]
    Shard {
        /// The run.
        run_id: String,
        /// The shard error.
        #[source]
        source: ShardError,
    },
}

/// Lists the source (one listing per input prefix of the jobs, in parallel) and plans a run
/// (see the module documentation).
pub async fn plan_run(
    store: &Store,
    catalog: &Catalog,
    config: &ProductionConfig,
    request: &PlanRequest,
) -> Result<PlanOutcome, PlanError> {
    let searches = job_searches(&request.jobs, catalog, config)?;
    let (inventory, _) = Inventory::from_prefixes(
        store,
        &request.source_root,
        &InventoryOptions::for_config(config),
        &searches,
    )
    .await?;
    plan_with_inventory(store, catalog, config, &inventory, request).await
}

/// [`plan_run`] with an inventory already built (its root replaces `request.source_root`).
pub async fn plan_with_inventory(
    store: &Store,
    catalog: &Catalog,
    config: &ProductionConfig,
    inventory: &Inventory,
    request: &PlanRequest,
) -> Result<PlanOutcome, PlanError> {
    let run_id = match &request.run_id {
        Some(id) => id.clone(),
        None => new_run_id(),
    };
    check_run_id(&run_id)?;
    // Reject bad shard settings before anything is claimed.
    shard_count(
        request.sizing,
        0.0,
        1,
        request.max_shards.min(MAX_ARRAY_SIZE),
    )
    .map_err(|source| PlanError::Shard {
        run_id: run_id.clone(),
        source,
    })?;
    let layout = Layout::new(request.dest_root.location());
    let config_hash = config.config_hash();
    let built = build_tasks(
        &request.jobs,
        catalog,
        config,
        inventory,
        &BuildOptions {
            dest_root: request.dest_root.written().to_string(),
            locations: request.locations.clone(),
            allow_partial: request.allow_partial,
            cost_model: request.cost_model,
            config_hash: config_hash.clone(),
        },
    )?;

    let (candidates, done, changed_inputs) = if request.force {
        (built.tasks, Vec::new(), Vec::new())
    } else {
        let (candidates, done) = match request.state_reads {
            StateReads::Listing => {
                let index = DoneIndex::load(store, &layout).await?;
                index
                    .partition(store, &request.dest_root, built.tasks)
                    .await?
            }
            StateReads::PerTask => {
                partition_per_task(store, &request.dest_root, built.tasks).await?
            }
        };
        let (candidates, changed) = screen_changed_inputs(
            store,
            &request.dest_root,
            inventory,
            candidates,
            request.state_reads,
            request.replan_changed_inputs,
        )
        .await?;
        (candidates, done, changed)
    };

    let now = Utc::now();
    let claimed_at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut tasks = Vec::with_capacity(candidates.len());
    let mut skipped_claimed = Vec::new();
    let mut taken_over = 0usize;
    if request.dry_run {
        // Per task: no listing, every claim is read directly (absent claims read as such).
        let existing: Option<HashSet<String>> = match request.state_reads {
            StateReads::PerTask => None,
            StateReads::Listing => Some(
                store
                    .list(&layout.claims_dir())
                    .await
                    .map_err(StateError::from)?
                    .into_iter()
                    .filter_map(|o| {
                        o.location
                            .file_name()
                            .and_then(|n| n.strip_suffix(".json"))
                            .map(str::to_string)
                    })
                    .collect(),
            ),
        };
        let states: Vec<ExistingClaim> = stream::iter(candidates.iter().map(|task| {
            let (layout, existing, run_id) = (&layout, &existing, &run_id);
            async move {
                let id = task_key(task);
                if existing.as_ref().is_some_and(|ids| !ids.contains(&id)) {
                    return Ok::<_, StateError>(ExistingClaim::Absent);
                }
                inspect_claim(store, layout, &id, run_id, request.claim_ttl_seconds, now).await
            }
        }))
        .buffered(IO_CONCURRENCY)
        .try_collect()
        .await?;
        for (task, state) in candidates.into_iter().zip(states) {
            match state {
                ExistingClaim::Live { run_id, .. } => skipped_claimed.push(ClaimedElsewhere {
                    granule: task.granule.clone(),
                    task_id: task_key(&task),
                    run_id,
                }),
                ExistingClaim::Dead { .. } => {
                    taken_over += 1;
                    tasks.push(task);
                }
                ExistingClaim::Absent | ExistingClaim::Ours => tasks.push(task),
            }
        }
    } else {
        let outcomes: Vec<Result<ClaimOutcome, StateError>> =
            stream::iter(candidates.iter().map(|task| {
                let claim = Claim {
                    task_id: task_key(task),
                    granule: task.granule.clone(),
                    run_id: run_id.clone(),
                    claimed_at: claimed_at.clone(),
                    ttl_seconds: request.claim_ttl_seconds,
                    claimed_by: request.claimed_by.clone(),
                };
                let layout = &layout;
                async move { claim_task(store, layout, &claim, now).await }
            }))
            .buffered(CLAIM_CONCURRENCY)
            .collect()
            .await;
        let mut first_error = None;
        for (task, outcome) in candidates.into_iter().zip(outcomes) {
            match outcome {
                Ok(ClaimOutcome::Held { run_id, .. }) => skipped_claimed.push(ClaimedElsewhere {
                    granule: task.granule.clone(),
                    task_id: task_key(&task),
                    run_id,
                }),
                Ok(outcome) => {
                    if matches!(outcome, ClaimOutcome::TakenOver { .. }) {
                        taken_over += 1;
                    }
                    tasks.push(task);
                }
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        if let Some(err) = first_error {
            release_claims(store, &layout, &run_id, &tasks).await;
            return Err(err.into());
        }
    }
    skipped_claimed.sort_by(|a, b| a.granule.cmp(&b.granule));

    let (by_kind, total) = summarize(&tasks, request.vcpu_hour_usd);
    let shards = shard_count(
        request.sizing,
        total.core_seconds,
        tasks.len(),
        request.max_shards.min(MAX_ARRAY_SIZE),
    )
    .map_err(|source| PlanError::Shard {
        run_id: run_id.clone(),
        source,
    })?;
    let mut outcome = PlanOutcome {
        run_id: run_id.clone(),
        tasks: Vec::new(),
        skipped_done: done.into_iter().map(|t| t.granule).collect(),
        skipped_claimed,
        taken_over,
        incomplete: built.incomplete,
        changed_inputs,
        orphans: inventory.orphans().to_vec(),
        warnings: built.warnings,
        by_kind,
        total,
        inventory: inventory.stats(),
        // At most `max_shards: u32`.
        shard_count: u32::try_from(shards).unwrap_or(u32::MAX),
        tasks_location: None,
        shards_location: None,
        shard_locations: Vec::new(),
        run_record: None,
        run_record_location: None,
    };
    if request.dry_run || tasks.is_empty() {
        outcome.tasks = tasks;
        return Ok(outcome);
    }

    let ids: Vec<String> = tasks.iter().map(task_key).collect();
    let model_time_range = ModelTimeRange {
        start: format_time(config.clock.start()),
        end: format_time(config.clock.end()),
    };
    match write_run(
        store,
        &layout,
        request,
        &config_hash,
        model_time_range,
        &mut outcome,
        tasks,
    )
    .await
    {
        Ok(()) => Ok(outcome),
        Err(err) => {
            release_claim_ids(store, &layout, &run_id, &ids).await;
            Err(err)
        }
    }
}

/// Writes the task list, the shards and the run record of a planned run.
async fn write_run(
    store: &Store,
    layout: &Layout,
    request: &PlanRequest,
    config_hash: &str,
    model_time_range: ModelTimeRange,
    outcome: &mut PlanOutcome,
    tasks: Vec<Task>,
) -> Result<(), PlanError> {
    let run_id = outcome.run_id.clone();
    let tasks_location = write_scratch_tasks(store, layout, &run_id, &tasks).await?;
    let shards = split_into_shards(
        &run_id,
        tasks,
        request.sizing,
        request.max_shards.min(MAX_ARRAY_SIZE),
        &request.cost_model,
    )
    .map_err(|source| PlanError::Shard {
        run_id: run_id.clone(),
        source,
    })?;
    let shard_locations = write_shards(store, layout, &run_id, &shards).await?;
    let shard_total = shards.len();
    // The shards own the tasks now; give them back in granule order.
    let mut tasks: Vec<Task> = shards.into_iter().flat_map(|s| s.tasks).collect();
    tasks.sort_by(|a, b| a.granule.cmp(&b.granule));

    let record = RunRecord {
        run_id: run_id.clone(),
        created_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        trigger: request.trigger,
        source_root: request.source_root.written().to_string(),
        dest_root: request.dest_root.written().to_string(),
        jobs: request.jobs.clone(),
        task_count: tasks.len() as u64,
        already_done_count: outcome.skipped_done.len() as u64,
        shard_count: u32::try_from(shard_total).unwrap_or(u32::MAX),
        tasks_uri: Some(tasks_location.to_string()),
        shards_uri: Some(layout.shards_dir(&run_id).to_string()),
        batch_job_id: None,
        batch_job_name: None,
        estimated_core_seconds: outcome.total.core_seconds,
        estimated_cost_usd: Some(outcome.total.cost_usd),
        by_kind: outcome
            .by_kind
            .iter()
            .filter_map(|k| {
                Some(KindPlan {
                    kind: k.kind?,
                    tasks: k.tasks,
                    estimated_core_seconds: k.core_seconds,
                })
            })
            .collect(),
        dry_run: false,
        software_version: SOFTWARE_VERSION.to_string(),
        config_hash: config_hash.to_string(),
        model_time_range: Some(model_time_range),
    };
    let record_location = write_run_record(store, layout, &record).await?;
    outcome.shard_count = record.shard_count;
    outcome.tasks = tasks;
    outcome.tasks_location = Some(tasks_location);
    outcome.shards_location = Some(layout.shards_dir(&run_id));
    outcome.shard_locations = shard_locations;
    outcome.run_record = Some(record);
    outcome.run_record_location = Some(record_location);
    Ok(())
}

/// Per-kind and total task counts, input bytes, estimated core-seconds and cost.
pub fn summarize(tasks: &[Task], vcpu_hour_usd: f64) -> (Vec<KindSummary>, KindSummary) {
    let empty = |kind| KindSummary {
        kind,
        tasks: 0,
        input_bytes: 0,
        core_seconds: 0.0,
        cost_usd: 0.0,
    };
    let mut kinds: BTreeMap<usize, KindSummary> = BTreeMap::new();
    let mut total = empty(None);
    for task in tasks {
        let kind = crate::cost::task_kind(task).ok();
        let cost = task.edp.as_ref().map_or(0.0, |e| e.cost_core_seconds);
        let bytes = task_input_bytes(task);
        // Order by ProductKind::ALL (cheapest first); unknown kinds last.
        let rank = kind
            .and_then(|k| ProductKind::ALL.iter().position(|x| *x == k))
            .unwrap_or(ProductKind::ALL.len());
        let slot = kinds.entry(rank).or_insert_with(|| empty(kind));
        for summary in [slot, &mut total] {
            summary.tasks += 1;
            summary.input_bytes += bytes;
            summary.core_seconds += cost;
        }
    }
    let mut by_kind: Vec<KindSummary> = kinds.into_values().collect();
    for summary in by_kind.iter_mut().chain(std::iter::once(&mut total)) {
        summary.cost_usd = estimate_cloud_cost_usd(summary.core_seconds, vcpu_hour_usd);
    }
    (by_kind, total)
}

async fn release_claims(store: &Store, layout: &Layout, run_id: &str, tasks: &[Task]) {
    let ids: Vec<String> = tasks.iter().map(task_key).collect();
    release_claim_ids(store, layout, run_id, &ids).await;
}

/// Best effort: a claim that cannot be released expires after its TTL.
async fn release_claim_ids(store: &Store, layout: &Layout, run_id: &str, ids: &[String]) {
    let results: Vec<Result<bool, StateError>> = stream::iter(
        ids.iter()
            .map(|id| async move { release_claim(store, layout, id, run_id).await }),
    )
    .buffer_unordered(IO_CONCURRENCY)
    .collect()
    .await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        tracing::warn!(
            run_id,
            failed,
            "could not release some claims; they expire after their TTL"
        );
    }
}

/// Splits `tasks` into (to do, done) with one done check per task ([`is_done`]: GET of the
/// marker, HEAD of the granule when there is one). Order is kept.
async fn partition_per_task(
    store: &Store,
    dest: &Root,
    tasks: Vec<Task>,
) -> Result<(Vec<Task>, Vec<Task>), StateError> {
    let checks: Vec<bool> = stream::iter(
        tasks
            .iter()
            .map(|task| async move { is_done(store, dest, task).await }),
    )
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

/// The granule objects of `tasks` that exist: one listing per dataset folder
/// ([`StateReads::Listing`]) or one HEAD per granule ([`StateReads::PerTask`]).
async fn existing_granules(
    store: &Store,
    dest: &Root,
    tasks: &[Task],
    reads: StateReads,
) -> Result<HashMap<String, ObjectMeta>, StateError> {
    let mut locations = Vec::with_capacity(tasks.len());
    for task in tasks {
        locations.push(granule_location(dest, task)?);
    }
    let mut found = HashMap::new();
    match reads {
        StateReads::PerTask => {
            let heads: Vec<Option<ObjectMeta>> = stream::iter(
                locations
                    .iter()
                    .map(|location| async move { store.head(location).await }),
            )
            .buffered(IO_CONCURRENCY)
            .try_collect()
            .await?;
            for (task, head) in tasks.iter().zip(heads) {
                if let Some(meta) = head {
                    found.insert(task.granule.clone(), meta);
                }
            }
        }
        StateReads::Listing => {
            let mut folders: Vec<Location> =
                locations.iter().filter_map(Location::parent).collect();
            folders.sort_by_key(ToString::to_string);
            folders.dedup();
            let listings: Vec<Vec<ObjectMeta>> = stream::iter(
                folders
                    .iter()
                    .map(|folder| async move { store.list(folder).await }),
            )
            .buffer_unordered(IO_CONCURRENCY)
            .try_collect()
            .await?;
            let mut by_location: HashMap<String, ObjectMeta> = listings
                .into_iter()
                .flatten()
                .map(|meta| (meta.location.to_string(), meta))
                .collect();
            for (task, location) in tasks.iter().zip(&locations) {
                if let Some(meta) = by_location.remove(&location.to_string()) {
                    found.insert(task.granule.clone(), meta);
                }
            }
        }
    }
    Ok(found)
}

/// Finds the candidates whose granule exists and is older than one of its inputs: an input
/// was re-uploaded after the granule was written (its new ETag gave the task a new id, so no
/// done marker matches). They are reported, and kept only when `replan` says so. A granule
/// newer than all its inputs (a configuration change, or a worker stopped between the upload
/// and the done marker) stays planned, as before.
async fn screen_changed_inputs(
    store: &Store,
    dest: &Root,
    inventory: &Inventory,
    candidates: Vec<Task>,
    reads: StateReads,
    replan: bool,
) -> Result<(Vec<Task>, Vec<ChangedInputs>), StateError> {
    if candidates.is_empty() {
        return Ok((candidates, Vec::new()));
    }
    let granules = existing_granules(store, dest, &candidates, reads).await?;
    if granules.is_empty() {
        return Ok((candidates, Vec::new()));
    }
    let mut kept = Vec::with_capacity(candidates.len());
    let mut changed = Vec::new();
    for task in candidates {
        let newer = granules
            .get(&task.granule)
            .and_then(|meta| meta.last_modified)
            .map(|written| newer_inputs(inventory, &task, written))
            .unwrap_or_default();
        if newer.is_empty() {
            kept.push(task);
            continue;
        }
        changed.push(ChangedInputs {
            granule: task.granule.clone(),
            task_id: task_key(&task),
            inputs: newer,
            replanned: replan,
        });
        if replan {
            kept.push(task);
        }
    }
    changed.sort_by(|a, b| a.granule.cmp(&b.granule));
    for change in &changed {
        tracing::warn!(
            granule = %change.granule,
            inputs = ?change.inputs,
            replanned = change.replanned,
            "inputs of a finished granule were re-uploaded after it was written"
        );
    }
    Ok((kept, changed))
}

/// The inputs of `task` modified after `written`, sorted.
fn newer_inputs(inventory: &Inventory, task: &Task, written: SystemTime) -> Vec<String> {
    let mut newer: Vec<String> = task
        .edp
        .iter()
        .flat_map(|edp| edp.inputs.iter())
        .filter(|input| {
            inventory
                .modified_of_path(&input.location)
                .is_some_and(|modified| modified > written)
        })
        .map(|input| input.location.clone())
        .collect();
    newer.sort();
    newer
}
