#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Integration tests of planning: job files, task lists (EDP compatibility), shards and ids,
//! and incremental planning against local folders and moto.

mod jobfile;
mod planning;
mod shards_and_ids;
mod tasklist_compat;
