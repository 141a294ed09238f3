//! Errors of HDF5 chunk I/O: each names the file, the variable (when there is one) and the
//! step that failed.

use std::path::PathBuf;

use thiserror::Error;

/// Result of this crate.
pub type Result<T> = std::result::Result<T, H5Error>;

/// What went wrong.
#[derive(Debug, Error)]
pub enum H5Error {
    /// An HDF5 call failed (HDF5 reports the reason on its error stack, which is not printed).
    #[error("HDF5 could not {what} in {path}")]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// The step, with the variable it concerns.
        what: String,
    },
    /// netCDF-C could not read the file's metadata.
    #[error("netCDF could not {what} in {path}: {source}")]
    NetCdf {
        /// The file.
        path: PathBuf,
        /// The step.
        what: String,
        /// The library error.
        #[source]
        source: netcdf::Error,
    },
    /// The file or a chunk does not have the expected structure.
    #[error("{path}: {what}: expected {expected}, found {found}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What was checked (variable, chunk).
        what: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// A plain file read failed.
    #[error("could not {what} in {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The step, with the chunk and variable it concerns.
        what: String,
        /// The system error.
        #[source]
        source: std::io::Error,
    },
}
