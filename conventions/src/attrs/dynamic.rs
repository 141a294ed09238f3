//! The `dynamic_metadata` of a task (`docs/edp-compatibility.md` 2.1) and the task summary text.

use crate::catalog::Dataset;
use crate::config::ProductionConfig;
use crate::time::{Frequency, Period};

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

/// The per-granule values a task carries (`dynamic_metadata`): the task-list type, defined
/// once in `edp-task-schemas`. The planner writes them into task lists; the writer takes them
/// from the task (they are authoritative there, `docs/edp-compatibility.md` 2.3) to build the
/// global attributes.
pub use edp_task_schemas::DynamicMetadata;

/// The dynamic metadata of one granule of `dataset` for the record `period`, in Gen C key
/// order.
pub fn dynamic_metadata(
    dataset: &Dataset,
    period: &Period,
    config: &ProductionConfig,
) -> DynamicMetadata {
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
        field_components: (!dataset.field_components.is_empty())
            .then(|| dataset.field_components.iter().cloned().collect()),
        field_orientations: (!dataset.field_orientations.is_empty()).then(|| {
            dataset
                .field_orientations
                .iter()
                .map(|(name, orientation)| (name.clone(), orientation.as_str().to_string()))
                .collect()
        }),
        summary: task_summary(
            period.frequency,
            &dataset.name,
            config.dataset_description_tail(dataset.product),
        ),
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
