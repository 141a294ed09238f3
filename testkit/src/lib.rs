//! Test support shared by the crates' tests: where the shared test data lives, synthetic MDS
//! trees, and a local AWS emulator (moto) started on a free loopback port.

use std::path::PathBuf;

/// The shared test data folder (`../shared/data` beside the repository), or `None` when it
/// is absent outside CI.
///
/// Tests that need the real LLC90 grid call this and return early on `None` (printing why).
/// In CI (`CI` set) a missing folder is a hard failure: CI always has it.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("EDP_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data"));
    if dir.join("llc90-grid/XC.data").is_file() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "shared test data not found at {}: CI must have ../shared/data beside the repository \
             (or EDP_SHARED_DATA set)",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: shared test data not found at {} (set EDP_SHARED_DATA or place ../shared/data \
         beside the repository)",
        dir.display()
    );
    None
}

/// The real LLC90 grid directory inside [`shared_data`].
pub fn llc90_grid_dir() -> Option<PathBuf> {
    shared_data().map(|d| d.join("llc90-grid"))
}

/// The V4r4 metadata directory inside [`shared_data`].
pub fn v4r4_metadata_dir() -> Option<PathBuf> {
    shared_data().map(|d| d.join("ecco-v4r4-metadata"))
}

/// The root of this repository (the workspace folder).
pub fn repo_root() -> PathBuf {
    // testkit/ sits directly below the workspace root.
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub mod moto;

pub use moto::{MotoError, MotoServer};
