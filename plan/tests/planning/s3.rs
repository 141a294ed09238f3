//! The same planning against the moto S3 emulator (skipped with a message when moto is not
//! installed outside CI): S3 roots give the same plan as local ones with `s3://` paths, the
//! catalog loads from an S3 prefix, and concurrent planners share the granules.

use std::collections::BTreeSet;

use edp_conventions::catalog::LoadOptions;
use edp_plan::planner::{PlanRequest, plan_run};
use edp_plan::roots::Root;
use edp_plan::sources::load_catalog;
use edp_plan::state::{Layout, task_key};
use edp_store::{Location, Store};
use edp_task_schemas::{Claim, Task};

use super::build::locations;
use super::runs::granule_set;
use super::support::{JOBS, Moto, SOURCE_WRITTEN, STEPS, Tree, catalog, config, jobs};

/// The task as JSON with the two roots replaced by placeholders (matched with the opening
/// quote, so only path prefixes are replaced).
fn comparable(task: &Task, source: &str, dest: &str) -> String {
    let text = serde_json::to_string(&task.without_edp()).unwrap();
    text.replace(&format!("\"{source}/"), "\"SOURCE/")
        .replace(&format!("\"{dest}/"), "\"DEST/")
}

#[tokio::test]
async fn an_s3_root_gives_the_local_plan_with_s3_paths() {
    let Some(local_catalog) = catalog() else {
        return;
    };
    let Some(moto) = Moto::start(&["edp-src", "edp-dst", "edp-meta"]).await else {
        return;
    };
    let tree = Tree::new(&STEPS);
    moto.upload(
        &tree.source_dir(),
        &Location::parse("s3://edp-src/V4r4").unwrap(),
    )
    .await;
    // The metadata catalog from an S3 prefix gives the same groupings.
    let metadata_dir = edp_testkit::v4r4_metadata_dir().unwrap();
    moto.upload(
        &metadata_dir,
        &Location::parse("s3://edp-meta/metadata").unwrap(),
    )
    .await;
    let s3_catalog = load_catalog(
        &moto.store,
        "s3://edp-meta/metadata",
        &LoadOptions::default(),
    )
    .await
    .unwrap();

    let mut local = PlanRequest::new(jobs(&local_catalog, JOBS), tree.source(), tree.dest());
    local.locations = locations();
    local.dry_run = true;
    let local = plan_run(&Store::local_only(), &local_catalog, &config(), &local)
        .await
        .unwrap();

    let source = Root::parse("s3://edp-src/V4r4/").unwrap();
    let dest = Root::parse("s3://edp-dst/out").unwrap();
    let mut remote = PlanRequest::new(jobs(&s3_catalog, JOBS), source, dest);
    remote.locations = locations();
    remote.dry_run = true;
    let remote = plan_run(&moto.store, &s3_catalog, &config(), &remote)
        .await
        .unwrap();

    assert_eq!(remote.tasks.len(), 8);
    assert_eq!(
        remote.tasks[0].variables.values().next().unwrap()[0]
            .data
            .split("/diags_monthly/")
            .next(),
        Some("s3://edp-src/V4r4")
    );
    assert!(
        remote
            .tasks
            .iter()
            .all(|t| t.granule.starts_with("s3://edp-dst/out/V4r4/"))
    );
    let local_view: Vec<String> = local
        .tasks
        .iter()
        .map(|t| comparable(t, SOURCE_WRITTEN, "."))
        .collect();
    let remote_view: Vec<String> = remote
        .tasks
        .iter()
        .map(|t| comparable(t, "s3://edp-src/V4r4", "s3://edp-dst/out"))
        .collect();
    assert_eq!(remote_view, local_view);
    // Same sizes; S3 ETags are MD5 digests of the content.
    for (l, r) in local.tasks.iter().zip(&remote.tasks) {
        let sizes = |t: &Task| -> Vec<Option<u64>> {
            t.edp
                .as_ref()
                .unwrap()
                .inputs
                .iter()
                .map(|i| i.size)
                .collect()
        };
        assert_eq!(sizes(l), sizes(r));
        for input in &r.edp.as_ref().unwrap().inputs {
            let etag = input.etag.as_deref().unwrap();
            assert!(etag.len() == 32 && !etag.contains('"'), "{etag}");
        }
    }
    assert_eq!(remote.total.input_bytes, local.total.input_bytes);

    // Explicit steps work on S3 roots too (EDP bug 7.2 concerns local roots only).
    let mut explicit = PlanRequest::new(
        jobs(&s3_catalog, "[0,'native','AVG_MON',[1428]]\n"),
        Root::parse("s3://edp-src/V4r4").unwrap(),
        Root::parse("s3://edp-dst/out").unwrap(),
    );
    explicit.dry_run = true;
    let explicit = plan_run(&moto.store, &s3_catalog, &config(), &explicit)
        .await
        .unwrap();
    let granules: Vec<&str> = explicit.tasks.iter().map(|t| t.granule.as_str()).collect();
    assert_eq!(
        granules,
        [
            "s3://edp-dst/out/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_mon_mean_1992-02_ECCO_V4r4_native_llc0090.nc"
        ]
    );
}

#[tokio::test]
async fn concurrent_planners_on_s3_share_the_granules() {
    let Some(catalog) = catalog() else { return };
    let Some(moto) = Moto::start(&["edp-src", "edp-dst"]).await else {
        return;
    };
    let tree = Tree::new(&STEPS);
    moto.upload(
        &tree.source_dir(),
        &Location::parse("s3://edp-src/V4r4").unwrap(),
    )
    .await;
    let source = Root::parse("s3://edp-src/V4r4").unwrap();
    let dest = Root::parse("s3://edp-dst/products").unwrap();
    let config = config();
    let mut request = PlanRequest::new(jobs(&catalog, JOBS), source, dest.clone());
    request.locations = locations();
    let (a, b) = tokio::join!(
        plan_run(&moto.store, &catalog, &config, &request),
        plan_run(&moto.store, &catalog, &config, &request)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let (one, two) = (granule_set(&a), granule_set(&b));
    assert!(one.is_disjoint(&two));
    let union: BTreeSet<String> = one.union(&two).cloned().collect();
    assert_eq!(union.len(), 8);

    // Each claim in the bucket names the run that planned the task.
    let layout = Layout::new(dest.location());
    for outcome in [&a, &b] {
        for task in &outcome.tasks {
            let bytes = moto
                .store
                .get(&layout.claim(&task_key(task)))
                .await
                .unwrap();
            let claim: Claim = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(claim.run_id, outcome.run_id);
        }
        if !outcome.tasks.is_empty() {
            let record = outcome.run_record.as_ref().unwrap();
            assert_eq!(record.task_count as usize, outcome.tasks.len());
        }
    }
    // A third planner after both finds nothing left.
    let c = plan_run(&moto.store, &catalog, &config, &request)
        .await
        .unwrap();
    assert!(c.tasks.is_empty());
    assert_eq!(c.skipped_claimed.len(), 8);
}
