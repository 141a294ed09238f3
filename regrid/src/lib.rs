//! Lat-lon regridding exactly as ECCO V4r4 did it (bin average within r_p = sqrt(A/pi) with a
//! nearest-wet fallback and a per-level land mask), stored as SCRIP/ESMF sparse weights, and
//! the interpolation of vector components to cell centres with rotation to east/north.
//!
//! * [`LatLonSpec`] / [`LatLonGrid`]: the regular target grid (0.5 deg by default; resolution,
//!   extent and radius rule configurable), target `p = iy*nx + ix` with row 0 southernmost.
//! * [`SourceGrid`]: the native grid as plain arrays (centres in flat order, one wet mask per
//!   level, `min_L`/`max_L`), from any grid or from an [`edp_grid::Grid`]
//!   ([`SourceGrid::from_grid`]).
//! * [`Weights`]: one sparse matrix per level ([`LevelWeights`], CSR over wet targets),
//!   built by [`Weights::build`] (docs/regridding.md §2; a 3-D k-d tree over chord distances,
//!   rayon over target rows), applied by [`Weights::apply_level`] / [`Weights::apply_3d`]
//!   or into a caller's buffer by [`Weights::apply_level_into`]
//!   (f64 arithmetic, f32 result, NaN on land), stored as a NetCDF file in the SCRIP/ESMF
//!   layout ([`Weights::write`], [`Weights::read`], [`Weights::load_or_build`]; the layout
//!   is documented in [`store`] and in the file's global attributes).
//! * [`VectorRotation`]: u/v on faces (or centres) to east/north at cell centres (§6), with
//!   the LLC connectivity of [`edp_grid::connectivity`].
//!
//! ```no_run
//! use edp_regrid::{LatLonSpec, SourceGrid, VectorLocation, VectorRotation, Weights};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let grid = edp_grid::Grid::from_mds_dir("../shared/data/llc90-grid")?;
//! let source = SourceGrid::from_grid(&grid)?;
//! let (weights, _how) = Weights::load_or_build("weights/llc90_0p50.nc".as_ref(), &source, &LatLonSpec::v4r4())?;
//!
//! let ssh: Vec<f32> = vec![0.0; source.len()];           // one level, tile order [t][j][i]
//! let latlon = weights.apply_level(0, &ssh)?;            // 360 x 720, south first, NaN on land
//! assert_eq!(latlon.len(), 259_200);
//!
//! let (u, v) = (vec![0.0f32; source.len()], vec![0.0f32; source.len()]);
//! let rotation = VectorRotation::from_grid(&grid)?;
//! let (east, north) = rotation.east_north(&u, &v, VectorLocation::Faces)?;
//! let east_latlon = weights.apply_level(0, &east)?;
//! # let _ = (north, east_latlon); Ok(()) }
//! ```
//!
//! Every failure is a [`RegridError`] naming the input, level or file concerned.

mod error;
pub mod geometry;
mod neighbours;
mod source;
pub mod store;
mod target;
mod vector;
mod weights;

pub use error::{RegridError, Result};
pub use neighbours::SearchLimits;
pub use source::{SourceGrid, cell_size_range};
pub use store::{CacheOutcome, FORMAT_VERSION};
pub use target::{LatLonGrid, LatLonSpec, TargetRadius};
pub use vector::{VectorLocation, VectorRotation};
pub use weights::{BuildStats, LevelWeights, Parallel, Weights};
