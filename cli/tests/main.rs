#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Integration tests of the `edp` binary: one binary, one module per command family.

use std::process::{Command, Output};

/// Runs the `edp` binary of this build with `args` in the current directory.
pub(crate) fn edp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edp"))
        .args(args)
        .output()
        .expect("run edp")
}

mod factors;
mod inspect;
mod invariant;
mod plan_status;
