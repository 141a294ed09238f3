//! Spherical constants and chord distances (docs/regridding.md §2.1-2.2).
//!
//! Two radii are involved, on purpose: target-cell *areas* use the authalic radius (as ACCESS
//! `area_of_latlon_grid_cell` did), neighbour *distances* are chords on the sphere that
//! pyresample uses (`_spatial_mp.py`). The chord between two points is the Euclidean distance
//! of their 3-D positions, which is what lets a 3-D k-d tree answer the queries exactly.

/// Authalic Earth radius (m) used for target cell areas.
pub const AUTHALIC_RADIUS_M: f64 = 6_371_008.8;

/// Radius (m) of the sphere on which source/target distances are measured as chords.
pub const CHORD_SPHERE_RADIUS_M: f64 = 6_370_997.0;

/// Cartesian position (m) of the point at `lon_deg`, `lat_deg` on the sphere of radius
/// [`CHORD_SPHERE_RADIUS_M`]: `x = R cos(lat) cos(lon)`, `y = R cos(lat) sin(lon)`,
/// `z = R sin(lat)`.
#[inline]
pub fn to_xyz(lon_deg: f64, lat_deg: f64) -> [f64; 3] {
    let (lon, lat) = (lon_deg.to_radians(), lat_deg.to_radians());
    let r = CHORD_SPHERE_RADIUS_M;
    [
        r * lat.cos() * lon.cos(),
        r * lat.cos() * lon.sin(),
        r * lat.sin(),
    ]
}

/// Chord distance (m) between two positions from [`to_xyz`].
///
/// This one expression defines "distance" for every comparison with a radius in this crate;
/// the k-d tree only proposes candidates (see `neighbours`), so its own rounding never decides
/// membership.
#[inline]
pub fn chord_distance(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let dx = a[0] - b[0];
    let dy = a[1] - b[1];
    let dz = a[2] - b[2];
    (dx * dx + dy * dy + dz * dz).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chord_of_a_quarter_circle_is_r_sqrt2() {
        let a = to_xyz(0.0, 0.0);
        let b = to_xyz(90.0, 0.0);
        let expected = CHORD_SPHERE_RADIUS_M * std::f64::consts::SQRT_2;
        assert!((chord_distance(&a, &b) - expected).abs() < 1e-6);
    }

    #[test]
    fn chord_across_the_date_line_is_short() {
        // 0.2 deg of longitude at the equator: the chord is 2 R sin(0.1 deg), not half the globe.
        let a = to_xyz(179.9, 0.0);
        let b = to_xyz(-179.9, 0.0);
        let expected = 2.0 * CHORD_SPHERE_RADIUS_M * (0.1f64.to_radians()).sin();
        assert!((chord_distance(&a, &b) - expected).abs() < 1e-6);
    }
}
