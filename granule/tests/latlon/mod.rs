//! Integration tests of the lat-lon writer on the real LLC90 grid with the V4r4 metadata and
//! weights: one binary, one module per area. Tests return early (with a message) when
//! `../shared/data` is absent outside CI.

mod errors;
mod ssh_2d;
mod stress_2d;
pub mod support;
mod three_d;
mod weights_location;
