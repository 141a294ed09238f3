//! The LLC native grid: loading from MDS grid directories and from ECCO grid-geometry NetCDF,
//! derived quantities (hFacC/W/S, maskC/W/S, cell-corner bounds), tile connectivity, and a
//! synthetic "Mercator-LLC(N)" grid generator for tests and demos.
//!
//! Layout conventions (shared with `edp_mds` and the NetCDF writers):
//!
//! * 2-D arrays are in tile order `[t][j][i]`, `13 N^2` values, whatever their staggering:
//!   `XG/YG/RAZ` hold the "south-west" corner of cell `(j, i)`, `DXG/DYC/RAS` its south face,
//!   `DYG/DXC/RAW` its west face (docs/mds-llc.md §4.1).
//! * 3-D arrays (`hfac_*`, `mask_*`) are `[k][t][j][i]`, the NetCDF native dims
//!   `(k, tile, j, i)`.
//! * Vertical arrays use MITgcm names and signs: `rc`, `rf` negative down.
//!
//! ```no_run
//! use edp_grid::{Grid, SyntheticSpec};
//! # fn main() -> Result<(), edp_grid::GridError> {
//! let real = Grid::from_mds_dir("../shared/data/llc90-grid")?;
//! println!("LLC{} with {} levels, {} wet columns", real.n, real.nz, real.wet_columns());
//! let xc_bnds = real.corners.xc_bnds(); // (tile, j, i, nb)
//!
//! let demo = Grid::synthetic(&SyntheticSpec { n: 12, nz: 5, ..SyntheticSpec::default() })?;
//! demo.write_mds_dir("/tmp/demo-grid", &edp_grid::MdsDirOptions::default())?;
//! # Ok(()) }
//! ```

pub mod connectivity;
pub mod corners;
pub mod derive;
mod error;
pub mod geometry;
mod mds_dir;
pub mod mitgrid;
mod netcdf_io;
mod synthetic;
pub mod vertical;

pub use corners::{CornerSource, Corners};
pub use error::{GridError, Result};
pub use mds_dir::{FIELDS_1D, FIELDS_2D, FIELDS_3D, MdsDirOptions, geometry_file, is_grid_file};
pub use synthetic::{SyntheticLand, SyntheticSpec};

use edp_mds::Llc;

/// Number of tiles (defined once, with the LLC geometry in `edp-mds`).
pub use edp_mds::TILES;

/// A native LLC grid with its derived quantities.
///
/// Fields are public for direct use by the writers and regridders; keep them consistent
/// (use [`Grid::set_depth`] to change the bathymetry).
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Tile size `N`.
    pub n: usize,
    /// Number of levels.
    pub nz: usize,
    /// Cell-centre longitude (degrees east, `[-180, 180]`), `XC`.
    pub xc: Vec<f64>,
    /// Cell-centre latitude (degrees north), `YC`.
    pub yc: Vec<f64>,
    /// South-west corner longitude, `XG` `(tile, j_g, i_g)`.
    pub xg: Vec<f64>,
    /// South-west corner latitude, `YG`.
    pub yg: Vec<f64>,
    /// Cosine of the angle of the grid +x axis from east, `AngleCS` / `CS`.
    pub cs: Vec<f64>,
    /// Sine of that angle, `AngleSN` / `SN`.
    pub sn: Vec<f64>,
    /// South edge length (m), `DXG` / `dxG` `(tile, j_g, i)`.
    pub dxg: Vec<f64>,
    /// West edge length (m), `DYG` / `dyG` `(tile, j, i_g)`.
    pub dyg: Vec<f64>,
    /// Centre-to-centre distance in x (m), `DXC` / `dxC` `(tile, j, i_g)`.
    pub dxc: Vec<f64>,
    /// Centre-to-centre distance in y (m), `DYC` / `dyC` `(tile, j_g, i)`.
    pub dyc: Vec<f64>,
    /// Tracer-cell area (m²), `RAC` / `rA`.
    pub rac: Vec<f64>,
    /// U-cell area (m²), `RAW` / `rAw` `(tile, j, i_g)`.
    pub raw: Vec<f64>,
    /// V-cell area (m²), `RAS` / `rAs` `(tile, j_g, i)`.
    pub ras: Vec<f64>,
    /// Vorticity-cell area (m²), `RAZ` / `rAz` `(tile, j_g, i_g)`.
    pub raz: Vec<f64>,
    /// Ocean depth after partial cells (m, positive, 0 on land), `Depth`.
    pub depth: Vec<f64>,
    /// Level centres (m, negative down), `RC` / `Z`, `nz` values.
    pub rc: Vec<f64>,
    /// Level interfaces (m, negative down), `RF` / `Zp1`, `nz + 1` values.
    pub rf: Vec<f64>,
    /// Level thicknesses (m), `DRF` / `drF`, `nz` values.
    pub drf: Vec<f64>,
    /// Centre spacings (m), `DRC`, `nz` values (`drC` in NetCDF adds `drf[nz-1]/2`).
    pub drc: Vec<f64>,
    /// Open fraction of tracer cells `[k][t][j][i]`.
    ///
    /// The three open fractions are kept as float32, the precision of the ECCO grid-geometry
    /// files: as f64 they were 126 MB of an LLC90 grid with 50 levels, the largest part of
    /// every writer's memory, although writers only need the masks. They are derived (or
    /// read) in f64, the masks are computed from those values, and only then are they rounded.
    pub hfac_c: Vec<f32>,
    /// Open fraction of west faces `[k][t][j][i_g]` (float32, see `hfac_c`).
    pub hfac_w: Vec<f32>,
    /// Open fraction of south faces `[k][t][j_g][i]` (float32, see `hfac_c`).
    pub hfac_s: Vec<f32>,
    /// `hfac_c > 0`.
    pub mask_c: Vec<bool>,
    /// `hfac_w > 0`.
    pub mask_w: Vec<bool>,
    /// `hfac_s > 0`.
    pub mask_s: Vec<bool>,
    /// Extended corners (for `XC_bnds`/`YC_bnds`).
    pub corners: Corners,
    /// Depth of the ice-shelf base (m, positive, 0 where there is no ice shelf), when a source
    /// gives it: ECCO's grid-geometry file (V4r5 `ice_shelf_draft`). `depth` is then the ocean
    /// column thickness, which is what MITgcm writes to `Depth.data`, and the seafloor lies at
    /// `depth + draft` ([`Grid::seafloor_depth`]). `None`: no ice shelf known.
    pub ice_shelf_draft: Option<Vec<f64>>,
}

/// Which open fractions a loader found on disk (the rest are derived).
#[derive(Debug, Clone, Default)]
pub(crate) struct HFacs {
    pub c: Option<Vec<f64>>,
    pub w: Option<Vec<f64>>,
    pub s: Option<Vec<f64>>,
}

impl Grid {
    /// The LLC geometry (tile size) for `edp_mds` reshaping.
    pub fn llc(&self) -> Llc {
        Llc::new(self.n)
    }

    /// Cells per level (`13 N^2`).
    pub fn cells(&self) -> usize {
        TILES * self.n * self.n
    }

    /// Index of `(t, j, i)` in a 2-D array.
    #[inline]
    pub fn index(&self, t: usize, j: usize, i: usize) -> usize {
        (t * self.n + j) * self.n + i
    }

    /// Index of `(k, t, j, i)` in a 3-D array.
    #[inline]
    pub fn index3(&self, k: usize, t: usize, j: usize, i: usize) -> usize {
        k * self.cells() + self.index(t, j, i)
    }

    /// Surface `maskC` (`[t][j][i]`).
    pub fn surface_mask(&self) -> &[bool] {
        &self.mask_c[..self.cells().min(self.mask_c.len())]
    }

    /// Columns with a wet surface cell.
    pub fn wet_columns(&self) -> usize {
        self.surface_mask().iter().filter(|m| **m).count()
    }

    /// Wet tracer cells over all levels.
    pub fn wet_cells(&self) -> usize {
        self.mask_c.iter().filter(|m| **m).count()
    }

    /// Wet tracer cells of each level, surface first.
    pub fn wet_cells_per_level(&self) -> Vec<usize> {
        self.mask_c
            .chunks(self.cells().max(1))
            .map(|l| l.iter().filter(|m| **m).count())
            .collect()
    }

    /// `XC_bnds` `(tile, j, i, nb)`; see [`Corners::xc_bnds`].
    pub fn xc_bnds(&self) -> Vec<f64> {
        self.corners.xc_bnds()
    }

    /// `YC_bnds` `(tile, j, i, nb)`; see [`Corners::yc_bnds`].
    pub fn yc_bnds(&self) -> Vec<f64> {
        self.corners.yc_bnds()
    }

    /// Replaces the bathymetry (`[t][j][i]`, model depth after partial cells) and recomputes
    /// `hFacC/W/S` and the masks from it.
    pub fn set_depth(&mut self, depth: Vec<f64>) -> Result<()> {
        if depth.len() != self.cells() {
            return Err(GridError::Invalid {
                what: "depth array".into(),
                expected: format!("{} values (13 x {} x {})", self.cells(), self.n, self.n),
                found: format!("{} values", depth.len()),
            });
        }
        self.depth = depth;
        self.derive_hfacs(HFacs::default());
        Ok(())
    }

    /// Fills `hfac_*` and the masks from what was loaded (float64 files) or, for what was
    /// not, derives them: `hFacC` from `depth`, the faces from `hFacC`.
    ///
    /// Derived arrays are computed in float32 directly (see [`derive::hfac_face_f32`] for why
    /// that is exact); loaded ones are rounded, with their masks from the float64 values.
    pub(crate) fn derive_hfacs(&mut self, loaded: HFacs) {
        let rounded = |values: &[f64]| (derive::to_f32(values), derive::mask_from_hfac(values));
        let (hfac_c, mask_c) = match &loaded.c {
            Some(c) => rounded(c),
            None => derive::hfac_c_f32_from_depth(&self.depth, &self.rf, &self.drf),
        };
        let face = |loaded: &Option<Vec<f64>>, face| match loaded {
            Some(values) => rounded(values),
            None => derive::hfac_face_f32(self.n, &hfac_c, face),
        };
        (self.hfac_w, self.mask_w) = face(&loaded.w, derive::Face::West);
        (self.hfac_s, self.mask_s) = face(&loaded.s, derive::Face::South);
        self.hfac_c = hfac_c;
        self.mask_c = mask_c;
    }

    /// Depth of the seafloor (m, positive): the ocean column thickness `depth` plus the
    /// ice-shelf draft where one is known.
    pub fn seafloor_depth(&self) -> Vec<f64> {
        match &self.ice_shelf_draft {
            Some(draft) => self.depth.iter().zip(draft).map(|(d, s)| d + s).collect(),
            None => self.depth.clone(),
        }
    }

    /// Checks that every array has the length `n` and `nz` imply (writers call this first,
    /// so a hand-built inconsistent grid is an error, not a panic).
    pub fn check_consistent(&self) -> Result<()> {
        let (cells, nz) = (self.cells(), self.nz);
        let two_d = [
            ("xc", self.xc.len()),
            ("yc", self.yc.len()),
            ("xg", self.xg.len()),
            ("yg", self.yg.len()),
            ("cs", self.cs.len()),
            ("sn", self.sn.len()),
            ("dxg", self.dxg.len()),
            ("dyg", self.dyg.len()),
            ("dxc", self.dxc.len()),
            ("dyc", self.dyc.len()),
            ("rac", self.rac.len()),
            ("raw", self.raw.len()),
            ("ras", self.ras.len()),
            ("raz", self.raz.len()),
            ("depth", self.depth.len()),
            (
                "ice_shelf_draft",
                self.ice_shelf_draft.as_ref().map_or(cells, Vec::len),
            ),
        ];
        let three_d = [
            ("hfac_c", self.hfac_c.len()),
            ("hfac_w", self.hfac_w.len()),
            ("hfac_s", self.hfac_s.len()),
            ("mask_c", self.mask_c.len()),
            ("mask_w", self.mask_w.len()),
            ("mask_s", self.mask_s.len()),
        ];
        let vertical = [
            ("rc", self.rc.len(), nz),
            ("rf", self.rf.len(), nz + 1),
            ("drf", self.drf.len(), nz),
            ("drc", self.drc.len(), nz),
        ];
        let corners = 13 * (self.n + 1) * (self.n + 1);
        let checks = two_d
            .iter()
            .map(|(name, len)| (*name, *len, cells))
            .chain(three_d.iter().map(|(name, len)| (*name, *len, nz * cells)))
            .chain(vertical)
            .chain([
                ("corners.lon", self.corners.lon.len(), corners),
                ("corners.lat", self.corners.lat.len(), corners),
            ]);
        for (name, len, expected) in checks {
            if len != expected {
                return Err(GridError::Invalid {
                    what: format!("grid array {name} of LLC({}) with {nz} levels", self.n),
                    expected: format!("{expected} values"),
                    found: format!("{len} values"),
                });
            }
        }
        Ok(())
    }

    /// Minimum and maximum of a slice (NaN ignored); `None` when empty.
    pub fn range(values: &[f64]) -> Option<(f64, f64)> {
        values
            .iter()
            .filter(|v| !v.is_nan())
            .fold(None, |acc, v| match acc {
                None => Some((*v, *v)),
                Some((lo, hi)) => Some((lo.min(*v), hi.max(*v))),
            })
    }
}
