#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The planner handler called with fixture events, on local folders and with a recording
//! Batch submitter: no emulator needed (the same handler runs against moto in
//! `tests/tests/aws_pipeline`).

use std::sync::Mutex;

use edp_cloud::{DeploySettings, LogFormat};
use edp_demo_data::{DemoLayout, DemoSpec};
use edp_plan::state::{Layout, read_run_record};
use edp_planner_lambda::{
    Deps, JobRequest, JobSubmitter, Outcome, PlannerConfig, PlannerError, SubmissionError,
    SubmitError, SubmittedJob, handle,
};
use edp_store::{Location, Store, StoreConfig};
use edp_task_schemas::deploy::{ENV_RUN_ID, ENV_SHARDS_URI};
use serde_json::{Value, json};

/// Records the requests; fails them while `fail` is set.
#[derive(Debug, Default)]
struct Recorder {
    requests: Mutex<Vec<JobRequest>>,
    fail: Mutex<bool>,
}

impl JobSubmitter for Recorder {
    async fn submit(&self, request: &JobRequest) -> Result<SubmittedJob, SubmitError> {
        if *self.fail.lock().unwrap() {
            return Err(SubmitError::Service {
                job_name: request.job_name.clone(),
                job_queue: request.job_queue.clone(),
                job_definition: request.job_definition.clone(),
                detail: "ServerException: injected".to_string(),
            });
        }
        let mut requests = self.requests.lock().unwrap();
        requests.push(request.clone());
        Ok(SubmittedJob {
            job_id: format!("job-{}", requests.len()),
            job_name: request.job_name.clone(),
            job_arn: None,
        })
    }
}

fn deps(demo: &DemoLayout) -> Deps<Recorder, DeploySettings> {
    Deps {
        store: Store::local_only(),
        store_config: StoreConfig::default(),
        submitter: Recorder::default(),
        settings: DeploySettings::default(),
        config: PlannerConfig {
            source_root: Location::local(&demo.source_root).unwrap(),
            dest_root: Location::local(&demo.dest_root).unwrap(),
            ssm_prefix: "/edp/test/".to_string(),
            job_queue: "edp-queue".to_string(),
            job_definition: "edp-worker:1".to_string(),
            shard_target_seconds: 3600.0,
            max_shards: 100,
            claim_ttl_seconds: 3600,
            log_format: LogFormat::Text,
        },
    }
}

fn manual(demo: &DemoLayout, extra: Value) -> Value {
    let mut payload = json!({
        "job_file": demo.jobfile,
        "source_root": demo.source_root,
        "dest_root": demo.dest_root,
        "metadata_loc": demo.metadata_dir,
        "grid_loc": demo.grid_dir,
        "cfg_loc": demo.config_file,
    });
    for (key, value) in extra.as_object().unwrap() {
        payload[key] = value.clone();
    }
    payload
}

#[tokio::test]
async fn a_manual_trigger_plans_and_submits_one_job_with_the_worker_environment() {
    let dir = tempfile::tempdir().unwrap();
    let demo = edp_demo_data::generate(dir.path(), &DemoSpec::small()).unwrap();
    let deps = deps(&demo);
    let expected = demo
        .expected_granules(&demo.dest_root.to_string_lossy())
        .unwrap();

    let response = handle(
        manual(&demo, json!({"shard_count": 2})),
        Some("req-1"),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(response.outcome, Outcome::Submitted, "{response:?}");
    assert_eq!(response.tasks as usize, expected.len());
    assert_eq!(response.shards, 2);
    assert_eq!(response.job_id.as_deref(), Some("job-1"));

    let requests = deps.submitter.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.array_size(), Some(2));
    assert_eq!(request.job_queue, "edp-queue");
    assert_eq!(request.job_definition, "edp-worker:1");
    let run_id = response.run_id.clone().unwrap();
    assert!(
        request
            .environment
            .contains(&(ENV_RUN_ID.to_string(), run_id.clone()))
    );
    assert!(request.environment.contains(&(
        ENV_SHARDS_URI.to_string(),
        response.shards_uri.clone().unwrap()
    )));

    let layout = Layout::new(&deps.config.dest_root);
    let record = read_run_record(&deps.store, &layout, &run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.batch_job_id.as_deref(), Some("job-1"));
    assert_eq!(
        record.batch_job_name.as_deref(),
        Some(request.job_name.as_str())
    );
    assert_eq!(record.task_count as usize, expected.len());

    // The same request again: every granule is held by the live run, nothing is submitted.
    let again = handle(manual(&demo, json!({})), Some("req-2"), &deps)
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::NothingToDo);
    assert_eq!(again.skipped_claimed as usize, expected.len());
    assert_eq!(deps.submitter.requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_dry_run_submits_nothing_and_claims_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let demo = edp_demo_data::generate(dir.path(), &DemoSpec::small()).unwrap();
    let deps = deps(&demo);
    let response = handle(manual(&demo, json!({"dry_run": true})), None, &deps)
        .await
        .unwrap();
    assert_eq!(response.outcome, Outcome::DryRun);
    assert!(response.tasks > 0);
    assert!(deps.submitter.requests.lock().unwrap().is_empty());
    assert!(
        !demo.dest_root.join("_edp").exists(),
        "a dry run writes no run state"
    );
}

#[tokio::test]
async fn a_failed_submission_releases_the_claims_so_that_the_retry_plans_again() {
    let dir = tempfile::tempdir().unwrap();
    let demo = edp_demo_data::generate(dir.path(), &DemoSpec::small()).unwrap();
    let deps = deps(&demo);
    *deps.submitter.fail.lock().unwrap() = true;
    let err = handle(manual(&demo, json!({})), None, &deps)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PlannerError::Submission(SubmissionError::Submit { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("injected"), "{err}");

    *deps.submitter.fail.lock().unwrap() = false;
    let retry = handle(manual(&demo, json!({})), None, &deps).await.unwrap();
    assert_eq!(retry.outcome, Outcome::Submitted);
    assert_eq!(
        retry.skipped_claimed, 0,
        "the failed run left no live claim"
    );
    assert!(retry.tasks > 0);
}

#[tokio::test]
async fn s3_events_without_new_model_output_plan_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let demo = edp_demo_data::generate(dir.path(), &DemoSpec::small()).unwrap();
    let mut deps = deps(&demo);
    deps.config.source_root = Location::parse("s3://model-output/v4r4").unwrap();
    let record = |bucket: &str, key: &str, name: &str| {
        json!({"eventSource": "aws:s3", "eventName": name,
               "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 1}}})
    };
    let event = json!({"Records": [
        record("other-bucket", "v4r4/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data", "ObjectCreated:Put"),
        record("model-output", "v4r4/diags_monthly/STDOUT.0000", "ObjectCreated:Put"),
        record("model-output", "v4r4/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data", "ObjectRemoved:Delete"),
    ]});
    let response = handle(event, None, &deps).await.unwrap();
    assert_eq!(response.outcome, Outcome::Ignored);
    assert_eq!(response.ignored_records, 3);
    assert!(deps.submitter.requests.lock().unwrap().is_empty());

    // An SQS batch holding only the S3 test event.
    let test_event =
        json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "model-output"});
    let sqs = json!({"Records": [{"messageId": "m1", "body": test_event.to_string(),
                                   "eventSource": "aws:sqs"}]});
    let response = handle(sqs, None, &deps).await.unwrap();
    assert_eq!(response.outcome, Outcome::Ignored);
}

#[tokio::test]
async fn s3_triggers_without_the_jobs_setting_name_the_ssm_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let demo = edp_demo_data::generate(dir.path(), &DemoSpec::small()).unwrap();
    let mut deps = deps(&demo);
    deps.config.source_root = Location::parse("s3://model-output/v4r4").unwrap();
    let event = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "model-output"},
               "object": {"key": "v4r4/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data"}}}]});
    let err = handle(event, None, &deps).await.unwrap_err().to_string();
    assert!(
        err.contains("settings/jobs") && err.contains("/edp/test/"),
        "{err}"
    );
}
