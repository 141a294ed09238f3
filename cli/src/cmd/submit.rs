//! `edp submit`: the operator's manual trigger from a terminal. Plans the jobs of a job file
//! and submits the run to AWS Batch through **the same code as the planner Lambda**
//! ([`edp_cloud::plan_and_submit`]): same defaults, same claims, same shards, same
//! job environment (`EDP_RUN_ID`, `EDP_SHARDS_URI`), same `run.json`.
//!
//! ```text
//! edp submit --jobfile jobs.txt --source s3://model-output/V4r4 --dest s3://products \
//!            --job-queue edp-prod-worker --job-definition edp-prod-worker \
//!            [--ssm-prefix /edp/prod/] [--shards N] [--dry-run]
//! ```
//!
//! With `--ssm-prefix`, the grid, metadata, factors and configuration locations (and the
//! source/destination credentials) come from the deployment's SSM settings, as for the
//! Lambda; `--metadata`, `--grid`, `--factors` and `--config` override them. Every option
//! also reads the deployment variable named in its help (`EDP_SOURCE_ROOT` ...), so the
//! Terraform output `planner_environment` can be exported and used as is.
//!
//! Output (stdout): `run_id`, `job_id` and the plan summary as `key: value` lines, or the
//! planner's JSON response with `--json`.

use std::process::ExitCode;

use anyhow::Context;
use edp_cloud::{BatchSubmitter, PlannerConfig, PlannerResponse, SubmitContext, plan_and_submit};
use edp_cloud::{DeploySettings, LogFormat, SettingsSource, SsmSettings};
use edp_plan::planner::{DEFAULT_CLAIM_TTL_SECONDS, DEFAULT_SHARD_TARGET_SECONDS};
use edp_store::{Location, Store, StoreConfig};
use edp_task_schemas::deploy::MAX_ARRAY_SIZE;
use edp_task_schemas::{ManualTrigger, RunTrigger};

/// Arguments of `edp submit`.
#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// EDP job file (local path or s3://); a file starting with `{` is read as a JSON job spec.
    #[arg(long, value_name = "FILE")]
    pub jobfile: String,

    /// Root of the model output (s3://bucket/prefix).
    #[arg(long, value_name = "ROOT", env = "EDP_SOURCE_ROOT")]
    pub source: String,

    /// Root of the products (s3://bucket/prefix); run state goes to `<dest>/_edp/`.
    #[arg(long, value_name = "ROOT", env = "EDP_DEST_ROOT")]
    pub dest: String,

    /// AWS Batch job queue name or ARN.
    #[arg(long, value_name = "QUEUE", env = "EDP_JOB_QUEUE")]
    pub job_queue: String,

    /// AWS Batch job definition name or ARN (with or without revision).
    #[arg(long, value_name = "DEFINITION", env = "EDP_JOB_DEFINITION")]
    pub job_definition: String,

    /// SSM Parameter Store prefix of the deployment settings (e.g. /edp/prod/); without it
    /// the locations must be given below.
    #[arg(long, value_name = "PREFIX", env = "EDP_SSM_PREFIX")]
    pub ssm_prefix: Option<String>,

    /// ECCO metadata directory (overrides SSM settings/metadata_loc).
    #[arg(long, value_name = "LOC")]
    pub metadata: Option<String>,

    /// Grid location copied into the tasks (overrides SSM settings/grid_loc).
    #[arg(long, value_name = "LOC")]
    pub grid: Option<String>,

    /// Lat-lon mapping factors location (overrides SSM settings/factors_loc).
    #[arg(long, value_name = "LOC")]
    pub factors: Option<String>,

    /// Production configuration YAML (overrides SSM settings/config_loc; default built-in V4r4).
    #[arg(long, value_name = "YAML")]
    pub config: Option<String>,

    /// Exactly this many shards (= Batch array size; capped by the task count).
    #[arg(long, value_name = "N", conflicts_with = "shard_target_seconds")]
    pub shards: Option<u32>,

    /// Shards of about this many estimated core-seconds each.
    #[arg(long, value_name = "S", env = "EDP_SHARD_TARGET_SECONDS", default_value_t = DEFAULT_SHARD_TARGET_SECONDS)]
    pub shard_target_seconds: f64,

    /// Upper bound of the shard count (AWS Batch arrays hold at most 10000 children).
    #[arg(long, value_name = "N", env = "EDP_MAX_SHARDS", default_value_t = MAX_ARRAY_SIZE)]
    pub max_shards: u32,

    /// Seconds after which a claim of an unfinished run is considered dead.
    #[arg(long, value_name = "S", env = "EDP_CLAIM_TTL_SECONDS", default_value_t = DEFAULT_CLAIM_TTL_SECONDS)]
    pub claim_ttl_seconds: u64,

    /// Plan only: print what would be submitted; write, claim and submit nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Plan granules that are already done again.
    #[arg(long)]
    pub force: bool,

    /// Print the planner's JSON response instead of `key: value` lines.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub log: super::shared::LogArgs,
}

/// Runs `edp submit`.
pub fn run(args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let runtime = super::shared::start(args.log.level_or(super::shared::CHATTY))?;
    let response = runtime.block_on(submit(&args))?;
    print_response(&response, args.json)?;
    Ok(ExitCode::SUCCESS)
}

fn location(given: &str, what: &str) -> anyhow::Result<Location> {
    Location::parse(given).with_context(|| format!("{what} {given:?}"))
}

async fn submit(args: &SubmitArgs) -> anyhow::Result<PlannerResponse> {
    if !(args.shard_target_seconds.is_finite() && args.shard_target_seconds > 0.0) {
        anyhow::bail!(
            "--shard-target-seconds {}: expected a positive number",
            args.shard_target_seconds
        );
    }
    if !(1..=MAX_ARRAY_SIZE).contains(&args.max_shards) {
        anyhow::bail!(
            "--max-shards {}: expected 1..={MAX_ARRAY_SIZE}",
            args.max_shards
        );
    }
    let config = PlannerConfig {
        source_root: location(&args.source, "--source")?,
        dest_root: location(&args.dest, "--dest")?,
        ssm_prefix: args.ssm_prefix.clone().unwrap_or_default(),
        job_queue: args.job_queue.clone(),
        job_definition: args.job_definition.clone(),
        shard_target_seconds: args.shard_target_seconds,
        max_shards: args.max_shards,
        claim_ttl_seconds: args.claim_ttl_seconds,
        log_format: LogFormat::Text,
    };
    let settings = match &args.ssm_prefix {
        Some(prefix) => SsmSettings::from_env()
            .await
            .load_settings(prefix)
            .await
            .with_context(|| format!("SSM settings below {prefix}"))?,
        None => DeploySettings::default(),
    };
    let trigger = ManualTrigger {
        job_file: Some(args.jobfile.clone()),
        source_root: Some(args.source.clone()),
        dest_root: Some(args.dest.clone()),
        metadata_loc: args.metadata.clone(),
        grid_loc: args.grid.clone(),
        factors_loc: args.factors.clone(),
        cfg_loc: args.config.clone(),
        shard_count: args.shards,
        target_seconds: args.shards.is_none().then_some(args.shard_target_seconds),
        dry_run: args.dry_run,
        force: args.force,
        jobs: None,
    };
    let store_config = StoreConfig::from_env().context("storage configuration")?;
    let store = Store::from_config(store_config.clone()).await;
    let submitter = BatchSubmitter::from_env().await;
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "unknown host".to_string());
    let ctx = SubmitContext {
        store: &store,
        store_config: &store_config,
        submitter: &submitter,
        config: &config,
        settings: &settings,
        trigger: RunTrigger::Cli,
        claimed_by: Some(format!("edp submit on {host}")),
    };
    // Boxed: the planning future is deep (see the planner Lambda's main).
    Ok(Box::pin(plan_and_submit(&trigger, &ctx)).await?)
}

fn print_response(response: &PlannerResponse, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(response)?);
        return Ok(());
    }
    let value = serde_json::to_value(response)?;
    if let Some(fields) = value.as_object() {
        for (key, value) in fields {
            match value {
                serde_json::Value::String(text) => println!("{key}: {text}"),
                other => println!("{key}: {other}"),
            }
        }
    }
    Ok(())
}
