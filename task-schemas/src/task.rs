//! One task = one output granule, in the task-list format of the Python EDP (Gen C), plus our
//! own bookkeeping under the extra top-level key `"edp"`, which EDP ignores.
//!
//! Key order matters: EDP writes task lists with `json.dump(indent=4)` in insertion order and we
//! write byte-compatible files, so the field order of these structs *is* the output key order
//! (`docs/edp-compatibility.md` 2.1). Reading accepts Gen B (no `ecco_cfg_loc`, `comment` before
//! `time_long_name`) and Gen C; unknown keys are ignored.

use std::fmt;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Dimension, Frequency, ProductKind, ProductType};

/// A whole task list: a JSON array, one element per output granule.
pub type TaskList = Vec<Task>;

/// One output granule and everything needed to produce it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Task {
    /// Output path or `s3://` URI of the granule (`<dest>/<ver>/<type>/<period>/<GROUPING>/<name>.nc`).
    pub granule: String,
    /// Output variable name -> input components. A direct variable has one `[data, meta]`
    /// pair; a vector variable (lat-lon `EVEL` ...) has two, x then y, in the order of
    /// `dynamic_metadata.field_components[var]`.
    pub variables: IndexMap<String, Vec<InputPair>>,
    /// Configuration YAML location (Gen C; absent in Gen B task lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecco_cfg_loc: Option<String>,
    /// Grid location as given to the planner (`null` when EDP was run without it).
    #[serde(default)]
    pub ecco_grid_loc: Option<String>,
    /// Lat-lon mapping factors location (`null` when EDP was run without it).
    #[serde(default)]
    pub ecco_mapping_factors_loc: Option<String>,
    /// ECCO metadata JSON directory (`null` when EDP was run without it).
    #[serde(default)]
    pub ecco_metadata_loc: Option<String>,
    /// Per-granule metadata computed by the planner; authoritative for times and texts.
    pub dynamic_metadata: DynamicMetadata,
    /// Gen C time-invariant tasks only: NetCDF file to re-attribute (accepted, not supported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_netcdf: Option<String>,
    /// Gen C time-invariant tasks only (accepted, not supported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_attributes: Option<bool>,
    /// Our bookkeeping; absent in task lists written by EDP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edp: Option<EdpTaskInfo>,
}

/// Which EDP generation a task's layout corresponds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskGeneration {
    /// `processing/` code: no `ecco_cfg_loc` in tasks.
    B,
    /// Current EDP: `ecco_cfg_loc` in every task.
    C,
}

impl Task {
    /// Gen C when the task carries `ecco_cfg_loc`, Gen B otherwise.
    pub fn generation(&self) -> TaskGeneration {
        if self.ecco_cfg_loc.is_some() {
            TaskGeneration::C
        } else {
            TaskGeneration::B
        }
    }

    /// The x/y input variables of `variable` when it is a vector variable.
    pub fn vector_components(&self, variable: &str) -> Option<&XyComponents> {
        self.dynamic_metadata
            .field_components
            .as_ref()
            .and_then(|components| components.get(variable))
    }

    /// True when at least one output variable is built from x/y components.
    pub fn has_vector_variables(&self) -> bool {
        self.variables
            .keys()
            .any(|name| self.vector_components(name).is_some())
    }

    /// Every input pair of the task, in variable order.
    pub fn input_pairs(&self) -> impl Iterator<Item = (&str, &InputPair)> {
        self.variables
            .iter()
            .flat_map(|(name, pairs)| pairs.iter().map(move |pair| (name.as_str(), pair)))
    }

    /// The task with our `edp` bookkeeping removed: exactly what EDP itself would write.
    pub fn without_edp(&self) -> Task {
        Task {
            edp: None,
            ..self.clone()
        }
    }
}

/// One input component: the `.data` file and its `.meta` file. JSON: `[data, meta]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InputPair {
    /// The `.data` file (local path or `s3://` URI).
    pub data: String,
    /// The `.meta` file (local path or `s3://` URI).
    pub meta: String,
}

impl InputPair {
    /// A pair of locations.
    pub fn new(data: impl Into<String>, meta: impl Into<String>) -> InputPair {
        InputPair {
            data: data.into(),
            meta: meta.into(),
        }
    }
}

impl Serialize for InputPair {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (&self.data, &self.meta).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for InputPair {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairVisitor;

        impl<'de> serde::de::Visitor<'de> for PairVisitor {
            type Value = InputPair;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a [data, meta] pair of two file locations")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<InputPair, A::Error> {
                use serde::de::Error;
                let data: String = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let meta: String = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                // A third element would be silently dropped by a tuple visitor; EDP pairs are
                // exactly two long, so anything longer is a malformed task.
                let mut extra = 0usize;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    extra += 1;
                }
                if extra > 0 {
                    return Err(A::Error::invalid_length(2 + extra, &self));
                }
                Ok(InputPair { data, meta })
            }
        }

        deserializer.deserialize_seq(PairVisitor)
    }
}

impl JsonSchema for InputPair {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "InputPair".into()
    }

    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "[<.data location>, <.meta location>] of one input component",
            "type": "array",
            "prefixItems": [
                { "type": "string", "pattern": "\\.data$" },
                { "type": "string", "pattern": "\\.meta$" }
            ],
            "items": false,
            "minItems": 2,
            "maxItems": 2
        })
    }
}

/// Per-granule metadata. Field order = Gen C output order (`docs/edp-compatibility.md` 2.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DynamicMetadata {
    /// Grouping `name`.
    pub name: String,
    /// Grouping `dimension`.
    pub dimension: Dimension,
    /// `%Y-%m-%dT%H:%M:%S`, no zone.
    pub time_coverage_start: String,
    /// `%Y-%m-%dT%H:%M:%S`, no zone.
    pub time_coverage_end: String,
    /// `%Y-%m-%dT%H:%M:%S`, no zone.
    pub time_coverage_center: String,
    /// `center time of averaging period` or `snapshot time`.
    pub time_long_name: String,
    /// `P1M`, `P1D` or `PT0S`.
    pub time_coverage_duration: String,
    /// `P1M`, `P1D` or `PT0S`.
    pub time_coverage_resolution: String,
    /// Grouping `comment`, verbatim, when the grouping has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Vector variables: output variable -> x/y input variables (lat-lon groupings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_components: Option<IndexMap<String, XyComponents>>,
    /// Vector variables: output variable -> `zonal` / `meridional`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_orientations: Option<IndexMap<String, String>>,
    /// Dataset summary text.
    pub summary: String,
}

/// The two input variables of a vector output variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct XyComponents {
    /// Input variable along the local x axis (e.g. `UVEL`).
    pub x: String,
    /// Input variable along the local y axis (e.g. `VVEL`).
    pub y: String,
}

/// Our bookkeeping for a task, stored under the top-level key `"edp"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EdpTaskInfo {
    /// Content hash of the task (`edp_plan::task_id`): 64 lower-case hex digits.
    pub task_id: String,
    /// Product type x dimension.
    pub product_kind: ProductKind,
    /// True when at least one output variable is a rotated x/y vector.
    #[serde(default)]
    pub vector: bool,
    /// Grouping id within the groupings of `product_type`.
    pub grouping_id: u32,
    /// Output grid.
    pub product_type: ProductType,
    /// Output frequency.
    pub frequency: Frequency,
    /// Model time step of the inputs (10-digit number of the MDS file names).
    pub time_step: u64,
    /// Every input file with its size and ETag when known (from the inventory).
    #[serde(default)]
    pub inputs: Vec<InputObject>,
    /// Estimated cost in core-seconds (`edp_plan::cost`).
    pub cost_core_seconds: f64,
    /// Hash of the production configuration the task was planned with.
    #[serde(default)]
    pub config_hash: String,
    /// Version of the software that planned the task.
    pub software_version: String,
}

/// An input object with what the inventory knows about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct InputObject {
    /// Location exactly as written in `variables`.
    pub location: String,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// S3 ETag (quotes removed) or a local stand-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_pair_is_a_two_element_array() {
        let pair: InputPair = serde_json::from_str(r#"["a.data", "a.meta"]"#).unwrap();
        assert_eq!(pair, InputPair::new("a.data", "a.meta"));
        assert_eq!(
            serde_json::to_string(&pair).unwrap(),
            r#"["a.data","a.meta"]"#
        );
        assert!(serde_json::from_str::<InputPair>(r#"["a.data"]"#).is_err());
        let three = serde_json::from_str::<InputPair>(r#"["a.data", "a.meta", "x"]"#);
        assert!(three.unwrap_err().to_string().contains("length 3"));
    }
}
