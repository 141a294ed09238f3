//! Task lists: reading EDP Gen B/C lists, reporting every invalid task, and writing lists
//! byte-identical to CPython's `json.dump(task_list, fp, indent=4)`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edp_plan::tasklist::{
    EdpKey, ReadOptions, TaskListError, parse_task_list, python_json, to_python_json,
    unsupported_reason, validate_task,
};
use edp_task_schemas::{
    EdpTaskInfo, Frequency, InputObject, ProductKind, ProductType, Task, TaskGeneration,
};

const GEN_C_FIRST: &str = include_str!("fixtures/edp_gen_c_first_task.json");
const GEN_C_VECTOR: &str = include_str!("fixtures/edp_gen_c_vector_task.json");
const GEN_B_FIRST: &str = include_str!("fixtures/edp_gen_b_first_task.json");
const GEN_B_REWRITTEN: &str = include_str!("fixtures/edp_gen_b_first_task_rewritten.json");

fn parse(text: &str) -> Vec<Task> {
    parse_task_list("tasks.json", text, &ReadOptions::default())
        .unwrap()
        .tasks
}

fn invalid_problems(text: &str) -> Vec<(usize, Vec<String>)> {
    match parse_task_list("tasks.json", text, &ReadOptions::default()) {
        Err(TaskListError::InvalidTasks { invalid, .. }) => invalid
            .into_iter()
            .map(|task| (task.index, task.problems))
            .collect(),
        other => panic!("expected invalid tasks, got {other:?}"),
    }
}

#[test]
fn documented_gen_c_entry_round_trips_byte_for_byte() {
    let parsed = parse_task_list("tasks_V4r4.json", GEN_C_FIRST, &ReadOptions::default()).unwrap();
    assert_eq!(parsed.generation, Some(TaskGeneration::C));
    assert!(parsed.unknown_keys.is_empty());
    let task = &parsed.tasks[0];
    assert_eq!(
        task.variables.keys().collect::<Vec<_>>(),
        ["SSH", "SSHIBC", "SSHNOIBC", "ETAN"]
    );
    assert_eq!(
        to_python_json(&parsed.tasks, EdpKey::Strip).unwrap(),
        GEN_C_FIRST
    );
}

#[test]
fn vector_task_round_trips_with_field_components_before_summary() {
    let tasks = parse(GEN_C_VECTOR);
    let task = &tasks[0];
    assert!(task.has_vector_variables());
    assert_eq!(task.vector_components("EVEL").unwrap().x, "UVEL");
    assert!(task.vector_components("WVEL").is_none());
    assert_eq!(to_python_json(&tasks, EdpKey::Keep).unwrap(), GEN_C_VECTOR);
}

#[test]
fn gen_b_is_read_and_rewritten_in_gen_c_order() {
    let parsed = parse_task_list("gen_b.json", GEN_B_FIRST, &ReadOptions::default()).unwrap();
    assert_eq!(parsed.generation, Some(TaskGeneration::B));
    assert_eq!(parsed.tasks[0].ecco_cfg_loc, None);
    assert_eq!(
        to_python_json(&parsed.tasks, EdpKey::Strip).unwrap(),
        GEN_B_REWRITTEN
    );

    // With the configuration of the command line (Gen B `--cfgfile`) the task becomes the
    // documented Gen C entry, whose ecco_cfg_loc is this path.
    let options = ReadOptions {
        default_cfg_loc: Some("../../config/config_V4r4.yaml".into()),
        require_cfg_loc: true,
    };
    let filled = parse_task_list("gen_b.json", GEN_B_FIRST, &options).unwrap();
    assert_eq!(
        to_python_json(&filled.tasks, EdpKey::Strip).unwrap(),
        GEN_C_FIRST
    );
}

#[test]
fn gen_b_without_any_configuration_is_rejected_when_required() {
    let options = ReadOptions {
        default_cfg_loc: None,
        require_cfg_loc: true,
    };
    let err = parse_task_list("gen_b.json", GEN_B_FIRST, &options).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("gen_b.json") && text.contains("ecco_cfg_loc"),
        "{text}"
    );
}

#[test]
fn python_json_writer_matches_cpython_output() {
    let input: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/python_json_input.json")).unwrap();
    assert_eq!(
        python_json::to_string_indent4(&input),
        include_str!("fixtures/python_json_dump_indent4.json")
    );
}

#[test]
fn empty_task_list_is_written_as_python_does() {
    assert_eq!(to_python_json(&[], EdpKey::Keep).unwrap(), "[]");
    let parsed = parse_task_list("empty.json", "[]", &ReadOptions::default()).unwrap();
    assert!(parsed.tasks.is_empty());
    assert_eq!(parsed.generation, None);
}

#[test]
fn every_invalid_task_is_reported_together() {
    let good: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(GEN_C_FIRST).unwrap()[0].clone();

    let mut bad_suffix = good.clone();
    bad_suffix["variables"]["SSH"][0][1] = "x/SSH_mon_mean.0000000732.dat".into();
    let mut stem_mismatch = good.clone();
    stem_mismatch["variables"]["ETAN"][0][1] = "x/ETAN_mon_mean.0000001428.meta".into();
    let mut bad_dimension = good.clone();
    bad_dimension["dynamic_metadata"]["dimension"] = "4D".into();
    let mut bad_time = good.clone();
    bad_time["dynamic_metadata"]["time_coverage_end"] = "1992-02-01 00:00".into();
    let mut bad_granule = good.clone();
    bad_granule["granule"] = "./V4r4/native/mon_mean/SSH/SSH_1992-01.nc4".into();
    let mut three_elements = good.clone();
    three_elements["variables"]["SSH"][0] = serde_json::json!(["a.data", "a.meta", "b.data"]);
    let mut time_order = good.clone();
    time_order["dynamic_metadata"]["time_coverage_center"] = "1992-03-01T00:00:00".into();

    let list = serde_json::Value::Array(vec![
        good.clone(),
        bad_suffix,
        stem_mismatch,
        good,
        bad_dimension,
        bad_time,
        bad_granule,
        three_elements,
        time_order,
    ]);
    let text = serde_json::to_string(&list).unwrap();
    let err = parse_task_list("list.json", &text, &ReadOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("list.json: 7 of 9 task(s) invalid"),
        "{message}"
    );

    let problems = invalid_problems(&text);
    let indices: Vec<usize> = problems.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, [1, 2, 4, 5, 6, 7, 8]);
    let first = |i: usize| {
        problems
            .iter()
            .find(|(j, _)| *j == i)
            .unwrap()
            .1
            .join(" | ")
    };
    assert!(first(1).contains("must end in '.meta'"), "{}", first(1));
    assert!(first(2).contains("stems differ"), "{}", first(2));
    assert!(first(4).contains("4D"), "{}", first(4));
    assert!(first(5).contains("time_coverage_end"), "{}", first(5));
    assert!(first(6).contains("granule"), "{}", first(6));
    assert!(first(7).contains("[data, meta] pair"), "{}", first(7));
    assert!(first(8).contains("start <= center <= end"), "{}", first(8));
}

#[test]
fn vector_variables_need_two_components_in_x_y_order() {
    let good: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(GEN_C_VECTOR).unwrap()[0].clone();

    let mut swapped = good.clone();
    let evel = swapped["variables"]["EVEL"].as_array_mut().unwrap();
    evel.swap(0, 1);
    let mut one_component = good.clone();
    one_component["variables"]["NVEL"]
        .as_array_mut()
        .unwrap()
        .pop();
    let mut direct_with_two = good.clone();
    let extra = direct_with_two["variables"]["WVEL"][0].clone();
    direct_with_two["variables"]["WVEL"]
        .as_array_mut()
        .unwrap()
        .push(extra);

    let text = serde_json::to_string(&vec![good, swapped, one_component, direct_with_two]).unwrap();
    let problems = invalid_problems(&text);
    assert_eq!(problems.len(), 3);
    let joined: Vec<String> = problems.iter().map(|(_, p)| p.join(" | ")).collect();
    assert!(
        joined[0].contains("x component must be UVEL"),
        "{}",
        joined[0]
    );
    assert!(
        joined[0].contains("y component must be VVEL"),
        "{}",
        joined[0]
    );
    assert!(joined[1].contains("expected 2 components"), "{}", joined[1]);
    assert!(
        joined[2].contains("variable WVEL: expected 1"),
        "{}",
        joined[2]
    );
}

#[test]
fn unknown_keys_are_ignored_and_listed() {
    let mut value: serde_json::Value = serde_json::from_str(GEN_C_FIRST).unwrap();
    value[0]["priority"] = 3.into();
    value[0]["dynamic_metadata"]["extra"] = "x".into();
    let text = serde_json::to_string(&value).unwrap();
    let parsed = parse_task_list("t.json", &text, &ReadOptions::default()).unwrap();
    let keys: Vec<&str> = parsed.unknown_keys.iter().map(|k| k.key.as_str()).collect();
    assert_eq!(keys, ["priority", "dynamic_metadata.extra"]);
    // Written back without them: exactly the original entry.
    assert_eq!(
        to_python_json(&parsed.tasks, EdpKey::Keep).unwrap(),
        GEN_C_FIRST
    );
}

#[test]
fn our_edp_key_comes_last_and_can_be_stripped() {
    let mut tasks = parse(GEN_C_FIRST);
    tasks[0].edp = Some(EdpTaskInfo {
        task_id: "ab".repeat(32),
        product_kind: ProductKind::Native2d,
        vector: false,
        grouping_id: 0,
        product_type: ProductType::Native,
        frequency: Frequency::AvgMon,
        time_step: 732,
        inputs: vec![InputObject {
            location: "a.data".into(),
            size: Some(421_200),
            etag: Some("e1".into()),
        }],
        cost_core_seconds: 0.75,
        config_hash: String::new(),
        software_version: "0.1.0".into(),
    });
    let with_edp = to_python_json(&tasks, EdpKey::Keep).unwrap();
    let value: serde_json::Value = serde_json::from_str(&with_edp).unwrap();
    let keys: Vec<&String> = value[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.last().unwrap().as_str(), "edp");
    assert!(with_edp.contains("\"cost_core_seconds\": 0.75"));
    // Reading it back keeps our bookkeeping.
    let back = parse(&with_edp);
    assert_eq!(back, tasks);
    assert_eq!(to_python_json(&tasks, EdpKey::Strip).unwrap(), GEN_C_FIRST);
}

#[test]
fn duplicate_granules_are_reported_not_rejected() {
    let value: serde_json::Value = serde_json::from_str(GEN_C_FIRST).unwrap();
    let twice = serde_json::Value::Array(vec![value[0].clone(), value[0].clone()]);
    let parsed = parse_task_list("t.json", &twice.to_string(), &ReadOptions::default()).unwrap();
    assert_eq!(parsed.tasks.len(), 2);
    assert_eq!(parsed.duplicate_granules.len(), 1);
    assert_eq!(parsed.duplicate_granules[0].first, 0);
    assert_eq!(parsed.duplicate_granules[0].duplicate, 1);
}

#[test]
fn not_json_or_not_an_array_is_an_error_naming_the_file() {
    let err = parse_task_list("a.json", "{\"granule\": 1}", &ReadOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a.json: expected a JSON array of tasks, found an object"
    );
    let err = parse_task_list("b.json", "[{", &ReadOptions::default()).unwrap_err();
    assert!(
        err.to_string().starts_with("b.json: not valid JSON"),
        "{err}"
    );
}

#[test]
fn time_invariant_tasks_are_accepted_but_unsupported() {
    let mut value: serde_json::Value = serde_json::from_str(GEN_C_FIRST).unwrap();
    value[0]["input_netcdf"] = "GRID_GEOMETRY_ECCO_V4r4_native_llc0090.nc".into();
    value[0]["strip_attributes"] = true.into();
    let tasks = parse(&value.to_string());
    assert!(validate_task(&tasks[0]).is_empty());
    assert!(
        unsupported_reason(&tasks[0])
            .unwrap()
            .contains("input_netcdf")
    );
    assert!(unsupported_reason(&parse(GEN_C_FIRST)[0]).is_none());
}

#[test]
fn null_locations_from_edp_runs_without_them_round_trip() {
    // EDP writes `null` for a location option that was not given (argparse default None).
    let mut value: serde_json::Value = serde_json::from_str(GEN_C_FIRST).unwrap();
    value[0]["ecco_mapping_factors_loc"] = serde_json::Value::Null;
    let expected = GEN_C_FIRST.replace(
        "\"ecco_mapping_factors_loc\": \"../data/ecco_mapping_factors/V4r4\"",
        "\"ecco_mapping_factors_loc\": null",
    );
    let tasks = parse(&expected);
    assert_eq!(tasks[0].ecco_mapping_factors_loc, None);
    assert_eq!(to_python_json(&tasks, EdpKey::Strip).unwrap(), expected);
}

/// A tiny deterministic generator (xorshift64*): the fuzz cases are the same on every run
/// and a failure names its case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Mutations that stress a JSON reader: hostile numbers and paths, grammar tokens, cuts.
fn mutate_json(rng: &mut Rng, text: &str) -> String {
    const INSERTS: [&str; 14] = [
        "18446744073709551616",
        "-1",
        "1e999",
        "null",
        "\"../../../../etc/passwd\"",
        "\"/tmp/x/V4r4/native/mon_mean/X/x.nc\"",
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        "\"",
        "\\u0000",
    ];
    let mut text = text.to_string();
    for _ in 0..=rng.below(3) {
        let at = boundary(&text, rng.below(text.len() + 1));
        match rng.below(3) {
            0 => text.insert_str(at, INSERTS[rng.below(INSERTS.len())]),
            1 => text.truncate(at),
            _ => {
                let end = boundary(&text, at + 1 + rng.below(8));
                text.replace_range(at..end.max(at), "");
            }
        }
    }
    text
}

fn boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Fuzz harness of the task-list reader and of what runs on every task read from one
/// (identity, confinement, validation against the inputs): no input panics, and every task
/// that is accepted either stays below the destination or is refused by confinement.
#[test]
fn fuzzed_task_lists_never_panic_and_never_escape_the_destination() {
    use edp_plan::confine::granule_location;
    use edp_plan::roots::Root;
    use edp_store::Location;

    const CASES: u64 = 3_000;
    let dest_dir = tempfile::tempdir().unwrap();
    let dest = Root::with_written(Location::local(dest_dir.path()).unwrap(), ".");
    let clock = edp_conventions::ModelClock::v4r4();
    let seeds = [GEN_C_FIRST, GEN_C_VECTOR, GEN_B_FIRST];
    for case in 0..CASES {
        let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (case + 1));
        let seed = seeds[rng.below(seeds.len())];
        let text = mutate_json(&mut rng, seed);
        let outcome = std::panic::catch_unwind(|| {
            let Ok(parsed) = parse_task_list("fuzz.json", &text, &ReadOptions::default()) else {
                return;
            };
            for task in &parsed.tasks {
                let _ = edp_plan::task_id::task_id(task, "h");
                let _ = edp_plan::validate::validate_task(task, &clock);
                if let Ok(location) = granule_location(&dest, &task.granule) {
                    let relative = location.relative_to(dest.location());
                    assert!(
                        relative.is_some_and(|r| !r.is_empty() && !r.starts_with("_edp")),
                        "case {case}: {} escapes to {location}",
                        task.granule
                    );
                }
            }
        });
        assert!(outcome.is_ok(), "case {case} panicked on {text:?}");
    }
}

/// Fuzz harness of the shard file reader (`Shard::check` after decoding).
#[test]
fn fuzzed_shards_never_panic() {
    let tasks: serde_json::Value = serde_json::from_str(GEN_C_FIRST).unwrap();
    let shard = serde_json::json!({
        "run_id": "20261121T101500Z-0a1b2c3d", "index": 0, "count": 1, "tasks": tasks,
    });
    let seed = serde_json::to_string(&shard).unwrap();
    for case in 0..2_000u64 {
        let mut rng = Rng(0x94D0_49BB_1331_11EB ^ (case + 1));
        let text = mutate_json(&mut rng, &seed);
        let outcome = std::panic::catch_unwind(|| {
            if let Ok(shard) = serde_json::from_str::<edp_task_schemas::Shard>(&text) {
                let _ = shard.check();
            }
        });
        assert!(outcome.is_ok(), "case {case} panicked on {text:?}");
    }
}
