//! V4r4 weights on the real LLC90 grid: the documented level-0 figures, constant and smooth
//! fields.

use crate::common::llc90_weights;
use edp_regrid::geometry::CHORD_SPHERE_RADIUS_M;

#[test]
fn level_0_reference_figures_of_ecco_format_7_5() {
    let Some((_, _, w)) = llc90_weights() else {
        return;
    };
    // Exact: these are counts from the definition with the float64 grid, which is our input.
    assert_eq!(w.n_target(), 259_200);
    assert_eq!(w.stats().targets_with_source, 259_200);
    let level0 = w.level(0).unwrap();
    assert_eq!(level0.n_wet_targets(), 169_137);
    assert_eq!(level0.n_bin_average(), 70_984);
    assert_eq!(level0.n_nearest(), 98_153);
    assert_eq!(w.stats().max_within_all, 20);
    // Search limits of docs/regridding.md 2.2.
    assert_eq!(w.limits().within_cap_m, 31_367.0);
    assert_eq!(w.limits().nearest_cap_m, 111_177.0);
    assert_eq!(w.limits().neighbour_cap, 100);
    assert!((w.source().min_cell_size_m() - 233.56).abs() < 0.005);
    assert!((w.source().max_cell_size_m() - 111_177.47).abs() < 0.005);
}

#[test]
fn wet_targets_shrink_with_depth_and_every_row_is_an_average() {
    let Some((_, source, w)) = llc90_weights() else {
        return;
    };
    assert_eq!(w.n_levels(), 50);
    let mut previous = w.target_wet_mask(0).unwrap();
    for k in 0..50 {
        let level = w.level(k).unwrap();
        let mask = w.target_wet_mask(k).unwrap();
        // The wet sources shrink with depth, so a target that is land stays land below.
        assert!(
            mask.iter().zip(&previous).all(|(&m, &p)| p || !m),
            "level {k}"
        );
        previous = mask;
        let wet = source.wet(k).unwrap();
        let weights = level.weights();
        for (r, _) in level.rows().iter().enumerate() {
            let (a, b) = (level.ptr()[r] as usize, level.ptr()[r + 1] as usize);
            let n = (b - a) as f64;
            for e in a..b {
                assert!(
                    wet[level.cols()[e] as usize],
                    "level {k}: dry source in a row"
                );
                assert_eq!(weights[e], 1.0 / n);
            }
        }
    }
    assert_eq!(w.level(49).unwrap().n_wet_targets(), 2_778);
}

#[test]
fn constant_field_maps_to_the_same_constant_on_wet_targets_and_nan_on_land() {
    let Some((_, source, w)) = llc90_weights() else {
        return;
    };
    const C: f32 = 3.25;
    // Dry sources get a wild value: it must never show up.
    let field: Vec<f32> = (0..50)
        .flat_map(|k| {
            source
                .wet(k)
                .unwrap()
                .iter()
                .map(|&wet| if wet { C } else { -9e9 })
        })
        .collect();
    let out = w.apply_3d(&field).unwrap();
    for k in 0..50 {
        let mask = w.target_wet_mask(k).unwrap();
        for (p, &m) in mask.iter().enumerate() {
            let v = out[k * w.n_target() + p];
            // Exact: sum of n terms C/n in f64 is C to ~1e-16 relative, far below half an f32
            // ulp, so the f32 result is C itself.
            if m {
                assert_eq!(v, C, "level {k} target {p}");
            } else {
                assert!(v.is_nan(), "level {k} target {p}: {v}");
            }
        }
    }
}

/// Central angle (radians) of a chord of length `d` on the distance sphere.
fn angle_of_chord(d: f64) -> f64 {
    2.0 * (d / (2.0 * CHORD_SPHERE_RADIUS_M)).asin()
}

fn chord(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let p = |lon: f64, lat: f64| {
        let (l, f) = (lon.to_radians(), lat.to_radians());
        [f.cos() * l.cos(), f.cos() * l.sin(), f.sin()]
    };
    let (a, b) = (p(lon1, lat1), p(lon2, lat2));
    CHORD_SPHERE_RADIUS_M
        * ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

#[test]
fn smooth_field_error_is_within_the_lipschitz_bound() {
    let Some((grid, _, w)) = llc90_weights() else {
        return;
    };
    // f = cos(lat) sin(2 lon). Its surface gradient on the unit sphere has components
    // df/dlat = -sin(lat) sin(2 lon) and (1/cos lat) df/dlon = 2 cos(2 lon), so
    // |grad f|^2 = sin^2(lat) sin^2(2 lon) + 4 cos^2(2 lon) <= 4: f is 2-Lipschitz in the
    // central angle. Each output is a mean of f at sources (or one source), hence
    //   |out(p) - f(p)| <= 2 * max over contributing sources of angle(s, p)
    // plus rounding: sources are f32 (|f| <= 1: 6e-8) and the result is f32 (6e-8).
    let f = |lon: f64, lat: f64| lat.to_radians().cos() * (2.0 * lon.to_radians()).sin();
    let field: Vec<f32> = grid
        .xc
        .iter()
        .zip(&grid.yc)
        .map(|(&x, &y)| f(x, y) as f32)
        .collect();
    let out = w.apply_level(0, &field).unwrap();
    let level = w.level(0).unwrap();
    let target = w.target();
    let mut worst: f64 = 0.0;
    for (r, &p) in level.rows().iter().enumerate() {
        let (lon, lat) = target.centre(p as usize);
        let (a, b) = (level.ptr()[r] as usize, level.ptr()[r + 1] as usize);
        let max_angle = level.cols()[a..b]
            .iter()
            .map(|&s| angle_of_chord(chord(grid.xc[s as usize], grid.yc[s as usize], lon, lat)))
            .fold(0.0, f64::max);
        let err = (f64::from(out[p as usize]) - f(lon, lat)).abs();
        assert!(
            err <= 2.0 * max_angle + 1.2e-7,
            "target {p}: error {err}, bound {}",
            2.0 * max_angle
        );
        worst = worst.max(err);
    }
    // Global form of the bound: no contributing source is farther than floor(max_L).
    let global = 2.0 * angle_of_chord(111_177.0);
    assert!(
        worst <= global,
        "worst error {worst} above the global bound {global}"
    );
    eprintln!("smooth field: worst error {worst:.5} (global bound {global:.5})");
}

#[test]
fn source_from_the_grid_crate_equals_the_one_read_here() {
    let Some((_, source, _)) = llc90_weights() else {
        return;
    };
    let grid = edp_grid::Grid::from_mds_dir(edp_testkit::llc90_grid_dir().unwrap()).unwrap();
    let from_grid = edp_regrid::SourceGrid::from_grid(&grid).unwrap();
    // Same coordinates, same wet masks (edp-grid's hFacC vs Depth + RF[k] > 0 here), same
    // cell sizes: same checksum.
    assert_eq!(from_grid.checksum(), source.checksum());
}

#[test]
fn a_level_derived_alone_equals_the_level_derived_below_the_ones_above() {
    let Some((_, source, _)) = llc90_weights() else {
        return;
    };
    let spec = edp_regrid::LatLonSpec::v4r4();
    // In order: each level only revisits the wet targets of the level above.
    let in_order = edp_regrid::Weights::build(source, &spec).unwrap();
    for k in 0..30 {
        in_order.level(k).unwrap();
    }
    // Alone: level 30 first, over every target.
    let alone = edp_regrid::Weights::build(source, &spec).unwrap();
    let deep = alone.level(30).unwrap();
    assert_eq!(deep, in_order.level(30).unwrap());
    assert!(deep.n_wet_targets() > 0 && deep.n_wet_targets() < 169_137);
}

#[test]
fn levels_asked_for_by_concurrent_parallel_jobs_are_derived_once_and_alike() {
    let Some((_, source, shared)) = llc90_weights() else {
        return;
    };
    // Several 3-D fields regridded at once on fresh weights: parallel jobs of all of them ask
    // for the same levels while those are being derived (as two granules of one process do).
    // Each level must come out once and the same as derived alone. (A level derived with
    // parallel jobs of its own could block forever: the benchmark hung once that way; this
    // test exercises the pattern but cannot force that interleaving.)
    // Eight threads (more than cores, to interleave more) regridding four 3-D fields at once.
    use rayon::prelude::*;
    let field: Vec<f32> = vec![1.0; 50 * source.len()];
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(8)
        .build()
        .unwrap();
    let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<u32>>();
    for _ in 0..3 {
        let fresh = edp_regrid::Weights::build(source, &edp_regrid::LatLonSpec::v4r4()).unwrap();
        let results: Vec<Vec<u32>> = pool.install(|| {
            (0..4)
                .into_par_iter()
                .map(|_| bits(fresh.apply_3d(&field).unwrap()))
                .collect()
        });
        assert!(
            results.windows(2).all(|w| w[0] == w[1]),
            "the results differ"
        );
        for k in [0, 25, 49] {
            assert_eq!(fresh.level(k).unwrap(), shared.level(k).unwrap());
        }
    }
}
