//! Lat-lon regridding exactly as ECCO V4r4 did it (bin average within r_p = sqrt(A/pi) with a
//! nearest-wet fallback and a per-level land mask), stored as SCRIP/ESMF sparse weights, and
//! the interpolation of vector components to cell centres with rotation to east/north.

mod error;
pub mod geometry;
mod neighbours;
mod source;
mod store;
mod target;
mod vector;
mod weights;

pub use error::{RegridError, Result};
pub use neighbours::SearchLimits;
pub use source::{SourceGrid, cell_size_range};
pub use store::{CacheOutcome, FORMAT_VERSION};
pub use target::{LatLonGrid, LatLonSpec, TargetRadius};
pub use vector::{VectorLocation, VectorRotation};
pub use weights::{BuildStats, LevelWeights, Weights};
