//! The model time axis (`docs/time-axis.md`): model clock, job frequencies, and the time
//! bounds, centre and CF/ACDD time values of one record.
//!
//! The MDS time-step number `ts` of an average is the **end** of its averaging interval:
//! `end = model_start + ts · step`. Bounds follow 8.2 exactly, with one deliberate difference
//! from EDP (bug 7.5 of `docs/edp-compatibility.md`): the last-record rule fires only when the record ends
//! exactly at `model_end_time`, not whenever it ends on the model end *date*.

use chrono::{Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use serde::Serialize;

/// `%Y-%m-%dT%H:%M:%S`: the format of every time string in task lists and global attributes.
pub const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// Errors of the time axis.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// A period asked of the time-invariant frequency, which has no time axis.
    #[error("time step {step}: time-invariant (TI) granules have no time period")]
    NoTimeAxis {
        /// The model time-step number asked for.
        step: u64,
    },
    /// A time string that does not have the form `YYYY-MM-DDThh:mm:ss`.
    #[error("invalid time '{found}' for {what}: expected YYYY-MM-DDThh:mm:ss")]
    InvalidTime {
        /// What the time was for (e.g. `model_start_time`).
        what: String,
        /// The rejected text.
        found: String,
    },
    /// A model clock that cannot work (end before start, step not positive, ...).
    #[error("invalid model clock: {reason}")]
    InvalidClock {
        /// Why.
        reason: String,
    },
    /// `ts · step` does not fit the calendar.
    #[error("time step {step} overflows the calendar (model step {step_seconds} s)")]
    StepOverflow {
        /// The model time-step number.
        step: u64,
        /// Length of one model step in seconds.
        step_seconds: i64,
    },
    /// A time before `model_start_time`.
    #[error("time {time} is before the model start {model_start}")]
    BeforeModelStart {
        /// The offending time.
        time: String,
        /// The model start time.
        model_start: String,
    },
    /// A record that ends after `model_end_time`.
    #[error("time step {step} ({time}) is after the model end {model_end}")]
    AfterModelEnd {
        /// The model time-step number.
        step: u64,
        /// Its time.
        time: String,
        /// The model end time.
        model_end: String,
    },
    /// A time that is not a whole number of model steps after the model start.
    #[error(
        "time {time} is not a whole number of model steps ({step_seconds} s) after {model_start}"
    )]
    NotWholeStep {
        /// The offending time.
        time: String,
        /// Length of one model step in seconds.
        step_seconds: i64,
        /// The model start time.
        model_start: String,
    },
    /// An average whose interval is empty after clipping (e.g. `ts = 0`).
    #[error(
        "{frequency} record at time step {step} has an empty averaging interval [{start}, {end}]"
    )]
    EmptyPeriod {
        /// The frequency.
        frequency: Frequency,
        /// The model time-step number.
        step: u64,
        /// Interval start after clipping.
        start: String,
        /// Interval end.
        end: String,
    },
    /// A time value that is not a whole number of hours since the model start, or does not
    /// fit int32 (the NetCDF encoding of `time` and `time_bnds`).
    #[error("{what} {time} is not a whole number of hours since {model_start} that fits int32")]
    NotWholeHours {
        /// Which value (`centre`, `start`, ...).
        what: &'static str,
        /// The offending time.
        time: String,
        /// The model start time.
        model_start: String,
    },
}

/// Output frequency of a job: the one definition lives in the leaf crate `edp-task-schemas`
/// (its wire spellings are the job-file ones), re-exported here for the time axis.
pub use edp_task_schemas::Frequency;

/// Formats a time as `YYYY-MM-DDThh:mm:ss`.
pub fn format_time(t: NaiveDateTime) -> String {
    t.format(TIME_FORMAT).to_string()
}

/// Parses `YYYY-MM-DDThh:mm:ss` (a space instead of `T` is accepted too).
pub fn parse_time(s: &str, what: &str) -> Result<NaiveDateTime, TimeError> {
    let trimmed = s.trim();
    NaiveDateTime::parse_from_str(trimmed, TIME_FORMAT)
        .or_else(|_| NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M:%S"))
        .map_err(|_| TimeError::InvalidTime {
            what: what.to_string(),
            found: s.to_string(),
        })
}

/// The model calendar: start, end and length of one time step (`docs/time-axis.md` 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelClock {
    start: NaiveDateTime,
    end: NaiveDateTime,
    step: TimeDelta,
}

/// The V4r4 model start, 1992-01-01T12:00:00 (CFG `data.cal`).
fn v4r4_start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1992, 1, 1)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .unwrap_or_default()
}

/// The V4r4 model end, 2017-12-31T12:00:00 (`ts = 227904`).
fn v4r4_end() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2017, 12, 31)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .unwrap_or_default()
}

impl ModelClock {
    /// A clock; the end must be after the start and the step a positive whole number of
    /// seconds.
    pub fn new(
        start: NaiveDateTime,
        end: NaiveDateTime,
        step: TimeDelta,
    ) -> Result<ModelClock, TimeError> {
        if end <= start {
            return Err(TimeError::InvalidClock {
                reason: format!(
                    "model end {} is not after model start {}",
                    format_time(end),
                    format_time(start)
                ),
            });
        }
        if step <= TimeDelta::zero() || step.subsec_nanos() != 0 {
            return Err(TimeError::InvalidClock {
                reason: format!(
                    "model step must be a positive whole number of seconds, found {step}"
                ),
            });
        }
        Ok(ModelClock { start, end, step })
    }

    /// The V4r4 clock: 1992-01-01T12:00:00 .. 2017-12-31T12:00:00, one-hour steps.
    pub fn v4r4() -> ModelClock {
        ModelClock {
            start: v4r4_start(),
            end: v4r4_end(),
            step: TimeDelta::hours(1),
        }
    }

    /// `model_start_time`.
    pub fn start(&self) -> NaiveDateTime {
        self.start
    }

    /// `model_end_time`.
    pub fn end(&self) -> NaiveDateTime {
        self.end
    }

    /// Length of one model step.
    pub fn step(&self) -> TimeDelta {
        self.step
    }

    /// Length of one model step in seconds.
    pub fn step_seconds(&self) -> i64 {
        self.step.num_seconds()
    }

    /// The time of model step `ts`: `model_start + ts · step`.
    pub fn step_to_datetime(&self, ts: u64) -> Result<NaiveDateTime, TimeError> {
        let overflow = || TimeError::StepOverflow {
            step: ts,
            step_seconds: self.step_seconds(),
        };
        let seconds = i64::try_from(ts)
            .ok()
            .and_then(|n| n.checked_mul(self.step_seconds()))
            .ok_or_else(overflow)?;
        let delta = TimeDelta::try_seconds(seconds).ok_or_else(overflow)?;
        self.start.checked_add_signed(delta).ok_or_else(overflow)
    }

    /// The model step of time `t`; an error when `t` is before the start or not a whole
    /// number of steps after it.
    pub fn datetime_to_step(&self, t: NaiveDateTime) -> Result<u64, TimeError> {
        let since = t - self.start;
        if since < TimeDelta::zero() {
            return Err(TimeError::BeforeModelStart {
                time: format_time(t),
                model_start: format_time(self.start),
            });
        }
        let seconds = since.num_seconds();
        if since.subsec_nanos() != 0 || seconds % self.step_seconds() != 0 {
            return Err(TimeError::NotWholeStep {
                time: format_time(t),
                step_seconds: self.step_seconds(),
                model_start: format_time(self.start),
            });
        }
        // Non-negative by the check above.
        Ok((seconds / self.step_seconds()).unsigned_abs())
    }

    /// The model step of `model_end_time` (227904 for V4r4).
    pub fn end_step(&self) -> Result<u64, TimeError> {
        self.datetime_to_step(self.end)
    }

    /// `t` as int32 hours since the model start (the encoding of `time` and `time_bnds`).
    pub fn hours_since_start(
        &self,
        t: NaiveDateTime,
        what: &'static str,
    ) -> Result<i32, TimeError> {
        let since = t - self.start;
        let err = || TimeError::NotWholeHours {
            what,
            time: format_time(t),
            model_start: format_time(self.start),
        };
        if since.subsec_nanos() != 0 || since.num_seconds() % 3600 != 0 {
            return Err(err());
        }
        i32::try_from(since.num_hours()).map_err(|_| err())
    }

    /// CF `units` of `time` and `time_bnds`: `hours since 1992-01-01 12:00:00` for V4r4
    /// (the value of CFG `time_coordinate_metadata.json`), derived from the clock so that it
    /// always matches the values of [`Period::time`].
    pub fn time_units(&self) -> String {
        format!("hours since {}", self.start.format("%Y-%m-%d %H:%M:%S"))
    }

    /// Bounds, centre and encoded time values of the record with step `ts` (8.2).
    ///
    /// Averages: `end = start_of_run + ts·step`, `start = end − 1 month / 1 day` (day of
    /// month clamped), clipped to the model start (first record) and, only when
    /// `end == model_end_time`, moved forward to the end of the model's last partial day
    /// (last record; +12 h for V4r4). SNAP: the instant, no bounds.
    pub fn period(&self, frequency: Frequency, ts: u64) -> Result<Period, TimeError> {
        if frequency.is_time_invariant() {
            return Err(TimeError::NoTimeAxis { step: ts });
        }
        let end = self.step_to_datetime(ts)?;
        if end > self.end {
            return Err(TimeError::AfterModelEnd {
                step: ts,
                time: format_time(end),
                model_end: format_time(self.end),
            });
        }
        let start = match frequency {
            Frequency::Snap => {
                let time = self.hours_since_start(end, "snapshot time")?;
                return Ok(Period {
                    frequency,
                    step: ts,
                    start: end,
                    end,
                    centre: end,
                    time,
                    bounds: None,
                });
            }
            Frequency::AvgMon => end.checked_sub_months(Months::new(1)),
            Frequency::AvgDay => end.checked_sub_signed(TimeDelta::days(1)),
            Frequency::TimeInvariant => return Err(TimeError::NoTimeAxis { step: ts }),
        }
        .ok_or(TimeError::StepOverflow {
            step: ts,
            step_seconds: self.step_seconds(),
        })?;
        let start = self.clip_start(start, end);
        if start >= end {
            return Err(TimeError::EmptyPeriod {
                frequency,
                step: ts,
                start: format_time(start),
                end: format_time(end),
            });
        }
        let centre = start + (end - start) / 2;
        Ok(Period {
            frequency,
            step: ts,
            start,
            end,
            centre,
            time: self.hours_since_start(centre, "centre time")?,
            bounds: Some([
                self.hours_since_start(start, "start time")?,
                self.hours_since_start(end, "end time")?,
            ]),
        })
    }

    /// The two clipping rules of 8.2.
    fn clip_start(&self, start: NaiveDateTime, end: NaiveDateTime) -> NaiveDateTime {
        // First record: the run starts at 12:00, not at a month/day boundary.
        let mut start = start.max(self.start);
        // Last record: the run ends at model_end_time (12:00 for V4r4), so its final record
        // is a partial one; its start moves forward by `24 h − time of day of the model end`.
        // EDP fires this rule for every record ending on the model end *date* (which also
        // shortens the regular daily record ending 2017-12-31T00:00); we compare the exact
        // time (docs/edp-compatibility.md 7.5). When the model ends at midnight the formula would add a full
        // day; there is no partial record then, so the shift is zero (this is also what the
        // equivalent calendar formulation of 8.2, `floor_day(end − 1 s)`, gives).
        if end == self.end {
            let since_midnight = self.end - self.end.date().and_time(NaiveTime::MIN);
            if since_midnight > TimeDelta::zero() {
                start += TimeDelta::days(1) - since_midnight;
            }
        }
        start
    }
}

impl Serialize for ModelClock {
    /// `{"start": "...", "end": "...", "step_seconds": n}`; used by the configuration hash.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("ModelClock", 3)?;
        s.serialize_field("start", &format_time(self.start))?;
        s.serialize_field("end", &format_time(self.end))?;
        s.serialize_field("step_seconds", &self.step_seconds())?;
        s.end()
    }
}

/// One record of the time axis: an averaging interval or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    /// Frequency of the record.
    pub frequency: Frequency,
    /// Model time step of the record (the MDS file name number).
    pub step: u64,
    /// Interval start after clipping (the instant for SNAP).
    pub start: NaiveDateTime,
    /// Interval end (the instant for SNAP).
    pub end: NaiveDateTime,
    /// Interval centre (the instant for SNAP).
    pub centre: NaiveDateTime,
    time: i32,
    bounds: Option<[i32; 2]>,
}

impl Period {
    /// True for SNAP records.
    pub fn is_instant(&self) -> bool {
        self.bounds.is_none()
    }

    /// The `time` value: centre (or instant) in int32 hours since the model start.
    pub fn time(&self) -> i32 {
        self.time
    }

    /// The `time_bnds` values `[start, end]` in int32 hours since the model start; `None`
    /// for SNAP (no bounds are written).
    pub fn time_bnds(&self) -> Option<[i32; 2]> {
        self.bounds
    }

    /// `time_coverage_start` (the instant for SNAP).
    pub fn time_coverage_start(&self) -> String {
        format_time(self.start)
    }

    /// `time_coverage_end` (the instant for SNAP).
    pub fn time_coverage_end(&self) -> String {
        format_time(self.end)
    }

    /// `time_coverage_center` of the task's dynamic metadata (the instant for SNAP).
    pub fn time_coverage_center(&self) -> String {
        format_time(self.centre)
    }

    /// `time_coverage_duration`: `P1M`, `P1D` or `PT0S`.
    pub fn time_coverage_duration(&self) -> &'static str {
        self.frequency.duration()
    }

    /// `time_coverage_resolution`: the same as the duration.
    pub fn time_coverage_resolution(&self) -> &'static str {
        self.frequency.duration()
    }

    /// `long_name` of `time`.
    pub fn time_long_name(&self) -> &'static str {
        self.frequency.time_long_name()
    }

    /// The date part of the granule file name (`docs/naming.md` 1): `YYYY-MM` of the
    /// centre (monthly), `YYYY-MM-DD` of the centre (daily; EDP uses the end, bug 7.4) or
    /// `YYYY-MM-DDThhmmss` of the instant (SNAP).
    pub fn file_date(&self) -> String {
        let format = match self.frequency {
            Frequency::AvgMon => "%Y-%m",
            Frequency::AvgDay => "%Y-%m-%d",
            // `period` never makes a time-invariant period.
            Frequency::Snap | Frequency::TimeInvariant => "%Y-%m-%dT%H%M%S",
        };
        self.centre.format(format).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        parse_time(s, "test").unwrap()
    }

    #[test]
    fn steps_and_times_convert_both_ways() {
        let clock = ModelClock::v4r4();
        assert_eq!(clock.step_to_datetime(0).unwrap(), t("1992-01-01T12:00:00"));
        assert_eq!(
            clock.step_to_datetime(732).unwrap(),
            t("1992-02-01T00:00:00")
        );
        assert_eq!(clock.end_step().unwrap(), 227_904);
        assert_eq!(
            clock.datetime_to_step(t("1992-03-01T00:00:00")).unwrap(),
            1428
        );
        assert!(matches!(
            clock.datetime_to_step(t("1992-03-01T00:30:00")),
            Err(TimeError::NotWholeStep { .. })
        ));
        assert!(matches!(
            clock.datetime_to_step(t("1991-12-31T00:00:00")),
            Err(TimeError::BeforeModelStart { .. })
        ));
        assert!(matches!(
            clock.step_to_datetime(u64::MAX),
            Err(TimeError::StepOverflow { .. })
        ));
    }

    #[test]
    fn clock_rejects_nonsense() {
        let start = t("2000-01-01T00:00:00");
        assert!(ModelClock::new(start, start, TimeDelta::hours(1)).is_err());
        let end = t("2001-01-01T00:00:00");
        assert!(ModelClock::new(start, end, TimeDelta::zero()).is_err());
        assert!(ModelClock::new(start, end, TimeDelta::milliseconds(1500)).is_err());
        assert!(ModelClock::new(start, end, TimeDelta::hours(1)).is_ok());
    }

    #[test]
    fn records_outside_the_run_are_errors() {
        let clock = ModelClock::v4r4();
        assert!(matches!(
            clock.period(Frequency::AvgMon, 227_905),
            Err(TimeError::AfterModelEnd { .. })
        ));
        assert!(matches!(
            clock.period(Frequency::AvgDay, 0),
            Err(TimeError::EmptyPeriod { .. })
        ));
        // An instant at the model start is fine.
        assert_eq!(clock.period(Frequency::Snap, 0).unwrap().time(), 0);
    }

    #[test]
    fn units_follow_the_clock_start() {
        assert_eq!(
            ModelClock::v4r4().time_units(),
            "hours since 1992-01-01 12:00:00"
        );
    }
}
