//! Integration tests of edp-conventions: one binary, one module per area. Tests that need the
//! shared metadata return early (with a message) when `../shared/data` is absent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attrs_v4r4;
mod catalog_v4r4;
mod catalog_v4r5;
mod config_yaml;
mod naming;
mod time_table;

use std::path::PathBuf;

use edp_conventions::{Catalog, LoadOptions};

/// The V4r4 metadata directory, or `None` (test skipped) outside CI without shared data.
pub fn v4r4_dir() -> Option<PathBuf> {
    edp_testkit::v4r4_metadata_dir()
}

/// The V4r5 metadata directory, or `None`.
pub fn v4r5_dir() -> Option<PathBuf> {
    edp_testkit::shared_data().map(|d| d.join("ecco-v4r5-metadata"))
}

/// The V4r4 catalog, or `None`.
pub fn v4r4() -> Option<Catalog> {
    v4r4_dir().map(|d| Catalog::load(d, &LoadOptions::default()).unwrap())
}

/// A temporary metadata directory holding symbolic links to every file of `src` except the
/// names in `drop`, plus the files of `write` (name, content). Nothing is copied.
pub fn overlay(src: &std::path::Path, drop: &[&str], write: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if drop.contains(&name.as_str()) || write.iter().any(|(n, _)| *n == name) {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), dir.path().join(&name)).unwrap();
    }
    for (name, content) in write {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}
