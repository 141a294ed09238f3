//! The `dynamic_metadata` of a task (`docs/edp-compatibility.md` 2.1) and the task summary text.

use crate::catalog::Dataset;
use crate::config::ProductionConfig;
use crate::naming::{granule_file_name, time_invariant_file_name};
use crate::time::{Frequency, Period, TimeError, format_time};
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

/// The summary of a time-invariant granule, as ECCO writes it in its geometry and mixing
/// granules: `"This dataset provides " + name + tail`, whitespace collapsed.
pub fn time_invariant_summary(grouping_name: &str, description_tail: &str) -> String {
    let raw = format!("This dataset provides {grouping_name}{description_tail}");
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

/// The dynamic metadata of the one granule of a time-invariant `dataset`: the coverage of the
/// whole model run (start, end, centre = start, as ECCO's time-invariant granules have it), no
/// duration or resolution and no time axis, the time-invariant summary.
pub fn time_invariant_dynamic_metadata(
    dataset: &Dataset,
    config: &ProductionConfig,
) -> DynamicMetadata {
    let tail = config.dataset_description_tail(dataset.product);
    DynamicMetadata {
        comment: dataset.comment.clone(),
        ..run_coverage_metadata(
            &dataset.name,
            dataset.dimension,
            time_invariant_summary(&dataset.name, tail),
            config,
        )
    }
}

/// The dynamic metadata of a granule without a time axis (time-invariant datasets, grid
/// geometry): the coverage of the whole model run (start, end, centre = start), no duration,
/// resolution or time name, no comment.
pub fn run_coverage_metadata(
    name: &str,
    dimension: Dimension,
    summary: String,
    config: &ProductionConfig,
) -> DynamicMetadata {
    let start = format_time(config.clock.start());
    DynamicMetadata {
        name: name.to_string(),
        dimension,
        time_coverage_start: start.clone(),
        time_coverage_end: format_time(config.clock.end()),
        time_coverage_center: start,
        time_long_name: String::new(),
        time_coverage_duration: String::new(),
        time_coverage_resolution: String::new(),
        comment: None,
        field_components: None,
        field_orientations: None,
        summary,
    }
}

/// The file name and dynamic metadata of the granule of `dataset` at `frequency` and model
/// time step `step`, as the planner writes them into a task (for a time-invariant frequency:
/// the dataset's one granule, `step` unused).
pub fn granule_name_and_metadata(
    dataset: &Dataset,
    config: &ProductionConfig,
    frequency: Frequency,
    step: u64,
) -> Result<(String, DynamicMetadata), TimeError> {
    let product = dataset.product;
    let (version, label) = (&config.ecco_version, config.grid_label(product));
    if frequency.is_time_invariant() {
        return Ok((
            time_invariant_file_name(&dataset.filename, version, product, label),
            time_invariant_dynamic_metadata(dataset, config),
        ));
    }
    let period = config.clock.period(frequency, step)?;
    Ok((
        granule_file_name(&dataset.filename, &period, version, product, label),
        dynamic_metadata(dataset, &period, config),
    ))
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
