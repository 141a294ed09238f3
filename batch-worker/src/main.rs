//! Container entrypoint of the AWS Batch worker: one array child runs one shard.
//!
//! 1. read the environment ([`cloud::WorkerEnv`]; see the [`cloud`] module for the table);
//! 2. read the SSM settings and secrets below `EDP_SSM_PREFIX` and build the stores (main
//!    store with the destination credentials or the task role; a source store for the task
//!    inputs when source credentials are set);
//! 3. load `<EDP_SHARDS_URI>/shard-<AWS_BATCH_JOB_ARRAY_INDEX:05>.json`;
//! 4. run it with [`edp_runner::run_shard`] (granule lines and EMF metric lines are
//!    written there);
//! 5. exit with the documented code: 0 success, 2 usage, 3 permanent failure, 4 retryable
//!    failure (`edp_task_schemas::exit`, which also drives the Batch retry rules).
//!
//! Logs are JSON lines on stderr (`EDP_LOG_FORMAT=json`, the default); stdout carries the
//! EMF metric lines. Secrets never appear in either.

mod cloud;

use std::process::ExitCode;

use edp_cloud::{SsmSettings, logging};
use edp_plan::roots::Root;
use edp_runner::{MetricsOutput, WorkerOptions, input, run_shard};
use edp_store::StoreConfig;
use edp_task_schemas::{ExitKind, Shard};

use crate::cloud::{WorkerEnv, setup};

fn main() -> ExitCode {
    // First, while this is the only thread: see `disable_file_locking` for why.
    edp_h5chunks::disable_file_locking();
    let worker_env = match WorkerEnv::from_env() {
        Ok(worker_env) => worker_env,
        Err(err) => {
            // No subscriber yet: the format itself may be what is wrong.
            eprintln!("edp-batch-worker: {err}");
            return ExitKind::Usage.into();
        }
    };
    if let Err(err) = logging::init(worker_env.log_format) {
        eprintln!("edp-batch-worker: {err}");
        return ExitKind::Usage.into();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!(error = %err, "cannot start the async runtime");
            return ExitKind::Retryable.into();
        }
    };
    let kind = runtime
        .block_on(run(&worker_env))
        .unwrap_or_else(|kind| kind);
    ExitCode::from(kind)
}

/// Steps 2 to 4; `Err` carries the exit kind of a failure before any task ran.
async fn run(worker_env: &WorkerEnv) -> Result<ExitKind, ExitKind> {
    let index = worker_env.array_index;
    let aws = aws_config::load_from_env().await;
    let settings = SsmSettings::new(aws_sdk_ssm::Client::new(&aws));
    let store_config = StoreConfig::from_env().map_err(|err| {
        tracing::error!(error = %err, shard = index, "invalid storage configuration");
        ExitKind::Usage
    })?;
    let cloud = setup(worker_env, &settings, &store_config)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, shard = index, "cannot set up the worker");
            err.exit_kind()
        })?;
    tracing::info!(
        shard = index,
        ssm_prefix = worker_env.ssm_prefix.as_deref(),
        credentials = cloud.credentials_from.as_deref().unwrap_or("default chain"),
        source_credentials = cloud
            .source_credentials_from
            .as_deref()
            .unwrap_or("none: inputs read with the main store"),
        "worker configured"
    );

    let shard_location = worker_env.shards_uri.join(&Shard::file_name(index));
    let shard = input::load_shard(&cloud.store, &shard_location)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, shard = index, "cannot load the shard");
            err.exit_kind()
        })?;
    if shard.index != index {
        tracing::error!(shard = index, location = %shard_location, found = shard.index,
            "the shard file names another index");
        return Err(ExitKind::Usage);
    }
    let run_id = match &worker_env.run_id {
        Some(run_id) if *run_id != shard.run_id => {
            tracing::error!(run_id = %run_id, shard_run_id = %shard.run_id,
                location = %shard_location, "EDP_RUN_ID does not match the shard's run");
            return Err(ExitKind::Usage);
        }
        _ => shard.run_id.clone(),
    };
    let dest_root = Root::parse(&worker_env.dest_root).map_err(|err| {
        tracing::error!(error = %err, dest_root = %worker_env.dest_root, "invalid EDP_DEST_ROOT");
        ExitKind::Usage
    })?;

    let mut options = WorkerOptions::new(dest_root, run_id);
    options.metrics = MetricsOutput::Stdout;
    options.defaults = cloud.defaults;
    options.source_store = cloud.source_store;
    options.skip_invalid_metadata = cloud.skip_invalid_metadata;
    if let Some(dir) = &worker_env.cache_dir {
        options.cache_dir = dir.clone();
    }
    let outcome = run_shard(&cloud.store, &shard, &options).await;
    let counts = outcome.counts();
    tracing::info!(
        run_id = %outcome.run_id,
        shard = index,
        tasks = shard.tasks.len(),
        done = counts.done,
        skipped = counts.skipped,
        failed = counts.failed,
        seconds = outcome.seconds,
        exit_code = outcome.exit.code(),
        exit = outcome.exit.as_str(),
        "shard finished"
    );
    Ok(outcome.exit)
}
