//! Serde types shared by every part of edp: job specs, tasks, shards, ledger records, run
//! reports, trigger payloads, the worker's exit-code table and the deployment contract
//! (environment variables and SSM parameter names).
//!
//! These types are the single source of truth for the JSON formats: the JSON Schemas in
//! `task-schemas/schemas/` are generated from them (`cargo run -p edp-task-schemas --bin
//! gen-schemas`), and a test fails when the committed schemas are stale.
