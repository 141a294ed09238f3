//! `edp verify --dest ROOT [--run ID]`: checks the products against their manifests: every
//! listed granule exists with the listed size and SHA-256, opens as NetCDF and holds the data
//! variables of its task (see `edp_runner::verify`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use edp_plan::roots::Root;
use edp_runner::process::available_cores;
use edp_runner::verify::{VerifyReport, verify_destination};

use super::plan::store_for;

const EXIT_CODES: &str = "Exit status:
  0  every granule checked is intact
  1  at least one problem was found (listed on stdout)
  2  the destination could not be read (invalid location, unreadable state)";

/// Arguments of `edp verify`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct VerifyArgs {
    /// Root of the products (a directory or s3://bucket/prefix) holding `_edp/manifests/`.
    #[arg(long, visible_alias = "ecco_destination_root", value_name = "ROOT")]
    pub dest: String,

    /// Only the granules done by this run (and check that each is in a manifest).
    #[arg(long, value_name = "RUN_ID")]
    pub run: Option<String>,

    /// Granules checked at the same time (default: one per core).
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 0)]
    pub jobs: usize,

    /// Folder for downloads of remote granules.
    #[arg(long, env = "EDP_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    #[command(flatten)]
    pub log: super::shared::LogArgs,
}

/// Runs `edp verify`.
pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    // Before any other NetCDF use: keeps HDF5 diagnostics off stderr (see the function).
    edp_granule::nc_thread::start();
    let runtime = super::shared::start(args.log.level_or(super::shared::QUIET))?;
    let report = runtime.block_on(verify(&args))?;
    super::run::print_out(&render(&args.dest, &report));
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Verifies (also used by `edp demo`).
pub async fn verify(args: &VerifyArgs) -> anyhow::Result<VerifyReport> {
    let store = store_for(&[Some(&args.dest)]).await?;
    let dest = Root::parse(&args.dest)
        .with_context(|| format!("invalid destination root {:?}", args.dest))?;
    let cache = args
        .cache_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("edp-cache"));
    let jobs = if args.jobs == 0 {
        available_cores()
    } else {
        args.jobs
    };
    Ok(verify_destination(&store, &dest, args.run.as_deref(), &cache, jobs).await?)
}

/// The report as text.
pub fn render(dest: &str, report: &VerifyReport) -> String {
    let mut out = format!(
        "verified {} granule(s) of {} manifest(s) below {dest} ({} compared with their task's \
         variables): {}\n",
        report.checked,
        report.manifests,
        report.variables_checked,
        if report.is_ok() {
            "OK".to_string()
        } else {
            format!("{} problem(s)", report.problems.len())
        }
    );
    for problem in &report.problems {
        out.push_str(&format!(
            "  PROBLEM {}: {}\n",
            problem.granule, problem.what
        ));
    }
    for note in &report.notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    out
}
