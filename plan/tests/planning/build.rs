//! From a generated results tree to tasks: EDP-identical task lists, completeness,
//! duplicates, explicit steps, the search space, daily and snapshot names.

use edp_conventions::naming::MdsFileKind;
use edp_plan::builder::{BuildWarning, TaskLocations};
use edp_plan::cost::CostModel;
use edp_plan::inventory::{Inventory, InventoryError, InventoryOptions};
use edp_plan::jobfile::ParseOptions;
use edp_plan::planner::{PlanOutcome, PlanRequest, plan_run};
use edp_plan::roots::Root;
use edp_plan::sources::{SourceError, grouping_counts, parse_jobs};
use edp_plan::task_id::{is_task_id, task_id};
use edp_plan::tasklist::{EdpKey, to_python_json};
use edp_store::{Location, Store};
use edp_task_schemas::{ProductKind, Task, TimeSteps};

use super::support::{
    CFG_LOC, FACTORS_LOC, GRID_LOC, JOBS, METADATA_LOC, SOURCE_WRITTEN, STEPS, Tree, catalog,
    config, input_path, jobs, write_input,
};

const GEN_C_FIRST: &str = include_str!("../fixtures/edp_gen_c_first_task.json");
const GEN_C_VECTOR: &str = include_str!("../fixtures/edp_gen_c_vector_task.json");

pub fn locations() -> TaskLocations {
    TaskLocations {
        cfg_loc: Some(CFG_LOC.to_string()),
        grid_loc: Some(GRID_LOC.to_string()),
        factors_loc: Some(FACTORS_LOC.to_string()),
        metadata_loc: Some(METADATA_LOC.to_string()),
    }
}

/// A dry run of `job_text` over `source` into `dest` (reads the local store only).
async fn dry_plan(
    source: Root,
    dest: Root,
    job_text: &str,
    tweak: impl FnOnce(&mut PlanRequest),
) -> Option<PlanOutcome> {
    let catalog = catalog()?;
    let mut request = PlanRequest::new(jobs(&catalog, job_text), source, dest);
    request.locations = locations();
    request.dry_run = true;
    tweak(&mut request);
    let outcome = plan_run(&Store::local_only(), &catalog, &config(), &request)
        .await
        .unwrap();
    Some(outcome)
}

fn granules(outcome: &PlanOutcome) -> Vec<&str> {
    outcome.tasks.iter().map(|t| t.granule.as_str()).collect()
}

fn find<'a>(outcome: &'a PlanOutcome, granule: &str) -> &'a Task {
    outcome
        .tasks
        .iter()
        .find(|t| t.granule == granule)
        .unwrap_or_else(|| panic!("no task {granule} in {:?}", granules(outcome)))
}

fn expected_granules() -> Vec<String> {
    let mut expected = Vec::new();
    for month in ["1992-01", "1992-02"] {
        for (product, grouping, label) in [
            ("native", "SEA_SURFACE_HEIGHT", "llc0090"),
            ("native", "OCEAN_TEMPERATURE_SALINITY", "llc0090"),
            ("latlon", "SEA_SURFACE_HEIGHT", "0p50deg"),
            ("latlon", "OCEAN_VELOCITY", "0p50deg"),
        ] {
            expected.push(format!(
                "./V4r4/{product}/mon_mean/{grouping}/{grouping}_mon_mean_{month}_ECCO_V4r4_{product}_{label}.nc"
            ));
        }
    }
    expected.sort();
    expected
}

#[tokio::test]
async fn plans_the_expected_granules_identical_to_edp_gen_c() {
    let tree = Tree::new(&STEPS);
    let Some(outcome) = dry_plan(tree.source(), tree.dest(), JOBS, |_| {}).await else {
        return;
    };
    assert_eq!(granules(&outcome), expected_granules());
    assert!(outcome.incomplete.is_empty(), "{:?}", outcome.incomplete);
    assert!(outcome.orphans.is_empty());
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);

    // The first task of EDP's demo task list (docs/edp-compatibility.md 2.2), byte for byte.
    let ssh = find(
        &outcome,
        "./V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc",
    );
    assert_eq!(
        to_python_json(&[ssh.without_edp()], EdpKey::Strip).unwrap(),
        GEN_C_FIRST
    );
    // The vector task of the same list: EVEL/NVEL from UVEL+VVEL, WVELMASS renamed WVEL last.
    let velocity = find(
        &outcome,
        "./V4r4/latlon/mon_mean/OCEAN_VELOCITY/OCEAN_VELOCITY_mon_mean_1992-02_ECCO_V4r4_latlon_0p50deg.nc",
    );
    assert_eq!(
        to_python_json(&[velocity.without_edp()], EdpKey::Strip).unwrap(),
        GEN_C_VECTOR
    );

    // The 3-D native dataset: THETA then SALT, 3-D metadata.
    let ts = find(
        &outcome,
        "./V4r4/native/mon_mean/OCEAN_TEMPERATURE_SALINITY/OCEAN_TEMPERATURE_SALINITY_mon_mean_1992-02_ECCO_V4r4_native_llc0090.nc",
    );
    assert_eq!(ts.variables.keys().collect::<Vec<_>>(), ["THETA", "SALT"]);
    assert_eq!(
        ts.variables["SALT"][0].meta,
        format!("{SOURCE_WRITTEN}/diags_monthly/SALT_mon_mean/SALT_mon_mean.0000001428.meta")
    );
    let dm = &ts.dynamic_metadata;
    assert_eq!(dm.dimension.as_str(), "3D");
    // docs/time-axis.md 4, ts = 1428.
    assert_eq!(
        (
            dm.time_coverage_start.as_str(),
            dm.time_coverage_end.as_str(),
            dm.time_coverage_center.as_str()
        ),
        (
            "1992-02-01T00:00:00",
            "1992-03-01T00:00:00",
            "1992-02-15T12:00:00"
        )
    );
    assert!(
        dm.summary
            .starts_with("This dataset contains monthly-averaged ")
    );
    assert!(dm.summary.ends_with(
        " on the native Lat-Lon-Cap 90 (LLC90) model grid from the ECCO Version 4 revision 4 \
         (V4r4) ocean and sea-ice state estimate."
    ));
}

#[tokio::test]
async fn edp_bookkeeping_matches_independent_computations() {
    let tree = Tree::new(&STEPS);
    let Some(outcome) = dry_plan(tree.source(), tree.dest(), JOBS, |_| {}).await else {
        return;
    };
    let config_hash = config().config_hash();
    let model = CostModel::default();
    for task in &outcome.tasks {
        let edp = task.edp.as_ref().unwrap();
        assert!(is_task_id(&edp.task_id));
        assert_eq!(edp.task_id, task_id(task, &config_hash), "{}", task.granule);
        // The content-derived estimate (kind from the file name, components counted).
        let estimate = model.estimate(&task.without_edp()).unwrap();
        assert!(
            (edp.cost_core_seconds - estimate).abs() < 1e-9,
            "{}",
            task.granule
        );
        let latlon = task.granule.contains("/latlon/");
        let three_d = task.granule.contains("OCEAN_");
        let kind = match (latlon, three_d) {
            (false, false) => ProductKind::Native2d,
            (false, true) => ProductKind::Native3d,
            (true, false) => ProductKind::Latlon2d,
            (true, true) => ProductKind::Latlon3d,
        };
        assert_eq!(edp.product_kind, kind, "{}", task.granule);
        assert_eq!(
            edp.vector,
            task.granule.contains("latlon/mon_mean/OCEAN_VELOCITY")
        );
        let step = if task.granule.contains("1992-01") {
            732
        } else {
            1428
        };
        assert_eq!(edp.time_step, step);
        // Every input once, with the size the file system reports.
        let mut listed: Vec<&str> = task
            .input_pairs()
            .flat_map(|(_, p)| [p.data.as_str(), p.meta.as_str()])
            .collect();
        listed.sort();
        listed.dedup();
        assert_eq!(edp.inputs.len(), listed.len());
        for input in &edp.inputs {
            let path =
                input
                    .location
                    .replacen(SOURCE_WRITTEN, tree.source_dir().to_str().unwrap(), 1);
            let size = std::fs::metadata(&path).unwrap().len();
            assert_eq!(input.size, Some(size), "{path}");
            assert!(input.etag.is_some());
        }
    }
    // Summary: the sum of the tasks' input sizes and costs.
    let bytes: u64 = outcome
        .tasks
        .iter()
        .flat_map(|t| &t.edp.as_ref().unwrap().inputs)
        .map(|i| i.size.unwrap())
        .sum();
    assert_eq!(outcome.total.input_bytes, bytes);
    assert_eq!(outcome.total.tasks, 8);
    assert_eq!(outcome.by_kind.len(), 4);
}

#[tokio::test]
async fn a_missing_meta_makes_the_granules_incomplete_and_unplanned() {
    let tree = Tree::new(&STEPS);
    let removed = input_path(
        &tree.source_dir(),
        "diags_monthly",
        "SSHIBC",
        "mon_mean",
        1428,
        "meta",
    );
    std::fs::remove_file(&removed).unwrap();
    let Some(outcome) = dry_plan(tree.source(), tree.dest(), JOBS, |_| {}).await else {
        return;
    };
    let missing_path =
        format!("{SOURCE_WRITTEN}/diags_monthly/SSHIBC_mon_mean/SSHIBC_mon_mean.0000001428.meta");
    let mut expected = expected_granules();
    expected.retain(|g| !(g.contains("SEA_SURFACE_HEIGHT_mon_mean_1992-02")));
    assert_eq!(granules(&outcome), expected);
    let incomplete: Vec<&str> = outcome
        .incomplete
        .iter()
        .map(|i| i.granule.as_str())
        .collect();
    assert_eq!(
        incomplete,
        [
            "./V4r4/latlon/mon_mean/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_mon_mean_1992-02_ECCO_V4r4_latlon_0p50deg.nc",
            "./V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_mon_mean_1992-02_ECCO_V4r4_native_llc0090.nc",
        ]
    );
    for entry in &outcome.incomplete {
        assert!(!entry.planned_partial);
        assert_eq!(entry.step, 1428);
        assert_eq!(entry.missing.len(), 1);
        assert_eq!(entry.missing[0].path, missing_path);
        assert_eq!(entry.missing[0].variable, "SSHIBC");
        assert_eq!(entry.missing[0].kind, MdsFileKind::Meta);
    }
    assert_eq!(outcome.orphans.len(), 1);
    assert_eq!(
        outcome.orphans[0].path,
        missing_path.replace(".meta", ".data")
    );
}

#[tokio::test]
async fn allow_partial_plans_the_complete_variables_and_still_reports_the_gap() {
    let tree = Tree::new(&STEPS);
    let removed = input_path(
        &tree.source_dir(),
        "diags_monthly",
        "SSHIBC",
        "mon_mean",
        1428,
        "meta",
    );
    std::fs::remove_file(&removed).unwrap();
    let Some(outcome) =
        dry_plan(tree.source(), tree.dest(), JOBS, |r| r.allow_partial = true).await
    else {
        return;
    };
    assert_eq!(granules(&outcome), expected_granules());
    let native = find(
        &outcome,
        "./V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_mon_mean_1992-02_ECCO_V4r4_native_llc0090.nc",
    );
    assert_eq!(
        native.variables.keys().collect::<Vec<_>>(),
        ["SSH", "SSHNOIBC", "ETAN"]
    );
    assert_eq!(outcome.incomplete.len(), 2);
    assert!(outcome.incomplete.iter().all(|i| i.planned_partial));
}

#[tokio::test]
async fn a_missing_vector_component_makes_the_vector_granule_incomplete() {
    let tree = Tree::new(&STEPS);
    let removed = input_path(
        &tree.source_dir(),
        "diags_monthly",
        "VVEL",
        "mon_mean",
        732,
        "data",
    );
    std::fs::remove_file(&removed).unwrap();
    let Some(outcome) = dry_plan(tree.source(), tree.dest(), JOBS, |_| {}).await else {
        return;
    };
    assert_eq!(outcome.tasks.len(), 7);
    assert_eq!(outcome.incomplete.len(), 1);
    let entry = &outcome.incomplete[0];
    assert_eq!(
        entry.granule,
        "./V4r4/latlon/mon_mean/OCEAN_VELOCITY/OCEAN_VELOCITY_mon_mean_1992-01_ECCO_V4r4_latlon_0p50deg.nc"
    );
    let missing: Vec<(&str, &str, MdsFileKind)> = entry
        .missing
        .iter()
        .map(|m| (m.variable.as_str(), m.input.as_str(), m.kind))
        .collect();
    assert_eq!(
        missing,
        [
            ("EVEL", "VVEL", MdsFileKind::Data),
            ("NVEL", "VVEL", MdsFileKind::Data)
        ]
    );
}

#[tokio::test]
async fn inputs_found_twice_are_an_error_naming_both_paths() {
    let tree = Tree::new(&STEPS);
    let original = input_path(
        &tree.source_dir(),
        "diags_monthly",
        "SSH",
        "mon_mean",
        732,
        "data",
    );
    let copy_dir = tree.source_dir().join("backup");
    std::fs::create_dir_all(&copy_dir).unwrap();
    std::fs::copy(&original, copy_dir.join("SSH_mon_mean.0000000732.data")).unwrap();
    let err = Inventory::from_store(
        &Store::local_only(),
        &tree.source(),
        &InventoryOptions::for_config(&config()),
    )
    .await
    .unwrap_err();
    let InventoryError::Duplicates { duplicates, .. } = &err else {
        panic!("expected duplicates, got {err}");
    };
    assert_eq!(duplicates.len(), 1);
    let mut both = [duplicates[0].first.clone(), duplicates[0].second.clone()];
    both.sort();
    assert_eq!(
        both,
        [
            format!("{SOURCE_WRITTEN}/backup/SSH_mon_mean.0000000732.data"),
            format!("{SOURCE_WRITTEN}/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data"),
        ]
    );
    assert!(
        err.to_string()
            .contains("backup/SSH_mon_mean.0000000732.data")
    );
}

#[tokio::test]
async fn explicit_steps_work_on_a_local_root() {
    let tree = Tree::new(&STEPS);
    let Some(outcome) = dry_plan(
        tree.source(),
        tree.dest(),
        "[0,'native','AVG_MON',[1428]]\n",
        |_| {},
    )
    .await
    else {
        return;
    };
    assert_eq!(
        granules(&outcome),
        [
            "./V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_mon_mean_1992-02_ECCO_V4r4_native_llc0090.nc"
        ]
    );
    // Gen B spelling of the same job: a string holding the list.
    let Some(gen_b) = dry_plan(
        tree.source(),
        tree.dest(),
        "[0,'native','AVG_MON','[1428]']\n",
        |_| {},
    )
    .await
    else {
        return;
    };
    assert_eq!(granules(&gen_b), granules(&outcome));
}

#[tokio::test]
async fn an_explicit_step_without_inputs_is_reported_with_the_directories_searched() {
    let tree = Tree::new(&STEPS);
    let Some(outcome) = dry_plan(
        tree.source(),
        tree.dest(),
        "[0,'native','AVG_MON',[2172]]\n",
        |_| {},
    )
    .await
    else {
        return;
    };
    assert!(outcome.tasks.is_empty());
    assert_eq!(outcome.incomplete.len(), 1);
    // 4 variables x (.data, .meta), expected in EDP's layout.
    assert_eq!(outcome.incomplete[0].missing.len(), 8);
    assert!(outcome.incomplete[0].missing.iter().any(|m| m.path
        == format!("{SOURCE_WRITTEN}/diags_monthly/ETAN_mon_mean/ETAN_mon_mean.0000002172.meta")));
    let searched = outcome
        .warnings
        .iter()
        .find_map(|w| match w {
            BuildWarning::NoTasks { searched, .. } => Some(searched.clone()),
            _ => None,
        })
        .expect("a no-task warning");
    assert_eq!(
        searched,
        ["SSH", "SSHIBC", "SSHNOIBC", "ETAN"]
            .map(|v| format!("{SOURCE_WRITTEN}/diags_monthly/{v}_mon_mean"))
    );
}

#[tokio::test]
async fn repeated_jobs_plan_each_granule_once() {
    let tree = Tree::new(&STEPS);
    let text = "[0,'native','AVG_MON','all']\n[0,'native','AVG_MON',[732]]\n";
    let Some(outcome) = dry_plan(tree.source(), tree.dest(), text, |_| {}).await else {
        return;
    };
    assert_eq!(outcome.tasks.len(), 2);
    assert!(
        outcome
            .warnings
            .iter()
            .any(|w| matches!(w, BuildWarning::DuplicateGranules { count: 1, .. }))
    );
}

#[tokio::test]
async fn the_version_filter_limits_the_local_search_space_like_edp() {
    let dir = tempfile::tempdir().unwrap();
    let root_dir = dir.path().join("results");
    // Outside the search space: no "V4r4" in the directory path as written.
    write_input(&root_dir, "diags_monthly", "SSH", "mon_mean", 732, 1);
    // Inside: a directory whose path contains the version.
    let inside = root_dir.join("V4r4_run");
    for variable in ["SSH", "SSHIBC", "SSHNOIBC", "ETAN"] {
        write_input(&inside, "diags_monthly", variable, "mon_mean", 732, 1);
    }
    let source = Root::with_written(Location::local(&root_dir).unwrap(), "results");
    let dest = Root::with_written(Location::local(dir.path().join("out")).unwrap(), "out");
    let Some(outcome) = dry_plan(source, dest, "[0,'native','AVG_MON','all']\n", |_| {}).await
    else {
        return;
    };
    assert_eq!(outcome.tasks.len(), 1);
    assert_eq!(
        outcome.tasks[0].variables["SSH"][0].data,
        "results/V4r4_run/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data"
    );
    assert_eq!(outcome.inventory.outside_search_space, 2);
    assert_eq!(outcome.inventory.files, 8);
}

#[tokio::test]
async fn daily_and_snapshot_granules_are_named_by_centre_and_instant() {
    let dir = tempfile::tempdir().unwrap();
    let root_dir = dir.path().join("V4r4");
    for variable in ["SSH", "SSHIBC", "SSHNOIBC", "ETAN"] {
        write_input(&root_dir, "diags_daily", variable, "day_mean", 12, 1);
        write_input(&root_dir, "diags_inst", variable, "day_inst", 12, 1);
    }
    let source = Root::with_written(Location::local(&root_dir).unwrap(), "V4r4");
    let dest = Root::with_written(Location::local(dir.path().join("out")).unwrap(), "out");
    let text = "[0,'native','AVG_DAY','all']\n[0,'native','SNAP','all']\n";
    let Some(outcome) = dry_plan(source, dest, text, |_| {}).await else {
        return;
    };
    // docs/time-axis.md 4, docs/naming.md 1.
    assert_eq!(
        granules(&outcome),
        [
            "out/V4r4/native/day_mean/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_day_mean_1992-01-01_ECCO_V4r4_native_llc0090.nc",
            "out/V4r4/native/snap/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_snap_1992-01-02T000000_ECCO_V4r4_native_llc0090.nc",
        ]
    );
    let daily = &outcome.tasks[0].dynamic_metadata;
    assert_eq!(
        (
            daily.time_coverage_start.as_str(),
            daily.time_coverage_end.as_str(),
            daily.time_coverage_center.as_str(),
            daily.time_coverage_duration.as_str()
        ),
        (
            "1992-01-01T12:00:00",
            "1992-01-02T00:00:00",
            "1992-01-01T18:00:00",
            "P1D"
        )
    );
    let snap = &outcome.tasks[1].dynamic_metadata;
    assert_eq!(snap.time_coverage_start, "1992-01-02T00:00:00");
    assert_eq!(snap.time_coverage_end, "1992-01-02T00:00:00");
    assert_eq!(snap.time_long_name, "snapshot time");
    assert_eq!(snap.time_coverage_duration, "PT0S");
    assert_eq!(
        outcome.tasks[1].variables["ETAN"][0].data,
        "V4r4/diags_inst/ETAN_day_inst/ETAN_day_inst.0000000012.data"
    );
}

#[tokio::test]
async fn a_frequency_the_grouping_does_not_list_warns() {
    let tree = Tree::new(&STEPS);
    let Some(outcome) = dry_plan(
        tree.source(),
        tree.dest(),
        "[2,'native','SNAP','all']\n",
        |_| {},
    )
    .await
    else {
        return;
    };
    assert!(outcome.tasks.is_empty());
    assert!(outcome.warnings.iter().any(|w| matches!(
        w,
        BuildWarning::UnsupportedFrequency { grouping, listed, .. }
            if grouping == "OCEAN_AND_ICE_SURFACE_FW_FLUX" && listed == "AVG_DAY, AVG_MON"
    )));
    assert!(
        outcome
            .warnings
            .iter()
            .any(|w| matches!(w, BuildWarning::NoTasks { .. }))
    );
}

#[test]
fn json_job_specs_are_read_and_checked_against_the_catalog() {
    let Some(catalog) = catalog() else { return };
    let counts = grouping_counts(&catalog).unwrap();
    let spec = r#"{
        "jobs": [
            {"grouping_id": 0, "product_type": "native", "frequency": "AVG_MON", "time_steps": "all"},
            {"grouping_id": 11, "product_type": "latlon", "frequency": "AVG_DAY", "time_steps": [12, 36]}
        ],
        "source_root": "s3://ecco-model-granules/V4r4",
        "dest_root": "s3://my-products"
    }"#;
    let loaded = parse_jobs("spec.json", spec, &counts, &ParseOptions::default()).unwrap();
    assert_eq!(loaded.jobs.len(), 2);
    assert_eq!(loaded.jobs[1].time_steps, TimeSteps::Steps(vec![12, 36]));
    let spec = loaded.spec.unwrap();
    assert_eq!(spec.dest_root.as_deref(), Some("s3://my-products"));

    // The V4r4 metadata lists 13 lat-lon groupings (0..=12); the catalog adds grouping 13 for
    // the lat-lon mixing coefficients that only the PO.DAAC table lists (a documented repair).
    assert_eq!(counts.latlon, 14);
    let bad = r#"{"jobs": [{"grouping_id": 14, "product_type": "latlon", "frequency": "AVG_MON", "time_steps": "all"}]}"#;
    let err = parse_jobs("spec.json", bad, &counts, &ParseOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            SourceError::GroupingOutOfRange {
                id: 14,
                count: 14,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("spec.json"), "{err}");
    // A misspelt key is an error, not ignored.
    let misspelt = r#"{"jobs": [], "dest_rot": "x"}"#;
    let err = parse_jobs("spec.json", misspelt, &counts, &ParseOptions::default()).unwrap_err();
    assert!(err.to_string().contains("dest_rot"), "{err}");
}

/// Writes the V4r4 mixing-coefficient fields as time-invariant inputs
/// (`<root>/time_invariant/<F>/<F>.{data,meta}`, no step) on LLC2 with 3 levels.
fn write_time_invariant_fields(root: &std::path::Path) {
    for field in ["DIFFKR", "KAPGM", "KAPREDI"] {
        let dir = root.join("time_invariant").join(field);
        std::fs::create_dir_all(&dir).unwrap();
        let meta =
            edp_mds::Meta::new_llc(format!("{field}.meta"), 2, 3, edp_mds::Precision::F32, 1);
        let values = vec![1.0f32; meta.n_values()];
        edp_mds::write_mds(dir.join(field), &meta, &values, edp_mds::ByteOrder::Big).unwrap();
    }
}

#[tokio::test]
async fn time_invariant_jobs_plan_one_granule_each_from_step_less_inputs() {
    let tree = Tree::new(&STEPS);
    let source = tree.source_dir();
    write_time_invariant_fields(&source);
    // Step-less names elsewhere are not inputs: a grid file, a field in another's folder.
    std::fs::create_dir_all(source.join("grid")).unwrap();
    std::fs::write(source.join("grid/XC.data"), b"x").unwrap();
    std::fs::write(source.join("time_invariant/DIFFKR/KAPGM.data"), b"x").unwrap();
    // Steps of a time-invariant job do not matter: one granule, from the inputs at step 0.
    let jobs = "[20,'native','TIME-INVARIANT','all']\n[13,'latlon','TI',[732, 1428]]\n";
    let Some(outcome) = dry_plan(tree.source(), tree.dest(), jobs, |_| {}).await else {
        return;
    };
    let expected = [
        "./V4r4/latlon/time_invariant/OCEAN_3D_MIXING_COEFFS/OCEAN_3D_MIXING_COEFFS_ECCO_V4r4_latlon_0p50deg.nc",
        "./V4r4/native/time_invariant/OCEAN_3D_MIXING_COEFFS/OCEAN_3D_MIXING_COEFFS_ECCO_V4r4_native_llc0090.nc",
    ];
    let mut planned = granules(&outcome);
    planned.sort();
    assert_eq!(planned, expected);
    let config = config();
    for granule in expected {
        let task = find(&outcome, granule);
        let edp = task.edp.as_ref().unwrap();
        assert_eq!(edp.frequency, edp_task_schemas::Frequency::TimeInvariant);
        assert_eq!(edp.time_step, 0);
        let names: Vec<&str> = task.variables.keys().map(String::as_str).collect();
        assert_eq!(names, ["DIFFKR", "KAPGM", "KAPREDI"]);
        for (name, pairs) in &task.variables {
            let stem = format!("{SOURCE_WRITTEN}/time_invariant/{name}/{name}");
            assert_eq!(pairs[0].data, format!("{stem}.data"));
            assert_eq!(pairs[0].meta, format!("{stem}.meta"));
        }
        assert_eq!(edp.inputs.len(), 6);
        assert!(edp.inputs.iter().all(|i| i.size.is_some_and(|s| s > 0)));
        // No time coverage of its own: the model run's, as ECCO's time-invariant granules.
        let dynamic = &task.dynamic_metadata;
        assert_eq!(
            dynamic.time_coverage_start,
            edp_conventions::time::format_time(config.clock.start())
        );
        assert!(
            dynamic.summary.starts_with("This dataset provides "),
            "{}",
            dynamic.summary
        );
        edp_plan::validate::validate_task(task, &config.clock).unwrap();
    }

    // A missing field: both granules incomplete, the expected path named.
    std::fs::remove_file(source.join("time_invariant/KAPGM/KAPGM.meta")).unwrap();
    let Some(outcome) = dry_plan(tree.source(), tree.dest(), jobs, |_| {}).await else {
        return;
    };
    assert!(outcome.tasks.is_empty(), "{:?}", granules(&outcome));
    assert_eq!(outcome.incomplete.len(), 2);
    for entry in &outcome.incomplete {
        assert_eq!(entry.missing.len(), 1);
        assert_eq!(
            entry.missing[0].path,
            format!("{SOURCE_WRITTEN}/time_invariant/KAPGM/KAPGM.meta")
        );
    }
}
