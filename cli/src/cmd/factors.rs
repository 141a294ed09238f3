//! `edp factors`: build the V4r4 lat-lon regridding weights of a grid into a NetCDF weights
//! file (SCRIP/ESMF layout, see `edp_regrid`), or check an existing one.

use anyhow::Context;
use edp_regrid::{LatLonSpec, SourceGrid, Weights};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `edp factors`.
///
/// Exit status: 0 when the file was written (or checked and found matching), 1 when `--check`
/// finds a file that does not match the grid, 2 on errors (unreadable grid or file, bad
/// arguments).
#[derive(Debug, clap::Args)]
pub struct FactorsArgs {
    /// MDS grid directory (XC, YC, DXG, DYG, RF, DRF, Depth or hFacC, ... as `.meta`/`.data`).
    #[arg(long)]
    pub grid: PathBuf,

    /// Weights file to write (replaced atomically), or to verify with `--check`.
    #[arg(long)]
    pub out: PathBuf,

    /// Target resolution in degrees (global grid). Default 0.5 when building; with `--check`
    /// the file's own resolution unless given.
    #[arg(long)]
    pub resolution: Option<f64>,

    /// Number of vertical levels, counted from the surface. Default: every level of the grid
    /// (with `--check`: the file's levels).
    #[arg(long)]
    pub levels: Option<usize>,

    /// Load the existing file and verify that it matches the grid (source checksum) and a fresh
    /// rebuild (every weight, mask and setting), instead of writing.
    #[arg(long)]
    pub check: bool,
}

/// Runs `edp factors`.
pub fn run(args: FactorsArgs) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let grid = edp_grid::Grid::from_mds_dir(&args.grid)
        .with_context(|| format!("loading the grid directory {}", args.grid.display()))?;
    let source = SourceGrid::from_grid(&grid).with_context(|| {
        format!(
            "using the grid of {} as a regridding source",
            args.grid.display()
        )
    })?;
    if args.check {
        check(&args, source)
    } else {
        let spec = LatLonSpec::global(args.resolution.unwrap_or(0.5));
        let source = match args.levels {
            Some(levels) => source.truncate_levels(levels).context("--levels")?,
            None => source,
        };
        let weights = Weights::build(&source, &spec).context("building the weights")?;
        weights
            .write(&args.out)
            .with_context(|| format!("writing {}", args.out.display()))?;
        summarise(&weights);
        println!(
            "wrote {} in {:.2} s",
            args.out.display(),
            start.elapsed().as_secs_f64()
        );
        Ok(ExitCode::SUCCESS)
    }
}

fn check(args: &FactorsArgs, source: SourceGrid) -> anyhow::Result<ExitCode> {
    let stored =
        Weights::read(&args.out).with_context(|| format!("reading {}", args.out.display()))?;
    let mut spec = *stored.target().spec();
    if let Some(resolution) = args.resolution {
        spec = LatLonSpec {
            resolution_deg: resolution,
            ..spec
        };
    }
    let levels = args.levels.unwrap_or(stored.n_levels());
    let source = source
        .truncate_levels(levels)
        .context("levels of the check")?;
    summarise(&stored);
    if let Err(mismatch) = stored.check_matches(&args.out, &source.checksum(), &spec) {
        println!("MISMATCH: {mismatch}");
        return Ok(ExitCode::from(1));
    }
    let rebuilt = Weights::build(&source, &spec).context("rebuilding the weights")?;
    if rebuilt != stored {
        let differing: Vec<usize> = (0..rebuilt.n_levels())
            .filter(|&k| rebuilt.level(k).ok() != stored.level(k).ok())
            .collect();
        if differing.is_empty() {
            println!(
                "MISMATCH: the file differs from a rebuild (same level matrices, but another \
                 neighbourhood or other settings)"
            );
        } else {
            println!(
                "MISMATCH: the file differs from a rebuild in the matrices of levels {differing:?}"
            );
        }
        return Ok(ExitCode::from(1));
    }
    println!(
        "OK: {} matches the grid (SHA-256 {}) and a rebuild",
        args.out.display(),
        source.checksum()
    );
    Ok(ExitCode::SUCCESS)
}

fn summarise(w: &Weights) {
    let spec = w.target().spec();
    let entries: usize = w.levels().map(|l| l.n_entries()).sum();
    println!(
        "weights: {} sources -> {} x {} targets ({} deg), {} levels, {} non-zero weights",
        w.n_source(),
        w.target().nx(),
        w.target().ny(),
        spec.resolution_deg,
        w.n_levels(),
        entries
    );
    if let Ok(level0) = w.level(0) {
        println!(
            "level 0: {} wet targets ({} bin average, {} nearest wet), at most {} sources within r_p",
            level0.n_wet_targets(),
            level0.n_bin_average(),
            level0.n_nearest(),
            w.stats().max_within_all
        );
    }
    println!("source grid SHA-256: {}", w.source_checksum());
}
