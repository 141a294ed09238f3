#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Integration tests of the `edp` binary: one binary, one module per command family.

mod factors;
mod inspect;
mod plan_status;
