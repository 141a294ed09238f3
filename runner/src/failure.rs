//! Classification of everything that can fail while producing one granule into the ledger's
//! [`TaskError`]: permanent (a retry fails the same way: bad input, missing input, invalid
//! task, unsupported request) or retryable (throttling, network, timeouts, a sick disk).

use edp_granule::GranuleError;
use edp_plan::state::StateError;
use std::path::Path;

use edp_store::{ErrorKind as StoreKind, StoreError, is_permanent_os_error};
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

    /// A retryable failure to write the granule at `path` becomes permanent when the output
    /// folder refuses writes for a reason a retry on this file system cannot fix (full disk,
    /// quota, permissions, read-only): libnetcdf reports a full disk only as
    /// `NetCDF: HDF error`, so the folder is asked directly (see [`write_refusal`]). The OS
    /// error is added to the message.
    pub fn or_refused_write(self, path: &Path, expected_bytes: u64) -> Failure {
        if self.kind == ErrorKind::Permanent {
            return self;
        }
        let Some(dir) = path.parent() else {
            return self;
        };
        match write_refusal(dir, expected_bytes) {
            Some(refusal) => Failure::permanent(format!("{}; {refusal}", self.message)),
            None => self,
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
    /// Transient store errors are retryable; a missing object, a denied request, an invalid
    /// location, and local file-system errors a retry cannot fix (disk full, quota,
    /// permissions, read-only: the store classifies them permanent) are permanent; other
    /// local file-system errors are retryable (Batch's retry limit stops a persistent one).
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
    /// transient fetches and internal write errors retryable, except file-system errors that
    /// a retry cannot fix ([`is_permanent_os_error`]), which are permanent.
    fn from(err: &GranuleError) -> Failure {
        let kind = match err {
            GranuleError::Io { source, .. } if is_permanent_os_error(source) => {
                ErrorKind::Permanent
            }
            _ => err.kind(),
        };
        Failure {
            kind,
            message: err.to_string(),
        }
    }
}

/// Most bytes [`write_refusal`] writes to test a folder.
const PROBE_MAX_BYTES: u64 = 256 << 20;

/// Why `dir` refuses to take a file of about `expected_bytes` (capped at 256 MiB), with the
/// OS error, or `None` when it takes it (or fails for a reason a retry may fix). The probe
/// file is hidden, synced (some file systems report a full disk only then) and removed.
pub fn write_refusal(dir: &Path, expected_bytes: u64) -> Option<String> {
    use std::io::Write as _;
    let refusal = |what: &str, err: std::io::Error| {
        is_permanent_os_error(&err).then(|| {
            format!(
                "the output folder {} refuses writes ({what}): {err}",
                dir.display()
            )
        })
    };
    if let Err(err) = std::fs::create_dir_all(dir) {
        return refusal("create folder", err);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let probe = dir.join(format!(".edp-probe-{}-{nanos}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&probe).map_err(|e| ("create a file", e))?;
        let chunk = vec![0u8; 1 << 20];
        let mut left = expected_bytes.clamp(1, PROBE_MAX_BYTES);
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            file.write_all(&chunk[..n]).map_err(|e| ("write", e))?;
            left -= n as u64;
        }
        file.sync_all().map_err(|e| ("sync", e))
    })();
    let _ = std::fs::remove_file(&probe);
    match result {
        Ok(()) => None,
        Err((what, err)) => refusal(what, err),
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
            source: std::io::Error::other("sick disk"),
        };
        let failure = Failure::from(io);
        assert_eq!(failure.kind, ErrorKind::Retryable);
        assert!(failure.message.contains("sick disk"));
        // A full disk, a quota or a read-only file system fails the same way on every retry.
        for errno in [28, 122, 30, 13] {
            let io = GranuleError::Io {
                action: "write",
                path: "/x".into(),
                source: std::io::Error::from_raw_os_error(errno),
            };
            let failure = Failure::from(io);
            assert_eq!(failure.kind, ErrorKind::Permanent, "errno {errno}");
            assert!(
                failure.message.contains(&format!("os error {errno}")),
                "{failure:?}"
            );
        }
    }

    #[test]
    fn a_write_failure_in_a_folder_that_takes_files_stays_retryable() {
        let dir = tempfile::tempdir().unwrap();
        let failure = Failure::retryable("NetCDF: HDF error")
            .or_refused_write(&dir.path().join("x.nc"), 4 << 20);
        assert_eq!(failure.kind, ErrorKind::Retryable);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "probe removed"
        );
    }
}
