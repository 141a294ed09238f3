//! Container entrypoint of the AWS Batch worker (minimal version: settings from the
//! environment only; SSM settings come with the deployment code).
//!
//! Environment (`docs/architecture.md`, "Deployment contract"):
//!
//! | variable | meaning |
//! |---|---|
//! | `EDP_SHARDS_URI` | prefix holding `shard-NNNNN.json` (required) |
//! | `AWS_BATCH_JOB_ARRAY_INDEX` | shard index (0 when absent) |
//! | `EDP_DEST_ROOT` | destination root (required) |
//! | `EDP_RUN_ID` | run id (default: the shard's) |
//! | `EDP_LOG_FORMAT` | `json` (default) or `text` |
//! | `EDP_CACHE_DIR` | local cache folder (default: the system temporary folder) |
//!
//! Exit codes: 0 success, 2 usage, 3 permanent failure, 4 retryable failure (see
//! `edp_task_schemas::exit`).

use std::process::ExitCode;

use edp_batch_worker::{MetricsOutput, WorkerOptions, input, run_shard};
use edp_plan::roots::Root;
use edp_store::Store;
use edp_task_schemas::{ExitKind, Shard, deploy};

fn main() -> ExitCode {
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!("cannot start the async runtime: {err}");
            return ExitKind::Retryable.into();
        }
    };
    runtime.block_on(run()).into()
}

fn init_logging() {
    let json = std::env::var(deploy::ENV_LOG_FORMAT).map_or(true, |v| v != "text");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// A required environment variable, or a usage error naming it.
fn env(name: &str) -> Result<String, ExitKind> {
    std::env::var(name).map_err(|_| {
        tracing::error!("environment variable {name} is not set");
        ExitKind::Usage
    })
}

async fn run() -> ExitKind {
    match execute().await {
        Ok(kind) | Err(kind) => kind,
    }
}

async fn execute() -> Result<ExitKind, ExitKind> {
    let shards_uri = env(deploy::ENV_SHARDS_URI)?;
    let dest = env(deploy::ENV_DEST_ROOT)?;
    let index: u32 = match std::env::var(deploy::ENV_ARRAY_INDEX) {
        Ok(text) => text.trim().parse().map_err(|_| {
            tracing::error!("{} must be a shard index, found {text:?}", deploy::ENV_ARRAY_INDEX);
            ExitKind::Usage
        })?,
        Err(_) => 0,
    };
    let store = Store::from_env().await.map_err(|err| {
        tracing::error!("storage configuration: {err}");
        ExitKind::Usage
    })?;
    let shards = input::parse_location("shards", &shards_uri).map_err(|err| {
        tracing::error!("{err}");
        err.exit_kind()
    })?;
    let shard_location = shards.join(&Shard::file_name(index));
    let shard = input::load_shard(&store, &shard_location).await.map_err(|err| {
        tracing::error!("{err}");
        err.exit_kind()
    })?;
    let dest_root = Root::parse(&dest).map_err(|err| {
        tracing::error!("{} {dest:?}: {err}", deploy::ENV_DEST_ROOT);
        ExitKind::Usage
    })?;
    let run_id = std::env::var(deploy::ENV_RUN_ID).unwrap_or_else(|_| shard.run_id.clone());
    let mut options = WorkerOptions::new(dest_root, run_id);
    options.metrics = MetricsOutput::Stdout;
    if let Ok(dir) = std::env::var("EDP_CACHE_DIR") {
        options.cache_dir = dir.into();
    }
    let outcome = run_shard(&store, &shard, &options).await;
    let counts = outcome.counts();
    tracing::info!(
        run_id = %outcome.run_id,
        shard = index,
        done = counts.done,
        skipped = counts.skipped,
        failed = counts.failed,
        seconds = outcome.seconds,
        exit = outcome.exit.code(),
        "shard finished"
    );
    Ok(outcome.exit)
}
