//! Where input bytes come from.
//!
//! The engine never talks to S3: the batch worker fetches the `.data`/`.meta` objects of a task
//! into memory and hands them over as an [`InputSource`] (e.g. [`MemoryInputs`], or a map
//! `location -> bytes`); the command line reads local files with [`LocalFiles`]. Locations are
//! the strings of the task (`s3://bucket/key` or a path) and are only used as keys and in
//! messages.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::class::ErrorClass;

/// Errors of fetching one input.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The input does not exist (or was not fetched).
    #[error("input {location} not found")]
    NotFound {
        /// The location asked for.
        location: String,
    },
    /// Reading a local file failed.
    #[error("cannot read input {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Fetching from a remote store failed (implementations outside this crate).
    #[error("cannot fetch input {location}: {message}")]
    Fetch {
        /// The location asked for.
        location: String,
        /// What went wrong.
        message: String,
        /// True when a retry may succeed (throttling, network, timeouts).
        transient: bool,
    },
}

impl InputError {
    /// Missing inputs are bad input; transient fetch errors may go away; other read errors
    /// are internal.
    pub fn class(&self) -> ErrorClass {
        match self {
            InputError::NotFound { .. } => ErrorClass::BadInput,
            InputError::Fetch {
                transient: true, ..
            } => ErrorClass::Transient,
            InputError::Fetch { .. } => ErrorClass::BadInput,
            InputError::Io { .. } => ErrorClass::Internal,
        }
    }
}

/// A source of input bytes, keyed by the locations written in the task.
///
/// `Sync` because the worker produces several granules at once from one source.
pub trait InputSource: Sync {
    /// The whole content of the object at `location`. Borrow when the bytes are already in
    /// memory; own when they had to be read.
    fn fetch(&self, location: &str) -> Result<Cow<'_, [u8]>, InputError>;
}

impl<S: std::hash::BuildHasher + Sync> InputSource for HashMap<String, Vec<u8>, S> {
    fn fetch(&self, location: &str) -> Result<Cow<'_, [u8]>, InputError> {
        self.get(location)
            .map(|bytes| Cow::Borrowed(bytes.as_slice()))
            .ok_or_else(|| InputError::NotFound {
                location: location.to_string(),
            })
    }
}

/// Inputs held in memory (what the worker fetched from S3).
#[derive(Debug, Default, Clone)]
pub struct MemoryInputs {
    objects: HashMap<String, Vec<u8>>,
}

impl MemoryInputs {
    /// An empty set.
    pub fn new() -> MemoryInputs {
        MemoryInputs::default()
    }

    /// Adds (or replaces) the bytes of `location`.
    pub fn insert(&mut self, location: impl Into<String>, bytes: Vec<u8>) {
        self.objects.insert(location.into(), bytes);
    }

    /// Number of objects held.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Total bytes held.
    pub fn total_bytes(&self) -> u64 {
        self.objects.values().map(|b| b.len() as u64).sum()
    }
}

impl InputSource for MemoryInputs {
    fn fetch(&self, location: &str) -> Result<Cow<'_, [u8]>, InputError> {
        self.objects.fetch(location)
    }
}

/// Local files: a location is a path, relative ones resolved against `base` (default: the
/// current directory, as EDP does).
#[derive(Debug, Default, Clone)]
pub struct LocalFiles {
    base: Option<PathBuf>,
}

impl LocalFiles {
    /// Paths relative to the current directory.
    pub fn new() -> LocalFiles {
        LocalFiles::default()
    }

    /// Paths relative to `base`.
    pub fn with_base(base: impl Into<PathBuf>) -> LocalFiles {
        LocalFiles {
            base: Some(base.into()),
        }
    }

    fn resolve(&self, location: &str) -> PathBuf {
        let path = Path::new(location);
        match &self.base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.to_path_buf(),
        }
    }
}

impl InputSource for LocalFiles {
    fn fetch(&self, location: &str) -> Result<Cow<'_, [u8]>, InputError> {
        let path = self.resolve(location);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Cow::Owned(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(InputError::NotFound {
                location: location.to_string(),
            }),
            Err(source) => Err(InputError::Io { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_inputs_borrow_and_report_missing_locations() {
        let mut inputs = MemoryInputs::new();
        inputs.insert("s3://b/SSH.data", vec![1, 2, 3]);
        assert!(matches!(
            inputs.fetch("s3://b/SSH.data").unwrap(),
            Cow::Borrowed(&[1, 2, 3])
        ));
        let err = inputs.fetch("s3://b/ETAN.data").unwrap_err();
        assert_eq!(err.to_string(), "input s3://b/ETAN.data not found");
        assert_eq!(err.class(), ErrorClass::BadInput);
        assert_eq!(inputs.total_bytes(), 3);
    }

    #[test]
    fn local_files_resolve_relative_paths_against_the_base() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.meta"), b"x").unwrap();
        let files = LocalFiles::with_base(dir.path());
        assert_eq!(&*files.fetch("a.meta").unwrap(), b"x");
        assert!(matches!(
            files.fetch("b.meta"),
            Err(InputError::NotFound { .. })
        ));
    }
}
