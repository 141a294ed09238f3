//! Helpers: the `edp` binary, a generated demo tree, running commands, reading products.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use edp_demo_data::{DemoLayout, DemoSpec, generate};

/// The `edp` binary to test: `EDP_BIN`, else `target/<profile>/edp` after building it once
/// (see the crate documentation).
pub fn edp_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(given) = std::env::var_os("EDP_BIN") {
            return PathBuf::from(given);
        }
        // target/<profile>/deps/<test executable> -> target/<profile>/edp
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable below target/<profile>/deps")
            .to_path_buf();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "edp-cli", "--bin", "edp"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build for the edp binary");
        assert!(status.success(), "cargo build -p edp-cli failed: {status}");
        let binary = profile_dir.join("edp");
        assert!(
            binary.is_file(),
            "{} not found after the build",
            binary.display()
        );
        binary
    })
}

/// A demo tree in a temporary folder and the destination of its products.
pub struct Demo {
    pub dir: tempfile::TempDir,
    pub layout: DemoLayout,
    pub dest: PathBuf,
}

/// LLC12 with 10 levels, three months and three days: 12 native granules in well under a
/// second with a debug build.
pub fn demo() -> Demo {
    let dir = tempfile::tempdir().expect("temporary folder");
    let spec = DemoSpec {
        n: 12,
        nz: 10,
        ..DemoSpec::default()
    };
    let layout = generate(dir.path().join("demo"), &spec).expect("generate the demo tree");
    let dest = dir.path().join("products");
    Demo { dir, layout, dest }
}

impl Demo {
    /// `edp run` on the demo jobs with `extra` arguments.
    pub fn run(&self, extra: &[&str]) -> Output {
        let path = |p: &Path| p.display().to_string();
        let mut args = vec![
            "run".to_string(),
            "--jobfile".into(),
            path(&self.layout.jobfile),
            "--source".into(),
            path(&self.layout.source_root),
            "--dest".into(),
            path(&self.dest),
            "--metadata".into(),
            path(&self.layout.metadata_dir),
            "--grid".into(),
            path(&self.layout.grid_dir),
            "--config".into(),
            path(&self.layout.config_file),
            "--cache-dir".into(),
            path(&self.dir.path().join("cache")),
            "--no-progress".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        edp(&args)
    }

    /// The granules the demo jobs ask for (computed from the naming rules).
    pub fn expected_granules(&self) -> Vec<PathBuf> {
        self.layout
            .expected_granules(&self.dest.display().to_string())
            .expect("expected granule names")
            .into_iter()
            .map(PathBuf::from)
            .collect()
    }
}

/// Runs `edp` with `args`.
pub fn edp<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(edp_binary())
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("TASKLIST")
        .env_remove("EDP_DEST_ROOT")
        .env_remove("EDP_RUN_ID")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .output()
        .expect("run the edp binary")
}

/// Stdout and stderr of a finished command, for assertion messages and searches.
pub fn text(output: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Lower-case hex SHA-256 of a file.
pub fn sha256(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(
        std::fs::read(path).expect("read granule"),
    ))
}

/// Every `*.json` below `dir`, recursively.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(json_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Modification time of a file.
pub fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("file metadata")
}
