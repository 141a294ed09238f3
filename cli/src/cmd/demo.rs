//! `edp demo [--dir DIR] [--n N]`: the whole pipeline on a built-in synthetic dataset, with
//! nothing to download:
//!
//! 1. generate a synthetic LLC(N) grid, model output (monthly and daily means of sea surface
//!    height, temperature/salinity and velocity), an ECCO-style metadata directory, a
//!    configuration and a job file (`edp_demo_data`);
//! 2. plan and produce every granule on all cores (`edp run`);
//! 3. check every granule against the manifests (`edp verify`);
//! 4. print where everything is.
//!
//! Lat-lon jobs are included when the lat-lon writer is available: with `--latlon auto` (the
//! default) one lat-lon granule is produced as a probe first (which also builds the
//! regridding weights into the demo's cache folder, where the run finds them); when the build
//! has no lat-lon writer the demo says so and plans native products only.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use edp_conventions::{Frequency, ProductType};
use edp_demo_data::{DemoLayout, DemoSpec, generate_or_reuse};
use edp_granule::{ErrorClass, GranuleRequest, LocalFiles, ResourceCache, local, produce_granule};
use edp_task_schemas::ExitKind;

use super::plan::PlanArgs;
use super::run::{RunArgs, execute, print_out};
use super::verify::{VerifyArgs, render, verify};

/// Whether the demo plans lat-lon products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LatlonChoice {
    /// Include them when a probe granule can be produced.
    Auto,
    /// Always include them (they fail when the writer is missing).
    On,
    /// Native products only.
    Off,
}

/// Arguments of `edp demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Folder for everything the demo writes (created; reused when it exists, so a second
    /// demo run has nothing left to do).
    #[arg(long, value_name = "DIR", default_value = "demo-output")]
    pub dir: PathBuf,

    /// Tile size N of the synthetic LLC grid (13 tiles of N x N).
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub n: usize,

    /// Vertical levels (at most 50, the V4r4 profile from the top).
    #[arg(long, value_name = "NZ", default_value_t = 50)]
    pub nz: usize,

    /// Lat-lon products.
    #[arg(long, value_enum, default_value_t = LatlonChoice::Auto)]
    pub latlon: LatlonChoice,

    /// Granules produced at the same time (default: one per core).
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 0)]
    pub jobs: usize,

    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,

    #[command(flatten)]
    pub log: super::shared::LogArgs,
}

/// Runs `edp demo`.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    // Before any other NetCDF use: keeps HDF5 diagnostics off stderr (see the function).
    edp_granule::nc_thread::start();
    let runtime = super::shared::start(args.log.level_or(super::shared::QUIET))?;
    runtime.block_on(demo(args))
}

async fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let spec = DemoSpec {
        n: args.n,
        nz: args.nz,
        ..DemoSpec::default()
    };
    let root = std::path::absolute(&args.dir)
        .with_context(|| format!("cannot resolve {}", args.dir.display()))?;
    let description = format!("LLC{} with {} levels", spec.n, spec.nz);
    let (mut layout, reused) = {
        let root = root.clone();
        tokio::task::spawn_blocking(move || generate_or_reuse(&root, &spec)).await??
    };
    print_out(&if reused {
        format!(
            "reusing the demo dataset ({description}) in {} (delete it to start afresh)\n",
            root.display()
        )
    } else {
        format!(
            "generated the demo dataset ({description}) in {}\n",
            root.display()
        )
    });
    let latlon = match args.latlon {
        LatlonChoice::On => true,
        LatlonChoice::Off => false,
        LatlonChoice::Auto => {
            let probe_layout = layout.clone();
            // On the NetCDF thread: the probe builds (and reads back) the weights.
            match edp_granule::nc_thread::run(move || latlon_writer_available(&probe_layout))
                .await?
            {
                Ok(available) => available,
                Err(reason) => {
                    print_out(&format!(
                        "lat-lon probe failed ({reason}); lat-lon jobs are included anyway\n"
                    ));
                    true
                }
            }
        }
    };
    layout.set_latlon_jobs(latlon)?;
    print_out(if latlon {
        "lat-lon products: included\n"
    } else if args.latlon == LatlonChoice::Auto {
        "lat-lon products: NOT included - this build has no lat-lon writer yet (the probe \
         granule failed as unsupported); native products only\n"
    } else {
        "lat-lon products: off (--latlon off)\n"
    });

    let dest = layout.dest_root.display().to_string();
    let run_args = RunArgs {
        plan: plan_args(&layout, &dest, &args.log),
        jobs: args.jobs,
        memory_budget_mb: None,
        cache_dir: Some(layout.root.join("cache")),
        no_progress: args.no_progress,
    };
    let result = execute(&run_args).await?;
    print_out(&result.summary);

    let verify_args = VerifyArgs {
        dest: dest.clone(),
        run: None,
        jobs: args.jobs,
        cache_dir: Some(layout.root.join("cache")),
        log: args.log.clone(),
    };
    let checked = verify(&verify_args).await?;
    tracing::info!(run_id = %result.run_id, "demo run finished");
    print_out(&render(&dest, &checked));
    print_out(&where_things_are(&layout, started.elapsed().as_secs_f64()));

    let exit = if !checked.is_ok() {
        ExitKind::Permanent
    } else {
        result.exit
    };
    Ok(exit.into())
}

/// The `edp run` arguments for the demo layout.
fn plan_args(layout: &DemoLayout, dest: &str, log: &super::shared::LogArgs) -> PlanArgs {
    let path = |p: &Path| Some(p.display().to_string());
    PlanArgs {
        jobfile: path(&layout.jobfile),
        job_spec: None,
        source: path(&layout.source_root),
        dest: Some(dest.to_string()),
        metadata: path(&layout.metadata_dir),
        grid: path(&layout.grid_dir),
        factors: None,
        config: path(&layout.config_file),
        outfile: None,
        shards: None,
        shard_target_seconds: None,
        max_shards: edp_task_schemas::deploy::MAX_ARRAY_SIZE,
        claim_ttl_seconds: edp_plan::planner::DEFAULT_CLAIM_TTL_SECONDS,
        vcpu_hour_usd: edp_plan::cost::FARGATE_SPOT_VCPU_HOUR_USD,
        dry_run: false,
        skip_bad_lines: false,
        skip_invalid_metadata: false,
        allow_partial: false,
        force: false,
        strip_edp: false,
        replan_changed_inputs: false,
        log: log.clone(),
    }
}

/// Produces the first lat-lon granule of the demo into a scratch folder: `Ok(false)` when the
/// writer reports the product as unsupported, `Ok(true)` when it works, `Err` for anything
/// else (the run will then show the same error for every lat-lon granule).
fn latlon_writer_available(layout: &DemoLayout) -> Result<bool, String> {
    // The weights built here land where the run's worker looks first (its cache folder is
    // `<root>/cache`, weights in `weights/`), so they are built only once.
    let cache = ResourceCache::new().with_cache_dir(layout.root.join("cache").join("weights"));
    let resources = cache
        .latlon_resources(
            &layout.grid_dir,
            &layout.metadata_dir,
            Some(&layout.config_file),
            None,
        )
        .map_err(|e| e.to_string())?;
    let dataset = resources
        .catalog
        .dataset(ProductType::Latlon, 0)
        .map_err(|e| e.to_string())?;
    let step = *layout
        .spec
        .monthly_steps
        .first()
        .ok_or("the demo has no monthly steps")?;
    let found = local::find_inputs(
        &layout.source_root,
        &dataset,
        Frequency::AvgMon,
        step,
        resources.config.snap_instants,
    );
    let request = GranuleRequest::new(
        &resources.catalog,
        &resources.config,
        ProductType::Latlon,
        0,
        Frequency::AvgMon,
        step,
        found.variables,
    )
    .map_err(|e| e.to_string())?;
    let scratch = layout.root.join("cache").join("latlon-probe");
    let out = scratch.join(&request.granule_name);
    let result = produce_granule(&request, &resources, &LocalFiles::new(), &out);
    let _ = std::fs::remove_dir_all(&scratch);
    match result {
        Ok(_) => Ok(true),
        Err(err) if err.class() == ErrorClass::Unsupported => Ok(false),
        Err(err) => Err(err.to_string()),
    }
}

/// The closing "where is everything" block.
fn where_things_are(layout: &DemoLayout, seconds: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\ndemo finished in {seconds:.1} s. Everything is below {}:",
        layout.root.display()
    );
    for (what, path) in [
        ("grid (MDS)", &layout.grid_dir),
        ("model output", &layout.source_root),
        ("metadata", &layout.metadata_dir),
        ("configuration", &layout.config_file),
        ("job file", &layout.jobfile),
        ("granules", &layout.dest_root),
    ] {
        let _ = writeln!(out, "  {what:<14} {}", path.display());
    }
    let state = layout.dest_root.join("_edp");
    let _ = writeln!(out, "  {:<14} {}", "run state", state.display());
    let _ = writeln!(
        out,
        "try: ncdump -h {}/V4r4/native/mon_mean/OCEAN_TEMPERATURE_SALINITY/*1992-01*.nc\n     \
         edp status --dest {}",
        layout.dest_root.display(),
        layout.dest_root.display()
    );
    out
}
