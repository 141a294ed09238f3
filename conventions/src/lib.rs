//! ECCO conventions that need no NetCDF: the model time axis, granule file names and
//! directory layout, the ECCO metadata catalog (groupings, variable/coordinate/global
//! metadata, diagnostic staggering), the production configuration, and the attribute merge
//! algorithm as plain data.
//!
//! The planner Lambda links this crate, so it must never depend on libnetcdf.
//!
//! | module | job | docs |
//! |---|---|---|
//! | [`time`] | model clock, frequencies, bounds/centre/int32 hours of one record | `docs/time-axis.md` |
//! | [`naming`] | MDS input names, granule file names and paths | `docs/naming.md` 1, `docs/edp-compatibility.md` 4 |
//! | [`staggering`] | grid location of each diagnostic | `docs/mds-llc.md` 2 |
//! | [`catalog`] | the metadata directory; grouping id → [`catalog::Dataset`] | `docs/metadata.md` 1-2, 5 |
//! | [`config`] | the production configuration | `docs/edp-compatibility.md` 6 |
//! | [`attr_value`] | [`attr_value::AttrValue`]: one attribute value as plain data (a leaf: the catalog and the attribute rules both use it) | |
//! | [`attrs`] | variable, coordinate and global attributes; task dynamic metadata | `docs/netcdf-layout.md` 5, `docs/metadata.md` 3 |
//!
//! ```no_run
//! use edp_conventions::{Catalog, Frequency, LoadOptions, ProductType, ProductionConfig};
//! use edp_conventions::attrs::dynamic_metadata;
//! use edp_conventions::naming::{granule_file_name, granule_path};
//!
//! let config = ProductionConfig::v4r4();
//! let catalog = Catalog::load("metadata/V4r4", &LoadOptions::default())?;
//! let dataset = catalog.dataset(ProductType::Native, 0)?;
//! let period = config.clock.period(Frequency::AvgMon, 732)?;
//! let name = granule_file_name(&dataset.filename, &period, &config.ecco_version,
//!                              ProductType::Native, config.grid_label(ProductType::Native));
//! let path = granule_path("./out", &config.ecco_version, ProductType::Native,
//!                         Frequency::AvgMon, &dataset.filename, &name);
//! let dynamic = dynamic_metadata(&dataset, &period, &config);
//! assert_eq!(path, "./out/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/\
//!                   SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod attr_value;
pub mod attrs;
pub mod catalog;
pub mod config;
pub mod naming;
pub mod staggering;
pub mod time;
pub mod vocab;

pub use catalog::{Catalog, CatalogError, Dataset, LoadOptions};
pub use config::{ConfigError, ProductionConfig};
pub use time::{Frequency, ModelClock, Period, TimeError};
pub use vocab::{Dimension, ProductType};
