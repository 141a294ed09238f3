//! Rendering a [`VirtualState`] as Parquet references in fsspec's layout (what
//! `fsspec.implementations.reference.LazyReferenceMapper` reads, and what
//! `ReferenceFileSystem(fo="<dir>")` opens):
//!
//! ```text
//! <dir>/.zmetadata              {"metadata": {".zgroup": {...}, ".zattrs": {...},
//!                                "SSH/.zarray": {...}, "SSH/.zattrs": {...}, ...},
//!                                "record_size": 10000}
//! <dir>/SSH/refs.0.parq         rows 0..9999 of SSH's chunk grid (row-major chunk number)
//! <dir>/SSH/refs.1.parq         rows 10000..
//! ```
//!
//! Each record file has the columns `path` (UTF-8, null for an inline or absent chunk),
//! `offset` and `size` (int64), `raw` (bytes of an inline chunk, else null); row `r` of record
//! `k` is chunk number `k x record_size + r` of the variable's chunk grid (the chunk indices
//! raveled in C order). A chunk absent from every granule has a null `path` and `raw`, which
//! readers take as "not stored" (fill value). The last record of a variable has only the rows
//! up to its last chunk. Unlike one JSON document, a reader loads only the records of the
//! chunks it reads, so a dataset of millions of chunks opens as fast as a small one.
//!
//! The metadata documents and the chunk targets are the same as in `refs.json`
//! ([`crate::kerchunk`]); only the container differs.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use parquet::basic::{Compression, Encoding};
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;
use serde_json::{Map, Value, json};

use crate::kerchunk::{ChunkTarget, CombinedVariable, combine};
use crate::model::{self, VirtualState, is_plain_variable_name};

/// Rows per record file: fsspec's default, a few hundred kB per file.
pub const RECORD_SIZE: u64 = 10_000;

/// The `.zmetadata` file name inside a Parquet reference folder.
pub const ZMETADATA: &str = ".zmetadata";

/// The Parquet schema of a record file, as fsspec writes it.
const SCHEMA: &str = "message schema {
    OPTIONAL BYTE_ARRAY path (UTF8);
    REQUIRED INT64 offset;
    REQUIRED INT64 size;
    OPTIONAL BYTE_ARRAY raw;
}";

/// A rendering failure: the Parquet writer refused, or an inline chunk is not base64.
#[derive(Debug, thiserror::Error)]
pub enum ParquetRefsError {
    /// A variable name that cannot name a folder of the references (a state written by hand).
    #[error(
        "variable name {name:?} cannot name a folder of the Parquet references (one plain path segment expected)"
    )]
    Name {
        /// The name.
        name: String,
    },
    /// A chunk grid of more chunks than can be numbered (a state written by hand).
    #[error("variable {variable}: chunk grid {grid:?} has more than 2^64 chunks")]
    Grid {
        /// The variable.
        variable: String,
        /// Chunks per dimension.
        grid: Vec<u64>,
    },
    /// The Parquet writer failed on a record file.
    #[error("cannot write Parquet references {file}: {reason}")]
    Write {
        /// The record file (relative to the reference folder).
        file: String,
        /// The writer's message.
        reason: String,
    },
    /// A chunk held inline is not valid base64.
    #[error("inline chunk {chunk:?} of variable {variable} is not base64: {reason}")]
    Inline {
        /// The variable.
        variable: String,
        /// Its position in the combined chunk grid.
        chunk: Vec<u64>,
        /// Why.
        reason: String,
    },
}

/// Every file of the Parquet references of `state` as `(path relative to the reference
/// folder, bytes)`: the record files first, `.zmetadata` last (written last, a reader never
/// sees metadata that announces records not yet written).
pub fn render(
    state: &VirtualState,
    url_of: &dyn Fn(&str) -> String,
) -> Result<Vec<(String, Vec<u8>)>, ParquetRefsError> {
    render_records_of(state, url_of, RECORD_SIZE)
}

/// [`render`] with `record_size` rows per record file (at least 1).
pub fn render_records_of(
    state: &VirtualState,
    url_of: &dyn Fn(&str) -> String,
    record_size: u64,
) -> Result<Vec<(String, Vec<u8>)>, ParquetRefsError> {
    let record_size = record_size.max(1);
    let urls: Vec<String> = state.granules.iter().map(|g| url_of(&g.path)).collect();
    let source_url = url_of(&state.source_granule);
    let combined = combine(state, &urls, &source_url);
    let mut files = Vec::new();
    for variable in &combined.variables {
        // Checked when a granule enters the state; checked again because the name becomes a
        // path and the state is read back from storage.
        if !is_plain_variable_name(variable.name) {
            return Err(ParquetRefsError::Name {
                name: variable.name.to_string(),
            });
        }
        files.extend(records(variable, record_size)?);
    }
    let metadata: Map<String, Value> = combined.metadata.into_iter().collect();
    let zmetadata = json!({"metadata": metadata, "record_size": record_size});
    files.push((ZMETADATA.to_string(), zmetadata.to_string().into_bytes()));
    Ok(files)
}

/// Number of chunks along each dimension (`[1]` for a scalar, as fsspec counts it).
fn chunk_grid(variable: &CombinedVariable<'_>) -> Vec<u64> {
    let grid = model::chunk_grid(&variable.shape, &variable.chunk_shape);
    if grid.is_empty() { vec![1] } else { grid }
}

/// Row-major chunk number of `index` in `grid`.
fn chunk_number(index: &[u64], grid: &[u64]) -> u64 {
    index
        .iter()
        .zip(grid)
        .fold(0, |number, (i, extent)| number * extent + i)
}

/// One row of a record file.
#[derive(Debug, Clone, Default)]
struct Row {
    path: Option<String>,
    offset: i64,
    size: i64,
    raw: Option<Vec<u8>>,
}

/// The record files of one variable (none when it has no stored chunk). Rows are built one
/// record at a time: a dataset of millions of chunks never holds more than one record's rows.
fn records(
    variable: &CombinedVariable<'_>,
    record_size: u64,
) -> Result<Vec<(String, Vec<u8>)>, ParquetRefsError> {
    if variable.chunks.is_empty() {
        return Ok(Vec::new());
    }
    let grid = chunk_grid(variable);
    let total = grid
        .iter()
        .try_fold(1u64, |total, &extent| total.checked_mul(extent))
        .ok_or_else(|| ParquetRefsError::Grid {
            variable: variable.name.to_string(),
            grid: grid.clone(),
        })?;
    let mut numbered: Vec<(u64, &Vec<u64>, &ChunkTarget<'_>)> = variable
        .chunks
        .iter()
        .map(|(index, target)| {
            let number = if index.is_empty() {
                0
            } else {
                chunk_number(index, &grid)
            };
            (number, index, target)
        })
        .filter(|(number, _, _)| *number < total)
        .collect();
    numbered.sort_by_key(|(number, _, _)| *number);
    let mut files = Vec::new();
    let mut next = numbered.into_iter().peekable();
    for record in 0..total.div_ceil(record_size) {
        let first = record * record_size;
        let len = record_size.min(total - first) as usize;
        let mut rows = vec![Row::default(); len];
        while let Some((number, index, target)) =
            next.next_if(|(number, _, _)| *number < first + len as u64)
        {
            rows[(number - first) as usize] = row(variable.name, index, target)?;
        }
        let file = format!("{}/refs.{record}.parq", variable.name);
        let bytes = record_file(&rows).map_err(|e| ParquetRefsError::Write {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        files.push((file, bytes));
    }
    Ok(files)
}

/// The row of one stored chunk.
fn row(name: &str, index: &[u64], target: &ChunkTarget<'_>) -> Result<Row, ParquetRefsError> {
    Ok(match target {
        ChunkTarget::Range {
            url,
            offset,
            length,
        } => Row {
            path: Some((*url).to_string()),
            offset: *offset as i64,
            size: *length as i64,
            raw: None,
        },
        ChunkTarget::Inline(encoded) => Row {
            raw: Some(
                BASE64
                    .decode(encoded)
                    .map_err(|e| ParquetRefsError::Inline {
                        variable: name.to_string(),
                        chunk: index.to_vec(),
                        reason: e.to_string(),
                    })?,
            ),
            ..Row::default()
        },
    })
}

/// One record file: a single row group, plain encoding (a dictionary for `path`), no compression,
/// statistics only for the integer columns.
fn record_file(rows: &[Row]) -> parquet::errors::Result<Vec<u8>> {
    let schema = Arc::new(parse_message_type(SCHEMA)?);
    let any_path = rows.iter().any(|r| r.path.is_some());
    let properties = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_statistics_enabled(EnabledStatistics::None)
            // fastparquet reads an integer column whose null count it does not know as floats
            // (fsspec then seeks to a float offset and fails): the two REQUIRED columns carry
            // chunk statistics, whose null count of 0 keeps them int64.
            .set_column_statistics_enabled(ColumnPath::from("offset"), EnabledStatistics::Chunk)
            .set_column_statistics_enabled(ColumnPath::from("size"), EnabledStatistics::Chunk)
            .set_dictionary_enabled(false)
            .set_encoding(Encoding::PLAIN)
            // The path column repeats one granule URL per chunk of the granule: a dictionary
            // stores it once per record. fastparquet cannot read an empty dictionary page (a
            // column whose values are all null: `raw` of a variable on granules, `path` of an
            // inlined coordinate), so only a `path` column with a value has one.
            .set_column_dictionary_enabled(ColumnPath::from("path"), any_path)
            .build(),
    );
    let mut bytes = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut bytes, schema, properties)?;
    let mut group = writer.next_row_group()?;
    let mut column_index = 0;
    while let Some(mut column) = group.next_column()? {
        match column_index {
            0 => {
                let (values, levels) = optional(rows.iter().map(|r| {
                    r.path
                        .as_ref()
                        .map(|p| ByteArray::from(p.as_bytes().to_vec()))
                }));
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&values, Some(&levels), None)?;
            }
            1 | 2 => {
                let values: Vec<i64> = rows
                    .iter()
                    .map(|r| if column_index == 1 { r.offset } else { r.size })
                    .collect();
                column
                    .typed::<Int64Type>()
                    .write_batch(&values, None, None)?;
            }
            _ => {
                let (values, levels) = optional(
                    rows.iter()
                        .map(|r| r.raw.as_ref().map(|b| ByteArray::from(b.clone()))),
                );
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&values, Some(&levels), None)?;
            }
        }
        column.close()?;
        column_index += 1;
    }
    group.close()?;
    writer.close()?;
    Ok(bytes)
}

/// The present values and the definition level of every row (1 present, 0 null).
fn optional(values: impl Iterator<Item = Option<ByteArray>>) -> (Vec<ByteArray>, Vec<i16>) {
    let mut present = Vec::new();
    let mut levels = Vec::new();
    for value in values {
        match value {
            Some(value) => {
                present.push(value);
                levels.push(1);
            }
            None => levels.push(0),
        }
    }
    (present, levels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_numbers_are_row_major() {
        let grid = [3, 2, 4];
        assert_eq!(chunk_number(&[0, 0, 0], &grid), 0);
        assert_eq!(chunk_number(&[0, 0, 3], &grid), 3);
        assert_eq!(chunk_number(&[0, 1, 0], &grid), 4);
        assert_eq!(chunk_number(&[2, 1, 3], &grid), 23);
    }

    #[test]
    fn the_grid_rounds_partial_chunks_up() {
        let variable = CombinedVariable {
            name: "v",
            shape: vec![5, 360, 720],
            chunk_shape: vec![1, 180, 700],
            chunks: Vec::new(),
        };
        assert_eq!(chunk_grid(&variable), [5, 2, 2]);
        let scalar = CombinedVariable {
            name: "s",
            shape: vec![],
            chunk_shape: vec![],
            chunks: Vec::new(),
        };
        assert_eq!(chunk_grid(&scalar), [1]);
    }

    #[test]
    fn a_grid_of_more_chunks_than_can_be_numbered_is_refused() {
        let huge = CombinedVariable {
            name: "v",
            shape: vec![u64::MAX, u64::MAX],
            chunk_shape: vec![1, 1],
            chunks: vec![(vec![0, 0], ChunkTarget::Inline("AAAA"))],
        };
        let err = records(&huge, 10)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("variable v: chunk grid"), "{err}");
    }

    /// One row read back: `(path, offset, size, raw)`.
    type ReadRow = (Option<String>, i64, i64, Option<Vec<u8>>);

    /// Every row of a record file read back through the parquet crate's own reader.
    fn read_rows(bytes: &[u8]) -> Vec<ReadRow> {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        use parquet::record::Field;
        let reader = SerializedFileReader::new(bytes::Bytes::copy_from_slice(bytes))
            .unwrap_or_else(|e| panic!("{e}"));
        let rows = reader.get_row_iter(None).unwrap_or_else(|e| panic!("{e}"));
        rows.map(|row| {
            let row = row.unwrap_or_else(|e| panic!("{e}"));
            let mut fields = row.get_column_iter().map(|(_, field)| field.clone());
            let path = match fields.next() {
                Some(Field::Str(path)) => Some(path),
                _ => None,
            };
            let offset = match fields.next() {
                Some(Field::Long(v)) => v,
                other => panic!("offset {other:?}"),
            };
            let size = match fields.next() {
                Some(Field::Long(v)) => v,
                other => panic!("size {other:?}"),
            };
            let raw = match fields.next() {
                Some(Field::Bytes(raw)) => Some(raw.data().to_vec()),
                _ => None,
            };
            (path, offset, size, raw)
        })
        .collect()
    }

    #[test]
    fn a_state_naming_a_variable_with_a_path_is_refused() {
        use crate::kerchunk::render_tests::granule;
        let mut state = VirtualState::new("v/native/mon_mean/SSH", granule(1, 100));
        // As a state.json edited by hand would hold it (granules cannot bring such a name).
        state.variables[0].name = "../../escape".to_string();
        let err = render(&state, &|p| p.to_string())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("\"../../escape\""), "{err}");
    }

    #[test]
    fn rows_are_chunk_numbers_split_into_records() {
        use crate::kerchunk::render_tests::granule;
        let mut state = VirtualState::new("v/native/mon_mean/SSH", granule(1, 100));
        state
            .merge(granule(2, 200))
            .unwrap_or_else(|e| panic!("{e}"));
        let files = render_records_of(&state, &|p| format!("s3://b/{p}"), 3)
            .unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "XC/refs.0.parq",
                "time/refs.0.parq",
                "SSH/refs.0.parq",
                "SSH/refs.1.parq",
                ".zmetadata"
            ],
            "records per variable, metadata last"
        );
        let file = |name: &str| {
            let (_, bytes) = files
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("no {name}"));
            read_rows(bytes)
        };
        // SSH is (time 2, tile 2, i 1 chunk): chunk numbers 0..4, three to a record; only
        // tile 1 of each month was written.
        let url = |month: u32| Some(format!("s3://b/v/native/mon_mean/SSH/{month}.nc"));
        assert_eq!(
            file("SSH/refs.0.parq"),
            [
                (None, 0, 0, None),
                (url(1), 100, 9, None),
                (None, 0, 0, None)
            ]
        );
        assert_eq!(file("SSH/refs.1.parq"), [(url(2), 200, 9, None)]);
        // Coordinates on the time axis are inlined: the decoded bytes, no path.
        let inline = |text: &str| BASE64.decode(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            file("time/refs.0.parq"),
            [
                (None, 0, 0, Some(inline("01AAAA=="))),
                (None, 0, 0, Some(inline("02AAAA==")))
            ]
        );
        assert_eq!(file("XC/refs.0.parq"), [(url(1), 8, 24, None)]);
        let (_, zmetadata) = files.last().unwrap_or_else(|| panic!("no files"));
        let zmetadata: Value = serde_json::from_slice(zmetadata).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(zmetadata["record_size"], 3);
        assert_eq!(
            zmetadata["metadata"]["SSH/.zarray"]["shape"],
            json!([2, 2, 3])
        );
        assert_eq!(zmetadata["metadata"][".zgroup"]["zarr_format"], 2);
    }
}
