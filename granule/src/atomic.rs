//! Never a partial granule under its final name (docs/edp-compatibility.md bug 22): the writer writes to a
//! temporary file in the destination directory, syncs it and renames it; any error (or a
//! panic) removes the temporary file instead.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{GranuleError, Result};

/// A temporary file that becomes `final_path` on [`AtomicFile::commit`] and is removed when
/// dropped uncommitted.
#[derive(Debug)]
pub struct AtomicFile {
    final_path: PathBuf,
    temp_path: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Prepares `<final_path>.tmp-<uuid>` beside `final_path`, creating the destination
    /// directory when needed. The temporary file itself is created by the writer.
    pub fn new(final_path: &Path) -> Result<AtomicFile> {
        let file_name = final_path
            .file_name()
            .ok_or_else(|| GranuleError::Io {
                action: "use as a granule path",
                path: final_path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "expected a file path, found a path without a file name",
                ),
            })?
            .to_string_lossy()
            .into_owned();
        if let Some(dir) = final_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| GranuleError::Io {
                action: "create the output directory",
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let temp_path =
            final_path.with_file_name(format!("{file_name}.tmp-{}", uuid::Uuid::new_v4()));
        Ok(AtomicFile {
            final_path: final_path.to_path_buf(),
            temp_path,
            committed: false,
        })
    }

    /// Where to write.
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    /// The name the file gets on commit.
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Syncs the (closed) temporary file, renames it to the final name (replacing an older
    /// file atomically) and syncs the directory. Returns the file size in bytes.
    pub fn commit(mut self) -> Result<u64> {
        let io = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| GranuleError::Io {
                action,
                path,
                source,
            }
        };
        let file = File::open(&self.temp_path).map_err(io("open", &self.temp_path))?;
        file.sync_all().map_err(io("sync", &self.temp_path))?;
        let bytes = file.metadata().map_err(io("stat", &self.temp_path))?.len();
        drop(file);
        std::fs::rename(&self.temp_path, &self.final_path)
            .map_err(io("rename the temporary file to", &self.final_path))?;
        self.committed = true;
        // The rename is durable only once the directory entry is; a failure here does not
        // make the granule partial, so it is not an error.
        if let Some(dir) = self
            .final_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(bytes)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            // Nothing else to do on failure: the file may not even exist yet.
            let _ = std::fs::remove_file(&self.temp_path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_renames_and_drop_removes() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/g.nc");
        let a = AtomicFile::new(&target).unwrap();
        std::fs::write(a.temp_path(), b"abc").unwrap();
        assert!(
            a.temp_path()
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("g.nc.tmp-")
        );
        assert_eq!(a.commit().unwrap(), 3);
        assert_eq!(std::fs::read(&target).unwrap(), b"abc");

        let b = AtomicFile::new(&dir.path().join("sub/h.nc")).unwrap();
        let temp = b.temp_path().to_path_buf();
        std::fs::write(&temp, b"partial").unwrap();
        drop(b);
        assert!(!temp.exists());
        assert!(!dir.path().join("sub/h.nc").exists());
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["g.nc"]);
    }
}
