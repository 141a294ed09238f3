//! Rendering a [`VirtualState`] as kerchunk references, format version 1:
//!
//! ```json
//! {"version": 1, "refs": {
//!   ".zgroup": "{\"zarr_format\":2}",
//!   ".zattrs": "{...global attributes...}",
//!   "SSH/.zarray": "{\"shape\":[N,13,90,90],\"chunks\":[1,13,90,90],\"filters\":[{\"id\":\"shuffle\",\"elementsize\":4}],\"compressor\":{\"id\":\"zlib\",\"level\":5},...}",
//!   "SSH/.zattrs": "{\"_ARRAY_DIMENSIONS\":[\"time\",\"tile\",\"j\",\"i\"],...}",
//!   "SSH/0.0.0.0": ["s3://bucket/V4r4/native/mon_mean/SSH/SSH_1992-01.nc", 26741, 31222],
//!   ...}}
//! ```
//!
//! The HDF5 filter pipeline maps onto Zarr v2 codecs: shuffle is the numcodecs `shuffle`
//! filter with the element size, deflate is the `zlib` compressor (HDF5 stores deflated
//! chunks as zlib streams). Chunks of the time-dependent variables of the k-th granule are
//! shifted by k x (time chunks per granule) along the time axis; time-independent variables
//! point into the source granule. Chunks whose bytes the chunk index holds (at most
//! `INLINE_CHUNK_MAX_BYTES`: every granule's `time` and `time_bnds`) are inlined as
//! `"base64:..."`, so that opening the store, which decodes the time axis, reads no granule;
//! every other chunk is a `[url, offset, length]` reference.

use serde_json::{Map, Value, json};

use crate::model::{ChunkRef, VariableLayout, VirtualState};
use edp_task_schemas::StorageFilter;

/// Where one chunk of the combined store is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ChunkTarget<'s> {
    /// `length` bytes at `offset` of the granule at `url`.
    Range {
        url: &'s str,
        offset: u64,
        length: u64,
    },
    /// The chunk's bytes, base64, held by the store.
    Inline(&'s str),
}

/// One variable of the combined store: its chunk grid and the chunks that exist.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CombinedVariable<'s> {
    pub name: &'s str,
    /// Shape of the combined array (time extent x granules).
    pub shape: Vec<u64>,
    /// Chunk extent per dimension.
    pub chunk_shape: Vec<u64>,
    /// Position in the combined chunk grid and target of every stored chunk.
    pub chunks: Vec<(Vec<u64>, ChunkTarget<'s>)>,
}

/// The combined Zarr view of a state: metadata keys (`.zgroup`, `.zattrs`,
/// `<var>/.zarray`, `<var>/.zattrs`) with their JSON documents, and every variable's chunks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Combined<'s> {
    pub metadata: Vec<(String, Value)>,
    pub variables: Vec<CombinedVariable<'s>>,
}

/// The combined view of `state` with granule URLs from `urls` (one per granule, in order)
/// and `source_url` for the time-independent variables.
pub(crate) fn combine<'s>(
    state: &'s VirtualState,
    urls: &'s [String],
    source_url: &'s str,
) -> Combined<'s> {
    let mut metadata = vec![
        (".zgroup".to_string(), json!({"zarr_format": 2})),
        (
            ".zattrs".to_string(),
            Value::Object(state.store_attributes().into_iter().collect()),
        ),
    ];
    let granules = state.granules.len() as u64;
    let mut variables = Vec::with_capacity(state.variables.len());
    for variable in &state.variables {
        let name = variable.name.as_str();
        let mut shape = variable.shape.clone();
        if let Some(axis) = variable.time_axis() {
            shape[axis] *= granules;
        }
        metadata.push((format!("{name}/.zarray"), zarray(variable, &shape)));
        let mut attributes: Map<String, Value> = variable.attributes.clone().into_iter().collect();
        attributes.insert("_ARRAY_DIMENSIONS".into(), json!(variable.dimensions));
        metadata.push((format!("{name}/.zattrs"), Value::Object(attributes)));
        let mut chunks = Vec::new();
        match variable.time_axis() {
            None => {
                for chunk in &variable.static_chunks {
                    chunks.push((chunk.index.clone(), target(source_url, chunk)));
                }
            }
            Some(axis) => {
                let per_granule = variable.time_chunks_per_granule();
                for (k, granule) in state.granules.iter().enumerate() {
                    let Some(granule_chunks) = granule.chunks.get(name) else {
                        continue;
                    };
                    for chunk in granule_chunks {
                        let mut index = chunk.index.clone();
                        index[axis] += k as u64 * per_granule;
                        chunks.push((index, target(&urls[k], chunk)));
                    }
                }
            }
        }
        variables.push(CombinedVariable {
            name,
            shape,
            chunk_shape: variable.chunk_shape.clone(),
            chunks,
        });
    }
    Combined {
        metadata,
        variables,
    }
}

fn target<'s>(url: &'s str, chunk: &'s ChunkRef) -> ChunkTarget<'s> {
    match &chunk.inline {
        Some(bytes) => ChunkTarget::Inline(bytes),
        None => ChunkTarget::Range {
            url,
            offset: chunk.offset,
            length: chunk.length,
        },
    }
}

/// The references of `state` as the bytes of `refs.json` (compact JSON), each granule's
/// URL being `url_of(relative path)`.
///
/// Written straight into one buffer rather than through a `serde_json::Value` tree: a
/// dataset of a thousand 3-D granules has tens of thousands of refs, and building, ordering
/// and freeing a small tree per ref cost several times the writing (`virtual_append`
/// benchmark). The bytes equal `serde_json::to_vec` of the tree (test
/// `streamed_references_equal_the_tree`).
pub fn render(state: &VirtualState, url_of: &dyn Fn(&str) -> String) -> Vec<u8> {
    // The combined view is built over the URLs already written as JSON strings (quoted and
    // escaped), so that each granule's URL is escaped once, not once per chunk.
    let quoted = |relative: &str| Value::String(url_of(relative)).to_string();
    let urls: Vec<String> = state.granules.iter().map(|g| quoted(&g.path)).collect();
    let source_url = quoted(&state.source_granule);
    let combined = combine(state, &urls, &source_url);
    let mut out = RefsWriter::default();
    let mut metadata = combined.metadata.into_iter();
    // `.zgroup` and `.zattrs`, then per variable its `.zarray`, `.zattrs` and chunks.
    for (key, document) in metadata.by_ref().take(2) {
        out.document(&key, &document);
    }
    let mut key = String::new();
    for variable in &combined.variables {
        for (key, document) in metadata.by_ref().take(2) {
            out.document(&key, &document);
        }
        for (index, target) in &variable.chunks {
            key.clear();
            push_chunk_key(&mut key, variable.name, index);
            out.chunk(&key, target);
        }
    }
    out.finish()
}

/// The `{"version":1,"refs":{...}}` document, one entry at a time.
struct RefsWriter {
    out: Vec<u8>,
    entries: usize,
}

impl Default for RefsWriter {
    fn default() -> Self {
        let mut out = Vec::with_capacity(64 * 1024);
        out.extend_from_slice(br#"{"version":1,"refs":{"#);
        RefsWriter { out, entries: 0 }
    }
}

impl RefsWriter {
    fn key(&mut self, key: &str) {
        if self.entries > 0 {
            self.out.push(b',');
        }
        self.entries += 1;
        write_json_string(&mut self.out, key);
        self.out.push(b':');
    }

    /// A metadata document, held as a JSON string.
    fn document(&mut self, key: &str, document: &Value) {
        self.key(key);
        write_json_string(&mut self.out, &document.to_string());
    }

    /// A chunk: `"base64:..."` inline, or `[url, offset, length]` with `url` already quoted.
    fn chunk(&mut self, key: &str, target: &ChunkTarget<'_>) {
        use std::io::Write as _;
        self.key(key);
        match target {
            ChunkTarget::Inline(bytes) => {
                write_json_string(&mut self.out, &format!("base64:{bytes}"));
            }
            ChunkTarget::Range {
                url,
                offset,
                length,
            } => {
                // Writing into a `Vec` cannot fail.
                let _ = write!(self.out, "[{url},{offset},{length}]");
            }
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(b"}}");
        self.out
    }
}

/// `text` as a JSON string, quoted and escaped as serde_json writes it.
fn write_json_string(out: &mut Vec<u8>, text: &str) {
    // Serialising a `str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Appends `name/i.j.k` (`name/0` for a scalar) to `key`.
fn push_chunk_key(key: &mut String, name: &str, index: &[u64]) {
    use std::fmt::Write as _;
    key.push_str(name);
    key.push('/');
    if index.is_empty() {
        key.push('0');
        return;
    }
    for (n, i) in index.iter().enumerate() {
        if n > 0 {
            key.push('.');
        }
        // Writing into a `String` cannot fail.
        let _ = write!(key, "{i}");
    }
}

/// The `.zarray` of a variable with the combined `shape`.
fn zarray(variable: &VariableLayout, shape: &[u64]) -> Value {
    let mut filters = Vec::new();
    let mut compressor = Value::Null;
    for filter in &variable.filters {
        match filter {
            StorageFilter::Shuffle { element_size } => {
                filters.push(json!({"id": "shuffle", "elementsize": element_size}));
            }
            StorageFilter::Deflate { level } => {
                compressor = json!({"id": "zlib", "level": level});
            }
        }
    }
    json!({
        "chunks": variable.chunk_shape,
        "compressor": compressor,
        "dtype": variable.dtype,
        "fill_value": fill_value(&variable.dtype, variable.fill_value),
        "filters": if filters.is_empty() { Value::Null } else { Value::Array(filters) },
        "order": "C",
        "shape": shape,
        "zarr_format": 2,
    })
}

/// A fill value in Zarr v2 JSON: integers for integer types, `"NaN"`/`"Infinity"` for
/// non-finite floats.
fn fill_value(dtype: &str, value: Option<f64>) -> Value {
    let Some(value) = value else {
        return Value::Null;
    };
    zarr_number(value, dtype.contains('i') || dtype.contains('u'))
}

/// A number in Zarr's JSON (v2 and v3 spell it alike): an integer for integer types,
/// `"NaN"`/`"Infinity"`/`"-Infinity"` for non-finite floats.
pub(crate) fn zarr_number(value: f64, integer: bool) -> Value {
    if integer && value.fract() == 0.0 && value.is_finite() {
        return json!(value as i64);
    }
    if value.is_nan() {
        json!("NaN")
    } else if value == f64::INFINITY {
        json!("Infinity")
    } else if value == f64::NEG_INFINITY {
        json!("-Infinity")
    } else {
        json!(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_values_follow_the_zarr_spelling() {
        assert_eq!(fill_value("<i4", Some(-1.0)), json!(-1));
        assert_eq!(fill_value("<f8", Some(f64::NAN)), json!("NaN"));
        assert_eq!(
            fill_value("<f4", Some(9.969209968386869e36)),
            json!(9.969209968386869e36)
        );
        assert_eq!(fill_value("<f4", None), Value::Null);
    }

    #[test]
    fn chunk_keys_join_indices_with_dots() {
        let key = |name: &str, index: &[u64]| {
            let mut key = String::new();
            push_chunk_key(&mut key, name, index);
            key
        };
        assert_eq!(key("SSH", &[3, 0, 1, 2]), "SSH/3.0.1.2");
        assert_eq!(key("scalar", &[]), "scalar/0");
    }
}

#[cfg(test)]
pub(crate) mod render_tests {
    use super::*;
    use crate::model::{GranuleLayout, ObjectFacts, VirtualState};
    use edp_task_schemas::ChunkIndex;

    /// A two-tile SSH granule of `month` whose chunk offsets start at `base`.
    pub(crate) fn granule(month: u32, base: u64) -> GranuleLayout {
        let index: ChunkIndex = serde_json::from_value(json!({
            "attributes": {"time_coverage_start": format!("1992-{month:02}-01")},
            "variables": [
                {"name": "XC", "dimensions": ["tile", "i"], "shape": [2, 3], "dtype": "<f4",
                 "attributes": {"units": "degrees_east"},
                 "chunks": [{"index": [0, 0], "offset": 8, "length": 24}]},
                {"name": "time", "dimensions": ["time"], "shape": [1], "dtype": "<i4",
                 "chunks": [{"index": [0], "offset": base + 50, "length": 4,
                             "inline": format!("{month:02}AAAA==")}]},
                {"name": "SSH", "dimensions": ["time", "tile", "i"], "shape": [1, 2, 3],
                 "dtype": "<f4", "chunk_shape": [1, 1, 3], "fill_value": 9.969209968386869e36,
                 "filters": [{"id": "shuffle", "element_size": 4}, {"id": "deflate", "level": 5}],
                 "chunks": [{"index": [0, 1, 0], "offset": base, "length": 9}]}
            ]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let facts = ObjectFacts {
            path: format!("v/native/mon_mean/SSH/{month}.nc"),
            size: 1,
            etag: None,
            sha256: None,
        };
        GranuleLayout::from_index(facts, &index).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn granules_are_concatenated_along_time_and_codecs_mapped() {
        let mut state = VirtualState::new("v/native/mon_mean/SSH", granule(1, 100));
        state
            .merge(granule(2, 200))
            .unwrap_or_else(|e| panic!("{e}"));
        let refs: Value = serde_json::from_slice(&render(&state, &|p| format!("s3://b/{p}")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(refs["version"], 1);
        let refs = &refs["refs"];
        assert_eq!(
            refs["SSH/0.1.0"],
            json!(["s3://b/v/native/mon_mean/SSH/1.nc", 100, 9])
        );
        assert_eq!(
            refs["SSH/1.1.0"],
            json!(["s3://b/v/native/mon_mean/SSH/2.nc", 200, 9])
        );
        // The time axis is held by the store: each granule's bytes inline, in time order.
        assert_eq!(refs["time/0"], json!("base64:01AAAA=="));
        assert_eq!(refs["time/1"], json!("base64:02AAAA=="));
        assert!(
            refs.get("SSH/0.0.0").is_none(),
            "unwritten chunks stay absent (fill)"
        );
        assert_eq!(
            refs["XC/0.0"],
            json!(["s3://b/v/native/mon_mean/SSH/1.nc", 8, 24])
        );
        let zarray: Value = serde_json::from_str(refs["SSH/.zarray"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(zarray["shape"], json!([2, 2, 3]));
        assert_eq!(zarray["chunks"], json!([1, 1, 3]));
        assert_eq!(
            zarray["filters"],
            json!([{"id": "shuffle", "elementsize": 4}])
        );
        assert_eq!(zarray["compressor"], json!({"id": "zlib", "level": 5}));
        let xc: Value = serde_json::from_str(refs["XC/.zarray"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(xc["filters"], Value::Null);
        assert_eq!(xc["compressor"], Value::Null);
        let attrs: Value = serde_json::from_str(refs["XC/.zattrs"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            attrs,
            json!({"units": "degrees_east", "_ARRAY_DIMENSIONS": ["tile", "i"]})
        );
    }

    /// The references as a `serde_json::Value` tree, built ref by ref the obvious way: the
    /// independent rendering the streamed bytes are compared with.
    fn render_tree(state: &VirtualState, url_of: &dyn Fn(&str) -> String) -> Value {
        let urls: Vec<String> = state.granules.iter().map(|g| url_of(&g.path)).collect();
        let source_url = url_of(&state.source_granule);
        let combined = combine(state, &urls, &source_url);
        let mut refs = Map::new();
        let mut metadata = combined.metadata.into_iter();
        for (key, document) in metadata.by_ref().take(2) {
            refs.insert(key, Value::String(document.to_string()));
        }
        for variable in &combined.variables {
            for (key, document) in metadata.by_ref().take(2) {
                refs.insert(key, Value::String(document.to_string()));
            }
            for (index, target) in &variable.chunks {
                let parts: Vec<String> = index.iter().map(u64::to_string).collect();
                let key = if parts.is_empty() {
                    format!("{}/0", variable.name)
                } else {
                    format!("{}/{}", variable.name, parts.join("."))
                };
                let value = match target {
                    ChunkTarget::Inline(bytes) => json!(format!("base64:{bytes}")),
                    ChunkTarget::Range {
                        url,
                        offset,
                        length,
                    } => json!([url, offset, length]),
                };
                refs.insert(key, value);
            }
        }
        json!({"version": 1, "refs": Value::Object(refs)})
    }

    #[test]
    fn streamed_references_equal_the_tree() {
        let mut state = VirtualState::new("v/native/mon_mean/SSH", granule(1, 100));
        for month in 2..=4 {
            state
                .merge(granule(month, 100 * u64::from(month)))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        // A URL that JSON must escape (quote, backslash, non-ASCII, control character).
        let url_of = |p: &str| format!("s3://b/\"odd\"\\dir\u{e9}\u{1}/{p}");
        let tree = render_tree(&state, &url_of);
        let expected = serde_json::to_vec(&tree).unwrap_or_else(|e| panic!("{e}"));
        let streamed = render(&state, &url_of);
        assert_eq!(
            String::from_utf8_lossy(&streamed),
            String::from_utf8_lossy(&expected)
        );
        assert!(tree["refs"]["SSH/3.1.0"].is_array(), "{tree}");
    }
}
