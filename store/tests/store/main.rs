//! Integration tests of `edp-store`: local-folder semantics, the same behaviours against the
//! moto S3 emulator, and error classification against stub HTTP servers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod errors;
mod local;
mod s3_moto;
mod support;
