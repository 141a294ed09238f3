//! Incremental planning of a run, shared by the planner Lambda and the command line
//! (`edp plan`, `edp submit`):
//!
//! ```text
//! inventory (one listing of the source root)
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

use std::collections::{BTreeMap, HashSet};

use chrono::{SecondsFormat, Utc};
use edp_conventions::{Catalog, ProductionConfig};
use edp_store::{Location, Store};
use edp_task_schemas::{
    Claim, Job, KindPlan, ProductKind, RunRecord, RunTrigger, ShardSizing, Task,
    deploy::MAX_ARRAY_SIZE,
};
use futures::stream::{self, StreamExt, TryStreamExt};
use thiserror::Error;

use crate::builder::{
    BuildError, BuildOptions, BuildWarning, Incomplete, SOFTWARE_VERSION, TaskLocations,
    build_tasks, task_input_bytes,
};
use crate::cost::{CostModel, FARGATE_SPOT_VCPU_HOUR_USD, estimate_cloud_cost_usd};
use crate::inventory::{Inventory, InventoryError, InventoryOptions, InventoryStats, Orphan};
use crate::roots::Root;
use crate::shard::{ShardError, shard_count, split_into_shards};
use crate::state::runs::check_run_id;
use crate::state::{
    CLAIM_CONCURRENCY, ClaimOutcome, DoneIndex, ExistingClaim, IO_CONCURRENCY, Layout, StateError,
    claim_task, inspect_claim, new_run_id, release_claim, task_key, write_run_record,
    write_scratch_tasks, write_shards,
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

/// Lists the source root and plans a run (see the module documentation).
pub async fn plan_run(
    store: &Store,
    catalog: &Catalog,
    config: &ProductionConfig,
    request: &PlanRequest,
) -> Result<PlanOutcome, PlanError> {
    let inventory = Inventory::from_store(
        store,
        &request.source_root,
        &InventoryOptions::for_config(config),
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

    let (candidates, done) = if request.force {
        (built.tasks, Vec::new())
    } else {
        let index = DoneIndex::load(store, &layout).await?;
        index
            .partition(store, &request.dest_root, built.tasks)
            .await?
    };

    let now = Utc::now();
    let claimed_at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut tasks = Vec::with_capacity(candidates.len());
    let mut skipped_claimed = Vec::new();
    let mut taken_over = 0usize;
    if request.dry_run {
        let existing: HashSet<String> = store
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
            .collect();
        let states: Vec<ExistingClaim> = stream::iter(candidates.iter().map(|task| {
            let (layout, existing, run_id) = (&layout, &existing, &run_id);
            async move {
                let id = task_key(task);
                if !existing.contains(&id) {
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
    match write_run(store, &layout, request, &config_hash, &mut outcome, tasks).await {
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
