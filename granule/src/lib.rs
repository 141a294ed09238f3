//! CF-1.8 / ACDD-1.3 NetCDF-4 granule writers for the native LLC grid and the lat-lon grid.
//!
//! libnetcdf holds a global lock: decode, mask and regrid in parallel, write on one thread.
