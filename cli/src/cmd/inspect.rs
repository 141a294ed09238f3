//! `edp inspect PATH`.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `edp inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A `.meta`/`.data` path (either half, or the stem) or a grid directory.
    pub path: PathBuf,
}

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("inspect of {} is not built yet", args.path.display())
}
