//! Integration tests of the lat-lon writer on the real LLC90 grid with the V4r4 metadata and
//! weights: one binary, one module per area. Tests return early (with a message) when
//! `../shared/data` is absent outside CI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The native tests' fixtures (raw-file readers, MDS writers, NetCDF read-back helpers).
#[allow(dead_code, unused_imports)]
#[path = "../native/support.rs"]
mod native_support;

mod errors;
mod ssh_2d;
mod stress_2d;
mod support;
mod three_d;
mod weights_location;
