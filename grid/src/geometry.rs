//! Small spherical-geometry helpers (degrees in, metres out) shared by the synthetic grid,
//! the corner extrapolation fallback and the tests.

/// Earth radius used for synthetic metrics (metres).
pub const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// Wraps a longitude to `[-180, 180)`.
pub fn wrap_lon(lon: f64) -> f64 {
    (lon + 180.0).rem_euclid(360.0) - 180.0
}

/// Unit vector of a (lon, lat) position in degrees.
pub fn to_xyz(lon: f64, lat: f64) -> [f64; 3] {
    let (lo, la) = (lon.to_radians(), lat.to_radians());
    [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
}

/// (lon, lat) in degrees of a (not necessarily unit) vector; lon in `[-180, 180]`.
pub fn to_lonlat(v: [f64; 3]) -> (f64, f64) {
    let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let lat = (v[2] / norm).clamp(-1.0, 1.0).asin().to_degrees();
    let lon = v[1].atan2(v[0]).to_degrees();
    (lon, lat)
}

/// Great-circle distance in metres between two (lon, lat) positions (degrees).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (pa, pb) = (to_xyz(a.0, a.1), to_xyz(b.0, b.1));
    let cross = [
        pa[1] * pb[2] - pa[2] * pb[1],
        pa[2] * pb[0] - pa[0] * pb[2],
        pa[0] * pb[1] - pa[1] * pb[0],
    ];
    let sin = (cross[0] * cross[0] + cross[1] * cross[1] + cross[2] * cross[2]).sqrt();
    let cos = pa[0] * pb[0] + pa[1] * pb[1] + pa[2] * pb[2];
    // atan2 keeps full precision for both tiny and near-antipodal separations.
    EARTH_RADIUS_M * sin.atan2(cos)
}

/// Linear extrapolation on the unit sphere: the point one step beyond `last` along
/// `before -> last` (`2 last - before`, renormalised).
pub fn extrapolate(before: (f64, f64), last: (f64, f64)) -> (f64, f64) {
    let (a, b) = (to_xyz(before.0, before.1), to_xyz(last.0, last.1));
    to_lonlat([2.0 * b[0] - a[0], 2.0 * b[1] - a[1], 2.0 * b[2] - a[2]])
}

/// Area in m² of the spherical polygon with the given (lon, lat) vertices (degrees), in
/// order, with great-circle edges (sum of the spherical excesses of a triangle fan).
pub fn polygon_area_m2(vertices: &[(f64, f64)]) -> f64 {
    if vertices.len() < 3 {
        return 0.0;
    }
    let p: Vec<[f64; 3]> = vertices.iter().map(|(lo, la)| to_xyz(*lo, *la)).collect();
    let mut excess = 0.0;
    for k in 1..p.len() - 1 {
        excess += triangle_excess(p[0], p[k], p[k + 1]);
    }
    excess.abs() * EARTH_RADIUS_M * EARTH_RADIUS_M
}

/// Signed spherical excess of a triangle of unit vectors (Van Oosterom & Strackee).
fn triangle_excess(a: [f64; 3], b: [f64; 3], c: [f64; 3]) -> f64 {
    let dot = |u: [f64; 3], v: [f64; 3]| u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    let triple = a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
        + a[2] * (b[0] * c[1] - b[1] * c[0]);
    let denom = 1.0 + dot(a, b) + dot(b, c) + dot(c, a);
    2.0 * triple.atan2(denom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = distance_m((10.0, 0.0), (10.0, 1.0));
        assert!((d - EARTH_RADIUS_M * 1f64.to_radians()).abs() < 1e-6);
    }

    #[test]
    fn octant_area_is_an_eighth_of_the_sphere() {
        let area = polygon_area_m2(&[(0.0, 0.0), (90.0, 0.0), (0.0, 90.0)]);
        let sphere = 4.0 * std::f64::consts::PI * EARTH_RADIUS_M * EARTH_RADIUS_M;
        assert!((area / sphere - 0.125).abs() < 1e-12);
    }

    #[test]
    fn extrapolation_continues_a_meridian() {
        // The chord extrapolation undershoots the arc by O(step^3): 2e-4 degrees here.
        let (lon, lat) = extrapolate((30.0, 10.0), (30.0, 11.0));
        assert!(
            (lon - 30.0).abs() < 1e-9 && (lat - 12.0).abs() < 1e-3,
            "{lat}"
        );
        assert_eq!(wrap_lon(180.0), -180.0);
        assert_eq!(wrap_lon(-190.0), 170.0);
    }
}
