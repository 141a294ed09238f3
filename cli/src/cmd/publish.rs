//! `edp publish --dest ROOT --dataset D --to LOCATION`: copies a publishable dataset to a
//! publication prefix (server-side on S3), writes its mapfile there and records `published`
//! (see `edp_datasets::publish`). Datasets that are not publishable are refused.

use std::process::ExitCode;

use anyhow::Context;
use edp_datasets::lifecycle::Actor;
use edp_datasets::publish::publish;
use edp_datasets::{DatasetError, DatasetId};
use edp_plan::roots::Root;

use super::plan::store_for;
use super::run::print_out;
use super::shared::human_bytes;

const EXIT_CODES: &str = "Exit status:
  0  the dataset was published
  1  refused: the dataset is not publishable (run `edp check` first) or a copy did not match
     its manifest; nothing was switched
  2  invalid arguments or unreadable state";

/// Arguments of `edp publish`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct PublishArgs {
    /// Root of the products (a directory or s3://bucket/prefix).
    #[arg(long, value_name = "ROOT")]
    pub dest: String,

    /// The dataset, `<ecco_version>/<native|latlon>/<period>/<GROUPING>`.
    #[arg(long, value_name = "DATASET")]
    pub dataset: String,

    /// Publication prefix (a directory or s3://bucket/prefix).
    #[arg(long, value_name = "LOCATION")]
    pub to: String,

    #[command(flatten)]
    pub log: super::shared::LogArgs,
}

/// Runs `edp publish`.
pub fn run(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let runtime = super::shared::start(args.log.level_or(super::shared::QUIET))?;
    runtime.block_on(execute(&args))
}

async fn execute(args: &PublishArgs) -> anyhow::Result<ExitCode> {
    let store = store_for(&[Some(&args.dest), Some(&args.to)]).await?;
    let dest = Root::parse(&args.dest)
        .with_context(|| format!("invalid destination root {:?}", args.dest))?;
    let to = Root::parse(&args.to)
        .with_context(|| format!("invalid publication location {:?}", args.to))?;
    let id = DatasetId::parse(&args.dataset)?;
    match publish(
        &store,
        dest.location(),
        &id,
        to.location(),
        &Actor::new("edp publish"),
    )
    .await
    {
        Ok(done) => {
            print_out(&format!(
                "published {id} version {} ({} granule(s), {}, {} copied server-side) to {}\n\
                 mapfile: {}\n{}",
                done.version,
                done.granules,
                human_bytes(done.bytes),
                done.server_side,
                done.version_location,
                done.mapfile,
                done.replaced
                    .map(|old| format!("replaces version {old}\n"))
                    .unwrap_or_default()
            ));
            Ok(ExitCode::SUCCESS)
        }
        Err(err @ (DatasetError::Publish { .. } | DatasetError::NoStatus { .. })) => {
            eprintln!("refused: {err}");
            Ok(ExitCode::from(1))
        }
        Err(err) => Err(err.into()),
    }
}
