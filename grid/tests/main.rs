#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Integration tests of the grid: the real LLC90 grid and synthetic LLC(N) grids.

mod real_grid;
mod synthetic;
