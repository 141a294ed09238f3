//! `edp time-invariant`: write the time-invariant datasets of a release, native and lat-lon:
//! the GRID_GEOMETRY granules and, with `--params`, the mixing-coefficient granules (every
//! grouping whose frequency is `TI`/`TIME-INVARIANT`).
//!
//! ```text
//! edp time-invariant --metadata META_DIR --grid GRID_DIR --config V4r5.yaml --out products/ \
//!                    [--params PARAMS_DIR] [--factors FACTORS]
//! ```
//!
//! Granules go to the dataset layout of every granule,
//! `<out>/<ecco_version>/<native|latlon>/time_invariant/<PREFIX>/<PREFIX>_ECCO_<version>_<type>_<label>.nc`;
//! the mixing coefficients can also be planned from job files (`[20, 'native', 'TI', 'all']`,
//! `docs/time-invariant.md`).
//! The lat-lon ones need the regridding weights (`--factors`, else built and cached as for
//! `edp granule`).
//! Cell bounds come from the grid directory's `GRID_GEOMETRY_*native*.nc` when it has one,
//! else from the grid files; when some corners had to be extrapolated the log and the granule
//! (`edp_grid_corners`) say so. The parameter fields are MDS pairs named after the grouping's
//! fields (`DIFFKR`, `KAPGM`, `KAPREDI`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use edp_conventions::ProductType;
use edp_conventions::naming::TIME_INVARIANT_DIR;
use edp_granule::geometry::GEOMETRY_PREFIX;
use edp_granule::latlon_invariant::write_latlon_geometry;
use edp_granule::mixing::time_invariant_groupings;
use edp_granule::{ResourceCache, Resources, write_from_parameters, write_native_geometry};

/// Arguments of `edp time-invariant`.
#[derive(Debug, clap::Args)]
pub struct InvariantArgs {
    /// ECCO metadata directory (native geometry metadata, groupings, PO.DAAC table).
    #[arg(long, value_name = "DIR")]
    pub metadata: PathBuf,

    /// Native grid: an MDS grid directory or an ECCO grid-geometry NetCDF file.
    #[arg(long, value_name = "DIR")]
    pub grid: PathBuf,

    /// Folder of the model's time-invariant parameter fields (MDS pairs named after the
    /// fields of the time-invariant groupings); without it only GRID_GEOMETRY is written.
    #[arg(long, value_name = "DIR")]
    pub params: Option<PathBuf>,

    /// Lat-lon regridding weights (file or folder, as `edp granule --factors`).
    #[arg(long, value_name = "PATH")]
    pub factors: Option<PathBuf>,

    /// Production configuration YAML (default: the built-in V4r4 configuration).
    #[arg(long, value_name = "YAML")]
    pub config: Option<PathBuf>,

    /// Destination root.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Runs `edp time-invariant`.
pub fn run(args: InvariantArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init("info")?;
    let cache = ResourceCache::new();
    let config = cache
        .config(args.config.as_deref())
        .context("loading the configuration")?;
    let catalog = cache
        .catalog_for(&args.metadata, &config.podaac_metadata_filename)
        .with_context(|| format!("loading metadata {}", args.metadata.display()))?;
    let grid = cache
        .grid(&args.grid)
        .with_context(|| format!("loading grid {}", args.grid.display()))?;
    let spec = edp_granule::weights::latlon_spec(&config);
    let weights = cache
        .weights(
            &ResourceCache::grid_key(&args.grid),
            &grid,
            &spec,
            args.factors.as_deref(),
        )
        .context("lat-lon weights")?;
    let resources = Resources::new(grid, catalog, config.clone()).with_weights(weights);
    // The dataset layout of every granule: `<out>/<version>/<type>/time_invariant/<PREFIX>/`.
    let dataset_dir = |product: ProductType, prefix: &str| {
        args.out
            .join(&config.ecco_version)
            .join(product.as_str())
            .join(TIME_INVARIANT_DIR)
            .join(prefix)
    };
    let report = write_native_geometry(
        &resources,
        &dataset_dir(ProductType::Native, GEOMETRY_PREFIX),
    )?;
    println!(
        "{} ({} bytes, {} geometry variables)",
        report.path.display(),
        report.bytes,
        report.variables.len()
    );
    let report = write_latlon_geometry(
        &resources,
        &dataset_dir(ProductType::Latlon, GEOMETRY_PREFIX),
    )?;
    println!(
        "{} ({} bytes, {} geometry variables)",
        report.path.display(),
        report.bytes,
        report.variables.len()
    );
    if let Some(params) = &args.params {
        for product in [ProductType::Native, ProductType::Latlon] {
            for dataset in time_invariant_groupings(&resources, product)? {
                for repair in &dataset.repairs {
                    tracing::warn!("metadata defect repaired: {repair}");
                }
                let dir = dataset_dir(product, &dataset.filename);
                let report = write_from_parameters(&resources, &dataset, params, &dir)
                    .with_context(|| format!("{product} grouping {}", dataset.grouping_id))?;
                let names: Vec<&str> = report.variables.iter().map(|v| v.name.as_str()).collect();
                println!(
                    "{} ({} bytes: {})",
                    report.path.display(),
                    report.bytes,
                    names.join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
