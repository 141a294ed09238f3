//! Integration tests of the granule writers, one binary (linking the writers, netCDF and HDF5
//! once instead of four times is most of what these tests cost to build):
//!
//! - `native`: the native writer on the real LLC90 grid with the V4r4 metadata;
//! - `latlon`: the lat-lon writer with the V4r4 weights;
//! - `python_checks`: granules opened by netCDF4, xarray, h5py and the IOOS
//!   compliance-checker (`tests/python/check_granules.py`, `compare_write_paths.py`);
//! - `python_weights`: a lat-lon granule against the weights applied with scipy
//!   (`tests/python/check_weights.py`).
//!
//! Tests return early (with a message) when `../shared/data` is absent outside CI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod latlon;
mod native;
mod python_checks;
mod python_weights;
