//! The chunk index of a granule: where every variable's bytes sit inside the NetCDF-4/HDF5
//! file, and how they are encoded.
//!
//! The granule writer records it in the granule's ledger record at write time (HDF5's
//! `H5Dget_chunk_info` on the finished file), so that virtual stores (kerchunk references,
//! Icechunk repositories) can point at the chunks of a dataset's granules without opening
//! them. It also carries the attributes a Zarr view needs, so that builders of those views
//! (which run in the Lambdas, without libnetcdf) never read a granule.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The storage layout of one granule file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChunkIndex {
    /// Global attributes of the file (NetCDF attribute values as JSON: numbers, strings, or
    /// arrays of numbers).
    #[serde(default)]
    pub attributes: IndexMap<String, serde_json::Value>,
    /// Every variable of the file (data, coordinates and bounds), in file order.
    pub variables: Vec<StoredVariable>,
}

/// One variable of a granule and where its bytes are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StoredVariable {
    /// Variable name.
    pub name: String,
    /// Dimension names, outermost first.
    pub dimensions: Vec<String>,
    /// Extent of each dimension.
    pub shape: Vec<u64>,
    /// Element type as a NumPy type string, e.g. `<f4`, `<f8`, `<i4`, `<i8`, `|u1`.
    pub dtype: String,
    /// Chunk extent per dimension; `None` for a contiguous (unchunked) variable, whose single
    /// entry in `chunks` covers the whole array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_shape: Option<Vec<u64>>,
    /// Filters in the order HDF5 applies them when writing (e.g. shuffle, then deflate).
    #[serde(default)]
    pub filters: Vec<StorageFilter>,
    /// The `_FillValue` attribute, when the variable has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_value: Option<f64>,
    /// Variable attributes (without `_FillValue`, which is `fill_value`), as JSON values.
    #[serde(default)]
    pub attributes: IndexMap<String, serde_json::Value>,
    /// Every stored chunk, in row-major order of the chunk grid. Chunks never written (all
    /// fill) are absent.
    pub chunks: Vec<StoredChunk>,
}

/// An HDF5 filter of a chunked variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "id", rename_all = "lowercase")]
pub enum StorageFilter {
    /// HDF5 byte shuffle (filter 2).
    Shuffle {
        /// Element size in bytes.
        element_size: u32,
    },
    /// zlib deflate (filter 1).
    Deflate {
        /// Compression level 0-9.
        level: u32,
    },
}

/// Chunks of at most this many stored bytes carry their bytes in the index
/// ([`StoredChunk::inline`]): every granule's `time` (4 bytes) and `time_bnds` (8 bytes), so
/// that a virtual store holds the whole time axis and opening it reads no granule.
pub const INLINE_CHUNK_MAX_BYTES: u64 = 64;

/// One stored chunk of a variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StoredChunk {
    /// Position in the chunk grid (element offset divided by the chunk extent), one entry per
    /// dimension.
    pub index: Vec<u64>,
    /// Byte offset in the file.
    pub offset: u64,
    /// Stored (encoded) length in bytes.
    pub length: u64,
    /// The stored bytes themselves, base64 (standard alphabet, padded), for chunks of at most
    /// [`INLINE_CHUNK_MAX_BYTES`] bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_index_round_trips_with_tagged_filters() {
        let text = r#"{"variables": [{"name": "SSH", "dimensions": ["time", "tile", "j", "i"],
            "shape": [1, 13, 90, 90], "dtype": "<f4", "chunk_shape": [1, 13, 90, 90],
            "filters": [{"id": "shuffle", "element_size": 4}, {"id": "deflate", "level": 5}],
            "fill_value": 9.969209968386869e36,
            "chunks": [{"index": [0, 0, 0, 0], "offset": 4096, "length": 123}]}]}"#;
        let index: ChunkIndex = serde_json::from_str(text).unwrap();
        let ssh = &index.variables[0];
        assert_eq!(
            ssh.filters,
            [
                StorageFilter::Shuffle { element_size: 4 },
                StorageFilter::Deflate { level: 5 }
            ]
        );
        assert_eq!(ssh.chunks[0].offset, 4096);
        assert!(index.attributes.is_empty());
        let back = serde_json::to_value(&index).unwrap();
        assert_eq!(back["variables"][0]["filters"][1]["id"], "deflate");
    }
}
