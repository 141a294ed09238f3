#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The Lambdas must not link libnetcdf/HDF5 (`docs/architecture.md`): their dependency trees
//! (normal and build dependencies, as linked into the zips) hold no NetCDF or HDF5 crate and
//! none of the engine crates that pull them in.

use std::process::Command;

/// Crates whose presence means libnetcdf or libhdf5 gets linked.
const FORBIDDEN: &[&str] = &[
    "netcdf",
    "netcdf-sys",
    "netcdf-src",
    "hdf5",
    "hdf5-sys",
    "hdf5-src",
    "hdf5-metno",
    "hdf5-metno-sys",
    "hdf5-metno-src",
    "edp-granule",
    "edp-grid",
    "edp-regrid",
    "edp-batch-worker",
    "edp-runner",
];

/// Package names in `cargo tree -p <package> -e normal,build --prefix none`.
fn dependency_names(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
    let output = Command::new(cargo)
        .args([
            "tree",
            "-p",
            package,
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    // Lines look like `aws-sdk-s3 v1.96.0` or `edp-plan v0.1.0 (/work/main/plan) (*)`.
    text.lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn assert_no_netcdf(package: &str) {
    let names = dependency_names(package);
    assert!(
        names.iter().any(|n| n == package),
        "cargo tree output does not list {package} itself: {names:?}"
    );
    // The tree really is the planner's: it holds the planning crate and the AWS SDK.
    assert!(names.iter().any(|n| n == "edp-plan"), "{names:?}");
    assert!(names.iter().any(|n| n == "lambda_runtime"), "{names:?}");
    let found: Vec<&String> = names
        .iter()
        .filter(|n| FORBIDDEN.contains(&n.as_str()))
        .collect();
    assert!(
        found.is_empty(),
        "{package} links crates that bring libnetcdf/HDF5: {found:?}"
    );
}

#[test]
fn planner_lambda_does_not_link_netcdf() {
    assert_no_netcdf("edp-planner-lambda");
}

#[test]
fn reporter_lambda_does_not_link_netcdf() {
    assert_no_netcdf("edp-reporter-lambda");
}
