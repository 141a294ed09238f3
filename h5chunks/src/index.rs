//! The chunk index of a netCDF-4 file: every variable with its dimensions, type, chunking,
//! filters, fill value and attributes (read through netCDF-C) and the byte range of every
//! stored chunk (read through HDF5).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use edp_task_schemas::{
    ChunkIndex, INLINE_CHUNK_MAX_BYTES, StorageFilter, StoredChunk, StoredVariable,
};
use indexmap::IndexMap;
use netcdf::AttributeValue;
use netcdf::types::{FloatType, IntType, NcVariableType};
use serde_json::Value;

use crate::error::{H5Error, Result};
use crate::ffi::{File, Filter, Layout, with_hdf5};

/// HDF5's filter ids.
const H5Z_FILTER_DEFLATE: i32 = 1;
const H5Z_FILTER_SHUFFLE: i32 = 2;

/// Reads the chunk index of the (closed) netCDF-4 file `path`. Variables come in file order;
/// chunks in row-major order of the chunk grid; a contiguous variable has one chunk at index
/// `[0, ..]` (none when it has no storage). Fails on filters other than shuffle and deflate
/// and on compact storage, which the index cannot describe.
pub fn chunk_index(path: &Path) -> Result<ChunkIndex> {
    // The same lock for both passes: the netCDF reads and the HDF5 reads of one file never
    // interleave with another thread's use of the library.
    with_hdf5(|lock| {
        let mut index = read_metadata(path)?;
        let file = File::open(lock, path, false).ok_or_else(|| H5Error::Hdf5 {
            path: path.to_path_buf(),
            what: "open for reading".into(),
        })?;
        for variable in &mut index.variables {
            locate_chunks(path, &file, variable)?;
        }
        Ok(index)
    })
    .and_then(|mut index| {
        inline_small_chunks(path, &mut index)?;
        Ok(index)
    })
}

/// Pass 3 (plain file reads, outside the HDF5 lock): the bytes of every chunk of at most
/// [`INLINE_CHUNK_MAX_BYTES`], base64, into [`StoredChunk::inline`]. A granule's `time` and
/// `time_bnds` are such chunks; with their bytes in the index a virtual store holds the time
/// axis and opening it reads no granule.
fn inline_small_chunks(path: &Path, index: &mut ChunkIndex) -> Result<()> {
    let small = index
        .variables
        .iter()
        .flat_map(|v| &v.chunks)
        .any(|c| c.length <= INLINE_CHUNK_MAX_BYTES);
    if !small {
        return Ok(());
    }
    let io = |what: String| {
        let path = path.to_path_buf();
        move |source| H5Error::Io { path, what, source }
    };
    let mut file = std::fs::File::open(path).map_err(io("open for reading".into()))?;
    for variable in &mut index.variables {
        for chunk in &mut variable.chunks {
            if chunk.length > INLINE_CHUNK_MAX_BYTES {
                continue;
            }
            let mut bytes = vec![0u8; chunk.length as usize];
            let what = format!(
                "read {} bytes at {} (chunk {:?} of variable {})",
                chunk.length, chunk.offset, chunk.index, variable.name
            );
            file.seek(SeekFrom::Start(chunk.offset))
                .and_then(|_| file.read_exact(&mut bytes))
                .map_err(io(what))?;
            chunk.inline = Some(BASE64.encode(&bytes));
        }
    }
    Ok(())
}

/// Pass 1 (netCDF-C): names, dimensions, types, attributes, fill values.
fn read_metadata(path: &Path) -> Result<ChunkIndex> {
    let nc = |what: &str| {
        let what = what.to_string();
        let path = path.to_path_buf();
        move |source| H5Error::NetCdf { path, what, source }
    };
    let file = netcdf::open(path).map_err(nc("open"))?;
    let mut attributes = IndexMap::new();
    for attr in file.attributes() {
        let value = attr
            .value()
            .map_err(nc(&format!("read global attribute {}", attr.name())))?;
        attributes.insert(attr.name().to_string(), json_value(value));
    }
    let mut variables = Vec::new();
    for var in file.variables() {
        let name = var.name();
        let dtype = numpy_dtype(&var.vartype()).ok_or_else(|| H5Error::Mismatch {
            path: path.to_path_buf(),
            what: format!("type of variable {name}"),
            expected: "a numeric type (integer or float)".into(),
            found: format!("{:?}", var.vartype()),
        })?;
        let mut fill_value = None;
        let mut attrs = IndexMap::new();
        for attr in var.attributes() {
            let value = attr
                .value()
                .map_err(nc(&format!("read attribute {name}:{}", attr.name())))?;
            if attr.name() == "_FillValue" {
                fill_value = first_number(&value);
            } else {
                attrs.insert(attr.name().to_string(), json_value(value));
            }
        }
        variables.push(StoredVariable {
            dimensions: var.dimensions().iter().map(|d| d.name()).collect(),
            shape: var.dimensions().iter().map(|d| d.len() as u64).collect(),
            name,
            dtype: dtype.to_string(),
            chunk_shape: None,
            filters: Vec::new(),
            fill_value,
            attributes: attrs,
            chunks: Vec::new(),
        });
    }
    Ok(ChunkIndex {
        attributes,
        variables,
    })
}

/// Pass 2 (HDF5): layout, filters and the byte range of every chunk of `variable`.
fn locate_chunks(path: &Path, file: &File<'_>, variable: &mut StoredVariable) -> Result<()> {
    let name = variable.name.clone();
    let fail = |what: &str| H5Error::Hdf5 {
        path: path.to_path_buf(),
        what: format!("{what} of variable {name}"),
    };
    let dataset = file.dataset(&name).ok_or_else(|| fail("open"))?;
    match dataset.layout().ok_or_else(|| fail("read the layout"))? {
        Layout::Contiguous => {
            if let (Some(offset), length) = dataset.contiguous_extent() {
                variable.chunks.push(StoredChunk {
                    index: vec![0; variable.shape.len()],
                    offset,
                    length,
                    inline: None,
                });
            }
        }
        Layout::Chunked(extents) => {
            let filters = dataset.filters().ok_or_else(|| fail("read the filters"))?;
            variable.filters = filters
                .iter()
                .map(|f| storage_filter(path, &name, f))
                .collect::<Result<_>>()?;
            let mut chunks = Vec::new();
            let mut bad_extent = false;
            dataset
                .for_each_chunk(|info| {
                    let index = info
                        .element_offset
                        .iter()
                        .zip(&extents)
                        .map(|(o, e)| {
                            bad_extent |= *e == 0;
                            o / (*e).max(1)
                        })
                        .collect();
                    chunks.push(StoredChunk {
                        index,
                        offset: info.address,
                        length: info.size,
                        inline: None,
                    });
                })
                .ok_or_else(|| fail("list the chunks"))?;
            if bad_extent {
                return Err(fail("read a zero chunk extent"));
            }
            chunks.sort_by(|a, b| a.index.cmp(&b.index));
            variable.chunks = chunks;
            variable.chunk_shape = Some(extents);
        }
        Layout::Compact => {
            return Err(H5Error::Mismatch {
                path: path.to_path_buf(),
                what: format!("storage of variable {name}"),
                expected: "chunked or contiguous storage (a byte range in the file)".into(),
                found: "compact storage (inside the object header)".into(),
            });
        }
    }
    Ok(())
}

/// The index's form of an HDF5 filter.
fn storage_filter(path: &Path, variable: &str, filter: &Filter) -> Result<StorageFilter> {
    let value = filter.values.first().copied();
    match (filter.id, value) {
        (H5Z_FILTER_SHUFFLE, Some(element_size)) => Ok(StorageFilter::Shuffle { element_size }),
        (H5Z_FILTER_DEFLATE, Some(level)) => Ok(StorageFilter::Deflate { level }),
        _ => Err(H5Error::Mismatch {
            path: path.to_path_buf(),
            what: format!("filters of variable {variable}"),
            expected: "shuffle (2) and deflate (1) with their parameter".into(),
            found: format!("filter {} with values {:?}", filter.id, filter.values),
        }),
    }
}

/// NumPy's type string of a netCDF type (little-endian, as netCDF-C writes on every platform
/// edp runs on).
fn numpy_dtype(t: &NcVariableType) -> Option<&'static str> {
    Some(match t {
        NcVariableType::Int(IntType::U8) => "|u1",
        NcVariableType::Int(IntType::I8) => "|i1",
        NcVariableType::Int(IntType::U16) => "<u2",
        NcVariableType::Int(IntType::I16) => "<i2",
        NcVariableType::Int(IntType::U32) => "<u4",
        NcVariableType::Int(IntType::I32) => "<i4",
        NcVariableType::Int(IntType::U64) => "<u8",
        NcVariableType::Int(IntType::I64) => "<i8",
        NcVariableType::Float(FloatType::F32) => "<f4",
        NcVariableType::Float(FloatType::F64) => "<f8",
        _ => return None,
    })
}

/// The first number of an attribute value (a `_FillValue`).
fn first_number(value: &AttributeValue) -> Option<f64> {
    match json_value(value.clone()) {
        Value::Number(n) => n.as_f64(),
        Value::Array(items) => items.first().and_then(Value::as_f64),
        _ => None,
    }
}

/// An attribute value as JSON: text as a string, one number as a number, several as an array.
/// Floats are widened to f64 exactly (a float32 value keeps its value, e.g. 0.1f32 becomes
/// 0.10000000149011612); NaN and infinities, which JSON cannot hold, become strings.
fn json_value(value: AttributeValue) -> Value {
    fn float(v: f64) -> Value {
        serde_json::Number::from_f64(v).map_or_else(|| Value::String(v.to_string()), Value::Number)
    }
    fn many<T>(items: Vec<T>, each: impl Fn(T) -> Value) -> Value {
        Value::Array(items.into_iter().map(each).collect())
    }
    match value {
        AttributeValue::Uchar(v) => v.into(),
        AttributeValue::Uchars(v) => many(v, Value::from),
        AttributeValue::Schar(v) => v.into(),
        AttributeValue::Schars(v) => many(v, Value::from),
        AttributeValue::Ushort(v) => v.into(),
        AttributeValue::Ushorts(v) => many(v, Value::from),
        AttributeValue::Short(v) => v.into(),
        AttributeValue::Shorts(v) => many(v, Value::from),
        AttributeValue::Uint(v) => v.into(),
        AttributeValue::Uints(v) => many(v, Value::from),
        AttributeValue::Int(v) => v.into(),
        AttributeValue::Ints(v) => many(v, Value::from),
        AttributeValue::Ulonglong(v) => v.into(),
        AttributeValue::Ulonglongs(v) => many(v, Value::from),
        AttributeValue::Longlong(v) => v.into(),
        AttributeValue::Longlongs(v) => many(v, Value::from),
        AttributeValue::Float(v) => float(f64::from(v)),
        AttributeValue::Floats(v) => many(v, |x| float(f64::from(x))),
        AttributeValue::Double(v) => float(v),
        AttributeValue::Doubles(v) => many(v, float),
        AttributeValue::Str(v) => Value::String(v),
        AttributeValue::Strs(v) => many(v, Value::String),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_become_json() {
        assert_eq!(
            json_value(AttributeValue::Str("m".into())),
            Value::from("m")
        );
        assert_eq!(json_value(AttributeValue::Int(-3)), Value::from(-3));
        assert_eq!(
            json_value(AttributeValue::Float(0.1)),
            Value::from(f64::from(0.1f32))
        );
        assert_eq!(
            json_value(AttributeValue::Doubles(vec![1.5, -2.0])),
            serde_json::json!([1.5, -2.0])
        );
        assert_eq!(
            json_value(AttributeValue::Float(f32::NAN)),
            Value::from("NaN")
        );
        assert_eq!(
            first_number(&AttributeValue::Float(9.969_21e36)),
            Some(f64::from(9.969_21e36f32))
        );
    }
}
