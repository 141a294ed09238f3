//! CF-1.8 / ACDD-1.3 NetCDF-4 granule writers for the native LLC grid and the regular lat-lon
//! grid: "produce one granule from one task".
//!
//! libnetcdf holds a global lock: inputs are decoded, checked, masked and hashed in parallel
//! (rayon), and the NetCDF calls run on the calling thread. Data chunks are compressed in
//! parallel here too ([`chunk_encoding`]) and written into the file netCDF-C defined with
//! `H5Dwrite_chunk` ([`edp_h5chunks`]), so the library only writes metadata and coordinates
//! ([`WritePath`]).
//!
//! | module | job |
//! |---|---|
//! | [`produce`] | [`produce_granule`] / [`produce_task`]: the entry points; dispatch on product type |
//! | [`request`] | [`GranuleRequest`]: a task resolved against the catalog (or built from explicit values) |
//! | [`resources`] | [`Resources`] (grid, catalog, configuration, lat-lon weights) and [`ResourceCache`] (one load per location) |
//! | [`weights`] | where lat-lon weights are read from, built and cached (factors location, cache directory) |
//! | [`input`] | [`InputSource`]: bytes by location ([`MemoryInputs`] for the worker, [`LocalFiles`]) |
//! | [`fields`] | fetch + check against staggering/grid + decode + hash one input (shared) |
//! | [`metadata`] | variable planning, time axis, global and provenance attributes (shared) |
//! | [`encoding`] | fill value, NaN/mask handling and valid range, netCDF-C default chunks (shared) |
//! | [`nc`] | NetCDF attribute and variable helpers (shared) |
//! | [`nc_thread`] | the one thread of all NetCDF reads of the process (keeps HDF5 diagnostics off stderr) |
//! | [`chunk_encoding`] | shuffle + deflate of data chunks on every core, for `H5Dwrite_chunk` (shared) |
//! | [`atomic`] | temporary file + sync + rename: never a partial granule (shared) |
//! | `native` | the native writer (`docs/netcdf-layout.md` 3, 6) |
//! | `latlon` | the lat-lon writer (`docs/netcdf-layout.md` 4, `docs/regridding.md` 1, 2): slabs regridded off-thread, written here |
//! | `regridding` | decode, rotate vectors to east/north, regrid and fill the slabs of lat-lon variables |
//! | [`local`] | input discovery in a local MDS tree (for `edp granule`) |
//!
//! ```no_run
//! use std::path::Path;
//! use edp_conventions::{Frequency, ProductType};
//! use edp_granule::{GranuleRequest, LocalFiles, ResourceCache, local, produce_granule};
//!
//! # fn main() -> Result<(), edp_granule::GranuleError> {
//! let cache = ResourceCache::new();
//! let resources = cache.resources(
//!     Path::new("grid/llc90"), Path::new("metadata/V4r4"), None)?;
//! let dataset = resources.catalog.dataset(ProductType::Native, 0)?;
//! let found = local::find_inputs(Path::new("ecco_results/V4r4"), &dataset,
//!     Frequency::AvgMon, 732, resources.config.snap_instants);
//! let request = GranuleRequest::new(&resources.catalog, &resources.config,
//!     ProductType::Native, 0, Frequency::AvgMon, 732, found.variables)?;
//! let out = request.edp_path("out")?;
//! let report = produce_granule(&request, &resources, &LocalFiles::new(), Path::new(&out))?;
//! println!("{} bytes, SSH valid range {:?}..{:?}", report.bytes,
//!          report.variables[0].valid_min, report.variables[0].valid_max);
//!
//! // Lat-lon: the same plus the weights, read from the factors location or built and cached.
//! let resources = cache.latlon_resources(
//!     Path::new("grid/llc90"), Path::new("metadata/V4r4"), None, Some(Path::new("factors")))?;
//! let dataset = resources.catalog.dataset(ProductType::Latlon, 0)?;
//! let found = local::find_inputs(Path::new("ecco_results/V4r4"), &dataset,
//!     Frequency::AvgMon, 732, resources.config.snap_instants);
//! let request = GranuleRequest::new(&resources.catalog, &resources.config,
//!     ProductType::Latlon, 0, Frequency::AvgMon, 732, found.variables)?;
//! let out = request.edp_path("out")?;
//! produce_granule(&request, &resources, &LocalFiles::new(), Path::new(&out))?;
//! # Ok(()) }
//! ```

pub mod atomic;
pub mod chunk_encoding;
mod class;
pub mod encoding;
mod error;
pub mod fields;
pub mod geometry;
pub mod input;
mod latlon;
pub mod latlon_invariant;
pub mod local;
pub mod metadata;
pub mod mixing;
mod native;
pub mod nc;
pub mod nc_thread;
pub mod one_d;
pub mod produce;
mod regridding;
mod report;
pub mod request;
pub mod resources;
mod skeleton;
pub mod weights;

pub use encoding::FILL_F32;
pub use error::{ErrorClass, GranuleError, Result};
pub use fields::InputDigest;
pub use geometry::{GeometryReport, write_native_geometry};
pub use input::{InputError, InputSource, LocalFiles, MemoryInputs};
pub use mixing::write_from_parameters;
pub use one_d::{OneDReport, write_one_d};
pub use produce::{produce_granule, produce_task};
pub use report::{GranuleReport, Timings, VariableReport};
pub use request::{GranuleRequest, InputRef, RequestVariable};
pub use resources::{ResourceCache, Resources, WritePath};
pub use weights::WeightsOrigin;
