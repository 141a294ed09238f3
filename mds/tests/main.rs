#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Integration tests of the MDS reader: layout, bad input, the real LLC90 grid files.

mod bad_input;
mod layout;
mod real_grid;
