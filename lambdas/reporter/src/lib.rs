//! The reporter Lambda: a run's Batch job finished -> reconciled ledger -> run report
//! (`<dest_root>/_edp/runs/<run_id>/report.json`), dataset manifests, the virtual stores of
//! the run's datasets (`edp_virtual`), and one JSON log line with the counts.
//!
//! # Handler contract
//!
//! Input: an EventBridge `Batch Job State Change` event (`source = aws.batch`). Only the
//! final state of the job the planner submitted matters:
//!
//! * `detail.status` must be `SUCCEEDED` or `FAILED`; other statuses are ignored;
//! * array children (`detail.arrayProperties.index`, job ids `parent:N`) are ignored, so a
//!   run of N shards yields one report (the EventBridge rule filters them out too);
//! * the run id is `EDP_RUN_ID` of `detail.container.environment` (the planner sets it in the
//!   container overrides); when the event lacks it the job is described with `DescribeJobs`;
//! * jobs without `EDP_RUN_ID`, and runs that have no `run.json` below `EDP_DEST_ROOT`, are
//!   other people's jobs: logged and ignored.
//!
//! Output: a [`ReporterResponse`] (`reported` with the counts, or `ignored` with the reason).
//!
//! Failures (store or Batch errors) are returned as errors; EventBridge retries the
//! invocation, and writing the report again is harmless (it is rebuilt from the ledger).

pub mod config;
pub mod event;
pub mod jobs;

use edp_cloud::SettingsSource;
use edp_plan::roots::Root;
use edp_plan::state::{
    Layout, StateError, read_run_record, reconcile_run, write_manifests, write_report,
};
use edp_store::{Store, StoreConfig};
use edp_task_schemas::StatusCounts;
use edp_task_schemas::deploy::ENV_RUN_ID;
use serde::Serialize;
use serde_json::Value;

pub use config::ReporterConfig;
pub use event::{EventError, JobStateChange};
pub use jobs::{BatchDescriber, DescribeError, JobDescriber, JobEnvironment};

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum ReporterError {
    /// The event is not a Batch job state change.
    #[error(transparent)]
    Event(#[from] EventError),
    /// DescribeJobs failed.
    #[error(transparent)]
    Describe(#[from] DescribeError),
    /// Reading the ledger or writing the report failed.
    #[error("run {run_id}: {source}")]
    State {
        /// The run.
        run_id: String,
        /// Why.
        #[source]
        source: StateError,
    },
    /// The SSM settings could not be read or used.
    #[error(transparent)]
    Settings(#[from] edp_cloud::SettingsError),
    /// Updating the dataset statuses or the report page failed.
    #[error("run {run_id}: dataset status: {source}")]
    Datasets {
        /// The run.
        run_id: String,
        /// Why.
        #[source]
        source: edp_datasets::DatasetError,
    },
}

impl ReporterError {
    /// A short category for the Lambda error report (`errorType`).
    pub fn error_type(&self) -> &'static str {
        match self {
            ReporterError::Event(_) => "edp.reporter.InvalidEvent",
            ReporterError::Describe(_) => "edp.reporter.DescribeJobs",
            ReporterError::State { .. } => "edp.reporter.RunState",
            ReporterError::Settings(_) => "edp.reporter.Settings",
            ReporterError::Datasets { .. } => "edp.reporter.Datasets",
        }
    }
}

impl From<ReporterError> for lambda_runtime::Diagnostic {
    fn from(err: ReporterError) -> lambda_runtime::Diagnostic {
        lambda_runtime::Diagnostic {
            error_type: err.error_type().to_string(),
            error_message: err.to_string(),
        }
    }
}

/// The reporter's dependencies, built once per Lambda container.
#[derive(Debug)]
pub struct Deps<D, S> {
    /// Store with the default credential chain.
    pub store: Store,
    /// The configuration of `store`: the base of a store signed with
    /// `secrets/destination_credentials`.
    pub store_config: StoreConfig,
    /// DescribeJobs, for events without the container environment.
    pub describer: D,
    /// SSM settings (for `secrets/destination_credentials`).
    pub settings: S,
    /// The environment.
    pub config: ReporterConfig,
}

/// What an invocation did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReporterResponse {
    /// The run report was written.
    Reported {
        /// The run.
        run_id: String,
        /// The Batch job.
        job_id: String,
        /// Its final status.
        job_status: String,
        /// Where the report is.
        report_uri: String,
        /// Tasks per status.
        counts: StatusCounts,
        /// True when every task reached a final status.
        complete: bool,
        /// Manifests updated.
        manifests: usize,
        /// Virtual stores updated (kerchunk references of the run's datasets).
        virtual_stores: usize,
    },
    /// The event is not about a finished edp run.
    Ignored {
        /// The job, when the event named one.
        job_id: Option<String>,
        /// Why it was ignored.
        reason: String,
    },
}

/// Handles one invocation (see the [crate documentation](crate) for the contract).
pub async fn handle<D: JobDescriber, S: SettingsSource>(
    event: Value,
    deps: &Deps<D, S>,
) -> Result<ReporterResponse, ReporterError> {
    let change = JobStateChange::parse(event)?;
    if let Some(reason) = change.ignore_reason() {
        tracing::info!(job_id = change.job_id.as_deref(), status = change.status.as_deref(),
            %reason, "job state change ignored");
        return Ok(ReporterResponse::Ignored {
            job_id: change.job_id.clone(),
            reason,
        });
    }
    // ignore_reason() is None only with a job id and a final status.
    let job_id = change.job_id.clone().unwrap_or_default();
    let status = change.status.clone().unwrap_or_default();

    let run_id = match change.environment_value(ENV_RUN_ID) {
        Some(run_id) => Some(run_id.to_string()),
        None => deps
            .describer
            .environment(&job_id)
            .await?
            .and_then(|env| env.get(ENV_RUN_ID).map(str::to_string)),
    };
    let Some(run_id) = run_id else {
        return Ok(ignored(
            &job_id,
            format!("job has no {ENV_RUN_ID}: not an edp run"),
        ));
    };

    let settings = deps.settings.load_settings(&deps.config.ssm_prefix).await?;
    let store = match &settings.destination_credentials {
        Some(_) => settings.destination_store(&deps.store_config).await,
        None => deps.store.clone(),
    };
    let dest = &deps.config.dest_root;
    let layout = Layout::new(dest);
    let state_error = |source| ReporterError::State {
        run_id: run_id.clone(),
        source,
    };
    let Some(run) = read_run_record(&store, &layout, &run_id)
        .await
        .map_err(state_error)?
    else {
        return Ok(ignored(
            &job_id,
            format!(
                "run {run_id} has no run record at {}: not a run of this deployment",
                layout.run_record(&run_id)
            ),
        ));
    };
    if let Some(recorded) = &run.batch_job_id
        && *recorded != job_id
    {
        // A run resubmitted by hand: the ledger is still the truth, report it.
        tracing::warn!(%run_id, %job_id, recorded_job_id = %recorded,
            "job is not the one recorded in run.json; reporting the run anyway");
    }

    let mut report = reconcile_run(&store, dest, &run_id)
        .await
        .map_err(state_error)?;
    report.batch_job_id = Some(job_id.clone());
    let dest_root = Root::parse(&run.dest_root)
        .unwrap_or_else(|_| Root::with_written(dest.clone(), dest.to_string()));
    (report.virtual_stores, report.icechunk_repositories) = update_virtual_stores(
        &store,
        &dest_root,
        &run_id,
        settings.virtual_https_base.clone(),
    )
    .await;
    let report_location = write_report(&store, &layout, &report)
        .await
        .map_err(state_error)?;
    let manifests = write_manifests(&store, &dest_root, &run_id)
        .await
        .map_err(state_error)?;

    let datasets = edp_datasets::after_run(&store, &dest_root, &run_id, "reporter")
        .await
        .map_err(|source| ReporterError::Datasets {
            run_id: run_id.clone(),
            source,
        })?;

    let counts = report.counts;
    tracing::info!(
        %run_id,
        %job_id,
        job_status = %status,
        complete = report.complete,
        tasks = counts.total(),
        done = counts.done,
        failed = counts.failed,
        skipped = counts.skipped,
        planned = counts.planned,
        running = counts.running,
        seconds = report.seconds,
        bytes = report.output_bytes,
        manifests = manifests.written.len(),
        datasets = datasets.update.datasets.len(),
        virtual_stores = report.virtual_stores.len(),
        report = %report_location,
        "run report written"
    );
    Ok(ReporterResponse::Reported {
        run_id,
        job_id,
        job_status: status,
        report_uri: report_location.to_string(),
        counts,
        complete: report.complete,
        manifests: manifests.written.len(),
        virtual_stores: report.virtual_stores.len(),
    })
}

/// Merges the run's done granules into the virtual stores of their datasets (`edp_virtual`)
/// and returns their reference files and Icechunk repositories. A failure is logged, not
/// returned: the granules and the report stand, `edp virtual` repairs the stores, and
/// EventBridge retrying the whole invocation would not fix e.g. a granule whose chunking
/// differs from its dataset's.
async fn update_virtual_stores(
    store: &Store,
    dest: &Root,
    run_id: &str,
    https_base: Option<String>,
) -> (Vec<String>, Vec<String>) {
    let options = edp_virtual::UpdateOptions {
        https_base,
        ..edp_virtual::UpdateOptions::default()
    };
    match edp_virtual::update(store, dest, edp_virtual::Scope::Run(run_id), &options).await {
        Ok(report) => (report.stores(), report.repositories()),
        Err(err) => {
            tracing::error!(%run_id, error = %err, "virtual stores not updated");
            (Vec::new(), Vec::new())
        }
    }
}

fn ignored(job_id: &str, reason: String) -> ReporterResponse {
    tracing::info!(%job_id, %reason, "job state change ignored");
    ReporterResponse::Ignored {
        job_id: Some(job_id.to_string()),
        reason,
    }
}
