//! The planner Lambda: new model output (S3 -> SQS), a schedule or a manual payload ->
//! claimed, sharded task lists -> one AWS Batch array job.
//!
//! [`handle`] is a plain async function over its dependencies ([`Deps`]: store, Batch
//! submitter, settings source, configuration), called by `main.rs` for each invocation and
//! by tests with fixture events. [`plan_and_submit`] (in the cloud library, `edp_cloud`) is
//! the code path shared with `edp submit`; it is re-exported here with its types.
//!
//! # Handler contract
//!
//! Input (raw JSON, classified by [`PlannerEvent::parse`]):
//!
//! | event | jobs from | trigger |
//! |---|---|---|
//! | SQS batch of S3 `ObjectCreated` notifications (production) | SSM `settings/jobs` | `s3_event` |
//! | direct S3 notification | SSM `settings/jobs` | `s3_event` |
//! | EventBridge `Scheduled Event` | SSM `settings/jobs` | `schedule` |
//! | [`ManualTrigger`](edp_task_schemas::ManualTrigger) payload | payload, job file, or SSM | `manual` |
//!
//! S3 records of other buckets, keys outside `EDP_SOURCE_ROOT`, files other than `.data` /
//! `.meta`, and non-`ObjectCreated` events are ignored with a log line; an S3/SQS event with
//! no remaining record plans nothing (outcome `ignored`). The remaining keys scope the plan
//! ([`plan_and_submit_event`]): only the granules they may complete are checked, with
//! requests that grow with the event, not with the archive; a key no job reads is logged
//! and counted in `unmapped_keys`, and when no key is left nothing is read (`ignored`). The `s3:TestEvent` message S3 sends
//! when notifications are configured is ignored the same way. An SQS batch is planned as one
//! run, however many messages it holds: the batching window exists to coalesce the thousands
//! of notifications of one model run.
//!
//! The SSM settings are read on every invocation (one `GetParametersByPath`), so a changed
//! `settings/jobs` takes effect without a redeployment.
//!
//! Output: a [`PlannerResponse`] (`outcome`, `run_id`, `job_id`, `tasks`, `shards` ...), also
//! logged as one JSON line.
//!
//! Failures: the handler returns an error and **the whole SQS batch fails** (no partial-batch
//! response; the event source mapping is not configured with `ReportBatchItemFailures`).
//! That is the right granularity: the batch is planned as one unit, and a retry is safe
//! because done granules are skipped and granules claimed by a live run are not planned
//! again, so the redelivered batch plans exactly what is still missing. Messages that can
//! never succeed (not JSON, not an S3 notification) are logged and dropped instead of
//! failing the batch, so they cannot poison it until it reaches the dead-letter queue.

pub mod event;

use edp_cloud::SettingsSource;
use edp_store::{Location, Store, StoreConfig};
use edp_task_schemas::{ManualTrigger, RunTrigger};
use serde_json::Value;

pub use edp_cloud::config::PlannerConfig;
pub use edp_cloud::submission::{
    Outcome, PlannerResponse, SubmissionError, SubmitContext, plan_and_submit,
    plan_and_submit_event,
};
pub use edp_cloud::submit::{BatchSubmitter, JobRequest, JobSubmitter, SubmitError, SubmittedJob};
pub use edp_cloud::{config, submission, submit};
pub use event::{EventError, MessageBody, PlannerEvent, S3Record, relevance};

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum PlannerError {
    /// The event is not one the planner understands.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The SSM settings could not be read.
    #[error(transparent)]
    Settings(#[from] edp_cloud::SettingsError),
    /// Planning or submission failed.
    #[error(transparent)]
    Submission(#[from] SubmissionError),
}

impl PlannerError {
    /// A short category for the Lambda error report (`errorType`).
    pub fn error_type(&self) -> &'static str {
        match self {
            PlannerError::Event(_) => "edp.planner.InvalidEvent",
            PlannerError::Settings(_) => "edp.planner.Settings",
            PlannerError::Submission(_) => "edp.planner.Submission",
        }
    }
}

impl From<PlannerError> for lambda_runtime::Diagnostic {
    fn from(err: PlannerError) -> lambda_runtime::Diagnostic {
        lambda_runtime::Diagnostic {
            error_type: err.error_type().to_string(),
            error_message: err.to_string(),
        }
    }
}

/// The planner's dependencies, built once per Lambda container (or per `edp submit`).
#[derive(Debug)]
pub struct Deps<J, S> {
    /// Store with the default credential chain.
    pub store: Store,
    /// The configuration of `store` (endpoint, retries, timeouts): the base of stores signed
    /// with credentials from the settings.
    pub store_config: StoreConfig,
    /// Where Batch jobs go ([`BatchSubmitter`] in production).
    pub submitter: J,
    /// Where the SSM settings come from ([`edp_cloud::SsmSettings`] in production).
    pub settings: S,
    /// The environment.
    pub config: PlannerConfig,
}

/// Handles one invocation (see the [crate documentation](crate) for the contract).
/// `request_id` (the Lambda request id) is written into the claims of the run.
pub async fn handle<J: JobSubmitter, S: SettingsSource>(
    event: Value,
    request_id: Option<&str>,
    deps: &Deps<J, S>,
) -> Result<PlannerResponse, PlannerError> {
    let event = PlannerEvent::parse(event)?;
    let (trigger, run_trigger, new_objects, ignored) = match &event {
        PlannerEvent::Manual(trigger) => ((**trigger).clone(), RunTrigger::Manual, 0, 0),
        PlannerEvent::Schedule => (ManualTrigger::default(), RunTrigger::Schedule, 0, 0),
        PlannerEvent::Sqs(_) | PlannerEvent::S3(_) => {
            let (new_objects, ignored) = screen(&event, deps);
            if new_objects == 0 {
                tracing::info!(
                    ignored_records = ignored,
                    "no new model output below the source root: nothing to plan"
                );
                return Ok(PlannerResponse::ignored(ignored));
            }
            (
                ManualTrigger::default(),
                RunTrigger::S3Event,
                new_objects,
                ignored,
            )
        }
    };

    let settings = deps.settings.load_settings(&deps.config.ssm_prefix).await?;
    // The objects an S3/SQS event announced: the plan is scoped to the granules they may
    // complete (manual and scheduled plans look at the whole source).
    let event_keys: Option<Vec<Location>> = match &event {
        PlannerEvent::Sqs(_) | PlannerEvent::S3(_) => Some(
            event
                .s3_records()
                .into_iter()
                .filter(|record| relevance(record, &deps.config.source_root).is_ok())
                .map(S3Record::location)
                .collect(),
        ),
        PlannerEvent::Manual(_) | PlannerEvent::Schedule => None,
    };
    let ctx = SubmitContext {
        store: &deps.store,
        store_config: &deps.store_config,
        submitter: &deps.submitter,
        config: &deps.config,
        settings: &settings,
        trigger: run_trigger,
        claimed_by: request_id.map(|id| format!("planner lambda request {id}")),
    };
    let mut response = match &event_keys {
        Some(keys) => plan_and_submit_event(keys, &ctx).await?,
        None => plan_and_submit(&trigger, &ctx).await?,
    };
    response.new_objects = new_objects;
    response.ignored_records += ignored;
    log_response(&response, run_trigger);
    Ok(response)
}

/// Counts the S3 records that announce new model output and logs the others.
fn screen<J, S>(event: &PlannerEvent, deps: &Deps<J, S>) -> (u64, u64) {
    if let PlannerEvent::Sqs(messages) = event {
        for message in messages {
            match &message.body {
                MessageBody::TestEvent => {
                    tracing::info!(message_id = %message.message_id, "s3:TestEvent ignored");
                }
                MessageBody::Unrecognised(why) => {
                    tracing::warn!(message_id = %message.message_id, reason = %why,
                        "SQS message is not an S3 notification: dropped");
                }
                MessageBody::Records(_) => {}
            }
        }
    }
    let mut relevant = 0u64;
    let mut ignored = 0u64;
    for record in event.s3_records() {
        match relevance(record, &deps.config.source_root) {
            Ok(()) => relevant += 1,
            Err(reason) => {
                ignored += 1;
                tracing::info!(
                    bucket = %record.bucket,
                    key = %record.key,
                    event_name = %record.event_name,
                    %reason,
                    "S3 record ignored"
                );
            }
        }
    }
    (relevant, ignored)
}

fn log_response(response: &PlannerResponse, trigger: RunTrigger) {
    tracing::info!(
        trigger = ?trigger,
        outcome = ?response.outcome,
        run_id = response.run_id.as_deref(),
        job_id = response.job_id.as_deref(),
        tasks = response.tasks,
        shards = response.shards,
        skipped_done = response.skipped_done,
        skipped_claimed = response.skipped_claimed,
        incomplete = response.incomplete,
        new_objects = response.new_objects,
        ignored_records = response.ignored_records,
        unmapped_keys = response.unmapped_keys,
        changed_inputs = response.changed_inputs,
        source_requests = response.source_requests,
        estimated_core_seconds = response.estimated_core_seconds,
        shards_uri = response.shards_uri.as_deref(),
        "planner finished"
    );
}
