//! The dataset table (`edp datasets`) and the static report page
//! `<dest>/_edp/report/index.html`: dataset table with states, a coverage timeline per
//! dataset (present / failed / missing steps), the last run's failures and the quicklook of
//! each dataset's latest granule (`_edp/report/quicklooks/<dataset slug>.png`, rendered by
//! `edp datasets --html`; the page links the ones that exist).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use edp_plan::state::{Layout, latest_run, read_report};
use edp_store::{Location, Store};
use edp_task_schemas::{DatasetState, DatasetStatus, RunReport};

use crate::DatasetError;
use crate::id::{DatasetId, OutputPeriodName};
use crate::status::{list_statuses, now};
use crate::steps::{Spacing, enumerate, step_name};

/// `_edp/report`.
pub fn report_dir(dest: &Location) -> Location {
    Layout::new(dest).state_dir().join("report")
}

/// `_edp/report/quicklooks/<slug>.png`.
pub fn quicklook_location(dest: &Location, id: &DatasetId) -> Location {
    report_dir(dest).join(&format!("quicklooks/{}.png", id.slug()))
}

/// One row of the dataset table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Row {
    /// Dataset path.
    pub dataset: String,
    /// State.
    pub state: DatasetState,
    /// First..last present step.
    pub coverage: String,
    /// Present steps.
    pub present: u64,
    /// Expected steps.
    pub expected: u64,
    /// Failed steps.
    pub failed: u64,
    /// Missing steps.
    pub missing: u64,
    /// Time of the last check and its outcome (`passed`/`N problems`), or `-`.
    pub last_check: String,
    /// Problems: failed and missing steps, check problems (short).
    pub problems: Vec<String>,
}

/// The table rows of `statuses` (optionally only those in `states`).
pub fn rows(statuses: &[DatasetStatus], states: &[DatasetState]) -> Vec<Row> {
    statuses
        .iter()
        .filter(|s| states.is_empty() || states.contains(&s.state))
        .map(|s| {
            // One granule without a date: no time range to show.
            let time_invariant = DatasetId::parse(&s.dataset)
                .is_ok_and(|id| id.period == OutputPeriodName::TimeInvariant);
            let mut problems: Vec<String> = Vec::new();
            for failed in &s.coverage.failed {
                problems.push(format!("failed {}: {}", failed.step, failed.message));
            }
            for range in &s.coverage.missing {
                problems.push(if time_invariant {
                    "missing its one granule".to_string()
                } else if range.count == 1 {
                    format!("missing {}", range.first)
                } else {
                    format!("missing {}..{} ({})", range.first, range.last, range.count)
                });
            }
            if let Some(check) = &s.last_check {
                for p in &check.problems {
                    problems.push(format!("{} {}: {}", p.kind, p.granule, p.message));
                }
            }
            Row {
                dataset: s.dataset.clone(),
                state: s.state,
                coverage: match (&s.coverage.first, &s.coverage.last) {
                    _ if time_invariant => "time-invariant".into(),
                    (Some(first), Some(last)) => format!("{first}..{last}"),
                    _ => "-".into(),
                },
                present: s.coverage.present,
                expected: s.expected.count,
                failed: s.coverage.failed.len() as u64,
                missing: s.coverage.missing.iter().map(|r| r.count).sum(),
                last_check: match &s.last_check {
                    None => "-".into(),
                    Some(c) if c.passed => format!("{} passed", c.checked_at),
                    Some(c) => format!("{} {} problem(s)", c.checked_at, c.problems.len()),
                },
                problems,
            }
        })
        .collect()
}

/// The table as text.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let width = rows
        .iter()
        .map(|r| r.dataset.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        out,
        "{:<width$}  {:<11}  {:<23}  {:>9}  {:>6}  {:>7}  last check",
        "dataset", "state", "coverage", "present", "failed", "missing"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<width$}  {:<11}  {:<23}  {:>9}  {:>6}  {:>7}  {}",
            r.dataset,
            r.state.as_str(),
            r.coverage,
            format!("{}/{}", r.present, r.expected),
            r.failed,
            r.missing,
            r.last_check
        );
        for p in r.problems.iter().take(5) {
            let _ = writeln!(out, "{:<width$}    ! {p}", "");
        }
        if r.problems.len() > 5 {
            let _ = writeln!(out, "{:<width$}    ! ... {} more", "", r.problems.len() - 5);
        }
    }
    out
}

/// Writes `_edp/report/index.html` from every dataset status, the latest run report and the
/// quicklooks present; returns its location.
pub async fn write_page(store: &Store, dest: &Location) -> Result<Location, DatasetError> {
    let layout = Layout::new(dest);
    let statuses = list_statuses(store, &layout).await?;
    let run = match latest_run(store, &layout).await? {
        Some(run_id) => read_report(store, &layout, &run_id).await?,
        None => None,
    };
    let quicklook_dir = report_dir(dest).join("quicklooks");
    let quicklooks: BTreeSet<String> = store
        .list(&quicklook_dir)
        .await?
        .into_iter()
        .filter_map(|o| o.location.file_name().map(str::to_string))
        .collect();
    let html = page(&statuses, run.as_ref(), &quicklooks, &now());
    let location = report_dir(dest).join("index.html");
    store.put(&location, html.into_bytes()).await?;
    Ok(location)
}

/// The HTML page (self-contained apart from the quicklook PNGs beside it).
pub fn page(
    statuses: &[DatasetStatus],
    run: Option<&RunReport>,
    quicklooks: &BTreeSet<String>,
    generated_at: &str,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>edp datasets</title><style>{STYLE}</style></head><body>\n\
         <h1>Datasets</h1><p class=\"meta\">generated {}</p>\n",
        esc(generated_at)
    );
    let counts: BTreeMap<&str, usize> = statuses.iter().fold(BTreeMap::new(), |mut m, s| {
        *m.entry(s.state.as_str()).or_default() += 1;
        m
    });
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let _ = writeln!(
        out,
        "<p>{} dataset(s): {}</p>",
        statuses.len(),
        esc(&summary.join(", "))
    );
    out.push_str(
        "<table id=\"datasets\"><thead><tr><th>dataset</th><th>state</th><th>coverage</th>\
         <th>present / expected</th><th>failed</th><th>missing</th><th>last check</th>\
         <th>timeline</th></tr></thead><tbody>\n",
    );
    for (status, row) in statuses.iter().zip(rows(statuses, &[])) {
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#{slug}\">{}</a></td><td class=\"state {}\">{}</td><td>{}</td>\
             <td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&row.dataset),
            row.state.as_str(),
            row.state.as_str(),
            esc(&row.coverage),
            row.present,
            row.expected,
            row.failed,
            row.missing,
            esc(&row.last_check),
            timeline(status),
            slug = esc(&slug(&status.dataset)),
        );
    }
    out.push_str("</tbody></table>\n");
    out.push_str(
        "<p class=\"legend\"><span class=\"sw present\"></span> present \
        <span class=\"sw failed\"></span> failed <span class=\"sw missing\"></span> missing</p>\n",
    );

    out.push_str("<h2>Last run</h2>\n");
    match run {
        None => out.push_str("<p>No run report yet.</p>\n"),
        Some(run) => {
            let c = run.counts;
            let _ = writeln!(
                out,
                "<p>run <code>{}</code> ({}): {} done, {} failed, {} skipped, {} not finished</p>",
                esc(&run.run_id),
                esc(&run.generated_at),
                c.done,
                c.failed,
                c.skipped,
                c.planned + c.running
            );
            if run.failures.is_empty() {
                out.push_str("<p>No failures.</p>\n");
            } else {
                out.push_str(
                    "<table id=\"failures\"><thead><tr><th>granule</th><th>kind</th>\
                    <th>attempts</th><th>error</th></tr></thead><tbody>\n",
                );
                for f in &run.failures {
                    let _ = writeln!(
                        out,
                        "<tr><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td></tr>",
                        esc(&f.granule),
                        f.error.kind,
                        f.attempts,
                        esc(&f.error.message)
                    );
                }
                out.push_str("</tbody></table>\n");
            }
        }
    }

    out.push_str("<h2>Quicklooks of the latest granules</h2>\n<div class=\"looks\">\n");
    for status in statuses {
        let slug = slug(&status.dataset);
        let file = format!("{slug}.png");
        let latest = status
            .coverage
            .latest_granule
            .as_deref()
            .and_then(|g| g.rsplit('/').next())
            .unwrap_or("-");
        let _ = write!(
            out,
            "<figure id=\"{}\"><figcaption><b>{}</b> ({})<br>{}</figcaption>",
            esc(&slug),
            esc(&status.dataset),
            status.state.as_str(),
            esc(latest)
        );
        if quicklooks.contains(&file) {
            let _ = write!(
                out,
                "<img src=\"quicklooks/{}\" alt=\"quicklook of {}\">",
                esc(&file),
                esc(latest)
            );
        } else {
            out.push_str(
                "<p class=\"meta\">no quicklook yet (<code>edp datasets --html</code>)</p>",
            );
        }
        if let Some(check) = status
            .last_check
            .as_ref()
            .filter(|c| !c.problems.is_empty())
        {
            out.push_str("<ul class=\"problems\">");
            for p in check.problems.iter().take(10) {
                let _ = write!(
                    out,
                    "<li>{} <code>{}</code>: {}</li>",
                    esc(&p.kind),
                    esc(&p.granule),
                    esc(&p.message)
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</figure>\n");
    }
    out.push_str("</div>\n</body></html>\n");
    out
}

/// The anchor of a dataset.
fn slug(dataset: &str) -> String {
    dataset.replace('/', "__")
}

/// An inline SVG with one cell per expected step: present, failed or missing.
fn timeline(status: &DatasetStatus) -> String {
    let Ok(id) = DatasetId::parse(&status.dataset) else {
        return String::new();
    };
    let period = id.period.period();
    let parse = |t: &str| crate::status::parse_step(period, t);
    let (Some(first), Some(last)) = (parse(&status.expected.first), parse(&status.expected.last))
    else {
        return String::new();
    };
    let present: BTreeSet<&str> = status
        .coverage
        .present_steps
        .iter()
        .map(String::as_str)
        .collect();
    let failed: BTreeSet<&str> = status
        .coverage
        .failed
        .iter()
        .map(|f| f.step.as_str())
        .collect();
    let known: Vec<_> = status
        .coverage
        .present_steps
        .iter()
        .filter_map(|s| parse(s))
        .collect();
    let steps = enumerate(Spacing::of(period, &known), first, last);
    let cell = (240 / steps.len().max(1)).clamp(1, 12);
    let mut svg = format!(
        "<svg class=\"timeline\" width=\"{}\" height=\"14\" role=\"img\" aria-label=\"coverage {}..{}\">",
        cell * steps.len(),
        esc(&status.expected.first),
        esc(&status.expected.last)
    );
    for (k, t) in steps.iter().enumerate() {
        let name = step_name(period, *t);
        let class = if present.contains(name.as_str()) {
            "present"
        } else if failed.contains(name.as_str()) {
            "failed"
        } else {
            "missing"
        };
        let _ = write!(
            svg,
            "<rect class=\"{class}\" x=\"{}\" y=\"0\" width=\"{}\" height=\"14\"><title>{} {class}</title></rect>",
            k * cell,
            cell.saturating_sub(if cell > 2 { 1 } else { 0 }),
            esc(&name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// HTML escaping of text and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 8px;\
text-align:left;font-size:14px}th{background:#eee}.meta{color:#666;font-size:13px}\
.state{font-weight:bold}.published,.publishable,.validated{color:#176b2c}.failed{color:#b00020}\
.incomplete{color:#a15c00}rect.present,.sw.present{fill:#2a9d55;background:#2a9d55}\
rect.failed,.sw.failed{fill:#d62839;background:#d62839}rect.missing,.sw.missing{fill:#bbb;background:#bbb}\
.sw{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}\
.looks{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;border:1px solid #ddd;padding:8px}\
figure img{display:block;max-width:420px}figcaption{font-size:13px;margin-bottom:6px}\
.problems{font-size:12px;color:#b00020;max-width:420px}";

#[cfg(test)]
mod tests {
    use super::*;
    use edp_task_schemas::{CheckSummary, Coverage, ExpectedSteps, FailedStep, StepRange};

    fn status() -> DatasetStatus {
        DatasetStatus {
            dataset: "V4r4/native/mon_mean/SSH".into(),
            state: DatasetState::Incomplete,
            expected: ExpectedSteps {
                first: "1992-01".into(),
                last: "1992-04".into(),
                count: 4,
                source: "test".into(),
            },
            coverage: Coverage {
                present: 2,
                failed: vec![FailedStep {
                    step: "1992-02".into(),
                    granule: "g".into(),
                    run_id: "r".into(),
                    message: "bad <input>".into(),
                }],
                missing: vec![StepRange {
                    first: "1992-03".into(),
                    last: "1992-03".into(),
                    count: 1,
                }],
                first: Some("1992-01".into()),
                last: Some("1992-04".into()),
                latest_granule: Some(
                    "V4r4/native/mon_mean/SSH/SSH_mon_mean_1992-04_ECCO_V4r4_native_llc0090.nc"
                        .into(),
                ),
                present_steps: vec!["1992-01".into(), "1992-04".into()],
            },
            last_check: Some(CheckSummary {
                checked_at: "2026-12-06T03:00:00Z".into(),
                passed: false,
                granules: 2,
                bytes_read: 10,
                problems: vec![],
            }),
            publication: None,
            history: vec![],
            updated_at: "t".into(),
        }
    }

    #[test]
    fn table_and_timeline_show_present_failed_and_missing_steps() {
        let statuses = [status()];
        let text = table(&rows(&statuses, &[]));
        assert!(text.contains("incomplete"), "{text}");
        assert!(text.contains("1992-01..1992-04"), "{text}");
        assert!(text.contains("2/4"), "{text}");
        assert!(text.contains("! missing 1992-03"), "{text}");
        assert!(rows(&statuses, &[DatasetState::Published]).is_empty());

        let svg = timeline(&statuses[0]);
        let classes: Vec<&str> = svg
            .match_indices("<rect class=\"")
            .map(|(i, _)| {
                let rest = &svg[i + 13..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect();
        assert_eq!(classes, ["present", "failed", "missing", "present"]);

        let html = page(
            &statuses,
            None,
            &BTreeSet::from(["V4r4__native__mon_mean__SSH.png".to_string()]),
            "now",
        );
        assert!(html.contains("<img src=\"quicklooks/V4r4__native__mon_mean__SSH.png\""));
        assert!(html.contains("bad &lt;input&gt;") || !html.contains("bad <input>"));
    }
}
