//! The error type of this crate: every variant names the file (or variable) concerned and
//! says what was expected and what was found.

use std::path::PathBuf;

/// Errors while loading, deriving, generating or writing a grid.
#[derive(Debug, thiserror::Error)]
pub enum GridError {
    /// Reading an MDS grid file failed (the inner error names the file).
    #[error(transparent)]
    Mds(#[from] edp_mds::MdsError),

    /// A required grid file is absent.
    #[error("missing grid file {}: {why}", path.display())]
    MissingFile {
        /// The file looked for.
        path: PathBuf,
        /// Why it is needed.
        why: String,
    },

    /// File-system I/O failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A grid file or variable has the wrong shape or size.
    #[error("wrong shape of {what} in {}: expected {expected}, found {found}", path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// The variable or record concerned.
        what: String,
        /// Expected shape or size.
        expected: String,
        /// Found shape or size.
        found: String,
    },

    /// The NetCDF library reported an error.
    #[error("NetCDF error on {} ({what}): {source}", path.display())]
    NetCdf {
        /// The file.
        path: PathBuf,
        /// What we were doing, e.g. "read variable XC".
        what: String,
        /// The library error.
        source: netcdf::Error,
    },

    /// A NetCDF variable or dimension the loader needs is absent.
    #[error("missing {what} in {}", path.display())]
    MissingVariable {
        /// The file.
        path: PathBuf,
        /// E.g. "variable dxG" or "dimension tile".
        what: String,
    },

    /// Invalid arguments (synthetic grid specification, replacement arrays, ...).
    #[error("invalid {what}: expected {expected}, found {found}")]
    Invalid {
        /// What is invalid.
        what: String,
        /// What is acceptable.
        expected: String,
        /// What was given.
        found: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = GridError> = std::result::Result<T, E>;
