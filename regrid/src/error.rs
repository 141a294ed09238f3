//! The one error type of this crate. Every variant names what it is about (a file, an input
//! array, a level) and, where it applies, what was expected and what was found.

use std::path::PathBuf;

/// Errors of weight construction, weight files, application and vector rotation.
#[derive(Debug, thiserror::Error)]
pub enum RegridError {
    /// An input array has the wrong number of values.
    #[error("{what}: expected {expected} values, found {found}")]
    Length {
        /// The array concerned, e.g. "source latitudes" or "field of level 3".
        what: String,
        /// The required length (with how it is made up, e.g. "105300 (13x90x90)").
        expected: String,
        /// The length passed in.
        found: usize,
    },

    /// An input value or setting is outside what the algorithm accepts.
    #[error("invalid {what}: expected {expected}, found {found}")]
    Invalid {
        /// The setting or input concerned, e.g. "target resolution".
        what: String,
        /// What is acceptable.
        expected: String,
        /// What was given.
        found: String,
    },

    /// A level index is beyond the levels the weights (or the field) hold.
    #[error("level {level} requested but {what} has {n_levels} levels")]
    Level {
        /// The level asked for (0-based).
        level: usize,
        /// Number of levels available.
        n_levels: usize,
        /// What holds the levels ("the weights", "the field").
        what: String,
    },

    /// The k-d tree of source points could not be built.
    #[error("cannot index the {n} source points for neighbour search: {reason}")]
    SpatialIndex {
        /// Number of source points.
        n: usize,
        /// The index library's explanation.
        reason: String,
    },

    /// The NetCDF library failed while reading or writing a weights file.
    #[error("cannot {action} weights file {}: {source}", path.display())]
    NetCdf {
        /// What we were doing: "create", "open", "write variable `row` of", ...
        action: String,
        /// The file concerned.
        path: PathBuf,
        /// The library error.
        source: netcdf::Error,
    },

    /// A weights file exists but does not hold what a weights file of this crate must hold.
    #[error("invalid weights file {}: {what}: expected {expected}, found {found}", path.display())]
    BadFile {
        /// The file concerned.
        path: PathBuf,
        /// The variable, dimension or attribute concerned.
        what: String,
        /// What this crate writes.
        expected: String,
        /// What the file holds.
        found: String,
    },

    /// A weights file was built for another source grid or another target specification.
    #[error(
        "weights file {} does not match: {what} is {found} in the file but {expected} for the \
         requested grid (delete the file to rebuild it)",
        path.display()
    )]
    Mismatch {
        /// The file concerned.
        path: PathBuf,
        /// What differs, e.g. "source grid checksum".
        what: String,
        /// The value for the requested grid/spec.
        expected: String,
        /// The value stored in the file.
        found: String,
    },

    /// File-system I/O outside the NetCDF library (temporary files, renames).
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What we were doing.
        action: String,
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, RegridError>;

/// Checks that `found` values were passed where `expected` are needed.
pub(crate) fn check_len(what: impl Into<String>, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(RegridError::Length {
            what: what.into(),
            expected: expected.to_string(),
            found,
        })
    }
}
