//! The one error type of this crate. Every variant names the file (or in-memory source such as
//! an `s3://` URL) it is about and, where it applies, what was expected and what was found.

use std::path::PathBuf;

/// Errors while parsing `.meta` text, decoding `.data` bytes, reshaping LLC fields or doing
/// file I/O.
#[derive(Debug, thiserror::Error)]
pub enum MdsError {
    /// Reading or writing a file failed (other than a missing `.meta`, see [`MdsError::MissingMeta`]).
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What we were doing: "read", "write", "open", ...
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// The `.meta` beside a `.data` file (or the `.meta` asked for) does not exist.
    #[error("missing .meta file {}: every MDS .data file needs its .meta", meta.display())]
    MissingMeta {
        /// The `.meta` path that was looked for.
        meta: PathBuf,
    },

    /// The `.meta` text does not follow the `key = [ ... ];` / `key = { ... };` grammar.
    #[error("malformed .meta {file} (line {line}): expected {expected}, found {found}")]
    MetaSyntax {
        /// The `.meta` file (or source name).
        file: String,
        /// 1-based line of the offending token.
        line: usize,
        /// What the grammar allows at this point.
        expected: String,
        /// What is there instead.
        found: String,
    },

    /// A key the reader needs (`nDims`, `dimList`, `dataprec`, `nrecords`) is absent.
    #[error("invalid .meta {file}: required key `{key}` is missing")]
    MissingKey {
        /// The `.meta` file (or source name).
        file: String,
        /// The missing key, spelled as MITgcm writes it.
        key: &'static str,
    },

    /// A key has a value of the wrong kind or count, or values that contradict each other.
    #[error("invalid .meta {file}: key `{key}` expected {expected}, found {found}")]
    BadValue {
        /// The `.meta` file (or source name).
        file: String,
        /// The key concerned.
        key: String,
        /// What is acceptable.
        expected: String,
        /// What the file holds.
        found: String,
    },

    /// `dataprec` is neither `float32` nor `float64`.
    #[error("invalid .meta {file}: unknown dataprec '{found}', expected 'float32' or 'float64'")]
    UnknownPrecision {
        /// The `.meta` file (or source name).
        file: String,
        /// The `dataprec` value found.
        found: String,
    },

    /// A `dimList` triplet describes a part of the domain (a per-tile file), which is not supported.
    #[error(
        "unsupported tiled .meta {file}: dimension {dim} expected start 1 and end {global}, \
         found start {start} and end {end} (per-tile MDS files are not supported)"
    )]
    TiledFile {
        /// The `.meta` file (or source name).
        file: String,
        /// 0-based dimension index (0 = x).
        dim: usize,
        /// Global length of the dimension.
        global: usize,
        /// Start index found (1-based).
        start: usize,
        /// End index found (1-based, inclusive).
        end: usize,
    },

    /// The `.data` holds fewer bytes than the `.meta` describes.
    #[error("truncated data file {file}: expected {expected} bytes ({shape}), found {found}")]
    TruncatedData {
        /// The `.data` file (or source name).
        file: String,
        /// Bytes the `.meta` implies.
        expected: u64,
        /// Bytes present.
        found: u64,
        /// The shape behind `expected`, e.g. `1 record x 1170x90 float32`.
        shape: String,
    },

    /// The `.data` holds more bytes than the `.meta` describes.
    #[error("oversized data file {file}: expected {expected} bytes ({shape}), found {found}")]
    OversizedData {
        /// The `.data` file (or source name).
        file: String,
        /// Bytes the `.meta` implies.
        expected: u64,
        /// Bytes present.
        found: u64,
        /// The shape behind `expected`.
        shape: String,
    },

    /// A field was selected by a name that `fldList` does not contain.
    #[error(
        "field '{name}' not found in {file}: fldList has {}",
        list_or_none(available)
    )]
    FieldNotFound {
        /// The `.meta` file (or source name).
        file: String,
        /// The requested field name.
        name: String,
        /// The names in `fldList`.
        available: Vec<String>,
    },

    /// A record index beyond `nrecords` was requested.
    #[error("record {record} out of range in {file}: expected 0..{n_records}")]
    RecordOutOfRange {
        /// The file (or source name).
        file: String,
        /// Requested record (0-based).
        record: usize,
        /// `nrecords` of the file.
        n_records: usize,
    },

    /// The field is not in the LLC compact layout (`ny = 13 nx`).
    #[error("{file} is not an LLC compact field: expected ny = 13*nx, found nx = {nx}, ny = {ny}")]
    NotLlc {
        /// The file (or source name).
        file: String,
        /// `dimList[0]`.
        nx: usize,
        /// `dimList[3]`.
        ny: usize,
    },

    /// An in-memory array has the wrong number of values for the operation.
    #[error("wrong length of {what}: expected {expected}, found {found}")]
    Length {
        /// What the array is, e.g. "values for SSH.0000000732" or "compact LLC(90) array".
        what: String,
        /// Required length (or a description like "a multiple of 105300").
        expected: String,
        /// Length found.
        found: usize,
    },
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "no names (no fldList key)".to_owned()
    } else {
        names
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Result alias of this crate.
pub type Result<T, E = MdsError> = std::result::Result<T, E>;
