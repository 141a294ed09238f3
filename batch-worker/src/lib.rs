//! The batch worker: executes the tasks of one shard on all cores, writes granules and
//! ledger records, and maps the outcome to the documented exit code.
