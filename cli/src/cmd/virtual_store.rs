//! `edp virtual --dest ROOT [--dataset D]... [--rebuild] [--https-base URL]`: builds or
//! repairs the virtual stores (kerchunk references, Icechunk repositories) of the datasets
//! below a destination root from every done record's chunk index.
//!
//! Without `--rebuild` the stores are updated in place: granules not yet in a store are
//! added in time order, reprocessed ones replaced, and reference files that do not match
//! their state rewritten; a store that is current is left untouched. `--rebuild` builds each
//! store from the done records alone (granules whose done marker is gone are dropped).
//! `edp run` does the same for the datasets of its run at its end.

use std::process::ExitCode;

use anyhow::Context;
use edp_plan::roots::Root;
use edp_virtual::{Scope, UpdateOptions, update};

use super::plan::{Stream, emit, store_for};

/// Environment variable of the `https://` base URL of the destination root.
pub const ENV_HTTPS_BASE: &str = "EDP_VIRTUAL_HTTPS_BASE";

/// Arguments of `edp virtual`.
#[derive(Debug, clap::Args)]
pub struct VirtualArgs {
    /// Root of the products (a directory or s3://bucket/prefix) holding `_edp/`.
    #[arg(long, visible_alias = "ecco_destination_root", value_name = "ROOT")]
    pub dest: String,

    /// Only this dataset (`V4r4/native/mon_mean/SSH`, or its trailing part such as the
    /// grouping); repeatable. Default: every dataset with done granules.
    #[arg(long = "dataset", value_name = "DATASET")]
    pub datasets: Vec<String>,

    /// Build the stores from the done records alone, dropping their stored state.
    #[arg(long)]
    pub rebuild: bool,

    /// `https://` URL under which the destination root is also served; `refs.https.json`
    /// then points there.
    #[arg(long, env = ENV_HTTPS_BASE, value_name = "URL")]
    pub https_base: Option<String>,

    #[command(flatten)]
    pub log: super::shared::LogArgs,
}

/// Runs `edp virtual`.
pub fn run(args: VirtualArgs) -> anyhow::Result<ExitCode> {
    let runtime = super::shared::start(args.log.level_or(super::shared::QUIET))?;
    runtime.block_on(build(args))
}

async fn build(args: VirtualArgs) -> anyhow::Result<ExitCode> {
    let store = store_for(&[Some(&args.dest)]).await?;
    let dest = Root::parse(&args.dest)
        .with_context(|| format!("invalid destination root {:?}", args.dest))?;
    let options = UpdateOptions {
        https_base: args.https_base.clone(),
        rebuild: args.rebuild,
        datasets: args.datasets.clone(),
        repair: true,
    };
    let report = update(&store, &dest, Scope::AllDone, &options).await?;
    let mut text = format!(
        "virtual stores: {} dataset(s), {} changed\n",
        report.stores().len(),
        report.changed()
    );
    text.push_str(&report.to_string());
    emit(&text, Stream::Stdout)?;
    Ok(ExitCode::SUCCESS)
}

/// The update at the end of `edp run`: the datasets of run `run_id`, with the `https://` base
/// from [`ENV_HTTPS_BASE`]. Returns the summary lines and the reference files of the stores.
pub async fn after_run(
    store: &edp_store::Store,
    dest: &Root,
    run_id: &str,
) -> (String, Vec<String>, Vec<String>) {
    let options = UpdateOptions {
        https_base: std::env::var(ENV_HTTPS_BASE).ok().filter(|b| !b.is_empty()),
        ..UpdateOptions::default()
    };
    match update(store, dest, Scope::Run(run_id), &options).await {
        Ok(report) => {
            let refs = report.stores();
            let text = format!(
                "virtual stores: {} dataset(s), {} changed\n{report}",
                refs.len(),
                report.changed()
            );
            (text, refs, report.repositories())
        }
        Err(err) => {
            // The granules are done and recorded; the stores can be repaired with
            // `edp virtual` once the cause is fixed, so this does not fail the run.
            tracing::error!(error = %err, "virtual stores not updated");
            (
                format!(
                    "virtual stores NOT updated: {err}\n  (fix, then run `edp virtual --dest {}`)\n",
                    dest.written()
                ),
                Vec::new(),
                Vec::new(),
            )
        }
    }
}
