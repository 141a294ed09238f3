//! Errors of the metadata catalog. Every variant names the file (or directory) involved and
//! says what was expected and what was found.

use std::path::PathBuf;

use crate::naming::GranuleNameError;
use crate::staggering::{CodeError, LogLineError, Staggering};
use crate::vocab::ProductType;

/// Errors of loading the catalog and of looking things up in it.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The metadata directory cannot be listed.
    #[error("cannot list metadata directory {dir}: {source}")]
    ReadDir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A metadata file cannot be read.
    #[error("cannot read metadata file {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A required metadata file is absent.
    #[error("metadata directory {dir} has no file matching '{pattern}' ({what})")]
    MissingFile {
        /// The directory.
        dir: PathBuf,
        /// The file-name pattern (`*<identifier>.json` or an exact name).
        pattern: String,
        /// What the file holds.
        what: &'static str,
    },
    /// More than one file matches a metadata pattern.
    #[error(
        "metadata directory {dir} has {} files matching '{pattern}', expected one: {}",
        candidates.len(),
        candidates.join(", ")
    )]
    AmbiguousFile {
        /// The directory.
        dir: PathBuf,
        /// The pattern.
        pattern: String,
        /// Every matching file name.
        candidates: Vec<String>,
    },
    /// A metadata file is not UTF-8 text.
    #[error("metadata file {path} is not UTF-8 text: {message}")]
    NotText {
        /// The file.
        path: PathBuf,
        /// The decoding error.
        message: String,
    },
    /// A JSON metadata file does not parse.
    #[error("invalid JSON in {path} at line {line}, column {column}: {message}")]
    InvalidJson {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A JSON metadata file parses but does not have the expected structure.
    #[error("unexpected structure in {path}, {location}: {reason}")]
    Structure {
        /// The file.
        path: PathBuf,
        /// Where in the file (e.g. `entry 3 ('THETA')`).
        location: String,
        /// What was expected and what was found.
        reason: String,
    },
    /// The PO.DAAC CSV cannot be read.
    #[error("invalid PO.DAAC table {path}: {message}")]
    InvalidCsv {
        /// The file.
        path: PathBuf,
        /// The CSV reader's message (with the record position).
        message: String,
    },
    /// The diagnostics log has a malformed row.
    #[error("invalid diagnostics log {path}: {source}")]
    InvalidLog {
        /// The file.
        path: PathBuf,
        /// The row error.
        source: LogLineError,
    },
    /// An optional metadata file that a lookup needs is absent, or a file was skipped as
    /// invalid (`LoadOptions::skip_invalid`).
    #[error("{what} is unavailable: {reason}")]
    Unavailable {
        /// What the lookup needed.
        what: &'static str,
        /// Why it is unavailable.
        reason: String,
    },
    /// A grouping id outside the groupings list.
    #[error(
        "unknown {product} grouping id {id}: {path} has {count} groupings (valid ids 0..={})",
        count.saturating_sub(1)
    )]
    UnknownGrouping {
        /// Product type of the groupings list.
        product: ProductType,
        /// The requested id.
        id: i64,
        /// Number of groupings.
        count: usize,
        /// The groupings file.
        path: PathBuf,
    },
    /// A grouping whose variables cannot be resolved.
    #[error("{product} grouping {id} ({filename}) in {path}: {reason}")]
    InvalidGrouping {
        /// Product type.
        product: ProductType,
        /// Grouping id.
        id: usize,
        /// Grouping `filename`.
        filename: String,
        /// The groupings file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The diagnostics log and the built-in table of `docs/mds-llc.md` 2.2 disagree.
    #[error(
        "staggering of {variable} disagrees: {log} in {path} but {builtin} in the built-in \
         V4r4 table (docs/mds-llc.md 2.2)"
    )]
    StaggeringConflict {
        /// Variable name.
        variable: String,
        /// Location from the log.
        log: Staggering,
        /// Location from the built-in table.
        builtin: Staggering,
        /// The log file.
        path: PathBuf,
    },
    /// A variable whose location is in neither the log nor the built-in table.
    #[error("no staggering known for variable {variable}: {searched}")]
    UnknownStaggering {
        /// Variable name.
        variable: String,
        /// Which sources were searched.
        searched: String,
    },
    /// A diagnostics-log code that cannot be decoded.
    #[error("in {path}: {source}")]
    BadCode {
        /// The log file.
        path: PathBuf,
        /// The decoding error.
        source: CodeError,
    },
    /// A granule file name that does not parse (PO.DAAC lookup).
    #[error(transparent)]
    GranuleName(#[from] GranuleNameError),
    /// No PO.DAAC row matches a granule name.
    #[error(
        "no row of {path} has a DATASET.FILENAME starting with '{head}' and ending with \
         '{tail}' (granule {granule})"
    )]
    PodaacNoMatch {
        /// The PO.DAAC CSV.
        path: PathBuf,
        /// The granule file name.
        granule: String,
        /// Required start.
        head: String,
        /// Required end.
        tail: String,
    },
    /// More than one PO.DAAC row matches a granule name.
    #[error(
        "{} rows of {path} match granule {granule} (head '{head}', tail '{tail}'), expected one: {}",
        matches.len(),
        matches.join(", ")
    )]
    PodaacAmbiguous {
        /// The PO.DAAC CSV.
        path: PathBuf,
        /// The granule file name.
        granule: String,
        /// Required start.
        head: String,
        /// Required end.
        tail: String,
        /// `DATASET.FILENAME` of every matching row.
        matches: Vec<String>,
    },
}

impl CatalogError {
    /// True for errors about a file's content (not its presence or readability): the errors
    /// that `LoadOptions::skip_invalid` turns into a skipped file.
    pub fn is_content_error(&self) -> bool {
        matches!(
            self,
            CatalogError::NotText { .. }
                | CatalogError::InvalidJson { .. }
                | CatalogError::Structure { .. }
                | CatalogError::InvalidCsv { .. }
                | CatalogError::InvalidLog { .. }
        )
    }
}
