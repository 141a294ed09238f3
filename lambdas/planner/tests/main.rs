#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Tests of the planner Lambda: the handler on fixture events, and its dependency tree
//! (no libnetcdf).

mod handler;
mod no_netcdf;
