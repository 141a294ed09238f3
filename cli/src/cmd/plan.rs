//! `edp plan`: jobs + model output -> an EDP-compatible task list and, unless `--dry-run`, the
//! run state (claims, scratch task list, shards, run record) under `<dest>/_edp/`.
//!
//! ```text
//! edp plan --jobfile jobs.txt --source ../data/ecco_results/V4r4 --dest . \
//!          --metadata metadata/ --grid grid/ --outfile tasks.json [--dry-run]
//! ```
//!
//! The option spellings of EDP's `edp_create_job_task_list` are accepted as aliases
//! (`--ecco_source_root`, `--ecco_destination_root`, `--ecco_grid_loc`,
//! `--ecco_mapping_factors_loc`, `--ecco_metadata_loc`, `--ecco_cfg_loc`/`--cfgfile`,
//! `--outfile`, `-l/--log`), so existing scripts keep working.
//!
//! Output: the task list goes to `--outfile`, else to stdout (not with `--dry-run`). The
//! summary (per product kind: tasks, input bytes, estimated core-seconds and cloud cost; the
//! incomplete granules with what is missing; orphans; warnings) goes to stdout when stdout does
//! not carry the task list, else to stderr.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context, bail};
use edp_conventions::catalog::LoadOptions;
use edp_plan::cost::FARGATE_SPOT_VCPU_HOUR_USD;
use edp_plan::jobfile::ParseOptions;
use edp_plan::planner::{
    DEFAULT_CLAIM_TTL_SECONDS, DEFAULT_SHARD_TARGET_SECONDS, KindSummary, PlanOutcome, PlanRequest,
    plan_run,
};
use edp_plan::roots::Root;
use edp_plan::sources::{
    grouping_counts, load_catalog, load_config, parse_jobs, parse_location, read_text,
};
use edp_plan::task_output::{TaskOutputError, put_task_list, write_python_task_list};
use edp_plan::tasklist::EdpKey;
use edp_store::Store;
use edp_task_schemas::deploy::MAX_ARRAY_SIZE;
use edp_task_schemas::{Locations, TaskLocations};
use edp_task_schemas::{RunTrigger, ShardSizing};

/// Arguments of `edp plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// EDP job file: one `[grouping_id, 'native'|'latlon', 'AVG_MON'|'AVG_DAY'|'SNAP'|'TI',
    /// 'all'|[steps]]` per line (local path or s3://; `TI` or `TIME-INVARIANT` plans the one
    /// granule of a time-invariant grouping). A file starting with `{` is read as a JSON job
    /// spec.
    #[arg(long, value_name = "FILE", required_unless_present = "job_spec")]
    pub jobfile: Option<String>,

    /// JSON job spec (`{"jobs": [...], "source_root": ..., ...}`), inline or as a location.
    /// Its locations are defaults for the options below.
    #[arg(long, value_name = "JSON", conflicts_with = "jobfile")]
    pub job_spec: Option<String>,

    /// Root of the model output: a directory or s3://bucket/prefix (EDP
    /// `--ecco_source_root`). Paths in the task list are written below it as given.
    #[arg(long, visible_alias = "ecco_source_root", value_name = "ROOT")]
    pub source: Option<String>,

    /// Root of the products (EDP `--ecco_destination_root`); run state goes to
    /// `<dest>/_edp/`.
    #[arg(long, visible_alias = "ecco_destination_root", value_name = "ROOT")]
    pub dest: Option<String>,

    /// ECCO metadata directory or s3:// prefix (EDP `--ecco_metadata_loc`); groupings are
    /// read from here and the location is copied into every task.
    #[arg(long, visible_alias = "ecco_metadata_loc", value_name = "LOC")]
    pub metadata: Option<String>,

    /// Grid location copied into every task (EDP `--ecco_grid_loc`).
    #[arg(long, visible_alias = "ecco_grid_loc", value_name = "LOC")]
    pub grid: Option<String>,

    /// Lat-lon mapping factors location copied into every task (EDP
    /// `--ecco_mapping_factors_loc`).
    #[arg(long, visible_alias = "ecco_mapping_factors_loc", value_name = "LOC")]
    pub factors: Option<String>,

    /// Production configuration YAML (EDP `--ecco_cfg_loc`, Gen B `--cfgfile`): read here and
    /// copied into every task. Default: the built-in V4r4 configuration.
    #[arg(long, visible_aliases = ["ecco_cfg_loc", "cfgfile"], value_name = "YAML")]
    pub config: Option<String>,

    /// Where to write the task list (local path or s3://); default stdout.
    #[arg(long, value_name = "FILE")]
    pub outfile: Option<String>,

    /// Exactly this many shards (capped by the task count and --max-shards).
    #[arg(long, value_name = "N", conflicts_with = "shard_target_seconds")]
    pub shards: Option<u32>,

    /// Shards of about this many estimated core-seconds each (default 3600).
    #[arg(long, value_name = "S")]
    pub shard_target_seconds: Option<f64>,

    /// Upper bound of the shard count (AWS Batch arrays hold at most 10000 children).
    #[arg(long, value_name = "N", default_value_t = MAX_ARRAY_SIZE)]
    pub max_shards: u32,

    /// Seconds after which a claim of an unfinished run is considered dead.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_CLAIM_TTL_SECONDS)]
    pub claim_ttl_seconds: u64,

    /// Price of one vCPU-hour (memory included) for the cost estimate; default Fargate Spot
    /// us-east-1 with 2 GB per vCPU.
    #[arg(long, value_name = "USD", default_value_t = FARGATE_SPOT_VCPU_HOUR_USD)]
    pub vcpu_hour_usd: f64,

    /// Plan only: print the summary (and the task list with --outfile); write no run state,
    /// claim nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Skip job-file lines that do not parse (with a warning) instead of failing.
    #[arg(long)]
    pub skip_bad_lines: bool,

    /// Load the metadata directory even when a file is invalid beyond the known defects that
    /// are repaired anyway: the file is skipped with a warning and only the datasets that
    /// need it fail.
    #[arg(long)]
    pub skip_invalid_metadata: bool,

    /// Plan granules with missing inputs from their complete variables (EDP's behaviour);
    /// they are still reported.
    #[arg(long)]
    pub allow_partial: bool,

    /// Plan granules that are already done again.
    #[arg(long)]
    pub force: bool,

    /// Plan again the finished granules whose inputs were re-uploaded after they were written
    /// (default: list them as "inputs changed" and leave them; the SSM setting
    /// `settings/replan_changed_inputs` does the same for the planner Lambda).
    #[arg(long)]
    pub replan_changed_inputs: bool,

    /// Write the task list exactly as EDP would, without our `edp` bookkeeping key.
    #[arg(long)]
    pub strip_edp: bool,

    #[command(flatten)]
    pub log: super::shared::LogArgs,
}

/// Runs `edp plan`.
pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let runtime = super::shared::start(args.log.level_or(super::shared::QUIET))?;
    runtime.block_on(plan(args))
}

/// A store for the locations involved: S3 settings from the environment only when one of
/// them is an `s3://` URL.
pub async fn store_for(locations: &[Option<&str>]) -> anyhow::Result<Store> {
    if locations.iter().flatten().any(|l| l.starts_with("s3://")) {
        Store::from_env()
            .await
            .context("cannot configure S3 access from the environment")
    } else {
        Ok(Store::local_only())
    }
}

/// Everything planning needs, read from the arguments of `edp plan` (and `edp run`).
pub(crate) struct Prepared {
    /// Store for every location involved (S3 from the environment when one is `s3://`).
    pub store: Store,
    /// The plan request built from the options and the job file or spec.
    pub request: PlanRequest,
    /// ECCO metadata catalog read from the metadata location.
    pub catalog: edp_conventions::Catalog,
    /// Production configuration (built-in V4r4 default without a config location).
    pub config: edp_conventions::ProductionConfig,
}

/// Who plans and what it needs beyond `edp plan`.
#[derive(Debug, Clone)]
pub(crate) struct PrepareFor {
    /// Written into claims (`claimed_by`).
    pub claimed_by: String,
    /// Fail early without a grid location (`edp run` produces granules, which need it;
    /// `edp plan` only copies it into the tasks).
    pub require_grid: bool,
}

/// Reads the planning inputs: the job file or JSON job spec (whose locations are defaults
/// for the options), the configuration and the metadata catalog, and builds the request.
pub(crate) async fn prepare(args: &PlanArgs, purpose: PrepareFor) -> anyhow::Result<Prepared> {
    let inline_spec = args
        .job_spec
        .as_deref()
        .filter(|s| s.trim_start().starts_with('{'));
    let job_location = match (&args.jobfile, &args.job_spec) {
        (Some(file), _) => Some(file.as_str()),
        (None, Some(_)) if inline_spec.is_some() => None,
        (None, spec) => spec.as_deref(),
    };
    // Locations of a job spec are only known after reading it; an s3:// spec location or
    // option already asks for S3 access, and a local spec naming s3:// roots is re-checked.
    let mut store = store_for(&[
        job_location,
        args.source.as_deref(),
        args.dest.as_deref(),
        args.metadata.as_deref(),
        args.grid.as_deref(),
        args.config.as_deref(),
        args.outfile.as_deref(),
    ])
    .await?;

    let (job_file_name, job_text) = match (job_location, inline_spec) {
        (Some(location), _) => {
            let loc = parse_location(location)?;
            (location.to_string(), read_text(&store, &loc).await?)
        }
        (None, Some(text)) => ("--job-spec".to_string(), text.to_string()),
        (None, None) => bail!("give --jobfile FILE or --job-spec JSON"),
    };
    let spec_first = if job_text.trim_start().starts_with('{') {
        Some(edp_plan::sources::parse_job_spec(
            &job_file_name,
            &job_text,
        )?)
    } else {
        None
    };
    // One precedence rule for the CLI and the planner Lambda: option > job spec.
    let given = Locations {
        source_root: args.source.clone(),
        dest_root: args.dest.clone(),
        task: TaskLocations {
            cfg_loc: args.config.clone(),
            grid_loc: args.grid.clone(),
            factors_loc: args.factors.clone(),
            metadata_loc: args.metadata.clone(),
        },
    }
    .or(spec_first
        .as_ref()
        .map(edp_task_schemas::JobSpec::locations)
        .unwrap_or_default());
    let source = given.source_root.context(
        "no source root: give --source (--ecco_source_root) or source_root in the job spec",
    )?;
    let dest = given.dest_root.context(
        "no destination root: give --dest (--ecco_destination_root) or dest_root in the job spec",
    )?;
    let TaskLocations {
        cfg_loc: cfg,
        grid_loc: grid,
        factors_loc: factors,
        metadata_loc: metadata,
    } = given.task;
    let metadata = metadata.context(
        "no metadata location: give --metadata (--ecco_metadata_loc) or metadata_loc in the job spec",
    )?;
    if purpose.require_grid && grid.is_none() {
        bail!(
            "no grid location: give --grid (--ecco_grid_loc) or grid_loc in the job spec; \
             the granules need it"
        );
    }
    if spec_first.is_some() {
        store = store_for(&[
            job_location,
            Some(&source),
            Some(&dest),
            Some(&metadata),
            grid.as_deref(),
            cfg.as_deref(),
            args.outfile.as_deref(),
        ])
        .await?;
    }

    let config = load_config(&store, cfg.as_deref()).await?;
    let catalog = load_catalog(
        &store,
        &metadata,
        &LoadOptions {
            podaac_filename: config.podaac_metadata_filename.clone(),
            skip_invalid: args.skip_invalid_metadata,
            ..LoadOptions::default()
        },
    )
    .await?;
    // Each known defect of the metadata once per plan (the granules are produced anyway).
    for skipped in catalog.skipped() {
        tracing::warn!(
            "metadata file skipped as invalid: {}: {}",
            skipped.path.display(),
            skipped.error
        );
    }
    for repair in catalog.all_repairs() {
        tracing::warn!("metadata defect repaired: {repair}");
    }
    let counts = grouping_counts(&catalog)
        .with_context(|| format!("metadata {metadata}: cannot count the groupings"))?;
    let loaded = parse_jobs(
        &job_file_name,
        &job_text,
        &counts,
        &ParseOptions {
            skip_invalid_lines: args.skip_bad_lines,
        },
    )?;
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }

    let source_root =
        Root::parse(&source).with_context(|| format!("invalid source root {source:?}"))?;
    if let Some(path) = source_root.location().as_local_path()
        && !path.is_dir()
    {
        bail!("source root {source}: expected an existing directory, found none");
    }
    let dest_root =
        Root::parse(&dest).with_context(|| format!("invalid destination root {dest:?}"))?;
    let mut request = PlanRequest::new(loaded.jobs, source_root, dest_root);
    request.locations = TaskLocations {
        cfg_loc: cfg,
        grid_loc: grid,
        factors_loc: factors,
        metadata_loc: Some(metadata),
    };
    request.sizing = match (args.shards, args.shard_target_seconds) {
        (Some(count), _) => ShardSizing::Count(count),
        (None, Some(seconds)) => ShardSizing::TargetSeconds(seconds),
        (None, None) => ShardSizing::TargetSeconds(DEFAULT_SHARD_TARGET_SECONDS),
    };
    request.max_shards = args.max_shards;
    request.claim_ttl_seconds = args.claim_ttl_seconds;
    request.dry_run = args.dry_run;
    request.force = args.force;
    request.replan_changed_inputs = args.replan_changed_inputs;
    request.allow_partial = args.allow_partial;
    request.trigger = RunTrigger::Cli;
    request.claimed_by = Some(purpose.claimed_by);
    request.vcpu_hour_usd = args.vcpu_hour_usd;
    Ok(Prepared {
        store,
        request,
        catalog,
        config,
    })
}

async fn plan(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let Prepared {
        store,
        request,
        catalog,
        config,
    } = prepare(
        &args,
        PrepareFor {
            claimed_by: claimed_by(),
            require_grid: false,
        },
    )
    .await?;

    // Builder warnings are listed in the summary below (not logged a second time).
    let outcome = plan_run(&store, &catalog, &config, &request).await?;

    let edp_key = if args.strip_edp {
        EdpKey::Strip
    } else {
        EdpKey::Keep
    };
    let mut summary = summary(&outcome, args.dry_run);
    if args.dry_run {
        summary.push_str(&redo_lines(&store, &request.dest_root, &outcome.tasks).await);
    }
    // The list is streamed, never held as one string (it can be hundreds of MB).
    match &args.outfile {
        Some(outfile) => {
            let location = parse_location(outfile)?;
            put_task_list(&store, &location, &outcome.tasks, edp_key)
                .await
                .with_context(|| format!("cannot write the task list to {outfile}"))?;
            emit(&summary, Stream::Stdout)?;
        }
        None if args.dry_run => emit(&summary, Stream::Stdout)?,
        None => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            let written = write_python_task_list(&outcome.tasks, edp_key, &mut stdout, "stdout")
                .map_err(|err| match err {
                    TaskOutputError::Io { source, .. } => source,
                    other => std::io::Error::other(other),
                })
                .and_then(|()| stdout.flush());
            quiet_broken_pipe(written)?;
            emit(&summary, Stream::Stderr)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where command output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Writes command output; a closed pipe (`edp status | head`) ends the output quietly
/// instead of panicking like `print!`.
pub fn emit(text: &str, stream: Stream) -> anyhow::Result<()> {
    let result = match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        }
        Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
    };
    quiet_broken_pipe(result)
}

/// `Ok` for a broken pipe (the reader has gone), the error otherwise.
fn quiet_broken_pipe(result: std::io::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// `user@host` for claims, from the environment.
fn claimed_by() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_string());
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    format!("edp plan ({user}@{host})")
}

use super::shared::human_bytes;

fn kind_row(out: &mut String, name: &str, kind: &KindSummary) {
    let _ = writeln!(
        out,
        "  {name:<10} {:>9} {:>13} {:>14.1} {:>12.4}",
        kind.tasks,
        human_bytes(kind.input_bytes),
        kind.core_seconds,
        kind.cost_usd
    );
}

/// Granules whose reason is listed one by one in a dry run (the rest are counted by reason).
const REDO_LISTED: usize = 20;

/// Why each planned granule would be produced (again), for `edp plan --dry-run`: reasons
/// counted over every task, the first [`REDO_LISTED`] granules listed with theirs.
async fn redo_lines(
    store: &Store,
    dest: &edp_plan::roots::Root,
    tasks: &[edp_task_schemas::Task],
) -> String {
    let mut out = String::new();
    if tasks.is_empty() {
        return out;
    }
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    let mut listed = Vec::new();
    for task in tasks {
        let (kind, reason) = match edp_plan::state::redo_reason(store, dest, task).await {
            Ok(Some(reason)) => (reason.kind, reason.to_string()),
            Ok(None) => ("done", "already done (planned again: --force)".to_string()),
            Err(err) => ("cannot tell", format!("cannot tell: {err}")),
        };
        *counts.entry(kind.to_string()).or_default() += 1;
        if listed.len() < REDO_LISTED {
            listed.push(format!("  {}: {reason}", task.granule));
        }
    }
    let _ = writeln!(out, "why each planned granule would be produced:");
    for (kind, count) in &counts {
        let _ = writeln!(out, "  {count:>7}  {kind}");
    }
    for line in &listed {
        let _ = writeln!(out, "{line}");
    }
    if tasks.len() > listed.len() {
        let _ = writeln!(out, "  ... and {} more", tasks.len() - listed.len());
    }
    out
}

/// The human summary of a plan.
fn summary(outcome: &PlanOutcome, dry_run: bool) -> String {
    let mut out = String::new();
    let stats = outcome.inventory;
    let _ = writeln!(
        out,
        "{} {}: {} task(s) planned; skipped {} done, {} claimed by other runs; {} incomplete",
        if dry_run { "dry run" } else { "run" },
        outcome.run_id,
        outcome.tasks.len(),
        outcome.skipped_done.len(),
        outcome.skipped_claimed.len(),
        outcome.incomplete.len()
    );
    let _ = writeln!(
        out,
        "inputs: {} listed, {} MDS files ({}), {} pairs, {} outside the search space, {} other",
        stats.listed,
        stats.files,
        human_bytes(stats.bytes),
        stats.pairs,
        stats.outside_search_space,
        stats.not_mds
    );
    let _ = writeln!(
        out,
        "  {:<10} {:>9} {:>13} {:>14} {:>12}",
        "kind", "tasks", "input bytes", "core-seconds", "cost (USD)"
    );
    for kind in &outcome.by_kind {
        let name = kind.kind.map(|k| k.as_str()).unwrap_or("unknown");
        kind_row(&mut out, name, kind);
    }
    kind_row(&mut out, "total", &outcome.total);
    match (&outcome.shards_location, dry_run) {
        (Some(location), _) => {
            let _ = writeln!(out, "shards: {} in {location}", outcome.shard_count);
        }
        (None, true) => {
            let _ = writeln!(
                out,
                "shards: {} (not written: dry run)",
                outcome.shard_count
            );
        }
        (None, false) => {
            let _ = writeln!(out, "shards: none (nothing to plan, no run written)");
        }
    }
    if let Some(location) = &outcome.run_record_location {
        let _ = writeln!(out, "run record: {location}");
    }
    if outcome.taken_over > 0 {
        let _ = writeln!(
            out,
            "claims taken over from finished or expired runs: {}",
            outcome.taken_over
        );
    }
    if !outcome.incomplete.is_empty() {
        let _ = writeln!(out, "incomplete granules (inputs missing):");
        for entry in &outcome.incomplete {
            let _ = writeln!(out, "  {entry}");
        }
    }
    if !outcome.orphans.is_empty() {
        let _ = writeln!(out, "orphan input files:");
        for orphan in &outcome.orphans {
            let _ = writeln!(out, "  {orphan}");
        }
    }
    if !outcome.changed_inputs.is_empty() {
        let replanned = outcome
            .changed_inputs
            .iter()
            .filter(|c| c.replanned)
            .count();
        let _ = writeln!(
            out,
            "inputs changed after the granule was written: {} granule(s), {replanned} planned \
             again{}",
            outcome.changed_inputs.len(),
            if replanned < outcome.changed_inputs.len() {
                " (the others are left: --replan-changed-inputs plans them)"
            } else {
                ""
            }
        );
        for changed in &outcome.changed_inputs {
            let _ = writeln!(
                out,
                "  {}{}: {}",
                changed.granule,
                if changed.replanned {
                    " (planned again)"
                } else {
                    ""
                },
                changed.inputs.join(", ")
            );
        }
    }
    if !outcome.skipped_claimed.is_empty() {
        let _ = writeln!(out, "claimed by other runs:");
        for claimed in &outcome.skipped_claimed {
            let _ = writeln!(out, "  {} (run {})", claimed.granule, claimed.run_id);
        }
    }
    if !outcome.warnings.is_empty() {
        let _ = writeln!(out, "warnings:");
        for warning in &outcome.warnings {
            let _ = writeln!(out, "  {warning}");
        }
    }
    out
}
