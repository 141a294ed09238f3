//! The 0.5 deg target grid against docs/regridding.md 2.1-2.2.

use edp_regrid::{LatLonGrid, LatLonSpec};

#[test]
fn radius_table_of_the_v4r4_grid() {
    let g = LatLonGrid::new(LatLonSpec::v4r4()).unwrap();
    // (row latitude, iy, A in m^2, r_p in m) as printed in docs/regridding.md 2.2 (A rounded to
    // 1 m^2, r_p to 1 cm, hence the tolerances).
    for (lat, iy, area, radius) in [
        (0.25, 180, 3_091_047_234.0, 31_367.35),
        (45.25, 270, 2_176_163_482.0, 26_319.09),
        (80.25, 340, 523_472_299.0, 12_908.39),
        (89.75, 359, 13_487_323.0, 2_071.99),
    ] {
        assert_eq!(g.latitudes()[iy], lat);
        assert!(
            (g.row_area(iy) - area).abs() <= 0.5,
            "area of row {iy}: {}",
            g.row_area(iy)
        );
        assert!(
            (g.row_radius(iy) - radius).abs() <= 0.005,
            "r_p of row {iy}: {}",
            g.row_radius(iy)
        );
    }
    assert_eq!(g.max_radius().floor(), 31_367.0);
}

#[test]
fn target_areas_add_up_to_the_authalic_sphere() {
    let g = LatLonGrid::new(LatLonSpec::v4r4()).unwrap();
    // 510,065,881 km^2 printed (rounded to 1 km^2); the strips of a full sphere sum to
    // 4 pi Ra^2 = 510,065,880.97 km^2.
    let total_km2 = g.total_area() / 1e6;
    assert!((total_km2 - 510_065_881.0).abs() <= 0.5, "{total_km2}");
    let sphere = 4.0 * std::f64::consts::PI * edp_regrid::geometry::AUTHALIC_RADIUS_M.powi(2);
    assert!((g.total_area() - sphere).abs() / sphere < 1e-12);
}
