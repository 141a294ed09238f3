//! The raw HDF5 calls, each wrapped so that the rest of the crate is safe code: handles are
//! owned values closed on drop, pointers always come from live Rust buffers of the right
//! length, and every call runs inside [`with_hdf5`], which holds the HDF5 lock.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::os::raw::c_uint;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use hdf5_sys::h5::{HADDR_UNDEF, haddr_t, hsize_t};
use hdf5_sys::h5d::{
    H5D_layout_t, H5Dclose, H5Dget_chunk_info, H5Dget_create_plist, H5Dget_num_chunks,
    H5Dget_offset, H5Dget_space, H5Dget_storage_size, H5Dopen2, H5Dwrite_chunk,
};
use hdf5_sys::h5e::{H5E_DEFAULT, H5Eset_auto2};
use hdf5_sys::h5f::{H5F_ACC_RDONLY, H5F_ACC_RDWR, H5Fclose, H5Fopen};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::{
    H5P_CLS_FILE_ACCESS, H5P_DEFAULT, H5Pclose, H5Pcreate, H5Pget_chunk, H5Pget_filter2,
    H5Pget_layout, H5Pget_nfilters, H5Pset_file_locking,
};
use hdf5_sys::h5s::{H5Sclose, H5Sget_simple_extent_ndims};

/// Proof that the HDF5 lock is held: only [`with_hdf5`] makes one.
pub(crate) struct Locked(());

/// Runs `work` with the HDF5 lock held (the lock every libnetcdf call of the `netcdf` crate
/// takes; re-entrant, so netCDF calls inside `work` on this thread are fine), with HDF5's
/// error printing off on this thread: failures are reported as [`crate::H5Error`] instead of
/// "HDF5-DIAG" traces on stderr.
pub(crate) fn with_hdf5<T>(work: impl FnOnce(&Locked) -> T) -> T {
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: the lock is held; H5Eset_auto2 with the default stack and no function only
    // switches printing off for this thread (a thread-safe build keeps it per thread).
    unsafe {
        H5Eset_auto2(H5E_DEFAULT, None, std::ptr::null_mut());
    }
    work(&Locked(()))
}

/// A path as a C string (`None` when it holds a NUL byte).
fn c_path(path: &Path) -> Option<CString> {
    CString::new(path.as_os_str().as_bytes()).ok()
}

/// An open HDF5 file, closed on drop.
pub(crate) struct File<'l> {
    id: hid_t,
    _lock: &'l Locked,
}

impl<'l> File<'l> {
    /// Opens `path` for reading, or for reading and writing.
    pub(crate) fn open(lock: &'l Locked, path: &Path, write: bool) -> Option<File<'l>> {
        let name = c_path(path)?;
        let flags = if write { H5F_ACC_RDWR } else { H5F_ACC_RDONLY };
        // File locking off for this open: the file is a granule this process just wrote (under
        // its temporary name) or is indexing, and a child process started elsewhere in this
        // process (fork + exec) inherits HDF5's descriptors of files that were open at that
        // moment, together with their `flock`, which would make this reopen fail.
        // SAFETY: the lock is held; H5Pcreate takes the file-access class id, which HDF5 set
        // when libnetcdf initialised it.
        let fapl = unsafe { H5Pcreate(*H5P_CLS_FILE_ACCESS) };
        if fapl < 0 {
            return None;
        }
        // SAFETY: `fapl` is a valid property list; `name` is a NUL-terminated string alive for
        // the call; the lock is held. `fapl` is closed once, after the open.
        let id = unsafe {
            H5Pset_file_locking(fapl, 0, 1);
            let id = H5Fopen(name.as_ptr(), flags, fapl);
            H5Pclose(fapl);
            id
        };
        (id >= 0).then_some(File { id, _lock: lock })
    }

    /// Closes the file, reporting whether HDF5 could flush and close it.
    pub(crate) fn close(mut self) -> bool {
        let id = std::mem::replace(&mut self.id, -1);
        // SAFETY: `id` is an open file handle owned by this value; it is not used again.
        unsafe { H5Fclose(id) >= 0 }
    }

    /// Opens dataset `name` (a variable of the root group).
    pub(crate) fn dataset(&self, name: &str) -> Option<Dataset<'_>> {
        let cname = CString::new(name).ok()?;
        // SAFETY: open file handle, NUL-terminated name alive for the call, lock held.
        let id = unsafe { H5Dopen2(self.id, cname.as_ptr(), H5P_DEFAULT) };
        (id >= 0).then_some(Dataset { id, _file: self })
    }
}

impl Drop for File<'_> {
    fn drop(&mut self) {
        if self.id >= 0 {
            // SAFETY: an open file handle owned by this value (an error path: the result is
            // irrelevant, the caller reports the earlier failure).
            unsafe {
                H5Fclose(self.id);
            }
        }
    }
}

/// The storage layout of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Chunked with these chunk extents.
    Chunked(Vec<u64>),
    /// One contiguous block.
    Contiguous,
    /// Data inside the object header (no byte range of its own).
    Compact,
}

/// A filter of a chunked dataset's pipeline: HDF5 filter id and its client values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) id: i32,
    pub(crate) values: Vec<u32>,
}

/// One stored chunk as HDF5 reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkInfo<'a> {
    pub(crate) element_offset: &'a [u64],
    pub(crate) address: u64,
    pub(crate) size: u64,
}

/// An open dataset, closed on drop.
pub(crate) struct Dataset<'f> {
    id: hid_t,
    _file: &'f File<'f>,
}

/// Closes a property list or dataspace on drop.
struct Plist(hid_t);

impl Drop for Plist {
    fn drop(&mut self) {
        // SAFETY: a property list handle owned by this value.
        unsafe {
            H5Pclose(self.0);
        }
    }
}

struct Space(hid_t);

impl Drop for Space {
    fn drop(&mut self) {
        // SAFETY: a dataspace handle owned by this value.
        unsafe {
            H5Sclose(self.0);
        }
    }
}

impl Dataset<'_> {
    fn create_plist(&self) -> Option<Plist> {
        // SAFETY: open dataset handle; the returned list is closed by `Plist`.
        let id = unsafe { H5Dget_create_plist(self.id) };
        (id >= 0).then_some(Plist(id))
    }

    fn space(&self) -> Option<Space> {
        // SAFETY: open dataset handle; the returned dataspace is closed by `Space`.
        let id = unsafe { H5Dget_space(self.id) };
        (id >= 0).then_some(Space(id))
    }

    /// Number of dimensions.
    pub(crate) fn rank(&self) -> Option<usize> {
        let space = self.space()?;
        // SAFETY: open dataspace handle.
        let n = unsafe { H5Sget_simple_extent_ndims(space.0) };
        usize::try_from(n).ok()
    }

    /// The storage layout (chunk extents of a chunked dataset).
    pub(crate) fn layout(&self) -> Option<Layout> {
        let plist = self.create_plist()?;
        // SAFETY: open property list handle.
        let layout = unsafe { H5Pget_layout(plist.0) };
        match layout {
            H5D_layout_t::H5D_CHUNKED => {
                let rank = self.rank()?;
                let mut dims = vec![0 as hsize_t; rank.max(1)];
                let max = i32::try_from(dims.len()).ok()?;
                // SAFETY: `dims` has room for `max` extents.
                let n = unsafe { H5Pget_chunk(plist.0, max, dims.as_mut_ptr()) };
                let n = usize::try_from(n).ok()?;
                dims.truncate(n);
                Some(Layout::Chunked(dims))
            }
            H5D_layout_t::H5D_CONTIGUOUS => Some(Layout::Contiguous),
            H5D_layout_t::H5D_COMPACT => Some(Layout::Compact),
            _ => None,
        }
    }

    /// The filter pipeline, in the order HDF5 applies it when writing.
    pub(crate) fn filters(&self) -> Option<Vec<Filter>> {
        let plist = self.create_plist()?;
        // SAFETY: open property list handle.
        let n = unsafe { H5Pget_nfilters(plist.0) };
        let n = c_uint::try_from(n).ok()?;
        let mut filters = Vec::new();
        for index in 0..n {
            let mut flags: c_uint = 0;
            let mut values = [0 as c_uint; 8];
            let mut count: usize = values.len();
            let mut name = [0 as std::os::raw::c_char; 64];
            let mut config: c_uint = 0;
            // SAFETY: every out pointer points at a live buffer; `count` and the name length
            // tell HDF5 how much room there is.
            let id = unsafe {
                H5Pget_filter2(
                    plist.0,
                    index,
                    &mut flags,
                    &mut count,
                    values.as_mut_ptr(),
                    name.len(),
                    name.as_mut_ptr(),
                    &mut config,
                )
            };
            if id < 0 {
                return None;
            }
            let kept = count.min(values.len());
            filters.push(Filter {
                id,
                values: values[..kept].to_vec(),
            });
        }
        Some(filters)
    }

    /// Calls `each` with every stored chunk (in HDF5's index order).
    pub(crate) fn for_each_chunk(&self, mut each: impl FnMut(ChunkInfo<'_>)) -> Option<()> {
        let rank = self.rank()?;
        let space = self.space()?;
        let mut count: hsize_t = 0;
        // SAFETY: open dataset and dataspace handles; `count` is a live out value.
        if unsafe { H5Dget_num_chunks(self.id, space.0, &mut count) } < 0 {
            return None;
        }
        let mut offset = vec![0 as hsize_t; rank.max(1)];
        for index in 0..count {
            let mut mask: c_uint = 0;
            let mut address: haddr_t = 0;
            let mut size: hsize_t = 0;
            // SAFETY: `offset` holds `rank` extents (the dataset's rank); the other out
            // pointers are live values.
            let status = unsafe {
                H5Dget_chunk_info(
                    self.id,
                    space.0,
                    index,
                    offset.as_mut_ptr(),
                    &mut mask,
                    &mut address,
                    &mut size,
                )
            };
            if status < 0 {
                return None;
            }
            each(ChunkInfo {
                element_offset: &offset[..rank],
                address,
                size,
            });
        }
        Some(())
    }

    /// Byte offset and stored size of a contiguous dataset (`None` offset when no storage is
    /// allocated).
    pub(crate) fn contiguous_extent(&self) -> (Option<u64>, u64) {
        // SAFETY: open dataset handle.
        let (address, size) = unsafe { (H5Dget_offset(self.id), H5Dget_storage_size(self.id)) };
        ((address != HADDR_UNDEF).then_some(address), size)
    }

    /// Writes one encoded chunk whose first element is at `element_offset`, with every
    /// filter of the pipeline applied (filter mask 0).
    pub(crate) fn write_chunk(&self, element_offset: &[u64], bytes: &[u8]) -> bool {
        // SAFETY: open dataset handle; `element_offset` holds one extent per dimension
        // (checked by the caller against the rank); `bytes` is live for the call and its
        // length is passed with it.
        unsafe {
            H5Dwrite_chunk(
                self.id,
                H5P_DEFAULT,
                0,
                element_offset.as_ptr(),
                bytes.len(),
                bytes.as_ptr().cast(),
            ) >= 0
        }
    }
}

impl Drop for Dataset<'_> {
    fn drop(&mut self) {
        // SAFETY: an open dataset handle owned by this value.
        unsafe {
            H5Dclose(self.id);
        }
    }
}

/// The environment variable through which HDF5 (1.10.1 and later) takes its file-locking
/// setting at every file open, overriding what a file-access property list says.
pub const FILE_LOCKING_VARIABLE: &str = "HDF5_USE_FILE_LOCKING";

/// Turns HDF5's file locks off for this process and every process it starts, unless
/// [`FILE_LOCKING_VARIABLE`] is already set (an explicit choice is kept). Call it first in
/// `main`, before any other thread exists.
///
/// Why: HDF5 1.10 takes an `flock` on every file it opens and releases it only by closing the
/// descriptor. A process started while a granule is open (fork + exec) inherits that
/// descriptor, and with it the lock, for as long as it lives; the writer's own reopen of the
/// finished granule (to index its chunks) then fails with "NetCDF: HDF error". netCDF-C opens
/// files with its own property lists, so the environment is the only switch that reaches it.
/// The locks protect nothing here: a granule is written under a temporary name by one task
/// and renamed once complete, so no reader ever sees a file that is being written.
pub fn disable_file_locking() {
    if std::env::var_os(FILE_LOCKING_VARIABLE).is_none() {
        // SAFETY: called at the start of `main`, before any thread that could read or write
        // the environment concurrently has been started.
        unsafe {
            std::env::set_var(FILE_LOCKING_VARIABLE, "FALSE");
        }
    }
}
