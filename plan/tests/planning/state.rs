//! Run state under `<dest>/_edp/`: claims, done markers and the skip rule, ledgers and
//! reports, manifests, run ids.

use chrono::{TimeZone, Utc};
use edp_plan::roots::Root;
use edp_plan::state::ledger::build_report;
use edp_plan::state::{
    ClaimOutcome, ExistingClaim, Layout, StateError, claim_task, inspect_claim, is_done,
    latest_run, new_run_id_at, read_ledger, read_manifest, reconcile_run, record_success,
    release_claim, task_key, write_done_marker, write_ledger, write_manifests, write_report,
    write_run_record, write_scratch_tasks,
};
use edp_plan::tasklist::{ReadOptions, parse_task_list};
use edp_store::{Location, Store};
use edp_task_schemas::{
    Claim, DatasetManifest, ErrorKind, LedgerRecord, ManifestGranule, ProductKind, RunRecord,
    RunTrigger, Task, TaskError, TaskStatus,
};

const GEN_C_FIRST: &str = include_str!("../fixtures/edp_gen_c_first_task.json");
const GEN_C_VECTOR: &str = include_str!("../fixtures/edp_gen_c_vector_task.json");

/// The two EDP fixture tasks (native 2-D SSH 1992-01, lat-lon 3-D velocity 1992-02).
fn fixture_tasks() -> Vec<Task> {
    let mut tasks = Vec::new();
    for text in [GEN_C_FIRST, GEN_C_VECTOR] {
        tasks.extend(
            parse_task_list("fixture.json", text, &ReadOptions::default())
                .unwrap()
                .tasks,
        );
    }
    tasks
}

struct Dest {
    _dir: tempfile::TempDir,
    root: Root,
}

/// A destination root written `.` (as the fixtures' granules) in a temporary folder.
fn dest() -> Dest {
    let dir = tempfile::tempdir().unwrap();
    let root = Root::with_written(Location::local(dir.path()).unwrap(), ".");
    Dest { _dir: dir, root }
}

fn record(task: &Task, run_id: &str, status: TaskStatus) -> LedgerRecord {
    LedgerRecord {
        task_id: task_key(task),
        granule: task.granule.clone(),
        run_id: run_id.to_string(),
        status,
        attempts: 1,
        error: None,
        shard_index: Some(0),
        seconds: Some(2.5),
        peak_memory_bytes: None,
        output_bytes: None,
        sha256: None,
        input_etags: Default::default(),
        software_version: edp_plan::state::SOFTWARE_VERSION.to_string(),
        config_hash: String::new(),
        started_at: None,
        finished_at: None,
        chunk_index: None,
    }
}

fn claim(task_id: &str, run_id: &str, claimed_at: &str, ttl_seconds: u64) -> Claim {
    Claim {
        task_id: task_id.to_string(),
        granule: "g.nc".to_string(),
        run_id: run_id.to_string(),
        claimed_at: claimed_at.to_string(),
        ttl_seconds,
        claimed_by: None,
    }
}

fn run_record(run_id: &str, task_count: u64) -> RunRecord {
    RunRecord {
        run_id: run_id.to_string(),
        created_at: "2026-11-21T10:15:00Z".to_string(),
        trigger: RunTrigger::Cli,
        source_root: "src".to_string(),
        dest_root: ".".to_string(),
        jobs: Vec::new(),
        task_count,
        already_done_count: 0,
        shard_count: 1,
        tasks_uri: None,
        shards_uri: None,
        batch_job_id: Some("job-1".to_string()),
        batch_job_name: None,
        estimated_core_seconds: 7200.0,
        estimated_cost_usd: Some(0.2),
        by_kind: Vec::new(),
        dry_run: false,
        software_version: "test".to_string(),
        config_hash: String::new(),
        model_time_range: None,
    }
}

#[tokio::test]
async fn claims_are_created_once_recognised_as_ours_and_taken_over_when_dead() {
    let store = Store::local_only();
    let d = dest();
    let layout = Layout::new(d.root.location());
    let now = Utc::now();
    let stamp = now.to_rfc3339();
    let task = "a".repeat(64);

    let first = claim(&task, "run-a", &stamp, 3600);
    assert_eq!(
        claim_task(&store, &layout, &first, now).await.unwrap(),
        ClaimOutcome::Created
    );
    // An SDK retry of our own successful create reports "already exists": still ours.
    assert_eq!(
        claim_task(&store, &layout, &first, now).await.unwrap(),
        ClaimOutcome::Ours
    );
    // Another live run cannot have it.
    let other = claim(&task, "run-b", &stamp, 3600);
    assert_eq!(
        claim_task(&store, &layout, &other, now).await.unwrap(),
        ClaimOutcome::Held {
            run_id: "run-a".to_string(),
            claimed_at: stamp.clone()
        }
    );
    assert!(matches!(
        inspect_claim(&store, &layout, &task, "run-b", 3600, now)
            .await
            .unwrap(),
        ExistingClaim::Live { .. }
    ));

    // Run A finishes (report written): its claim may be taken over.
    let report = build_report("run-a", None, Some(&[]), &[]);
    write_report(&store, &layout, &report).await.unwrap();
    assert!(matches!(
        claim_task(&store, &layout, &other, now).await.unwrap(),
        ClaimOutcome::TakenOver { ref previous_run, .. } if previous_run == "run-a"
    ));
    let stored: Claim =
        serde_json::from_slice(&store.get(&layout.claim(&task)).await.unwrap()).unwrap();
    assert_eq!(stored.run_id, "run-b");

    // A claim older than its TTL is dead too.
    let old_task = "b".repeat(64);
    let old = claim(&old_task, "run-c", "2000-01-01T00:00:00Z", 60);
    assert_eq!(
        claim_task(&store, &layout, &old, now).await.unwrap(),
        ClaimOutcome::Created
    );
    let fresh = claim(&old_task, "run-d", &stamp, 60);
    assert!(matches!(
        claim_task(&store, &layout, &fresh, now).await.unwrap(),
        ClaimOutcome::TakenOver { ref previous_run, .. } if previous_run == "run-c"
    ));

    // Releasing only drops claims of the named run.
    assert!(
        !release_claim(&store, &layout, &old_task, "run-c")
            .await
            .unwrap()
    );
    assert!(
        release_claim(&store, &layout, &old_task, "run-d")
            .await
            .unwrap()
    );
    assert!(!store.exists(&layout.claim(&old_task)).await.unwrap());
    assert_eq!(
        inspect_claim(&store, &layout, &old_task, "run-d", 60, now)
            .await
            .unwrap(),
        ExistingClaim::Absent
    );
}

#[tokio::test]
async fn concurrent_claims_of_one_task_have_exactly_one_winner() {
    let store = Store::local_only();
    let d = dest();
    let layout = Layout::new(d.root.location());
    let now = Utc::now();
    let task = "c".repeat(64);
    let claims: Vec<Claim> = (0..8)
        .map(|i| claim(&task, &format!("run-{i}"), &now.to_rfc3339(), 3600))
        .collect();
    let outcomes =
        futures::future::join_all(claims.iter().map(|c| claim_task(&store, &layout, c, now))).await;
    let winners = outcomes
        .into_iter()
        .map(Result::unwrap)
        .filter(ClaimOutcome::is_ours)
        .count();
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn done_means_marker_and_granule_with_the_recorded_size() {
    let store = Store::local_only();
    let d = dest();
    let layout = Layout::new(d.root.location());
    let task = fixture_tasks().remove(0);
    assert!(!is_done(&store, &d.root, &task).await.unwrap());

    let granule = d.root.resolve(&task.granule).unwrap();
    store.put(&granule, vec![7u8; 1234]).await.unwrap();
    let mut done = record(&task, "run-1", TaskStatus::Done);
    done.output_bytes = Some(1234);
    // A marker alone is not enough when the granule's size differs.
    store.put(&granule, vec![7u8; 1000]).await.unwrap();
    record_success(&store, &layout, &done).await.unwrap();
    assert!(!is_done(&store, &d.root, &task).await.unwrap());
    store.put(&granule, vec![7u8; 1234]).await.unwrap();
    assert!(is_done(&store, &d.root, &task).await.unwrap());
    // The granule disappears: not done any more.
    store.delete(&granule).await.unwrap();
    assert!(!is_done(&store, &d.root, &task).await.unwrap());

    // Only successes become markers.
    let failed = record(&task, "run-1", TaskStatus::Failed);
    let err = write_done_marker(&store, &layout, &failed)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StateError::Mismatch {
                field: "status",
                ..
            }
        ),
        "{err}"
    );
}

/// A truncated done marker is reported and treated as absent (the granule is redone), never
/// an error that stops the run; a marker of an incompatible release does not count.
#[tokio::test]
async fn corrupt_or_incompatible_done_markers_count_as_absent() {
    let store = Store::local_only();
    let d = dest();
    let layout = Layout::new(d.root.location());
    let task = fixture_tasks().remove(0);
    let granule = d.root.resolve(&task.granule).unwrap();
    store.put(&granule, vec![7u8; 10]).await.unwrap();
    let mut done = record(&task, "run-1", TaskStatus::Done);
    done.output_bytes = Some(10);
    record_success(&store, &layout, &done).await.unwrap();
    assert!(is_done(&store, &d.root, &task).await.unwrap());

    let marker = layout.done(&task_key(&task));
    let text = store.get(&marker).await.unwrap();
    store
        .put(&marker, text[..text.len() / 2].to_vec())
        .await
        .unwrap();
    assert!(!is_done(&store, &d.root, &task).await.unwrap());
    let (todo, finished) = edp_plan::state::DoneIndex::load(&store, &layout)
        .await
        .unwrap()
        .partition(&store, &d.root, vec![task.clone()])
        .await
        .unwrap();
    assert_eq!((todo.len(), finished.len()), (1, 0));

    let mut old = done.clone();
    old.software_version = "7.0.0".into();
    write_done_marker(&store, &layout, &old).await.unwrap();
    assert!(!is_done(&store, &d.root, &task).await.unwrap());
    let reason = edp_plan::state::redo_reason(&store, &d.root, &task)
        .await
        .unwrap()
        .unwrap();
    assert!(reason.detail.contains("7.0.0"), "{reason}");
    assert!(edp_plan::state::is_compatible_version("0.1.9", "0.1.0"));
    assert!(!edp_plan::state::is_compatible_version("0.2.0", "0.1.0"));
    assert!(edp_plan::state::is_compatible_version("1.4.0", "1.0.2"));
}

/// Done markers of the previous release (`edp-task-id/v1` ids) still make a task done, so an
/// upgrade redoes nothing; the dry-run reason of a never-produced granule says so.
#[tokio::test]
async fn legacy_done_markers_count_and_redo_reasons_are_given() {
    let store = Store::local_only();
    let d = dest();
    let layout = Layout::new(d.root.location());
    let task = fixture_tasks().remove(0);
    let reason = edp_plan::state::redo_reason(&store, &d.root, &task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reason.kind, "never produced");

    let granule = d.root.resolve(&task.granule).unwrap();
    store.put(&granule, vec![1u8; 5]).await.unwrap();
    let reason = edp_plan::state::redo_reason(&store, &d.root, &task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reason.kind, "unrecorded file", "{reason}");

    let legacy_id = edp_plan::state::legacy_task_key(&task);
    assert_ne!(legacy_id, task_key(&task));
    let mut done = record(&task, "run-0", TaskStatus::Done);
    done.task_id = legacy_id;
    done.output_bytes = Some(5);
    write_done_marker(&store, &layout, &done).await.unwrap();
    assert!(is_done(&store, &d.root, &task).await.unwrap());
    assert_eq!(
        edp_plan::state::redo_reason(&store, &d.root, &task)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn reconcile_counts_statuses_failures_and_unrecorded_tasks() {
    let store = Store::local_only();
    let d = dest();
    let layout = Layout::new(d.root.location());
    let tasks = fixture_tasks();
    let run_id = "20261121T101500Z-00000001";
    write_run_record(&store, &layout, &run_record(run_id, 2))
        .await
        .unwrap();
    write_scratch_tasks(&store, &layout, run_id, &tasks)
        .await
        .unwrap();

    // Nothing recorded yet: both planned.
    let report = reconcile_run(&store, d.root.location(), run_id)
        .await
        .unwrap();
    assert_eq!((report.counts.planned, report.counts.total()), (2, 2));
    assert!(!report.complete);

    let mut done = record(&tasks[0], run_id, TaskStatus::Done);
    done.output_bytes = Some(100);
    done.seconds = Some(2.0);
    write_ledger(&store, &layout, &done).await.unwrap();
    let mut failed = record(&tasks[1], run_id, TaskStatus::Failed);
    failed.seconds = Some(3.0);
    failed.attempts = 3;
    failed.error = Some(TaskError {
        kind: ErrorKind::Permanent,
        message: "truncated data file UVEL_mon_mean.0000001428.data: expected 1 bytes, found 0"
            .to_string(),
    });
    write_ledger(&store, &layout, &failed).await.unwrap();

    let ledger = read_ledger(&store, &layout, run_id).await.unwrap();
    assert_eq!(ledger.len(), 2);
    let report = reconcile_run(&store, d.root.location(), run_id)
        .await
        .unwrap();
    assert_eq!(
        (
            report.counts.done,
            report.counts.failed,
            report.counts.planned
        ),
        (1, 1, 0)
    );
    assert!(report.complete);
    assert_eq!(report.seconds, 5.0);
    assert_eq!(report.output_bytes, 100);
    assert_eq!(report.batch_job_id.as_deref(), Some("job-1"));
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].granule, tasks[1].granule);
    assert_eq!(report.failures[0].attempts, 3);
    assert!(report.failures[0].error.message.contains("UVEL_mon_mean"));
    let kinds: Vec<(ProductKind, u64, u64)> = report
        .by_kind
        .iter()
        .map(|k| (k.kind, k.counts.done, k.counts.failed))
        .collect();
    assert_eq!(
        kinds,
        [(ProductKind::Native2d, 1, 0), (ProductKind::Latlon3d, 0, 1)]
    );
    // No cost estimates in EDP tasks: the price is applied to zero core-seconds.
    assert_eq!(report.estimated_cost_usd, Some(0.0));

    // Unknown run.
    let err = reconcile_run(&store, d.root.location(), "nope")
        .await
        .unwrap_err();
    assert!(matches!(err, StateError::RunNotFound { .. }), "{err}");
}

#[test]
fn without_a_task_list_the_run_record_counts_the_unrecorded_tasks() {
    let tasks = fixture_tasks();
    let run = run_record("r", 5);
    let records = vec![record(&tasks[0], "r", TaskStatus::Done)];
    let report = build_report("r", Some(&run), None, &records);
    assert_eq!((report.counts.done, report.counts.planned), (1, 4));
    assert_eq!(report.estimated_core_seconds, 7200.0);
    // The run's own price: $0.2 for 2 core-hours = $0.1 per core-hour.
    assert!((report.estimated_cost_usd.unwrap() - 0.2).abs() < 1e-12);
}

#[tokio::test]
async fn manifests_merge_the_successes_of_a_run_sorted_by_path() {
    let store = Store::local_only();
    let d = dest();
    let layout = Layout::new(d.root.location());
    let dataset = "V4r4/native/mon_mean/SEA_SURFACE_HEIGHT";
    let name = |month: &str| {
        format!("{dataset}/SEA_SURFACE_HEIGHT_mon_mean_{month}_ECCO_V4r4_native_llc0090.nc")
    };
    // An earlier manifest: one granule kept, one replaced by this run.
    let earlier = DatasetManifest {
        dataset: dataset.to_string(),
        updated_at: None,
        granules: vec![
            ManifestGranule {
                path: name("1992-03"),
                size: 3,
                sha256: "33".into(),
            },
            ManifestGranule {
                path: name("1992-01"),
                size: 1,
                sha256: "old".into(),
            },
        ],
    };
    store
        .put(
            &layout.manifest(dataset),
            serde_json::to_vec(&earlier).unwrap(),
        )
        .await
        .unwrap();

    let mut tasks = fixture_tasks();
    let mut second = tasks[0].clone();
    second.granule = format!("./{}", name("1992-02"));
    tasks.push(second);
    let run_id = "run-m";
    for (index, task) in [&tasks[0], &tasks[2]].into_iter().enumerate() {
        let mut done = record(task, run_id, TaskStatus::Done);
        done.output_bytes = Some(10 + index as u64);
        done.sha256 = Some(format!("sha{index}"));
        write_ledger(&store, &layout, &done).await.unwrap();
    }
    // Failures and records without a checksum stay out.
    write_ledger(
        &store,
        &layout,
        &record(&tasks[1], run_id, TaskStatus::Failed),
    )
    .await
    .unwrap();

    let outcome = write_manifests(&store, &d.root, run_id).await.unwrap();
    assert_eq!(outcome.written, [layout.manifest(dataset)]);
    assert_eq!(outcome.granules, 2);
    let manifest = read_manifest(&store, &layout, dataset)
        .await
        .unwrap()
        .unwrap();
    let entries: Vec<(String, u64, String)> = manifest
        .granules
        .into_iter()
        .map(|g| (g.path, g.size, g.sha256))
        .collect();
    assert_eq!(
        entries,
        [
            (name("1992-01"), 10, "sha0".to_string()),
            (name("1992-02"), 11, "sha1".to_string()),
            (name("1992-03"), 3, "33".to_string()),
        ]
    );
}

#[tokio::test]
async fn the_latest_run_is_the_most_recent_id() {
    let store = Store::local_only();
    let d = dest();
    let layout = Layout::new(d.root.location());
    assert_eq!(latest_run(&store, &layout).await.unwrap(), None);
    let older = new_run_id_at(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap());
    let newer = new_run_id_at(Utc.with_ymd_and_hms(2026, 11, 21, 10, 15, 0).unwrap());
    for id in [&newer, &older] {
        write_run_record(&store, &layout, &run_record(id, 0))
            .await
            .unwrap();
    }
    // Ledger files of a run without run.json do not make it a run.
    let task = fixture_tasks().remove(0);
    write_ledger(
        &store,
        &layout,
        &record(&task, "zzzz-no-record", TaskStatus::Done),
    )
    .await
    .unwrap();
    assert_eq!(latest_run(&store, &layout).await.unwrap(), Some(newer));
}
