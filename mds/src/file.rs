//! Thin file helpers over [`crate::meta`] and [`crate::decode`]: locating the `.meta`/`.data`
//! pair, reading records (only the bytes of the selected record are read) and writing pairs
//! in MITgcm layout.

use crate::decode::{check_data_len, decode_levels_into, decode_parallel, fix_levels_in_place};
use crate::error::{MdsError, Result};
use crate::llc::LlcField;
use crate::meta::{FieldSelector, Meta};
use crate::sample::{ByteOrder, Sample, encode_values};
use rayon::prelude::*;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The `.meta` and `.data` paths of an MDS pair given either half or the stem.
///
/// Only a final `.meta`/`.data` is stripped, so stems with dots such as
/// `SSH_mon_mean.0000000732` are kept whole.
pub fn mds_paths(path: &Path) -> (PathBuf, PathBuf) {
    let text = path.as_os_str().to_string_lossy();
    let stem = text
        .strip_suffix(".meta")
        .or_else(|| text.strip_suffix(".data"))
        .unwrap_or(&text)
        .to_owned();
    (
        PathBuf::from(format!("{stem}.meta")),
        PathBuf::from(format!("{stem}.data")),
    )
}

/// Reads and parses the `.meta` of a pair (`path` is the stem, the `.meta` or the `.data`).
pub fn read_meta(path: impl AsRef<Path>) -> Result<Meta> {
    let (meta_path, _) = mds_paths(path.as_ref());
    let text = std::fs::read_to_string(&meta_path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            MdsError::MissingMeta {
                meta: meta_path.clone(),
            }
        } else {
            MdsError::Io {
                action: "read",
                path: meta_path.clone(),
                source,
            }
        }
    })?;
    Meta::parse(&text, &meta_path.display().to_string())
}

/// Target bytes per parallel task of [`MdsFile::read_tiles`]: whole levels, at least this
/// much, so small grids do not make thousands of tiny reads (one LLC90 float32 level is
/// 421 200 bytes, so there a task is one level and stays in cache).
const TASK_BYTES: usize = 256 * 1024;

/// An opened MDS pair: the parsed `.meta`, and a `.data` whose size has been checked.
#[derive(Debug, Clone)]
pub struct MdsFile {
    /// The parsed `.meta`.
    pub meta: Meta,
    /// Path of the `.meta`.
    pub meta_path: PathBuf,
    /// Path of the `.data`.
    pub data_path: PathBuf,
    /// Byte order used to decode the `.data`.
    pub order: ByteOrder,
}

impl MdsFile {
    /// Parses the `.meta` and checks the `.data` size (`path`: stem, `.meta` or `.data`).
    pub fn open(path: impl AsRef<Path>, order: ByteOrder) -> Result<MdsFile> {
        let (meta_path, data_path) = mds_paths(path.as_ref());
        let meta = read_meta(&meta_path)?;
        let len = std::fs::metadata(&data_path)
            .map_err(|source| MdsError::Io {
                action: "open",
                path: data_path.clone(),
                source,
            })?
            .len();
        check_data_len(&meta, len, &data_path.display().to_string())?;
        Ok(MdsFile {
            meta,
            meta_path,
            data_path,
            order,
        })
    }

    fn data_name(&self) -> String {
        self.data_path.display().to_string()
    }

    fn io(&self, action: &'static str, source: std::io::Error) -> MdsError {
        MdsError::Io {
            action,
            path: self.data_path.clone(),
            source,
        }
    }

    /// The whole `.data` content (size re-checked, in case the file changed since `open`).
    pub fn read_bytes(&self) -> Result<Vec<u8>> {
        let bytes = std::fs::read(&self.data_path).map_err(|e| self.io("read", e))?;
        check_data_len(&self.meta, bytes.len() as u64, &self.data_name())?;
        Ok(bytes)
    }

    /// The raw bytes of one record (only that part of the file is read).
    pub fn read_record_bytes(&self, field: &FieldSelector) -> Result<Vec<u8>> {
        let record = self.meta.record_of(field)?;
        let len = self.meta.record_bytes();
        let mut file = File::open(&self.data_path).map_err(|e| self.io("open", e))?;
        let mut buf = vec![0u8; len];
        file.seek(SeekFrom::Start((record * len) as u64))
            .map_err(|e| self.io("seek in", e))?;
        self.read_exact(&mut file, &mut buf)?;
        Ok(buf)
    }

    /// One record in file (compact) order `[nz][ny][nx]`.
    pub fn read_record<T: Sample>(&self, field: &FieldSelector) -> Result<Vec<T>> {
        let rec = self.read_record_bytes(field)?;
        Ok(decode_parallel(&rec, self.meta.precision, self.order))
    }

    /// One record of an LLC compact field in tile order `[k][t][j][i]`.
    ///
    /// The record is split into chunks of whole levels processed in parallel; each task
    /// reads its chunk with a positioned read and decodes it while it is still in that
    /// core's cache. When `T` has the file's precision the bytes are read straight into the
    /// result and fixed in place (byte swap + facet 4/5 reorder), so the data crosses memory
    /// about as often as when reading the bytes alone (see `benches/read_llc.rs`).
    pub fn read_tiles<T: Sample>(&self, field: &FieldSelector) -> Result<LlcField<T>> {
        let mut data = Vec::new();
        let (n, nz) = self.read_tiles_into(field, &mut data)?;
        Ok(LlcField { n, nz, data })
    }

    /// [`MdsFile::read_tiles`] into a caller-owned buffer, which is resized to
    /// `nz * 13 N^2` values and overwritten; returns `(N, nz)`. Reusing one buffer across
    /// many fields avoids zero-filling and page-faulting a new allocation every time.
    pub fn read_tiles_into<T: Sample>(
        &self,
        field: &FieldSelector,
        data: &mut Vec<T>,
    ) -> Result<(usize, usize)> {
        let llc = self.meta.require_llc(&self.data_name())?;
        let record = self.meta.record_of(field)?;
        let nz = self.meta.nz();
        let precision = self.meta.precision;
        let level_len = llc.level_len();
        let level_bytes = level_len * precision.size();
        let levels_per_task = (TASK_BYTES / level_bytes.max(1)).clamp(1, nz.max(1));
        let base = (record * self.meta.record_bytes()) as u64;
        let file = File::open(&self.data_path).map_err(|e| self.io("open", e))?;

        data.resize(nz * level_len, T::default());
        data.par_chunks_mut((levels_per_task * level_len).max(1))
            .enumerate()
            .try_for_each_init(
                || (Vec::<T>::new(), Vec::<u8>::new()),
                |(scratch, bytes), (chunk, out)| {
                    let offset = base + (chunk * levels_per_task * level_bytes) as u64;
                    if T::PRECISION == precision {
                        self.read_at(&file, bytemuck::cast_slice_mut(out), offset)?;
                        fix_levels_in_place(out, llc, self.order, scratch);
                    } else {
                        bytes.resize(out.len() * precision.size(), 0);
                        self.read_at(&file, bytes, offset)?;
                        decode_levels_into(bytes, llc, precision, self.order, out);
                    }
                    Ok(())
                },
            )?;
        Ok((llc.n, nz))
    }

    /// Fills `buf` from `offset` of the `.data` (a short file is a truncation error). Safe
    /// to call from parallel tasks: positioned reads share no file cursor.
    fn read_at(&self, file: &File, buf: &mut [u8], offset: u64) -> Result<()> {
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_exact_at(file, buf, offset);
        #[cfg(not(unix))]
        let read = {
            // No positioned read in std here: a private handle keeps tasks from racing on
            // one cursor.
            let _ = file;
            File::open(&self.data_path).and_then(|mut f| {
                f.seek(SeekFrom::Start(offset))?;
                f.read_exact(buf)
            })
        };
        read.map_err(|e| self.read_error(e))
    }

    fn read_error(&self, e: std::io::Error) -> MdsError {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            MdsError::TruncatedData {
                file: self.data_name(),
                expected: self.meta.expected_data_bytes(),
                found: std::fs::metadata(&self.data_path)
                    .map(|m| m.len())
                    .unwrap_or(0),
                shape: self.meta.shape_description(),
            }
        } else {
            self.io("read", e)
        }
    }

    fn read_exact(&self, file: &mut File, buf: &mut [u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        file.read_exact(buf).map_err(|e| self.read_error(e))
    }

    /// Every record in file order `[record][nz][ny][nx]`.
    pub fn read_all<T: Sample>(&self) -> Result<Vec<T>> {
        let bytes = self.read_bytes()?;
        Ok(decode_parallel(&bytes, self.meta.precision, self.order))
    }
}

/// Opens `path` and reads the record `field` in tile order (the common one-liner).
pub fn read_field_tiles<T: Sample>(
    path: impl AsRef<Path>,
    field: &FieldSelector,
    order: ByteOrder,
) -> Result<LlcField<T>> {
    MdsFile::open(path, order)?.read_tiles(field)
}

/// Writes an MDS pair at `stem` (`.data` first, then `.meta`, so a reader that sees the
/// `.meta` finds complete data). `values` are in file order (`[record][nz][ny][nx]`; use
/// [`crate::Llc::tiles_to_compact`] for tile-ordered data) and are encoded as
/// `meta.precision` in `order`.
pub fn write_mds<T: Sample>(
    stem: impl AsRef<Path>,
    meta: &Meta,
    values: &[T],
    order: ByteOrder,
) -> Result<()> {
    let (meta_path, data_path) = mds_paths(stem.as_ref());
    if values.len() != meta.n_values() {
        return Err(MdsError::Length {
            what: format!("values for {}", data_path.display()),
            expected: format!("{} ({})", meta.n_values(), meta.shape_description()),
            found: values.len(),
        });
    }
    let write = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes).map_err(|source| MdsError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        })
    };
    write(&data_path, &encode_values(values, meta.precision, order))?;
    write(&meta_path, meta.to_meta_text().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_from_stem_or_either_half() {
        let want = (
            PathBuf::from("d/SSH_mon_mean.0000000732.meta"),
            PathBuf::from("d/SSH_mon_mean.0000000732.data"),
        );
        assert_eq!(mds_paths(Path::new("d/SSH_mon_mean.0000000732")), want);
        assert_eq!(mds_paths(Path::new("d/SSH_mon_mean.0000000732.meta")), want);
        assert_eq!(mds_paths(Path::new("d/SSH_mon_mean.0000000732.data")), want);
    }
}
