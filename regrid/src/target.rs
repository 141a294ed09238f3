//! The regular lat-lon target grid (docs/regridding.md §2.1) and its per-cell radius (§2.2).
//!
//! Cells are numbered `p = iy * nx + ix` with `iy = 0` the **southernmost** row, which is the
//! row-major flattening of the `(latitude, longitude)` output arrays.

use crate::error::{RegridError, Result};
use crate::geometry::AUTHALIC_RADIUS_M;

/// How the bin-average radius `r_p` of a target cell is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetRadius {
    /// `r_p = sqrt(A_p / pi)`: the radius of the disc with the cell's area (V4r4).
    AreaEquivalent,
    /// The same radius (m) for every target (later EDP configurations).
    Fixed(f64),
}

/// What target grid to build: resolution, extent and radius rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLonSpec {
    /// Cell size in degrees, the same in longitude and latitude.
    pub resolution_deg: f64,
    /// Western edge of the first column (degrees east).
    pub lon_min: f64,
    /// Eastern edge of the last column.
    pub lon_max: f64,
    /// Southern edge of the first row (degrees north).
    pub lat_min: f64,
    /// Northern edge of the last row.
    pub lat_max: f64,
    /// The bin-average radius rule.
    pub radius: TargetRadius,
}

impl Default for LatLonSpec {
    /// The V4r4 product grid: 0.5 deg, global, `r_p = sqrt(A/pi)`.
    fn default() -> Self {
        LatLonSpec::v4r4()
    }
}

impl LatLonSpec {
    /// The V4r4 product grid: 720 x 360 cells of 0.5 deg, extent [-180, 180] x [-90, 90],
    /// `r_p = sqrt(A/pi)`.
    pub fn v4r4() -> LatLonSpec {
        LatLonSpec::global(0.5)
    }

    /// A global grid of `resolution_deg` cells with the V4r4 radius rule.
    pub fn global(resolution_deg: f64) -> LatLonSpec {
        LatLonSpec {
            resolution_deg,
            lon_min: -180.0,
            lon_max: 180.0,
            lat_min: -90.0,
            lat_max: 90.0,
            radius: TargetRadius::AreaEquivalent,
        }
    }

    /// Number of cells along an extent, when the extent is a whole number of cells.
    fn cells(&self, what: &str, span: f64) -> Result<usize> {
        let cells = span / self.resolution_deg;
        let rounded = cells.round();
        if !(rounded >= 1.0 && (cells - rounded).abs() <= 1e-9 * rounded.max(1.0)) {
            return Err(RegridError::Invalid {
                what: format!("target {what} extent"),
                expected: format!("a whole number of {} deg cells", self.resolution_deg),
                found: format!("{span} deg = {cells} cells"),
            });
        }
        // `rounded` is a small positive whole number here (checked above).
        Ok(rounded as usize)
    }

    fn validate(&self) -> Result<()> {
        let invalid = |what: &str, expected: &str, found: String| {
            Err(RegridError::Invalid {
                what: what.into(),
                expected: expected.into(),
                found,
            })
        };
        let res = self.resolution_deg;
        if !(res.is_finite() && res > 0.0 && res <= 180.0) {
            return invalid("target resolution", "0 < degrees <= 180", format!("{res}"));
        }
        let (w, e, s, n) = (self.lon_min, self.lon_max, self.lat_min, self.lat_max);
        if !(w.is_finite() && e.is_finite() && w < e && e - w <= 360.0 + 1e-9) {
            return invalid(
                "target longitude extent",
                "lon_min < lon_max spanning at most 360 deg",
                format!("[{w}, {e}]"),
            );
        }
        if !(s.is_finite() && n.is_finite() && -90.0 <= s && s < n && n <= 90.0) {
            return invalid(
                "target latitude extent",
                "-90 <= lat_min < lat_max <= 90",
                format!("[{s}, {n}]"),
            );
        }
        if let TargetRadius::Fixed(r) = self.radius
            && !(r.is_finite() && r > 0.0)
        {
            return invalid(
                "fixed target radius",
                "a positive number of metres",
                format!("{r}"),
            );
        }
        Ok(())
    }
}

/// A built target grid: centres, edges, areas and radii.
#[derive(Debug, Clone, PartialEq)]
pub struct LatLonGrid {
    spec: LatLonSpec,
    nx: usize,
    ny: usize,
    lon: Vec<f64>,
    lat: Vec<f64>,
    lon_edges: Vec<f64>,
    lat_edges: Vec<f64>,
    row_area: Vec<f64>,
    row_radius: Vec<f64>,
}

impl LatLonGrid {
    /// Builds the grid of `spec`; fails on a non-positive resolution, an extent that is not a
    /// whole number of cells, or a non-positive fixed radius.
    pub fn new(spec: LatLonSpec) -> Result<LatLonGrid> {
        spec.validate()?;
        let nx = spec.cells("longitude", spec.lon_max - spec.lon_min)?;
        let ny = spec.cells("latitude", spec.lat_max - spec.lat_min)?;
        // Target indices are stored 1-based as int32 in SCRIP/ESMF files.
        if nx.checked_mul(ny).is_none_or(|n| n >= i32::MAX as usize) {
            return Err(RegridError::Invalid {
                what: "target grid size".into(),
                expected: "fewer than 2^31 - 1 cells".into(),
                found: format!("{nx} x {ny} cells of {} deg", spec.resolution_deg),
            });
        }
        let res = spec.resolution_deg;
        // Edges and centres from the same origin so that neighbouring cells share bit-identical
        // edges; for 0.5 deg every value is exact (-179.75 + 0.5 ix, -89.75 + 0.5 iy).
        let lon_edges: Vec<f64> = (0..=nx).map(|ix| spec.lon_min + res * ix as f64).collect();
        let lat_edges: Vec<f64> = (0..=ny).map(|iy| spec.lat_min + res * iy as f64).collect();
        let lon = (0..nx)
            .map(|ix| spec.lon_min + res * (ix as f64 + 0.5))
            .collect();
        let lat = (0..ny)
            .map(|iy| spec.lat_min + res * (iy as f64 + 0.5))
            .collect();
        let width = res.to_radians();
        let row_area: Vec<f64> = (0..ny)
            .map(|iy| {
                let (south, north) = (lat_edges[iy].to_radians(), lat_edges[iy + 1].to_radians());
                (north.sin() - south.sin()) * width * AUTHALIC_RADIUS_M * AUTHALIC_RADIUS_M
            })
            .collect();
        let row_radius = row_area
            .iter()
            .map(|&a| match spec.radius {
                TargetRadius::AreaEquivalent => (a / std::f64::consts::PI).sqrt(),
                TargetRadius::Fixed(r) => r,
            })
            .collect();
        Ok(LatLonGrid {
            spec,
            nx,
            ny,
            lon,
            lat,
            lon_edges,
            lat_edges,
            row_area,
            row_radius,
        })
    }

    /// The specification the grid was built from.
    pub fn spec(&self) -> &LatLonSpec {
        &self.spec
    }

    /// Number of columns (longitudes).
    pub fn nx(&self) -> usize {
        self.nx
    }

    /// Number of rows (latitudes).
    pub fn ny(&self) -> usize {
        self.ny
    }

    /// Number of target cells, `nx * ny`.
    pub fn len(&self) -> usize {
        self.nx * self.ny
    }

    /// Always false: a valid grid has at least one cell.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Flat index of row `iy` (0 = south), column `ix`.
    pub fn index(&self, iy: usize, ix: usize) -> usize {
        iy * self.nx + ix
    }

    /// Column centres (degrees east), west to east.
    pub fn longitudes(&self) -> &[f64] {
        &self.lon
    }

    /// Row centres (degrees north), **south to north**.
    pub fn latitudes(&self) -> &[f64] {
        &self.lat
    }

    /// `[west, east]` edges of column `ix`.
    pub fn lon_bounds(&self, ix: usize) -> [f64; 2] {
        [self.lon_edges[ix], self.lon_edges[ix + 1]]
    }

    /// `[south, north]` edges of row `iy`.
    pub fn lat_bounds(&self, iy: usize) -> [f64; 2] {
        [self.lat_edges[iy], self.lat_edges[iy + 1]]
    }

    /// `(lon, lat)` of the centre of cell `p`.
    pub fn centre(&self, p: usize) -> (f64, f64) {
        (self.lon[p % self.nx], self.lat[p / self.nx])
    }

    /// Area (m^2, authalic sphere) of the cells of row `iy`.
    pub fn row_area(&self, iy: usize) -> f64 {
        self.row_area[iy]
    }

    /// Bin-average radius `r_p` (m) of the cells of row `iy`.
    pub fn row_radius(&self, iy: usize) -> f64 {
        self.row_radius[iy]
    }

    /// Bin-average radius `r_p` (m) of cell `p`.
    pub fn radius(&self, p: usize) -> f64 {
        self.row_radius[p / self.nx]
    }

    /// Largest `r_p` over the grid.
    pub fn max_radius(&self) -> f64 {
        self.row_radius.iter().copied().fold(0.0, f64::max)
    }

    /// Sum of all cell areas (m^2).
    pub fn total_area(&self) -> f64 {
        self.row_area.iter().sum::<f64>() * self.nx as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4r4_grid_has_720_by_360_cells_with_south_first_rows() {
        let g = LatLonGrid::new(LatLonSpec::v4r4()).unwrap();
        assert_eq!((g.nx(), g.ny(), g.len()), (720, 360, 259_200));
        assert_eq!(g.longitudes()[0], -179.75);
        assert_eq!(g.longitudes()[719], 179.75);
        assert_eq!(g.latitudes()[0], -89.75);
        assert_eq!(g.latitudes()[359], 89.75);
        assert_eq!(g.lat_bounds(0), [-90.0, -89.5]);
        assert_eq!(g.lon_bounds(719), [179.5, 180.0]);
        assert_eq!(g.centre(g.index(180, 1)), (-179.25, 0.25));
    }

    #[test]
    fn extent_that_is_not_whole_cells_is_rejected() {
        let mut spec = LatLonSpec::global(0.7);
        assert!(LatLonGrid::new(spec).is_err());
        spec.resolution_deg = -1.0;
        assert!(LatLonGrid::new(spec).is_err());
        spec.resolution_deg = 0.001; // 360000 x 180000 cells: too many for int32 indices
        assert!(LatLonGrid::new(spec).is_err());
        let spec = LatLonSpec {
            radius: TargetRadius::Fixed(0.0),
            ..LatLonSpec::v4r4()
        };
        assert!(LatLonGrid::new(spec).is_err());
    }

    #[test]
    fn regional_grid_and_fixed_radius() {
        let spec = LatLonSpec {
            resolution_deg: 0.25,
            lon_min: 0.0,
            lon_max: 10.0,
            lat_min: -5.0,
            lat_max: 5.0,
            radius: TargetRadius::Fixed(12_345.0),
        };
        let g = LatLonGrid::new(spec).unwrap();
        assert_eq!((g.nx(), g.ny()), (40, 40));
        assert_eq!(g.radius(17), 12_345.0);
        assert_eq!(g.longitudes()[0], 0.125);
    }
}
