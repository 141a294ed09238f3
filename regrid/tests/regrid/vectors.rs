//! Vector interpolation and rotation on the real LLC90 grid (docs/regridding.md 1).
//!
//! Two constructions of synthetic inputs, plus the real wind stress.
//!
//! 1. The documented check: an analytic east/north field is turned into
//!    model axes at the cell **centres** with the inverse rotation (`Rx = CS E + SN N`,
//!    `Ry = -SN E + CS N`) and placed unchanged on the faces (`u[t][j][i] = Rx(t,j,i)`,
//!    `v[t][j][i] = Ry(t,j,i)`). Face positions are not part of the grid files, and this keeps
//!    the only approximation in one place: the east face of a cell is then represented by its
//!    east neighbour's centre value.
//!
//!    Error bound, per cell `c` (derived, not fitted). The code returns
//!    `Rx = (a_c . V_c + a_e . V_e) / 2` where `a` is the model axis (angle from local east) whose
//!    component is used and `V` the analytic (E, N) at each centre. Hence
//!    `|Rx - a_c . V_c| <= (|V_e - V_c| + |V_c| |angle(a_e) - angle(a_c)|) / 2`, likewise for
//!    `Ry` with the north neighbour, and rotation keeps lengths:
//!    `|(E, N) - V_c| <= sqrt(ex^2 + ey^2)`. The neighbour across a tile edge is found
//!    **geometrically** (the centre nearest to the linear extrapolation of the last two centres),
//!    not from the connectivity table, and its matching axis is the one of `+-x, +-y` closest in
//!    angle to ours; a wrong component or a sign flip in the code breaks the bound by O(|V|).
//!
//! 2. Exact face values (see `exact_face_components_come_back_as_east_north_on_every_tile_and_seam`).
//!
//! 3. TauX/TauY (u/v faces) rotated to east/north are continuous across every tile edge.

use crate::common::{Llc90, N, bin_tiles, llc90_weights};
use edp_regrid::{VectorLocation, VectorRotation};
use std::f64::consts::{FRAC_PI_2, PI};

fn idx(t: usize, j: usize, i: usize) -> usize {
    (t * N + j) * N + i
}

fn unit(lon: f64, lat: f64) -> [f64; 3] {
    let (l, f) = (lon.to_radians(), lat.to_radians());
    [f.cos() * l.cos(), f.cos() * l.sin(), f.sin()]
}

/// For every cell, its east and north neighbours (`None` across the domain boundary).
struct Neighbours {
    east: Vec<Option<usize>>,
    north: Vec<Option<usize>>,
}

fn nearest_centre(centres: &[[f64; 3]], p: [f64; 3], skip_tile: usize) -> (usize, f64) {
    let mut best = (usize::MAX, f64::INFINITY);
    for (s, q) in centres.iter().enumerate() {
        if s / (N * N) == skip_tile {
            continue;
        }
        let d = (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2);
        if d < best.1 {
            best = (s, d);
        }
    }
    (best.0, best.1.sqrt())
}

fn extrapolate(grid: &Llc90, last: usize, before: usize) -> [f64; 3] {
    let (a, b) = (
        unit(grid.xc[last], grid.yc[last]),
        unit(grid.xc[before], grid.yc[before]),
    );
    let e = [2.0 * a[0] - b[0], 2.0 * a[1] - b[1], 2.0 * a[2] - b[2]];
    let norm = (e[0] * e[0] + e[1] * e[1] + e[2] * e[2]).sqrt();
    [e[0] / norm, e[1] / norm, e[2] / norm]
}

/// The geometric neighbours of every cell, computed once per test binary.
fn neighbours(grid: &'static Llc90) -> &'static Neighbours {
    static CELL: std::sync::OnceLock<Neighbours> = std::sync::OnceLock::new();
    CELL.get_or_init(|| find_neighbours(grid))
}

fn find_neighbours(grid: &Llc90) -> Neighbours {
    let centres: Vec<[f64; 3]> = grid
        .xc
        .iter()
        .zip(&grid.yc)
        .map(|(&x, &y)| unit(x, y))
        .collect();
    let mut east = vec![None; 13 * N * N];
    let mut north = vec![None; 13 * N * N];
    for t in 0..13 {
        for j in 0..N {
            for i in 0..N {
                let c = idx(t, j, i);
                east[c] = if i + 1 < N {
                    Some(idx(t, j, i + 1))
                } else if t == 9 || t == 12 {
                    None // east of tiles 9 and 12: the Antarctic domain boundary (value 0)
                } else {
                    let (s, d) =
                        nearest_centre(&centres, extrapolate(grid, c, idx(t, j, i - 1)), t);
                    assert!(
                        d * 6_371.0 < 15.0,
                        "tile {t} row {j}: no centre near the east ghost ({} km)",
                        d * 6371.0
                    );
                    Some(s)
                };
                north[c] = if j + 1 < N {
                    Some(idx(t, j + 1, i))
                } else {
                    let (s, d) =
                        nearest_centre(&centres, extrapolate(grid, c, idx(t, j - 1, i)), t);
                    assert!(
                        d * 6_371.0 < 15.0,
                        "tile {t} col {i}: no centre near the north ghost ({} km)",
                        d * 6371.0
                    );
                    Some(s)
                };
            }
        }
    }
    Neighbours { east, north }
}

/// The in-tile neighbour of `o` that continues the line from `c` through `o`.
fn next_in_tile(grid: &Llc90, o: usize, c: usize) -> usize {
    let target = extrapolate(grid, o, c);
    let (t, j, i) = (o / (N * N), (o / N) % N, o % N);
    let mut candidates = Vec::new();
    if i > 0 {
        candidates.push(idx(t, j, i - 1));
    }
    if i + 1 < N {
        candidates.push(idx(t, j, i + 1));
    }
    if j > 0 {
        candidates.push(idx(t, j - 1, i));
    }
    if j + 1 < N {
        candidates.push(idx(t, j + 1, i));
    }
    let d = |s: usize| {
        let q = unit(grid.xc[s], grid.yc[s]);
        (q[0] - target[0]).powi(2) + (q[1] - target[1]).powi(2) + (q[2] - target[2]).powi(2)
    };
    candidates
        .into_iter()
        .min_by(|&a, &b| d(a).total_cmp(&d(b)))
        .unwrap_or(o)
}

/// Smallest angle between `angle` and the four axis directions `beta + m pi/2` of a neighbour.
fn axis_mismatch(angle: f64, beta: f64) -> f64 {
    (0..4)
        .map(|m| {
            let d = (beta + f64::from(m) * FRAC_PI_2 - angle).rem_euclid(2.0 * PI);
            d.min(2.0 * PI - d)
        })
        .fold(f64::INFINITY, f64::min)
}

struct Outcome {
    max_err_per_tile: [f64; 13],
    max_ratio: f64,
}

/// Runs `field` (lon, lat) -> (E, N) through the face path and checks every cell's bound.
fn check_field(
    grid: &Llc90,
    nb: &Neighbours,
    rot: &VectorRotation,
    field: impl Fn(f64, f64) -> (f64, f64),
) -> Outcome {
    let cells = 13 * N * N;
    let (e0, n0): (Vec<f64>, Vec<f64>) = (0..cells).map(|c| field(grid.xc[c], grid.yc[c])).unzip();
    let (rx, ry) = rot.to_model_axes(&e0, &n0).unwrap();
    let (e, n) = rot.east_north(&rx, &ry, VectorLocation::Faces).unwrap();
    let alpha: Vec<f64> = (0..cells).map(|c| grid.sn[c].atan2(grid.cs[c])).collect();
    // Inside a tile the neighbour's own axis is used (x for the east face, y for the north
    // face); across a seam the closest of the neighbour's four axis directions.
    let mismatch = |c: usize, other: usize, offset: f64| {
        if c / (N * N) == other / (N * N) {
            let d = (alpha[other] - alpha[c]).rem_euclid(2.0 * PI);
            d.min(2.0 * PI - d)
        } else {
            axis_mismatch(alpha[c] + offset, alpha[other])
        }
    };
    let mut out = Outcome {
        max_err_per_tile: [0.0; 13],
        max_ratio: 0.0,
    };
    for c in 0..cells {
        let Some(east) = nb.east[c] else { continue };
        let north = nb.north[c].unwrap();
        let speed = e0[c].hypot(n0[c]);
        let ex =
            0.5 * ((e0[east] - e0[c]).hypot(n0[east] - n0[c]) + speed * mismatch(c, east, 0.0));
        let ey = 0.5
            * ((e0[north] - e0[c]).hypot(n0[north] - n0[c])
                + speed * mismatch(c, north, FRAC_PI_2));
        let bound = ex.hypot(ey) + 1e-12;
        let err = (e[c] - e0[c]).hypot(n[c] - n0[c]);
        let t = c / (N * N);
        assert!(
            err <= bound,
            "tile {t} (j, i) = ({}, {}): error {err}, bound {bound}",
            (c / N) % N,
            c % N
        );
        out.max_err_per_tile[t] = out.max_err_per_tile[t].max(err);
        out.max_ratio = out.max_ratio.max(err / bound);
    }
    out
}

#[test]
fn analytic_flows_come_back_as_east_north_on_all_tiles_and_seams() {
    let Some((grid, _, _)) = llc90_weights() else {
        return;
    };
    let nb = neighbours(grid);
    let rot = VectorRotation::new(N, grid.cs.clone(), grid.sn.clone()).unwrap();

    // Uniform eastward flow (singular only at the pole itself; no cell centre is there).
    let uniform = check_field(grid, nb, &rot, |_, _| (1.0, 0.0));
    // Solid-body rotation about the axis through (0 E, 0 N): V = x_hat x r gives
    // E = -sin(lat) cos(lon), N = sin(lon); it crosses the North Pole and every seam.
    let solid = check_field(grid, nb, &rot, |lon, lat| {
        let (l, f) = (lon.to_radians(), lat.to_radians());
        (-f.sin() * l.cos(), l.sin())
    });
    // Where the model axes are exactly east/north (or south/east) on both sides of every
    // face, i.e. tiles 1, 4, 8, 11 and their seams 1|4, 4|8, 8|11, the bound is 0 for the
    // uniform flow and the result is exact.
    for t in [1, 4, 8, 11] {
        assert!(
            uniform.max_err_per_tile[t] < 1e-12,
            "uniform flow, tile {t}: {}",
            uniform.max_err_per_tile[t]
        );
    }
    let show = |v: [f64; 13]| {
        v.iter()
            .map(|x| format!("{x:.4}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    eprintln!(
        "centre construction, uniform flow, max |error| per tile: {}",
        show(uniform.max_err_per_tile)
    );
    eprintln!(
        "centre construction, solid rotation, max |error| per tile: {}",
        show(solid.max_err_per_tile)
    );
    eprintln!(
        "centre construction, largest error/bound: {:.3} {:.3}",
        uniform.max_ratio, solid.max_ratio
    );
}

/// E/N of the real wind stress (TauX on u faces, TauY on v faces).
fn tau_east_north(grid: &Llc90) -> (Vec<f64>, Vec<f64>) {
    let dir = edp_testkit::llc90_grid_dir().unwrap();
    let (taux, tauy) = (bin_tiles(&dir, "TauX.bin"), bin_tiles(&dir, "TauY.bin"));
    let rot = VectorRotation::new(N, grid.cs.clone(), grid.sn.clone()).unwrap();
    rot.east_north(&taux, &tauy, VectorLocation::Faces).unwrap()
}

#[test]
fn wind_stress_is_continuous_across_every_seam() {
    let Some((grid, _, _)) = llc90_weights() else {
        return;
    };
    let nb = neighbours(grid);
    let (e, n) = tau_east_north(grid);
    let wet = grid.wet(0);
    // A cell whose in-tile neighbours are all wet: none of its faces is closed by land, so
    // its interpolated value is not halved by a zero face (inputs are not masked).
    let open = |c: usize| {
        let (j, i) = ((c / N) % N, c % N);
        let t = c / (N * N);
        wet[c]
            && (i == 0 || wet[idx(t, j, i - 1)])
            && (i + 1 == N || wet[idx(t, j, i + 1)])
            && (j == 0 || wet[idx(t, j - 1, i)])
            && (j + 1 == N || wet[idx(t, j + 1, i)])
    };
    // For each tile edge, with `c` the last cell of tile A, `p1`, `p2` the two cells before
    // it in A, `o` the geometric neighbour across the seam and `o1` the next cell in B:
    // the jumps into and out of `c` (|c - p1|, |o - c|) must stay within twice the
    // variability measured without `c` (|p1 - p2| and |o1 - o|). A wrong component or sign
    // at the seam corrupts `c` (the only value that borrows from B) and makes both jumps of
    // the order of |tau| ~ 0.1 N/m2, several times the cell-to-cell variability.
    // Only cells away from the coast count (see `open`).
    let n2 = N * N;
    let dist = |a: usize, b: usize| (e[a] - e[b]).hypot(n[a] - n[b]);
    for t in 0..13 {
        for edge in ["east", "north"] {
            let (mut jumps, mut reference, mut count) = (0.0, 0.0, 0usize);
            for k in 0..N {
                let (c, p1, p2, other) = if edge == "east" {
                    (
                        idx(t, k, N - 1),
                        idx(t, k, N - 2),
                        idx(t, k, N - 3),
                        nb.east[idx(t, k, N - 1)],
                    )
                } else {
                    (
                        idx(t, N - 1, k),
                        idx(t, N - 2, k),
                        idx(t, N - 3, k),
                        nb.north[idx(t, N - 1, k)],
                    )
                };
                let Some(o) = other else { continue };
                // The next cell in B continues the line p1 -> c -> o.
                let o1 = next_in_tile(grid, o, c);
                if o / n2 == t || o1 == o || ![c, p1, p2, o, o1].iter().all(|&x| open(x)) {
                    continue;
                }
                jumps += dist(c, p1).powi(2) + dist(o, c).powi(2);
                reference += dist(p1, p2).powi(2) + dist(o1, o).powi(2);
                count += 1;
            }
            if count < 5 {
                continue; // an all-land edge
            }
            let (jump_rms, ref_rms) = (
                (jumps / count as f64).sqrt(),
                (reference / count as f64).sqrt(),
            );
            assert!(
                jump_rms <= 2.0 * ref_rms + 2e-3,
                "tile {t} {edge} edge: rms jump at the seam {jump_rms:.4} vs {ref_rms:.4} away from it ({count} cells)"
            );
        }
    }
}

/// 3-D unit vectors of local east and north at (lon, lat).
fn east_north_vectors(lon: f64, lat: f64) -> ([f64; 3], [f64; 3]) {
    let (l, f) = (lon.to_radians(), lat.to_radians());
    (
        [-l.sin(), l.cos(), 0.0],
        [-f.sin() * l.cos(), -f.sin() * l.sin(), f.cos()],
    )
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn normalized(a: [f64; 3]) -> [f64; 3] {
    let n = dot(a, a).sqrt();
    [a[0] / n, a[1] / n, a[2] / n]
}

/// The component of `field` normal to the face from corner `g0` to corner `g1`, pointing
/// towards the centre `c` (the +i direction for a west face, +j for a south face).
fn face_value(
    g0: (f64, f64),
    g1: (f64, f64),
    c: [f64; 3],
    field: &impl Fn(f64, f64) -> (f64, f64),
) -> f64 {
    let (p0, p1) = (unit(g0.0, g0.1), unit(g1.0, g1.1));
    let m = normalized([p0[0] + p1[0], p0[1] + p1[1], p0[2] + p1[2]]);
    let mut normal = normalized(cross(sub(p1, p0), m));
    if dot(normal, sub(c, m)) < 0.0 {
        normal = [-normal[0], -normal[1], -normal[2]];
    }
    let lon = m[1].atan2(m[0]).to_degrees();
    let lat = m[2].clamp(-1.0, 1.0).asin().to_degrees();
    let (e, n) = field(lon, lat);
    let (ev, nv) = east_north_vectors(lon, lat);
    dot(
        [
            e * ev[0] + n * nv[0],
            e * ev[1] + n * nv[1],
            e * ev[2] + n * nv[2],
        ],
        normal,
    )
}

/// |(E, N) - V| of every wet cell (NaN elsewhere) when the faces carry the exact normal
/// components of `field` at the face midpoints (from the extended cell corners of edp-grid).
fn face_errors(
    grid: &edp_grid::Grid,
    rot: &VectorRotation,
    field: impl Fn(f64, f64) -> (f64, f64),
) -> Vec<f64> {
    let cells = 13 * N * N;
    let (mut u, mut v) = (vec![0.0; cells], vec![0.0; cells]);
    for t in 0..13 {
        for j in 0..N {
            for i in 0..N {
                let c = idx(t, j, i);
                let centre = unit(grid.xc[c], grid.yc[c]);
                let g = |jg, ig| grid.corners.get(t, jg, ig);
                u[c] = face_value(g(j, i), g(j + 1, i), centre, &field);
                v[c] = face_value(g(j, i), g(j, i + 1), centre, &field);
            }
        }
    }
    let (e, n) = rot.east_north(&u, &v, VectorLocation::Faces).unwrap();
    (0..cells)
        .map(|c| {
            // East of tiles 9 and 12 is the domain boundary (face value 0); "away from land"
            // as docs/regridding.md 1 says (the grid's singular cap-corner points are on land).
            let boundary = (c / (N * N) == 9 || c / (N * N) == 12) && c % N == N - 1;
            if boundary {
                return f64::NAN;
            }
            let (e0, n0) = field(grid.xc[c], grid.yc[c]);
            (e[c] - e0).hypot(n[c] - n0)
        })
        .collect()
}

/// Largest of `errors` over the cells of tile `t` (NaN ignored).
fn tile_max(errors: &[f64], t: usize) -> f64 {
    errors[t * N * N..(t + 1) * N * N]
        .iter()
        .copied()
        .filter(|x| !x.is_nan())
        .fold(0.0, f64::max)
}

/// Second construction: the faces carry the exact normal components of the analytic field
/// at the face midpoints (face = great-circle segment between the cell's extended corners
/// from edp-grid; normal pointing into the cell, i.e. +i for u, +j for v). The interpolation
/// is then second order and the rotation uses CS/SN, so the result is close to the field at
/// the centre. Stated tolerances (both fields have |V| <= 1):
/// * every wet cell: 2e-3 on tiles 0-5 and 7-12 (measured at most 6e-4), 0.03 on the cap,
///   whose four cells around the North Pole turn by about 45 degrees per cell (measured 0.027);
/// * every cell, wet or dry, along the seams 2|6, 5|6, 6|7, 6|10, 3|9, 4|8, 5|7 (both sides),
///   except the three cells at each end of an edge: 2e-3 (measured 1.4e-3). At the grid's
///   singular corner points, where three tiles meet (all on land), errors reach 0.12.
///
/// A wrong component or sign at a seam gives errors of order 1.
#[test]
fn exact_face_components_come_back_as_east_north_on_every_tile_and_seam() {
    let Some((llc, _, _)) = llc90_weights() else {
        return;
    };
    let grid = edp_grid::Grid::from_mds_dir(edp_testkit::llc90_grid_dir().unwrap()).unwrap();
    let rot = VectorRotation::from_grid(&grid).unwrap();
    let nb = neighbours(llc);
    let uniform = face_errors(&grid, &rot, |_, _| (1.0, 0.0));
    let solid = face_errors(&grid, &rot, |lon, lat| {
        let (l, f) = (lon.to_radians(), lat.to_radians());
        (-f.sin() * l.cos(), l.sin())
    });
    for (name, errors) in [
        ("uniform eastward flow", &uniform),
        ("solid-body rotation", &solid),
    ] {
        let wet_errors: Vec<f64> = errors
            .iter()
            .zip(&grid.mask_c)
            .map(|(&e, &wet)| if wet { e } else { f64::NAN })
            .collect();
        let worst: Vec<f64> = (0..13).map(|t| tile_max(&wet_errors, t)).collect();
        for (t, &w) in worst.iter().enumerate() {
            let tolerance = if t == 6 { 0.03 } else { 2e-3 };
            assert!(
                w <= tolerance,
                "{name}, tile {t}: max error {w} over wet cells"
            );
        }
        eprintln!("exact faces, {name}, max error per tile: {worst:.4?}");
        // The seams named in docs/regridding.md 1, both sides, the cap included, land or not (the
        // analytic field exists everywhere): every cell whose geometric east or north
        // neighbour lies across the seam, except the three cells at each end of an edge,
        // next to the grid's singular corner points (errors up to 0.12 there, on land).
        let mut worst_seam: f64 = 0.0;
        for (a, b) in [(2, 6), (5, 6), (6, 7), (6, 10), (3, 9), (4, 8), (5, 7)] {
            let mut cells = 0;
            for (c, &err) in errors.iter().enumerate() {
                let (tile, j, i) = (c / (N * N), (c / N) % N, c % N);
                let along = if i == N - 1 { j } else { i };
                let across = [nb.east[c], nb.north[c]].into_iter().flatten().any(|o| {
                    let other = o / (N * N);
                    (tile, other) == (a, b) || (tile, other) == (b, a)
                });
                if across && (3..N - 3).contains(&along) && !err.is_nan() {
                    assert!(
                        err <= 2e-3,
                        "{name}, seam {a}|{b}, tile {tile} ({j}, {i}): error {err}"
                    );
                    worst_seam = worst_seam.max(err);
                    cells += 1;
                }
            }
            assert!(
                cells >= 80,
                "{name}: only {cells} cells checked on seam {a}|{b}"
            );
        }
        eprintln!("exact faces, {name}, max error on the named seams: {worst_seam:.5}");
    }
}
