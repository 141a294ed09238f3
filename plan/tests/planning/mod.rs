//! Planning I/O end to end: inventories of generated MDS trees, task building, run state under
//! `<dest>/_edp/` and `plan_run` on local folders and the moto S3 emulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod build;
mod events;
mod runs;
mod s3;
mod state;
mod support;
