//! Smooth analytic fields of the demo diagnostics, in LLC tile order `[k][t][j][i]`, 0.0 on
//! land.
//!
//! Each field is a closed formula of the cell's longitude and latitude (the tracer-cell
//! centre, also for face variables: this is synthetic data, smoothness is what matters), the
//! depth of its level and a seasonal phase from the time step, so that every granule differs
//! from the others and lat-lon interpolation can be checked against the formula.

use edp_conventions::staggering::{Horizontal, Staggering, Vertical};
use edp_grid::Grid;
use rayon::prelude::*;

/// Hours in a (mean Julian) year: the period of the seasonal phase.
const HOURS_PER_YEAR: f64 = 8766.0;

/// Geographic velocity of the demo flow at `(lon, lat)` (degrees) and depth `z` (m, negative
/// down): an eastward jet strongest at the equator plus a weak meridional wave, both
/// decaying with depth.
pub(crate) fn geographic_velocity(lon: f64, lat: f64, z: f64, phase: f64) -> (f64, f64) {
    let (lo, la) = (lon.to_radians(), lat.to_radians());
    let decay = (z / 1000.0).exp();
    let east = 0.3 * la.cos() * decay * (1.0 + 0.2 * phase.sin());
    let north = 0.1 * (2.0 * lo).sin() * la.cos() * decay;
    (east, north)
}

/// The value of diagnostic `name` at a wet point.
fn value(name: &str, lon: f64, lat: f64, z: f64, phase: f64, cs: f64, sn: f64) -> f64 {
    let (lo, la) = (lon.to_radians(), lat.to_radians());
    let ssh = 0.6 * (2.0 * la).sin() * lo.cos() + 0.1 * phase.sin();
    let ibc = 0.05 * la.cos() * (lo + phase).sin();
    match name {
        "SSH" => ssh,
        "SSHIBC" => ibc,
        "SSHNOIBC" => ssh + ibc,
        "ETAN" => ssh + 0.02 * (3.0 * lo).cos(),
        "THETA" => 2.0 + 26.0 * la.cos().powi(2) * (z / 700.0).exp() + 0.5 * (phase + lo).sin(),
        "SALT" => 34.7 + 0.6 * la.cos() * (z / 1000.0).exp() * (lo + phase).cos(),
        "UVEL" | "VVEL" => {
            // Rotate the geographic flow into the local grid axes: the inverse of
            // east = u CS - v SN, north = u SN + v CS.
            let (east, north) = geographic_velocity(lon, lat, z, phase);
            if name == "UVEL" {
                east * cs + north * sn
            } else {
                -east * sn + north * cs
            }
        }
        // z is the depth of the top face here: zero at the surface.
        "WVELMASS" => 1e-5 * (2.0 * la).sin() * lo.cos() * (z / 1500.0).sin(),
        // Any other diagnostic (coverage tests of every grouping): smooth, non-zero, and
        // different for each name so that mixed-up variables show.
        _ => {
            let seed = name
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            let shift = f64::from(seed % 360).to_radians();
            1.0 + 0.5 * (lo + shift).sin() * la.cos() + 0.1 * phase.cos() + z / 10_000.0
        }
    }
}

/// The field of diagnostic `name` at `location` for model step `step`: `nz` levels for
/// 3-D locations, one for 2-D, tile order, 0.0 wherever the mask of the location is dry.
pub(crate) fn field(grid: &Grid, name: &str, location: Staggering, step: u64) -> Vec<f32> {
    let cells = grid.cells();
    let levels = if location.is_3d() { grid.nz } else { 1 };
    let phase = 2.0 * std::f64::consts::PI * step as f64 / HOURS_PER_YEAR;
    let mask = match location.horizontal {
        Horizontal::UFace => &grid.mask_w,
        Horizontal::VFace => &grid.mask_s,
        Horizontal::Centre | Horizontal::Corner => &grid.mask_c,
    };
    let mut out = vec![0.0f32; levels * cells];
    out.par_chunks_mut(cells.max(1))
        .enumerate()
        .for_each(|(k, level)| {
            // Depth of the level: centres for k, top faces for k_l, bottom faces for k_u.
            let z = match location.vertical {
                Vertical::Surface => 0.0,
                Vertical::K => grid.rc[k],
                Vertical::KL => grid.rf[k],
                Vertical::KU => grid.rf[k + 1],
            };
            for (c, slot) in level.iter_mut().enumerate() {
                // A k_l level l uses mask level l (docs/netcdf-layout.md 6); 2-D fields use level 0.
                if mask[k * cells + c] {
                    let v = value(
                        name, grid.xc[c], grid.yc[c], z, phase, grid.cs[c], grid.sn[c],
                    );
                    *slot = v as f32;
                }
            }
        });
    out
}
