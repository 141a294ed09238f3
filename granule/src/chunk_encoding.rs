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
use std::cell::RefCell;

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
    (0..count)
        .into_par_iter()
        .map(|n| {
            let local = unravel(n, &grid);
            let index: Vec<u64> = (0..rank)
                .map(|d| (block.first_chunk[d] + local[d]) as u64)
                .collect();
            let bytes = with_scratch(|scratch| {
                gather_bytes(
                    block,
                    chunk,
                    &local,
                    fill,
                    filters.shuffle,
                    &mut scratch.chunk,
                );
                match filters.deflate {
                    Some(level) => scratch.zlib(level).map_err(|bytes| EncodeError {
                        chunk: index.clone(),
                        bytes,
                    }),
                    None => Ok(scratch.chunk.clone()),
                }
            })?;
            Ok(EncodedChunk { index, bytes })
        })
        .collect()
}

/// The buffers one thread encodes chunks in, kept from chunk to chunk and from granule to
/// granule: a 3-D lat-lon chunk is 6.5 MB, and buffers allocated afresh for every batch of
/// chunks came from the kernel each time, faulted in and zeroed 4 kB at a time.
#[derive(Default)]
struct Scratch {
    /// The chunk's bytes as the deflate filter receives them (shuffled or not).
    chunk: Vec<u8>,
    /// libdeflate's output, grown to its bound once.
    compressed: Vec<u8>,
    /// The compressor and its level (its tables are allocated once per thread and level).
    compressor: Option<(u8, Compressor)>,
}

impl Scratch {
    /// zlib-format deflate of `self.chunk` at `level` (HDF5's deflate filter stores zlib
    /// streams), returned in a buffer of exactly its length: chunks wait in memory until the
    /// file is closed, and a buffer of the bound per chunk held 3-4 times the compressed bytes
    /// (104 MB instead of 27 for a 3-D lat-lon T/S granule). On failure, the size of the
    /// input.
    fn zlib(&mut self, level: u8) -> Result<Vec<u8>, usize> {
        let compressor = match &mut self.compressor {
            Some((l, compressor)) if *l == level => compressor,
            slot => {
                let lvl = CompressionLvl::new(i32::from(level)).unwrap_or_default();
                &mut slot.insert((level, Compressor::new(lvl))).1
            }
        };
        let bound = compressor.zlib_compress_bound(self.chunk.len());
        if self.compressed.len() < bound {
            self.compressed.resize(bound, 0);
        }
        let written = compressor
            .zlib_compress(&self.chunk, &mut self.compressed)
            .map_err(|_| self.chunk.len())?;
        self.compressed
            .get(..written)
            .map(<[u8]>::to_vec)
            .ok_or(self.chunk.len())
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's [`Scratch`] (or, should it be in use further up this thread's
/// stack, with buffers of its own).
fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::default()),
    })
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

/// Writes chunk `local` of `block` into `out` as the bytes the deflate filter receives: the
/// full chunk row-major in `<f4` (the byte order netCDF-C declares on the little-endian
/// machines edp runs on), padded with `fill`, and with `shuffle` HDF5's byte shuffle (all
/// first bytes, then all second bytes, ...). Gathering straight into the shuffled planes
/// saves a pass and a chunk-sized buffer.
fn gather_bytes(
    block: Block<'_>,
    chunk: &[usize],
    local: &[usize],
    fill: f32,
    shuffle: bool,
    out: &mut Vec<u8>,
) {
    let rank = block.shape.len();
    let total: usize = chunk.iter().product();
    if rank == 0 {
        let value = block.values.first().copied().unwrap_or(fill);
        out.clear();
        out.extend_from_slice(&value.to_le_bytes());
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
    let fill = fill.to_le_bytes();
    out.resize(total * 4, 0);
    // The buffer holds the previous chunk's bytes: anything the rows below do not write must
    // be fill. Only an edge chunk has padding, and only a block with fewer values than its
    // shape (a caller's bug, not an input) has rows missing; every byte of the others is
    // written below.
    let complete = block.values.len() >= block.shape.iter().product::<usize>();
    if inside != chunk || !complete {
        if shuffle {
            for (plane, byte) in out.chunks_exact_mut(total).zip(fill) {
                plane.fill(byte);
            }
        } else {
            for value in out.chunks_exact_mut(4) {
                value.copy_from_slice(&fill);
            }
        }
    }
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
        if let Some(from) = block.values.get(src..src + row) {
            if shuffle {
                scatter_planes(from, out, total, dst);
            } else if let Some(to) = out.get_mut(dst * 4..(dst + row) * 4) {
                to.copy_from_slice(bytemuck::cast_slice(from));
            }
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

/// Writes the bytes of `values` into the four byte planes of `out` (each `plane` long),
/// starting at element `at` of each plane.
fn scatter_planes(values: &[f32], out: &mut [u8], plane: usize, at: usize) {
    let (first, rest) = out.split_at_mut(plane);
    let (second, rest) = rest.split_at_mut(plane);
    let (third, fourth) = rest.split_at_mut(plane);
    let end = at + values.len();
    let (Some(first), Some(second), Some(third), Some(fourth)) = (
        first.get_mut(at..end),
        second.get_mut(at..end),
        third.get_mut(at..end),
        fourth.get_mut(at..end),
    ) else {
        return;
    };
    // Zipped iterators (no index checks) let the compiler vectorise the byte split.
    let planes = first
        .iter_mut()
        .zip(second)
        .zip(third.iter_mut().zip(fourth));
    for (((b0, b1), (b2, b3)), value) in planes.zip(values) {
        let bits = value.to_bits();
        *b0 = bits as u8;
        *b1 = (bits >> 8) as u8;
        *b2 = (bits >> 16) as u8;
        *b3 = (bits >> 24) as u8;
    }
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
    fn buffers_kept_from_a_larger_chunk_leave_nothing_in_the_next_ones() {
        // One thread, so every chunk below goes through the same kept buffers: a large chunk
        // of distinct values, then small ones with and without padding, shuffled or not.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        pool.install(|| {
            let large: Vec<f32> = (0..4096).map(|v| v as f32 + 0.25).collect();
            let shuffled = Filters {
                shuffle: true,
                deflate: Some(5),
            };
            let block = Block {
                values: &large,
                shape: &[64, 64],
                first_chunk: &[0, 0],
            };
            let chunks = encode_block(block, &[64, 64], -1.0, shuffled).unwrap();
            assert_eq!(decode(&chunks[0].bytes, shuffled), large);

            let small: Vec<f32> = (0..6).map(|v| -(v as f32)).collect();
            let block = Block {
                values: &small,
                shape: &[2, 3],
                first_chunk: &[0, 0],
            };
            for filters in [
                shuffled,
                Filters {
                    shuffle: false,
                    deflate: Some(1),
                },
                Filters {
                    shuffle: false,
                    deflate: None,
                },
            ] {
                let chunks = encode_block(block, &[2, 2], 7.0, filters).unwrap();
                assert_eq!(decode(&chunks[0].bytes, filters), [-0.0, -1.0, -3.0, -4.0]);
                assert_eq!(decode(&chunks[1].bytes, filters), [-2.0, 7.0, -5.0, 7.0]);
            }

            // A block with fewer values than its shape, after the large chunk filled the
            // buffers: its missing row is fill, not the large chunk's bytes.
            for filters in [
                shuffled,
                Filters {
                    shuffle: false,
                    deflate: None,
                },
            ] {
                let block = Block {
                    values: &large,
                    shape: &[64, 64],
                    first_chunk: &[0, 0],
                };
                encode_block(block, &[64, 64], -1.0, filters).unwrap();
                let short = Block {
                    values: &small[..4],
                    shape: &[2, 3],
                    first_chunk: &[0, 0],
                };
                let chunks = encode_block(short, &[2, 3], 7.0, filters).unwrap();
                assert_eq!(
                    decode(&chunks[0].bytes, filters),
                    [-0.0, -1.0, -2.0, 7.0, 7.0, 7.0]
                );
            }
        });
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
