//! The `edp` binary end to end on a generated demo tree in local folders: `edp run` produces
//! every granule and is idempotent, redoes exactly what is missing, isolates a bad input with
//! exit code 3; `edp verify` detects tampering; `edp worker` runs EDP task lists and shards
//! with the documented exit codes; `edp demo` works in an empty folder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod datasets;
mod support;
mod time_invariant;
mod virtual_stores;

use std::path::Path;

use edp_conventions::Frequency;
use edp_task_schemas::DatasetManifest;
use support::{demo, edp, json_files, modified, sha256, text};

#[test]
fn run_produces_every_granule_and_a_second_run_does_nothing() {
    let demo = demo();
    let first = demo.run(&[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let expected = demo.expected_granules();
    assert_eq!(expected.len(), 12);
    for granule in &expected {
        assert!(
            granule.is_file(),
            "{} missing\n{}",
            granule.display(),
            text(&first)
        );
    }
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("12 granule(s) to produce, 0 already done"),
        "{stdout}"
    );
    assert!(stdout.contains("CPU utilisation"), "{stdout}");

    // The manifests list every granule with its size and checksum (checked independently).
    let manifests = json_files(&demo.dest.join("_edp/manifests"));
    assert_eq!(manifests.len(), 4, "one per dataset: {manifests:?}");
    let mut listed = 0;
    for file in manifests {
        let manifest: DatasetManifest =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        for granule in manifest.granules {
            let path = demo.dest.join(&granule.path);
            assert_eq!(granule.size, std::fs::metadata(&path).unwrap().len());
            assert_eq!(granule.sha256, sha256(&path), "{}", granule.path);
            listed += 1;
        }
    }
    assert_eq!(listed, expected.len());
    // The run report counts 12 done.
    let reports: Vec<_> = json_files(&demo.dest.join("_edp/runs"))
        .into_iter()
        .filter(|p| p.ends_with("report.json"))
        .collect();
    assert_eq!(reports.len(), 1);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&reports[0]).unwrap()).unwrap();
    assert_eq!(report["counts"]["done"], 12);
    assert_eq!(report["complete"], true);

    let times: Vec<_> = expected.iter().map(|g| modified(g)).collect();
    let second = demo.run(&[]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("0 granule(s) to produce, 12 already done"),
        "{stdout}"
    );
    assert!(stdout.contains("nothing to do"), "{stdout}");
    let after: Vec<_> = expected.iter().map(|g| modified(g)).collect();
    assert_eq!(times, after, "no granule was rewritten");
}

#[test]
fn deleting_one_granule_redoes_only_that_one() {
    let demo = demo();
    assert_eq!(demo.run(&[]).status.code(), Some(0));
    let expected = demo.expected_granules();
    let victim = expected
        .iter()
        .find(|g| {
            g.to_string_lossy()
                .contains("OCEAN_VELOCITY_mon_mean_1992-02")
        })
        .unwrap()
        .clone();
    let others: Vec<_> = expected.iter().filter(|g| **g != victim).collect();
    let times: Vec<_> = others.iter().map(|g| modified(g)).collect();
    std::fs::remove_file(&victim).unwrap();

    // A budget below any granule's working memory: one granule at a time, still all of them.
    let again = demo.run(&["--memory-budget-mb", "1"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains("1 granule(s) to produce, 11 already done"),
        "{stdout}"
    );
    assert!(victim.is_file(), "the deleted granule is back");
    let after: Vec<_> = others.iter().map(|g| modified(g)).collect();
    assert_eq!(times, after, "only the deleted granule was produced");
}

#[test]
fn corrupted_input_fails_its_own_granule_and_exits_with_code_3() {
    let demo = demo();
    let input = demo.layout.input("SALT", Frequency::AvgMon, 2172).unwrap();
    let bytes = std::fs::read(&input.data).unwrap();
    std::fs::write(&input.data, &bytes[..1000]).unwrap();

    let run = demo.run(&[]);
    assert_eq!(run.status.code(), Some(3), "{}", text(&run));
    let all = text(&run);
    // A clear error: the granule, the file, what was expected and found.
    assert!(
        all.contains("OCEAN_TEMPERATURE_SALINITY_mon_mean_1992-03"),
        "{all}"
    );
    assert!(all.contains("SALT_mon_mean.0000002172.data"), "{all}");
    assert!(all.contains("found 1000"), "{all}");
    assert!(all.contains("exit status: permanent (3)"), "{all}");
    for granule in demo.expected_granules() {
        let failed = granule
            .to_string_lossy()
            .contains("OCEAN_TEMPERATURE_SALINITY_mon_mean_1992-03");
        assert_eq!(granule.is_file(), !failed, "{}", granule.display());
    }
}

#[test]
fn verify_passes_and_then_fails_after_a_granule_is_tampered_with() {
    let demo = demo();
    assert_eq!(demo.run(&[]).status.code(), Some(0));
    let dest = demo.dest.display().to_string();
    let ok = edp(&["verify", "--dest", &dest]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(stdout.contains("verified 12 granule(s)"), "{stdout}");
    assert!(
        stdout.contains("12 compared with their task's variables): OK"),
        "{stdout}"
    );

    // Same size, one byte changed.
    let victim = demo.expected_granules()[4].clone();
    let mut bytes = std::fs::read(&victim).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&victim, &bytes).unwrap();
    let bad = edp(&["verify", "--dest", &dest]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    let stdout = String::from_utf8_lossy(&bad.stdout);
    let name = victim.file_name().unwrap().to_string_lossy();
    assert!(
        stdout.contains(&*name) && stdout.contains("sha256 differs"),
        "{stdout}"
    );
    assert!(stdout.contains("1 problem(s)"), "{stdout}");

    // A missing granule is a problem too.
    std::fs::remove_file(&victim).unwrap();
    let missing = edp(&["verify", "--dest", &dest]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stdout).contains("missing"));
}

#[test]
fn worker_runs_an_edp_task_list_and_a_shard_with_metric_lines() {
    let demo = demo();
    let path = |p: &Path| p.display().to_string();
    let tasks = demo.dir.path().join("tasks.json");
    let planning = [
        "--jobfile".to_string(),
        path(&demo.layout.jobfile),
        "--source".into(),
        path(&demo.layout.source_root),
        "--metadata".into(),
        path(&demo.layout.metadata_dir),
        "--grid".into(),
        path(&demo.layout.grid_dir),
        "--config".into(),
        path(&demo.layout.config_file),
    ];
    // An EDP task list (our `edp` key stripped), as EDP's own planner would write it.
    let mut plan = vec!["plan".to_string(), "--dest".into(), path(&demo.dest)];
    plan.extend(planning.iter().cloned());
    plan.extend(["--dry-run", "--strip-edp", "--outfile"].map(String::from));
    plan.push(path(&tasks));
    let planned = edp(&plan);
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned));
    let list: serde_json::Value = serde_json::from_slice(&std::fs::read(&tasks).unwrap()).unwrap();
    assert!(list[0].get("edp").is_none());

    let worker = std::process::Command::new(support::edp_binary())
        .args(["worker", "-j", "2"])
        .env("TASKLIST", &tasks)
        .output()
        .unwrap();
    assert_eq!(worker.status.code(), Some(0), "{}", text(&worker));
    for granule in demo.expected_granules() {
        assert!(granule.is_file(), "{}", granule.display());
    }
    // One CloudWatch EMF line per granule on stdout.
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&worker.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 12);
    for line in &lines {
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "EDP");
        assert_eq!(line["GranulesSucceeded"], 1);
        assert!(line["ProductKind"].as_str().unwrap().starts_with("native_"));
    }

    // A planned run's shard, into another destination.
    let other = demo.dir.path().join("other");
    let mut plan = vec!["plan".to_string(), "--dest".into(), path(&other)];
    plan.extend(planning.iter().cloned());
    plan.extend([
        "--outfile".to_string(),
        path(&demo.dir.path().join("ours.json")),
    ]);
    let planned = edp(&plan);
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned));
    let runs = std::fs::read_dir(other.join("_edp/scratch")).unwrap();
    let run = runs.flatten().next().unwrap().path();
    let shard = edp(&[
        "worker".to_string(),
        "--shard".into(),
        path(&run.join("shards")),
        "--index".into(),
        "0".into(),
        "--no-metrics".into(),
    ]);
    assert_eq!(shard.status.code(), Some(0), "{}", text(&shard));
    assert!(shard.stdout.is_empty(), "no metric lines with --no-metrics");
    let done = std::fs::read_dir(other.join("_edp/done")).unwrap().count();
    assert_eq!(done, 12);
}

#[test]
fn worker_rejects_invalid_input_with_usage_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("tasks.json");
    std::fs::write(&bad, r#"[{"granule": "x.nc"}]"#).unwrap();
    let output = edp(&["worker".as_ref(), "--tasklist".as_ref(), bad.as_os_str()]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("tasks.json"), "{}", text(&output));
    let nothing = edp(&["worker"]);
    assert_eq!(nothing.status.code(), Some(2), "{}", text(&nothing));
    assert!(text(&nothing).contains("--tasklist"));
    // --help documents the exit codes.
    let help = edp(&["worker", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    for code in ["0  every task", "2  usage", "3  permanent", "4  retryable"] {
        assert!(help.contains(code), "{code} in {help}");
    }
}

#[test]
fn demo_command_runs_the_whole_pipeline_in_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("demo-output");
    let target_text = target.display().to_string();
    let output = edp(&[
        "demo",
        "--dir",
        &target_text,
        "--n",
        "8",
        "--nz",
        "6",
        "--no-progress",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("generated the demo dataset"), "{stdout}");
    assert!(stdout.contains("): OK"), "verification passed: {stdout}");
    assert!(
        stdout.contains(&format!("{target_text}/products")),
        "{stdout}"
    );
    // 12 native granules, plus 9 lat-lon ones when the build has the lat-lon writer (the
    // demo probes for it and says which).
    let expected = if stdout.contains("lat-lon products: included") {
        21
    } else {
        assert!(
            stdout.contains("lat-lon products: NOT included"),
            "{stdout}"
        );
        12
    };
    assert!(
        stdout.contains(&format!("{expected} granule(s) to produce")),
        "{stdout}"
    );
    let granules: Vec<_> = json_files(&target.join("products/_edp/done"));
    assert_eq!(granules.len(), expected, "{stdout}");
    assert!(!stdout.contains("HDF5-DIAG") && !text(&output).contains("HDF5-DIAG"));

    // Again: the data are reused and nothing is left to do.
    let again = edp(&[
        "demo",
        "--dir",
        &target_text,
        "--n",
        "8",
        "--nz",
        "6",
        "--no-progress",
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.contains("reusing the demo dataset"), "{stdout}");
    assert!(stdout.contains("nothing to do"), "{stdout}");
}
