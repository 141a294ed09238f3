//! The class of a failure: what a retry can and cannot fix (a leaf module: the error types of
//! the inputs and of the writers both use it).

/// Why a granule failed, for retry decisions and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The task, its inputs or the metadata are wrong: a retry fails the same way.
    BadInput,
    /// A valid request this build cannot produce (e.g. a vector variable whose components live at
    /// different points).
    Unsupported,
    /// Fetching an input failed transiently (throttling, network): a retry may succeed.
    Transient,
    /// Writing failed in the NetCDF library or the file system (disk full, I/O error, or a
    /// bug): retried once more by Batch, then reported.
    Internal,
}
