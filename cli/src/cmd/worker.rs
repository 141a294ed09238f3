//! `edp worker`: produces the granules of one shard of a planned run, or of a whole task list
//! written by EDP (Gen B or C) or by `edp plan`, in place of EDP's `edp_generate_dataproducts`
//! / `edp_generate_datasets` (`docs/edp-compatibility.md` 3.2).
//!
//! ```text
//! edp worker --shard s3://products/_edp/scratch/RUN/shards/shard-00003.json
//! edp worker --shard s3://products/_edp/scratch/RUN/shards --index 3
//! TASKLIST=tasks.json edp worker --cfgfile product_generation_config.yaml
//! edp worker --tasklist tasks.json --index 0 --of 4 --dest ./out
//! ```
//!
//! Granules are produced on all cores; finished ones (done marker + granule with the recorded
//! size) are skipped unless `--force`. Each granule is logged (stderr) and, unless
//! `--no-metrics`, written as a CloudWatch EMF line on stdout.

use std::process::ExitCode;

use anyhow::{Context, bail};
use edp_plan::builder::TaskLocations;
use edp_plan::roots::Root;
use edp_plan::state::new_run_id;
use edp_plan::tasklist::ReadOptions;
use edp_runner::{
    MetricsOutput, NoObserver, ShardOutcome, WorkerError, WorkerOptions, input, run_shard,
    run_tasks,
};
use edp_store::Store;
use edp_task_schemas::{ExitKind, Shard, TaskStatus};

/// Exit status, also shown by `--help`.
const EXIT_CODES: &str = "Exit status (the AWS Batch retry rules are built from the same table):
  0  every task is done or was already done
  2  usage: invalid arguments, configuration, shard or task list (nothing was produced)
  3  permanent: at least one granule failed for a reason a retry cannot fix (bad or missing
     input, unsupported task) and none failed transiently
  4  retryable: at least one granule failed transiently (throttling, network, timeouts);
     a retry redoes only what is not done";

/// Arguments of `edp worker`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct WorkerArgs {
    /// A shard file (`shard-NNNNN.json`) or the folder/prefix holding the shards of a run
    /// (then `--index` or AWS_BATCH_JOB_ARRAY_INDEX picks the shard). Local path or s3://.
    #[arg(long, value_name = "FILE_OR_URL", conflicts_with = "tasklist")]
    pub shard: Option<String>,

    /// A task list (JSON array of tasks, EDP Gen B or C or ours). Local path or s3://.
    #[arg(long, env = "TASKLIST", value_name = "FILE_OR_URL")]
    pub tasklist: Option<String>,

    /// Configuration YAML for tasks without `ecco_cfg_loc` (EDP Gen B `--cfgfile`). A Gen B
    /// task list needs it.
    #[arg(long, visible_aliases = ["ecco_cfg_loc", "config"], value_name = "YAML")]
    pub cfgfile: Option<String>,

    /// Grid location for tasks whose `ecco_grid_loc` is null.
    #[arg(long, visible_alias = "ecco_grid_loc", value_name = "LOC")]
    pub grid: Option<String>,

    /// Metadata location for tasks whose `ecco_metadata_loc` is null.
    #[arg(long, visible_alias = "ecco_metadata_loc", value_name = "LOC")]
    pub metadata: Option<String>,

    /// Lat-lon mapping factors for tasks whose `ecco_mapping_factors_loc` is null.
    #[arg(long, visible_alias = "ecco_mapping_factors_loc", value_name = "LOC")]
    pub factors: Option<String>,

    /// Load metadata directories even when a file is invalid beyond the known, repaired
    /// defects (the file is skipped; granules that need it fail).
    #[arg(long)]
    pub skip_invalid_metadata: bool,

    /// With a shard folder: the shard index. With --tasklist and --of: the slice to process
    /// (0-based).
    #[arg(long, env = "AWS_BATCH_JOB_ARRAY_INDEX", value_name = "N")]
    pub index: Option<u32>,

    /// Split the task list into this many contiguous slices and process slice --index.
    #[arg(long, value_name = "M", requires = "tasklist")]
    pub of: Option<u32>,

    /// Destination root (run state goes to `<dest>/_edp/`). Default: the common prefix of the
    /// granule paths before `<version>/<type>/<period>/<GROUPING>/<file>`.
    #[arg(
        long,
        env = "EDP_DEST_ROOT",
        visible_alias = "ecco_destination_root",
        value_name = "ROOT"
    )]
    pub dest: Option<String>,

    /// Source root the task inputs must stay below (local symbolic links resolved); inputs
    /// elsewhere are refused. Default: inputs are read wherever the tasks say.
    #[arg(long, visible_alias = "ecco_source_root", value_name = "ROOT")]
    pub source: Option<String>,

    /// Run id of the ledger records. Default: the shard's run id, or a new id for a task
    /// list.
    #[arg(long, env = "EDP_RUN_ID", value_name = "ID")]
    pub run_id: Option<String>,

    /// Granules produced at the same time (default: one per core).
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 0)]
    pub jobs: usize,

    /// Working memory the granules in flight may take together, in MB (estimated per kind
    /// and input count; grid, metadata and weights come on top). Default: the container's
    /// memory limit less 512 MB when there is one, else no limit but `--jobs`.
    #[arg(long, env = "EDP_MEMORY_BUDGET_MB", value_name = "MB")]
    pub memory_budget_mb: Option<u64>,

    /// Produce granules even when they are already done.
    #[arg(long)]
    pub force: bool,

    /// Folder for downloaded grids/metadata and granules on their way to S3.
    #[arg(long, env = "EDP_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<std::path::PathBuf>,

    /// Do not print CloudWatch EMF metric lines on stdout.
    #[arg(long)]
    pub no_metrics: bool,

    /// AWS profile for S3 access (EDP `--profile`; Gen B `--profile_name`).
    #[arg(long, visible_alias = "profile_name", value_name = "NAME")]
    pub profile: Option<String>,

    /// Executable that refreshes SSO credentials, run once before any S3 access (EDP
    /// `--keygen`).
    #[arg(long, value_name = "PATH")]
    pub keygen: Option<String>,

    #[command(flatten)]
    pub log: super::shared::LogArgs,
}

/// Runs `edp worker`.
pub fn run(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    if let Some(profile) = &args.profile
        && std::env::var("AWS_PROFILE").ok().as_deref() != Some(profile.as_str())
    {
        return rerun_with_profile(profile);
    }
    let runtime = super::shared::start(args.log.level_or(super::shared::CHATTY))?;
    Ok(runtime.block_on(work(args)).into())
}

/// What to run, after reading the shard or task list.
struct Work {
    tasks: Vec<(edp_task_schemas::Task, Option<u32>)>,
    run_id: String,
    dest: Root,
    shard: Option<Shard>,
}

async fn work(args: WorkerArgs) -> ExitKind {
    match prepare_and_run(args).await {
        Ok(kind) => kind,
        Err(err) => {
            let kind = err
                .downcast_ref::<WorkerError>()
                .map_or(ExitKind::Usage, WorkerError::exit_kind);
            tracing::error!("{err:#}");
            kind
        }
    }
}

async fn prepare_and_run(args: WorkerArgs) -> anyhow::Result<ExitKind> {
    if let Some(keygen) = &args.keygen {
        let status = std::process::Command::new(keygen)
            .status()
            .with_context(|| format!("cannot run --keygen {keygen}"))?;
        if !status.success() {
            bail!("--keygen {keygen} failed with {status}");
        }
    }
    let given: Vec<Option<&str>> = vec![
        args.shard.as_deref(),
        args.tasklist.as_deref(),
        args.dest.as_deref(),
        args.cfgfile.as_deref(),
        args.grid.as_deref(),
        args.metadata.as_deref(),
    ];
    let store = super::plan::store_for(&given).await?;
    let work = read_work(&store, &args).await?;

    let mut options = WorkerOptions::new(work.dest, work.run_id);
    options.concurrency = args.jobs;
    options.memory_budget_mb = args.memory_budget_mb;
    options.force = args.force;
    options.skip_invalid_metadata = args.skip_invalid_metadata;
    if let Some(source) = &args.source {
        let root = Root::parse(source).map_err(|err| WorkerError::Location {
            what: "source",
            given: source.clone(),
            source: err,
        })?;
        options.source_root = Some(root);
    }
    if let Some(dir) = &args.cache_dir {
        options.cache_dir = dir.clone();
    }
    options.defaults = TaskLocations {
        cfg_loc: args.cfgfile.clone(),
        grid_loc: args.grid.clone(),
        factors_loc: args.factors.clone(),
        metadata_loc: args.metadata.clone(),
    };
    options.metrics = if args.no_metrics {
        MetricsOutput::Off
    } else {
        MetricsOutput::Stdout
    };
    let outcome = match &work.shard {
        Some(shard) => run_shard(&store, shard, &options).await,
        None => run_tasks(&store, work.tasks, &options, &NoObserver).await,
    };
    report(&outcome);
    Ok(outcome.exit)
}

/// Runs this same command again with `AWS_PROFILE=profile` in its environment (without the
/// `--profile` option), because the AWS SDK reads the profile from the environment and this
/// process cannot change its own (the workspace forbids the `unsafe` `set_var`).
fn rerun_with_profile(profile: &str) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot locate the edp executable")?;
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    let mut skip_next = false;
    for arg in std::env::args_os().skip(1) {
        if skip_next {
            skip_next = false;
            continue;
        }
        let text = arg.to_string_lossy();
        if text == "--profile" || text == "--profile_name" {
            skip_next = true;
            continue;
        }
        if text.starts_with("--profile=") || text.starts_with("--profile_name=") {
            continue;
        }
        args.push(arg);
    }
    let status = std::process::Command::new(&exe)
        .args(&args)
        .env("AWS_PROFILE", profile)
        .status()
        .with_context(|| format!("cannot run {} with AWS_PROFILE={profile}", exe.display()))?;
    let code = status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(ExitKind::Retryable.code());
    Ok(ExitCode::from(code))
}

async fn read_work(store: &Store, args: &WorkerArgs) -> anyhow::Result<Work> {
    match (&args.shard, &args.tasklist) {
        (Some(given), _) => {
            let mut location = input::parse_location("shard", given)?;
            if !given.ends_with(".json") {
                let index = args.index.unwrap_or(0);
                location = location.join(&Shard::file_name(index));
            }
            let shard = input::load_shard(store, &location).await?;
            let dest = match &args.dest {
                Some(dest) => parse_root(dest)?,
                None => input::infer_dest_root(&shard.tasks)?,
            };
            tracing::info!(shard = %location, index = shard.index, count = shard.count,
                tasks = shard.tasks.len(), "shard loaded");
            Ok(Work {
                tasks: Vec::new(),
                run_id: args.run_id.clone().unwrap_or_else(|| shard.run_id.clone()),
                dest,
                shard: Some(shard),
            })
        }
        (None, Some(given)) => {
            let location = input::parse_location("task list", given)?;
            // Gen B tasks carry no `ecco_cfg_loc`: --cfgfile fills it in. Without it such a
            // task list is an error before any work (docs/edp-compatibility.md 2.3), checked below; our own
            // tasks may leave it out on purpose (built-in V4r4), which their `edp` key marks.
            let options = ReadOptions {
                default_cfg_loc: args.cfgfile.clone(),
                require_cfg_loc: false,
            };
            let mut tasks = input::load_task_list(store, &location, &options).await?;
            let missing_cfg: Vec<&str> = tasks
                .iter()
                .filter(|t| t.ecco_cfg_loc.is_none() && t.edp.is_none())
                .map(|t| t.granule.as_str())
                .collect();
            if !missing_cfg.is_empty() {
                bail!(
                    "{} task(s) of {location} have no ecco_cfg_loc (a Gen B task list), e.g. {}; \
                     give the configuration with --cfgfile",
                    missing_cfg.len(),
                    missing_cfg[0]
                );
            }
            if let Some(of) = args.of {
                let index = args.index.unwrap_or(0);
                tasks = input::slice(tasks, index as usize, of as usize)?;
                tracing::info!(slice = index, of, tasks = tasks.len(), "task-list slice");
            }
            let dest = match &args.dest {
                Some(dest) => parse_root(dest)?,
                None => input::infer_dest_root(&tasks)?,
            };
            Ok(Work {
                tasks: tasks.into_iter().map(|t| (t, None)).collect(),
                run_id: args.run_id.clone().unwrap_or_else(new_run_id),
                dest,
                shard: None,
            })
        }
        (None, None) => bail!(
            "nothing to do: give --shard FILE_OR_URL or --tasklist FILE_OR_URL (or set TASKLIST)"
        ),
    }
}

fn parse_root(given: &str) -> anyhow::Result<Root> {
    Root::parse(given).map_err(|source| {
        WorkerError::Location {
            what: "destination",
            given: given.to_string(),
            source,
        }
        .into()
    })
}

/// The closing summary on stderr (stdout carries the metric lines).
fn report(outcome: &ShardOutcome) {
    let counts = outcome.counts();
    eprintln!(
        "run {}: {} done, {} already done, {} failed in {:.1} s ({} written); exit {}",
        outcome.run_id,
        counts.done,
        counts.skipped,
        counts.failed,
        outcome.seconds,
        super::shared::human_bytes(outcome.produced_bytes()),
        outcome.exit
    );
    for task in outcome
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Failed)
    {
        if let Some(error) = &task.error {
            eprintln!(
                "  FAILED {} ({:?}): {}",
                task.granule, error.kind, error.message
            );
        }
    }
}
