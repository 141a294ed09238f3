//! Task ids (documented canonical hash) and cost-balanced shards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use edp_plan::cost::{CostModel, estimate_cloud_cost_usd, task_kind};
use edp_plan::shard::{ShardError, shard_cost, split_into_shards};
use edp_plan::task_id::{TASK_ID_VERSION, canonical_bytes, is_task_id, task_id};
use edp_plan::tasklist::{ReadOptions, parse_task_list};
use edp_task_schemas::{
    EdpTaskInfo, Frequency, InputObject, ProductKind, ProductType, Shard, ShardSizing, Task,
    XyComponents,
};
use indexmap::IndexMap;
use sha2::{Digest, Sha256};

const GEN_C_FIRST: &str = include_str!("fixtures/edp_gen_c_first_task.json");
const GEN_C_VECTOR: &str = include_str!("fixtures/edp_gen_c_vector_task.json");
const GEN_B_FIRST: &str = include_str!("fixtures/edp_gen_b_first_task.json");

fn first_task() -> Task {
    parse_task_list("t.json", GEN_C_FIRST, &ReadOptions::default())
        .unwrap()
        .tasks
        .remove(0)
}

fn vector_task() -> Task {
    parse_task_list("t.json", GEN_C_VECTOR, &ReadOptions::default())
        .unwrap()
        .tasks
        .remove(0)
}

/// Record encoding of the module documentation, written out independently.
fn record(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    match value {
        Some(v) => out.extend(format!("{name}={}:{v}\n", v.len()).into_bytes()),
        None => out.extend(format!("{name}!\n").into_bytes()),
    }
}

#[test]
fn task_id_is_sha256_of_the_documented_records() {
    let mut task = first_task();
    // Keep one variable to make the expected byte string short.
    task.variables.truncate(1);
    let data = "../data/ecco_results/V4r4/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data";
    let meta = "../data/ecco_results/V4r4/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.meta";
    task.edp = Some(EdpTaskInfo {
        task_id: String::new(),
        product_kind: ProductKind::Native2d,
        vector: false,
        grouping_id: 0,
        product_type: ProductType::Native,
        frequency: Frequency::AvgMon,
        time_step: 732,
        inputs: vec![InputObject {
            location: data.into(),
            size: Some(421_200),
            etag: Some("\"abc\"".into()),
        }],
        cost_core_seconds: 1.0,
        config_hash: "cfg".into(),
        software_version: "0.1.0".into(),
    });

    // Locations are hashed normalised: relative paths against the current directory, `..`
    // resolved (computed here independently with std::path).
    let cwd = std::env::current_dir().unwrap();
    let absolute = |relative: &str| {
        let mut out = std::path::PathBuf::new();
        for part in cwd.join(relative).components() {
            match part {
                std::path::Component::ParentDir => {
                    out.pop();
                }
                std::path::Component::CurDir => {}
                other => out.push(other),
            }
        }
        out.display().to_string()
    };
    let mut expected = Vec::new();
    record(&mut expected, "version", Some("edp-task-id/v2"));
    record(&mut expected, "granule", Some(&absolute(&task.granule)));
    record(&mut expected, "variable", Some("SSH"));
    record(&mut expected, "data", Some(&absolute(data)));
    record(&mut expected, "data_size", Some("421200"));
    record(&mut expected, "data_etag", Some("\"abc\""));
    record(&mut expected, "meta", Some(&absolute(meta)));
    record(&mut expected, "meta_size", None);
    record(&mut expected, "meta_etag", None);
    record(
        &mut expected,
        "ecco_cfg_loc",
        Some(&absolute("../../config/config_V4r4.yaml")),
    );
    record(
        &mut expected,
        "ecco_grid_loc",
        Some(&absolute("../data/ecco_grids/V4r4/grid_ECCOV4r4")),
    );
    // A native granule: no factors location.
    record(
        &mut expected,
        "ecco_metadata_loc",
        Some(&absolute(
            "../ECCO-v4-Configurations/ECCOv4 Release 4/metadata",
        )),
    );
    // dynamic_metadata as compact JSON in Gen C key order, taken from the fixture text.
    let fixture: serde_json::Value = serde_json::from_str(GEN_C_FIRST).unwrap();
    let metadata = serde_json::to_string(&fixture[0]["dynamic_metadata"]).unwrap();
    record(&mut expected, "dynamic_metadata", Some(&metadata));
    record(&mut expected, "config_hash", Some("the-config"));

    assert_eq!(TASK_ID_VERSION, "edp-task-id/v2");
    assert_eq!(
        String::from_utf8(canonical_bytes(&task, "the-config")).unwrap(),
        String::from_utf8(expected.clone()).unwrap()
    );
    let id = task_id(&task, "the-config");
    assert_eq!(id, hex::encode(Sha256::digest(&expected)));
    assert!(is_task_id(&id));
}

#[test]
fn task_id_depends_on_content_not_on_bookkeeping_or_key_order() {
    let task = first_task();
    let id = task_id(&task, "h");
    assert_eq!(task_id(&task, "h"), id, "deterministic");
    assert_ne!(task_id(&task, "other config"), id);

    // Gen B key order of dynamic_metadata with the same content and configuration.
    let mut gen_b = parse_task_list("b.json", GEN_B_FIRST, &ReadOptions::default())
        .unwrap()
        .tasks
        .remove(0);
    gen_b.ecco_cfg_loc = task.ecco_cfg_loc.clone();
    assert_eq!(task_id(&gen_b, "h"), id);

    let mut with_edp = task.clone();
    let mut info = EdpTaskInfo {
        task_id: id.clone(),
        product_kind: ProductKind::Native2d,
        vector: false,
        grouping_id: 0,
        product_type: ProductType::Native,
        frequency: Frequency::AvgMon,
        time_step: 732,
        inputs: Vec::new(),
        cost_core_seconds: 1.0,
        config_hash: "h".into(),
        software_version: "0.1.0".into(),
    };
    with_edp.edp = Some(info.clone());
    assert_eq!(task_id(&with_edp, "h"), id, "bookkeeping without inputs");
    info.cost_core_seconds = 99.0;
    info.software_version = "9.9.9".into();
    with_edp.edp = Some(info.clone());
    assert_eq!(
        task_id(&with_edp, "h"),
        id,
        "cost and version are not content"
    );

    let first_data = task.variables["SSH"][0].data.clone();
    info.inputs = vec![InputObject {
        location: first_data.clone(),
        size: Some(1),
        etag: Some("e1".into()),
    }];
    with_edp.edp = Some(info.clone());
    let id_e1 = task_id(&with_edp, "h");
    assert_ne!(id_e1, id, "a known ETag is content");
    info.inputs[0].etag = Some("e2".into());
    with_edp.edp = Some(info);
    assert_ne!(
        task_id(&with_edp, "h"),
        id_e1,
        "a rewritten input changes the id"
    );

    let mut moved = task.clone();
    moved.granule = moved.granule.replace("./V4r4", "s3://bucket/V4r4");
    assert_ne!(task_id(&moved, "h"), id);

    // The same places spelled otherwise: the same task.
    let cwd = std::env::current_dir().unwrap().display().to_string();
    let mut respelled = task.clone();
    respelled.granule = respelled.granule.replacen("./", &format!("{cwd}/"), 1);
    assert_ne!(respelled.granule, task.granule);
    for pairs in respelled.variables.values_mut() {
        for pair in pairs {
            pair.data = format!("{cwd}/sub/../{}", pair.data);
        }
    }
    assert_eq!(
        task_id(&respelled, "h"),
        id,
        "spelling of locations is not content"
    );

    // The factors location is content of lat-lon granules only.
    let mut other_factors = task.clone();
    other_factors.ecco_mapping_factors_loc = Some("/elsewhere/factors".into());
    assert_eq!(
        task_id(&other_factors, "h"),
        id,
        "native: factors are incidental"
    );
    let latlon = vector_task();
    assert_eq!(
        task_kind(&latlon).unwrap().product_type(),
        ProductType::Latlon
    );
    let mut latlon_moved = latlon.clone();
    latlon_moved.ecco_mapping_factors_loc = Some("/elsewhere/factors".into());
    assert_ne!(task_id(&latlon_moved, "h"), task_id(&latlon, "h"));

    // The id of the previous release is still known (done markers under it count).
    assert_ne!(edp_plan::task_id::legacy_task_id(&task, "h"), id);
}

/// `n` distinct tasks derived from the documented ones, with planner costs.
fn tasks_with_costs(costs: &[f64]) -> Vec<Task> {
    costs
        .iter()
        .enumerate()
        .map(|(i, cost)| {
            let mut task = if i % 2 == 0 {
                first_task()
            } else {
                vector_task()
            };
            task.granule = task.granule.replace("1992", &format!("{}", 1992 + i));
            let id = task_id(&task, "");
            task.edp = Some(EdpTaskInfo {
                task_id: id,
                product_kind: task_kind(&task).unwrap(),
                vector: task.has_vector_variables(),
                grouping_id: 0,
                product_type: ProductType::Native,
                frequency: Frequency::AvgMon,
                time_step: 732,
                inputs: Vec::new(),
                cost_core_seconds: *cost,
                config_hash: String::new(),
                software_version: "0.1.0".into(),
            });
            task
        })
        .collect()
}

fn granules(shards: &[Shard]) -> Vec<Vec<String>> {
    shards
        .iter()
        .map(|s| s.tasks.iter().map(|t| t.granule.clone()).collect())
        .collect()
}

#[test]
fn shards_cover_every_task_once_and_are_balanced() {
    let costs: Vec<f64> = (0..97).map(|i| 1.0 + ((i * 37) % 11) as f64).collect();
    let tasks = tasks_with_costs(&costs);
    let model = CostModel::default();
    let shards =
        split_into_shards("run-1", tasks.clone(), ShardSizing::Count(8), 100, &model).unwrap();

    assert_eq!(shards.len(), 8);
    for (i, shard) in shards.iter().enumerate() {
        assert_eq!(shard.index as usize, i);
        assert_eq!(shard.count, 8);
        assert_eq!(shard.run_id, "run-1");
        shard.check().unwrap();
    }
    let all: Vec<String> = granules(&shards).into_iter().flatten().collect();
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(all.len(), 97);
    assert_eq!(unique.len(), 97);

    // Graham's bound for LPT: max load <= 4/3 of the optimum, and the optimum is at least
    // max(mean load, largest task).
    let loads: Vec<f64> = shards
        .iter()
        .map(|s| shard_cost(s, &model).unwrap())
        .collect();
    let total: f64 = costs.iter().sum();
    assert!((loads.iter().sum::<f64>() - total).abs() < 1e-9);
    let lower = (total / 8.0).max(11.0);
    let max = loads.iter().cloned().fold(0.0, f64::max);
    assert!(max <= lower * 4.0 / 3.0, "max {max}, lower bound {lower}");
}

#[test]
fn shards_are_deterministic_and_independent_of_input_order() {
    let costs: Vec<f64> = (0..40).map(|i| (i % 5) as f64).collect();
    let tasks = tasks_with_costs(&costs);
    let model = CostModel::default();
    let a = split_into_shards("r", tasks.clone(), ShardSizing::Count(6), 100, &model).unwrap();
    let mut reversed = tasks;
    reversed.reverse();
    let b = split_into_shards("r", reversed, ShardSizing::Count(6), 100, &model).unwrap();
    assert_eq!(granules(&a), granules(&b));
}

#[test]
fn shard_count_is_capped_by_tasks_and_never_leaves_a_shard_empty() {
    let tasks = tasks_with_costs(&[0.0, 0.0, 5.0]);
    let model = CostModel::default();
    let shards = split_into_shards("r", tasks, ShardSizing::Count(50), 100, &model).unwrap();
    assert_eq!(shards.len(), 3);
    assert!(shards.iter().all(|s| s.tasks.len() == 1 && s.count == 3));
    assert!(
        split_into_shards("r", Vec::new(), ShardSizing::Count(4), 100, &model)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn target_seconds_sets_the_shard_count() {
    // 30 tasks of 10 core-seconds, target 45 s -> ceil(300 / 45) = 7 shards.
    let tasks = tasks_with_costs(&[10.0; 30]);
    let model = CostModel::default();
    let shards = split_into_shards(
        "r",
        tasks.clone(),
        ShardSizing::TargetSeconds(45.0),
        100,
        &model,
    )
    .unwrap();
    assert_eq!(shards.len(), 7);
    let sizes: Vec<usize> = shards.iter().map(|s| s.tasks.len()).collect();
    assert!(sizes.iter().all(|n| *n == 4 || *n == 5), "{sizes:?}");
    // ... and the maximum shard count caps it.
    let capped =
        split_into_shards("r", tasks, ShardSizing::TargetSeconds(45.0), 5, &model).unwrap();
    assert_eq!(capped.len(), 5);
}

#[test]
fn invalid_costs_are_rejected_with_the_task() {
    let tasks = tasks_with_costs(&[1.0, f64::NAN]);
    let err = split_into_shards(
        "r",
        tasks,
        ShardSizing::Count(2),
        100,
        &CostModel::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, ShardError::InvalidCost { index: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("1993"), "{err}");
}

#[test]
fn cost_model_estimates_edp_tasks_from_their_content() {
    let model = CostModel::default();
    // Native 2-D, four direct variables.
    let native = first_task();
    assert_eq!(task_kind(&native).unwrap(), ProductKind::Native2d);
    let expected = model.native_2d.fixed + 4.0 * model.native_2d.per_input;
    assert!((model.estimate(&native).unwrap() - expected).abs() < 1e-12);
    // Lat-lon 3-D: EVEL and NVEL are vectors (2 components each), WVEL is direct.
    let vector = vector_task();
    assert_eq!(task_kind(&vector).unwrap(), ProductKind::Latlon3d);
    let expected =
        model.latlon_3d.fixed + model.latlon_3d.per_input * (1.0 + model.vector_factor * 4.0);
    assert!((model.estimate(&vector).unwrap() - expected).abs() < 1e-12);
    // A month of ocean velocity granules costs cents on Fargate Spot, not dollars.
    let usd = estimate_cloud_cost_usd(model.estimate(&vector).unwrap() * 31.0, 0.0163);
    assert!(usd > 0.0 && usd < 0.1, "{usd}");
}

/// Every real V4r4 lat-lon vector grouping fits our `field_components` type, and a task built
/// from it validates and is costed as a vector task.
#[test]
fn real_v4r4_vector_groupings_fit_the_task_type() {
    let Some(dir) = edp_testkit::v4r4_metadata_dir() else {
        return;
    };
    let text =
        std::fs::read_to_string(dir.join("ECCOv4r4_groupings_for_latlon_datasets.json")).unwrap();
    let groupings: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let mut vector_groupings = 0;
    for grouping in &groupings {
        let Some(components) = grouping.get("field_components") else {
            continue;
        };
        vector_groupings += 1;
        let components: IndexMap<String, XyComponents> =
            serde_json::from_value(components.clone()).unwrap();
        let mut task = vector_task();
        task.variables.clear();
        for (name, xy) in &components {
            let pairs = [&xy.x, &xy.y]
                .iter()
                .map(|var| {
                    let stem = format!("src/{var}_mon_mean/{var}_mon_mean.0000001428");
                    edp_task_schemas::InputPair::new(format!("{stem}.data"), format!("{stem}.meta"))
                })
                .collect();
            task.variables.insert(name.clone(), pairs);
        }
        task.dynamic_metadata.field_components = Some(components);
        assert!(
            edp_plan::tasklist::validate_task(&task).is_empty(),
            "{}: {:?}",
            grouping["filename"],
            edp_plan::tasklist::validate_task(&task)
        );
        assert!(task.has_vector_variables());
    }
    // docs/edp-compatibility.md 5: lat-lon groupings 4, 6, 8, 11 and 12 have vectors.
    assert_eq!(vector_groupings, 5);
}
