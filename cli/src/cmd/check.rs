//! `edp check --dest ROOT [--dataset D]...`: series QA per dataset (see `edp_datasets::check`):
//! time axis from the granules' own `time`/`time_bnds`/`time_coverage_*` (agreement with
//! names and frequency, order, duplicates, overlaps, gaps), units and calendar, structure,
//! checksums against the manifest, values. A clean, complete dataset becomes `validated`,
//! gets its mapfile and becomes `publishable`; one with problems becomes `failed`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use edp_datasets::DatasetId;
use edp_datasets::check::{CheckOptions, DatasetCheck, check_dataset};
use edp_datasets::lifecycle::Actor;
use edp_datasets::mask::GridMasks;
use edp_plan::roots::Root;
use edp_plan::state::Layout;
use edp_store::{Location, Store};

use super::plan::store_for;
use super::run::print_out;
use super::shared::human_bytes;

const EXIT_CODES: &str = "Exit status:
  0  every dataset checked passed
  1  at least one dataset has problems (listed on stdout)
  2  invalid arguments or unreadable state";

/// How much of each granule to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Depth {
    /// Local folders: everything; S3: headers only.
    Auto,
    /// Headers only (time axis, attributes, structure): no values, no checksums.
    Headers,
    /// Headers, every value and a SHA-256 of every granule.
    Full,
}

/// Arguments of `edp check`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct CheckArgs {
    /// Root of the products (a directory or s3://bucket/prefix).
    #[arg(long, value_name = "ROOT")]
    pub dest: String,

    /// Dataset to check, `<ecco_version>/<native|latlon>/<period>/<GROUPING>` (repeatable;
    /// default: every dataset with a manifest).
    #[arg(long = "dataset", value_name = "DATASET")]
    pub datasets: Vec<String>,

    /// How much of each granule to read.
    #[arg(long, value_enum, default_value = "auto")]
    pub depth: Depth,

    /// Report only: do not change dataset states or write mapfiles.
    #[arg(long)]
    pub no_record: bool,

    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,

    /// Granules read at the same time.
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 4)]
    pub jobs: usize,

    /// Folder for downloads of remote granules.
    #[arg(long, env = "EDP_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Native grid (an MDS grid directory or an ECCO grid-geometry NetCDF file): with values
    /// read, native granules must hold fill exactly on the land of each variable's location
    /// (maskC/W/S, level by level). Without it, fill patterns are compared across granules.
    #[arg(long, value_name = "DIR")]
    pub grid: Option<PathBuf>,

    #[command(flatten)]
    pub log: super::shared::LogArgs,
}

/// Runs `edp check`.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    edp_granule::nc_thread::start();
    let runtime = super::shared::start(args.log.level_or(super::shared::QUIET))?;
    let results = runtime.block_on(check(&args))?;
    if args.json {
        let value: Vec<serde_json::Value> = results
            .iter()
            .map(|r| {
                serde_json::json!({
                    "dataset": r.dataset,
                    "passed": r.summary.passed,
                    "state": r.state.map(|s| s.as_str()),
                    "mapfile": r.mapfile,
                    "granules": r.summary.granules,
                    "bytes_read": r.summary.bytes_read,
                    "seconds": r.seconds,
                    "problems": r.summary.problems,
                })
            })
            .collect();
        print_out(&format!("{}\n", serde_json::to_string_pretty(&value)?));
    } else {
        print_out(&render(&results));
    }
    Ok(if results.iter().all(|r| r.summary.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The land masks of the native grid at `path`.
fn grid_masks(path: &Path) -> anyhow::Result<GridMasks> {
    let grid = edp_granule::ResourceCache::new()
        .grid(path)
        .with_context(|| format!("loading grid {}", path.display()))?;
    let cells = edp_mds::TILES * grid.n * grid.n;
    GridMasks::new(
        cells,
        grid.nz,
        grid.mask_c.clone(),
        grid.mask_w.clone(),
        grid.mask_s.clone(),
    )
    .map_err(|reason| anyhow::anyhow!("grid {}: {reason}", path.display()))
}

/// Checks the datasets of `args`.
pub async fn check(args: &CheckArgs) -> anyhow::Result<Vec<DatasetCheck>> {
    let store = store_for(&[Some(&args.dest)]).await?;
    let dest = Root::parse(&args.dest)
        .with_context(|| format!("invalid destination root {:?}", args.dest))?;
    let dest = dest.location().clone();
    let ids = if args.datasets.is_empty() {
        datasets_with_manifests(&store, &dest).await?
    } else {
        args.datasets
            .iter()
            .map(|d| DatasetId::parse(d))
            .collect::<Result<Vec<_>, _>>()?
    };
    let full = match args.depth {
        Depth::Full => true,
        Depth::Headers => false,
        Depth::Auto => !dest.is_s3(),
    };
    let options = CheckOptions {
        values: full,
        checksums: full,
        masks: match &args.grid {
            Some(path) => Some(Arc::new(grid_masks(path)?)),
            None => None,
        },
        cache_dir: args
            .cache_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("edp-cache")),
        concurrency: args.jobs.max(1),
        record: !args.no_record,
    };
    let actor = Actor::new("edp check");
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(
            check_dataset(&store, &dest, &id, &options, &actor)
                .await
                .with_context(|| format!("checking {id}"))?,
        );
    }
    Ok(out)
}

/// Every dataset that has a manifest.
pub async fn datasets_with_manifests(
    store: &Store,
    dest: &Location,
) -> anyhow::Result<Vec<DatasetId>> {
    let dir = Layout::new(dest).manifests_dir();
    let mut ids = Vec::new();
    for object in store.list(&dir).await? {
        let Some(relative) = object.location.relative_to(&dir) else {
            continue;
        };
        if let Some(path) = relative.strip_suffix(".json")
            && let Ok(id) = DatasetId::parse(path)
        {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The results as text.
pub fn render(results: &[DatasetCheck]) -> String {
    let mut out = String::new();
    for r in results {
        let n = r.bytes_per_granule.len().max(1) as f64;
        let bytes: u64 = r.bytes_per_granule.iter().sum();
        let _ = writeln!(
            out,
            "{}: {} ({} granule(s); read {} = {} per granule, {:.4} s per granule){}",
            r.dataset,
            if r.summary.passed {
                "PASSED".to_string()
            } else {
                format!("FAILED, {} problem(s)", r.summary.problems.len())
            },
            r.summary.granules,
            human_bytes(bytes),
            human_bytes((bytes as f64 / n) as u64),
            r.seconds / n,
            r.state
                .map(|s| format!(" -> {}", s.as_str()))
                .unwrap_or_default()
        );
        for p in &r.summary.problems {
            let _ = writeln!(out, "  {} {}: {}", p.kind, p.granule, p.message);
        }
        if let Some(mapfile) = &r.mapfile {
            let _ = writeln!(out, "  mapfile: {mapfile}");
        }
    }
    if results.is_empty() {
        out.push_str("no dataset to check (no manifest below the destination)\n");
    }
    out
}
