//! Running the real binaries: `edp-batch-worker` as AWS Batch would, once per array index, with
//! the container environment of the submitted job (job definition + overrides, as
//! DescribeJobs reports it) and `AWS_BATCH_JOB_ARRAY_INDEX` for array children; `edp submit`
//! as an operator would.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use edp_testkit::moto::{MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY};

/// The worker binary, built once per test process with the cargo running the tests (same
/// target directory, so it is usually up to date already).
pub fn worker_exe() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| build_binary("edp-batch-worker", "edp-batch-worker"))
}

/// The `edp` command line, built the same way.
pub fn edp_exe() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| build_binary("edp-cli", "edp"))
}

/// `cargo build -p <package> --bin <bin>` and the executable cargo reports.
fn build_binary(package: &str, bin: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args([
            "build",
            "-p",
            package,
            "--bin",
            bin,
            "--message-format",
            "json-render-diagnostics",
        ])
        .current_dir(edp_testkit::repo_root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo build -p {package} --bin {bin} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == bin)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo reported no {bin} executable"))
}

/// AWS settings of a child process talking to the emulator at `endpoint`, on a cleared
/// environment so that nothing of the test runner's leaks in.
pub fn aws_command(exe: &Path, endpoint: &str) -> Command {
    let mut command = Command::new(exe);
    command.env_clear();
    for name in ["PATH", "HOME", "TMPDIR", "LD_LIBRARY_PATH"] {
        if let Ok(value) = std::env::var(name) {
            command.env(name, value);
        }
    }
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", MOTO_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", MOTO_SECRET_ACCESS_KEY)
        .env("AWS_REGION", MOTO_REGION)
        .env("EDP_S3_FORCE_PATH_STYLE", "true")
        // Throttling is retried twice by the SDK, then reported: keeps the transient test short.
        .env("AWS_MAX_ATTEMPTS", "2");
    command
}

/// What one worker process did.
#[derive(Debug)]
pub struct WorkerRun {
    /// Its exit code.
    pub code: i32,
    /// Its stdout (EMF metric lines).
    pub stdout: String,
    /// Its stderr (JSON log lines).
    pub stderr: String,
}

impl WorkerRun {
    /// The JSON objects among the lines of stdout and stderr.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .chain(self.stderr.lines())
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// Runs the worker for one array index with `job_env` (the job's container environment),
/// reaching AWS at `endpoint`.
pub fn run_worker(
    job_env: &[(String, String)],
    array_index: Option<u32>,
    endpoint: &str,
    cache_dir: &Path,
) -> WorkerRun {
    let mut command = aws_command(worker_exe(), endpoint);
    for (name, value) in job_env {
        // Set by Batch itself, not by us.
        if name != "AWS_BATCH_JOB_ID" {
            command.env(name, value);
        }
    }
    if let Some(index) = array_index {
        command.env("AWS_BATCH_JOB_ARRAY_INDEX", index.to_string());
    }
    command.env("EDP_CACHE_DIR", cache_dir);
    let output = command.output().unwrap();
    WorkerRun {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
