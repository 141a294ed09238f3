//! Time steps of a dataset, named by the date part of their granule names (`1992-01`,
//! `1992-01-01`, `1992-01-02T000000`): ordering, the next step, ranges of missing steps.

use chrono::{Months, NaiveDateTime, TimeDelta};
use edp_conventions::naming::OutputPeriod;

use edp_task_schemas::StepRange;

/// The spacing of a dataset's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    /// One calendar month (`mon_mean`).
    Month,
    /// A fixed interval (`day_mean`: one day; `snap`: inferred from the granules).
    Fixed(TimeDelta),
}

impl Spacing {
    /// The spacing of a period; SNAP uses the smallest positive difference between `known`
    /// steps (one day when fewer than two are known). A time-invariant dataset has no steps
    /// (its status and checks do not enumerate any); it gets the monthly spacing.
    pub fn of(period: OutputPeriod, known: &[NaiveDateTime]) -> Spacing {
        match period {
            OutputPeriod::MonMean | OutputPeriod::TimeInvariant => Spacing::Month,
            OutputPeriod::DayMean => Spacing::Fixed(TimeDelta::days(1)),
            OutputPeriod::Snap => {
                let mut sorted = known.to_vec();
                sorted.sort_unstable();
                sorted.dedup();
                let smallest = sorted
                    .windows(2)
                    .map(|w| w[1] - w[0])
                    .filter(|d| *d > TimeDelta::zero())
                    .min();
                Spacing::Fixed(smallest.unwrap_or(TimeDelta::days(1)))
            }
        }
    }

    /// The step after `t`.
    pub fn next(self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        match self {
            Spacing::Month => t.checked_add_months(Months::new(1)),
            Spacing::Fixed(delta) => t.checked_add_signed(delta),
        }
    }
}

/// Formats a step the way granule names write it for `period` (empty: time-invariant
/// granule names have no date).
pub fn step_name(period: OutputPeriod, t: NaiveDateTime) -> String {
    let format = match period {
        OutputPeriod::MonMean => "%Y-%m",
        OutputPeriod::DayMean => "%Y-%m-%d",
        OutputPeriod::Snap => "%Y-%m-%dT%H%M%S",
        OutputPeriod::TimeInvariant => return String::new(),
    };
    t.format(format).to_string()
}

/// Upper bound of the steps enumerated between two ends (a corrupt name must not make us
/// allocate millions of steps).
pub const MAX_STEPS: usize = 1_000_000;

/// Every step from `first` to `last` inclusive (at most [`MAX_STEPS`]).
pub fn enumerate(
    spacing: Spacing,
    first: NaiveDateTime,
    last: NaiveDateTime,
) -> Vec<NaiveDateTime> {
    let mut out = Vec::new();
    let mut t = first;
    while t <= last && out.len() < MAX_STEPS {
        out.push(t);
        match spacing.next(t) {
            Some(next) => t = next,
            None => break,
        }
    }
    out
}

/// Groups sorted steps that are consecutive at `spacing` into inclusive ranges.
pub fn ranges(period: OutputPeriod, spacing: Spacing, steps: &[NaiveDateTime]) -> Vec<StepRange> {
    let mut out: Vec<StepRange> = Vec::new();
    let mut current: Option<(NaiveDateTime, NaiveDateTime, u64)> = None;
    for &t in steps {
        current = match current {
            Some((first, last, count)) if spacing.next(last) == Some(t) => {
                Some((first, t, count + 1))
            }
            Some((first, last, count)) => {
                out.push(range(period, first, last, count));
                Some((t, t, 1))
            }
            None => Some((t, t, 1)),
        };
    }
    if let Some((first, last, count)) = current {
        out.push(range(period, first, last, count));
    }
    out
}

fn range(period: OutputPeriod, first: NaiveDateTime, last: NaiveDateTime, count: u64) -> StepRange {
    StepRange {
        first: step_name(period, first),
        last: step_name(period, last),
        count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn month(y: i32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap()
    }

    #[test]
    fn missing_months_group_into_ranges_across_a_year_end() {
        let steps = [
            month(1992, 11),
            month(1992, 12),
            month(1993, 1),
            month(1993, 5),
        ];
        let got = ranges(OutputPeriod::MonMean, Spacing::Month, &steps);
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].first.as_str(), got[0].last.as_str()),
            ("1992-11", "1993-01")
        );
        assert_eq!(got[0].count, 3);
        assert_eq!((got[1].first.as_str(), got[1].count), ("1993-05", 1));
    }

    #[test]
    fn snap_spacing_is_the_smallest_difference() {
        let a = month(1992, 1);
        let known = [a, a + TimeDelta::days(2), a + TimeDelta::days(1)];
        assert_eq!(
            Spacing::of(OutputPeriod::Snap, &known),
            Spacing::Fixed(TimeDelta::days(1))
        );
        assert_eq!(
            enumerate(Spacing::Month, month(1992, 1), month(1992, 12)).len(),
            12
        );
    }
}
