//! `edp granule`: produce one granule from explicit arguments and local files.
//!
//! ```text
//! edp granule --metadata META_DIR --grid GRID_DIR --grouping 0 --product native \
//!             --frequency AVG_MON --step 732 --source ecco_results/V4r4 --out out/
//! edp granule --metadata META_DIR --grid GRID_DIR --grouping 11 --product latlon \
//!             --frequency AVG_MON --step 732 --source ecco_results/V4r4 --out out/ \
//!             --factors factors/
//! ```
//!
//! The inputs of every variable of the grouping are looked up below `--source` in the EDP
//! layout (`<root>/<diags_monthly|diags_daily|diags_inst>/<VAR>_<period>/
//! <VAR>_<period>.<ts10>.data` + `.meta`). `--out` is the granule file (when it ends with
//! `.nc`) or a directory below which the EDP layout
//! `<ecco_version>/<native|latlon>/<period>/<GROUPING>/<name>.nc` is used. The granule appears
//! only when complete (temporary file + rename).
//!
//! Exit status: 0 written; 3 bad input or unsupported request (a retry cannot help); 4 a
//! transient or internal failure; 2 invalid arguments or configuration.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use edp_conventions::{Frequency, ProductType};
use edp_granule::{
    GranuleReport, GranuleRequest, LocalFiles, ResourceCache, local, produce_granule,
};
use edp_task_schemas::ExitKind;

/// Arguments of `edp granule`.
#[derive(Debug, clap::Args)]
pub struct GranuleArgs {
    /// ECCO metadata directory (groupings, variable/coordinate/global metadata JSON, PO.DAAC
    /// table, optionally `available_diagnostics.log`).
    #[arg(long, value_name = "DIR")]
    pub metadata: PathBuf,

    /// Native grid: an MDS grid directory (XC, YC, ..., RC, RF, DRF, DRC) or an ECCO
    /// grid-geometry NetCDF file (`.nc`).
    #[arg(long, value_name = "DIR")]
    pub grid: PathBuf,

    /// Grouping id: position in the groupings file of the product type.
    #[arg(long, value_name = "ID")]
    pub grouping: usize,

    /// Output grid: `native` or `latlon`.
    #[arg(long, value_name = "TYPE", default_value = "native")]
    pub product: ProductType,

    /// Output frequency: `AVG_MON`, `AVG_DAY` or `SNAP`.
    #[arg(long, value_name = "FREQ")]
    pub frequency: Frequency,

    /// Model time step of the inputs (the 10-digit number of the MDS file names; for means
    /// the end of the averaging period, e.g. 732 for January 1992).
    #[arg(long, value_name = "TS")]
    pub step: u64,

    /// Root of the MDS results tree (EDP layout, see above).
    #[arg(long, value_name = "ROOT")]
    pub source: PathBuf,

    /// Granule file (`*.nc`) or output directory (EDP layout below it; created as needed).
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,

    /// Lat-lon regridding weights (`--product latlon` only; EDP `ecco_mapping_factors_loc`):
    /// our weights file (`edp factors --out`), or a directory holding or receiving
    /// `edp_weights_<grid>_<res>.nc`. Without it, or when it has no such file (an EDP
    /// mapping-factors directory, whose pickles are not read), the weights are built (a few
    /// seconds) and cached there or in `<temp dir>/edp-cache`.
    #[arg(long, value_name = "PATH")]
    pub factors: Option<PathBuf>,

    /// Production configuration YAML (default: the built-in V4r4 configuration).
    #[arg(long, value_name = "YAML")]
    pub config: Option<PathBuf>,

    /// Override the configuration's `ecco_version` (file name and directory, e.g. `V4r4`).
    #[arg(long, value_name = "VERSION")]
    pub ecco_version: Option<String>,

    /// Write a partial granule when some variables' inputs are missing (EDP does this
    /// silently); by default a missing input is an error that lists every file looked for.
    #[arg(long)]
    pub allow_partial: bool,

    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `edp granule`.
pub fn run(args: GranuleArgs) -> anyhow::Result<ExitCode> {
    if args.factors.is_some() && args.product != ProductType::Latlon {
        bail!("--factors applies to --product latlon only");
    }
    let cache = ResourceCache::new();
    let mut config = (*cache
        .config(args.config.as_deref())
        .context("loading the configuration")?)
    .clone();
    if let Some(version) = &args.ecco_version {
        config.ecco_version = version.clone();
    }
    let catalog = cache
        .catalog_for(&args.metadata, &config.podaac_metadata_filename)
        .with_context(|| format!("loading metadata {}", args.metadata.display()))?;
    let dataset = catalog
        .dataset(args.product, args.grouping as i64)
        .context("resolving the grouping")?;

    let found = local::find_inputs(
        &args.source,
        &dataset,
        args.frequency,
        args.step,
        config.snap_instants,
    );
    if !found.missing.is_empty() {
        let list: Vec<String> = found
            .missing
            .iter()
            .map(|(var, diag, paths)| {
                let looked: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                format!("  {var} ({diag}): none of {}", looked.join(", "))
            })
            .collect();
        if !args.allow_partial || found.variables.is_empty() {
            bail!(
                "missing inputs of {} (step {}) below {}:\n{}{}",
                dataset.filename,
                args.step,
                args.source.display(),
                list.join("\n"),
                if found.variables.is_empty() {
                    ""
                } else {
                    "\n(--allow-partial writes the variables that were found)"
                }
            );
        }
        eprintln!(
            "warning: partial granule, missing inputs:\n{}",
            list.join("\n")
        );
    }

    let request = GranuleRequest::new(
        &catalog,
        &config,
        args.product,
        args.grouping,
        args.frequency,
        args.step,
        found.variables,
    )
    .context("building the request")?;
    let out = output_path(&args.out, &request)?;
    let grid = cache
        .grid(&args.grid)
        .with_context(|| format!("loading grid {}", args.grid.display()))?;
    let mut resources = edp_granule::Resources::new(grid, catalog, std::sync::Arc::new(config));
    if args.product == ProductType::Latlon {
        let spec = edp_granule::weights::latlon_spec(&resources.config);
        let weights = cache
            .weights(
                &ResourceCache::grid_key(&args.grid),
                &resources.grid,
                &spec,
                args.factors.as_deref(),
            )
            .context("lat-lon weights")?;
        resources = resources.with_weights(weights);
    }

    match produce_granule(&request, &resources, &LocalFiles::new(), &out) {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("error: {err}");
            let kind = if err.is_permanent() {
                ExitKind::Permanent
            } else {
                ExitKind::Retryable
            };
            Ok(ExitCode::from(kind.code()))
        }
    }
}

/// `--out` as a file (`*.nc`) or as the root of the EDP layout.
fn output_path(out: &Path, request: &GranuleRequest) -> anyhow::Result<PathBuf> {
    if out.extension().is_some_and(|e| e == "nc") && !out.is_dir() {
        return Ok(out.to_path_buf());
    }
    let root = out
        .to_str()
        .with_context(|| format!("--out {} is not valid UTF-8", out.display()))?;
    Ok(PathBuf::from(request.edp_path(root)?))
}

fn print_report(report: &GranuleReport) {
    println!(
        "wrote {} ({} bytes, {} variable(s), {:.2} s: read {:.2} s, write {:.2} s)",
        report.path.display(),
        report.bytes,
        report.variables.len(),
        report.timings.total_seconds,
        report.timings.read_seconds,
        report.timings.write_seconds
    );
    for v in &report.variables {
        let range = match (v.valid_min, v.valid_max) {
            (Some(lo), Some(hi)) => format!("{lo} .. {hi}"),
            _ => "no valid value".to_string(),
        };
        println!(
            "  {:<10} ({}) from {}: {range}, {} valid, {} fill",
            v.name,
            v.dims.join(", "),
            v.diagnostics.join(" + "),
            v.valid_values,
            v.fill_values
        );
    }
    for w in &report.warnings {
        println!("  warning: {w}");
    }
}
