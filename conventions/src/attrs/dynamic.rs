//! The `dynamic_metadata` of a task (`docs/edp-compatibility.md` 2.1) and the task summary text.

use serde::Serialize;

use crate::catalog::{Dataset, Orientation, VectorComponents};
use crate::config::ProductionConfig;
use crate::time::{Frequency, Period};
use crate::vocab::Dimension;

/// The task summary (`docs/edp-compatibility.md` 2.1): `"This dataset contains " + monthly-averaged |
/// daily-averaged | instantaneous + " " + name + tail`, whitespace runs collapsed to one
/// space and the ends trimmed.
pub fn task_summary(frequency: Frequency, grouping_name: &str, description_tail: &str) -> String {
    let raw = format!(
        "This dataset contains {} {grouping_name}{description_tail}",
        frequency.summary_word()
    );
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The per-granule values a task carries, in Gen C key order. The planner writes them into
/// task lists; the writer takes them from the task (they are authoritative there, docs/edp-compatibility.md
/// 2.3) to build the global attributes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DynamicMetadata {
    /// Grouping `name`.
    pub name: String,
    /// Grouping `dimension`.
    pub dimension: Dimension,
    /// `%Y-%m-%dT%H:%M:%S` (the instant for SNAP).
    pub time_coverage_start: String,
    /// `%Y-%m-%dT%H:%M:%S` (the instant for SNAP).
    pub time_coverage_end: String,
    /// `%Y-%m-%dT%H:%M:%S` (the instant for SNAP).
    pub time_coverage_center: String,
    /// `center time of averaging period` or `snapshot time`.
    pub time_long_name: String,
    /// `P1M`, `P1D` or `PT0S`.
    pub time_coverage_duration: String,
    /// `P1M`, `P1D` or `PT0S`.
    pub time_coverage_resolution: String,
    /// Grouping `comment`, verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Grouping `field_components` (`None` when the grouping has none); serialised as a JSON
    /// object in grouping order, as in Gen C task lists.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ordered_map"
    )]
    pub field_components: Option<Vec<(String, VectorComponents)>>,
    /// Grouping `field_orientations` (`None` when the grouping has none).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ordered_map"
    )]
    pub field_orientations: Option<Vec<(String, Orientation)>>,
    /// [`task_summary`] with the configuration's tail for the product type.
    pub summary: String,
}

impl DynamicMetadata {
    /// The dynamic metadata of one granule of `dataset` for the record `period`.
    pub fn new(dataset: &Dataset, period: &Period, config: &ProductionConfig) -> DynamicMetadata {
        DynamicMetadata {
            name: dataset.name.clone(),
            dimension: dataset.dimension,
            time_coverage_start: period.time_coverage_start(),
            time_coverage_end: period.time_coverage_end(),
            time_coverage_center: period.time_coverage_center(),
            time_long_name: period.time_long_name().to_string(),
            time_coverage_duration: period.time_coverage_duration().to_string(),
            time_coverage_resolution: period.time_coverage_resolution().to_string(),
            comment: dataset.comment.clone(),
            field_components: non_empty(&dataset.field_components),
            field_orientations: non_empty(&dataset.field_orientations),
            summary: task_summary(
                period.frequency,
                &dataset.name,
                config.dataset_description_tail(dataset.product),
            ),
        }
    }
}

/// `Some(copy)` of a non-empty list.
fn non_empty<T: Clone>(items: &[T]) -> Option<Vec<T>> {
    (!items.is_empty()).then(|| items.to_vec())
}

/// Serialises `(key, value)` pairs as a JSON object, keeping their order.
fn ordered_map<S: serde::Serializer, T: Serialize>(
    pairs: &Option<Vec<(String, T)>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let pairs = pairs.as_deref().unwrap_or_default();
    let mut map = serializer.serialize_map(Some(pairs.len()))?;
    for (key, value) in pairs {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

impl Serialize for VectorComponents {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("VectorComponents", 2)?;
        s.serialize_field("x", &self.x)?;
        s.serialize_field("y", &self.y)?;
        s.end()
    }
}

impl Serialize for Orientation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_collapses_whitespace() {
        assert_eq!(
            task_summary(Frequency::AvgMon, "sea  surface height ", " on the grid. "),
            "This dataset contains monthly-averaged sea surface height on the grid."
        );
        assert_eq!(
            task_summary(Frequency::Snap, "x", ""),
            "This dataset contains instantaneous x"
        );
        assert!(task_summary(Frequency::AvgDay, "x", "").contains("daily-averaged x"));
    }
}
