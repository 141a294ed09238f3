//! Direct HDF5 chunk I/O for NetCDF-4 granules: the one crate of the workspace with FFI.
//!
//! The granule writers define a file through netCDF-C (dimensions, variables with their
//! chunking, shuffle + deflate filters, fill values and attributes), close it, compress the
//! data chunks themselves on every core, and hand the ready chunks to HDF5 here with
//! `H5Dwrite_chunk`: the compression no longer runs inside libnetcdf behind its global lock.
//! The file stays a netCDF-4 file that `ncdump -hs` describes as before (the metadata is
//! netCDF-C's own; only the chunk bytes come from us).
//!
//! [`chunk_index`] reads back where every variable's bytes sit (`H5Dget_chunk_info`, or the
//! offset and size of a contiguous variable) together with dimensions, types, filters and
//! attributes, so that virtual stores can point at a granule's chunks without opening it.
//!
//! | module | job |
//! |---|---|
//! | `ffi` | the raw HDF5 calls (under the HDF5 lock libnetcdf shares), wrapped in owned handles |
//! | [`index`] | [`chunk_index`]: variables, attributes and chunk locations of a file |
//! | [`write`] | [`write_chunks`]: encoded chunks into the datasets of a closed netCDF-4 file |
//!
//! Every HDF5 call is made with the lock of `hdf5-metno-sys`, which is the lock the `netcdf`
//! crate takes around every libnetcdf call: our calls never interleave with libnetcdf's.

mod error;
mod ffi;
pub mod index;
pub mod write;

pub use error::{H5Error, Result};

/// Switches HDF5's error printing off on the calling thread. Reading a NetCDF file makes
/// netCDF-C probe optional attributes that most files lack; on a thread where printing is on
/// (HDF5 keeps the switch per thread, netCDF-C turns it off only on its first thread), each
/// probe prints a harmless but alarming "HDF5-DIAG" trace. Call it before reading NetCDF on a
/// worker thread; errors still reach the caller as return codes.
pub fn quiet_error_traces() {
    ffi::with_hdf5(|_| ());
}

pub use ffi::{FILE_LOCKING_VARIABLE, disable_file_locking};
pub use index::chunk_index;
pub use write::{EncodedChunk, VariableChunks, write_chunks};
