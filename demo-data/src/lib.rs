//! A complete, self-contained synthetic ECCO-like dataset for demos and end-to-end tests.
//!
//! [`generate`] writes, below one directory and without reading anything from outside it:
//!
//! | path | content |
//! |---|---|
//! | `grid/` | a synthetic Mercator-LLC(N) grid in MITgcm MDS layout (`XC.data` ..., `hFacC`, `tile00?.mitgrid`), from [`edp_grid::Grid::synthetic`] with its analytic land |
//! | `model-output/V4r4/diags_monthly/<VAR>_mon_mean/<VAR>_mon_mean.<ts10>.{data,meta}` | monthly means of SSH, SSHIBC, SSHNOIBC, ETAN, THETA, SALT, UVEL, VVEL, WVELMASS |
//! | `model-output/V4r4/diags_daily/<VAR>_day_mean/<VAR>_day_mean.<ts10>.{data,meta}` | daily means of the sea-surface-height variables |
//! | `metadata/` | a small ECCO metadata directory in the published JSON layout (groupings, variable, coordinate, global and time metadata, a PO.DAAC-style CSV, an `available_diagnostics.log`) describing only the demo groupings, in our own words |
//! | `demo_config.yaml` | the production configuration (V4r4 clock, grid label `llc00NN`, `NZ` levels) |
//! | `demo_jobs.txt` | a job file in EDP syntax for the demo groupings |
//!
//! Fields are smooth analytic functions of position, depth and time step, written as
//! big-endian float32 with MITgcm-style `.meta` files, and hold 0.0 on land (as MITgcm
//! diagnostics do) according to the grid's masks for each variable's location (cell
//! centres, u faces, v faces, top faces). Velocities are a geographic flow rotated into the
//! local grid directions with the grid's `AngleCS`/`AngleSN`, so that a lat-lon product can
//! rotate them back.
//!
//! Sizes: the default spec ([`DemoSpec::default`], LLC30 with 50 levels, three months and
//! three days) writes about 36 MB of model output and produces 12 native granules in a few
//! seconds on two cores; [`DemoSpec::small`] (LLC6, 4 levels) is meant for unit tests of
//! other crates and takes milliseconds.
//!
//! ```no_run
//! use edp_demo_data::{DemoSpec, generate};
//!
//! let layout = generate("demo-output", &DemoSpec::default())?;
//! println!("model output in {}", layout.source_root.display());
//! println!("plan it with the job file {}", layout.jobfile.display());
//! # Ok::<(), edp_demo_data::DemoError>(())
//! ```

mod error;
mod fields;
mod jobs;
mod metadata;
mod model_output;
mod variables;

use std::path::{Path, PathBuf};

use edp_conventions::naming::{SnapInstants, granule_file_name, granule_path};
use edp_conventions::staggering::Staggering;
use edp_conventions::{Frequency, ModelClock, ProductType};
use edp_grid::{Grid, MdsDirOptions, SyntheticLand, SyntheticSpec};

pub use error::DemoError;
pub use variables::{DEMO_GROUPINGS, DemoGrouping, DemoVector};

/// The ECCO version of the demo (its model clock is the V4r4 clock).
pub const DEMO_ECCO_VERSION: &str = "V4r4";

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSpec {
    /// Tile size `N` of the synthetic LLC grid (13 tiles of `N x N`).
    pub n: usize,
    /// Number of vertical levels (the first `nz` levels of the V4r4 profile, at most 50).
    pub nz: usize,
    /// Model time steps of the monthly means (each must end a calendar month of the V4r4
    /// clock: 732, 1428, 2172, ...).
    pub monthly_steps: Vec<u64>,
    /// Model time steps of the daily means (each must end a day: 12, 36, 60, ...).
    pub daily_steps: Vec<u64>,
    /// Write the lat-lon jobs into the job file too. Off by default while the lat-lon
    /// writer is not available (the inputs and metadata for them are always written).
    pub latlon_jobs: bool,
    /// Resolution of the lat-lon target grid in degrees (configuration
    /// `latlon_grid_resolution`; the file-name label follows, e.g. `1p00deg`).
    pub latlon_resolution: f64,
}

impl Default for DemoSpec {
    /// LLC30 with 50 levels, three months (ts 732, 1428, 2172) and three days (ts 12, 36,
    /// 60): every kind of staggering (c, u, v, k_l), partial cells, the first-record time
    /// clipping, monthly and daily periods, a variable rename and vector components, in
    /// seconds.
    fn default() -> Self {
        DemoSpec {
            n: 30,
            nz: 50,
            monthly_steps: vec![732, 1428, 2172],
            daily_steps: vec![12, 36, 60],
            latlon_jobs: false,
            latlon_resolution: 1.0,
        }
    }
}

impl DemoSpec {
    /// A tiny dataset for unit tests of other crates: LLC6, 4 levels, two months, one day.
    pub fn small() -> DemoSpec {
        DemoSpec {
            n: 6,
            nz: 4,
            monthly_steps: vec![732, 1428],
            daily_steps: vec![12],
            latlon_jobs: false,
            latlon_resolution: 10.0,
        }
    }

    /// The native grid label of the file names: `llc0030` for `N = 30`.
    pub fn native_grid_label(&self) -> String {
        format!("llc{:04}", self.n)
    }

    /// The lat-lon grid label of the file names: `1p00deg` for 1 degree, `0p50deg` for 0.5.
    pub fn latlon_grid_label(&self) -> String {
        let hundredths = (self.latlon_resolution * 100.0).round() as u64;
        format!("{}p{:02}deg", hundredths / 100, hundredths % 100)
    }

    /// The grid label of a product type.
    pub fn grid_label(&self, product: ProductType) -> String {
        match product {
            ProductType::Native => self.native_grid_label(),
            ProductType::Latlon => self.latlon_grid_label(),
        }
    }

    /// The model steps of a frequency.
    pub fn steps(&self, frequency: Frequency) -> &[u64] {
        match frequency {
            Frequency::AvgMon => &self.monthly_steps,
            Frequency::AvgDay => &self.daily_steps,
            Frequency::Snap | Frequency::TimeInvariant => &[],
        }
    }

    /// Checks the spec before anything is written.
    pub fn check(&self) -> Result<(), DemoError> {
        let invalid = |what: &'static str, expected: &str, found: String| DemoError::InvalidSpec {
            what,
            expected: expected.to_string(),
            found,
        };
        if !(2..=270).contains(&self.n) {
            return Err(invalid(
                "n",
                "a tile size from 2 to 270",
                self.n.to_string(),
            ));
        }
        if !(2..=50).contains(&self.nz) {
            return Err(invalid("nz", "2 to 50 levels", self.nz.to_string()));
        }
        if !(self.latlon_resolution >= 0.25 && self.latlon_resolution <= 30.0) {
            return Err(invalid(
                "latlon_resolution",
                "0.25 to 30 degrees",
                self.latlon_resolution.to_string(),
            ));
        }
        if self.monthly_steps.is_empty() && self.daily_steps.is_empty() {
            return Err(invalid(
                "monthly_steps/daily_steps",
                "at least one time step",
                "none".to_string(),
            ));
        }
        let clock = ModelClock::v4r4();
        for frequency in [Frequency::AvgMon, Frequency::AvgDay] {
            for &step in self.steps(frequency) {
                check_step(&clock, frequency, step)?;
            }
        }
        Ok(())
    }
}

/// A step must be the end of a whole calendar month (monthly) or day (daily) of the clock.
fn check_step(clock: &ModelClock, frequency: Frequency, step: u64) -> Result<(), DemoError> {
    use edp_conventions::time::format_time;
    let bad = |found: String| DemoError::InvalidSpec {
        what: "time step",
        expected: format!(
            "a {} step ending at 00:00 {} of the V4r4 clock",
            frequency,
            if frequency == Frequency::AvgMon {
                "on the first of a month"
            } else {
                "of a day"
            }
        ),
        found,
    };
    let end = clock
        .step_to_datetime(step)
        .map_err(|e| bad(format!("{step} ({e})")))?;
    if end > clock.end() {
        return Err(bad(format!("{step} (after the model end)")));
    }
    let text = format_time(end);
    let midnight = text.ends_with("T00:00:00");
    let first_of_month = text.get(8..10) == Some("01");
    if !midnight || (frequency == Frequency::AvgMon && !first_of_month) {
        return Err(bad(format!("{step} ({text})")));
    }
    Ok(())
}

/// Writes the MDS input pair of any diagnostic `name` living at `location`, for `frequency`
/// and model step `step`, below `root` where a local input search looks for it
/// (`<root>/diags_monthly/<VAR>_mon_mean/<VAR>_mon_mean.<ts10>.{data,meta}`, ...): a smooth
/// analytic field, 0.0 on the land of `location`, float32 big-endian with an MITgcm-style
/// `.meta`. Used to generate the inputs of every grouping of a metadata directory from its own
/// groupings and `available_diagnostics.log` (coverage tests).
#[allow(clippy::too_many_arguments)]
pub fn write_diagnostic_input(
    root: &Path,
    grid: &Grid,
    clock: &ModelClock,
    name: &str,
    location: Staggering,
    frequency: Frequency,
    step: u64,
    snap: SnapInstants,
) -> Result<DemoInput, DemoError> {
    model_output::write_any(root, grid, clock, name, location, frequency, step, snap)
}

/// Where everything was written.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoLayout {
    /// The directory given to [`generate`].
    pub root: PathBuf,
    /// The MDS grid directory (EDP `--ecco_grid_loc`).
    pub grid_dir: PathBuf,
    /// The model output root (EDP `--ecco_source_root`).
    pub source_root: PathBuf,
    /// The ECCO metadata directory (EDP `--ecco_metadata_loc`).
    pub metadata_dir: PathBuf,
    /// The production configuration YAML (EDP `--ecco_cfg_loc`).
    pub config_file: PathBuf,
    /// The job file (EDP syntax).
    pub jobfile: PathBuf,
    /// A suggested destination root for the products (`<root>/products`, not created).
    pub dest_root: PathBuf,
    /// Every input file pair written.
    pub inputs: Vec<DemoInput>,
    /// The jobs written to the job file.
    pub jobs: Vec<DemoJob>,
    /// The spec used.
    pub spec: DemoSpec,
}

/// One MDS input pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoInput {
    /// Diagnostic name (`THETA`).
    pub variable: String,
    /// Monthly or daily mean.
    pub frequency: Frequency,
    /// Model time step.
    pub step: u64,
    /// The `.data` file.
    pub data: PathBuf,
    /// The `.meta` file.
    pub meta: PathBuf,
}

/// One job of the job file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoJob {
    /// Grouping id (position in the groupings list of the product type).
    pub grouping_id: usize,
    /// Output grid.
    pub product: ProductType,
    /// Output frequency.
    pub frequency: Frequency,
}

impl DemoLayout {
    /// The granule paths the job file asks for below `dest_root`, in job order then step
    /// order: `<dest_root>/V4r4/<native|latlon>/<period>/<GROUPING>/<file name>` (computed
    /// from the naming rules of `edp_conventions`, independently of any planner).
    pub fn expected_granules(&self, dest_root: &str) -> Result<Vec<String>, DemoError> {
        let clock = ModelClock::v4r4();
        let mut out = Vec::new();
        for job in &self.jobs {
            let grouping = DemoGrouping::of(job.product, job.grouping_id)?;
            for &step in self.spec.steps(job.frequency) {
                let period =
                    clock
                        .period(job.frequency, step)
                        .map_err(|source| DemoError::Time {
                            step,
                            source: Box::new(source),
                        })?;
                let name = granule_file_name(
                    grouping.filename,
                    &period,
                    DEMO_ECCO_VERSION,
                    job.product,
                    &self.spec.grid_label(job.product),
                );
                out.push(granule_path(
                    dest_root,
                    DEMO_ECCO_VERSION,
                    job.product,
                    job.frequency,
                    grouping.filename,
                    &name,
                ));
            }
        }
        Ok(out)
    }

    /// Rewrites the job file with or without the lat-lon jobs (e.g. after checking that the
    /// lat-lon writer is available) and updates [`DemoLayout::jobs`].
    pub fn set_latlon_jobs(&mut self, latlon_jobs: bool) -> Result<(), DemoError> {
        self.spec.latlon_jobs = latlon_jobs;
        self.jobs = jobs::write_jobfile(&self.jobfile, &self.spec)?;
        Ok(())
    }

    /// The input pair of `variable` at `step` of `frequency`, if written.
    pub fn input(&self, variable: &str, frequency: Frequency, step: u64) -> Option<&DemoInput> {
        self.inputs
            .iter()
            .find(|i| i.variable == variable && i.frequency == frequency && i.step == step)
    }
}

/// Name of the file recording which spec generated a demo folder.
const STAMP_FILE: &str = "edp-demo.stamp";

/// The stamp of a spec: generator version and every field that changes the data (not the
/// job-file choice of lat-lon jobs).
fn stamp(spec: &DemoSpec) -> String {
    let data = DemoSpec {
        latlon_jobs: false,
        ..spec.clone()
    };
    format!("edp-demo-data {} {data:?}\n", env!("CARGO_PKG_VERSION"))
}

/// The layout of `spec` below `root`, without writing anything.
fn layout_of(root: &Path, spec: &DemoSpec) -> DemoLayout {
    // EDP searches local roots only in directories whose path contains the ECCO version
    // (`docs/edp-compatibility.md` 4.4), as in its own test tree `ecco_results/V4r4/diags_monthly/...`.
    let source_root = root.join("model-output").join(DEMO_ECCO_VERSION);
    DemoLayout {
        root: root.to_path_buf(),
        grid_dir: root.join("grid"),
        inputs: model_output::inputs(&source_root, spec)
            .into_iter()
            .map(|(input, _)| input)
            .collect(),
        source_root,
        metadata_dir: root.join("metadata"),
        config_file: root.join("demo_config.yaml"),
        jobfile: root.join("demo_jobs.txt"),
        dest_root: root.join("products"),
        jobs: jobs::demo_jobs(spec),
        spec: spec.clone(),
    }
}

/// Like [`generate`], but when `dir` already holds a complete demo dataset generated from the
/// same spec (same data: tile size, levels, steps, resolution), it is reused as it is and
/// `true` is returned: rewriting it would give the inputs new modification times, hence new
/// ETags and task ids, and every granule would be produced again. The job file is rewritten
/// when only `latlon_jobs` differs.
pub fn generate_or_reuse(
    dir: impl AsRef<Path>,
    spec: &DemoSpec,
) -> Result<(DemoLayout, bool), DemoError> {
    spec.check()?;
    let root = dir.as_ref();
    let layout = layout_of(root, spec);
    let same_stamp = std::fs::read_to_string(root.join(STAMP_FILE)).is_ok_and(|s| s == stamp(spec));
    let complete = layout.grid_dir.join("XC.data").is_file()
        && layout.metadata_dir.is_dir()
        && layout.config_file.is_file()
        && layout.jobfile.is_file()
        && layout
            .inputs
            .iter()
            .all(|i| i.data.is_file() && i.meta.is_file());
    if same_stamp && complete {
        let mut layout = layout;
        layout.set_latlon_jobs(spec.latlon_jobs)?;
        return Ok((layout, true));
    }
    Ok((generate(root, spec)?, false))
}

/// Generates the demo dataset below `dir` (created when missing). Existing files of a
/// previous generation are overwritten; nothing outside `dir` is read or written.
pub fn generate(dir: impl AsRef<Path>, spec: &DemoSpec) -> Result<DemoLayout, DemoError> {
    spec.check()?;
    let root = dir.as_ref().to_path_buf();
    let planned = layout_of(&root, spec);
    let (grid_dir, source_root, metadata_dir, config_file, jobfile) = (
        planned.grid_dir,
        planned.source_root,
        planned.metadata_dir,
        planned.config_file,
        planned.jobfile,
    );
    error::create_dir(&root)?;
    // A partial generation must not look complete: drop the stamp first, write it last.
    let _ = std::fs::remove_file(root.join(STAMP_FILE));

    let grid = Grid::synthetic(&SyntheticSpec {
        n: spec.n,
        nz: spec.nz,
        land: SyntheticLand::Analytic,
    })?;
    grid.write_mds_dir(
        &grid_dir,
        &MdsDirOptions {
            hfac: true,
            mitgrid: true,
        },
    )?;

    let inputs = model_output::write(&source_root, &grid, spec)?;
    metadata::write(&metadata_dir, spec)?;
    jobs::write_config(&config_file, spec, &grid)?;
    let jobs = jobs::write_jobfile(&jobfile, spec)?;
    error::write_file(&root.join(STAMP_FILE), stamp(spec))?;

    Ok(DemoLayout {
        dest_root: root.join("products"),
        root,
        grid_dir,
        source_root,
        metadata_dir,
        config_file,
        jobfile,
        inputs,
        jobs,
        spec: spec.clone(),
    })
}
