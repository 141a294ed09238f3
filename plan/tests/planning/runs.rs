//! `plan_run` against a local destination: what a run writes, dry runs, incremental planning,
//! redelivery and concurrent planners.

use std::collections::BTreeSet;

use edp_plan::planner::{PlanOutcome, PlanRequest, plan_run};
use edp_plan::roots::Root;
use edp_plan::state::{
    Layout, read_run_record, read_shard, reconcile_run, record_success, task_key, write_report,
};
use edp_plan::tasklist::{ReadOptions, parse_task_list};
use edp_store::Store;
use edp_task_schemas::{Claim, LedgerRecord, ShardSizing, TaskStatus};

use super::build::locations;
use super::support::{JOBS, STEPS, Tree, catalog, config, jobs, write_monthly_tree};

fn request(catalog: &edp_conventions::Catalog, source: Root, dest: Root) -> PlanRequest {
    let mut request = PlanRequest::new(jobs(catalog, JOBS), source, dest);
    request.locations = locations();
    request.sizing = ShardSizing::Count(3);
    request
}

pub fn granule_set(outcome: &PlanOutcome) -> BTreeSet<String> {
    outcome.tasks.iter().map(|t| t.granule.clone()).collect()
}

#[tokio::test]
async fn a_run_writes_claims_task_list_shards_and_run_record() {
    let Some(catalog) = catalog() else { return };
    let store = Store::local_only();
    let tree = Tree::new(&STEPS);
    let dest = tree.dest();
    let outcome = plan_run(
        &store,
        &catalog,
        &config(),
        &request(&catalog, tree.source(), dest.clone()),
    )
    .await
    .unwrap();
    assert_eq!(outcome.tasks.len(), 8);
    let layout = Layout::new(dest.location());

    // run.json as returned.
    let record = read_run_record(&store, &layout, &outcome.run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(&record), outcome.run_record.as_ref());
    assert_eq!((record.task_count, record.shard_count), (8, 3));
    assert_eq!(record.by_kind.iter().map(|k| k.tasks).sum::<u64>(), 8);
    assert!((record.estimated_core_seconds - outcome.total.core_seconds).abs() < 1e-9);

    // tasks.json is a valid EDP task list holding the run's tasks.
    let text = String::from_utf8(
        store
            .get(&layout.scratch_tasks(&outcome.run_id))
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    let listed = parse_task_list("tasks.json", &text, &ReadOptions::default()).unwrap();
    assert_eq!(listed.tasks, outcome.tasks);

    // The shards hold every task exactly once.
    let mut sharded = Vec::new();
    for index in 0..record.shard_count {
        let shard = read_shard(&store, &layout.shards_dir(&outcome.run_id), index)
            .await
            .unwrap();
        assert_eq!(
            (shard.run_id.as_str(), shard.count),
            (outcome.run_id.as_str(), 3)
        );
        sharded.extend(shard.tasks.into_iter().map(|t| t.granule));
    }
    sharded.sort();
    let planned: Vec<String> = granule_set(&outcome).into_iter().collect();
    assert_eq!(sharded, planned);

    // Every task is claimed by this run.
    for task in &outcome.tasks {
        let bytes = store.get(&layout.claim(&task_key(task))).await.unwrap();
        let claim: Claim = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            (claim.run_id.as_str(), claim.granule.as_str()),
            (outcome.run_id.as_str(), task.granule.as_str())
        );
    }
    // The fresh run reconciles to 8 planned tasks.
    let report = reconcile_run(&store, dest.location(), &outcome.run_id)
        .await
        .unwrap();
    assert_eq!(report.counts.planned, 8);
}

#[tokio::test]
async fn a_dry_run_writes_and_claims_nothing() {
    let Some(catalog) = catalog() else { return };
    let store = Store::local_only();
    let tree = Tree::new(&STEPS);
    let mut req = request(&catalog, tree.source(), tree.dest());
    req.dry_run = true;
    let outcome = plan_run(&store, &catalog, &config(), &req).await.unwrap();
    assert_eq!(outcome.tasks.len(), 8);
    assert_eq!(outcome.shard_count, 3);
    assert!(outcome.run_record.is_none() && outcome.shard_locations.is_empty());
    assert!(!tree.dir.path().join("out").exists());
}

/// Marks every task of `outcome` done: granule written, ledger + done marker, run report.
async fn finish(store: &Store, dest: &Root, outcome: &PlanOutcome) {
    let layout = Layout::new(dest.location());
    for task in &outcome.tasks {
        let granule = dest.resolve(&task.granule).unwrap();
        store.put(&granule, vec![1u8; 64]).await.unwrap();
        let record = LedgerRecord {
            task_id: task_key(task),
            granule: task.granule.clone(),
            run_id: outcome.run_id.clone(),
            status: TaskStatus::Done,
            attempts: 1,
            error: None,
            shard_index: None,
            seconds: Some(1.0),
            peak_memory_bytes: None,
            output_bytes: Some(64),
            sha256: Some("00".repeat(32)),
            input_etags: Default::default(),
            software_version: edp_plan::state::SOFTWARE_VERSION.to_string(),
            config_hash: String::new(),
            started_at: None,
            finished_at: None,
            chunk_index: None,
        };
        record_success(store, &layout, &record).await.unwrap();
    }
    let report = reconcile_run(store, dest.location(), &outcome.run_id)
        .await
        .unwrap();
    assert!(report.complete);
    write_report(store, &layout, &report).await.unwrap();
}

#[tokio::test]
async fn later_plans_only_plan_new_granules() {
    let Some(catalog) = catalog() else { return };
    let store = Store::local_only();
    let tree = Tree::new(&STEPS);
    let dest = tree.dest();
    let first = plan_run(
        &store,
        &catalog,
        &config(),
        &request(&catalog, tree.source(), dest.clone()),
    )
    .await
    .unwrap();
    assert_eq!(first.tasks.len(), 8);

    // A redelivered event: everything is claimed by the first run, no new run is written.
    let again = plan_run(
        &store,
        &catalog,
        &config(),
        &request(&catalog, tree.source(), dest.clone()),
    )
    .await
    .unwrap();
    assert!(again.tasks.is_empty());
    assert_eq!(again.skipped_claimed.len(), 8);
    assert!(
        again
            .skipped_claimed
            .iter()
            .all(|c| c.run_id == first.run_id)
    );
    assert!(again.run_record.is_none());

    // New model output arrives (1992-03): only its granules are planned.
    write_monthly_tree(&tree.source_dir(), &[2172]);
    let second = plan_run(
        &store,
        &catalog,
        &config(),
        &request(&catalog, tree.source(), dest.clone()),
    )
    .await
    .unwrap();
    assert_eq!(second.tasks.len(), 4);
    assert!(second.tasks.iter().all(|t| t.granule.contains("_1992-03_")));
    assert_eq!(second.skipped_claimed.len(), 8);

    // The first run finishes: its granules are done and skipped as such.
    finish(&store, &dest, &first).await;
    let third = plan_run(
        &store,
        &catalog,
        &config(),
        &request(&catalog, tree.source(), dest.clone()),
    )
    .await
    .unwrap();
    assert!(third.tasks.is_empty());
    assert_eq!(third.skipped_done.len(), 8);
    assert_eq!(third.skipped_claimed.len(), 4);

    // --force redoes the done granules (the finished run's claims are taken over); the
    // second run is still live and keeps its granules.
    let mut forced = request(&catalog, tree.source(), dest.clone());
    forced.force = true;
    let fourth = plan_run(&store, &catalog, &config(), &forced)
        .await
        .unwrap();
    assert_eq!(granule_set(&fourth), granule_set(&first));
    assert_eq!(fourth.taken_over, 8);
    assert_eq!(fourth.skipped_claimed.len(), 4);
}

#[tokio::test]
async fn concurrent_planners_never_plan_a_granule_twice() {
    let Some(catalog) = catalog() else { return };
    let store = Store::local_only();
    let tree = Tree::new(&STEPS);
    let dest = tree.dest();
    let config = config();
    let a = request(&catalog, tree.source(), dest.clone());
    let b = request(&catalog, tree.source(), dest.clone());
    let (first, second) = tokio::join!(
        plan_run(&store, &catalog, &config, &a),
        plan_run(&store, &catalog, &config, &b)
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_ne!(first.run_id, second.run_id);
    let one = granule_set(&first);
    let two = granule_set(&second);
    assert!(
        one.is_disjoint(&two),
        "planned twice: {:?}",
        one.intersection(&two).collect::<Vec<_>>()
    );
    let union: BTreeSet<String> = one.union(&two).cloned().collect();
    assert_eq!(union.len(), 8);
    assert_eq!(
        first.skipped_claimed.len() + second.skipped_claimed.len(),
        8
    );
}
