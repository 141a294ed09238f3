#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The reporter handler called with fixture events on a local destination: the run state
//! (run record, ledger records) is written with the planning crate's own functions, the
//! expected counts are the ones written here.

use edp_cloud::{DeploySettings, LogFormat};
use edp_plan::state::{Layout, read_report, write_ledger, write_run_record};
use edp_reporter_lambda::{Deps, JobEnvironment, ReporterConfig, ReporterResponse, handle};
use edp_store::{Location, Store, StoreConfig};
use edp_task_schemas::{ErrorKind, LedgerRecord, RunRecord, RunTrigger, TaskError, TaskStatus};
use serde_json::{Value, json};

const RUN_ID: &str = "20260101T000000Z-0a1b2c3d";
const JOB_ID: &str = "4c7599ae-0000-4000-8000-000000000001";

fn deps(dest: &Location, environment: &[(&str, &str)]) -> Deps<JobEnvironment, DeploySettings> {
    Deps {
        store: Store::local_only(),
        store_config: StoreConfig::default(),
        describer: JobEnvironment::new(
            environment
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        ),
        settings: DeploySettings::default(),
        config: ReporterConfig {
            dest_root: dest.clone(),
            ssm_prefix: "/edp/test/".to_string(),
            log_format: LogFormat::Text,
        },
    }
}

fn task_id(n: u8) -> String {
    format!("{n:064x}")
}

/// A run of three tasks: two done, one failed permanently.
async fn write_run(store: &Store, dest: &Location) {
    let layout = Layout::new(dest);
    let record = RunRecord {
        run_id: RUN_ID.to_string(),
        created_at: "2026-01-01T00:00:00Z".to_string(),
        trigger: RunTrigger::S3Event,
        source_root: "s3://model-output/v4r4".to_string(),
        dest_root: dest.to_string(),
        jobs: Vec::new(),
        task_count: 3,
        already_done_count: 0,
        shard_count: 2,
        tasks_uri: None,
        shards_uri: None,
        batch_job_id: Some(JOB_ID.to_string()),
        batch_job_name: Some(format!("edp-{RUN_ID}")),
        estimated_core_seconds: 30.0,
        estimated_cost_usd: Some(0.001),
        by_kind: Vec::new(),
        dry_run: false,
        software_version: "0.1.0".to_string(),
        config_hash: String::new(),
        model_time_range: None,
    };
    write_run_record(store, &layout, &record).await.unwrap();
    for (n, status) in [
        (1, TaskStatus::Done),
        (2, TaskStatus::Done),
        (3, TaskStatus::Failed),
    ] {
        let ledger = LedgerRecord {
            task_id: task_id(n),
            granule: format!("{dest}/V4r4/native/mon_mean/SSH/SSH_{n}.nc"),
            run_id: RUN_ID.to_string(),
            status,
            attempts: 1,
            error: (status == TaskStatus::Failed).then(|| TaskError {
                kind: ErrorKind::Permanent,
                message: "truncated data file".to_string(),
            }),
            shard_index: Some(u32::from(n % 2)),
            seconds: Some(10.0),
            peak_memory_bytes: None,
            output_bytes: (status == TaskStatus::Done).then_some(1000),
            sha256: None,
            input_etags: Default::default(),
            software_version: "0.1.0".to_string(),
            config_hash: String::new(),
            started_at: None,
            finished_at: None,
            chunk_index: None,
        };
        write_ledger(store, &layout, &ledger).await.unwrap();
    }
}

fn event(job_id: &str, status: &str, environment: Option<&[(&str, &str)]>) -> Value {
    let mut detail = json!({
        "jobName": format!("edp-{RUN_ID}"), "jobId": job_id, "status": status,
        "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/edp",
        "arrayProperties": {"size": 2, "statusSummary": {}},
    });
    if let Some(environment) = environment {
        let pairs: Vec<Value> = environment
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        detail["container"] = json!({"environment": pairs});
    }
    json!({"version": "0", "id": "x", "detail-type": "Batch Job State Change",
           "source": "aws.batch", "account": "123456789012", "time": "2026-01-01T01:00:00Z",
           "region": "us-east-1", "resources": [], "detail": detail})
}

#[tokio::test]
async fn a_finished_parent_job_writes_the_reconciled_report() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Location::local(dir.path()).unwrap();
    let deps = deps(&dest, &[]);
    write_run(&deps.store, &dest).await;

    let env: &[(&str, &str)] = &[("EDP_RUN_ID", RUN_ID), ("EDP_DEST_ROOT", "s3://x")];
    let response = handle(event(JOB_ID, "FAILED", Some(env)), &deps)
        .await
        .unwrap();
    let ReporterResponse::Reported {
        run_id,
        job_status,
        counts,
        complete,
        report_uri,
        ..
    } = response
    else {
        panic!("expected a report: {response:?}");
    };
    assert_eq!(run_id, RUN_ID);
    assert_eq!(job_status, "FAILED");
    assert_eq!((counts.done, counts.failed, counts.planned), (2, 1, 0));
    assert!(complete);
    let layout = Layout::new(&dest);
    assert_eq!(report_uri, layout.report(RUN_ID).to_string());
    let report = read_report(&deps.store, &layout, RUN_ID)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.counts, counts);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].task_id, task_id(3));
    assert_eq!(report.output_bytes, 2000);
    assert_eq!(report.batch_job_id.as_deref(), Some(JOB_ID));
}

#[tokio::test]
async fn the_run_id_is_looked_up_when_the_event_has_no_environment() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Location::local(dir.path()).unwrap();
    let deps = deps(&dest, &[("EDP_RUN_ID", RUN_ID)]);
    write_run(&deps.store, &dest).await;
    let response = handle(event(JOB_ID, "SUCCEEDED", None), &deps)
        .await
        .unwrap();
    assert!(
        matches!(&response, ReporterResponse::Reported { run_id, .. } if run_id == RUN_ID),
        "{response:?}"
    );
}

#[tokio::test]
async fn children_unfinished_and_foreign_jobs_are_ignored_without_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Location::local(dir.path()).unwrap();
    let deps = deps(&dest, &[]);
    write_run(&deps.store, &dest).await;
    let env: &[(&str, &str)] = &[("EDP_RUN_ID", RUN_ID)];

    let mut child = event(&format!("{JOB_ID}:1"), "SUCCEEDED", Some(env));
    child["detail"]["arrayProperties"] = json!({"index": 1});
    let running = event(JOB_ID, "RUNNING", Some(env));
    let foreign = event("other-job", "SUCCEEDED", Some(&[("FOO", "bar")]));
    let unknown_run = event(
        "other-job",
        "SUCCEEDED",
        Some(&[("EDP_RUN_ID", "20250101T000000Z-ffffffff")]),
    );
    for fixture in [child, running, foreign, unknown_run] {
        let response = handle(fixture.clone(), &deps).await.unwrap();
        assert!(
            matches!(response, ReporterResponse::Ignored { .. }),
            "{fixture}: {response:?}"
        );
    }
    let layout = Layout::new(&dest);
    assert!(
        read_report(&deps.store, &layout, RUN_ID)
            .await
            .unwrap()
            .is_none()
    );
}
