//! `edp series`: write the 1-D datasets (global mean sea level, global mean atmospheric
//! pressure, SBO core products) from ECCO's scalar time-series files.
//!
//! ```text
//! edp series --metadata META_DIR --input scalar_time_series/ --config V4r5.yaml \
//!            --out products/ [--grouping 1] [--frequency AVG_DAY]
//! ```
//!
//! Every 1-D grouping at every frequency of the PO.DAAC table by default. The input layout
//! is described in `docs/one-d-datasets.md` (`Pa_global.nc`, `GMSL.nc`, `GMSL_day.nc`,
//! `SBO_global.nc`); granules go to `<out>/<version>/1D/<period>/<PREFIX>/`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use edp_conventions::Frequency;
use edp_granule::{ResourceCache, write_one_d};

/// Arguments of `edp series`.
#[derive(Debug, clap::Args)]
pub struct SeriesArgs {
    /// ECCO metadata directory (1-D groupings, variable and global metadata, PO.DAAC table).
    #[arg(long, value_name = "DIR")]
    pub metadata: PathBuf,

    /// Folder of the scalar time-series NetCDF files.
    #[arg(long, value_name = "DIR")]
    pub input: PathBuf,

    /// Production configuration YAML (default: the built-in V4r4 configuration).
    #[arg(long, value_name = "YAML")]
    pub config: Option<PathBuf>,

    /// Destination root.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Only this 1-D grouping (position in the 1-D groupings file).
    #[arg(long, value_name = "ID")]
    pub grouping: Option<usize>,

    /// Only this frequency.
    #[arg(long, value_name = "FREQ")]
    pub frequency: Option<Frequency>,
}

/// Runs `edp series`.
pub fn run(args: SeriesArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init("info")?;
    let cache = ResourceCache::new();
    let config = cache
        .config(args.config.as_deref())
        .context("loading the configuration")?;
    let catalog = cache
        .catalog_for(&args.metadata, &config.podaac_metadata_filename)
        .with_context(|| format!("loading metadata {}", args.metadata.display()))?;
    let count = catalog
        .groupings_1d()
        .with_context(|| format!("metadata {}", args.metadata.display()))?
        .len();
    let mut written = 0;
    for id in (0..count).filter(|id| args.grouping.is_none_or(|g| g == *id)) {
        let dataset = catalog.dataset_1d(id)?;
        for repair in &dataset.repairs {
            tracing::warn!("metadata defect repaired: {repair}");
        }
        for &frequency in &dataset.frequencies {
            if args.frequency.is_some_and(|f| f != frequency) {
                continue;
            }
            let report = write_one_d(
                &catalog,
                &config,
                &dataset,
                frequency,
                &args.input,
                &args.out,
            )
            .with_context(|| format!("1D grouping {id} ({}) {frequency}", dataset.filename))?;
            println!("{} ({} records)", report.path.display(), report.records);
            written += 1;
        }
    }
    anyhow::ensure!(written > 0, "no 1-D granule matches the selection");
    Ok(ExitCode::SUCCESS)
}
