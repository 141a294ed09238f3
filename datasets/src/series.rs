//! Series QA of one dataset from what its granules say about themselves ([`GranuleHeader`]),
//! not from their file names alone: every granule's `time`, `time_bnds` and
//! `time_coverage_*` agree with its name and the dataset's period; the series is monotonic
//! without duplicates, overlaps or gaps; units and calendar are the same everywhere; every
//! granule has the same structure; values hold no Inf, respect `valid_min`/`valid_max` and
//! have fill exactly where land is.
//!
//! This module is pure: headers come from NetCDF files or chunk indexes (`header`, behind
//! the `netcdf` feature), so the rules are tested on plain values.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDateTime, TimeDelta};
use edp_conventions::naming::{GranuleName, OutputPeriod};
use edp_task_schemas::CheckProblem;

use crate::id::DatasetId;
use crate::steps::{Spacing, enumerate, ranges};

/// What one granule says about itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GranuleHeader {
    /// File name.
    pub name: String,
    /// `time` values (decoded to times with `time_units`).
    pub time: Vec<f64>,
    /// `time_bnds` values, flattened (`[start, end]` per time), `None` when absent.
    pub time_bnds: Option<Vec<f64>>,
    /// `units` of `time`.
    pub time_units: Option<String>,
    /// `calendar` of `time`.
    pub time_calendar: Option<String>,
    /// Global `time_coverage_start`.
    pub coverage_start: Option<String>,
    /// Global `time_coverage_end`.
    pub coverage_end: Option<String>,
    /// Variables in file order.
    pub variables: Vec<VariableShape>,
    /// Global attributes that must not vary across the dataset (name -> value as text).
    pub invariant_attributes: BTreeMap<String, String>,
    /// Value statistics of the data variables, when values were read.
    pub values: Vec<ValueSummary>,
}

/// The structure of one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableShape {
    /// Name.
    pub name: String,
    /// `dim=len` per dimension.
    pub dims: Vec<String>,
    /// Element type.
    pub dtype: String,
    /// Chunk extents (`None`: contiguous).
    pub chunking: Option<Vec<u64>>,
    /// Filters (e.g. `shuffle,deflate(5)`), `None` when unknown.
    pub filters: Option<String>,
    /// Attributes that must not vary (everything but `valid_min`/`valid_max`), as text.
    pub attributes: BTreeMap<String, String>,
}

/// Value statistics of one data variable of one granule.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValueSummary {
    /// Variable name.
    pub variable: String,
    /// Values that are +-Inf.
    pub infinite: u64,
    /// Values that are NaN (not fill).
    pub nan: u64,
    /// Smallest and largest finite non-fill value.
    pub min: Option<f64>,
    /// See `min`.
    pub max: Option<f64>,
    /// The `valid_min` attribute.
    pub valid_min: Option<f64>,
    /// The `valid_max` attribute.
    pub valid_max: Option<f64>,
    /// Fill values where the land mask says ocean (with a grid mask).
    pub fill_on_ocean: u64,
    /// Non-fill values where the land mask says land (with a grid mask).
    pub data_on_land: u64,
    /// Hash of the positions of fill values (the land pattern), to compare granules when no
    /// grid mask is given.
    pub fill_pattern: u64,
}

/// Checks a dataset's series. `headers` may be in any order; problems name their granule.
pub fn check_series(id: &DatasetId, headers: &[GranuleHeader]) -> Vec<CheckProblem> {
    let mut problems = Vec::new();
    let period = id.period.period();
    if period == OutputPeriod::TimeInvariant {
        return check_time_invariant(id, headers);
    }
    // (step of the name, interval of the contents, header)
    let mut dated: Vec<(NaiveDateTime, Interval, &GranuleHeader)> = Vec::new();
    for header in headers {
        let name = match GranuleName::parse(&header.name) {
            Ok(name) => name,
            Err(err) => {
                problems.push(problem("name", &header.name, err.to_string()));
                continue;
            }
        };
        if !id.owns(&name) {
            problems.push(problem(
                "grouping",
                &header.name,
                format!(
                    "granule of {}/{}/{}/{} found in dataset {id}",
                    name.ecco_version, name.product, name.period, name.prefix
                ),
            ));
            continue;
        }
        let Some(step) = name.date_time() else {
            problems.push(problem(
                "name",
                &header.name,
                "date part does not parse".into(),
            ));
            continue;
        };
        let interval = match content_interval(period, header) {
            Ok(interval) => interval,
            Err(message) => {
                problems.push(problem("time", &header.name, message));
                continue;
            }
        };
        if let Some(message) = disagreement_with_name(period, step, &interval) {
            problems.push(problem("time_bounds", &header.name, message));
        }
        if let Some(message) = coverage_disagreement(header, &interval) {
            problems.push(problem("time_coverage", &header.name, message));
        }
        dated.push((step, interval, header));
    }
    // Monotonic: in the order of the names, the times increase.
    dated.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.name.cmp(&b.2.name)));
    for pair in dated.windows(2) {
        let ((_, a, a_header), (_, b, b_header)) = (&pair[0], &pair[1]);
        if b.centre < a.centre {
            problems.push(problem(
                "order",
                &b_header.name,
                format!(
                    "its time {} is before that of {}, named earlier",
                    iso(b.centre),
                    a_header.name
                ),
            ));
        }
    }
    // Duplicates and overlaps from the contents, in the order of the times.
    let mut by_time: Vec<&(NaiveDateTime, Interval, &GranuleHeader)> = dated.iter().collect();
    by_time.sort_by(|a, b| {
        a.1.centre
            .cmp(&b.1.centre)
            .then_with(|| a.2.name.cmp(&b.2.name))
    });
    for pair in by_time.windows(2) {
        let ((_, a, a_header), (_, b, b_header)) = (pair[0], pair[1]);
        if a.centre == b.centre {
            problems.push(problem(
                "duplicate",
                &b_header.name,
                format!("same time {} as {}", iso(b.centre), a_header.name),
            ));
        } else if b.start < a.end {
            problems.push(problem(
                "overlap",
                &b_header.name,
                format!(
                    "its interval starts at {}, before {} ends at {}",
                    iso(b.start),
                    a_header.name,
                    iso(a.end)
                ),
            ));
        }
    }
    // Gaps: steps between the first and the last whose period no granule's contents cover.
    let mut steps: Vec<NaiveDateTime> = dated
        .iter()
        .map(|d| content_step(period, d.1.centre))
        .collect();
    steps.sort_unstable();
    steps.dedup();
    let spacing = Spacing::of(period, &steps);
    if let (Some(first), Some(last)) = (steps.first(), steps.last()) {
        let missing: Vec<NaiveDateTime> = enumerate(spacing, *first, *last)
            .into_iter()
            .filter(|t| steps.binary_search(t).is_err())
            .collect();
        for range in ranges(period, spacing, &missing) {
            let label = if range.count == 1 {
                range.first.clone()
            } else {
                format!("{}..{}", range.first, range.last)
            };
            problems.push(problem(
                "gap",
                &label,
                format!(
                    "{} step(s) without a granule: {}..{}",
                    range.count, range.first, range.last
                ),
            ));
        }
    }
    check_uniform(headers, &mut problems);
    for header in headers {
        check_values(header, &mut problems);
    }
    problems
}

/// A time interval (an instant for SNAP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Interval {
    start: NaiveDateTime,
    end: NaiveDateTime,
    centre: NaiveDateTime,
}

/// A time-invariant dataset: exactly one granule, named for the dataset, without a time
/// axis; its structure and values are checked as in any series.
fn check_time_invariant(id: &DatasetId, headers: &[GranuleHeader]) -> Vec<CheckProblem> {
    let mut problems = Vec::new();
    for header in headers {
        match GranuleName::parse(&header.name) {
            Ok(name) if id.owns(&name) => {}
            Ok(_) => problems.push(problem(
                "grouping",
                &header.name,
                format!("granule found in time-invariant dataset {id}"),
            )),
            Err(err) => problems.push(problem("name", &header.name, err.to_string())),
        }
        if !header.time.is_empty() || header.time_bnds.is_some() {
            problems.push(problem(
                "time",
                &header.name,
                format!(
                    "a time-invariant granule has no time axis, found {} time value(s)",
                    header.time.len()
                ),
            ));
        }
    }
    if headers.len() > 1 {
        problems.push(problem(
            "duplicate",
            &id.to_string(),
            format!(
                "a time-invariant dataset holds one granule, found {}",
                headers.len()
            ),
        ));
    }
    check_uniform(headers, &mut problems);
    for header in headers {
        check_values(header, &mut problems);
    }
    problems
}

fn iso(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The step whose period holds `centre`: its month, its day, or the instant.
fn content_step(period: OutputPeriod, centre: NaiveDateTime) -> NaiveDateTime {
    let midnight = |d: chrono::NaiveDate| d.and_time(chrono::NaiveTime::MIN);
    match period {
        OutputPeriod::MonMean => centre.date().with_day(1).map_or(centre, midnight),
        OutputPeriod::DayMean => midnight(centre.date()),
        OutputPeriod::Snap | OutputPeriod::TimeInvariant => centre,
    }
}

/// The interval the granule's `time` and `time_bnds` describe, checked for consistency with
/// the period (bounds for averages only, `time` at their centre).
fn content_interval(period: OutputPeriod, header: &GranuleHeader) -> Result<Interval, String> {
    let units = header
        .time_units
        .as_deref()
        .ok_or("variable time has no units")?;
    let origin = parse_units(units).ok_or(format!(
        "time units {units:?}: expected '<hours|days|seconds> since YYYY-MM-DD hh:mm:ss'"
    ))?;
    let [value] = header.time.as_slice() else {
        return Err(format!(
            "expected 1 time value, found {}",
            header.time.len()
        ));
    };
    let centre = origin.at(*value).ok_or("time value out of range")?;
    match (period, &header.time_bnds) {
        (OutputPeriod::Snap, Some(_)) => Err("a snapshot must not have time_bnds".into()),
        (OutputPeriod::Snap, None) => Ok(Interval {
            start: centre,
            end: centre,
            centre,
        }),
        (_, None) => Err("an average must have time_bnds".into()),
        (_, Some(bounds)) => {
            let [start, end] = bounds.as_slice() else {
                return Err(format!(
                    "expected 2 time_bnds values, found {}",
                    bounds.len()
                ));
            };
            let start = origin.at(*start).ok_or("time_bnds out of range")?;
            let end = origin.at(*end).ok_or("time_bnds out of range")?;
            if start >= end {
                return Err(format!(
                    "time_bnds [{}, {}] are not increasing",
                    iso(start),
                    iso(end)
                ));
            }
            let mid = start + (end - start) / 2;
            if (centre - mid).num_minutes().abs() > 60 {
                return Err(format!(
                    "time {} is not the centre {} of time_bnds [{}, {}]",
                    iso(centre),
                    iso(mid),
                    iso(start),
                    iso(end)
                ));
            }
            Ok(Interval { start, end, centre })
        }
    }
}

/// Whether the interval is the period the name says: the named month or day (the first and
/// last records of a run are clipped to the model's start and end by less than a day), or
/// the named instant.
fn disagreement_with_name(
    period: OutputPeriod,
    step: NaiveDateTime,
    interval: &Interval,
) -> Option<String> {
    let (period_start, period_end, slack) = match period {
        OutputPeriod::TimeInvariant => return None,
        OutputPeriod::Snap => {
            return (interval.centre != step).then(|| {
                format!(
                    "time is {} but the name says {}",
                    iso(interval.centre),
                    iso(step)
                )
            });
        }
        // Model start/end clipping moves a bound by less than a day (12 h for V4r4).
        OutputPeriod::MonMean => (
            step,
            step.checked_add_months(Months::new(1))?,
            TimeDelta::hours(12),
        ),
        OutputPeriod::DayMean => (step, step + TimeDelta::days(1), TimeDelta::hours(12)),
    };
    let inside = interval.start >= period_start
        && interval.end <= period_end
        && interval.start - period_start <= slack
        && period_end - interval.end <= slack;
    (!inside).then(|| {
        format!(
            "time_bnds [{}, {}] are not the period {}..{} of the name",
            iso(interval.start),
            iso(interval.end),
            iso(period_start),
            iso(period_end)
        )
    })
}

/// `time_coverage_start`/`_end` equal to the interval.
fn coverage_disagreement(header: &GranuleHeader, interval: &Interval) -> Option<String> {
    for (attr, value, want) in [
        (
            "time_coverage_start",
            &header.coverage_start,
            interval.start,
        ),
        ("time_coverage_end", &header.coverage_end, interval.end),
    ] {
        let Some(text) = value else {
            return Some(format!("global attribute {attr} is missing"));
        };
        if parse_iso(text) != Some(want) {
            return Some(format!(
                "{attr} is {text} but time/time_bnds say {}",
                iso(want)
            ));
        }
    }
    None
}

/// `YYYY-MM-DDThh:mm:ss` with an optional `Z`.
fn parse_iso(text: &str) -> Option<NaiveDateTime> {
    let trimmed = text.trim().trim_end_matches('Z');
    NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S").ok()
}

/// `<unit> since <origin>` of CF time units.
#[derive(Debug, Clone, Copy)]
struct TimeUnits {
    seconds_per_unit: f64,
    origin: NaiveDateTime,
}

impl TimeUnits {
    fn at(self, value: f64) -> Option<NaiveDateTime> {
        let millis = value * self.seconds_per_unit * 1000.0;
        if !millis.is_finite() || millis.abs() > 1e15 {
            return None;
        }
        self.origin
            .checked_add_signed(TimeDelta::milliseconds(millis.round() as i64))
    }
}

fn parse_units(units: &str) -> Option<TimeUnits> {
    let (unit, origin) = units.split_once(" since ")?;
    let seconds_per_unit = match unit.trim() {
        "seconds" | "second" | "s" => 1.0,
        "minutes" | "minute" => 60.0,
        "hours" | "hour" | "h" => 3600.0,
        "days" | "day" | "d" => 86_400.0,
        _ => return None,
    };
    let origin = origin.trim().trim_end_matches('Z').replace('T', " ");
    let origin = NaiveDateTime::parse_from_str(&origin, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(&origin, "%Y-%m-%d")
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
        })
        .ok()?;
    Some(TimeUnits {
        seconds_per_unit,
        origin,
    })
}

/// Units, calendar, structure and invariant attributes equal to the majority's.
fn check_uniform(headers: &[GranuleHeader], problems: &mut Vec<CheckProblem>) {
    let units = |h: &GranuleHeader| format!("{:?} / {:?}", h.time_units, h.time_calendar);
    if let Some(reference) = majority(headers, units) {
        for header in headers {
            let found = units(header);
            if found != reference {
                problems.push(problem(
                    "units",
                    &header.name,
                    format!(
                        "time units/calendar {found}, expected {reference} as the other granules"
                    ),
                ));
            }
        }
    }
    let structure = |h: &GranuleHeader| format!("{:?}", h.variables);
    let Some(reference) = majority(headers, structure) else {
        return;
    };
    let Some(model) = headers.iter().find(|h| structure(h) == reference) else {
        return;
    };
    for header in headers {
        if structure(header) != reference {
            problems.push(problem(
                "structure",
                &header.name,
                describe_structure_difference(&model.variables, &header.variables),
            ));
        }
    }
    let attrs = |h: &GranuleHeader| format!("{:?}", h.invariant_attributes);
    if let Some(reference) = majority(headers, attrs)
        && let Some(model) = headers.iter().find(|h| attrs(h) == reference)
    {
        for header in headers {
            if attrs(header) == reference {
                continue;
            }
            let differing: Vec<String> = model
                .invariant_attributes
                .iter()
                .filter(|(k, v)| header.invariant_attributes.get(*k) != Some(*v))
                .map(|(k, _)| k.clone())
                .chain(
                    header
                        .invariant_attributes
                        .keys()
                        .filter(|k| !model.invariant_attributes.contains_key(*k))
                        .cloned(),
                )
                .collect();
            problems.push(problem(
                "attributes",
                &header.name,
                format!(
                    "global attribute(s) {} differ from the other granules",
                    differing.join(", ")
                ),
            ));
        }
    }
}

/// The most common key (ties: the first granule's).
fn majority(headers: &[GranuleHeader], key: impl Fn(&GranuleHeader) -> String) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for header in headers {
        let k = key(header);
        match counts.iter_mut().find(|(c, _)| *c == k) {
            Some((_, n)) => *n += 1,
            None => counts.push((k, 1)),
        }
    }
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(k, _)| k)
}

/// The first difference between two variable lists, in words.
fn describe_structure_difference(expected: &[VariableShape], found: &[VariableShape]) -> String {
    let names = |v: &[VariableShape]| v.iter().map(|x| x.name.clone()).collect::<Vec<_>>();
    if names(expected) != names(found) {
        return format!(
            "variables {:?}, expected {:?} as the other granules",
            names(found),
            names(expected)
        );
    }
    for (e, f) in expected.iter().zip(found) {
        let what = if e.dims != f.dims {
            format!("dimensions {:?}, expected {:?}", f.dims, e.dims)
        } else if e.dtype != f.dtype {
            format!("type {}, expected {}", f.dtype, e.dtype)
        } else if e.chunking != f.chunking {
            format!("chunking {:?}, expected {:?}", f.chunking, e.chunking)
        } else if e.filters != f.filters {
            format!("filters {:?}, expected {:?}", f.filters, e.filters)
        } else if e.attributes != f.attributes {
            let keys: Vec<&String> = e
                .attributes
                .iter()
                .filter(|(k, v)| f.attributes.get(*k) != Some(*v))
                .map(|(k, _)| k)
                .chain(
                    f.attributes
                        .keys()
                        .filter(|k| !e.attributes.contains_key(*k)),
                )
                .collect();
            format!("attribute(s) {keys:?} differ")
        } else {
            continue;
        };
        return format!("variable {}: {what} as the other granules", e.name);
    }
    "structure differs".into()
}

/// Inf, valid range and fill checks of one granule; the fill pattern is compared across the
/// dataset only when no grid mask was available.
fn check_values(header: &GranuleHeader, problems: &mut Vec<CheckProblem>) {
    for v in &header.values {
        if v.infinite > 0 {
            problems.push(problem(
                "values",
                &header.name,
                format!("{} holds {} infinite value(s)", v.variable, v.infinite),
            ));
        }
        if v.nan > 0 {
            problems.push(problem(
                "values",
                &header.name,
                format!(
                    "{} holds {} NaN value(s) that are not the fill value",
                    v.variable, v.nan
                ),
            ));
        }
        if let (Some(min), Some(valid_min)) = (v.min, v.valid_min)
            && min < valid_min - valid_min.abs() * 1e-6
        {
            problems.push(problem(
                "values",
                &header.name,
                format!("{}: value {min} below valid_min {valid_min}", v.variable),
            ));
        }
        if let (Some(max), Some(valid_max)) = (v.max, v.valid_max)
            && max > valid_max + valid_max.abs() * 1e-6
        {
            problems.push(problem(
                "values",
                &header.name,
                format!("{}: value {max} above valid_max {valid_max}", v.variable),
            ));
        }
        if let (Some(lo), Some(hi)) = (v.valid_min, v.valid_max)
            && lo > hi
        {
            problems.push(problem(
                "values",
                &header.name,
                format!("{}: valid_min {lo} > valid_max {hi}", v.variable),
            ));
        }
        if v.fill_on_ocean > 0 || v.data_on_land > 0 {
            problems.push(problem(
                "fill",
                &header.name,
                format!(
                    "{}: {} fill value(s) on ocean and {} value(s) on land per the grid mask",
                    v.variable, v.fill_on_ocean, v.data_on_land
                ),
            ));
        }
    }
}

/// Compares fill patterns across granules (the land pattern of a variable must not change
/// with time); used when no grid mask is at hand.
pub fn check_fill_patterns(headers: &[GranuleHeader]) -> Vec<CheckProblem> {
    let mut problems = Vec::new();
    let mut variables: Vec<String> = headers
        .iter()
        .flat_map(|h| h.values.iter().map(|v| v.variable.clone()))
        .collect();
    variables.sort();
    variables.dedup();
    for variable in variables {
        let pattern = |h: &GranuleHeader| {
            h.values
                .iter()
                .find(|v| v.variable == variable)
                .map(|v| v.fill_pattern.to_string())
                .unwrap_or_default()
        };
        let with_values: Vec<GranuleHeader> = headers
            .iter()
            .filter(|h| h.values.iter().any(|v| v.variable == variable))
            .cloned()
            .collect();
        let Some(reference) = majority(&with_values, pattern) else {
            continue;
        };
        for header in &with_values {
            if pattern(header) != reference {
                problems.push(problem(
                    "fill",
                    &header.name,
                    format!("{variable}: fill values are not where the other granules have land"),
                ));
            }
        }
    }
    problems
}

fn problem(kind: &str, granule: &str, message: String) -> CheckProblem {
    CheckProblem {
        kind: kind.to_string(),
        granule: granule.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    /// Sets bounds (hours since the origin), the centre time and the coverage attributes.
    fn set_bounds(header: &mut GranuleHeader, origin: NaiveDateTime, start: f64, end: f64) {
        let t = |h: f64| iso(origin + TimeDelta::minutes((h * 60.0).round() as i64));
        header.time = vec![(start + end) / 2.0];
        header.time_bnds = Some(vec![start, end]);
        header.coverage_start = Some(t(start));
        header.coverage_end = Some(t(end));
    }

    /// A clean V4r4-like monthly header: hours since 1992-01-01 12:00:00, the first month
    /// clipped to the model start.
    fn monthly(date: &str) -> GranuleHeader {
        let month = parse(&format!("{date}-01 00:00:00"));
        let origin = parse("1992-01-01 12:00:00");
        let start = month.max(origin);
        let end = month.checked_add_months(Months::new(1)).unwrap();
        let hours = |t: NaiveDateTime| (t - origin).num_minutes() as f64 / 60.0;
        let mut header = GranuleHeader {
            name: format!("SSH_mon_mean_{date}_ECCO_V4r4_native_llc0090.nc"),
            time_units: Some("hours since 1992-01-01 12:00:00".into()),
            time_calendar: Some("gregorian".into()),
            variables: vec![VariableShape {
                name: "SSH".into(),
                dims: vec!["time=1".into(), "tile=13".into()],
                dtype: "f32".into(),
                chunking: Some(vec![1, 13]),
                filters: None,
                attributes: BTreeMap::new(),
            }],
            values: vec![ValueSummary {
                variable: "SSH".into(),
                min: Some(-1.0),
                max: Some(1.0),
                valid_min: Some(-1.0),
                valid_max: Some(1.0),
                fill_pattern: 7,
                ..ValueSummary::default()
            }],
            ..GranuleHeader::default()
        };
        set_bounds(&mut header, origin, hours(start), hours(end));
        header
    }

    fn id() -> DatasetId {
        DatasetId::parse("V4r4/native/mon_mean/SSH").unwrap()
    }

    #[test]
    fn a_time_invariant_dataset_has_one_granule_without_a_time_axis() {
        let id = DatasetId::parse("V4r4/native/time_invariant/SSH").unwrap();
        let mut header = monthly("1992-01");
        header.name = "SSH_ECCO_V4r4_native_llc0090.nc".into();
        header.time.clear();
        header.time_bnds = None;
        header.time_units = None;
        assert!(check_series(&id, std::slice::from_ref(&header)).is_empty());

        // A time value, a second granule, a granule of another dataset.
        let mut timed = header.clone();
        timed.time = vec![0.0];
        assert!(found(&check_series(&id, &[timed]), "time", "SSH_ECCO"));
        let mut twin = header.clone();
        twin.name = "SSH_ECCO_V4r4_native_llc0090.nc".into();
        assert!(found(
            &check_series(&id, &[header.clone(), twin]),
            "duplicate",
            "time_invariant"
        ));
        let stray = monthly("1992-01");
        assert!(found(
            &check_series(&id, &[header, stray]),
            "grouping",
            "mon_mean_1992-01"
        ));
    }

    fn found(problems: &[CheckProblem], kind: &str, granule_part: &str) -> bool {
        problems
            .iter()
            .any(|p| p.kind == kind && p.granule.contains(granule_part))
    }

    fn series(dates: &[&str]) -> Vec<GranuleHeader> {
        dates.iter().map(|d| monthly(d)).collect()
    }

    #[test]
    fn a_clean_series_passes_including_the_clipped_first_month() {
        let headers = series(&["1992-01", "1992-02", "1992-03"]);
        assert_eq!(check_series(&id(), &headers), vec![]);
        assert!(check_fill_patterns(&headers).is_empty());
    }

    #[test]
    fn each_defect_is_reported_by_name() {
        let mut headers = series(&[
            "1992-01", "1992-02", "1992-04", "1992-05", "1992-06", "1992-07", "1992-08",
        ]);
        // Wrong bound: 1992-05's time_bnds end in mid-June (time untouched).
        if let Some(b) = headers[3].time_bnds.as_mut() {
            b[1] += 24.0 * 14.0;
        }
        // Mismatching chunking, an Inf value, a moved fill pattern.
        headers[4].variables[0].chunking = Some(vec![1, 7]);
        headers[5].values[0].infinite = 3;
        headers[6].values[0].fill_pattern = 8;
        // Another grouping's granule.
        let mut stray = monthly("1992-09");
        stray.name = "OBP_mon_mean_1992-09_ECCO_V4r4_native_llc0090.nc".into();
        headers.push(stray);
        // A copy of 1992-06 named 1992-10.
        let mut copy = monthly("1992-06");
        copy.name = "SSH_mon_mean_1992-10_ECCO_V4r4_native_llc0090.nc".into();
        headers.push(copy);
        let problems = check_series(&id(), &headers);
        assert!(found(&problems, "gap", "1992-03"), "{problems:#?}");
        assert!(found(&problems, "time", "1992-05"), "{problems:#?}");
        assert!(
            found(&problems, "grouping", "OBP_mon_mean_1992-09"),
            "{problems:#?}"
        );
        assert!(found(&problems, "structure", "1992-06"), "{problems:#?}");
        assert!(found(&problems, "values", "1992-07"), "{problems:#?}");
        assert!(found(&problems, "duplicate", "1992-10"), "{problems:#?}");
        assert!(found(&problems, "time_bounds", "1992-10"), "{problems:#?}");
        assert!(found(&problems, "order", "1992-10"), "{problems:#?}");
        // Only the tampered granules are named.
        for clean in ["1992-01", "1992-02", "1992-04"] {
            assert!(
                !problems.iter().any(|p| p.granule.contains(clean)),
                "{clean}: {problems:#?}"
            );
        }
        let fill = check_fill_patterns(&headers);
        assert_eq!(fill.len(), 1, "{fill:#?}");
        assert!(fill[0].granule.contains("1992-08"));
    }

    #[test]
    fn two_granules_covering_one_month_overlap() {
        let origin = parse("1992-01-01 12:00:00");
        let mut headers = series(&["1992-02", "1992-03", "1992-04"]);
        // "1992-04" covers 15 March .. 15 April: overlaps March.
        let march_15 = (parse("1992-03-15 00:00:00") - origin).num_hours() as f64;
        set_bounds(&mut headers[2], origin, march_15, march_15 + 31.0 * 24.0);
        let problems = check_series(&id(), &headers);
        assert!(found(&problems, "overlap", "1992-04"), "{problems:#?}");
        assert!(found(&problems, "time_bounds", "1992-04"), "{problems:#?}");

        // Two granules of one month whose names differ only in the grid label.
        let mut twin = monthly("1992-03");
        twin.name = "SSH_mon_mean_1992-03_ECCO_V4r4_native_llc0090b.nc".into();
        let mut headers = series(&["1992-02", "1992-03"]);
        headers.push(twin);
        let problems = check_series(&id(), &headers);
        assert!(found(&problems, "duplicate", "llc0090b"), "{problems:#?}");
    }

    #[test]
    fn daily_and_snapshot_rules() {
        let id = DatasetId::parse("V4r4/native/day_mean/SSH").unwrap();
        let origin = parse("1992-01-01 00:00:00");
        let day = |d: u32| {
            let mut header = GranuleHeader {
                name: format!("SSH_day_mean_1992-01-{d:02}_ECCO_V4r4_native_llc0090.nc"),
                time_units: Some("hours since 1992-01-01 00:00:00".into()),
                ..GranuleHeader::default()
            };
            let start = 24.0 * f64::from(d - 1);
            set_bounds(&mut header, origin, start, start + 24.0);
            header
        };
        let clean = vec![day(1), day(2), day(3)];
        assert_eq!(check_series(&id, &clean), vec![]);
        let mut shifted = clean.clone();
        set_bounds(&mut shifted[1], origin, 18.0, 48.0);
        let problems = check_series(&id, &shifted);
        assert!(found(&problems, "overlap", "1992-01-02"), "{problems:#?}");

        let snap_id = DatasetId::parse("V4r4/native/snap/SSH").unwrap();
        let mut snap = day(2);
        snap.name = "SSH_snap_1992-01-02T000000_ECCO_V4r4_native_llc0090.nc".into();
        let problems = check_series(&snap_id, std::slice::from_ref(&snap));
        assert!(
            found(&problems, "time", "1992-01-02"),
            "bounds on a snapshot: {problems:#?}"
        );
        snap.time_bnds = None;
        snap.time = vec![24.0];
        snap.coverage_start = Some("1992-01-02T00:00:00".into());
        snap.coverage_end = Some("1992-01-02T00:00:00".into());
        assert_eq!(check_series(&snap_id, &[snap]), vec![]);

        let units = parse_units("days since 1992-01-01").unwrap();
        assert_eq!(
            units.at(1.5).map(iso).as_deref(),
            Some("1992-01-02T12:00:00")
        );
    }
}
