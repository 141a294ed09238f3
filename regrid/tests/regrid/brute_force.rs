//! SSH on the real grid: a sample of targets recomputed by brute force, straight from the
//! definitions of docs/regridding.md 2.1-2.5 (every one of the 105,300 sources visited, no index).

use crate::common::{bin_tiles, llc90_weights};

const RK: f64 = 6_370_997.0; // distance sphere (7.2)
const RA: f64 = 6_371_008.8; // authalic radius (7.1)

fn xyz(lon: f64, lat: f64) -> [f64; 3] {
    let (l, f) = (lon.to_radians(), lat.to_radians());
    [RK * f.cos() * l.cos(), RK * f.cos() * l.sin(), RK * f.sin()]
}

fn dist(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let (dx, dy, dz) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    (dx * dx + dy * dy + dz * dz).sqrt()
}

/// r_p of a 0.5 deg row centred on `lat`: sqrt(A / pi), A on the authalic sphere.
fn radius(lat: f64) -> f64 {
    let a = ((lat + 0.25).to_radians().sin() - (lat - 0.25).to_radians().sin())
        * 0.5f64.to_radians()
        * RA
        * RA;
    (a / std::f64::consts::PI).sqrt()
}

/// What the definition says for one target: `None` for land, else the sorted source set.
/// `points` are the sources' positions from `xyz` (computed once: the test visits every
/// source for every sampled target).
fn brute_force(p: usize, points: &[[f64; 3]], wet: &[bool], max_l: f64) -> Option<Vec<u32>> {
    let (ix, iy) = (p % 720, p / 720);
    let (lon, lat) = (-179.75 + 0.5 * ix as f64, -89.75 + 0.5 * iy as f64);
    let q = xyz(lon, lat);
    let r = radius(lat).min(radius(0.25).floor()); // the largest r_p is at the equator rows
    let d: Vec<f64> = points.iter().map(|s| dist(s, &q)).collect();
    // nearest_ALL: smallest distance, ties by smaller index (min_by keeps the first minimum).
    let nearest = (0..d.len()).min_by(|&a, &b| d[a].total_cmp(&d[b]))?;
    if d[nearest] > max_l.floor() || !wet[nearest] {
        return None;
    }
    let mut within: Vec<usize> = (0..d.len()).filter(|&s| wet[s] && d[s] <= r).collect();
    within.sort_by(|&a, &b| d[a].total_cmp(&d[b]).then(a.cmp(&b)));
    within.truncate(100);
    let mut set: Vec<u32> = if within.is_empty() {
        vec![nearest as u32]
    } else {
        within.iter().map(|&s| s as u32).collect()
    };
    set.sort_unstable();
    Some(set)
}

#[test]
fn ssh_sample_equals_brute_force_and_land_never_leaks() {
    let Some((grid, source, w)) = llc90_weights() else {
        return;
    };
    let dir = edp_testkit::llc90_grid_dir().unwrap();
    let ssh = bin_tiles(&dir, "SSH.bin");
    let wet = source.wet(0).unwrap();
    let out = w.apply_level(0, &ssh).unwrap();
    let level = w.level(0).unwrap();
    let points: Vec<[f64; 3]> = grid
        .xc
        .iter()
        .zip(&grid.yc)
        .map(|(&x, &y)| xyz(x, y))
        .collect();

    // Every 199th target (all latitudes and longitudes) plus the whole northernmost and a
    // whole Arctic row, where r_p is smallest and the cap tile is involved.
    let mut sample: Vec<usize> = (0..259_200).step_by(199).collect();
    sample.extend(359 * 720..360 * 720);
    sample.extend(330 * 720..331 * 720);
    let (mut n_land, mut n_bin, mut n_nearest) = (0, 0, 0);
    for &p in &sample {
        let expected = brute_force(p, &points, wet, source.max_cell_size_m());
        match (expected, level.row_of(p)) {
            (None, None) => {
                assert!(out[p].is_nan());
                n_land += 1;
            }
            (Some(set), Some((cols, weights))) => {
                assert_eq!(cols, &set[..], "target {p}");
                let n = set.len() as f64;
                assert!(weights.iter().all(|&x| x == 1.0 / n), "target {p}");
                // Definition: (1/n) sum F computed in f64, cast to f32. Our sum of (1/n) F
                // rounds differently only if the f64 results straddle an f32 rounding
                // boundary (~1e-9 chance per value); equality is expected on the sample.
                let mean = set.iter().map(|&s| f64::from(ssh[s as usize])).sum::<f64>() / n;
                assert_eq!(out[p], mean as f32, "target {p}");
                if set.len() > 1 || brute_is_within(p, set[0], &grid.xc, &grid.yc) {
                    n_bin += 1;
                } else {
                    n_nearest += 1;
                }
            }
            (e, g) => panic!("target {p}: brute force {e:?}, weights {g:?}"),
        }
    }
    // The sample covers all three cases.
    assert!(
        n_land > 100 && n_bin > 100 && n_nearest > 100,
        "{n_land} {n_bin} {n_nearest}"
    );

    // Land never leaks: every wet target lies within the range of the wet sources, and
    // replacing every dry source value changes nothing.
    let wet_values: Vec<f32> = ssh
        .iter()
        .zip(wet)
        .filter(|(_, w)| **w)
        .map(|(&v, _)| v)
        .collect();
    let lo = wet_values.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = wet_values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    assert!(
        (lo - -1.888).abs() < 1e-3 && (hi - 1.136).abs() < 1e-3,
        "{lo} {hi}"
    );
    for &p in level.rows() {
        let v = out[p as usize];
        assert!(lo <= v && v <= hi, "target {p}: {v}");
    }
    let poisoned: Vec<f32> = ssh
        .iter()
        .zip(wet)
        .map(|(&v, &w)| if w { v } else { 1e30 })
        .collect();
    let again = w.apply_level(0, &poisoned).unwrap();
    assert!(
        out.iter()
            .zip(&again)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    // The wet-only form gives the same result.
    let from_wet = w.apply_level_wet(0, &wet_values).unwrap();
    assert!(
        out.iter()
            .zip(&from_wet)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

/// Whether source `s` lies within r_p of target `p` (bin average of one source).
fn brute_is_within(p: usize, s: u32, xc: &[f64], yc: &[f64]) -> bool {
    let (ix, iy) = (p % 720, p / 720);
    let lat = -89.75 + 0.5 * iy as f64;
    let q = xyz(-179.75 + 0.5 * ix as f64, lat);
    dist(&xyz(xc[s as usize], yc[s as usize]), &q) <= radius(lat).min(radius(0.25).floor())
}
