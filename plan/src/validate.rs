//! Validation of a task against its inputs before it runs: the granule's name must describe
//! what its inputs hold, so that a task list can never make edp write one period's values
//! under another period's final name (and replace that finished granule with wrong data).
//!
//! Checked, from the names alone (no input is read):
//!
//! - the granule file name parses (`<GROUPING>_<period>_<date>_ECCO_<version>_<type>_<label>.nc`);
//! - every input `.data`/`.meta` name is an MDS diagnostic name `<VAR>_<period>.<ts10>.<ext>`
//!   with one common time step (and equal to `edp.time_step` when the task carries it);
//! - the inputs' period token has the granule's frequency (`mon_mean` inputs for a `mon_mean`
//!   granule, ...);
//! - the date in the granule name is the one the model clock gives for that time step and
//!   frequency (the centre month / day, or the instant; for daily means also the day the
//!   period ends, as task lists made by EDP spell it).
//!
//! Every mismatch is a permanent error of the task that names the granule, the input and
//! what was expected and found.

use edp_conventions::naming::{GranuleName, MdsFileName};
use edp_conventions::{Frequency, ModelClock};
use edp_task_schemas::Task;
use thiserror::Error;

/// A task whose granule name does not match its inputs.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("invalid task for granule {granule}: {what}: expected {expected}, found {found}")]
pub struct TaskMismatch {
    /// The granule path of the task.
    pub granule: String,
    /// What was compared (names the input when it is about one).
    pub what: String,
    /// The value the task's other parts call for.
    pub expected: String,
    /// The value found.
    pub found: String,
}

/// Checks `task` as described in the module documentation, with the model clock of the
/// production configuration.
pub fn validate_task(task: &Task, clock: &ModelClock) -> Result<(), TaskMismatch> {
    let mismatch = |what: String, expected: String, found: String| TaskMismatch {
        granule: task.granule.clone(),
        what,
        expected,
        found,
    };
    let file_name = task.granule.rsplit('/').next().unwrap_or(&task.granule);
    let name = GranuleName::parse(file_name).map_err(|e| {
        mismatch(
            "granule file name".into(),
            "<GROUPING>_<period>_<date>_ECCO_<version>_<native|latlon>_<label>.nc".into(),
            format!("{file_name:?} ({})", e.reason),
        )
    })?;
    let frequency = name.period.frequency();

    let mut step: Option<(u64, String)> = None;
    for (_, pair) in task.input_pairs() {
        for location in [&pair.data, &pair.meta] {
            let base = location.rsplit('/').next().unwrap_or(location);
            let parsed = MdsFileName::parse_location(location).ok_or_else(|| {
                mismatch(
                    format!("input {location}"),
                    "an MDS file name <VAR>_<period>.<10-digit time step>.<data|meta> (or \
                     time_invariant/<VAR>/<VAR>.<data|meta>)"
                        .into(),
                    format!("{base:?}"),
                )
            })?;
            if parsed.period.frequency() != frequency {
                return Err(mismatch(
                    format!("period of input {location}"),
                    format!(
                        "{} inputs (granule period {})",
                        frequency.as_str(),
                        name.period
                    ),
                    format!("{} ({})", parsed.period, parsed.period.frequency().as_str()),
                ));
            }
            match &step {
                None => step = Some((parsed.step, location.clone())),
                Some((first, first_location)) if *first != parsed.step => {
                    return Err(mismatch(
                        format!("time step of input {location}"),
                        format!("{first} (the step of {first_location})"),
                        parsed.step.to_string(),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    let Some((step, location)) = step else {
        return Err(mismatch(
            "inputs".into(),
            "at least one [data, meta] pair".into(),
            "none".into(),
        ));
    };
    if let Some(edp) = &task.edp
        && edp.time_step != step
    {
        return Err(mismatch(
            "edp.time_step".into(),
            format!("{step} (the step of {location})"),
            edp.time_step.to_string(),
        ));
    }
    if frequency.is_time_invariant() {
        // One granule, named without a date; its inputs carry no step (0).
        return Ok(());
    }
    let period = clock.period(frequency, step).map_err(|e| {
        mismatch(
            format!("time step {step} of input {location}"),
            "a step inside the model run".into(),
            e.to_string(),
        )
    })?;
    let date = period.file_date();
    // Task lists made by EDP name a daily mean after the day its period ends (EDP bug: ours
    // use the centre); both spellings describe the same record.
    let edp_daily =
        (frequency == Frequency::AvgDay).then(|| period.end.format("%Y-%m-%d").to_string());
    if date != name.date && edp_daily.as_deref() != Some(name.date.as_str()) {
        return Err(mismatch(
            format!("date in the granule name (inputs at time step {step}, e.g. {location})"),
            date,
            name.date,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(granule: &str, step: &str, period: &str) -> Task {
        let data = format!("src/diags_monthly/SSH_{period}/SSH_{period}.{step}.data");
        let meta = data.replace(".data", ".meta");
        serde_json::from_value(serde_json::json!({
            "granule": granule,
            "variables": {"SSH": [[data, meta]]},
            "ecco_grid_loc": null, "ecco_mapping_factors_loc": null, "ecco_metadata_loc": null,
            "dynamic_metadata": {
                "name": "n", "dimension": "2D",
                "time_coverage_start": "1992-01-01T12:00:00", "time_coverage_end": "1992-02-01T00:00:00",
                "time_coverage_center": "1992-01-16T18:00:00", "time_long_name": "t",
                "time_coverage_duration": "P1M", "time_coverage_resolution": "P1M", "summary": "s"
            }
        }))
        .unwrap()
    }

    fn name(date: &str) -> String {
        format!(
            "out/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/\
             SEA_SURFACE_HEIGHT_mon_mean_{date}_ECCO_V4r4_native_llc0090.nc"
        )
    }

    /// The V4r4 clock independently: steps of 3600 s from 1992-01-01T12:00, so the monthly
    /// record ending 1992-02-01T00:00 has step 732 and the one ending 1992-03-01 has 1428.
    #[test]
    fn names_matching_the_inputs_pass() {
        let clock = ModelClock::v4r4();
        validate_task(&task(&name("1992-01"), "0000000732", "mon_mean"), &clock).unwrap();
        validate_task(&task(&name("1992-02"), "0000001428", "mon_mean"), &clock).unwrap();
    }

    #[test]
    fn a_name_for_another_period_is_refused_with_both_dates() {
        let clock = ModelClock::v4r4();
        let err =
            validate_task(&task(&name("1992-02"), "0000000732", "mon_mean"), &clock).unwrap_err();
        assert_eq!(err.expected, "1992-01");
        assert_eq!(err.found, "1992-02");
        let msg = err.to_string();
        assert!(msg.contains("SSH_mon_mean.0000000732.data"), "{msg}");
        let err =
            validate_task(&task(&name("1999-05"), "0000000732", "mon_mean"), &clock).unwrap_err();
        assert_eq!(
            (err.expected.as_str(), err.found.as_str()),
            ("1992-01", "1999-05")
        );
    }

    #[test]
    fn inputs_of_another_frequency_or_mixed_steps_are_refused() {
        let clock = ModelClock::v4r4();
        let err =
            validate_task(&task(&name("1992-01"), "0000000732", "day_mean"), &clock).unwrap_err();
        assert!(err.what.starts_with("period of input"), "{err}");
        let mut mixed = task(&name("1992-01"), "0000000732", "mon_mean");
        if let Some(pairs) = mixed.variables.get_mut("SSH") {
            pairs[0].meta = pairs[0].meta.replace("0000000732", "0000001428");
        }
        let err = validate_task(&mixed, &clock).unwrap_err();
        assert_eq!(
            (err.expected.starts_with("732"), err.found.as_str()),
            (true, "1428")
        );
        let err = validate_task(&task("out/x.nc", "0000000732", "mon_mean"), &clock).unwrap_err();
        assert_eq!(err.what, "granule file name");
    }
}
