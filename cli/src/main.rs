//! `edp`: turns MITgcm ECCO output into CF/ACDD NetCDF granules, on a laptop or on AWS.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;

/// ECCO dataset production: MDS model output -> analysis-ready NetCDF granules.
#[derive(Debug, Parser)]
#[command(name = "edp", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Summarise an MDS field (.meta/.data pair) or a grid directory.
    Inspect(cmd::inspect::InspectArgs),
    /// Build or check lat-lon regridding weights for a grid.
    Factors(cmd::factors::FactorsArgs),
    /// Plan a run: jobs + model output -> EDP task list, claims, shards, run record.
    Plan(cmd::plan::PlanArgs),
    /// Show the state of a run: counts by status and failed granules.
    Status(cmd::status::StatusArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Factors(args) => cmd::factors::run(args),
        Command::Plan(args) => cmd::plan::run(args),
        Command::Status(args) => cmd::status::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
