//! The state of a virtual store (`state.json`) and the pure logic of merging granules into
//! it: layout checks, time ordering, replacement.
//!
//! Only variables that have the time dimension are concatenated; the others (grid
//! coordinates, bounds, vertical levels) are the same in every granule of a dataset and are
//! referenced in one granule, the *source granule* (the earliest in time), whose global
//! attributes the store also carries (with `time_coverage_start`/`_end` spanning the whole
//! dataset when rendered).

use edp_task_schemas::{ChunkIndex, StorageFilter, StoredChunk, StoredVariable};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Incompatibility, Result, VirtualError};

/// Version of the `state.json` format.
pub const STATE_FORMAT: u32 = 1;

/// The dimension granules are concatenated along.
pub const TIME_DIMENSION: &str = "time";

/// Global attributes that give a granule's time coverage (ISO 8601 strings); the start
/// orders granules in the store.
const COVERAGE_START: &str = "time_coverage_start";
const COVERAGE_END: &str = "time_coverage_end";

/// `state.json`: everything needed to render the reference files of one dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VirtualState {
    /// [`STATE_FORMAT`].
    pub format: u32,
    /// `<ecco_version>/<type>/<period>/<GROUPING>`.
    pub dataset: String,
    /// Path (relative to the destination root) of the granule whose time-independent
    /// variables and global attributes the store uses: the first in time order.
    pub source_granule: String,
    /// Global attributes of the source granule.
    pub attributes: IndexMap<String, Value>,
    /// Layout of every variable, in file order of the source granule.
    pub variables: Vec<VariableLayout>,
    /// Every granule, in time order.
    pub granules: Vec<GranuleRefs>,
}

/// How one variable is stored in every granule of the dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariableLayout {
    /// Variable name.
    pub name: String,
    /// Dimension names, outermost first.
    pub dimensions: Vec<String>,
    /// Extent per dimension in one granule.
    pub shape: Vec<u64>,
    /// NumPy type string.
    pub dtype: String,
    /// Chunk extent per dimension (the whole shape for a contiguous variable).
    pub chunk_shape: Vec<u64>,
    /// HDF5 filters in write order.
    pub filters: Vec<StorageFilter>,
    /// `_FillValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_value: Option<f64>,
    /// Variable attributes.
    #[serde(default)]
    pub attributes: IndexMap<String, Value>,
    /// Chunks of a time-independent variable, in the source granule; empty for
    /// time-dependent ones (their chunks are per granule).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub static_chunks: Vec<ChunkRef>,
}

impl VariableLayout {
    /// Position of the time dimension, `None` for a time-independent variable.
    pub fn time_axis(&self) -> Option<usize> {
        self.dimensions.iter().position(|d| d == TIME_DIMENSION)
    }

    /// Chunks per granule along the time axis (1 in edp's granules).
    pub fn time_chunks_per_granule(&self) -> u64 {
        match self.time_axis() {
            Some(axis) => self.shape[axis] / self.chunk_shape[axis].max(1),
            None => 0,
        }
    }
}

/// One granule of the dataset and the chunks of its time-dependent variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GranuleRefs {
    /// Path relative to the destination root.
    pub path: String,
    /// Size of the object in bytes (checked against the done record).
    pub size: u64,
    /// ETag of the object when it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// SHA-256 from the done record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `time_coverage_start` of the granule (orders the granules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_start: Option<String>,
    /// `time_coverage_end` of the granule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_end: Option<String>,
    /// Chunks of every time-dependent variable.
    pub chunks: IndexMap<String, Vec<ChunkRef>>,
}

impl GranuleRefs {
    /// Sort key: time coverage start, then path.
    pub(crate) fn order_key(&self) -> (Option<&str>, &str) {
        (self.time_start.as_deref(), &self.path)
    }

    /// True when this entry describes the same object as `other` (same bytes, same version).
    pub fn same_object(&self, other: &GranuleRefs) -> bool {
        self.size == other.size && self.sha256 == other.sha256 && self.etag == other.etag
    }
}

/// One chunk: position in the granule's chunk grid and byte range in the granule, and the
/// stored bytes themselves for small chunks (a granule's `time` and `time_bnds`, from
/// [`StoredChunk::inline`]). Stored as one flat array `[offset, length, index...]` to keep
/// `state.json` small, or `{"at": [offset, length, index...], "inline": "<base64>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "ChunkRefRepr")]
pub struct ChunkRef {
    /// Position in the chunk grid of one granule.
    pub index: Vec<u64>,
    /// Byte offset in the file.
    pub offset: u64,
    /// Stored length in bytes.
    pub length: u64,
    /// The stored bytes, base64, when the chunk is small enough to be held by the store.
    pub inline: Option<String>,
}

/// The `state.json` form of a [`ChunkRef`] (written untagged; read by [`ChunkRefVisitor`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
enum ChunkRefRepr {
    /// `[offset, length, index...]`.
    Flat(Vec<u64>),
    /// The flat form and the stored bytes.
    Inline {
        /// `[offset, length, index...]`.
        at: Vec<u64>,
        /// Base64 of the stored bytes.
        inline: String,
    },
}

impl From<ChunkRef> for ChunkRefRepr {
    fn from(chunk: ChunkRef) -> ChunkRefRepr {
        let mut at = Vec::with_capacity(2 + chunk.index.len());
        at.push(chunk.offset);
        at.push(chunk.length);
        at.extend(chunk.index);
        match chunk.inline {
            None => ChunkRefRepr::Flat(at),
            Some(inline) => ChunkRefRepr::Inline { at, inline },
        }
    }
}

impl TryFrom<ChunkRefRepr> for ChunkRef {
    type Error = String;

    fn try_from(repr: ChunkRefRepr) -> std::result::Result<ChunkRef, String> {
        let (mut flat, inline) = match repr {
            ChunkRefRepr::Flat(flat) => (flat, None),
            ChunkRefRepr::Inline { at, inline } => (at, Some(inline)),
        };
        if flat.len() < 2 {
            return Err(format!(
                "expected a chunk [offset, length, index...], found {flat:?}"
            ));
        }
        let index = flat.split_off(2);
        Ok(ChunkRef {
            index,
            offset: flat[0],
            length: flat[1],
            inline,
        })
    }
}

/// The inline form's fields, read from a JSON object.
#[derive(Deserialize)]
struct InlineRepr {
    at: Vec<u64>,
    inline: String,
}

/// Reads either form of a [`ChunkRef`] straight from the document. An untagged derive would
/// buffer every chunk of `state.json` (hundreds of thousands in a large dataset) before
/// trying each form; this reads an array as the flat form and an object as the inline one.
struct ChunkRefVisitor;

impl<'de> serde::de::Visitor<'de> for ChunkRefVisitor {
    type Value = ChunkRef;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a chunk [offset, length, index...] or {\"at\": [...], \"inline\": \"...\"}")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<ChunkRef, A::Error> {
        // Read in place (one allocation per chunk: its index), not through the flat form.
        let too_short = |found: usize| {
            serde::de::Error::invalid_length(found, &"a chunk [offset, length, index...]")
        };
        let offset = seq.next_element::<u64>()?.ok_or_else(|| too_short(0))?;
        let length = seq.next_element::<u64>()?.ok_or_else(|| too_short(1))?;
        let mut index = Vec::with_capacity(seq.size_hint().unwrap_or(5));
        while let Some(value) = seq.next_element::<u64>()? {
            index.push(value);
        }
        Ok(ChunkRef {
            index,
            offset,
            length,
            inline: None,
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        map: A,
    ) -> std::result::Result<ChunkRef, A::Error> {
        let InlineRepr { at, inline } =
            InlineRepr::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        ChunkRef::try_from(ChunkRefRepr::Inline { at, inline }).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for ChunkRef {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<ChunkRef, D::Error> {
        deserializer.deserialize_any(ChunkRefVisitor)
    }
}

impl From<&StoredChunk> for ChunkRef {
    fn from(chunk: &StoredChunk) -> ChunkRef {
        ChunkRef {
            index: chunk.index.clone(),
            offset: chunk.offset,
            length: chunk.length,
            inline: chunk.inline.clone(),
        }
    }
}

/// A granule ready to merge: its entry and the layout of its variables.
#[derive(Debug, Clone, PartialEq)]
pub struct GranuleLayout {
    /// The granule's entry.
    pub refs: GranuleRefs,
    /// Global attributes.
    pub attributes: IndexMap<String, Value>,
    /// Variables (time-independent ones with their chunks).
    pub variables: Vec<VariableLayout>,
}

/// Object facts that do not come from the chunk index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFacts {
    /// Path relative to the destination root.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag.
    pub etag: Option<String>,
    /// SHA-256 from the done record.
    pub sha256: Option<String>,
}

impl GranuleLayout {
    /// Checks the chunk index of one granule and splits it into the per-granule refs and the
    /// dataset-wide layout.
    pub fn from_index(facts: ObjectFacts, index: &ChunkIndex) -> Result<GranuleLayout> {
        let mut variables = Vec::with_capacity(index.variables.len());
        let mut chunks = IndexMap::new();
        for stored in &index.variables {
            let mut layout = variable_layout(&facts.path, stored)?;
            let refs: Vec<ChunkRef> = stored.chunks.iter().map(ChunkRef::from).collect();
            if layout.time_axis().is_some() {
                chunks.insert(stored.name.clone(), refs);
            } else {
                layout.static_chunks = refs;
            }
            variables.push(layout);
        }
        let text = |key: &str| {
            index
                .attributes
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Ok(GranuleLayout {
            refs: GranuleRefs {
                path: facts.path,
                size: facts.size,
                etag: facts.etag,
                sha256: facts.sha256,
                time_start: text(COVERAGE_START),
                time_end: text(COVERAGE_END),
                chunks,
            },
            attributes: index.attributes.clone(),
            variables,
        })
    }
}

/// Chunks per dimension of an array of `shape` in chunks of `chunk_shape` (a zero chunk
/// extent counts as 1).
pub(crate) fn chunk_grid(shape: &[u64], chunk_shape: &[u64]) -> Vec<u64> {
    shape
        .iter()
        .zip(chunk_shape)
        .map(|(n, c)| n.div_ceil((*c).max(1)))
        .collect()
}

/// Whether `name` can name a Zarr array and a folder of the Parquet references: one path
/// segment that cannot climb out of the store (no `/`, `\`, leading `.`, control characters).
pub(crate) fn is_plain_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
}

/// The layout of one stored variable, checked for consistency.
fn variable_layout(granule: &str, stored: &StoredVariable) -> Result<VariableLayout> {
    let bad = |problem: String| VirtualError::BadChunkIndex {
        granule: granule.to_string(),
        variable: stored.name.clone(),
        problem,
    };
    if !is_plain_variable_name(&stored.name) {
        return Err(bad(
            "the name is not one plain path segment (empty, `.`-leading, or holding `/`, `\\` \
             or a control character): it names files of the Parquet references and Zarr keys"
                .to_string(),
        ));
    }
    let rank = stored.shape.len();
    if stored.dimensions.len() != rank {
        return Err(bad(format!(
            "{} dimension names for a shape of rank {rank}",
            stored.dimensions.len()
        )));
    }
    let chunk_shape = match &stored.chunk_shape {
        Some(shape) if shape.len() != rank => {
            return Err(bad(format!(
                "chunk shape {shape:?} does not match the rank {rank} of shape {:?}",
                stored.shape
            )));
        }
        Some(shape) if shape.contains(&0) => {
            return Err(bad(format!("chunk shape {shape:?} has a zero extent")));
        }
        Some(shape) => shape.clone(),
        None => stored.shape.iter().map(|&n| n.max(1)).collect(),
    };
    let grid = chunk_grid(&stored.shape, &chunk_shape);
    for chunk in &stored.chunks {
        if chunk.index.len() != rank || chunk.index.iter().zip(&grid).any(|(i, g)| i >= g) {
            return Err(bad(format!(
                "chunk {:?} lies outside the chunk grid {grid:?}",
                chunk.index
            )));
        }
    }
    if let Some(at) = stored
        .filters
        .iter()
        .position(|f| matches!(f, StorageFilter::Deflate { .. }))
        && at + 1 != stored.filters.len()
    {
        // Zarr applies its compressor after every filter; HDF5 applies filters in order.
        return Err(bad(format!(
            "filters {:?}: deflate must be the last filter",
            stored.filters
        )));
    }
    let layout = VariableLayout {
        name: stored.name.clone(),
        dimensions: stored.dimensions.clone(),
        shape: stored.shape.clone(),
        dtype: stored.dtype.clone(),
        chunk_shape,
        filters: stored.filters.clone(),
        fill_value: stored.fill_value,
        attributes: stored.attributes.clone(),
        static_chunks: Vec::new(),
    };
    if let Some(axis) = layout.time_axis()
        && !layout.shape[axis].is_multiple_of(layout.chunk_shape[axis])
    {
        // Granules are concatenated chunk by chunk: a partial chunk at a granule's end would
        // leave a hole in the combined array.
        return Err(bad(format!(
            "time extent {} is not a multiple of the time chunk {}",
            layout.shape[axis], layout.chunk_shape[axis]
        )));
    }
    Ok(layout)
}

/// What merging one granule did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// A new granule.
    Added,
    /// A granule already present whose object changed (reprocessed).
    Replaced,
    /// The same object is already present.
    Unchanged,
}

impl VirtualState {
    /// A store holding one granule.
    pub fn new(dataset: &str, granule: GranuleLayout) -> VirtualState {
        VirtualState {
            format: STATE_FORMAT,
            dataset: dataset.to_string(),
            source_granule: granule.refs.path.clone(),
            attributes: granule.attributes,
            variables: granule.variables,
            granules: vec![granule.refs],
        }
    }

    /// Checks what the renderers index with, for a state read back from storage: every
    /// variable's shape, chunk shape and dimensions have one rank; every chunk lies inside
    /// its granule's chunk grid; and each time-dependent variable's extent times the number
    /// of granules fits in 64 bits (so do the shifted chunk indices, which lie below it).
    /// States built from checked chunk indices always pass; a hand-edited `state.json` may
    /// not, and is refused here instead of panicking or overflowing in a renderer.
    pub fn check_extents(&self) -> std::result::Result<(), String> {
        let granules = self.granules.len() as u64;
        for variable in &self.variables {
            let name = &variable.name;
            let rank = variable.shape.len();
            if variable.dimensions.len() != rank || variable.chunk_shape.len() != rank {
                return Err(format!(
                    "variable {name}: dimensions {:?}, shape {:?} and chunk shape {:?} differ in rank",
                    variable.dimensions, variable.shape, variable.chunk_shape
                ));
            }
            let grid = chunk_grid(&variable.shape, &variable.chunk_shape);
            let outside = |chunk: &ChunkRef| {
                chunk.index.len() != rank || chunk.index.iter().zip(&grid).any(|(i, g)| i >= g)
            };
            let per_granule = self.granules.iter().filter_map(|g| g.chunks.get(name));
            if let Some(chunk) = variable
                .static_chunks
                .iter()
                .chain(per_granule.flatten())
                .find(|c| outside(c))
            {
                return Err(format!(
                    "variable {name}: chunk {:?} lies outside the chunk grid {grid:?}",
                    chunk.index
                ));
            }
            if let Some(axis) = variable.time_axis() {
                let extent = variable.shape[axis];
                if extent.checked_mul(granules).is_none() {
                    return Err(format!(
                        "variable {name}: time extent {extent} x {granules} granules overflows"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Merges a granule: a new one is inserted in time order, a changed one replaces its
    /// entry, the same one changes nothing. Refuses a granule whose variables, chunking or
    /// codecs differ from the dataset's (unless it replaces the only granule).
    pub fn merge(&mut self, granule: GranuleLayout) -> Result<Merge> {
        let existing = self
            .granules
            .iter()
            .position(|g| g.path == granule.refs.path);
        if let Some(at) = existing {
            if self.granules[at].same_object(&granule.refs) {
                return Ok(Merge::Unchanged);
            }
            if self.granules.len() == 1 {
                *self = VirtualState::new(&self.dataset, granule);
                return Ok(Merge::Replaced);
            }
        }
        self.check_compatible(&granule)?;
        let merge = match existing {
            Some(at) => {
                self.granules.remove(at);
                Merge::Replaced
            }
            None => Merge::Added,
        };
        let key = granule.refs.order_key();
        let at = self.granules.partition_point(|g| g.order_key() < key);
        let becomes_source = at == 0 || granule.refs.path == self.source_granule;
        if becomes_source {
            // The earliest granule provides the static variables and global attributes (a
            // reprocessed source granule has new byte offsets for them).
            self.source_granule = granule.refs.path.clone();
            self.attributes = granule.attributes;
            self.variables = granule.variables;
        }
        self.granules.insert(at, granule.refs);
        Ok(merge)
    }

    /// The granule's variables have the same names, dimensions, shapes, types, chunking,
    /// codecs and fill values as the dataset's.
    fn check_compatible(&self, granule: &GranuleLayout) -> Result<()> {
        let incompatible =
            |variable: &str, field: &'static str, expected: String, found: String| {
                VirtualError::Incompatible(Box::new(Incompatibility {
                    dataset: self.dataset.clone(),
                    granule: granule.refs.path.clone(),
                    variable: variable.to_string(),
                    field,
                    expected,
                    found,
                }))
            };
        for ours in &self.variables {
            let Some(theirs) = granule.variables.iter().find(|v| v.name == ours.name) else {
                return Err(incompatible(
                    &ours.name,
                    "presence",
                    "the variable".into(),
                    "no such variable".into(),
                ));
            };
            let fields: [(&'static str, String, String); 6] = [
                (
                    "dimensions",
                    format!("{:?}", ours.dimensions),
                    format!("{:?}", theirs.dimensions),
                ),
                (
                    "shape",
                    format!("{:?}", ours.shape),
                    format!("{:?}", theirs.shape),
                ),
                ("dtype", ours.dtype.clone(), theirs.dtype.clone()),
                (
                    "chunk_shape",
                    format!("{:?}", ours.chunk_shape),
                    format!("{:?}", theirs.chunk_shape),
                ),
                (
                    "filters",
                    format!("{:?}", ours.filters),
                    format!("{:?}", theirs.filters),
                ),
                (
                    "fill_value",
                    format!("{:?}", ours.fill_value),
                    format!("{:?}", theirs.fill_value),
                ),
            ];
            for (field, expected, found) in fields {
                if expected != found {
                    return Err(incompatible(&ours.name, field, expected, found));
                }
            }
        }
        if let Some(extra) = granule
            .variables
            .iter()
            .find(|v| !self.variables.iter().any(|o| o.name == v.name))
        {
            return Err(incompatible(
                &extra.name,
                "presence",
                "no such variable".into(),
                "the variable".into(),
            ));
        }
        Ok(())
    }

    /// The global attributes of the store: the source granule's, with the time coverage of
    /// the whole dataset.
    pub fn store_attributes(&self) -> IndexMap<String, Value> {
        let mut attributes = self.attributes.clone();
        if let Some(start) = self
            .granules
            .iter()
            .filter_map(|g| g.time_start.as_ref())
            .min()
        {
            attributes.insert(COVERAGE_START.into(), Value::String(start.clone()));
        }
        if let Some(end) = self
            .granules
            .iter()
            .filter_map(|g| g.time_end.as_ref())
            .max()
        {
            attributes.insert(COVERAGE_END.into(), Value::String(end.clone()));
        }
        attributes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edp_task_schemas::ChunkIndex;
    use serde_json::json;

    /// A granule of a 2-D dataset `SSH(time, tile, j, i)` with coordinates `time` and `XC`,
    /// for month `month` (1-based), SSH chunks starting at byte `base`.
    fn index(month: u32, base: u64) -> ChunkIndex {
        serde_json::from_value(json!({
            "attributes": {
                "title": format!("month {month}"),
                "time_coverage_start": format!("1992-{month:02}-01T00:00:00"),
                "time_coverage_end": format!("1992-{:02}-01T00:00:00", month + 1),
            },
            "variables": [
                {"name": "time", "dimensions": ["time"], "shape": [1], "dtype": "<f8",
                 "chunks": [{"index": [0], "offset": 100, "length": 8}]},
                {"name": "XC", "dimensions": ["tile", "j", "i"], "shape": [2, 4, 5],
                 "dtype": "<f4", "chunks": [{"index": [0, 0, 0], "offset": 108 + base, "length": 160}]},
                {"name": "SSH", "dimensions": ["time", "tile", "j", "i"], "shape": [1, 2, 4, 5],
                 "dtype": "<f4", "chunk_shape": [1, 1, 4, 5],
                 "filters": [{"id": "shuffle", "element_size": 4}, {"id": "deflate", "level": 5}],
                 "fill_value": 9.969209968386869e36,
                 "chunks": [{"index": [0, 0, 0, 0], "offset": base, "length": 50},
                            {"index": [0, 1, 0, 0], "offset": base + 50, "length": 60}]}
            ]
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn granule(month: u32, base: u64, sha: &str) -> GranuleLayout {
        let facts = ObjectFacts {
            path: format!("V4r4/native/mon_mean/SSH/SSH_1992-{month:02}.nc"),
            size: 1000 + base,
            etag: Some(format!("etag-{sha}")),
            sha256: Some(sha.to_string()),
        };
        GranuleLayout::from_index(facts, &index(month, base)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn months(state: &VirtualState) -> Vec<String> {
        state
            .granules
            .iter()
            .map(|g| g.path[25..].to_string())
            .collect()
    }

    #[test]
    fn appends_backfills_in_time_order_and_is_idempotent() {
        let mut state = VirtualState::new("d", granule(1, 1000, "a"));
        assert_eq!(state.merge(granule(3, 3000, "c")).ok(), Some(Merge::Added));
        assert_eq!(state.merge(granule(2, 2000, "b")).ok(), Some(Merge::Added));
        assert_eq!(
            months(&state),
            ["SSH_1992-01.nc", "SSH_1992-02.nc", "SSH_1992-03.nc"]
        );
        let before = state.clone();
        assert_eq!(
            state.merge(granule(2, 2000, "b")).ok(),
            Some(Merge::Unchanged)
        );
        assert_eq!(state, before);
        // Time-dependent chunks per granule, static ones once, from the earliest granule.
        assert_eq!(state.granules[1].chunks["SSH"][1].offset, 2050);
        let xc = state.variables.iter().find(|v| v.name == "XC");
        assert_eq!(xc.map(|v| v.static_chunks[0].offset), Some(1108));
        let attributes = state.store_attributes();
        assert_eq!(attributes["time_coverage_start"], "1992-01-01T00:00:00");
        assert_eq!(attributes["time_coverage_end"], "1992-04-01T00:00:00");
    }

    #[test]
    fn an_earlier_granule_becomes_the_source_of_static_variables() {
        let mut state = VirtualState::new("d", granule(2, 2000, "b"));
        assert_eq!(state.merge(granule(1, 1000, "a")).ok(), Some(Merge::Added));
        assert_eq!(
            state.source_granule,
            "V4r4/native/mon_mean/SSH/SSH_1992-01.nc"
        );
        assert_eq!(state.attributes["title"], "month 1");
    }

    #[test]
    fn a_reprocessed_granule_replaces_its_refs_in_place() {
        let mut state = VirtualState::new("d", granule(1, 1000, "a"));
        state
            .merge(granule(2, 2000, "b"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            state.merge(granule(2, 7000, "b2")).ok(),
            Some(Merge::Replaced)
        );
        assert_eq!(state.granules.len(), 2);
        assert_eq!(state.granules[1].chunks["SSH"][0].offset, 7000);
        assert_eq!(state.granules[1].sha256.as_deref(), Some("b2"));
        // The source granule reprocessed: its static refs follow.
        state
            .merge(granule(1, 5000, "a2"))
            .unwrap_or_else(|e| panic!("{e}"));
        let xc = state.variables.iter().find(|v| v.name == "XC");
        assert_eq!(xc.map(|v| v.static_chunks[0].offset), Some(5108));
    }

    #[test]
    fn different_chunking_or_codecs_are_refused_naming_granule_and_difference() {
        let mut state = VirtualState::new("d", granule(1, 1000, "a"));
        let mut other = index(2, 2000);
        other.variables[2].chunk_shape = Some(vec![1, 2, 4, 5]);
        other.variables[2].chunks.truncate(1);
        let facts = ObjectFacts {
            path: "V4r4/native/mon_mean/SSH/SSH_1992-02.nc".into(),
            size: 1,
            etag: None,
            sha256: None,
        };
        let layout =
            GranuleLayout::from_index(facts.clone(), &other).unwrap_or_else(|e| panic!("{e}"));
        let err = state
            .merge(layout)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("SSH_1992-02.nc"), "{err}");
        assert!(
            err.contains("variable SSH: chunk_shape expected [1, 1, 4, 5], found [1, 2, 4, 5]"),
            "{err}"
        );

        let mut other = index(2, 2000);
        other.variables[2].filters.remove(0);
        let layout = GranuleLayout::from_index(facts, &other).unwrap_or_else(|e| panic!("{e}"));
        let err = state
            .merge(layout)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("filters expected [Shuffle"), "{err}");
        assert_eq!(state.granules.len(), 1, "nothing merged");
    }

    #[test]
    fn chunks_outside_the_grid_are_rejected() {
        let mut bad = index(1, 0);
        bad.variables[2].chunks[0].index = vec![0, 2, 0, 0];
        let facts = ObjectFacts {
            path: "g.nc".into(),
            size: 1,
            etag: None,
            sha256: None,
        };
        let err = GranuleLayout::from_index(facts, &bad)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("chunk [0, 2, 0, 0] lies outside the chunk grid [1, 2, 1, 1]"),
            "{err}"
        );
    }

    #[test]
    fn variable_names_that_are_not_one_path_segment_are_refused() {
        for name in ["../../escape", "a/b", "..", ".zarray", "", "a\\b", "a\nb"] {
            let mut bad = index(1, 0);
            bad.variables[2].name = name.to_string();
            let facts = ObjectFacts {
                path: "g.nc".into(),
                size: 1,
                etag: None,
                sha256: None,
            };
            let err = GranuleLayout::from_index(facts, &bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                err.contains("g.nc") && err.contains("not one plain path segment"),
                "{name:?}: {err}"
            );
        }
        assert!(is_plain_variable_name("SSH") && is_plain_variable_name("time_bnds"));
    }

    #[test]
    fn chunk_refs_serialise_flat() {
        let chunk = ChunkRef {
            index: vec![0, 3],
            offset: 10,
            length: 20,
            inline: None,
        };
        let text = serde_json::to_string(&chunk).unwrap_or_default();
        assert_eq!(text, "[10,20,0,3]");
        let back: ChunkRef = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, chunk);
        assert!(serde_json::from_str::<ChunkRef>("[1]").is_err());
        // A small chunk keeps its bytes beside the flat form.
        let time = ChunkRef {
            index: vec![0],
            offset: 7000,
            length: 4,
            inline: Some("AAAAAA==".into()),
        };
        let text = serde_json::to_string(&time).unwrap_or_default();
        assert_eq!(text, r#"{"at":[7000,4,0],"inline":"AAAAAA=="}"#);
        let back: ChunkRef = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, time);
        assert!(serde_json::from_str::<ChunkRef>(r#"{"at":[1],"inline":""}"#).is_err());
    }
}
