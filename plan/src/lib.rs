//! Planning: job files, input inventories, task lists (compatible with the Python EDP),
//! completeness checks, cost-balanced shards, claims, the per-granule ledger and run reports.
//!
//! No NetCDF here: the planner Lambda links this crate.
//!
//! Pure modules (no I/O): [`jobfile`] (EDP job files), [`tasklist`] (EDP task lists, read and
//! byte-compatible write), [`task_id`] (content hash of a task), [`cost`] (cost model) and
//! [`shard`] (cost-balanced shards).
//!
//! I/O modules (through `edp-store`, local folders or S3): [`roots`] (source and destination
//! roots as the user spelled them), [`inventory`] (the input files below the source root:
//! parallel streamed prefix listings, or HEADs of named files),
//! [`builder`] (jobs + catalog + inventory -> tasks, with completeness), [`planner`]
//! (`plan_run`: incremental planning with claims, shards and the run record, shared by the
//! CLI and the planner Lambda), [`scope`] (event-scoped planning: the granules the objects
//! of one S3 event may complete), [`state`] (the `_edp/` layout: claims, ledger, done markers,
//! reports, manifests), [`sources`] (catalog, configuration and job loading) and
//! [`task_output`] (streamed EDP-compatible task lists).

pub mod builder;
pub mod confine;
pub mod cost;
pub mod inventory;
pub mod jobfile;
pub mod memory;
pub mod planner;
pub mod roots;
pub mod scope;
pub mod shard;
pub mod sources;
pub mod state;
pub mod task_id;
pub mod task_output;
pub mod tasklist;
pub mod validate;
