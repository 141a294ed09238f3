//! Shuffle + deflate of the chunks of a variable on every core, outside libnetcdf (its global
//! lock made compression the one serial step of a granule). The encoded chunks go into the
//! file with [`edp_h5chunks::write_chunks`] after netCDF-C has defined and closed it.
//!
//! The bytes are what HDF5's own pipeline would store for the variable netCDF-C defined:
//! chunk values row-major, edge chunks padded to the full chunk with the fill value (as HDF5
//! initialises a partial chunk), then the byte shuffle (filter 2), then deflate (filter 1) in
//! the zlib format. libdeflate writes a different (valid) zlib stream than zlib itself, so the
//! compressed bytes differ from the netCDF-C path while every value read back is identical.

use edp_conventions::config::Compression;
use edp_h5chunks::EncodedChunk;
use libdeflater::{CompressionLvl, Compressor};
use rayon::prelude::*;

/// The filters of the data variables (as [`crate::nc::define_data_variable`] asks netCDF-C
/// for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filters {
    /// Byte shuffle before deflate.
    pub shuffle: bool,
    /// Deflate level, `None` for no deflate.
    pub deflate: Option<u8>,
}

impl Filters {
    /// The filters netCDF-C applies for `compression`: shuffle only together with deflate
    /// (`nc_def_var_deflate` sets both or, without zlib, neither).
    pub fn of(compression: &Compression) -> Filters {
        Filters {
            shuffle: compression.zlib && compression.shuffle,
            deflate: compression.zlib.then_some(compression.complevel.min(9)),
        }
    }
}

/// A block of a float32 variable aligned to the chunk grid: `values` (row-major) span `shape`
/// starting at chunk `first_chunk`. Blocks that end inside a chunk must end at the variable's
/// edge (the rest of that chunk is padding).
#[derive(Debug, Clone, Copy)]
pub struct Block<'a> {
    /// The values of the block.
    pub values: &'a [f32],
    /// Extent of the block per dimension.
    pub shape: &'a [usize],
    /// Chunk-grid position of the block's first element.
    pub first_chunk: &'a [usize],
}

/// Encodes every chunk of `block` (chunk extents `chunk`) with `filters`, in parallel, in
/// row-major order of the chunk grid. Padding uses `fill`.
pub fn encode_block(
    block: Block<'_>,
    chunk: &[usize],
    fill: f32,
    filters: Filters,
) -> Result<Vec<EncodedChunk>, EncodeError> {
    let rank = block.shape.len();
    let grid: Vec<usize> = block
        .shape
        .iter()
        .zip(chunk)
        .map(|(len, c)| len.div_ceil((*c).max(1)))
        .collect();
    let count: usize = grid.iter().product();
    let level = filters
        .deflate
        .and_then(|l| CompressionLvl::new(i32::from(l)).ok())
        .unwrap_or_default();
    (0..count)
        .into_par_iter()
        .map_init(
            || (Compressor::new(level), Vec::new(), Vec::new(), Vec::new()),
            |(compressor, gathered, shuffled, scratch), n| {
                let local = unravel(n, &grid);
                gather(block, chunk, &local, fill, gathered);
                let raw: &[u8] = bytemuck_f32(gathered);
                let bytes = if filters.shuffle {
                    shuffle4(raw, shuffled);
                    shuffled.as_slice()
                } else {
                    raw
                };
                let index: Vec<u64> = (0..rank)
                    .map(|d| (block.first_chunk[d] + local[d]) as u64)
                    .collect();
                let encoded = match filters.deflate {
                    Some(_) => zlib(compressor, bytes, scratch).ok_or_else(|| EncodeError {
                        chunk: index.clone(),
                        bytes: bytes.len(),
                    })?,
                    None => bytes.to_vec(),
                };
                Ok(EncodedChunk {
                    index,
                    bytes: encoded,
                })
            },
        )
        .collect()
}

/// libdeflate could not compress a chunk (it reports no reason; with an output buffer of the
/// library's own bound this does not happen).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("libdeflate could not compress chunk {chunk:?} ({bytes} bytes)")]
pub struct EncodeError {
    /// Chunk-grid position.
    pub chunk: Vec<u64>,
    /// Uncompressed size.
    pub bytes: usize,
}

/// The chunk-grid position of the `n`-th chunk in row-major order.
fn unravel(mut n: usize, grid: &[usize]) -> Vec<usize> {
    let mut index = vec![0; grid.len()];
    for d in (0..grid.len()).rev() {
        let g = grid[d].max(1);
        index[d] = n % g;
        n /= g;
    }
    index
}

/// Copies chunk `local` of `block` into `out` (full chunk, row-major), padding with `fill`.
fn gather(block: Block<'_>, chunk: &[usize], local: &[usize], fill: f32, out: &mut Vec<f32>) {
    let rank = block.shape.len();
    let total: usize = chunk.iter().product();
    out.clear();
    out.resize(total, fill);
    if rank == 0 {
        if let (Some(o), Some(v)) = (out.first_mut(), block.values.first()) {
            *o = *v;
        }
        return;
    }
    // Strides of the block; the origin of the chunk inside it; how much of it is inside.
    let mut strides = vec![1usize; rank];
    for d in (0..rank - 1).rev() {
        strides[d] = strides[d + 1] * block.shape[d + 1];
    }
    let origin: Vec<usize> = (0..rank).map(|d| local[d] * chunk[d]).collect();
    let inside: Vec<usize> = (0..rank)
        .map(|d| chunk[d].min(block.shape[d].saturating_sub(origin[d])))
        .collect();
    let row = inside[rank - 1];
    let rows: usize = inside[..rank - 1].iter().product();
    let mut at = vec![0usize; rank - 1];
    for _ in 0..rows {
        let mut src = origin[rank - 1];
        let mut dst = 0;
        let mut dst_stride = chunk[rank - 1];
        for d in (0..rank - 1).rev() {
            src += (origin[d] + at[d]) * strides[d];
            dst += at[d] * dst_stride;
            dst_stride *= chunk[d];
        }
        if let (Some(to), Some(from)) = (
            out.get_mut(dst..dst + row),
            block.values.get(src..src + row),
        ) {
            to.copy_from_slice(from);
        }
        // Next row (odometer over the outer dimensions of the inside extent).
        for d in (0..rank - 1).rev() {
            at[d] += 1;
            if at[d] < inside[d] {
                break;
            }
            at[d] = 0;
        }
    }
}

/// The bytes of float32 values in memory order: the `<f4` that netCDF-C declares on the
/// little-endian machines edp runs on.
fn bytemuck_f32(values: &[f32]) -> &[u8] {
    bytemuck::cast_slice(values)
}

/// HDF5's byte shuffle for 4-byte elements: all first bytes, then all second bytes, ...
fn shuffle4(raw: &[u8], out: &mut Vec<u8>) {
    let n = raw.len() / 4;
    out.clear();
    out.resize(raw.len(), 0);
    let (first, rest) = out.split_at_mut(n);
    let (second, rest) = rest.split_at_mut(n);
    let (third, fourth) = rest.split_at_mut(n);
    for (i, e) in raw.chunks_exact(4).enumerate() {
        first[i] = e[0];
        second[i] = e[1];
        third[i] = e[2];
        fourth[i] = e[3];
    }
}

/// zlib-format deflate of `bytes` (HDF5's deflate filter stores zlib streams), compressed
/// into the thread's `scratch` buffer (grown to libdeflate's bound once) and returned in a
/// buffer of exactly its length: chunks wait in memory until the file is closed, and a
/// buffer of the bound per chunk held 3-4 times the compressed bytes (104 MB instead of 27
/// for a 3-D lat-lon T/S granule).
fn zlib(compressor: &mut Compressor, bytes: &[u8], scratch: &mut Vec<u8>) -> Option<Vec<u8>> {
    let bound = compressor.zlib_compress_bound(bytes.len());
    if scratch.len() < bound {
        scratch.resize(bound, 0);
    }
    let written = compressor.zlib_compress(bytes, scratch).ok()?;
    scratch.get(..written).map(<[u8]>::to_vec)
}

/// Encoded chunks of the data variables of one granule, waiting for netCDF-C to close the
/// file so that they can be written into it.
#[derive(Debug, Default)]
pub struct PendingChunks {
    variables: Vec<(String, Vec<EncodedChunk>)>,
}

impl PendingChunks {
    /// Encodes `block` of variable `name` (see [`encode_block`]) and keeps its chunks.
    pub fn encode(
        &mut self,
        name: &str,
        block: Block<'_>,
        chunk: &[usize],
        filters: Filters,
    ) -> crate::Result<()> {
        let encoded = encode_block(block, chunk, crate::FILL_F32, filters).map_err(|source| {
            crate::GranuleError::Encode {
                variable: name.to_string(),
                source,
            }
        })?;
        match self.variables.iter_mut().find(|(n, _)| n == name) {
            Some((_, chunks)) => chunks.extend(encoded),
            None => self.variables.push((name.to_string(), encoded)),
        }
        Ok(())
    }

    /// Compressed bytes held.
    pub fn bytes(&self) -> usize {
        self.variables
            .iter()
            .flat_map(|(_, c)| c.iter().map(|c| c.bytes.len()))
            .sum()
    }

    /// Writes every kept chunk into the closed netCDF-4 file at `path`.
    pub fn write(self, path: &std::path::Path) -> crate::Result<()> {
        if self.variables.is_empty() {
            return Ok(());
        }
        let variables: Vec<edp_h5chunks::VariableChunks<'_>> = self
            .variables
            .iter()
            .map(|(name, chunks)| edp_h5chunks::VariableChunks { name, chunks })
            .collect();
        edp_h5chunks::write_chunks(path, &variables)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Inverse of the pipeline with an independent zlib (flate2): inflate, unshuffle.
    fn decode(bytes: &[u8], filters: Filters) -> Vec<f32> {
        let mut raw = Vec::new();
        if filters.deflate.is_some() {
            flate2::read::ZlibDecoder::new(bytes)
                .read_to_end(&mut raw)
                .unwrap();
        } else {
            raw = bytes.to_vec();
        }
        let n = raw.len() / 4;
        (0..n)
            .map(|i| {
                let b = |k: usize| {
                    if filters.shuffle {
                        raw[k * n + i]
                    } else {
                        raw[i * 4 + k]
                    }
                };
                f32::from_le_bytes([b(0), b(1), b(2), b(3)])
            })
            .collect()
    }

    #[test]
    fn chunks_hold_their_values_row_major_with_fill_padding() {
        // A 2 x 5 x 3 array in chunks of 2 x 2 x 2: edge chunks along the last two dims.
        let shape = [2, 5, 3];
        let values: Vec<f32> = (0..30).map(|v| v as f32).collect();
        let filters = Filters {
            shuffle: true,
            deflate: Some(5),
        };
        let block = Block {
            values: &values,
            shape: &shape,
            first_chunk: &[0, 0, 0],
        };
        let chunks = encode_block(block, &[2, 2, 2], -1.0, filters).unwrap();
        assert_eq!(chunks.len(), 3 * 2);
        assert_eq!(chunks[0].index, [0, 0, 0]);
        assert_eq!(chunks[5].index, [0, 2, 1]);
        // Chunk (0, 2, 1): rows j = 4..6 (only 4 exists), columns i = 2..4 (only 2 exists).
        let last = decode(&chunks[5].bytes, filters);
        let v = |k: usize, j: usize, i: usize| (k * 15 + j * 3 + i) as f32;
        assert_eq!(
            last,
            [v(0, 4, 2), -1.0, -1.0, -1.0, v(1, 4, 2), -1.0, -1.0, -1.0]
        );
        let first = decode(&chunks[0].bytes, filters);
        assert_eq!(
            first,
            [
                v(0, 0, 0),
                v(0, 0, 1),
                v(0, 1, 0),
                v(0, 1, 1),
                v(1, 0, 0),
                v(1, 0, 1),
                v(1, 1, 0),
                v(1, 1, 1)
            ]
        );
    }

    #[test]
    fn blocks_are_placed_by_their_first_chunk_and_filters_follow_the_configuration() {
        let values: Vec<f32> = (0..8).map(|v| v as f32 * 0.5).collect();
        let plain = Filters {
            shuffle: false,
            deflate: None,
        };
        let block = Block {
            values: &values,
            shape: &[2, 4],
            first_chunk: &[3, 0],
        };
        let chunks = encode_block(block, &[2, 2], 0.0, plain).unwrap();
        assert_eq!(
            chunks.iter().map(|c| c.index.clone()).collect::<Vec<_>>(),
            [vec![3, 0], vec![3, 1]]
        );
        assert_eq!(decode(&chunks[1].bytes, plain), [1.0, 1.5, 3.0, 3.5]);
        let compression = Compression {
            zlib: true,
            complevel: 5,
            shuffle: true,
        };
        assert_eq!(
            Filters::of(&compression),
            Filters {
                shuffle: true,
                deflate: Some(5)
            }
        );
        let off = Compression {
            zlib: false,
            ..compression
        };
        assert_eq!(Filters::of(&off), plain);
    }
}
