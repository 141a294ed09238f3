//! Event-scoped planning against the moto S3 emulator: a step whose inputs arrive over
//! several events is planned once, by the event that completes it; keys no job reads plan
//! nothing; a full plan and event plans agree; a re-uploaded input of a finished granule is
//! reported, and planned again only when asked.

use std::collections::BTreeSet;
use std::time::Duration;

use edp_plan::planner::{PlanOutcome, PlanRequest, plan_run};
use edp_plan::roots::Root;
use edp_plan::scope::{UnmappedReason, plan_event};
use edp_plan::state::{Layout, record_success, task_key};
use edp_store::{Location, Store};
use edp_task_schemas::{LedgerRecord, ProductType, Task, TaskStatus};

use super::build::locations;
use super::support::{DIAGNOSTICS, JOBS, Moto, STEPS, Tree, catalog, config, jobs};

const SRC: &str = "s3://edp-src/V4r4";
const DST: &str = "s3://edp-dst/out";

fn source() -> Root {
    Root::parse(SRC).unwrap()
}

fn dest() -> Root {
    Root::parse(DST).unwrap()
}

/// `s3://edp-src/V4r4/diags_monthly/<VAR>_mon_mean/<VAR>_mon_mean.<ts10>.<ext>`.
fn key(variable: &str, step: u64, ext: &str) -> Location {
    Location::parse(&format!(
        "{SRC}/diags_monthly/{variable}_mon_mean/{variable}_mon_mean.{step:010}.{ext}"
    ))
    .unwrap()
}

/// Uploads the `.data` and `.meta` of `variable` at `step` from the local tree; returns their keys.
async fn upload_pair(moto: &Moto, tree: &Tree, variable: &str, step: u64) -> Vec<Location> {
    let local = Store::local_only();
    let mut keys = Vec::new();
    for ext in ["data", "meta"] {
        let path = super::support::input_path(
            &tree.source_dir(),
            "diags_monthly",
            variable,
            "mon_mean",
            step,
            ext,
        );
        let bytes = local.get(&Location::local(&path).unwrap()).await.unwrap();
        let location = key(variable, step, ext);
        moto.store.put(&location, bytes).await.unwrap();
        keys.push(location);
    }
    keys
}

fn request(job_text: &str) -> Option<(edp_conventions::Catalog, PlanRequest)> {
    let catalog = catalog()?;
    let mut request = PlanRequest::new(jobs(&catalog, job_text), source(), dest());
    request.locations = locations();
    Some((catalog, request))
}

fn granules(outcome: &PlanOutcome) -> Vec<String> {
    outcome.tasks.iter().map(|t| t.granule.clone()).collect()
}

/// The input diagnostics of a native grouping, from the catalog (independent of the planner).
fn native_inputs(catalog: &edp_conventions::Catalog, grouping: i64) -> Vec<String> {
    let dataset = catalog.dataset(ProductType::Native, grouping).unwrap();
    let mut inputs: Vec<String> = dataset
        .variables
        .iter()
        .flat_map(|v| v.inputs.iter().map(|i| i.name.clone()))
        .collect();
    inputs.sort();
    inputs.dedup();
    inputs
}

#[tokio::test]
async fn a_step_arriving_in_four_batches_is_planned_once_by_the_batch_that_completes_it() {
    let Some((catalog, request)) = request("[0,'native','AVG_MON','all']\n") else {
        return;
    };
    let Some(moto) = Moto::start(&["edp-src", "edp-dst"]).await else {
        return;
    };
    let inputs = native_inputs(&catalog, 0);
    assert_eq!(
        inputs.len(),
        4,
        "grouping 0 reads four diagnostics: {inputs:?}"
    );
    let tree = Tree::new(&STEPS);
    // The archive holds January complete; February arrives one variable per batch, in an
    // order unrelated to the grouping's.
    for variable in &inputs {
        upload_pair(&moto, &tree, variable, STEPS[0]).await;
    }
    let february = STEPS[1];
    let mut order = inputs.clone();
    order.reverse();
    order.swap(0, 2);

    let mut planned_in = Vec::new();
    for (batch, variable) in order.iter().enumerate() {
        let keys = upload_pair(&moto, &tree, variable, february).await;
        let plan = plan_event(
            &moto.store,
            &moto.store,
            &catalog,
            &config(),
            &request,
            &keys,
        )
        .await
        .unwrap();
        assert!(plan.unmapped.is_empty(), "{:?}", plan.unmapped);
        // One HEAD per .data/.meta of the four inputs at the step, whatever else is stored.
        assert_eq!(plan.cost.head_requests, 8);
        assert_eq!(plan.cost.list_requests, 0);
        let outcome = plan.outcome.unwrap();
        if !outcome.tasks.is_empty() {
            planned_in.push((batch, granules(&outcome)));
        } else {
            // Waiting: the granule is reported incomplete, with the inputs still missing.
            assert_eq!(outcome.incomplete.len(), 1);
            let missing: BTreeSet<&str> = outcome.incomplete[0]
                .missing
                .iter()
                .map(|m| m.input.as_str())
                .collect();
            let arrived: BTreeSet<&str> = order[..=batch].iter().map(String::as_str).collect();
            let expected: BTreeSet<&str> = inputs
                .iter()
                .map(String::as_str)
                .filter(|i| !arrived.contains(i))
                .collect();
            assert_eq!(missing, expected, "batch {batch}");
        }
    }
    assert_eq!(planned_in.len(), 1, "planned exactly once: {planned_in:?}");
    let (batch, planned) = &planned_in[0];
    assert_eq!(*batch, 3, "planned by the last batch");
    assert_eq!(planned.len(), 1);
    assert!(
        planned[0].ends_with("SEA_SURFACE_HEIGHT_mon_mean_1992-02_ECCO_V4r4_native_llc0090.nc"),
        "{planned:?}"
    );

    // A redelivered batch (or a late duplicate of an earlier one) plans nothing again: the
    // granule is claimed by the live run.
    for variable in [&order[3], &order[0]] {
        let keys = vec![
            key(variable, february, "data"),
            key(variable, february, "meta"),
        ];
        let again = plan_event(
            &moto.store,
            &moto.store,
            &catalog,
            &config(),
            &request,
            &keys,
        )
        .await
        .unwrap()
        .outcome
        .unwrap();
        assert!(again.tasks.is_empty());
        assert_eq!(again.skipped_claimed.len(), 1);
    }
}

#[tokio::test]
async fn an_event_for_an_unknown_variable_plans_nothing_and_reads_nothing() {
    let Some((catalog, request)) = request(JOBS) else {
        return;
    };
    let Some(moto) = Moto::start(&["edp-src", "edp-dst"]).await else {
        return;
    };
    let unknown = [
        key("NOTAVAR", STEPS[0], "data"),
        key("NOTAVAR", STEPS[0], "meta"),
    ];
    for location in &unknown {
        moto.store.put(location, "x").await.unwrap();
    }
    // A known variable at a daily period that no job (all monthly) reads.
    let daily = Location::parse(&format!(
        "{SRC}/diags_daily/SSH_day_mean/SSH_day_mean.{:010}.data",
        STEPS[0]
    ))
    .unwrap();
    let keys = [unknown[0].clone(), unknown[1].clone(), daily];
    let plan = plan_event(
        &moto.store,
        &moto.store,
        &catalog,
        &config(),
        &request,
        &keys,
    )
    .await
    .unwrap();
    assert!(plan.outcome.is_none());
    assert_eq!(plan.unmapped.len(), 3);
    assert!(
        plan.unmapped
            .iter()
            .all(|u| u.reason == UnmappedReason::NoJob)
    );
    assert_eq!(plan.cost.head_requests + plan.cost.list_requests, 0);
    // Nothing was written to the destination.
    let state = moto
        .store
        .list(&Location::parse(DST).unwrap())
        .await
        .unwrap();
    assert!(state.is_empty(), "{state:?}");
}

/// Uploads the whole two-step tree to the source bucket; returns every key per step.
async fn upload_tree(moto: &Moto, tree: &Tree) -> Vec<Vec<Location>> {
    let mut per_step = Vec::new();
    for step in STEPS {
        let mut keys = Vec::new();
        for (variable, _) in DIAGNOSTICS {
            keys.extend(upload_pair(moto, tree, variable, step).await);
        }
        per_step.push(keys);
    }
    per_step
}

/// Writes what a worker leaves for a finished task: the granule object, then its ledger
/// record and done marker.
async fn finish(store: &Store, task: &Task, run_id: &str) {
    let bytes = format!("granule of {}", task.granule).into_bytes();
    let size = bytes.len() as u64;
    store
        .put(&dest().resolve(&task.granule).unwrap(), bytes)
        .await
        .unwrap();
    let record = LedgerRecord {
        task_id: task_key(task),
        granule: task.granule.clone(),
        run_id: run_id.to_string(),
        status: TaskStatus::Done,
        attempts: 1,
        error: None,
        shard_index: Some(0),
        seconds: Some(1.0),
        peak_memory_bytes: None,
        output_bytes: Some(size),
        sha256: None,
        input_etags: Default::default(),
        software_version: edp_plan::state::SOFTWARE_VERSION.to_string(),
        config_hash: String::new(),
        started_at: None,
        finished_at: None,
        chunk_index: None,
    };
    record_success(store, &Layout::new(dest().location()), &record)
        .await
        .unwrap();
}

/// The tasks as JSON (content and ids), sorted by granule.
fn task_texts(tasks: &[Task]) -> Vec<String> {
    let mut texts: Vec<String> = tasks
        .iter()
        .map(|t| serde_json::to_string(t).unwrap())
        .collect();
    texts.sort();
    texts
}

#[tokio::test]
async fn a_full_plan_and_event_plans_agree_on_what_to_produce() {
    let Some((catalog, mut request)) = request(JOBS) else {
        return;
    };
    let Some(moto) = Moto::start(&["edp-src", "edp-dst"]).await else {
        return;
    };
    let tree = Tree::new(&STEPS);
    let keys = upload_tree(&moto, &tree).await;
    // One granule is already finished.
    request.dry_run = true;
    let before = plan_run(&moto.store, &catalog, &config(), &request)
        .await
        .unwrap();
    assert_eq!(before.tasks.len(), 8);
    let finished = before.tasks[0].clone();
    finish(&moto.store, &finished, "20260101T000000Z-00000000").await;

    let full = plan_run(&moto.store, &catalog, &config(), &request)
        .await
        .unwrap();
    assert_eq!(full.skipped_done, std::slice::from_ref(&finished.granule));
    assert_eq!(full.tasks.len(), 7);

    // One event per step, and one event with everything: together they plan what the full
    // plan plans, task for task (same content, same ids).
    let mut by_steps = Vec::new();
    for step_keys in &keys {
        let plan = plan_event(
            &moto.store,
            &moto.store,
            &catalog,
            &config(),
            &request,
            step_keys,
        )
        .await
        .unwrap();
        let outcome = plan.outcome.unwrap();
        // 9 diagnostics x (.data, .meta) at one step; the vector grouping's inputs included.
        assert_eq!(plan.cost.head_requests, 18);
        by_steps.extend(outcome.tasks);
        assert!(outcome.skipped_done.iter().all(|g| *g == finished.granule));
    }
    assert_eq!(task_texts(&by_steps), task_texts(&full.tasks));
    let all: Vec<Location> = keys.concat();
    let everything = plan_event(
        &moto.store,
        &moto.store,
        &catalog,
        &config(),
        &request,
        &all,
    )
    .await
    .unwrap()
    .outcome
    .unwrap();
    assert_eq!(task_texts(&everything.tasks), task_texts(&full.tasks));
    assert_eq!(everything.skipped_done, full.skipped_done);
}

#[tokio::test]
async fn a_reuploaded_input_of_a_finished_granule_is_reported_and_redone_only_when_asked() {
    let Some((catalog, request)) = request("[0,'native','AVG_MON','all']\n") else {
        return;
    };
    let Some(moto) = Moto::start(&["edp-src", "edp-dst"]).await else {
        return;
    };
    let tree = Tree::new(&STEPS[..1]);
    for variable in native_inputs(&catalog, 0) {
        upload_pair(&moto, &tree, &variable, STEPS[0]).await;
    }
    let first = plan_run(&moto.store, &catalog, &config(), &request)
        .await
        .unwrap();
    assert_eq!(first.tasks.len(), 1);
    let task = first.tasks[0].clone();
    finish(&moto.store, &task, &first.run_id).await;
    // S3 times have one-second resolution: upload in a later second than the granule.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let changed = key("SSH", STEPS[0], "data");
    moto.store
        .put(&changed, "re-uploaded SSH with other content")
        .await
        .unwrap();
    let keys = [changed.clone()];

    for full in [false, true] {
        let outcome = if full {
            plan_run(&moto.store, &catalog, &config(), &request)
                .await
                .unwrap()
        } else {
            plan_event(
                &moto.store,
                &moto.store,
                &catalog,
                &config(),
                &request,
                &keys,
            )
            .await
            .unwrap()
            .outcome
            .unwrap()
        };
        assert!(
            outcome.tasks.is_empty(),
            "full={full}: {:?}",
            granules(&outcome)
        );
        assert_eq!(outcome.changed_inputs.len(), 1, "full={full}");
        let report = &outcome.changed_inputs[0];
        assert_eq!(report.granule, task.granule);
        assert_eq!(report.inputs, [changed.to_string()]);
        assert!(!report.replanned);
        assert_ne!(report.task_id, task_key(&task), "new ETag, new task id");
    }

    let mut replan = request.clone();
    replan.replan_changed_inputs = true;
    let outcome = plan_event(
        &moto.store,
        &moto.store,
        &catalog,
        &config(),
        &replan,
        &keys,
    )
    .await
    .unwrap()
    .outcome
    .unwrap();
    assert_eq!(granules(&outcome), std::slice::from_ref(&task.granule));
    assert!(outcome.changed_inputs[0].replanned);
    let etag = outcome.tasks[0]
        .edp
        .as_ref()
        .unwrap()
        .inputs
        .iter()
        .find(|i| i.location == changed.to_string())
        .and_then(|i| i.etag.clone());
    let head = moto.store.head(&changed).await.unwrap().unwrap();
    assert_eq!(
        etag.as_deref(),
        head.etag.as_deref().map(|e| e.trim_matches('"'))
    );
}

#[tokio::test]
async fn time_invariant_fields_arriving_on_s3_plan_their_one_granule() {
    let Some((catalog, request)) =
        request("[20,'native','TI','all']\n[0,'native','AVG_MON','all']\n")
    else {
        return;
    };
    let Some(moto) = Moto::start(&["edp-src", "edp-dst"]).await else {
        return;
    };
    let fields = native_inputs(&catalog, 20);
    assert_eq!(fields, ["DIFFKR", "KAPGM", "KAPREDI"]);
    let mut keys = Vec::new();
    for field in &fields {
        for ext in ["data", "meta"] {
            let location =
                Location::parse(&format!("{SRC}/time_invariant/{field}/{field}.{ext}")).unwrap();
            moto.store.put(&location, "field").await.unwrap();
            keys.push(location);
        }
    }
    // A step-less key outside the time-invariant layout maps to nothing.
    let stray = Location::parse(&format!("{SRC}/time_invariant/DIFFKR.data")).unwrap();
    keys.push(stray.clone());
    let plan = plan_event(
        &moto.store,
        &moto.store,
        &catalog,
        &config(),
        &request,
        &keys,
    )
    .await
    .unwrap();
    assert_eq!(plan.unmapped.len(), 1, "{:?}", plan.unmapped);
    assert_eq!(plan.unmapped[0].location, stray.to_string());
    assert_eq!(plan.unmapped[0].reason, UnmappedReason::NotMds);
    let outcome = plan.outcome.unwrap();
    assert_eq!(
        granules(&outcome),
        [format!(
            "{DST}/V4r4/native/time_invariant/OCEAN_3D_MIXING_COEFFS/\
             OCEAN_3D_MIXING_COEFFS_ECCO_V4r4_native_llc0090.nc"
        )]
    );
    // A full plan of the same jobs finds the same inputs by the S3 prefix of each field: the
    // same granule, now held by the event's run.
    let full = plan_run(
        &moto.store,
        &catalog,
        &config(),
        &PlanRequest {
            dry_run: true,
            ..request.clone()
        },
    )
    .await
    .unwrap();
    assert!(full.tasks.is_empty() && full.incomplete.is_empty());
    let held: Vec<&str> = full
        .skipped_claimed
        .iter()
        .map(|c| c.granule.as_str())
        .collect();
    assert_eq!(held, granules(&outcome));
}
