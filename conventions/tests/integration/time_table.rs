//! Every worked example of `docs/time-axis.md` 4, typed in from the table.

use chrono::{NaiveDateTime, TimeDelta};
use edp_conventions::Frequency;
use edp_conventions::time::{ModelClock, parse_time};

fn t(s: &str) -> NaiveDateTime {
    parse_time(&format!("{s}:00"), "test").unwrap()
}

/// One row: ts, freq, start, end, centre, time_bnds, time, file date.
struct Row {
    ts: u64,
    freq: Frequency,
    start: &'static str,
    end: &'static str,
    centre: &'static str,
    bnds: [i32; 2],
    time: i32,
    date: &'static str,
}

#[rustfmt::skip]
const AVERAGES: &[Row] = &[
    Row { ts: 12, freq: Frequency::AvgDay, start: "1992-01-01T12:00", end: "1992-01-02T00:00", centre: "1992-01-01T18:00", bnds: [0, 12], time: 6, date: "1992-01-01" },
    Row { ts: 36, freq: Frequency::AvgDay, start: "1992-01-02T00:00", end: "1992-01-03T00:00", centre: "1992-01-02T12:00", bnds: [12, 36], time: 24, date: "1992-01-02" },
    Row { ts: 227892, freq: Frequency::AvgDay, start: "2017-12-30T00:00", end: "2017-12-31T00:00", centre: "2017-12-30T12:00", bnds: [227868, 227892], time: 227880, date: "2017-12-30" },
    Row { ts: 227904, freq: Frequency::AvgDay, start: "2017-12-31T00:00", end: "2017-12-31T12:00", centre: "2017-12-31T06:00", bnds: [227892, 227904], time: 227898, date: "2017-12-31" },
    Row { ts: 732, freq: Frequency::AvgMon, start: "1992-01-01T12:00", end: "1992-02-01T00:00", centre: "1992-01-16T18:00", bnds: [0, 732], time: 366, date: "1992-01" },
    Row { ts: 1428, freq: Frequency::AvgMon, start: "1992-02-01T00:00", end: "1992-03-01T00:00", centre: "1992-02-15T12:00", bnds: [732, 1428], time: 1080, date: "1992-02" },
    Row { ts: 2172, freq: Frequency::AvgMon, start: "1992-03-01T00:00", end: "1992-04-01T00:00", centre: "1992-03-16T12:00", bnds: [1428, 2172], time: 1800, date: "1992-03" },
    Row { ts: 158532, freq: Frequency::AvgMon, start: "2010-01-01T00:00", end: "2010-02-01T00:00", centre: "2010-01-16T12:00", bnds: [157788, 158532], time: 158160, date: "2010-01" },
    Row { ts: 227172, freq: Frequency::AvgMon, start: "2017-11-01T00:00", end: "2017-12-01T00:00", centre: "2017-11-16T00:00", bnds: [226452, 227172], time: 226812, date: "2017-11" },
    Row { ts: 227904, freq: Frequency::AvgMon, start: "2017-12-01T00:00", end: "2017-12-31T12:00", centre: "2017-12-16T06:00", bnds: [227172, 227904], time: 227538, date: "2017-12" },
];

#[test]
fn every_average_row_of_the_worked_examples_table() {
    let clock = ModelClock::v4r4();
    for row in AVERAGES {
        let p = clock.period(row.freq, row.ts).unwrap();
        let what = format!("{} ts={}", row.freq, row.ts);
        assert_eq!(p.start, t(row.start), "start {what}");
        assert_eq!(p.end, t(row.end), "end {what}");
        assert_eq!(p.centre, t(row.centre), "centre {what}");
        assert_eq!(p.time_bnds(), Some(row.bnds), "time_bnds {what}");
        assert_eq!(p.time(), row.time, "time {what}");
        assert_eq!(p.file_date(), row.date, "file date {what}");
        assert_eq!(p.time_coverage_start(), format!("{}:00", row.start));
        assert_eq!(p.time_coverage_end(), format!("{}:00", row.end));
        assert_eq!(p.time_coverage_center(), format!("{}:00", row.centre));
        assert_eq!(p.time_long_name(), "center time of averaging period");
        let duration = if row.freq == Frequency::AvgMon {
            "P1M"
        } else {
            "P1D"
        };
        assert_eq!(p.time_coverage_duration(), duration);
        assert_eq!(p.time_coverage_resolution(), duration);
        assert!(!p.is_instant());
    }
}

#[test]
fn snap_row_of_the_worked_examples_table() {
    let p = ModelClock::v4r4().period(Frequency::Snap, 12).unwrap();
    assert!(p.is_instant());
    assert_eq!(p.time(), 12);
    assert_eq!(p.time_bnds(), None);
    for value in [
        p.time_coverage_start(),
        p.time_coverage_end(),
        p.time_coverage_center(),
    ] {
        assert_eq!(value, "1992-01-02T00:00:00");
    }
    assert_eq!(p.file_date(), "1992-01-02T000000");
    assert_eq!(p.time_coverage_duration(), "PT0S");
    assert_eq!(p.time_long_name(), "snapshot time");
}

#[test]
fn daily_227892_differs_from_the_edp_row() {
    // The row marked EDP in 8.4: date-based clipping shortens the regular record ending
    // 2017-12-31T00:00 and EDP names it by its end date. We keep the full day (docs/edp-compatibility.md 7.4,
    // 7.5), so the record no longer collides with the final one.
    let clock = ModelClock::v4r4();
    let ours = clock.period(Frequency::AvgDay, 227_892).unwrap();
    let edp_start = t("2017-12-30T12:00");
    let edp_centre = t("2017-12-30T18:00");
    let (edp_bnds, edp_time, edp_date) = ([227_880, 227_892], 227_886, "2017-12-31");
    assert_ne!(ours.start, edp_start);
    assert_ne!(ours.centre, edp_centre);
    assert_ne!(ours.time_bnds(), Some(edp_bnds));
    assert_ne!(ours.time(), edp_time);
    assert_ne!(ours.file_date(), edp_date);
    // Only the end agrees.
    assert_eq!(ours.end, t("2017-12-31T00:00"));
    let last = clock.period(Frequency::AvgDay, 227_904).unwrap();
    assert_ne!(ours.file_date(), last.file_date());
}

#[test]
fn first_record_rule_clips_to_the_model_start() {
    // Independent check: a month before 1992-02-01T00:00 would start on 1992-01-01T00:00,
    // 12 hours before the run.
    let p = ModelClock::v4r4().period(Frequency::AvgMon, 732).unwrap();
    assert_eq!(p.start, ModelClock::v4r4().start());
    assert_eq!(p.end - p.start, TimeDelta::hours(732));
}

#[test]
fn last_record_rule_needs_the_exact_model_end() {
    // A clock ending at 06:00: the final partial record starts 18 h after end − 1 day.
    let clock = ModelClock::new(
        t("2000-01-01T00:00"),
        t("2000-03-10T06:00"),
        TimeDelta::hours(1),
    )
    .unwrap();
    let last = clock.end_step().unwrap();
    let p = clock.period(Frequency::AvgDay, last).unwrap();
    assert_eq!(
        (p.start, p.end),
        (t("2000-03-10T00:00"), t("2000-03-10T06:00"))
    );
    let p = clock.period(Frequency::AvgMon, last).unwrap();
    assert_eq!(p.start, t("2000-02-11T00:00"));
    // The record ending at midnight of the same date is untouched.
    let p = clock.period(Frequency::AvgDay, last - 6).unwrap();
    assert_eq!(
        (p.start, p.end),
        (t("2000-03-09T00:00"), t("2000-03-10T00:00"))
    );
}

#[test]
fn a_model_ending_at_midnight_has_no_partial_last_record() {
    // V4r5 ends at 2020-01-01T00:00: the last monthly record is all of December.
    let clock = ModelClock::new(
        t("1992-01-01T12:00"),
        t("2020-01-01T00:00"),
        TimeDelta::hours(1),
    )
    .unwrap();
    let p = clock
        .period(Frequency::AvgMon, clock.end_step().unwrap())
        .unwrap();
    assert_eq!(
        (p.start, p.end),
        (t("2019-12-01T00:00"), t("2020-01-01T00:00"))
    );
    assert_eq!(p.file_date(), "2019-12");
}

#[test]
fn month_subtraction_clamps_the_day() {
    // A clock whose monthly dumps fall on the 31st: one month before 2001-03-31 is 02-28.
    let clock = ModelClock::new(
        t("2000-01-01T00:00"),
        t("2002-01-01T00:00"),
        TimeDelta::days(1),
    )
    .unwrap();
    let ts = clock.datetime_to_step(t("2001-03-31T00:00")).unwrap();
    let p = clock.period(Frequency::AvgMon, ts).unwrap();
    assert_eq!(p.start, t("2001-02-28T00:00"));
}

#[test]
fn the_v4r4_records_tile_the_run_without_gaps() {
    // docs/time-axis.md 1: 9,497 daily and 312 monthly records, the last one partial.
    let clock = ModelClock::v4r4();
    let end = clock.end_step().unwrap();
    let daily: Vec<u64> = (12..end).step_by(24).chain([end]).collect();
    let mut monthly = Vec::new();
    let mut month = t("1992-02-01T00:00");
    while month < clock.end() {
        monthly.push(clock.datetime_to_step(month).unwrap());
        month = month.checked_add_months(chrono::Months::new(1)).unwrap();
    }
    monthly.push(end);
    assert_eq!((daily.len(), monthly.len()), (9497, 312));
    for (freq, steps) in [(Frequency::AvgDay, daily), (Frequency::AvgMon, monthly)] {
        let mut previous_end = clock.start();
        let mut dates = std::collections::HashSet::new();
        for ts in steps {
            let p = clock.period(freq, ts).unwrap();
            assert_eq!(p.start, previous_end, "{freq} ts={ts}");
            assert!(
                dates.insert(p.file_date()),
                "{freq} ts={ts}: duplicate file date"
            );
            previous_end = p.end;
        }
        assert_eq!(previous_end, clock.end());
    }
}
