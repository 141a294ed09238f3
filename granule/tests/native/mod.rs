//! Integration tests of the native writer on the real LLC90 grid with the V4r4 metadata: one
//! binary, one module per area. Tests return early (with a message) when `../shared/data` is
//! absent outside CI.

mod coverage;
mod errors;
mod ssh_2d;
mod stress_2d;
pub mod support;
mod tasks;
mod three_d;
