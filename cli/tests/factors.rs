//! `edp factors` run as a real binary on synthetic grid directories: build a weights file,
//! check it against its grid, and refuse it for another grid.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::edp;
use edp_grid::{Grid, MdsDirOptions, SyntheticLand, SyntheticSpec};
use std::path::Path;
use std::process::Output;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn grid_dir(root: &Path, name: &str, land: SyntheticLand) -> String {
    let dir = root.join(name);
    Grid::synthetic(&SyntheticSpec { n: 6, nz: 3, land })
        .unwrap()
        .write_mds_dir(&dir, &MdsDirOptions::default())
        .unwrap();
    dir.to_string_lossy().into_owned()
}

#[test]
fn factors_builds_a_weights_file_that_checks_against_its_grid_only() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = grid_dir(tmp.path(), "grid", SyntheticLand::Analytic);
    let out = tmp.path().join("weights/w.nc");
    let out = out.to_str().unwrap();

    let built = edp(&[
        "factors",
        "--grid",
        &grid,
        "--out",
        out,
        "--resolution",
        "10",
    ]);
    assert!(built.status.success(), "{}", text(&built));
    let said = text(&built);
    assert!(
        said.contains("36 x 18 targets (10 deg), 3 levels"),
        "{said}"
    );
    assert!(said.contains("wrote"), "{said}");
    let back = edp_regrid::Weights::read(Path::new(out)).unwrap();
    assert_eq!((back.n_target(), back.n_levels()), (36 * 18, 3));

    let checked = edp(&["factors", "--check", "--grid", &grid, "--out", out]);
    assert!(checked.status.success(), "{}", text(&checked));
    assert!(text(&checked).contains("OK:"), "{}", text(&checked));

    // The same file checked against a grid with other land: exit status 1, no rebuild used.
    let ocean = grid_dir(tmp.path(), "ocean", SyntheticLand::AllOcean);
    let other = edp(&["factors", "--check", "--grid", &ocean, "--out", out]);
    assert_eq!(other.status.code(), Some(1), "{}", text(&other));
    assert!(text(&other).contains("MISMATCH"), "{}", text(&other));

    // A file that is not a weights file: exit status 2 and the file named.
    let junk = tmp.path().join("junk.nc");
    std::fs::write(&junk, b"not netcdf").unwrap();
    let bad = edp(&[
        "factors",
        "--check",
        "--grid",
        &grid,
        "--out",
        junk.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("junk.nc"), "{}", text(&bad));
}
