//! Thin file helpers over [`crate::meta`] and [`crate::decode`]: locating the `.meta`/`.data`
//! pair, reading records (only the bytes of the selected record are read) and writing pairs
//! in MITgcm layout.

use crate::decode::decode_parallel;
use crate::decode::{check_data_len, decode_levels_into, fix_levels_in_place};
use crate::error::{MdsError, Result};
use crate::llc::LlcField;
use crate::meta::{FieldSelector, Meta};
use crate::sample::{ByteOrder, Sample, encode_values};
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

/// Bytes read per step when streaming a record into tiles: large enough for few syscalls,
/// small enough to stay in cache and to overlap reading with decoding.
const STREAM_CHUNK_BYTES: usize = 1 << 20;

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
    /// Streams the record through a small buffer (a few levels at a time) and decodes one
    /// chunk while the next is being read, so the only large allocation is the result and
    /// the cost stays close to reading the bytes alone (see `benches/read_llc.rs`).
    pub fn read_tiles<T: Sample>(&self, field: &FieldSelector) -> Result<LlcField<T>> {
        let llc = self.meta.require_llc(&self.data_name())?;
        let record = self.meta.record_of(field)?;
        let nz = self.meta.nz();
        let size = self.meta.precision.size();
        let level_len = llc.level_len();
        let level_bytes = level_len * size;
        let levels_per_chunk = (STREAM_CHUNK_BYTES / level_bytes.max(1)).clamp(1, nz.max(1));

        let mut file = File::open(&self.data_path).map_err(|e| self.io("open", e))?;
        file.seek(SeekFrom::Start((record * self.meta.record_bytes()) as u64))
            .map_err(|e| self.io("seek in", e))?;
        let mut data = vec![T::default(); nz * level_len];
        let chunk_len = levels_per_chunk * level_len;

        if T::PRECISION == self.meta.precision {
            // Fast path: the kernel copies the file bytes straight into the result, and each
            // chunk is byte-fixed and reordered in place (while still in cache) as the next
            // chunk is being read.
            let mut chunks = data.chunks_mut(chunk_len.max(1));
            let mut current = chunks.next();
            if let Some(first) = current.as_deref_mut() {
                self.read_exact(&mut file, bytemuck::cast_slice_mut(first))?;
            }
            while let Some(done) = current {
                let mut next = chunks.next();
                let (read, ()) = rayon::join(
                    || match next.as_deref_mut() {
                        Some(buf) => self.read_exact(&mut file, bytemuck::cast_slice_mut(buf)),
                        None => Ok(()),
                    },
                    || fix_levels_in_place(done, llc, self.order),
                );
                read?;
                current = next;
            }
            return Ok(LlcField { n: llc.n, nz, data });
        }

        // Converting path (e.g. a float64 file read as f32): stream through two byte buffers.
        let mut current = vec![0u8; levels_per_chunk * level_bytes];
        let mut next = vec![0u8; levels_per_chunk * level_bytes];
        let first = levels_per_chunk.min(nz);
        self.read_exact(&mut file, &mut current[..first * level_bytes])?;

        let mut k0 = 0;
        for out in data.chunks_mut(chunk_len.max(1)) {
            let levels = out.len() / level_len.max(1);
            let k1 = k0 + levels;
            let following = levels_per_chunk.min(nz - k1);
            // Read the following chunk on one thread while the others decode this one.
            let (read, ()) = rayon::join(
                || self.read_exact(&mut file, &mut next[..following * level_bytes]),
                || {
                    decode_levels_into(
                        &current[..levels * level_bytes],
                        llc,
                        self.meta.precision,
                        self.order,
                        out,
                    )
                },
            );
            read?;
            std::mem::swap(&mut current, &mut next);
            k0 = k1;
        }
        Ok(LlcField { n: llc.n, nz, data })
    }

    fn read_exact(&self, file: &mut File, buf: &mut [u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        file.read_exact(buf).map_err(|e| {
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
        })
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
