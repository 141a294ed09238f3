//! The one code path from "plan these jobs" to "a Batch job is running them", shared by the
//! planner Lambda (`edp_planner_lambda::handle`) and the operator's `edp submit`:
//!
//! 1. resolve the request against the defaults: payload > JSON job spec > environment and SSM
//!    settings ([`resolve`]);
//! 2. load the production configuration and the metadata catalog, read and check the jobs;
//! 3. find the inputs (with `secrets/source_credentials` when set) and run the shared
//!    incremental planner ([`edp_plan::planner::plan_with_inventory`]): done granules are
//!    skipped, the rest is claimed with conditional creates, so redelivered or concurrent
//!    events never plan a granule twice; task list, shards and `run.json` are written.
//!    For an S3 event ([`plan_and_submit_event`]) only the granules its objects may complete
//!    are looked at ([`edp_plan::scope::plan_event`]: one HEAD per input of those granules,
//!    one done-marker GET and granule HEAD per granule), so an event costs what it holds,
//!    not what the archive holds; manual and scheduled plans list the jobs' input prefixes
//!    in parallel ([`Inventory::from_prefixes`]);
//! 4. submit one Batch job for the shards (an array of `shard_count` children, or a plain job
//!    for one shard) with `EDP_RUN_ID` and `EDP_SHARDS_URI` in its environment;
//! 5. record the job id and name in `run.json`.
//!
//! If the submission fails, the run's claims are released again so that the retried event
//! plans the granules afresh, and the error is returned (the Lambda fails and SQS redelivers).

use crate::settings::DeploySettings;
use edp_conventions::catalog::LoadOptions;
use edp_plan::builder::job_searches;
use edp_plan::inventory::{Inventory, InventoryError, InventoryOptions, ListingCost};
use edp_plan::jobfile::ParseOptions;
use edp_plan::planner::{PlanError, PlanOutcome, PlanRequest, plan_with_inventory};
use edp_plan::roots::Root;
use edp_plan::scope::plan_event;
use edp_plan::sources::{
    SourceError, check_grouping_ids, grouping_counts, load_catalog, load_config, parse_job_spec,
    parse_jobs, read_text,
};
use edp_plan::state::{Layout, StateError, release_claim, task_key, write_run_record};
use edp_store::{Location, Store, StoreConfig};
use edp_task_schemas::deploy::{SSM_JOBS, SSM_METADATA_LOC};
use edp_task_schemas::{
    Job, JobSource, JobSpec, Locations, ManualTrigger, PayloadError, RunTrigger, ShardSizing,
    TaskLocations,
};
use serde::Serialize;

use crate::config::PlannerConfig;
use crate::submit::{JobRequest, JobSubmitter, SubmitError, SubmittedJob};

/// Why a plan could not be made or submitted.
#[derive(Debug, thiserror::Error)]
pub enum SubmissionError {
    /// The trigger payload contradicts itself.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// A location that is needed was given nowhere.
    #[error("no {what} given: expected {remedy}")]
    Missing {
        /// What is missing.
        what: &'static str,
        /// Where it can be given.
        remedy: String,
    },
    /// A location that does not parse.
    #[error("{what} {given:?}: {source}")]
    Location {
        /// Which location.
        what: &'static str,
        /// As given.
        given: String,
        /// Why.
        #[source]
        source: edp_store::LocationError,
    },
    /// Configuration, catalog or jobs could not be loaded.
    #[error(transparent)]
    Source(Box<SourceError>),
    /// The catalog cannot count its groupings.
    #[error("metadata catalog: {0}")]
    Catalog(Box<edp_conventions::catalog::CatalogError>),
    /// Listing the source failed.
    #[error(transparent)]
    Inventory(Box<InventoryError>),
    /// Planning failed.
    #[error(transparent)]
    Plan(Box<PlanError>),
    /// The Batch job could not be submitted (the run's claims were released).
    #[error("run {run_id} planned but not submitted: {source}")]
    Submit {
        /// The run.
        run_id: String,
        /// Why.
        #[source]
        source: SubmitError,
    },
    /// The job was submitted but its id could not be recorded in `run.json`.
    #[error("run {run_id} submitted as Batch job {job_id}, but run.json was not updated: {source}")]
    Record {
        /// The run.
        run_id: String,
        /// The job.
        job_id: String,
        /// Why.
        #[source]
        source: Box<StateError>,
    },
}

// The planning errors are large (they carry catalog errors): boxed, so that results stay small.
impl From<SourceError> for SubmissionError {
    fn from(err: SourceError) -> Self {
        SubmissionError::Source(Box::new(err))
    }
}

impl From<edp_conventions::catalog::CatalogError> for SubmissionError {
    fn from(err: edp_conventions::catalog::CatalogError) -> Self {
        SubmissionError::Catalog(Box::new(err))
    }
}

impl From<InventoryError> for SubmissionError {
    fn from(err: InventoryError) -> Self {
        SubmissionError::Inventory(Box::new(err))
    }
}

impl From<PlanError> for SubmissionError {
    fn from(err: PlanError) -> Self {
        SubmissionError::Plan(Box::new(err))
    }
}

/// What a plan-and-submit did; returned by the Lambda and printed by `edp submit`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannerResponse {
    /// `submitted`, `dry_run`, `nothing_to_do` or `ignored`.
    pub outcome: Outcome,
    /// The run id (`None` when the event was ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The Batch job id of the run (array parent or plain job).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The Batch job name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    /// Tasks in the run.
    pub tasks: u64,
    /// Shards (= Batch array size; 1 for a plain job).
    pub shards: u32,
    /// Granules skipped because they are done.
    pub skipped_done: u64,
    /// Granules skipped because another live run holds them.
    pub skipped_claimed: u64,
    /// Granules with missing inputs (not planned).
    pub incomplete: u64,
    /// Prefix of the shard files (the worker's `EDP_SHARDS_URI`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards_uri: Option<String>,
    /// Sum of the task cost estimates.
    pub estimated_core_seconds: f64,
    /// Estimated compute cost in US dollars.
    pub estimated_cost_usd: f64,
    /// S3 records that announced new model output (S3/SQS triggers).
    pub new_objects: u64,
    /// S3 records ignored (other buckets, prefixes, file kinds or event types).
    pub ignored_records: u64,
    /// Event keys below the source root that map to no granule of the jobs (unknown
    /// variable, period or step; logged each).
    pub unmapped_keys: u64,
    /// Finished granules whose inputs were re-uploaded after they were written (planned
    /// again only with `settings/replan_changed_inputs`; logged each).
    pub changed_inputs: u64,
    /// Source requests made to find the inputs (LIST pages and HEADs).
    pub source_requests: u64,
}

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A run was planned and its Batch job submitted.
    Submitted,
    /// Planned only (nothing written, claimed or submitted).
    DryRun,
    /// Every granule is done or held by another run: no run was written.
    NothingToDo,
    /// The event announced nothing to plan (no new model output below the source root).
    Ignored,
}

impl PlannerResponse {
    /// The response to an event that announced nothing to plan.
    pub fn ignored(ignored_records: u64) -> PlannerResponse {
        PlannerResponse {
            outcome: Outcome::Ignored,
            run_id: None,
            job_id: None,
            job_name: None,
            tasks: 0,
            shards: 0,
            skipped_done: 0,
            skipped_claimed: 0,
            incomplete: 0,
            shards_uri: None,
            estimated_core_seconds: 0.0,
            estimated_cost_usd: 0.0,
            new_objects: 0,
            ignored_records,
            unmapped_keys: 0,
            changed_inputs: 0,
            source_requests: 0,
        }
    }

    fn from_plan(outcome: &PlanOutcome, kind: Outcome, job: Option<&SubmittedJob>) -> Self {
        PlannerResponse {
            outcome: kind,
            run_id: Some(outcome.run_id.clone()),
            job_id: job.map(|j| j.job_id.clone()),
            job_name: job.map(|j| j.job_name.clone()),
            tasks: outcome.tasks.len() as u64,
            shards: outcome.shard_count,
            skipped_done: outcome.skipped_done.len() as u64,
            skipped_claimed: outcome.skipped_claimed.len() as u64,
            incomplete: outcome
                .incomplete
                .iter()
                .filter(|i| !i.planned_partial)
                .count() as u64,
            shards_uri: outcome.shards_location.as_ref().map(ToString::to_string),
            estimated_core_seconds: outcome.total.core_seconds,
            estimated_cost_usd: outcome.total.cost_usd,
            new_objects: 0,
            ignored_records: 0,
            unmapped_keys: 0,
            changed_inputs: outcome.changed_inputs.len() as u64,
            source_requests: 0,
        }
    }
}

/// Everything a plan-and-submit needs besides the request.
#[derive(Debug)]
pub struct SubmitContext<'a, J> {
    /// Store with the default credential chain: settings locations, job files, and the
    /// source and destination unless the settings hold credentials for them.
    pub store: &'a Store,
    /// The configuration `store` was built from (endpoint, retries); stores signed with the
    /// credentials of the settings are built from it.
    pub store_config: &'a StoreConfig,
    /// Where Batch jobs go.
    pub submitter: &'a J,
    /// Defaults: roots, queue, definition, shard sizing, claim TTL.
    pub config: &'a PlannerConfig,
    /// The SSM settings and secrets (empty when there is no SSM prefix).
    pub settings: &'a DeploySettings,
    /// What started the run.
    pub trigger: RunTrigger,
    /// Who plans (Lambda request id, `edp submit` on a host), written into claims.
    pub claimed_by: Option<String>,
}

/// A request with every default applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Jobs, checked against the catalog later.
    pub jobs: JobsFrom,
    /// Root of the model output.
    pub source_root: String,
    /// Root of the products.
    pub dest_root: String,
    /// Locations copied into the tasks.
    pub locations: TaskLocations,
    /// Shard count or target seconds.
    pub sizing: ShardSizing,
    /// Plan only.
    pub dry_run: bool,
    /// Redo done granules.
    pub force: bool,
}

/// Where the jobs of a resolved request come from.
#[derive(Debug, Clone, PartialEq)]
pub enum JobsFrom {
    /// Given in the payload.
    Inline(Vec<Job>),
    /// Job file or JSON job spec text, named for messages.
    Text {
        /// Location or SSM parameter the text came from.
        name: String,
        /// The text.
        text: String,
    },
}

/// Applies the defaults to a trigger: payload first, then the locations of a JSON job spec,
/// then the environment (roots) and the SSM settings (grid, metadata, factors, config).
pub async fn resolve<J>(
    trigger: &ManualTrigger,
    ctx: &SubmitContext<'_, J>,
) -> Result<Resolved, SubmissionError> {
    let sizing = trigger
        .shard_sizing()?
        .unwrap_or(ShardSizing::TargetSeconds(ctx.config.shard_target_seconds));
    let (jobs, spec) = match trigger.job_source()? {
        JobSource::Inline(jobs) => (JobsFrom::Inline(jobs.to_vec()), None),
        JobSource::JobFile(given) => {
            let location = parse(given, "job file")?;
            let text = read_text(ctx.store, &location).await?;
            let spec = job_spec_of(given, &text)?;
            let name = location.to_string();
            (JobsFrom::Text { name, text }, spec)
        }
        JobSource::Settings => {
            let Some(text) = ctx.settings.jobs.clone() else {
                return Err(SubmissionError::Missing {
                    what: "jobs",
                    remedy: format!(
                        "\"jobs\" or \"job_file\" in the payload, or the SSM parameter \
                         {SSM_JOBS} below {}",
                        ctx.config.ssm_prefix
                    ),
                });
            };
            let spec = job_spec_of(SSM_JOBS, &text)?;
            let name = format!("SSM {SSM_JOBS}");
            (JobsFrom::Text { name, text }, spec)
        }
    };
    // One precedence rule for the CLI and the planner Lambda: payload > job spec >
    // environment (roots) and SSM settings (the task locations).
    let settings = ctx.settings;
    let defaults = Locations {
        source_root: Some(ctx.config.source_root.to_string()),
        dest_root: Some(ctx.config.dest_root.to_string()),
        task: TaskLocations {
            cfg_loc: settings.config_loc.as_ref().map(ToString::to_string),
            grid_loc: settings.grid_loc.as_ref().map(ToString::to_string),
            factors_loc: settings.factors_loc.as_ref().map(ToString::to_string),
            metadata_loc: settings.metadata_loc.as_ref().map(ToString::to_string),
        },
    };
    let resolved = trigger
        .locations()
        .or(spec.as_ref().map(JobSpec::locations).unwrap_or_default())
        .or(defaults);
    Ok(Resolved {
        jobs,
        source_root: resolved.source_root.unwrap_or_default(),
        dest_root: resolved.dest_root.unwrap_or_default(),
        locations: resolved.task,
        sizing,
        dry_run: trigger.dry_run,
        force: trigger.force,
    })
}

/// The JSON job spec in `text`, `None` for an EDP job file (parsed later, against the
/// catalog). The spec is parsed first because its locations may name the catalog.
fn job_spec_of(name: &str, text: &str) -> Result<Option<JobSpec>, SubmissionError> {
    if text.trim_start().starts_with('{') {
        Ok(Some(parse_job_spec(name, text)?))
    } else {
        Ok(None)
    }
}

fn parse(given: &str, what: &'static str) -> Result<Location, SubmissionError> {
    Location::parse(given).map_err(|source| SubmissionError::Location {
        what,
        given: given.to_string(),
        source,
    })
}

fn root(given: &str, what: &'static str) -> Result<Root, SubmissionError> {
    Root::parse(given).map_err(|source| SubmissionError::Location {
        what,
        given: given.to_string(),
        source,
    })
}

/// Plans `trigger` and submits the run (see the module documentation).
pub async fn plan_and_submit<J: JobSubmitter>(
    trigger: &ManualTrigger,
    ctx: &SubmitContext<'_, J>,
) -> Result<PlannerResponse, SubmissionError> {
    plan_and_submit_scoped(trigger, None, ctx).await
}

/// Plans the granules that the new objects `keys` of an S3 event may complete (with the
/// jobs and defaults of `ctx`) and submits the run. Keys that map to no granule are logged
/// and counted; when none maps to one, nothing is read and the outcome is `ignored`.
pub async fn plan_and_submit_event<J: JobSubmitter>(
    keys: &[Location],
    ctx: &SubmitContext<'_, J>,
) -> Result<PlannerResponse, SubmissionError> {
    plan_and_submit_scoped(&ManualTrigger::default(), Some(keys), ctx).await
}

async fn plan_and_submit_scoped<J: JobSubmitter>(
    trigger: &ManualTrigger,
    event_keys: Option<&[Location]>,
    ctx: &SubmitContext<'_, J>,
) -> Result<PlannerResponse, SubmissionError> {
    let resolved = resolve(trigger, ctx).await?;
    // Run state goes to the destination, with its own credentials when the settings have
    // them; settings locations and job files are read with the default credentials.
    let dest_store = match &ctx.settings.destination_credentials {
        Some(_) => ctx.settings.destination_store(ctx.store_config).await,
        None => ctx.store.clone(),
    };
    let planned = plan(&resolved, ctx, &dest_store, event_keys).await?;
    let extras = |mut response: PlannerResponse| {
        response.unmapped_keys = planned.unmapped;
        response.source_requests = planned.cost.list_requests + planned.cost.head_requests;
        response
    };
    let Some(outcome) = planned.outcome.as_ref() else {
        let mut response = PlannerResponse::ignored(0);
        response.unmapped_keys = planned.unmapped;
        return Ok(response);
    };
    let response = submit_planned(&resolved, ctx, &dest_store, outcome).await?;
    Ok(extras(response))
}

/// Submits a planned run (steps 4 and 5 of the module documentation).
async fn submit_planned<J: JobSubmitter>(
    resolved: &Resolved,
    ctx: &SubmitContext<'_, J>,
    dest_store: &Store,
    outcome: &PlanOutcome,
) -> Result<PlannerResponse, SubmissionError> {
    if resolved.dry_run {
        return Ok(PlannerResponse::from_plan(outcome, Outcome::DryRun, None));
    }
    let (Some(shards_uri), Some(mut record)) =
        (outcome.shards_location.clone(), outcome.run_record.clone())
    else {
        // plan_run writes no run state when nothing is left to plan.
        return Ok(PlannerResponse::from_plan(
            outcome,
            Outcome::NothingToDo,
            None,
        ));
    };

    let request = JobRequest::for_run(
        &outcome.run_id,
        &shards_uri.to_string(),
        outcome.shard_count,
        &ctx.config.job_queue,
        &ctx.config.job_definition,
    );
    let job = match ctx.submitter.submit(&request).await {
        Ok(job) => job,
        Err(source) => {
            release_claims(dest_store, &resolved.dest_root, outcome).await;
            return Err(SubmissionError::Submit {
                run_id: outcome.run_id.clone(),
                source,
            });
        }
    };

    record.batch_job_id = Some(job.job_id.clone());
    record.batch_job_name = Some(job.job_name.clone());
    let layout = Layout::new(root(&resolved.dest_root, "destination root")?.location());
    write_run_record(dest_store, &layout, &record)
        .await
        .map_err(|source| SubmissionError::Record {
            run_id: outcome.run_id.clone(),
            job_id: job.job_id.clone(),
            source: Box::new(source),
        })?;
    Ok(PlannerResponse::from_plan(
        outcome,
        Outcome::Submitted,
        Some(&job),
    ))
}

/// What [`plan`] found.
#[derive(Debug)]
struct Planned {
    /// The plan; `None` when no key of an event concerns any job.
    outcome: Option<PlanOutcome>,
    /// Event keys that map to no granule.
    unmapped: u64,
    /// Source requests made to find the inputs.
    cost: ListingCost,
}

/// Steps 2 and 3 of the module documentation; scoped to the granules of `event_keys` when
/// given.
async fn plan<J>(
    resolved: &Resolved,
    ctx: &SubmitContext<'_, J>,
    dest_store: &Store,
    event_keys: Option<&[Location]>,
) -> Result<Planned, SubmissionError> {
    let store = ctx.store;
    let config = load_config(store, resolved.locations.cfg_loc.as_deref()).await?;
    let Some(metadata_loc) = resolved.locations.metadata_loc.as_deref() else {
        return Err(SubmissionError::Missing {
            what: "metadata location",
            remedy: format!(
                "\"metadata_loc\" in the payload or job spec, or the SSM parameter \
                 {SSM_METADATA_LOC} below {}",
                ctx.config.ssm_prefix
            ),
        });
    };
    let catalog = load_catalog(
        store,
        metadata_loc,
        &LoadOptions {
            podaac_filename: config.podaac_metadata_filename.clone(),
            skip_invalid: ctx.settings.skip_invalid_metadata,
            ..LoadOptions::default()
        },
    )
    .await?;
    let counts = grouping_counts(&catalog)?;
    let jobs = match &resolved.jobs {
        JobsFrom::Inline(jobs) => {
            check_grouping_ids("manual trigger", jobs, &counts)?;
            jobs.clone()
        }
        JobsFrom::Text { name, text } => {
            let loaded = parse_jobs(name, text, &counts, &ParseOptions::default())?;
            for warning in &loaded.warnings {
                tracing::warn!(jobs = %name, %warning, "job file warning");
            }
            loaded.jobs
        }
    };

    let source_root = root(&resolved.source_root, "source root")?;
    let dest_root = root(&resolved.dest_root, "destination root")?;
    // The source may live in another account: list it with its own credentials.
    let source_store = match &ctx.settings.source_credentials {
        Some(_) => ctx.settings.source_store(ctx.store_config).await,
        None => store.clone(),
    };
    let mut request = PlanRequest::new(jobs, source_root, dest_root);
    request.locations = resolved.locations.clone();
    request.sizing = resolved.sizing;
    request.max_shards = ctx.config.max_shards;
    request.claim_ttl_seconds = ctx.config.claim_ttl_seconds;
    request.dry_run = resolved.dry_run;
    request.force = resolved.force;
    request.trigger = ctx.trigger;
    request.claimed_by = ctx.claimed_by.clone();
    request.replan_changed_inputs = ctx.settings.replan_changed_inputs;

    if let Some(keys) = event_keys {
        let planned =
            plan_event(&source_store, dest_store, &catalog, &config, &request, keys).await?;
        return Ok(Planned {
            outcome: planned.outcome,
            unmapped: planned.unmapped.len() as u64,
            cost: planned.cost,
        });
    }
    let searches = job_searches(&request.jobs, &catalog, &config)
        .map_err(|err| SubmissionError::Plan(Box::new(err.into())))?;
    let (inventory, cost) = Inventory::from_prefixes(
        &source_store,
        &request.source_root,
        &InventoryOptions::for_config(&config),
        &searches,
    )
    .await?;
    let outcome = plan_with_inventory(dest_store, &catalog, &config, &inventory, &request).await?;
    Ok(Planned {
        outcome: Some(outcome),
        unmapped: 0,
        cost,
    })
}

/// Best effort: a claim that cannot be released expires after its TTL.
async fn release_claims(store: &Store, dest_root: &str, outcome: &PlanOutcome) {
    let Ok(dest) = Root::parse(dest_root) else {
        return;
    };
    let layout = Layout::new(dest.location());
    let mut failed = 0usize;
    for task in &outcome.tasks {
        if release_claim(store, &layout, &task_key(task), &outcome.run_id)
            .await
            .is_err()
        {
            failed += 1;
        }
    }
    tracing::warn!(
        run_id = %outcome.run_id,
        released = outcome.tasks.len() - failed,
        failed,
        "submission failed: claims of the run released"
    );
}
