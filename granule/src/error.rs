//! The error type of this crate and its classification (bad input vs internal/IO).
//!
//! Every variant names the granule, variable or file it is about and, where it applies, what
//! was expected and what was found. [`GranuleError::class`] tells the worker whether a retry
//! can help ([`GranuleError::kind`] maps that onto the ledger's permanent/retryable).

use std::path::PathBuf;

use edp_task_schemas::ErrorKind;

pub use crate::class::ErrorClass;
use crate::input::InputError;

/// Errors of producing one granule.
#[derive(Debug, thiserror::Error)]
pub enum GranuleError {
    /// The task itself is inconsistent (granule name, product, grouping, times...).
    #[error("invalid task for granule {granule}: {reason}")]
    InvalidTask {
        /// Granule name or location.
        granule: String,
        /// What is wrong, naming expected and found values.
        reason: String,
    },

    /// The task names an output variable that the grouping does not have.
    #[error("granule {granule}: variable '{variable}' is not in {grouping}, which has {expected}")]
    UnknownVariable {
        /// Granule name.
        granule: String,
        /// The unknown variable.
        variable: String,
        /// The grouping, e.g. `native grouping 0 (SEA_SURFACE_HEIGHT)`.
        grouping: String,
        /// The grouping's output variables.
        expected: String,
    },

    /// A variable has the wrong number of input components (`[data, meta]` pairs).
    #[error(
        "granule {granule}: variable '{variable}' expects {expected} input component(s) \
         ([data, meta] pairs), found {found}"
    )]
    ComponentCount {
        /// Granule name.
        granule: String,
        /// Output variable.
        variable: String,
        /// Components required.
        expected: usize,
        /// Components given.
        found: usize,
    },

    /// An input disagrees with the catalog or the grid (staggering, level count, grid size,
    /// field name, time step).
    #[error("input {location} of variable '{variable}': expected {expected}, found {found}")]
    InputMismatch {
        /// Output variable.
        variable: String,
        /// The `.meta` or `.data` location.
        location: String,
        /// What the catalog / grid / task requires.
        expected: String,
        /// What the input has.
        found: String,
    },

    /// An input could not be fetched.
    #[error(transparent)]
    Input(#[from] InputError),

    /// A `.meta` could not be parsed or a `.data` does not match it (the message names the
    /// file, expected and found). Boxed, like the other large library errors, to keep
    /// `Result<_, GranuleError>` small.
    #[error(transparent)]
    Mds(Box<edp_mds::MdsError>),

    /// The metadata catalog failed (unknown grouping id, PO.DAAC lookup, ...).
    #[error(transparent)]
    Catalog(Box<edp_conventions::CatalogError>),

    /// Building attributes failed (missing variable metadata, unresolved placeholder).
    #[error(transparent)]
    Attributes(Box<edp_conventions::attrs::AttrError>),

    /// A time step or time string is invalid for the model clock.
    #[error(transparent)]
    Time(#[from] edp_conventions::TimeError),

    /// A granule file name does not follow `docs/naming.md` 1.
    #[error(transparent)]
    GranuleName(#[from] edp_conventions::naming::GranuleNameError),

    /// The grid does not fit the request (e.g. no mask rule for the variable's location).
    #[error("grid {what}: expected {expected}, found {found}")]
    GridMismatch {
        /// What was checked.
        what: String,
        /// What was required.
        expected: String,
        /// What the grid has.
        found: String,
    },

    /// Loading a grid failed.
    #[error(transparent)]
    Grid(Box<edp_grid::GridError>),

    /// Loading a production configuration failed.
    #[error(transparent)]
    Config(#[from] edp_conventions::ConfigError),

    /// Lat-lon weights could not be read, built or applied, or do not fit the grid.
    #[error(transparent)]
    Regrid(Box<edp_regrid::RegridError>),

    /// A lat-lon granule was requested from resources without regridding weights.
    #[error(
        "lat-lon granule {granule}: the resources have no regridding weights (load them with \
         ResourceCache::weights or Resources::with_weights)"
    )]
    NoWeights {
        /// Granule name.
        granule: String,
    },

    /// The request is valid but this build cannot produce it.
    #[error("unsupported {what}: {reason}")]
    Unsupported {
        /// What was asked for.
        what: String,
        /// Why it cannot be done (yet).
        reason: String,
    },

    /// The NetCDF library failed while writing.
    #[error("NetCDF error on {} ({what}): {source}", path.display())]
    NetCdf {
        /// The file being written (the temporary name).
        path: PathBuf,
        /// What we were doing, e.g. "write variable THETA".
        what: String,
        /// The library error.
        source: netcdf::Error,
    },

    /// Compressing the chunks of a variable failed.
    #[error("cannot compress variable {variable}: {source}")]
    Encode {
        /// The variable.
        variable: String,
        /// What failed.
        source: crate::chunk_encoding::EncodeError,
    },

    /// HDF5 failed while writing the compressed chunks into the file.
    #[error(transparent)]
    Chunks(#[from] edp_h5chunks::H5Error),

    /// File-system I/O failed (creating the directory, syncing, renaming).
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl GranuleError {
    /// The class of this error (see [`ErrorClass`]).
    pub fn class(&self) -> ErrorClass {
        match self {
            GranuleError::InvalidTask { .. }
            | GranuleError::UnknownVariable { .. }
            | GranuleError::ComponentCount { .. }
            | GranuleError::InputMismatch { .. }
            | GranuleError::Mds(_)
            | GranuleError::Catalog(_)
            | GranuleError::Attributes(_)
            | GranuleError::Time(_)
            | GranuleError::GranuleName(_)
            | GranuleError::GridMismatch { .. }
            | GranuleError::Grid(_)
            | GranuleError::Config(_)
            | GranuleError::NoWeights { .. } => ErrorClass::BadInput,
            GranuleError::Input(e) => e.class(),
            // Reading or writing a weights file failed in the library or the file system
            // (disk full, a cache directory on a broken mount): like our own writes. Every other
            // weights error (a file for another grid, a corrupt file, sizes that do not fit)
            // fails the same way again.
            GranuleError::Regrid(e) => match **e {
                edp_regrid::RegridError::NetCdf { .. } | edp_regrid::RegridError::Io { .. } => {
                    ErrorClass::Internal
                }
                _ => ErrorClass::BadInput,
            },
            GranuleError::Unsupported { .. } => ErrorClass::Unsupported,
            GranuleError::NetCdf { .. }
            | GranuleError::Io { .. }
            | GranuleError::Encode { .. }
            | GranuleError::Chunks(_) => ErrorClass::Internal,
        }
    }

    /// True when a retry cannot help (bad input or unsupported request).
    pub fn is_permanent(&self) -> bool {
        matches!(self.class(), ErrorClass::BadInput | ErrorClass::Unsupported)
    }

    /// The ledger's error kind: bad input and unsupported requests are permanent; transient
    /// fetch failures and internal write errors are retryable (a fresh container may have a
    /// healthy disk; Batch's retry limit stops a real bug).
    pub fn kind(&self) -> ErrorKind {
        if self.is_permanent() {
            ErrorKind::Permanent
        } else {
            ErrorKind::Retryable
        }
    }
}

/// `From` for the boxed variants (thiserror's `#[from]` would take the box).
macro_rules! from_boxed {
    ($($variant:ident($error:ty)),* $(,)?) => {
        $(impl From<$error> for GranuleError {
            fn from(err: $error) -> GranuleError {
                GranuleError::$variant(Box::new(err))
            }
        })*
    };
}

from_boxed!(
    Mds(edp_mds::MdsError),
    Catalog(edp_conventions::CatalogError),
    Attributes(edp_conventions::attrs::AttrError),
    Grid(edp_grid::GridError),
    Regrid(edp_regrid::RegridError),
);

/// A closure mapping a NetCDF error to [`GranuleError::NetCdf`] for `path` and `what`.
pub(crate) fn nc_err(
    path: &std::path::Path,
    what: impl Into<String>,
) -> impl FnOnce(netcdf::Error) -> GranuleError {
    let path = path.to_path_buf();
    let what = what.into();
    move |source| GranuleError::NetCdf { path, what, source }
}

/// Result alias of this crate.
pub type Result<T, E = GranuleError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_stay_small() {
        // clippy::result_large_err: every fallible function returns this error.
        assert!(std::mem::size_of::<GranuleError>() < 128);
    }

    #[test]
    fn classes_map_to_ledger_kinds() {
        let bad = GranuleError::InputMismatch {
            variable: "SSH".into(),
            location: "x.meta".into(),
            expected: "a 2-D field".into(),
            found: "nDims = 3".into(),
        };
        assert_eq!(bad.class(), ErrorClass::BadInput);
        assert_eq!(bad.kind(), ErrorKind::Permanent);
        let transient = GranuleError::Input(InputError::Fetch {
            location: "s3://b/k".into(),
            message: "SlowDown".into(),
            transient: true,
        });
        assert_eq!(transient.class(), ErrorClass::Transient);
        assert_eq!(transient.kind(), ErrorKind::Retryable);
        let io = GranuleError::Io {
            action: "rename",
            path: "/x".into(),
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(io.class(), ErrorClass::Internal);
        assert_eq!(io.kind(), ErrorKind::Retryable);
    }
}
