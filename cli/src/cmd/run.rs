//! `edp run`: plan and produce on this machine, in one command.
//!
//! ```text
//! edp run --jobfile jobs.txt --source model-output/V4r4 --dest products \
//!         --metadata metadata --grid grid [--config cfg.yaml] [-j N]
//! ```
//!
//! Takes the inputs of `edp plan` (same options, local folders or `s3://`), plans the run
//! (done granules are skipped, claims taken, shards written), executes every shard on all
//! cores with a progress bar, then updates the virtual stores of the run's datasets
//! (`edp virtual`), writes the run report and the per-dataset manifests and
//! prints a summary: counts by status and product kind, seconds, bytes and the CPU
//! utilisation (user + system CPU time / (wall time x cores)).
//!
//! A second run of the same jobs plans nothing and says so; a deleted granule is planned and
//! produced again alone; a bad input fails its own granule and the exit code says so.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use edp_plan::planner::{PlanOutcome, plan_run};
use edp_plan::sources::parse_location;
use edp_plan::state::{Layout, read_shard, reconcile_run, write_manifests, write_report};
use edp_plan::tasklist::{EdpKey, to_python_json};
use edp_runner::process::{CpuTimes, available_cores, cpu_utilisation};
use edp_runner::{TaskObserver, TaskOutcome, WorkerOptions, run_shards};
use edp_task_schemas::{ExitKind, RunReport, TaskStatus};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::plan::{PlanArgs, PrepareFor, Prepared, prepare};

const EXIT_CODES: &str = "Exit status:
  0  every planned granule was produced (or nothing was left to do)
  2  invalid arguments, configuration, metadata or job file (nothing was produced)
  3  at least one granule failed permanently (bad or missing input, unsupported task)
  4  at least one granule failed transiently (storage throttling, network); run again to
     redo only what is not done";

/// Arguments of `edp run`: those of `edp plan`, plus how to execute.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct RunArgs {
    /// Planning inputs (as `edp plan`).
    #[command(flatten)]
    pub plan: PlanArgs,

    /// Granules produced at the same time (default: one per core).
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 0)]
    pub jobs: usize,

    /// Working memory the granules in flight may take together, in MB (estimated per kind
    /// and input count; grid, metadata and weights come on top). Default: the container's
    /// memory limit less 512 MB when there is one, else no limit but `--jobs`.
    #[arg(long, env = "EDP_MEMORY_BUDGET_MB", value_name = "MB")]
    pub memory_budget_mb: Option<u64>,

    /// Folder for downloads (remote grid/metadata) and granules on their way to S3.
    #[arg(long, env = "EDP_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// No progress bar (it is also hidden when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

/// Runs `edp run`.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let runtime = super::shared::start(args.plan.log.level_or(super::shared::QUIET))?;
    let result = runtime.block_on(execute(&args))?;
    print_out(&result.summary);
    Ok(result.exit.into())
}

/// What a run did (also used by `edp demo`).
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The run id (planned even when nothing was left to do).
    pub run_id: String,
    /// Exit kind of the execution.
    pub exit: ExitKind,
    /// The printed summary.
    pub summary: String,
}

/// Plans and executes (see the module documentation); returns what happened and the summary
/// text (not printed).
pub async fn execute(args: &RunArgs) -> anyhow::Result<RunResult> {
    let Prepared {
        store,
        request,
        catalog,
        config,
    } = prepare(
        &args.plan,
        PrepareFor {
            claimed_by: format!("edp run (pid {})", std::process::id()),
            require_grid: true,
        },
    )
    .await?;
    let plan = plan_run(&store, &catalog, &config, &request).await?;
    for warning in &plan.warnings {
        tracing::warn!("{warning}");
    }
    if let Some(outfile) = &args.plan.outfile {
        let key = if args.plan.strip_edp {
            EdpKey::Strip
        } else {
            EdpKey::Keep
        };
        store
            .put(
                &parse_location(outfile)?,
                to_python_json(&plan.tasks, key)?.into_bytes(),
            )
            .await
            .with_context(|| format!("cannot write the task list to {outfile}"))?;
    }
    let mut summary = plan_lines(&plan);
    if request.dry_run || plan.tasks.is_empty() {
        if !request.dry_run {
            let _ = writeln!(
                summary,
                "nothing to do: every granule of the jobs is already done{}",
                if plan.skipped_claimed.is_empty() {
                    String::new()
                } else {
                    format!(" or held by another run ({})", plan.skipped_claimed.len())
                }
            );
        }
        return Ok(RunResult {
            run_id: plan.run_id,
            exit: ExitKind::Success,
            summary,
        });
    }

    let shards_dir = plan
        .shards_location
        .clone()
        .context("the plan wrote no shards")?;
    let mut shards = Vec::with_capacity(plan.shard_count as usize);
    for index in 0..plan.shard_count {
        shards.push(read_shard(&store, &shards_dir, index).await?);
    }
    let total: usize = shards.iter().map(|s| s.tasks.len()).sum();

    let mut options = WorkerOptions::new(request.dest_root.clone(), plan.run_id.clone());
    options.concurrency = args.jobs;
    options.memory_budget_mb = args.memory_budget_mb;
    options.force = request.force;
    options.skip_invalid_metadata = args.plan.skip_invalid_metadata;
    options.source_root = Some(request.source_root.clone());
    if let Some(dir) = &args.cache_dir {
        options.cache_dir = dir.clone();
    }
    let progress = Progress::new(total as u64, args.no_progress);
    let cpu_before = CpuTimes::now();
    let wall = Instant::now();
    let outcome = run_shards(&store, &shards, &options, &progress).await;
    let wall = wall.elapsed();
    let cpu = match (CpuTimes::now(), cpu_before) {
        (Some(after), Some(before)) => Some(after.since(&before)),
        _ => None,
    };
    progress.finish();

    let dest = request.dest_root.location().clone();
    let mut report = reconcile_run(&store, &dest, &plan.run_id).await?;
    let (virtual_lines, virtual_stores, repositories) =
        super::virtual_store::after_run(&store, &request.dest_root, &plan.run_id).await;
    report.virtual_stores = virtual_stores;
    report.icechunk_repositories = repositories;
    let report_location = write_report(&store, &Layout::new(&dest), &report).await?;
    let manifests = write_manifests(&store, &request.dest_root, &plan.run_id).await?;
    let datasets =
        edp_datasets::after_run(&store, &request.dest_root, &plan.run_id, "edp run").await?;

    let cores = available_cores();
    summary.push_str(&result_table(&report));
    match cpu {
        Some(cpu) => {
            let _ = writeln!(
                summary,
                "wall {:.2} s; CPU {:.2} s (user {:.2} s + system {:.2} s) on {cores} core(s): \
                 CPU utilisation {:.0}%",
                wall.as_secs_f64(),
                cpu.total().as_secs_f64(),
                cpu.user.as_secs_f64(),
                cpu.system.as_secs_f64(),
                100.0 * cpu_utilisation(cpu.total(), wall, cores)
            );
        }
        None => {
            let _ = writeln!(
                summary,
                "wall {:.2} s (CPU time unavailable on this system)",
                wall.as_secs_f64()
            );
        }
    }
    let _ = writeln!(summary, "report: {report_location}");
    let _ = writeln!(
        summary,
        "manifests: {} updated with {} granule(s) below {}",
        manifests.written.len(),
        manifests.granules,
        Layout::new(&dest).manifests_dir()
    );
    let _ = writeln!(
        summary,
        "datasets: {} updated (`edp datasets --dest ...`); page {}",
        datasets.update.datasets.len(),
        datasets.page
    );
    summary.push_str(&virtual_lines);
    if !report.failures.is_empty() {
        let _ = writeln!(summary, "failed granules:");
        for failure in &report.failures {
            let _ = writeln!(
                summary,
                "  {} [{:?}, attempt {}]: {}",
                failure.granule, failure.error.kind, failure.attempts, failure.error.message
            );
        }
    }
    let _ = writeln!(summary, "exit status: {}", outcome.exit);
    Ok(RunResult {
        run_id: plan.run_id,
        exit: outcome.exit,
        summary,
    })
}

/// The planning part of the summary.
fn plan_lines(plan: &PlanOutcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {}: {} granule(s) to produce, {} already done, {} held by other runs, {} incomplete",
        plan.run_id,
        plan.tasks.len(),
        plan.skipped_done.len(),
        plan.skipped_claimed.len(),
        plan.incomplete.len()
    );
    for entry in &plan.incomplete {
        let _ = writeln!(out, "  incomplete: {entry}");
    }
    for orphan in &plan.orphans {
        let _ = writeln!(out, "  orphan input: {orphan}");
    }
    out
}

/// Counts by status and product kind with seconds and bytes.
fn result_table(report: &RunReport) -> String {
    let mut out = String::new();
    let header = format!(
        "  {:<10} {:>6} {:>7} {:>8} {:>8} {:>10} {:>11}",
        "kind", "done", "failed", "skipped", "planned", "seconds", "bytes"
    );
    let _ = writeln!(out, "{header}");
    for kind in &report.by_kind {
        let c = kind.counts;
        let _ = writeln!(
            out,
            "  {:<10} {:>6} {:>7} {:>8} {:>8} {:>10.2} {:>11}",
            kind.kind.as_str(),
            c.done,
            c.failed,
            c.skipped,
            c.planned + c.running,
            kind.seconds,
            human_bytes(kind.output_bytes)
        );
    }
    let c = report.counts;
    let _ = writeln!(
        out,
        "  {:<10} {:>6} {:>7} {:>8} {:>8} {:>10.2} {:>11}",
        "total",
        c.done,
        c.failed,
        c.skipped,
        c.planned + c.running,
        report.seconds,
        human_bytes(report.output_bytes)
    );
    out
}

/// Writes command output to stdout; a closed pipe (`edp run | head`) is not an error.
pub(crate) fn print_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

use super::shared::human_bytes;

/// The progress bar of `edp run` (granules, ETA, failures so far).
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new(total: u64, disabled: bool) -> Progress {
        let target = if disabled {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        // The template is a constant: a failure would be a programming error, so fall back
        // to the default style rather than panic.
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} granules, ETA {eta} {msg}",
        ) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        crate::logging::set_progress_bar(Some(bar.clone()));
        Progress { bar }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
        crate::logging::set_progress_bar(None);
    }
}

impl TaskObserver for Progress {
    fn finished(&self, outcome: &TaskOutcome) {
        if outcome.status == TaskStatus::Failed {
            self.bar.set_message("(some granules failed)");
        }
        self.bar.inc(1);
    }
}
