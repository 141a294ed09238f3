//! Planning: job files, input inventories, task lists (compatible with the Python EDP),
//! completeness checks, cost-balanced shards, claims, the per-granule ledger and run reports.
//!
//! No NetCDF here: the planner Lambda links this crate.
