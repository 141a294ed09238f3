//! Decoding `.data` bytes held in memory (the worker fetches them from S3 and never writes
//! them to disk). `bytes` is always the **whole** `.data` content; its size is checked against
//! the `.meta` before anything is decoded.
//!
//! The tile path ([`decode_record_tiles`]) decodes, byte-swaps and reorders in one pass:
//! every tile row is a contiguous run of `N` values in the compact file, so each output row
//! is decoded straight from its source bytes, tiles in parallel.

use crate::error::{MdsError, Result};
use crate::llc::{Llc, LlcField, min_tiles_per_task};
use crate::meta::{FieldSelector, Meta};
use crate::sample::{ByteOrder, Precision, Sample, decode_run};
use rayon::prelude::*;

/// Checks that a `.data` of `found` bytes matches `meta`; `file` names it in the error.
pub fn check_data_len(meta: &Meta, found: u64, file: &str) -> Result<()> {
    let expected = meta.expected_data_bytes();
    if found < expected {
        return Err(MdsError::TruncatedData {
            file: file.to_owned(),
            expected,
            found,
            shape: meta.shape_description(),
        });
    }
    if found > expected {
        return Err(MdsError::OversizedData {
            file: file.to_owned(),
            expected,
            found,
            shape: meta.shape_description(),
        });
    }
    Ok(())
}

/// The bytes of the record chosen by `field`, after checking the total size.
pub fn record_bytes<'a>(
    bytes: &'a [u8],
    meta: &Meta,
    field: &FieldSelector,
    file: &str,
) -> Result<&'a [u8]> {
    check_data_len(meta, bytes.len() as u64, file)?;
    let record = meta.record_of(field)?;
    let len = meta.record_bytes();
    Ok(&bytes[record * len..(record + 1) * len])
}

/// Decodes one record in file (compact) order `[nz][ny][nx]`, converting to `T`.
pub fn decode_record<T: Sample>(
    bytes: &[u8],
    meta: &Meta,
    field: &FieldSelector,
    order: ByteOrder,
    file: &str,
) -> Result<Vec<T>> {
    let rec = record_bytes(bytes, meta, field, file)?;
    Ok(decode_parallel(rec, meta.precision, order))
}

/// Decodes every record in file order (`[record][nz][ny][nx]`).
pub fn decode_all<T: Sample>(
    bytes: &[u8],
    meta: &Meta,
    order: ByteOrder,
    file: &str,
) -> Result<Vec<T>> {
    check_data_len(meta, bytes.len() as u64, file)?;
    Ok(decode_parallel(bytes, meta.precision, order))
}

/// Decodes one record of an LLC compact field straight into tile order `[k][t][j][i]`.
/// Fails with [`MdsError::NotLlc`] when `ny != 13 nx`.
pub fn decode_record_tiles<T: Sample>(
    bytes: &[u8],
    meta: &Meta,
    field: &FieldSelector,
    order: ByteOrder,
    file: &str,
) -> Result<LlcField<T>> {
    let mut data = Vec::new();
    let (n, nz) = decode_record_tiles_into(bytes, meta, field, order, file, &mut data)?;
    Ok(LlcField { n, nz, data })
}

/// [`decode_record_tiles`] into a caller-owned buffer (resized to `nz * 13 N^2` values and
/// overwritten); returns `(N, nz)`. Reusing one buffer across fields avoids zero-filling
/// and page-faulting a fresh allocation each time.
pub fn decode_record_tiles_into<T: Sample>(
    bytes: &[u8],
    meta: &Meta,
    field: &FieldSelector,
    order: ByteOrder,
    file: &str,
    out: &mut Vec<T>,
) -> Result<(usize, usize)> {
    let llc = meta.require_llc(file)?;
    let rec = record_bytes(bytes, meta, field, file)?;
    let nz = meta.nz();
    out.resize(nz * llc.level_len(), T::default());
    decode_levels_into(rec, llc, meta.precision, order, out);
    Ok((llc.n, nz))
}

/// Decodes the bytes of exactly one record (`nz` complete compact levels of LLC(`llc.n`))
/// into tile order. Callers validate the length: `rec.len()` must be
/// `nz * 13 N^2 * precision.size()` (shorter input leaves zeros in the missing values).
pub fn tiles_from_record_bytes<T: Sample>(
    rec: &[u8],
    llc: Llc,
    nz: usize,
    precision: Precision,
    order: ByteOrder,
) -> LlcField<T> {
    let mut data = vec![T::default(); nz * llc.level_len()];
    decode_levels_into(rec, llc, precision, order, &mut data);
    LlcField { n: llc.n, nz, data }
}

/// Decodes whole compact levels in `src` into tile-ordered `out` (same number of levels;
/// `out.len()` decides how many). Rows missing from `src` are left untouched.
pub(crate) fn decode_levels_into<T: Sample>(
    src: &[u8],
    llc: Llc,
    precision: Precision,
    order: ByteOrder,
    out: &mut [T],
) {
    let size = precision.size();
    let level_bytes = llc.level_len() * size;
    let row_bytes = llc.n * size;
    llc.fill_tile_rows(out, |k, t, j, row| {
        let start = k * level_bytes + llc.row_off(t, j) * size;
        if let Some(bytes) = src.get(start..start + row_bytes) {
            decode_run(bytes, row, precision, order);
        }
    });
}

/// Turns whole levels whose bytes were copied verbatim from a compact file into `vals`
/// (so `T` has the file's precision) into decoded values in tile order, in place and
/// sequentially (callers parallelise over chunks of levels). `scratch` is reused between
/// calls.
///
/// Tiles 0..=6 already sit in tile order in the compact layout and only need the byte fix;
/// facets 4 and 5 (`N x 3N` blocks) are permuted through the cache-sized scratch copy.
pub(crate) fn fix_levels_in_place<T: Sample>(
    vals: &mut [T],
    llc: Llc,
    order: ByteOrder,
    scratch: &mut Vec<T>,
) {
    let n = llc.n;
    if n == 0 {
        return;
    }
    let facet_len = 3 * n * n;
    for level in vals.chunks_exact_mut(llc.level_len()) {
        let (head, facets) = level.split_at_mut(7 * n * n);
        match order {
            ByteOrder::Big => head
                .iter_mut()
                .for_each(|v| *v = v.decode_file_bits(ByteOrder::Big)),
            ByteOrder::Little => head
                .iter_mut()
                .for_each(|v| *v = v.decode_file_bits(ByteOrder::Little)),
        }
        for facet in facets.chunks_exact_mut(facet_len) {
            scratch.clear();
            scratch.extend_from_slice(facet);
            // Compact facet row j holds tile rows (7+m, j) for m = 0, 1, 2 side by side.
            for (j, src_row) in scratch.chunks_exact(3 * n).enumerate() {
                for (m, src) in src_row.chunks_exact(n).enumerate() {
                    let start = m * n * n + j * n;
                    let dst = facet[start..start + n].iter_mut().zip(src);
                    match order {
                        ByteOrder::Big => {
                            dst.for_each(|(d, s)| *d = s.decode_file_bits(ByteOrder::Big))
                        }
                        ByteOrder::Little => {
                            dst.for_each(|(d, s)| *d = s.decode_file_bits(ByteOrder::Little))
                        }
                    }
                }
            }
        }
    }
}

/// Decodes a byte run in parallel chunks (compact order is kept).
pub(crate) fn decode_parallel<T: Sample>(
    bytes: &[u8],
    precision: Precision,
    order: ByteOrder,
) -> Vec<T> {
    const CHUNK: usize = 1 << 16;
    let size = precision.size();
    let mut out = vec![T::default(); bytes.len() / size];
    out.par_chunks_mut(CHUNK)
        .zip(bytes.par_chunks(CHUNK * size))
        .with_min_len(min_tiles_per_task(CHUNK))
        .for_each(|(dst, src)| decode_run(src, dst, precision, order));
    out
}
