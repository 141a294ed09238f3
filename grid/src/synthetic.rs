//! The synthetic "Mercator-LLC(N)" grid of docs/mds-llc.md §6: the LLC tile layout,
//! orientation, connectivity and CS/SN conventions for any `N`, from closed formulas.
//!
//! * `dλ = 90/N` degrees; facet west edges at -38 (facet 1), 52 (2), 142 (4), 232 (5).
//! * Conformal Mercator rows with step `dλ` (in radians) and top edge `φN = 68°`:
//!   `φ(x) = gd(y(68°) - (3N - x) dλ)` for row edges `x = 0..3N`, centres at `x + 0.5`.
//! * Facets 1-2 (tiles 0-5): `i` east, `j` north, CS = 1, SN = 0. Facets 4-5 (tiles 7-12):
//!   `i` south, `j` east, CS = 0, SN = -1; the "SW" corner `(j_g, i_g)` is the geographic NW
//!   corner.
//! * The cap (tile 6) maps the square `a, b ∈ [-1, 1]` to concentric squares of latitude
//!   `90 - ρ (90 - φN)`, `ρ = max(|a|, |b|)`, with longitudes interpolated along each side;
//!   CS/SN from the direction of +i at the centre.
//!
//! Facet edges coincide exactly, so the connectivity table holds by construction (except the
//! cap corners, which have a kink). Metrics: `rA` is exact for lat-lon cells (spherical
//! polygon area on the cap), `dxG/dyG` are great-circle distances between corners,
//! `dxC/dyC` between centres (via the neighbour tile at tile edges); `rAw = dxC dyG`,
//! `rAs = dyC dxG` and `rAz = dxC dyC` are approximations.
//!
//! Vertical grid: the first `nz` levels of the V4r4 profile ([`crate::vertical`]). Depth:
//! an analytic bathymetry and land mask (land south of -78°, a few boxes, shallow shelves),
//! rounded with MITgcm's partial-cell rule (hFacMin 0.2, hFacMinDr 5 m), so
//! `hFacC = clamp((Depth + RF)/DRF, 0, 1)` reproduces the model's open fractions.

use crate::connectivity::ghost_cell;
use crate::corners::{CornerSource, Corners};
use crate::derive::depth_after_partial_cells;
use crate::error::{GridError, Result};
use crate::geometry::{EARTH_RADIUS_M, distance_m, polygon_area_m2, wrap_lon};
use crate::vertical::Vertical;
use crate::{Grid, HFacs};

/// Land of a synthetic grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyntheticLand {
    /// Analytic continents: everything south of -78°, and boxes
    /// (lon -20..40, lat -30..30), (lon -120..-80, lat 10..60), (lon 100..110, lat -10..0),
    /// (lat > 80, lon 0..90). Ocean depth varies smoothly between 50 m and 5500 m.
    #[default]
    Analytic,
    /// No land at all: every column is as deep as the vertical grid.
    AllOcean,
}

/// Parameters of [`Grid::synthetic`].
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticSpec {
    /// Tile size `N` (>= 1).
    pub n: usize,
    /// Number of levels (>= 1).
    pub nz: usize,
    /// Land mask and bathymetry.
    pub land: SyntheticLand,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        SyntheticSpec {
            n: 12,
            nz: 5,
            land: SyntheticLand::Analytic,
        }
    }
}

/// Top latitude of the lat-lon facets.
const PHI_N: f64 = 68.0;

struct Mercator {
    n: usize,
    step: f64,
    top: f64,
}

impl Mercator {
    fn new(n: usize) -> Mercator {
        let y = |phi: f64| {
            (std::f64::consts::FRAC_PI_4 + phi.to_radians() / 2.0)
                .tan()
                .ln()
        };
        Mercator {
            n,
            step: (90.0 / n as f64).to_radians(),
            top: y(PHI_N),
        }
    }

    /// Latitude (degrees) of facet row coordinate `x` (`0..=3N`; edges at integers).
    fn lat(&self, x: f64) -> f64 {
        let y = self.top - (3.0 * self.n as f64 - x) * self.step;
        (2.0 * y.exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees()
    }
}

/// (lon, lat) of cap position `(a, b)` in `[-1, 1]^2`.
fn cap_position(a: f64, b: f64) -> (f64, f64) {
    let rho = a.abs().max(b.abs());
    let lat = 90.0 - rho * (90.0 - PHI_N);
    if rho == 0.0 {
        // The pole: any longitude; -128 matches the cap centre cell of LLC90.
        return (-128.0, lat);
    }
    let lon = if b.abs() >= a.abs() {
        if b < 0.0 {
            97.0 + 45.0 * a / rho
        } else {
            277.0 - 45.0 * a / rho
        }
    } else if a > 0.0 {
        187.0 + 45.0 * b / rho
    } else {
        367.0 - 45.0 * b / rho
    };
    (wrap_lon(lon), lat)
}

/// (lon, lat) of point `(jj, ii)` of tile `t` in cell units: integers are corners, `+0.5`
/// centres. Valid for `0 <= jj, ii <= N`.
fn position(n: usize, merc: &Mercator, t: usize, jj: f64, ii: f64) -> (f64, f64) {
    let nf = n as f64;
    let dl = 90.0 / nf;
    match t {
        0..=5 => {
            let lon0 = if t < 3 { -38.0 } else { 52.0 };
            let m = (t % 3) as f64;
            (wrap_lon(lon0 + ii * dl), merc.lat(m * nf + jj))
        }
        6 => cap_position(-1.0 + 2.0 * ii / nf, -1.0 + 2.0 * jj / nf),
        _ => {
            let lon0 = if t < 10 { 142.0 } else { 232.0 };
            let m = ((t - 7) % 3) as f64;
            (wrap_lon(lon0 + jj * dl), merc.lat(3.0 * nf - (m * nf + ii)))
        }
    }
}

/// Analytic raw bathymetry (positive metres; 0 = land).
fn bathymetry(lon: f64, lat: f64) -> f64 {
    let in_box = |lo0: f64, lo1: f64, la0: f64, la1: f64| {
        (lo0..=lo1).contains(&lon) && (la0..=la1).contains(&lat)
    };
    if lat < -78.0
        || in_box(-20.0, 40.0, -30.0, 30.0)
        || in_box(-120.0, -80.0, 10.0, 60.0)
        || in_box(100.0, 110.0, -10.0, 0.0)
        || in_box(0.0, 90.0, 80.0, 90.0)
    {
        return 0.0;
    }
    let (lo, la) = (lon.to_radians(), lat.to_radians());
    let smooth = 0.5 + 0.5 * (2.0 * lo).sin() * (3.0 * la).cos();
    50.0 + 5450.0 * smooth * la.cos().sqrt()
}

impl Grid {
    /// Generates the synthetic Mercator-LLC(`n`) grid of docs/mds-llc.md §6 (see the module
    /// docs of `synthetic`). Corners are exact ([`CornerSource::Analytic`]).
    pub fn synthetic(spec: &SyntheticSpec) -> Result<Grid> {
        let (n, nz) = (spec.n, spec.nz);
        if n == 0 || nz == 0 {
            return Err(GridError::Invalid {
                what: "synthetic grid size".into(),
                expected: "n >= 1 and nz >= 1".into(),
                found: format!("n = {n}, nz = {nz}"),
            });
        }
        let merc = Mercator::new(n);
        let cells = 13 * n * n;
        let idx = |t: usize, j: usize, i: usize| (t * n + j) * n + i;

        // Corners (all (N+1)^2 per tile) and centres.
        let m = n + 1;
        let mut corners = Corners {
            n,
            lon: vec![0.0; 13 * m * m],
            lat: vec![0.0; 13 * m * m],
            source: vec![CornerSource::Analytic; 13 * m * m],
        };
        let mut xc = vec![0.0; cells];
        let mut yc = vec![0.0; cells];
        let (mut cs, mut sn) = (vec![0.0; cells], vec![0.0; cells]);
        for t in 0..13 {
            for jg in 0..=n {
                for ig in 0..=n {
                    let (lon, lat) = position(n, &merc, t, jg as f64, ig as f64);
                    let k = corners.index(t, jg, ig);
                    corners.lon[k] = lon;
                    corners.lat[k] = lat;
                }
            }
            for j in 0..n {
                for i in 0..n {
                    let (jj, ii) = (j as f64 + 0.5, i as f64 + 0.5);
                    let (lon, lat) = position(n, &merc, t, jj, ii);
                    xc[idx(t, j, i)] = lon;
                    yc[idx(t, j, i)] = lat;
                    let (c, s) = match t {
                        0..=5 => (1.0, 0.0),
                        6 => {
                            // Direction of +i from the west to the east face midpoint.
                            let (lw, pw) = position(n, &merc, t, jj, ii - 0.5);
                            let (le, pe) = position(n, &merc, t, jj, ii + 0.5);
                            let dlon = wrap_lon(le - lw);
                            let alpha = (pe - pw).atan2(lat.to_radians().cos() * dlon);
                            (alpha.cos(), alpha.sin())
                        }
                        _ => (0.0, -1.0),
                    };
                    cs[idx(t, j, i)] = c;
                    sn[idx(t, j, i)] = s;
                }
            }
        }
        let xg: Vec<f64> = (0..cells).map(|c| corner_of(&corners, n, c).0).collect();
        let yg: Vec<f64> = (0..cells).map(|c| corner_of(&corners, n, c).1).collect();

        // Metrics.
        let g = |t: usize, jg: usize, ig: usize| corners.get(t, jg, ig);
        let centre = |t: usize, j: usize, i: usize| (xc[idx(t, j, i)], yc[idx(t, j, i)]);
        let mut dxg = vec![0.0; cells];
        let mut dyg = vec![0.0; cells];
        let mut dxc = vec![0.0; cells];
        let mut dyc = vec![0.0; cells];
        let mut rac = vec![0.0; cells];
        let dl_rad = (90.0 / n as f64).to_radians();
        for t in 0..13 {
            for j in 0..n {
                for i in 0..n {
                    let c = idx(t, j, i);
                    dxg[c] = distance_m(g(t, j, i), g(t, j, i + 1));
                    dyg[c] = distance_m(g(t, j, i), g(t, j + 1, i));
                    rac[c] = if t == 6 {
                        polygon_area_m2(&[
                            g(t, j, i),
                            g(t, j, i + 1),
                            g(t, j + 1, i + 1),
                            g(t, j + 1, i),
                        ])
                    } else {
                        // Exact area of a lat-lon cell.
                        let lats = [g(t, j, i).1, g(t, j + 1, i + 1).1];
                        let (lo, hi) = (lats[0].min(lats[1]), lats[0].max(lats[1]));
                        EARTH_RADIUS_M
                            * EARTH_RADIUS_M
                            * dl_rad
                            * (hi.to_radians().sin() - lo.to_radians().sin())
                    };
                    let here = centre(t, j, i);
                    // Centre-to-centre distances with the west / south neighbour; across the
                    // open south-polar edges use the next cell inwards instead.
                    dxc[c] = match ghost_cell(n, t, j as isize, i as isize - 1) {
                        Some((b, bj, bi)) => distance_m(centre(b, bj, bi), here),
                        None => distance_m(here, centre(t, j, (i + 1).min(n - 1))),
                    };
                    dyc[c] = match ghost_cell(n, t, j as isize - 1, i as isize) {
                        Some((b, bj, bi)) => distance_m(centre(b, bj, bi), here),
                        None => distance_m(here, centre(t, (j + 1).min(n - 1), i)),
                    };
                }
            }
        }
        let raw: Vec<f64> = dxc.iter().zip(&dyg).map(|(a, b)| a * b).collect();
        let ras: Vec<f64> = dyc.iter().zip(&dxg).map(|(a, b)| a * b).collect();
        let raz: Vec<f64> = dxc.iter().zip(&dyc).map(|(a, b)| a * b).collect();

        let vertical = Vertical::stretched(nz);
        let bottom = -vertical.rf[nz];
        let bathy: Vec<f64> = match spec.land {
            SyntheticLand::Analytic => xc
                .iter()
                .zip(&yc)
                .map(|(lo, la)| bathymetry(*lo, *la).min(bottom))
                .collect(),
            SyntheticLand::AllOcean => vec![bottom; cells],
        };
        let depth = depth_after_partial_cells(&bathy, &vertical.rf, &vertical.drf, 0.2, 5.0);

        let mut grid = Grid {
            n,
            nz,
            xc,
            yc,
            xg,
            yg,
            cs,
            sn,
            dxg,
            dyg,
            dxc,
            dyc,
            rac,
            raw,
            ras,
            raz,
            depth,
            rc: vertical.rc,
            rf: vertical.rf,
            drf: vertical.drf,
            drc: vertical.drc,
            hfac_c: Vec::new(),
            hfac_w: Vec::new(),
            hfac_s: Vec::new(),
            mask_c: Vec::new(),
            mask_w: Vec::new(),
            mask_s: Vec::new(),
            corners,
            ice_shelf_draft: None,
        };
        grid.derive_hfacs(HFacs::default());
        Ok(grid)
    }
}

/// The interior corner `(jg, ig) = (j, i)` of 2-D cell index `c`.
fn corner_of(corners: &Corners, n: usize, c: usize) -> (f64, f64) {
    let (t, j, i) = (c / (n * n), (c / n) % n, c % n);
    corners.get(t, j, i)
}
