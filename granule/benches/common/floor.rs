//! The "compression floor" of a granule, shared by the benchmark programs: the time to
//! shuffle + deflate (level 5, zlib, one thread, as HDF5's filters) the granule's data
//! variables in their chunks, which no writer can beat.

use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

/// The chunks of every data variable of `granule` as they are stored before filtering: the
/// same values, the same chunking, edge chunks padded with fill like HDF5.
pub fn granule_chunks(granule: &Path, names: &[String]) -> Vec<Vec<u8>> {
    let file = netcdf::open(granule).unwrap();
    let mut chunks_bytes: Vec<Vec<u8>> = Vec::new();
    for name in names {
        let var = file.variable(name).unwrap();
        let shape: Vec<usize> = var.dimensions().iter().map(|d| d.len()).collect();
        let chunk = var.chunking().unwrap().unwrap();
        let values = var.get_values::<f32, _>(..).unwrap();
        chunks_bytes.extend(split_chunks(&values, &shape, &chunk));
    }
    chunks_bytes
}

/// The compression floor: shuffle + deflate-5 (zlib, as HDF5's filters) of `chunks` on one
/// thread. Returns (seconds, compressed bytes).
pub fn compression_floor(chunks: &[Vec<u8>]) -> (f64, usize) {
    let started = Instant::now();
    let mut total = 0usize;
    for raw in chunks {
        let shuffled = shuffle(raw, 4);
        let mut enc = flate2::write::ZlibEncoder::new(
            Vec::with_capacity(raw.len() / 2),
            flate2::Compression::new(5),
        );
        enc.write_all(&shuffled).unwrap();
        total += enc.finish().unwrap().len();
    }
    (started.elapsed().as_secs_f64(), total)
}

/// The chunks of a row-major array as little-endian bytes, each a full chunk (padded).
fn split_chunks(values: &[f32], shape: &[usize], chunk: &[usize]) -> Vec<Vec<u8>> {
    let counts: Vec<usize> = shape
        .iter()
        .zip(chunk)
        .map(|(s, c)| s.div_ceil(*c))
        .collect();
    let n_chunks: usize = counts.iter().product();
    let chunk_len: usize = chunk.iter().product();
    let strides: Vec<usize> = (0..shape.len())
        .map(|d| shape[d + 1..].iter().product())
        .collect();
    let mut out = Vec::with_capacity(n_chunks);
    for c in 0..n_chunks {
        // Chunk origin.
        let mut rest = c;
        let mut origin = vec![0; shape.len()];
        for d in (0..shape.len()).rev() {
            origin[d] = (rest % counts[d]) * chunk[d];
            rest /= counts[d];
        }
        let mut bytes = Vec::with_capacity(chunk_len * 4);
        for e in 0..chunk_len {
            let mut rest = e;
            let mut flat = 0;
            let mut inside = true;
            for d in (0..shape.len()).rev() {
                let pos = origin[d] + rest % chunk[d];
                rest /= chunk[d];
                inside &= pos < shape[d];
                flat += pos * strides[d];
            }
            let v = if inside {
                values[flat]
            } else {
                edp_granule::FILL_F32
            };
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        out.push(bytes);
    }
    out
}

/// HDF5's shuffle filter: byte `b` of every element together.
fn shuffle(raw: &[u8], size: usize) -> Vec<u8> {
    let n = raw.len() / size;
    let mut out = vec![0u8; raw.len()];
    for (e, element) in raw.chunks_exact(size).enumerate() {
        for (b, byte) in element.iter().enumerate() {
            out[b * n + e] = *byte;
        }
    }
    out
}
