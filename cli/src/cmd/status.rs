//! `edp status --dest ROOT [--run RUN_ID] [--json] [--reconcile]`: the state of a run.
//!
//! The run is `--run`, else the most recent run under `<dest>/_edp/runs/`. Its report
//! (`runs/<run>/report.json`, written by the reporter or `edp run`) is shown when present;
//! otherwise (or with `--reconcile`) the report is rebuilt from the run's ledger, counting tasks
//! never recorded as `planned`. Text output lists the counts by status, per product kind, and
//! every failed granule with its error, and the virtual store of every dataset (its
//! `refs.json`); `--json` prints the report as JSON.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, bail};
use edp_plan::roots::Root;
use edp_plan::state::{Layout, latest_run, read_report, reconcile_run};
use edp_task_schemas::{RunReport, StatusCounts, TaskStatus};

use super::plan::{Stream, emit, store_for};

/// Arguments of `edp status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Root of the products (a directory or s3://bucket/prefix) holding `_edp/`.
    #[arg(long, visible_alias = "ecco_destination_root", value_name = "ROOT")]
    pub dest: String,

    /// Run id (default: the most recent run).
    #[arg(long, value_name = "RUN_ID")]
    pub run: Option<String>,

    /// Print the run report as JSON.
    #[arg(long)]
    pub json: bool,

    /// Rebuild the report from the ledger even when a report exists.
    #[arg(long)]
    pub reconcile: bool,

    #[command(flatten)]
    pub log: super::shared::LogArgs,
}

/// Runs `edp status`.
pub fn run(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let runtime = super::shared::start(args.log.level_or(super::shared::QUIET))?;
    runtime.block_on(status(args))
}

async fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let store = store_for(&[Some(&args.dest)]).await?;
    let dest = Root::parse(&args.dest)
        .with_context(|| format!("invalid destination root {:?}", args.dest))?;
    let layout = Layout::new(dest.location());
    let run_id = match &args.run {
        Some(run) => run.clone(),
        None => match latest_run(&store, &layout).await? {
            Some(run) => run,
            None => bail!(
                "no run found: {} holds no run record (runs/<run_id>/run.json)",
                layout.runs_dir()
            ),
        },
    };
    let stored = if args.reconcile {
        None
    } else {
        read_report(&store, &layout, &run_id).await?
    };
    let (report, source) = match stored {
        Some(report) => (report, format!("report {}", layout.report(&run_id))),
        None => (
            reconcile_run(&store, dest.location(), &run_id).await?,
            format!("reconciled from the ledger {}", layout.ledger_dir(&run_id)),
        ),
    };
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&report)?)
    } else {
        let mut text = render(&report, &source);
        let stores = edp_virtual::list_virtual_stores(&store, dest.location()).await?;
        if !stores.is_empty() {
            let _ = writeln!(
                text,
                "virtual stores (kerchunk references, Icechunk repository):"
            );
            for (dataset, refs) in stores {
                let icechunk =
                    edp_virtual::VirtualLocations::new(dest.location(), &dataset).icechunk;
                let _ = writeln!(text, "  {dataset}: {refs} {icechunk}");
            }
        }
        text
    };
    emit(&text, Stream::Stdout)?;
    Ok(ExitCode::SUCCESS)
}

fn counts_line(counts: &StatusCounts) -> String {
    TaskStatus::ALL
        .iter()
        .map(|status| format!("{} {}", counts.get(*status), status.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The report as text.
fn render(report: &RunReport, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "run {} ({source})", report.run_id);
    let _ = writeln!(
        out,
        "{}: {} task(s): {}",
        if report.complete {
            "complete"
        } else {
            "in progress"
        },
        report.counts.total(),
        counts_line(&report.counts)
    );
    let _ = writeln!(
        out,
        "time {:.1} s, output {} bytes, estimate {:.1} core-s{}",
        report.seconds,
        report.output_bytes,
        report.estimated_core_seconds,
        report
            .estimated_cost_usd
            .map(|usd| format!(" (${usd:.4})"))
            .unwrap_or_default()
    );
    if let Some(job) = &report.batch_job_id {
        let _ = writeln!(out, "batch job {job}");
    }
    for kind in &report.by_kind {
        let _ = writeln!(
            out,
            "  {:<10} {}; {:.1} s for an estimate of {:.1} core-s",
            kind.kind.as_str(),
            counts_line(&kind.counts),
            kind.seconds,
            kind.estimated_core_seconds
        );
    }
    if !report.failures.is_empty() {
        let _ = writeln!(out, "failed granules:");
        for failure in &report.failures {
            let kind = match failure.error.kind {
                edp_task_schemas::ErrorKind::Permanent => "permanent",
                edp_task_schemas::ErrorKind::Retryable => "retryable",
            };
            let _ = writeln!(
                out,
                "  {} ({} attempt(s), {kind}): {}",
                failure.granule, failure.attempts, failure.error.message
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use edp_task_schemas::{ErrorKind, Failure, TaskError};

    #[test]
    fn text_lists_counts_and_failures() {
        let mut counts = StatusCounts::default();
        counts.add(TaskStatus::Done);
        counts.add(TaskStatus::Failed);
        let report = RunReport {
            run_id: "r1".to_string(),
            generated_at: "2026-11-21T10:15:00Z".to_string(),
            complete: true,
            counts,
            failures: vec![Failure {
                task_id: "ab".to_string(),
                granule: "out/g.nc".to_string(),
                attempts: 2,
                error: TaskError {
                    kind: ErrorKind::Permanent,
                    message: "truncated data file".to_string(),
                },
            }],
            seconds: 3.0,
            output_bytes: 10,
            estimated_core_seconds: 4.0,
            estimated_cost_usd: None,
            by_kind: Vec::new(),
            batch_job_id: None,
            virtual_stores: Vec::new(),
            icechunk_repositories: Vec::new(),
        };
        let text = render(&report, "report x");
        assert!(text.contains("complete: 2 task(s): 0 planned, 0 running, 1 done, 1 failed"));
        assert!(text.contains("out/g.nc (2 attempt(s), permanent): truncated data file"));
    }
}
