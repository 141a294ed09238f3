//! [`StoreError`]: what went wrong, on which location, during which operation, and whether a
//! retry can help ([`ErrorKind`]).

use std::fmt;

use crate::Location;

/// Classification of a [`StoreError`]; callers decide retries and exit codes from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The object does not exist (S3 `NoSuchKey`/404, local `ENOENT`).
    NotFound,
    /// A conditional write lost: the object's ETag did not match (`put_if_match`).
    PreconditionFailed,
    /// Worth retrying later: throttling (503 `SlowDown`, 429), 5xx, timeouts, connection and
    /// dispatch failures, truncated responses, an unresolved conditional-write conflict (409).
    Transient,
    /// A retry will not help: access denied (403), missing bucket, bad request, invalid
    /// configuration, an S3 operation on a store without an S3 client.
    Permanent,
    /// A local file-system error other than "not found" (permissions, disk full, ...).
    Io,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::PreconditionFailed => "precondition failed",
            ErrorKind::Transient => "transient error, retryable",
            ErrorKind::Permanent => "permanent error",
            ErrorKind::Io => "file-system error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The store operation that failed; part of every error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// [`crate::Store::get`]
    Get,
    /// [`crate::Store::get_range`]
    GetRange,
    /// [`crate::Store::head`] and [`crate::Store::exists`]
    Head,
    /// [`crate::Store::put`]
    Put,
    /// [`crate::Store::put_file`]
    PutFile,
    /// [`crate::Store::put_if_absent`]
    PutIfAbsent,
    /// [`crate::Store::put_if_match`]
    PutIfMatch,
    /// [`crate::Store::list`]
    List,
    /// [`crate::Store::delete`]
    Delete,
    /// [`crate::Store::download_to`]
    DownloadTo,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Get => "get",
            Operation::GetRange => "get range of",
            Operation::Head => "head",
            Operation::Put => "put",
            Operation::PutFile => "upload file to",
            Operation::PutIfAbsent => "create (if absent)",
            Operation::PutIfMatch => "replace (if ETag matches)",
            Operation::List => "list",
            Operation::Delete => "delete",
            Operation::DownloadTo => "download",
        })
    }
}

/// A failed store operation: `put s3://b/k: transient error, retryable: HTTP 503 SlowDown:
/// Please reduce your request rate (request id 4442587FB7D0A2F9)`.
///
/// The message carries the whole cause (service code and message, HTTP status, request id,
/// or the chain of I/O errors), so printing the error alone is enough to diagnose it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} {location}: {kind}: {detail}")]
pub struct StoreError {
    kind: ErrorKind,
    operation: Operation,
    location: Location,
    detail: String,
}

impl StoreError {
    pub(crate) fn new(
        kind: ErrorKind,
        operation: Operation,
        location: &Location,
        detail: impl Into<String>,
    ) -> StoreError {
        StoreError {
            kind,
            operation,
            location: location.clone(),
            detail: detail.into(),
        }
    }

    /// Maps a local I/O error: `NotFound` stays not-found, the rest is [`ErrorKind::Io`].
    pub(crate) fn io(
        operation: Operation,
        location: &Location,
        what: &str,
        err: &std::io::Error,
    ) -> StoreError {
        let kind = if err.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            io_kind(err)
        };
        StoreError::new(kind, operation, location, format!("{what}: {err}"))
    }

    /// The classification.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// True when a later retry may succeed ([`ErrorKind::Transient`]).
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Transient
    }

    /// True for [`ErrorKind::NotFound`].
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// The operation that failed.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The object or prefix the operation was about.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The cause, without the operation, location and kind prefix.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// True for local file-system errors that a retry on the same file system cannot fix: out of
/// space (`ENOSPC`), quota exceeded (`EDQUOT`), permission denied (`EACCES`, `EPERM`) and a
/// read-only file system (`EROFS`). Batch would otherwise retry a full disk until its retry
/// limit, each attempt failing the same way.
pub fn is_permanent_os_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind as Io;
    matches!(
        err.kind(),
        Io::StorageFull | Io::QuotaExceeded | Io::PermissionDenied | Io::ReadOnlyFilesystem
    )
}

/// [`ErrorKind::Permanent`] for the errors of [`is_permanent_os_error`], else
/// [`ErrorKind::Io`].
pub(crate) fn io_kind(err: &std::io::Error) -> ErrorKind {
    if is_permanent_os_error(err) {
        ErrorKind::Permanent
    } else {
        ErrorKind::Io
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_operation_location_and_cause() {
        let loc = Location::parse("s3://b/k.json").unwrap();
        let err = StoreError::new(
            ErrorKind::Transient,
            Operation::Put,
            &loc,
            "HTTP 503 SlowDown: reduce your request rate",
        );
        assert_eq!(
            err.to_string(),
            "put s3://b/k.json: transient error, retryable: HTTP 503 SlowDown: reduce your \
             request rate"
        );
        assert!(err.is_retryable());
        assert_eq!(err.location(), &loc);
    }

    #[test]
    fn local_not_found_is_not_found_and_other_io_is_io() {
        let loc = Location::parse("/nope").unwrap();
        let nf = std::io::Error::from(std::io::ErrorKind::NotFound);
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(
            StoreError::io(Operation::Get, &loc, "read", &nf).kind(),
            ErrorKind::NotFound
        );
        let err = StoreError::io(Operation::Get, &loc, "read", &denied);
        assert_eq!(err.kind(), ErrorKind::Permanent);
        assert!(!err.is_retryable());
        let other = std::io::Error::from(std::io::ErrorKind::Interrupted);
        assert_eq!(
            StoreError::io(Operation::Get, &loc, "read", &other).kind(),
            ErrorKind::Io
        );
        // The OS error is classified by errno, the way the kernel reports it.
        for (errno, name) in [
            (28, "ENOSPC"),
            (122, "EDQUOT"),
            (13, "EACCES"),
            (30, "EROFS"),
        ] {
            let err = std::io::Error::from_raw_os_error(errno);
            assert!(is_permanent_os_error(&err), "{name}: {err}");
            let store_err = StoreError::io(Operation::Put, &loc, "write", &err);
            assert_eq!(store_err.kind(), ErrorKind::Permanent, "{name}");
            assert!(
                store_err.to_string().contains(&format!("os error {errno}")),
                "{store_err}"
            );
        }
    }
}
