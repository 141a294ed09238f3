//! Errors that stop a worker before any task runs: unreadable or invalid shards and task
//! lists, and locations that do not parse. Failures of single tasks are not errors: they are
//! recorded in the ledger and in [`crate::TaskOutcome`].

use edp_task_schemas::ExitKind;
use thiserror::Error;

/// Why a shard or task list cannot be run.
#[derive(Debug, Error)]
pub enum WorkerError {
    /// A location (shard, task list, destination) does not parse.
    #[error("invalid {what} location {given:?}: {source}")]
    Location {
        /// What the location is for.
        what: &'static str,
        /// As given.
        given: String,
        /// Why it does not parse.
        #[source]
        source: edp_store::LocationError,
    },
    /// Reading the shard or task list failed.
    #[error("cannot read the {what}: {source}")]
    Read {
        /// `shard` or `task list`.
        what: &'static str,
        /// The store error (names the location).
        #[source]
        source: edp_store::StoreError,
    },
    /// The shard file is not a valid shard.
    #[error("{location}: invalid shard: {reason}")]
    InvalidShard {
        /// The file.
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// The task list is not valid (every invalid task is listed).
    #[error(transparent)]
    TaskList(#[from] edp_plan::tasklist::TaskListError),
    /// The destination root cannot be told from the tasks.
    #[error(
        "cannot tell the destination root from the granule paths: {reason}; give it with --dest \
         (or EDP_DEST_ROOT)"
    )]
    Destination {
        /// Why.
        reason: String,
    },
    /// A slice of a task list that does not exist.
    #[error("invalid slice: --index {index} must be smaller than --of {of} (and --of at least 1)")]
    Slice {
        /// The slice asked for.
        index: usize,
        /// The number of slices.
        of: usize,
    },
}

impl WorkerError {
    /// The exit kind: a transient failure to read the shard is worth a retry; everything else
    /// is a usage error (the same invocation fails the same way).
    pub fn exit_kind(&self) -> ExitKind {
        match self {
            WorkerError::Read { source, .. } if source.is_retryable() => ExitKind::Retryable,
            _ => ExitKind::Usage,
        }
    }
}
