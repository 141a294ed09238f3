//! Errors of building and updating virtual stores.

use edp_plan::state::StateError;
use edp_store::StoreError;
use thiserror::Error;

/// Why a virtual store could not be built or updated.
#[derive(Debug, Error)]
pub enum VirtualError {
    /// A store operation failed (the error names the operation and location).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the ledger failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A stored state or ledger file is not the JSON it should be.
    #[error("{location}: expected a {expected} JSON document: {source}")]
    Decode {
        /// The file.
        location: String,
        /// What it should hold.
        expected: &'static str,
        /// The parser error.
        #[source]
        source: serde_json::Error,
    },
    /// A value could not be serialised.
    #[error("cannot encode {what} for {location}: {source}")]
    Encode {
        /// What was being written.
        what: &'static str,
        /// Where.
        location: String,
        /// The serialiser error.
        #[source]
        source: serde_json::Error,
    },
    /// A granule's chunking or codecs differ from the rest of its dataset: appending it
    /// would give a store that cannot be read as one array.
    #[error(
        "dataset {}: granule {} cannot be appended: variable {}: {} expected {}, found {}",
        .0.dataset, .0.granule, .0.variable, .0.field, .0.expected, .0.found
    )]
    Incompatible(Box<Incompatibility>),
    /// A chunk index that contradicts itself (e.g. a chunk outside the chunk grid).
    #[error("granule {granule}: chunk index of variable {variable}: {problem}")]
    BadChunkIndex {
        /// The granule.
        granule: String,
        /// The variable.
        variable: String,
        /// What is wrong.
        problem: String,
    },
    /// The object on storage is not the granule the ledger describes.
    #[error(
        "granule {granule}: the done record says {expected} bytes, the stored object has \
         {found}: the granule changed after it was recorded; run `edp run --force` for it"
    )]
    SizeMismatch {
        /// The granule.
        granule: String,
        /// Size in the done record.
        expected: u64,
        /// Size of the object.
        found: u64,
    },
    /// A granule path that is not below the destination root in the dataset layout.
    #[error(
        "granule {granule}: expected a path below the destination root {dest} of the form \
         <ecco_version>/<native|latlon>/<period>/<GROUPING>/<file>.nc"
    )]
    OutsideDestination {
        /// The granule.
        granule: String,
        /// The destination root.
        dest: String,
    },
    /// The Parquet references of a store could not be rendered.
    #[error("{location}: cannot render the Parquet references: {reason}")]
    Parquet {
        /// The reference folder.
        location: String,
        /// Why.
        reason: String,
    },
    /// An Icechunk repository could not be opened, created or committed to.
    #[error("Icechunk repository {location}: {reason}")]
    Icechunk {
        /// The repository.
        location: String,
        /// Why.
        reason: String,
    },
    /// A conditional update kept losing against concurrent writers.
    #[error("{location}: gave up after {attempts} conflicting concurrent updates")]
    Contention {
        /// The file.
        location: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A state whose arrays cannot be rendered (a hand-edited `state.json` or done record).
    #[error("{location}: {problem}; rebuild with `edp virtual --rebuild`")]
    BadState {
        /// The state file.
        location: String,
        /// What is wrong.
        problem: String,
    },
    /// A stored state of a format this version does not know.
    #[error(
        "{location}: state format {found} is not supported (expected {expected}); rebuild with `edp virtual --rebuild`"
    )]
    StateFormat {
        /// The file.
        location: String,
        /// The supported format.
        expected: u32,
        /// The format found.
        found: u32,
    },
}

/// What differs between a granule and its dataset (boxed in [`VirtualError::Incompatible`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// The dataset.
    pub dataset: String,
    /// The granule refused.
    pub granule: String,
    /// The variable that differs.
    pub variable: String,
    /// What differs (`dtype`, `chunk_shape`, `filters`, ...).
    pub field: &'static str,
    /// The dataset's value.
    pub expected: String,
    /// The granule's value.
    pub found: String,
}

/// Result of this crate.
pub type Result<T, E = VirtualError> = std::result::Result<T, E>;
