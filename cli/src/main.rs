//! `edp`: turns MITgcm ECCO output into CF/ACDD NetCDF granules, on a laptop or on AWS.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;
mod logging;

/// ECCO dataset production: MDS model output -> analysis-ready NetCDF granules.
#[derive(Debug, Parser)]
#[command(name = "edp", version, about, long_about = None)]
struct Cli {
    /// Log line format on stderr: human-readable text, or one JSON object per line (cloud).
    #[arg(
        long,
        global = true,
        value_enum,
        env = "EDP_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: logging::LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Summarise an MDS field (.meta/.data pair) or a grid directory.
    Inspect(cmd::inspect::InspectArgs),
    /// Build or check lat-lon regridding weights for a grid.
    Factors(cmd::factors::FactorsArgs),
    /// Produce one granule from explicit arguments and a local MDS results tree.
    Granule(cmd::granule::GranuleArgs),
    /// Write the time-invariant native datasets: GRID_GEOMETRY and mixing coefficients.
    TimeInvariant(cmd::invariant::InvariantArgs),
    /// Write the 1-D datasets (global means, SBO products) from scalar time-series files.
    Series(cmd::series::SeriesArgs),
    /// Plan a run: jobs + model output -> EDP task list, claims, shards, run record.
    Plan(cmd::plan::PlanArgs),
    /// Show the state of a run: counts by status and failed granules.
    Status(cmd::status::StatusArgs),
    /// Plan and produce on this machine: jobs -> granules, report and manifests.
    Run(cmd::run::RunArgs),
    /// Produce the granules of a shard or of an EDP task list (exit codes for AWS Batch).
    Worker(cmd::worker::WorkerArgs),
    /// Check the products against their manifests (checksums, NetCDF, variables).
    Verify(cmd::verify::VerifyArgs),
    /// Series QA per dataset: time axis, gaps, overlaps, structure, checksums, values.
    Check(cmd::check::CheckArgs),
    /// Table of all datasets (state, coverage, last check); --html writes the report page.
    Datasets(cmd::datasets::DatasetsArgs),
    /// Copy a publishable dataset to a publication location with its mapfile.
    Publish(cmd::publish::PublishArgs),
    /// Generate a synthetic dataset and run the whole pipeline on it.
    Demo(cmd::demo::DemoArgs),
    /// Plan jobs and submit the run to AWS Batch (the planner Lambda's code, from a terminal).
    Submit(cmd::submit::SubmitArgs),
    /// Build or repair the virtual stores (kerchunk references, Icechunk repositories) of the datasets.
    Virtual(cmd::virtual_store::VirtualArgs),
}

fn main() -> ExitCode {
    // First, while this is the only thread: see `disable_file_locking` for why.
    edp_h5chunks::disable_file_locking();
    let cli = Cli::parse();
    logging::set_format(cli.log_format);
    let result = match cli.command {
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Factors(args) => cmd::factors::run(args),
        Command::Granule(args) => cmd::granule::run(args),
        Command::TimeInvariant(args) => cmd::invariant::run(args),
        Command::Series(args) => cmd::series::run(args),
        Command::Plan(args) => cmd::plan::run(args),
        Command::Status(args) => cmd::status::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Worker(args) => cmd::worker::run(args),
        Command::Verify(args) => cmd::verify::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Datasets(args) => cmd::datasets::run(args),
        Command::Publish(args) => cmd::publish::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Submit(args) => cmd::submit::run(args),
        Command::Virtual(args) => cmd::virtual_store::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
