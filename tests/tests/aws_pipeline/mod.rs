#![allow(clippy::unwrap_used, clippy::expect_used)]

//! End-to-end tests of the cloud pipeline against a local AWS emulator (moto):
//!
//! new model output in S3 -> ObjectCreated notifications moto itself sends to SQS -> the
//! planner handler (fed the SQS messages as the Lambda service would) -> claims, shards and
//! one Batch array job in moto -> the real `edp-batch-worker` binary once per array index,
//! with the job's environment -> granules, ledger and done markers in S3 -> the reporter
//! handler fed a Batch "Job State Change" event -> the run report.
//!
//! Expected granules are computed by the demo dataset from the naming rules, independently of
//! the planner. Each test starts its own emulator and skips (printing why) when moto is not
//! installed.

mod cloud;
mod datasets;
mod proxy;
mod worker;

use std::collections::BTreeSet;

use edp_plan::state::{Layout, read_ledger, read_report, read_run_record, read_scratch_tasks};
use edp_planner_lambda::{Outcome, PlannerResponse};
use edp_reporter_lambda::ReporterResponse;
use edp_task_schemas::{ErrorKind, TaskStatus};
use serde_json::{Value, json};

use self::cloud::{
    Cloud, DEST_BUCKET, SOURCE_ACCESS_KEY_ID, SOURCE_BUCKET, SOURCE_SECRET, demo, dest_root,
};
use self::proxy::Proxy;
use self::worker::{WorkerRun, aws_command, edp_exe, run_worker};

/// Model time step of the second month of the demo (February 1992).
const FEBRUARY: u64 = 1428;

/// The granules the demo's job file asks for whose period matches `keep`.
fn expected(demo: &edp_demo_data::DemoLayout, keep: impl Fn(&str) -> bool) -> BTreeSet<String> {
    demo.expected_granules(&dest_root().to_string())
        .unwrap()
        .into_iter()
        .filter(|g| keep(g))
        .collect()
}

fn is_february(granule: &str) -> bool {
    granule.contains("_1992-02_")
}

/// The granules of a run's task list (`_edp/scratch/<run>/tasks.json`).
async fn planned_granules(cloud: &Cloud, run_id: &str) -> BTreeSet<String> {
    let layout = Layout::new(&dest_root());
    read_scratch_tasks(&cloud.store, &layout, run_id)
        .await
        .unwrap()
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.granule)
        .collect()
}

/// `name=value` pairs of a job's container environment, as DescribeJobs reports it.
fn job_environment(job: &aws_sdk_batch::types::JobDetail) -> Vec<(String, String)> {
    job.container
        .as_ref()
        .and_then(|c| c.environment.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|kv| Some((kv.name?, kv.value.unwrap_or_default())))
        .collect()
}

fn env_value<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The EventBridge event Batch sends when the job reaches `status`; `with_environment` as in
/// real events, without it to make the reporter describe the job.
fn job_state_change(
    job: &aws_sdk_batch::types::JobDetail,
    status: &str,
    with_environment: bool,
) -> Value {
    let job_id = job.job_id.clone().unwrap();
    let mut detail = json!({
        "jobArn": job.job_arn, "jobName": job.job_name, "jobId": job_id,
        "jobQueue": job.job_queue, "status": status, "attempts": [],
        "createdAt": job.created_at, "dependsOn": [], "jobDefinition": job.job_definition,
        "parameters": {}, "tags": {}, "propagateTags": true,
        "platformCapabilities": ["FARGATE"],
    });
    if let Some(size) = job.array_properties.as_ref().and_then(|a| a.size) {
        detail["arrayProperties"] = json!({"size": size, "statusSummary": {status: size}});
    }
    if with_environment {
        let environment: Vec<Value> = job_environment(job)
            .into_iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        detail["container"] = json!({"image": "edp-batch-worker:e2e", "environment": environment});
    }
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Batch Job State Change", "source": "aws.batch",
        "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
        "resources": [job.job_arn], "detail": detail,
    })
}

/// Asserts that no log or metric line of a worker shows the source credentials.
fn assert_no_secret(run: &WorkerRun) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.contains(SOURCE_SECRET),
            "the secret key appears on {stream}:\n{text}"
        );
        assert!(
            !text.contains(SOURCE_ACCESS_KEY_ID),
            "the access key id appears on {stream}:\n{text}"
        );
    }
}

/// Runs the workers of a submitted run (one per array index, or one plain job) through
/// `endpoint` and returns their runs.
fn run_job(
    job: &aws_sdk_batch::types::JobDetail,
    endpoint: &str,
    cache: &std::path::Path,
) -> Vec<WorkerRun> {
    let env = job_environment(job);
    match job.array_properties.as_ref().and_then(|a| a.size) {
        Some(size) => (0..size as u32)
            .map(|index| run_worker(&env, Some(index), endpoint, cache))
            .collect(),
        None => vec![run_worker(&env, None, endpoint, cache)],
    }
}

async fn the_job(cloud: &Cloud, response: &PlannerResponse) -> aws_sdk_batch::types::JobDetail {
    let job_id = response
        .job_id
        .clone()
        .expect("a submitted run has a job id");
    cloud.describe_jobs(&[job_id]).await.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_output_flows_from_s3_notifications_to_granules_and_a_run_report() {
    let Some(cloud) = Cloud::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let demo = demo(&dir.path().join("demo"));
    cloud.publish_settings(&demo).await;

    // January (and the day) of model output; February arrives later.
    let uploaded = cloud
        .upload_model_output(&demo, |i| i.step != FEBRUARY)
        .await;
    let (event, messages) = cloud.drain_queue_as_lambda_event().await;
    // Besides one ObjectCreated notification per object, moto (like S3) sent the
    // s3:TestEvent of the new notification configuration: the planner must ignore it.
    let bodies: Vec<String> = event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"].as_str().unwrap().to_string())
        .collect();
    let test_events = bodies.iter().filter(|b| b.contains("s3:TestEvent")).count();
    assert_eq!(test_events, 1);
    assert_eq!(
        messages,
        uploaded + test_events,
        "one notification per uploaded object"
    );
    // Keys arrive form-encoded (`ecco+run%2Fdiags_monthly%2F...` from moto; S3 keeps the
    // slashes): the planner must decode them to see that they are below the source root.
    assert!(
        bodies.iter().any(|b| b.contains("\"key\": \"ecco+run")),
        "{}",
        bodies[1]
    );

    let deps = cloud.planner_deps(3);
    let response = edp_planner_lambda::handle(event.clone(), Some("req-1"), &deps)
        .await
        .unwrap();
    let january = expected(&demo, |g| !is_february(g));
    assert_eq!(response.outcome, Outcome::Submitted, "{response:?}");
    assert_eq!(response.new_objects as usize, uploaded);
    let run_id = response.run_id.clone().unwrap();
    assert_eq!(planned_granules(&cloud, &run_id).await, january);
    assert_eq!(response.tasks as usize, january.len());
    assert_eq!(
        response.shards, 3,
        "one shard per task, capped by EDP_MAX_SHARDS=3"
    );

    // The shards are in S3 ...
    let shards_uri = response.shards_uri.clone().unwrap();
    let shard_files: Vec<String> = cloud
        .store
        .list(&edp_store::Location::parse(&shards_uri).unwrap())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|o| o.location.file_name().map(str::to_string))
        .collect();
    assert_eq!(
        shard_files,
        ["shard-00000.json", "shard-00001.json", "shard-00002.json"]
    );

    // ... and one array job of that size is in Batch, with the worker's environment.
    let jobs = cloud.submitted_jobs().await;
    assert_eq!(jobs.len(), 1, "exactly one job submitted");
    let job = &jobs[0];
    assert_eq!(job.job_id, response.job_id);
    assert_eq!(job.array_properties.as_ref().and_then(|a| a.size), Some(3));
    let env = job_environment(job);
    assert_eq!(env_value(&env, "EDP_RUN_ID"), Some(run_id.as_str()));
    assert_eq!(env_value(&env, "EDP_SHARDS_URI"), Some(shards_uri.as_str()));
    assert_eq!(
        env_value(&env, "EDP_SSM_PREFIX"),
        Some(cloud::SSM_PREFIX),
        "from the job definition"
    );
    let layout = Layout::new(&dest_root());
    let record = read_run_record(&cloud.store, &layout, &run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.batch_job_id, response.job_id,
        "run.json records the job id"
    );
    assert_eq!(record.shard_count, 3);

    // The worker binary, once per array index, through a proxy that records signatures.
    let proxy = Proxy::start(cloud.moto.port(), Vec::new()).await;
    let cache = dir.path().join("cache");
    let runs = run_job(job, &proxy.endpoint(), &cache);
    for run in &runs {
        assert_eq!(run.code, 0, "worker failed:\n{}", run.stderr);
        assert_no_secret(run);
    }
    // Granule log lines carry the documented fields; EMF metric lines are on stdout.
    let lines: Vec<Value> = runs.iter().flat_map(WorkerRun::json_lines).collect();
    let granule_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "granule done")
        .collect();
    assert_eq!(granule_lines.len(), january.len());
    for line in &granule_lines {
        for field in ["run_id", "task_id", "granule", "seconds", "bytes"] {
            assert!(line.get(field).is_some(), "{field} missing in {line}");
        }
        assert_eq!(line["run_id"], run_id.as_str());
    }
    let emf = runs
        .iter()
        .flat_map(|r| r.stdout.lines())
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l.get("_aws").is_some())
        .count();
    assert_eq!(emf, january.len(), "one EMF line per granule on stdout");
    // The model output was read with the credentials of the SSM SecureString.
    let source_requests: Vec<_> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.path.starts_with(&format!("/{SOURCE_BUCKET}/")))
        .collect();
    assert!(
        !source_requests.is_empty(),
        "the workers read no model output through the proxy"
    );
    for request in &source_requests {
        assert_eq!(
            request.access_key_id.as_deref(),
            Some(SOURCE_ACCESS_KEY_ID),
            "{request:?}"
        );
    }
    // Everything else (shards, granule uploads, ledger, done markers, grid and metadata) is
    // signed with the task role's credentials, never with the source keys.
    let product_writes: Vec<_> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.path.starts_with(&format!("/{DEST_BUCKET}/")))
        .filter(|s| matches!(s.method.as_str(), "PUT" | "POST"))
        .collect();
    assert!(
        !product_writes.is_empty(),
        "the workers wrote no products through the proxy"
    );
    for request in proxy
        .seen()
        .iter()
        .filter(|s| !s.path.starts_with(&format!("/{SOURCE_BUCKET}/")))
    {
        assert_eq!(
            request.access_key_id.as_deref(),
            Some(edp_testkit::moto::MOTO_ACCESS_KEY_ID),
            "{request:?}"
        );
    }

    // Every granule is in S3 and the ledger says done.
    for granule in &january {
        let location = edp_store::Location::parse(granule).unwrap();
        assert!(
            cloud.store.exists(&location).await.unwrap(),
            "{granule} missing"
        );
    }
    let ledger = read_ledger(&cloud.store, &layout, &run_id).await.unwrap();
    assert_eq!(ledger.len(), january.len());
    assert!(
        ledger.iter().all(|r| r.status == TaskStatus::Done),
        "{ledger:?}"
    );

    // The reporter: children and unfinished states are ignored; the parent's final state
    // writes the report (also when the event lacks the environment: DescribeJobs).
    let reporter = cloud.reporter_deps();
    let mut child = job_state_change(job, "SUCCEEDED", true);
    child["detail"]["jobId"] = json!(format!("{}:1", job.job_id.clone().unwrap()));
    child["detail"]["arrayProperties"] = json!({"index": 1});
    let ignored = edp_reporter_lambda::handle(child, &reporter).await.unwrap();
    assert!(
        matches!(ignored, ReporterResponse::Ignored { .. }),
        "{ignored:?}"
    );
    let running = job_state_change(job, "RUNNING", true);
    let ignored = edp_reporter_lambda::handle(running, &reporter)
        .await
        .unwrap();
    assert!(
        matches!(ignored, ReporterResponse::Ignored { .. }),
        "{ignored:?}"
    );
    assert!(
        read_report(&cloud.store, &layout, &run_id)
            .await
            .unwrap()
            .is_none()
    );

    for with_environment in [false, true] {
        let event = job_state_change(job, "SUCCEEDED", with_environment);
        let reported = edp_reporter_lambda::handle(event, &reporter).await.unwrap();
        let ReporterResponse::Reported {
            run_id: reported_run,
            counts,
            complete,
            ..
        } = reported
        else {
            panic!("expected a report, got {reported:?}");
        };
        assert_eq!(reported_run, run_id);
        assert!(complete);
        assert_eq!(counts.done as usize, january.len());
        assert_eq!(counts.failed + counts.planned + counts.running, 0);
    }
    let report = read_report(&cloud.store, &layout, &run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.counts.done as usize, january.len());
    assert!(report.complete && report.failures.is_empty());
    assert_eq!(report.batch_job_id, response.job_id);
    assert!(report.output_bytes > 0);

    // The reporter updated the run's virtual stores, with https references below the base
    // of `settings/virtual_https_base` beside the s3 ones.
    assert!(!report.virtual_stores.is_empty(), "{report:?}");
    for refs in &report.virtual_stores {
        let https = refs.replace("/refs.json", "/refs.https.json");
        assert_ne!(&https, refs);
        for (location, scheme) in [
            (refs.as_str(), "s3://"),
            (https.as_str(), cloud::HTTPS_BASE),
        ] {
            let bytes = cloud
                .store
                .get(&edp_store::Location::parse(location).unwrap())
                .await
                .unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(text.contains(&format!("[\"{scheme}")), "{location}: {text}");
        }
    }
    // ... and committed the Icechunk repository of each of those datasets on S3 (through the
    // reporter's own S3 settings: the emulator's endpoint and credentials).
    assert_eq!(
        report.icechunk_repositories.len(),
        report.virtual_stores.len(),
        "{report:?}"
    );
    for repo in &report.icechunk_repositories {
        let objects = cloud
            .store
            .list(&edp_store::Location::parse(repo).unwrap())
            .await
            .unwrap();
        let names: Vec<String> = objects.iter().map(|o| o.location.to_string()).collect();
        assert!(
            names.iter().any(|n| n.ends_with("/config.yaml")),
            "{repo}: {names:?}"
        );
        let snapshots = names.iter().filter(|n| n.contains("/snapshots/")).count();
        assert!(snapshots >= 2, "creation and one commit: {names:?}");
    }

    // Redelivering the same SQS batch plans nothing and submits nothing.
    let again = edp_planner_lambda::handle(event, Some("req-2"), &deps)
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::NothingToDo, "{again:?}");
    assert_eq!(again.tasks, 0);
    assert_eq!(again.skipped_done as usize, january.len());
    assert_eq!(cloud.submitted_jobs().await.len(), 1);

    // A new month of output plans only the new granules.
    let uploaded = cloud
        .upload_model_output(&demo, |i| i.step == FEBRUARY)
        .await;
    let (event, messages) = cloud.drain_queue_as_lambda_event().await;
    assert_eq!(messages, uploaded);
    let february = expected(&demo, is_february);
    let response = edp_planner_lambda::handle(event, Some("req-3"), &deps)
        .await
        .unwrap();
    assert_eq!(response.outcome, Outcome::Submitted, "{response:?}");
    let run_id = response.run_id.clone().unwrap();
    assert_eq!(planned_granules(&cloud, &run_id).await, february);
    // Event-scoped planning looks only at the granules the event's keys may complete: the
    // finished January granules are not even read, so none is counted as skipped.
    assert_eq!(response.skipped_done, 0, "{response:?}");
    assert_eq!(cloud.submitted_jobs().await.len(), 2);
    let job = the_job(&cloud, &response).await;
    for run in run_job(&job, &cloud.moto.endpoint(), &cache) {
        assert_eq!(run.code, 0, "worker failed:\n{}", run.stderr);
        assert_no_secret(&run);
    }
    for granule in &february {
        let location = edp_store::Location::parse(granule).unwrap();
        assert!(
            cloud.store.exists(&location).await.unwrap(),
            "{granule} missing"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_planners_never_plan_a_granule_twice() {
    let Some(cloud) = Cloud::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let demo = demo(&dir.path().join("demo"));
    cloud.publish_settings(&demo).await;
    cloud.upload_model_output(&demo, |_| true).await;
    let (event, _) = cloud.drain_queue_as_lambda_event().await;

    let deps = cloud.planner_deps(10);
    let (first, second) = tokio::join!(
        edp_planner_lambda::handle(event.clone(), Some("req-a"), &deps),
        edp_planner_lambda::handle(event.clone(), Some("req-b"), &deps),
    );
    let responses = [first.unwrap(), second.unwrap()];
    let all = expected(&demo, |_| true);
    let mut union = BTreeSet::new();
    let mut planned_total = 0;
    for response in &responses {
        // Each planner saw every granule: planned by itself or held by the other.
        assert_eq!(
            (response.tasks + response.skipped_claimed) as usize,
            all.len(),
            "{response:?}"
        );
        if response.outcome == Outcome::Submitted {
            let granules = planned_granules(&cloud, response.run_id.as_deref().unwrap()).await;
            planned_total += granules.len();
            union.extend(granules);
        } else {
            assert_eq!(response.outcome, Outcome::NothingToDo, "{response:?}");
        }
    }
    assert_eq!(union, all, "together the planners planned every granule");
    assert_eq!(planned_total, all.len(), "and none twice");
    let submitted = responses
        .iter()
        .filter(|r| r.outcome == Outcome::Submitted)
        .count();
    assert_eq!(cloud.submitted_jobs().await.len(), submitted);

    // A third, late delivery finds everything claimed by live runs.
    let late = edp_planner_lambda::handle(event, Some("req-c"), &deps)
        .await
        .unwrap();
    assert_eq!(late.outcome, Outcome::NothingToDo);
    assert_eq!(late.skipped_claimed as usize, all.len());
}

/// A manual single-shard run (a plain Batch job, no array) over model output in which one
/// `.data` file is truncated: that granule fails permanently, the others are produced, and
/// the worker exits with 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_input_fails_its_granule_permanently_with_exit_code_3() {
    let Some(cloud) = Cloud::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let demo = demo(&dir.path().join("demo"));
    cloud.publish_settings(&demo).await;
    cloud.upload_model_output(&demo, |_| true).await;
    // SSH of January, cut to half its size.
    let bad = demo
        .inputs
        .iter()
        .find(|i| i.variable == "SSH" && i.step == 732)
        .unwrap();
    let bytes = std::fs::read(&bad.data).unwrap();
    let key = bad
        .data
        .strip_prefix(&demo.source_root)
        .unwrap()
        .to_string_lossy()
        .to_string();
    cloud
        .store
        .put(
            &cloud::source_root().join(&key),
            bytes[..bytes.len() / 2].to_vec(),
        )
        .await
        .unwrap();
    let bad_granule = expected(&demo, |g| {
        g.contains("/SEA_SURFACE_HEIGHT/") && g.contains("mon_mean_1992-01_")
    });
    assert_eq!(bad_granule.len(), 1);
    let bad_granule = bad_granule.into_iter().next().unwrap();

    let deps = cloud.planner_deps(1);
    let response = edp_planner_lambda::handle(json!({}), None, &deps)
        .await
        .unwrap();
    assert_eq!(response.outcome, Outcome::Submitted);
    assert_eq!(response.shards, 1);
    let job = the_job(&cloud, &response).await;
    assert!(
        job.array_properties.as_ref().and_then(|a| a.size).is_none(),
        "a plain job"
    );

    let runs = run_job(&job, &cloud.moto.endpoint(), &dir.path().join("cache"));
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0].code, 3,
        "expected exit 3 (permanent):\n{}",
        runs[0].stderr
    );
    assert_no_secret(&runs[0]);

    let reporter = cloud.reporter_deps();
    let reported = edp_reporter_lambda::handle(job_state_change(&job, "FAILED", true), &reporter)
        .await
        .unwrap();
    assert!(
        matches!(reported, ReporterResponse::Reported { .. }),
        "{reported:?}"
    );
    let layout = Layout::new(&dest_root());
    let report = read_report(&cloud.store, &layout, response.run_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.counts.failed, 1);
    assert_eq!(
        report.counts.done as usize,
        expected(&demo, |_| true).len() - 1
    );
    assert_eq!(report.failures[0].granule, bad_granule);
    assert_eq!(report.failures[0].error.kind, ErrorKind::Permanent);
}

/// S3 throttling on the model output (a proxy answering 503 SlowDown) fails the granules
/// transiently: the worker exits with 4 so that Batch retries the shard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_model_output_reads_exit_with_code_4() {
    let Some(cloud) = Cloud::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let demo = demo(&dir.path().join("demo"));
    cloud.publish_settings(&demo).await;
    cloud.upload_model_output(&demo, |_| true).await;
    let deps = cloud.planner_deps(1);
    let response = edp_planner_lambda::handle(json!({"shard_count": 1}), None, &deps)
        .await
        .unwrap();
    assert_eq!(response.outcome, Outcome::Submitted);
    let job = the_job(&cloud, &response).await;

    let proxy = Proxy::start(
        cloud.moto.port(),
        vec![format!("/{SOURCE_BUCKET}/"), ".data".to_string()],
    )
    .await;
    let runs = run_job(&job, &proxy.endpoint(), &dir.path().join("cache"));
    assert_eq!(
        runs[0].code, 4,
        "expected exit 4 (retryable):\n{}",
        runs[0].stderr
    );
    assert_no_secret(&runs[0]);
    let throttled: Vec<_> = proxy.seen().into_iter().filter(|s| s.throttled).collect();
    assert!(
        !throttled.is_empty(),
        "no request reached the throttled keys"
    );
    for request in &throttled {
        // Reads only (the worker never writes model output), signed with the SSM credentials.
        assert!(
            matches!(request.method.as_str(), "GET" | "HEAD"),
            "{request:?}"
        );
        assert_eq!(
            request.access_key_id.as_deref(),
            Some(SOURCE_ACCESS_KEY_ID),
            "{request:?}"
        );
    }

    let layout = Layout::new(&dest_root());
    let ledger = read_ledger(&cloud.store, &layout, response.run_id.as_deref().unwrap())
        .await
        .unwrap();
    assert!(!ledger.is_empty());
    for record in &ledger {
        assert_eq!(record.status, TaskStatus::Failed, "{record:?}");
        assert_eq!(
            record.error.as_ref().map(|e| e.kind),
            Some(ErrorKind::Retryable)
        );
    }
}

/// `edp submit` from a terminal takes the planner Lambda's code path: same plan, same Batch
/// job shape and environment, same run record; it prints the run id and the job id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edp_submit_plans_and_submits_like_the_lambda() {
    let Some(cloud) = Cloud::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let demo = demo(&dir.path().join("demo"));
    cloud.publish_settings(&demo).await;
    cloud.upload_model_output(&demo, |_| true).await;

    let source = cloud::source_root().to_string();
    let dest = dest_root().to_string();
    let run = |extra: &[&str]| {
        let output = aws_command(edp_exe(), &cloud.moto.endpoint())
            .args(["submit", "--jobfile"])
            .arg(&demo.jobfile)
            .args(["--source", &source, "--dest", &dest])
            .args([
                "--job-queue",
                cloud::JOB_QUEUE,
                "--job-definition",
                cloud::JOB_DEFINITION,
            ])
            .args(["--ssm-prefix", cloud::SSM_PREFIX, "--shards", "2"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "edp submit failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };

    // A dry run plans everything and submits nothing.
    let (stdout, _) = run(&["--dry-run", "--json"]);
    let dry: Value = serde_json::from_str(&stdout).unwrap();
    let all = expected(&demo, |_| true);
    assert_eq!(dry["outcome"], "dry_run");
    assert_eq!(dry["tasks"].as_u64(), Some(all.len() as u64));
    assert!(cloud.submitted_jobs().await.is_empty());

    // The real submission prints `key: value` lines with the run and job ids.
    let (stdout, stderr) = run(&[]);
    assert!(!stderr.contains(SOURCE_SECRET), "{stderr}");
    let field = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("no {key} in:\n{stdout}"))
            .to_string()
    };
    assert_eq!(field("outcome"), "submitted");
    let run_id = field("run_id");
    let job_id = field("job_id");
    let jobs = cloud.submitted_jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].job_id.as_deref(), Some(job_id.as_str()));
    assert_eq!(
        jobs[0].array_properties.as_ref().and_then(|a| a.size),
        Some(2)
    );
    let env = job_environment(&jobs[0]);
    assert_eq!(env_value(&env, "EDP_RUN_ID"), Some(run_id.as_str()));
    let layout = Layout::new(&dest_root());
    let record = read_run_record(&cloud.store, &layout, &run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.batch_job_id.as_deref(), Some(job_id.as_str()));
    assert_eq!(record.trigger, edp_task_schemas::RunTrigger::Cli);
    assert_eq!(planned_granules(&cloud, &run_id).await, all);
    assert_eq!(
        env_value(&env, "EDP_SHARDS_URI"),
        record.shards_uri.as_deref()
    );
}
