//! Writing encoded chunks into the datasets of a netCDF-4 file that netCDF-C defined.

use std::path::Path;

use crate::error::{H5Error, Result};
use crate::ffi::{File, Layout, with_hdf5};

/// One chunk ready for the file: its position in the chunk grid and its bytes with every
/// filter of the variable applied (e.g. shuffle, then deflate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedChunk {
    /// Position in the chunk grid, one entry per dimension (element offset / chunk extent).
    pub index: Vec<u64>,
    /// The stored bytes.
    pub bytes: Vec<u8>,
}

/// The encoded chunks of one variable.
#[derive(Debug, Clone, Copy)]
pub struct VariableChunks<'a> {
    /// Variable (dataset) name in the root group.
    pub name: &'a str,
    /// Its chunks; chunks not given stay unwritten (read back as the fill value).
    pub chunks: &'a [EncodedChunk],
}

/// Writes the chunks of `variables` into the closed netCDF-4 file `path` with
/// `H5Dwrite_chunk`, then closes it. Each variable must be chunked with the rank of its
/// chunks' indices; the bytes are written as they are (HDF5 neither checks nor re-encodes
/// them), so they must be what the variable's filters produce.
pub fn write_chunks(path: &Path, variables: &[VariableChunks<'_>]) -> Result<()> {
    let fail = |what: String| H5Error::Hdf5 {
        path: path.to_path_buf(),
        what,
    };
    with_hdf5(|lock| {
        let file = File::open(lock, path, true).ok_or_else(|| fail("open for writing".into()))?;
        for variable in variables {
            let name = variable.name;
            let dataset = file
                .dataset(name)
                .ok_or_else(|| fail(format!("open variable {name}")))?;
            let Some(Layout::Chunked(extents)) = dataset.layout() else {
                return Err(H5Error::Mismatch {
                    path: path.to_path_buf(),
                    what: format!("storage of variable {name}"),
                    expected: "a chunked variable".into(),
                    found: format!("{:?}", dataset.layout()),
                });
            };
            for chunk in variable.chunks {
                if chunk.index.len() != extents.len() {
                    return Err(H5Error::Mismatch {
                        path: path.to_path_buf(),
                        what: format!("chunk {:?} of variable {name}", chunk.index),
                        expected: format!("{} chunk coordinates", extents.len()),
                        found: format!("{}", chunk.index.len()),
                    });
                }
                let offset: Vec<u64> = chunk
                    .index
                    .iter()
                    .zip(&extents)
                    .map(|(i, e)| i * e)
                    .collect();
                if !dataset.write_chunk(&offset, &chunk.bytes) {
                    return Err(fail(format!(
                        "write chunk {:?} ({} bytes) of variable {name}",
                        chunk.index,
                        chunk.bytes.len()
                    )));
                }
            }
        }
        if file.close() {
            Ok(())
        } else {
            Err(fail("close after writing chunks".into()))
        }
    })
}
