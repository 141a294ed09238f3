//! Errors of the demo generator: each names the file or the spec value involved.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why the demo dataset could not be generated.
#[derive(Debug, Error)]
pub enum DemoError {
    /// A value of the [`crate::DemoSpec`] is out of range.
    #[error("invalid demo spec: {what} must be {expected}, found {found}")]
    InvalidSpec {
        /// The field.
        what: &'static str,
        /// What is accepted.
        expected: String,
        /// What was given.
        found: String,
    },
    /// The synthetic grid could not be built or written.
    #[error("demo grid: {0}")]
    Grid(#[from] edp_grid::GridError),
    /// An MDS file could not be written.
    #[error("demo model output: {0}")]
    Mds(#[from] edp_mds::MdsError),
    /// A time step has no period on the model clock.
    #[error("demo time step {step}: {source}")]
    Time {
        /// The step.
        step: u64,
        /// The clock's error.
        source: Box<edp_conventions::TimeError>,
    },
    /// A grouping id that the demo metadata does not have.
    #[error("demo metadata has no {product} grouping {id} (it has {count})")]
    UnknownGrouping {
        /// Product type.
        product: edp_conventions::ProductType,
        /// The id asked for.
        id: usize,
        /// Number of demo groupings of that product type.
        count: usize,
    },
    /// A file or directory could not be written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A JSON document could not be serialised (not expected for these plain values).
    #[error("cannot serialise {}: {source}", path.display())]
    Json {
        /// The file being written.
        path: PathBuf,
        /// serde_json's error.
        source: serde_json::Error,
    },
}

/// Creates a directory and its parents.
pub(crate) fn create_dir(path: &Path) -> Result<(), DemoError> {
    std::fs::create_dir_all(path).map_err(|source| DemoError::Io {
        action: "create directory",
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a whole file.
pub(crate) fn write_file(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), DemoError> {
    std::fs::write(path, bytes).map_err(|source| DemoError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a JSON value with two-space indentation and a final newline.
pub(crate) fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), DemoError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|source| DemoError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    text.push('\n');
    write_file(path, text)
}
