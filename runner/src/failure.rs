//! Classification of everything that can fail while producing one granule into the ledger's
//! [`TaskError`]: permanent (a retry fails the same way: bad input, missing input, invalid
//! task, unsupported request) or retryable (throttling, network, timeouts, a sick disk).

use edp_granule::GranuleError;
use edp_plan::state::StateError;
use edp_store::{ErrorKind as StoreKind, StoreError};
use edp_task_schemas::{ErrorKind, TaskError};

/// A failed step of one task: its classification and a message that names the file or
/// location and says what was expected and found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Permanent or retryable.
    pub kind: ErrorKind,
    /// What went wrong.
    pub message: String,
}

impl Failure {
    /// A permanent failure.
    pub fn permanent(message: impl Into<String>) -> Failure {
        Failure {
            kind: ErrorKind::Permanent,
            message: message.into(),
        }
    }

    /// A retryable failure.
    pub fn retryable(message: impl Into<String>) -> Failure {
        Failure {
            kind: ErrorKind::Retryable,
            message: message.into(),
        }
    }

    /// The same failure with `context: ` in front of its message.
    pub fn context(self, context: impl std::fmt::Display) -> Failure {
        Failure {
            kind: self.kind,
            message: format!("{context}: {}", self.message),
        }
    }

    /// The ledger's error record.
    pub fn to_task_error(&self) -> TaskError {
        TaskError {
            kind: self.kind,
            message: self.message.clone(),
        }
    }
}

impl From<&StoreError> for Failure {
    /// Transient store errors are retryable; a missing object, a denied request and an
    /// invalid location are permanent; local file-system errors (disk full, permissions)
    /// are retryable because a fresh container may not have them, and Batch's retry limit
    /// stops a persistent one.
    fn from(err: &StoreError) -> Failure {
        let kind = match err.kind() {
            StoreKind::Transient | StoreKind::Io => ErrorKind::Retryable,
            StoreKind::NotFound | StoreKind::PreconditionFailed | StoreKind::Permanent => {
                ErrorKind::Permanent
            }
        };
        Failure {
            kind,
            message: err.to_string(),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Failure {
        Failure::from(&err)
    }
}

impl From<&GranuleError> for Failure {
    /// The writer's own classification: bad input and unsupported requests are permanent,
    /// transient fetches and internal write errors retryable.
    fn from(err: &GranuleError) -> Failure {
        Failure {
            kind: err.kind(),
            message: err.to_string(),
        }
    }
}

impl From<GranuleError> for Failure {
    fn from(err: GranuleError) -> Failure {
        Failure::from(&err)
    }
}

impl From<StateError> for Failure {
    /// Store errors keep their classification; a state file that does not decode or an
    /// invalid id is permanent.
    fn from(err: StateError) -> Failure {
        match &err {
            StateError::Store(store) => Failure {
                kind: Failure::from(store).kind,
                message: err.to_string(),
            },
            StateError::Contention { .. } => Failure::retryable(err.to_string()),
            _ => Failure::permanent(err.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for Failure {
    /// A panic in the writer is a bug: the same task panics again, so it is permanent.
    fn from(err: tokio::task::JoinError) -> Failure {
        Failure::permanent(format!("internal error while producing the granule: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edp_store::Location;

    #[test]
    fn missing_input_is_permanent_and_names_the_file() {
        let store = edp_store::Store::local_only();
        let dir = tempfile::tempdir().unwrap();
        let loc = Location::local(dir.path().join("THETA_mon_mean.0000000732.data")).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = runtime.block_on(store.get(&loc)).unwrap_err();
        let failure = Failure::from(&err);
        assert_eq!(failure.kind, ErrorKind::Permanent);
        assert!(failure.message.contains("THETA_mon_mean.0000000732.data"));
        // A local S3 request on a local-only store is a configuration error: permanent.
        let s3 = Location::parse("s3://bucket/key").unwrap();
        let err = runtime.block_on(store.get(&s3)).unwrap_err();
        assert_eq!(Failure::from(&err).kind, ErrorKind::Permanent);
    }

    #[test]
    fn granule_errors_keep_the_writer_classification() {
        let unsupported = GranuleError::Unsupported {
            what: "lat-lon granule x.nc".into(),
            reason: "not yet".into(),
        };
        assert_eq!(Failure::from(&unsupported).kind, ErrorKind::Permanent);
        let io = GranuleError::Io {
            action: "rename",
            path: "/x".into(),
            source: std::io::Error::other("disk full"),
        };
        let failure = Failure::from(io);
        assert_eq!(failure.kind, ErrorKind::Retryable);
        assert!(failure.message.contains("disk full"));
    }
}
