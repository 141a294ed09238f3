//! Weights files: round trip, cache behaviour, mismatch detection.

use crate::common::llc90_weights;
use edp_regrid::{CacheOutcome, LatLonSpec, RegridError, Weights};

#[test]
fn weights_file_round_trip_is_identical() {
    let Some((_, _, w)) = llc90_weights() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.nc");
    w.write(&path).unwrap();
    let back = Weights::read(&path).unwrap();
    assert!(&back == w, "read weights differ from the written ones");
    // Every level derived from the file's neighbourhood is the built one.
    for k in 0..w.n_levels() {
        assert_eq!(back.level(k).unwrap(), w.level(k).unwrap(), "level {k}");
    }
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // The plain ESMF variables hold level 0, 1-based; the neighbourhood lists every source
    // within a radius once.
    let file = netcdf::open(&path).unwrap();
    let row: Vec<i32> = file.variable("row").unwrap().get_values(..).unwrap();
    let col: Vec<i32> = file.variable("col").unwrap().get_values(..).unwrap();
    let level0 = w.level(0).unwrap();
    assert_eq!(row.len(), level0.n_entries());
    assert_eq!(row[0] as u32, level0.rows()[0] + 1);
    assert_eq!(col[0] as u32, level0.cols()[0] + 1);
    let counts: Vec<i32> = file
        .variable("within_count")
        .unwrap()
        .get_values(..)
        .unwrap();
    let within: Vec<i32> = file.variable("within").unwrap().get_values(..).unwrap();
    assert_eq!(counts.len(), 259_200);
    assert_eq!(
        counts.iter().map(|&c| c as usize).sum::<usize>(),
        within.len()
    );
    assert_eq!(
        *counts.iter().max().unwrap() as usize,
        w.stats().max_within_all
    );
    assert!(within.iter().all(|&s| (1..=105_300).contains(&s)));
    let nearest: Vec<i32> = file.variable("nearest").unwrap().get_values(..).unwrap();
    assert!(nearest.iter().all(|&s| (1..=105_300).contains(&s)));
    assert_eq!(file.dimension_len("n_a"), Some(105_300));
    assert_eq!(file.dimension_len("n_b"), Some(259_200));
}

#[test]
fn load_or_build_builds_once_then_loads_and_refuses_other_specs() {
    let Some((grid, _, _)) = llc90_weights() else {
        return;
    };
    let source = grid.source(2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.nc");
    let spec = LatLonSpec::global(1.0);
    let (built, how) = Weights::load_or_build(&path, &source, &spec).unwrap();
    assert_eq!(how, CacheOutcome::Built);
    let (loaded, how) = Weights::load_or_build(&path, &source, &spec).unwrap();
    assert_eq!(how, CacheOutcome::Loaded);
    assert!(built == loaded);
    assert_eq!(loaded.n_target(), 360 * 180);
    // Another resolution or another grid: the cache does not match.
    let err = Weights::load_or_build(&path, &source, &LatLonSpec::global(2.0)).unwrap_err();
    assert!(matches!(err, RegridError::Mismatch { .. }), "{err}");
    let err = Weights::load_or_build(&path, &grid.source(3), &spec).unwrap_err();
    assert!(matches!(err, RegridError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("cache.nc"), "{err}");
}

#[test]
fn a_file_that_is_not_a_weights_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.nc");
    let mut f = netcdf::create(&path).unwrap();
    f.add_dimension("n_a", 3).unwrap();
    f.close().unwrap();
    let err = Weights::read(&path).unwrap_err();
    assert!(matches!(err, RegridError::BadFile { .. }), "{err}");
    assert!(
        err.to_string().contains("edp_weights_format_version"),
        "{err}"
    );
    let err = Weights::read(&dir.path().join("missing.nc")).unwrap_err();
    assert!(err.to_string().contains("missing.nc"), "{err}");
}

#[test]
fn regional_grid_with_a_fixed_radius_round_trips_without_shared_data() {
    use edp_regrid::{LatLonSpec, SourceGrid, TargetRadius};
    // A 40 x 30 patch of sources every 0.25 deg around (10 E, 5 N), two levels, some dry.
    let (nx, ny) = (40, 30);
    let lon: Vec<f64> = (0..nx * ny).map(|s| 5.0 + 0.25 * (s % nx) as f64).collect();
    let lat: Vec<f64> = (0..nx * ny).map(|s| 1.0 + 0.25 * (s / nx) as f64).collect();
    let level0: Vec<bool> = (0..nx * ny).map(|s| s % 7 != 0).collect();
    let level1: Vec<bool> = (0..nx * ny).map(|s| s % 7 != 0 && s % 3 != 0).collect();
    let source = SourceGrid::new(
        vec![ny, nx],
        lon,
        lat,
        vec![level0, level1],
        27_000.0,
        28_000.0,
    )
    .unwrap();
    let spec = LatLonSpec {
        resolution_deg: 1.0,
        lon_min: 4.0,
        lon_max: 16.0,
        lat_min: 0.0,
        lat_max: 10.0,
        radius: TargetRadius::Fixed(40_000.0),
    };
    let w = Weights::build(&source, &spec).unwrap();
    assert_eq!(w.limits().within_cap_m, 40_000.0);
    assert!(w.level(1).unwrap().n_wet_targets() > 0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/regional.nc");
    w.write(&path).unwrap();
    let back = Weights::read(&path).unwrap();
    assert!(back == w);
    assert_eq!(back.target().spec().radius, TargetRadius::Fixed(40_000.0));
    assert_eq!(back.source().shape(), &[ny, nx]);
    for k in 0..2 {
        assert_eq!(back.level(k).unwrap(), w.level(k).unwrap(), "level {k}");
    }

    // A damaged neighbourhood is an error naming the file and the variable, never used.
    let damaged = |variable: &str, edit: &dyn Fn(&mut Vec<i32>)| {
        let copy = dir.path().join(format!("damaged-{variable}.nc"));
        std::fs::copy(&path, &copy).unwrap();
        let mut file = netcdf::append(&copy).unwrap();
        let mut var = file.variable_mut(variable).unwrap();
        let mut values: Vec<i32> = var.get_values(..).unwrap();
        edit(&mut values);
        var.put_values(&values, ..).unwrap();
        file.close().unwrap();
        let err = Weights::read(&copy).unwrap_err();
        assert!(matches!(err, RegridError::BadFile { .. }), "{err}");
        assert!(err.to_string().contains(&*copy.to_string_lossy()), "{err}");
        err.to_string()
    };
    let n_a = (nx * ny) as i32;
    let err = damaged("within", &|v| v[0] = n_a + 1);
    assert!(
        err.contains("`within`") && err.contains(&(n_a + 1).to_string()),
        "{err}"
    );
    let err = damaged("nearest", &|v| v[0] = -3);
    assert!(err.contains("`nearest`"), "{err}");
    let err = damaged("within_count", &|v| v[0] += 1);
    assert!(err.contains("within_count"), "{err}");
    // A neighbourhood that is valid but another one: the level-0 matrix no longer matches.
    let err = damaged("nearest", &|v| {
        let first_wet = v.iter().position(|&s| s > 0).unwrap();
        v[first_wet] = if v[first_wet] == 1 { 2 } else { 1 };
    });
    assert!(err.contains("row/col/S") || err.contains("mask_b"), "{err}");
}
