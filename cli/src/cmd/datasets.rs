//! `edp datasets --dest ROOT [--state S]... [--json] [--html]`: every dataset with its state,
//! coverage (first..last, present of expected), last check and problems; `--html` also
//! renders the quicklook of each dataset's latest granule and writes the report page
//! `<dest>/_edp/report/index.html`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use edp_datasets::list_statuses;
use edp_datasets::render::render_quicklooks;
use edp_datasets::report::{rows, table, write_page};
use edp_plan::roots::Root;
use edp_plan::state::Layout;
use edp_task_schemas::DatasetState;

use super::plan::store_for;
use super::run::print_out;

/// A state on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StateArg {
    /// Granules missing or failed.
    Incomplete,
    /// Every expected granule present, not checked.
    Produced,
    /// Check passed.
    Validated,
    /// Check passed and mapfile written.
    Publishable,
    /// Published.
    Published,
    /// Check found problems.
    Failed,
}

impl From<StateArg> for DatasetState {
    fn from(s: StateArg) -> DatasetState {
        match s {
            StateArg::Incomplete => DatasetState::Incomplete,
            StateArg::Produced => DatasetState::Produced,
            StateArg::Validated => DatasetState::Validated,
            StateArg::Publishable => DatasetState::Publishable,
            StateArg::Published => DatasetState::Published,
            StateArg::Failed => DatasetState::Failed,
        }
    }
}

/// Arguments of `edp datasets`.
#[derive(Debug, clap::Args)]
pub struct DatasetsArgs {
    /// Root of the products (a directory or s3://bucket/prefix).
    #[arg(long, value_name = "ROOT")]
    pub dest: String,

    /// Only datasets in this state (repeatable).
    #[arg(long = "state", value_enum, value_name = "STATE")]
    pub states: Vec<StateArg>,

    /// Print the full statuses as JSON.
    #[arg(long)]
    pub json: bool,

    /// Render quicklooks and write the report page below `<dest>/_edp/report/`.
    #[arg(long)]
    pub html: bool,

    /// Folder for downloads of remote granules (quicklooks).
    #[arg(long, env = "EDP_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    #[command(flatten)]
    pub log: super::shared::LogArgs,
}

/// Runs `edp datasets`.
pub fn run(args: DatasetsArgs) -> anyhow::Result<ExitCode> {
    edp_granule::nc_thread::start();
    let runtime = super::shared::start(args.log.level_or(super::shared::QUIET))?;
    runtime.block_on(execute(&args))
}

async fn execute(args: &DatasetsArgs) -> anyhow::Result<ExitCode> {
    let store = store_for(&[Some(&args.dest)]).await?;
    let dest = Root::parse(&args.dest)
        .with_context(|| format!("invalid destination root {:?}", args.dest))?;
    let dest = dest.location().clone();
    let statuses = list_statuses(&store, &Layout::new(&dest)).await?;
    let states: Vec<DatasetState> = args.states.iter().map(|s| (*s).into()).collect();
    let mut out = if args.json {
        let selected: Vec<_> = statuses
            .iter()
            .filter(|s| states.is_empty() || states.contains(&s.state))
            .collect();
        format!("{}\n", serde_json::to_string_pretty(&selected)?)
    } else {
        table(&rows(&statuses, &states))
    };
    if args.html {
        let cache = args
            .cache_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("edp-cache"));
        for result in render_quicklooks(&store, &dest, &statuses, &cache).await {
            match result {
                Ok(written) => {
                    tracing::info!(dataset = %written.dataset, png = %written.location, "quicklook written")
                }
                Err(err) => eprintln!("warning: no quicklook: {err}"),
            }
        }
        let page = write_page(&store, &dest).await?;
        if !args.json {
            out.push_str(&format!("report page: {page}\n"));
        }
    }
    print_out(&out);
    Ok(ExitCode::SUCCESS)
}
