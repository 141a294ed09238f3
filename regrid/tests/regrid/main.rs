//! Integration tests of edp-regrid: the target grid against the documented figures, and the
//! weights, weights files and vector rotation on the real LLC90 grid (shared test data; the
//! tests return early when it is absent outside CI).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod brute_force;
mod llc90_weights;
mod target_grid;
mod vectors;
mod weights_file;
