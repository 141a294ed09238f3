//! NetCDF helpers shared by the native and lat-lon writers: attributes from
//! [`edp_conventions::attrs::Attrs`], coordinate variables (contiguous, uncompressed, no
//! `_FillValue`) and data variables (float32, `_FillValue`, explicit chunks, deflate +
//! shuffle), with every library error naming the file and the step.
//!
//! All functions run on the calling thread: libnetcdf holds a global lock, so the writers
//! prepare values in parallel first and call these one after another.

use std::path::Path;

use edp_conventions::attrs::{AttrValue, Attrs};
use edp_conventions::config::Compression;
use netcdf::{AttributeValue, FileMut, NcTypeDescriptor};

use crate::encoding::{FILL_F32, default_chunk_sizes};
use crate::error::{GranuleError, Result, nc_err};

/// The NetCDF value of an attribute: text → NC_CHAR, `F64` → NC_DOUBLE, `F32` → NC_FLOAT,
/// `I32` → NC_INT, arrays likewise, text lists → NC_STRING arrays.
pub fn nc_value(value: &AttrValue) -> AttributeValue {
    match value {
        AttrValue::Str(s) => AttributeValue::Str(s.clone()),
        AttrValue::F64(v) => AttributeValue::Double(*v),
        AttrValue::F32(v) => AttributeValue::Float(*v),
        AttrValue::I32(v) => AttributeValue::Int(*v),
        AttrValue::F64s(v) => AttributeValue::Doubles(v.clone()),
        AttrValue::I32s(v) => AttributeValue::Ints(v.clone()),
        AttrValue::Strs(v) => AttributeValue::Strs(v.clone()),
    }
}

/// Writes `attrs` (in order) on variable `var` of `file`.
pub fn put_variable_attributes(
    file: &mut FileMut,
    path: &Path,
    var: &str,
    attrs: &Attrs,
) -> Result<()> {
    let mut variable = file.variable_mut(var).ok_or_else(|| GranuleError::NetCdf {
        path: path.to_path_buf(),
        what: format!("find variable {var} to write its attributes"),
        source: netcdf::Error::NotFound(var.to_string()),
    })?;
    for (name, value) in attrs {
        variable
            .put_attribute(name, nc_value(value))
            .map_err(nc_err(path, format!("write attribute {var}:{name}")))?;
    }
    Ok(())
}

/// Writes `attrs` (in order) as global attributes.
pub fn put_global_attributes(file: &mut FileMut, path: &Path, attrs: &Attrs) -> Result<()> {
    for (name, value) in attrs {
        file.add_attribute(name, nc_value(value))
            .map_err(nc_err(path, format!("write global attribute {name}")))?;
    }
    Ok(())
}

/// Adds the dimensions `(name, len)` in order.
pub fn add_dimensions(file: &mut FileMut, path: &Path, dims: &[(&str, usize)]) -> Result<()> {
    for (name, len) in dims {
        file.add_dimension(name, *len)
            .map_err(nc_err(path, format!("add dimension {name} = {len}")))?;
    }
    Ok(())
}

/// Defines a coordinate variable of type `T` (contiguous, uncompressed, no `_FillValue`) with
/// `attrs`; write its values later with [`put_values`].
pub fn define_coordinate<T: NcTypeDescriptor>(
    file: &mut FileMut,
    path: &Path,
    name: &str,
    dims: &[&str],
    attrs: &Attrs,
) -> Result<()> {
    file.add_variable::<T>(name, dims)
        .map_err(nc_err(path, format!("add coordinate {name}{dims:?}")))?;
    put_variable_attributes(file, path, name, attrs)
}

/// Defines a float32 data variable with `_FillValue` = [`FILL_F32`] (first attribute, as
/// xarray writes it), netCDF-C's default chunk sizes for `shape` (written explicitly), the
/// configured deflate level and shuffle, and `attrs`.
pub fn define_data_variable(
    file: &mut FileMut,
    path: &Path,
    name: &str,
    dims: &[&str],
    shape: &[usize],
    compression: &Compression,
    attrs: &Attrs,
) -> Result<Vec<usize>> {
    let chunks = default_chunk_sizes(shape, std::mem::size_of::<f32>());
    {
        let mut var = file
            .add_variable::<f32>(name, dims)
            .map_err(nc_err(path, format!("add variable {name}{dims:?}")))?;
        var.set_chunking(&chunks)
            .map_err(nc_err(path, format!("set chunks {chunks:?} of {name}")))?;
        if compression.zlib {
            var.set_compression(i32::from(compression.complevel), compression.shuffle)
                .map_err(nc_err(
                    path,
                    format!("set deflate {} of {name}", compression.complevel),
                ))?;
        }
        var.set_fill_value(FILL_F32)
            .map_err(nc_err(path, format!("set _FillValue of {name}")))?;
    }
    put_variable_attributes(file, path, name, attrs)?;
    Ok(chunks)
}

/// Writes all values of variable `name` (row-major, whole variable).
pub fn put_values<T: NcTypeDescriptor>(
    file: &mut FileMut,
    path: &Path,
    name: &str,
    values: &[T],
) -> Result<()> {
    let mut var = file
        .variable_mut(name)
        .ok_or_else(|| GranuleError::NetCdf {
            path: path.to_path_buf(),
            what: format!("find variable {name} to write its values"),
            source: netcdf::Error::NotFound(name.to_string()),
        })?;
    var.put_values(values, ..).map_err(nc_err(
        path,
        format!("write {} values of {name}", values.len()),
    ))
}

/// Writes the hyperslab of variable `name` that starts at `start` and spans `count` values
/// along each dimension (row-major values). The lat-lon writer writes 3-D variables in slabs
/// of whole chunks along `Z`, so HDF5 compresses every chunk once, when it is complete.
pub fn put_slab<T: NcTypeDescriptor>(
    file: &mut FileMut,
    path: &Path,
    name: &str,
    start: &[usize],
    count: &[usize],
    values: &[T],
) -> Result<()> {
    let mut var = file
        .variable_mut(name)
        .ok_or_else(|| GranuleError::NetCdf {
            path: path.to_path_buf(),
            what: format!("find variable {name} to write its values"),
            source: netcdf::Error::NotFound(name.to_string()),
        })?;
    var.put_values(values, (start, count)).map_err(nc_err(
        path,
        format!(
            "write {} values of {name} at {start:?} (count {count:?})",
            values.len()
        ),
    ))
}

/// `f64` grid values as float32 (coordinates are float32 in ECCO granules).
pub fn to_f32(values: &[f64]) -> Vec<f32> {
    values.iter().map(|v| *v as f32).collect()
}
