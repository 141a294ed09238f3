//! The deployment artefacts agree with the code: the Dockerfile builds and starts the worker
//! binary the workspace defines, CI builds it with the same command, Terraform's Batch retry
//! rules come from the worker's exit-code table, and Terraform sets the environment variables
//! the code reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edp_task_schemas::deploy;
use edp_task_schemas::exit::{BatchAction, ExitKind, KILLED_EXIT_CODE, batch_action_for};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    edp_testkit::repo_root()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The single `RUN cargo build ... --bin <name>` line of the Dockerfile (the dependency layer
/// builds `--lib` only).
fn dockerfile_build_command() -> String {
    let dockerfile = read(&repo().join("Dockerfile"));
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("RUN cargo build") && l.contains("--bin"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "expected exactly one binary build line, found {lines:?}"
    );
    lines[0].trim_start_matches("RUN ").to_string()
}

fn flag_value<'a>(command: &'a str, flag: &str) -> &'a str {
    let words: Vec<&str> = command.split_whitespace().collect();
    let pos = words
        .iter()
        .position(|w| *w == flag)
        .unwrap_or_else(|| panic!("{flag} missing in `{command}`"));
    words[pos + 1]
}

#[test]
fn dockerfile_builds_a_binary_the_workspace_defines_and_runs_it() {
    let command = dockerfile_build_command();
    assert!(
        command.contains("--release") && command.contains("--locked"),
        "{command}"
    );
    let package = flag_value(&command, "-p");
    let bin = flag_value(&command, "--bin");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(repo())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pkg = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == package)
        .unwrap_or_else(|| panic!("package {package} of the Dockerfile is not in the workspace"));
    let has_bin = pkg["targets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == bin && t["kind"].as_array().unwrap().iter().any(|k| k == "bin"));
    assert!(has_bin, "package {package} has no binary target {bin}");

    let dockerfile = read(&repo().join("Dockerfile"));
    let entry = format!("ENTRYPOINT [\"/usr/local/bin/{bin}\"]");
    assert!(
        dockerfile.lines().any(|l| l.trim() == entry),
        "missing `{entry}`"
    );
    let copy = format!("target/release/{bin} /usr/local/bin/{bin}");
    assert!(
        dockerfile.contains(&copy),
        "the runtime stage must copy `{copy}`"
    );
    assert!(
        dockerfile.lines().any(|l| l.trim().starts_with("USER ")),
        "non-root USER missing"
    );
}

#[test]
fn the_tests_build_the_worker_the_dockerfile_builds() {
    let command = dockerfile_build_command();
    let script = read(&repo().join("scripts/test"));
    // The release build itself is opt-in (EDP_RELEASE_WORKER=1): no test reads its product.
    assert!(
        script.contains(&command),
        "scripts/test must hold the Dockerfile's build command `{command}`"
    );
    // Always: the same package and binary, in the profile the end-to-end tests run.
    let debug = command.replace(" --release", "");
    assert_ne!(
        debug, command,
        "the Dockerfile builds in release: `{command}`"
    );
    assert!(
        script
            .lines()
            .any(|l| l.trim() == debug && !l.trim_start().starts_with('#')),
        "scripts/test must build `{debug}` unconditionally"
    );
}

#[test]
fn batch_retry_rules_follow_the_worker_exit_code_table() {
    // Terraform reads exactly this file (checked below) into retry_strategy.evaluate_on_exit.
    let doc: serde_json::Value =
        serde_json::from_str(&read(&repo().join("task-schemas/schemas/exit-codes.json"))).unwrap();
    let rules: Vec<edp_task_schemas::exit::EvaluateOnExit> =
        serde_json::from_value(doc["batch_evaluate_on_exit"].clone()).unwrap();
    for kind in [
        ExitKind::Success,
        ExitKind::Usage,
        ExitKind::Permanent,
        ExitKind::Retryable,
    ] {
        let action = batch_action_for(&rules, Some(i32::from(kind.code())), None);
        let expected = match kind {
            ExitKind::Retryable => BatchAction::Retry,
            _ => BatchAction::Exit,
        };
        assert_eq!(action, expected, "exit code {} ({kind:?})", kind.code());
        // The table's own statement agrees, except success which Batch never evaluates.
        if kind != ExitKind::Success {
            assert_eq!(kind.batch_action(), expected, "{kind:?}");
        }
    }
    assert_eq!(
        batch_action_for(&rules, Some(KILLED_EXIT_CODE), None),
        BatchAction::Retry
    );
    assert_eq!(
        batch_action_for(&rules, None, Some("Host EC2 (instance i-0abc) terminated.")),
        BatchAction::Retry,
        "lost Spot hosts are retried"
    );

    let locals = read(&repo().join("terraform/locals.tf"));
    assert!(
        locals.contains("../task-schemas/schemas/exit-codes.json"),
        "terraform must read the exit-code table"
    );
    let batch = read(&repo().join("terraform/batch.tf"));
    assert!(
        batch.contains("dynamic \"evaluate_on_exit\""),
        "retry rules must be generated"
    );
    assert!(
        batch.contains("local.batch_evaluate_on_exit"),
        "retry rules must come from the table"
    );
}

#[test]
fn terraform_sets_every_environment_variable_the_code_reads() {
    let tf: String = std::fs::read_dir(repo().join("terraform"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .map(|p| read(&p))
        .collect();
    let set_by_others = [
        deploy::ENV_RUN_ID,
        deploy::ENV_SHARDS_URI,
        deploy::ENV_ARRAY_INDEX,
    ];
    for name in deploy::PLANNER_ENV
        .iter()
        .chain(deploy::WORKER_ENV)
        .chain(deploy::REPORTER_ENV)
    {
        if set_by_others.contains(name) {
            continue; // the planner sets these per job; Batch sets the array index
        }
        assert!(tf.contains(name), "terraform never sets {name}");
    }
    // Settings are created from a map keyed by the setting's name (`settings/${each.key}`);
    // secrets are spelled out.
    let settings_from_map = tf.contains("settings/${each.key}");
    let words = tf.split_whitespace().collect::<Vec<_>>().join(" ");
    for name in deploy::SSM_PARAMETERS {
        let created = tf.contains(name)
            || name.strip_prefix("settings/").is_some_and(|key| {
                settings_from_map && words.contains(&format!("{key} = optional(string"))
            });
        assert!(
            created,
            "terraform does not create the SSM parameter {name}"
        );
    }
}

/// Members of the workspace, from the root `Cargo.toml` (`members = [ ... ]`).
fn workspace_members() -> Vec<String> {
    let manifest = read(&repo().join("Cargo.toml"));
    let start = manifest.find("members = [").expect("members list");
    let end = start
        + manifest[start..]
            .find(']')
            .expect("end of the members list");
    manifest[start..end]
        .lines()
        .skip(1)
        .map(|line| {
            line.trim()
                .trim_end_matches(',')
                .trim_matches('"')
                .to_string()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// The `path = "..."` of every `[[test]]` table of a manifest.
fn test_target_paths(manifest: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut in_test = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_test = line == "[[test]]";
        } else if in_test && let Some(value) = line.strip_prefix("path = ") {
            paths.push(value.trim_matches('"').to_string());
        }
    }
    paths
}

/// With `autotests = false`, Cargo builds only the declared test targets: a test file that is
/// neither a target nor a module of one would never run. Every `tests/<name>.rs` and every
/// `tests/<name>/` holding Rust code must be a `[[test]]` path or be declared in a test file
/// (`mod <name>;` or `#[path = "<name>.rs"]`).
#[test]
fn every_test_file_belongs_to_a_test_binary() {
    let mut checked = 0;
    let mut orphans = Vec::new();
    for member in workspace_members() {
        let dir = repo().join(&member);
        let manifest = read(&dir.join("Cargo.toml"));
        let tests_dir = dir.join("tests");
        if !manifest.contains("autotests = false") || !tests_dir.is_dir() {
            continue;
        }
        let targets = test_target_paths(&manifest);
        assert!(
            !targets.is_empty(),
            "{member}: autotests = false without [[test]] targets"
        );
        // The text of every top-level test file and of every module root below tests/.
        let mut declarations = String::new();
        for entry in std::fs::read_dir(&tests_dir).unwrap() {
            let path = entry.unwrap().path();
            for file in [path.clone(), path.join("main.rs"), path.join("mod.rs")] {
                if file.is_file() && file.extension().is_some_and(|e| e == "rs") {
                    declarations += &read(&file);
                }
            }
        }
        for entry in std::fs::read_dir(&tests_dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let (stem, target) = if path.is_dir() {
                if !(path.join("main.rs").is_file() || path.join("mod.rs").is_file()) {
                    continue; // fixtures, Python scripts
                }
                (name.clone(), format!("tests/{name}/main.rs"))
            } else if let Some(stem) = name.strip_suffix(".rs") {
                (stem.to_string(), format!("tests/{name}"))
            } else {
                continue;
            };
            checked += 1;
            let declared = targets.contains(&target)
                || declarations.contains(&format!("mod {stem};"))
                || declarations.contains(&format!("#[path = \"{name}\"]"));
            if !declared {
                orphans.push(format!("{member}/tests/{name}"));
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} test files found: is the walk right?"
    );
    assert!(
        orphans.is_empty(),
        "test files that no test binary compiles (add `mod <name>;` to the crate's tests/main.rs): {orphans:?}"
    );
}
