//! The worker's path: a task of an EDP Gen C task list (with and without our `edp` key),
//! inputs held in memory under `s3://` locations, `produce_task`.

use edp_granule::{MemoryInputs, ResourceCache, produce_task};
use edp_task_schemas::Task;

use crate::native::support::*;

const SSH_TASK: &str = r#"{
    "granule": "s3://dest/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc",
    "variables": {
        "SSH": [["s3://src/V4r4/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data",
                 "s3://src/V4r4/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.meta"]],
        "ETAN": [["s3://src/V4r4/diags_monthly/ETAN_mon_mean/ETAN_mon_mean.0000000732.data",
                  "s3://src/V4r4/diags_monthly/ETAN_mon_mean/ETAN_mon_mean.0000000732.meta"]]
    },
    "ecco_cfg_loc": "config_V4r4.yaml",
    "ecco_grid_loc": "grid",
    "ecco_mapping_factors_loc": "factors",
    "ecco_metadata_loc": "metadata",
    "dynamic_metadata": {
        "name": "dynamic sea surface height and model sea level anomaly",
        "dimension": "2D",
        "time_coverage_start": "1992-01-01T12:00:00",
        "time_coverage_end": "1992-02-01T00:00:00",
        "time_coverage_center": "1992-01-16T18:00:00",
        "time_long_name": "center time of averaging period",
        "time_coverage_duration": "P1M",
        "time_coverage_resolution": "P1M",
        "comment": "Grouping comment.",
        "summary": "This dataset contains monthly-averaged dynamic sea surface height."
    }
}"#;

/// The task's inputs in memory: `.data` bytes exactly as MITgcm writes them (the shared
/// `SSH.bin` is already big-endian float32 in compact order) and V4r4-style metas.
fn memory_inputs(fx: &Fixture, task: &Task) -> MemoryInputs {
    let raw = std::fs::read(fx.grid_dir.join("SSH.bin")).unwrap();
    let mut inputs = MemoryInputs::new();
    for (name, pairs) in &task.variables {
        let pair = &pairs[0];
        let mut meta = edp_mds::Meta::new_llc(&pair.meta, N, 1, edp_mds::Precision::F32, 1);
        meta.time_step = Some(732);
        meta.fields = vec![name.clone()];
        inputs.insert(pair.meta.clone(), meta.to_meta_text().into_bytes());
        inputs.insert(pair.data.clone(), raw.clone());
    }
    inputs
}

#[test]
fn an_edp_task_without_our_key_is_resolved_from_names() {
    let Some(fx) = fixture() else { return };
    let task: Task = serde_json::from_str(SSH_TASK).unwrap();
    assert!(task.edp.is_none());
    let inputs = memory_inputs(fx, &task);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("g.nc");
    let report = produce_task(&task, &fx.resources, &inputs, &out).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // Grouping order, not task order: SSH before ETAN.
    let names: Vec<&str> = report.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["SSH", "ETAN"]);
    assert_eq!(report.inputs.len(), 4);
    assert_eq!(
        report.granule_name,
        "SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc"
    );

    let file = open_nc(&out);
    // The granule name (not the local file name) is the product name and PO.DAAC key.
    assert_eq!(global_text(&file, "product_name"), report.granule_name);
    assert_eq!(global_text(&file, "id"), "10.5067/ECL5M-SSH44");
    // Texts of the task are authoritative.
    assert!(global_text(&file, "comment").ends_with(" Grouping comment."));
    assert!(
        global_text(&file, "summary")
            .starts_with("This dataset contains monthly-averaged dynamic sea surface height. ")
    );
    let ssh = to_tiles(&real_2d(fx, "SSH.bin"));
    let got = values_f32(&file, "SSH");
    let depth = to_tiles(&read_f64_be(&fx.grid_dir.join("Depth.data")));
    for idx in (0..CELLS).step_by(11) {
        let want = if depth[idx] > 0.0 { ssh[idx] } else { FILL };
        assert_eq!(got[idx].to_bits(), want.to_bits(), "SSH[{idx}]");
    }
    assert!(global_attr(&file, "edp_task_id").is_none());
}

#[test]
fn task_times_are_authoritative_and_disagreement_is_reported() {
    let Some(fx) = fixture() else { return };
    let mut task: Task = serde_json::from_str(SSH_TASK).unwrap();
    task.dynamic_metadata.time_coverage_center = "1992-01-17T00:00:00".into();
    let text = SSH_TASK.replace(
        "\"dynamic_metadata\"",
        "\"edp\": {\"task_id\": \"abc123\", \"product_kind\": \"native_2d\", \
         \"grouping_id\": 0, \"product_type\": \"native\", \"frequency\": \"AVG_MON\", \
         \"time_step\": 732, \"cost_core_seconds\": 1.0, \"software_version\": \"0\"}, \
         \"dynamic_metadata\"",
    );
    let with_key: Task = serde_json::from_str(&text).unwrap();
    task.edp = with_key.edp;
    let inputs = memory_inputs(fx, &task);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("g.nc");
    let report = produce_task(&task, &fx.resources, &inputs, &out).unwrap();
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("time 372"),
        "{}",
        report.warnings[0]
    );
    let file = open_nc(&out);
    // 1992-01-17T00:00 is 372 h after the model start (the step says 366).
    assert_eq!(values_i32(&file, "time"), [372]);
    assert_eq!(global_text(&file, "edp_task_id"), "abc123");
}

#[test]
fn the_resource_cache_loads_each_location_once() {
    let Some(fx) = fixture() else { return };
    let grid_dir = fx.grid_dir.clone();
    let metadata = edp_testkit::v4r4_metadata_dir().unwrap();
    let cache = ResourceCache::new();
    let a = cache.resources(&grid_dir, &metadata, None).unwrap();
    // The same locations spelled differently are the same resources.
    let b = cache
        .resources(
            &grid_dir.join("."),
            &metadata.join("../ecco-v4r4-metadata"),
            None,
        )
        .unwrap();
    assert!(std::sync::Arc::ptr_eq(&a.grid, &b.grid));
    assert!(std::sync::Arc::ptr_eq(&a.catalog, &b.catalog));
    assert_eq!(cache.loaded(), (1, 1, 1));
    assert_eq!(a.grid.n, 90);
}
