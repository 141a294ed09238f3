//! ECCO conventions that need no NetCDF: the model time axis, granule file names and
//! directory layout, the ECCO metadata catalog (groupings, variable/coordinate/global
//! metadata, diagnostic staggering) and the production configuration.
//!
//! The planner Lambda links this crate, so it must never depend on libnetcdf.
