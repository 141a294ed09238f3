//! `edp inspect PATH [--grid DIR] [--json]`: a quick look at an MDS field or a grid.
//!
//! * For a `.meta`/`.data` pair (either half, or the stem): field name(s) from `fldList` (or
//!   the file name), dims, dtype, records, time step and its date on the V4r4 model clock
//!   (`1992-01-01T12:00:00 + ts hours`), and min/max/mean per record (per level for 3-D
//!   fields). With `--grid` the statistics cover wet points only (`maskC` of that grid, level
//!   by level); without it they cover every value.
//! * For a grid directory (MDS) or a grid-geometry NetCDF file (`.nc`): N, tiles, levels, wet
//!   columns, wet cells (also per level), longitude/latitude ranges.
//!
//! `--json` prints the same content as one JSON object (`"kind": "field"` or `"grid"`).

use anyhow::{Context, bail};
use edp_conventions::time::{ModelClock, format_time};
use edp_grid::Grid;
use edp_mds::{ByteOrder, FieldSelector, MdsFile};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `edp inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A `.meta`/`.data` path (either half, or the stem), an MDS grid directory, or a
    /// grid-geometry NetCDF file (`.nc`).
    pub path: PathBuf,

    /// Grid (MDS directory or grid-geometry `.nc`) whose wet points (`maskC`, level by
    /// level) the field statistics are restricted to. The field must be on that grid.
    #[arg(long, value_name = "DIR")]
    pub grid: Option<PathBuf>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,

    /// Byte order of the `.data` file (MITgcm writes big-endian).
    #[arg(long, value_enum, default_value_t = ByteOrderArg::Big)]
    pub byte_order: ByteOrderArg,
}

/// `--byte-order` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ByteOrderArg {
    /// Big-endian (`>f4`/`>f8`), the MITgcm default.
    Big,
    /// Little-endian (`<f4`/`<f8`).
    Little,
}

impl From<ByteOrderArg> for ByteOrder {
    fn from(b: ByteOrderArg) -> ByteOrder {
        match b {
            ByteOrderArg::Big => ByteOrder::Big,
            ByteOrderArg::Little => ByteOrder::Little,
        }
    }
}

/// Runs `edp inspect`.
pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let report = if args.path.is_dir() || is_netcdf(&args.path) {
        if args.grid.is_some() {
            bail!(
                "--grid applies to MDS fields, but {} is a grid",
                args.path.display()
            );
        }
        Report::Grid(grid_summary(&args.path, &load_grid(&args.path)?))
    } else {
        Report::Field(field_summary(&args, args.grid.as_deref())?)
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        match &report {
            Report::Grid(g) => print_grid(g),
            Report::Field(f) => print_field(f),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn is_netcdf(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("nc"))
}

fn load_grid(path: &Path) -> anyhow::Result<Grid> {
    let grid = if is_netcdf(path) {
        Grid::from_netcdf(path)
    } else {
        Grid::from_mds_dir(path)
    };
    grid.with_context(|| format!("cannot load grid {}", path.display()))
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Report {
    Grid(GridSummary),
    Field(FieldSummary),
}

#[derive(Debug, Serialize)]
struct GridSummary {
    path: String,
    n: usize,
    tiles: usize,
    levels: usize,
    wet_columns: usize,
    wet_cells: usize,
    wet_cells_per_level: Vec<usize>,
    lon_range: Option<[f64; 2]>,
    lat_range: Option<[f64; 2]>,
    corners_exact: bool,
}

fn grid_summary(path: &Path, g: &Grid) -> GridSummary {
    let range = |v: &[f64]| Grid::range(v).map(|(lo, hi)| [lo, hi]);
    GridSummary {
        path: path.display().to_string(),
        n: g.n,
        tiles: edp_grid::TILES,
        levels: g.nz,
        wet_columns: g.wet_columns(),
        wet_cells: g.wet_cells(),
        wet_cells_per_level: g.wet_cells_per_level(),
        lon_range: range(&g.xc),
        lat_range: range(&g.yc),
        corners_exact: g.corners.is_exact(),
    }
}

/// Count, min, max and mean of the finite values considered.
#[derive(Debug, Default, Clone, Serialize)]
struct Stats {
    count: usize,
    min: Option<f64>,
    max: Option<f64>,
    mean: Option<f64>,
}

#[derive(Debug, Default)]
struct Accumulator {
    count: usize,
    min: f64,
    max: f64,
    sum: f64,
}

impl Accumulator {
    fn add(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        if self.count == 0 {
            (self.min, self.max) = (v, v);
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.count += 1;
        self.sum += v;
    }

    fn merge(&mut self, other: &Accumulator) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            (self.min, self.max) = (other.min, other.max);
        } else {
            self.min = self.min.min(other.min);
            self.max = self.max.max(other.max);
        }
        self.count += other.count;
        self.sum += other.sum;
    }

    fn stats(&self) -> Stats {
        let some = |v: f64| (self.count > 0).then_some(v);
        Stats {
            count: self.count,
            min: some(self.min),
            max: some(self.max),
            mean: some(self.sum / self.count.max(1) as f64),
        }
    }
}

#[derive(Debug, Serialize)]
struct RecordStats {
    record: usize,
    name: Option<String>,
    all_levels: Stats,
    /// Per level, surface first (3-D LLC fields only).
    #[serde(skip_serializing_if = "Option::is_none")]
    levels: Option<Vec<Stats>>,
}

#[derive(Debug, Serialize)]
struct FieldSummary {
    meta: String,
    data: String,
    names: Vec<String>,
    /// `dimList` global lengths, x (fastest) first.
    dims: Vec<usize>,
    /// LLC tile size when the field is in compact layout.
    llc_n: Option<usize>,
    levels: usize,
    dtype: String,
    records: usize,
    time_step: Option<u64>,
    /// `1992-01-01T12:00:00 + time_step hours` (V4r4 model clock).
    date: Option<String>,
    missing_value: Option<f64>,
    /// "all points" or "wet points (maskC of <grid>)".
    stats_over: String,
    stats: Vec<RecordStats>,
}

/// Field name from a file name: `SSH_mon_mean.0000000732` -> `SSH_mon_mean`.
fn name_from_file(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = file
        .strip_suffix(".meta")
        .or_else(|| file.strip_suffix(".data"))
        .unwrap_or(&file);
    match stem.rsplit_once('.') {
        Some((name, ts)) if ts.len() == 10 && ts.bytes().all(|b| b.is_ascii_digit()) => {
            name.to_owned()
        }
        _ => stem.to_owned(),
    }
}

/// Time step from the file name's `.NNNNNNNNNN` part, when the `.meta` has none.
fn step_from_file(path: &Path) -> Option<u64> {
    let file = path.file_name()?.to_string_lossy().into_owned();
    let stem = file
        .strip_suffix(".meta")
        .or_else(|| file.strip_suffix(".data"))
        .unwrap_or(&file);
    let (_, ts) = stem.rsplit_once('.')?;
    (ts.len() == 10).then(|| ts.parse().ok()).flatten()
}

fn field_summary(args: &InspectArgs, grid_path: Option<&Path>) -> anyhow::Result<FieldSummary> {
    let file = MdsFile::open(&args.path, args.byte_order.into())
        .with_context(|| format!("cannot open MDS field {}", args.path.display()))?;
    let meta = &file.meta;
    let time_step = meta.time_step.or_else(|| step_from_file(&file.meta_path));
    let date = match time_step {
        Some(ts) => Some(format_time(
            ModelClock::v4r4()
                .step_to_datetime(ts)
                .with_context(|| format!("time step {ts}"))?,
        )),
        None => None,
    };
    let names = if meta.fields.is_empty() {
        vec![name_from_file(&file.meta_path)]
    } else {
        meta.fields.clone()
    };

    let grid = match grid_path {
        Some(p) => Some(load_grid(p)?),
        None => None,
    };
    let nz = meta.nz();
    if let Some(g) = &grid {
        let llc = meta.llc();
        if llc.map(|l| l.n) != Some(g.n) {
            bail!(
                "{} is not on the grid {}: expected an LLC{} compact field (dimList {} x {}), found dimList {:?}",
                file.data_path.display(),
                grid_path
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                g.n,
                g.n,
                13 * g.n,
                meta.dims
            );
        }
        if nz > g.nz {
            bail!(
                "{} has {nz} levels but the grid has {}: expected at most {} levels",
                file.data_path.display(),
                g.nz,
                g.nz
            );
        }
    }

    let mut stats = Vec::with_capacity(meta.n_records);
    for record in 0..meta.n_records {
        let selector = FieldSelector::Record(record);
        let values: Vec<f64> = if meta.llc().is_some() {
            file.read_tiles::<f64>(&selector)?.data
        } else {
            file.read_record::<f64>(&selector)?
        };
        let level_len = values.len() / nz.max(1);
        let per_level: Vec<Accumulator> = values
            .chunks(level_len.max(1))
            .enumerate()
            .map(|(k, level)| {
                let mut acc = Accumulator::default();
                match &grid {
                    Some(g) => {
                        let mask = &g.mask_c[k * level_len..(k + 1) * level_len];
                        level
                            .iter()
                            .zip(mask)
                            .filter(|(_, m)| **m)
                            .for_each(|(v, _)| acc.add(*v));
                    }
                    None => level.iter().for_each(|v| acc.add(*v)),
                }
                acc
            })
            .collect();
        let mut total = Accumulator::default();
        per_level.iter().for_each(|a| total.merge(a));
        stats.push(RecordStats {
            record,
            name: meta.fields.get(record).cloned(),
            all_levels: total.stats(),
            // Per-level detail for 3-D LLC fields (not for 1-D vertical files like RC).
            levels: (nz > 1 && meta.llc().is_some())
                .then(|| per_level.iter().map(Accumulator::stats).collect()),
        });
    }

    Ok(FieldSummary {
        meta: file.meta_path.display().to_string(),
        data: file.data_path.display().to_string(),
        names,
        dims: meta.dims.clone(),
        llc_n: meta.llc().map(|l| l.n),
        levels: nz,
        dtype: meta.precision.to_string(),
        records: meta.n_records,
        time_step,
        date,
        missing_value: meta.missing_value,
        stats_over: match grid_path {
            Some(p) => format!("wet points (maskC of {})", p.display()),
            None => "all points".to_owned(),
        },
        stats,
    })
}

fn fmt_opt(v: Option<f64>) -> String {
    match v {
        None => "-".to_owned(),
        Some(x) if x == 0.0 || (1e-3..1e7).contains(&x.abs()) => format!("{x:.6}"),
        Some(x) => format!("{x:.6e}"),
    }
}

fn fmt_stats(s: &Stats) -> String {
    format!(
        "min {}  max {}  mean {}  ({} points)",
        fmt_opt(s.min),
        fmt_opt(s.max),
        fmt_opt(s.mean),
        s.count
    )
}

fn print_field(f: &FieldSummary) {
    let dims: Vec<String> = f.dims.iter().map(|d| d.to_string()).collect();
    println!("field       {}", f.names.join(", "));
    println!("files       {} / {}", f.meta, f.data);
    let layout = match f.llc_n {
        Some(n) => format!(
            " (LLC{n} compact: 13 tiles of {n} x {n}, {} level(s))",
            f.levels
        ),
        None => String::new(),
    };
    println!("dims        {} (x first){layout}", dims.join(" x "));
    println!("dtype       {}", f.dtype);
    println!("records     {}", f.records);
    match (f.time_step, &f.date) {
        (Some(ts), Some(date)) => println!("time step   {ts} ({date})"),
        _ => println!("time step   -"),
    }
    if let Some(mv) = f.missing_value {
        println!("missing     {mv}");
    }
    println!("statistics  over {}", f.stats_over);
    for r in &f.stats {
        let name = r
            .name
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        println!("  record {}{name}: {}", r.record, fmt_stats(&r.all_levels));
        for (k, s) in r.levels.iter().flatten().enumerate() {
            println!("    level {k:>3}: {}", fmt_stats(s));
        }
    }
}

fn print_grid(g: &GridSummary) {
    let range = |r: Option<[f64; 2]>| {
        r.map_or_else(|| "-".to_owned(), |[lo, hi]| format!("{lo:.3} .. {hi:.3}"))
    };
    println!("grid         {}", g.path);
    println!("N            {}", g.n);
    println!("tiles        {}", g.tiles);
    println!("levels       {}", g.levels);
    println!("wet columns  {}", g.wet_columns);
    println!("wet cells    {}", g.wet_cells);
    let per_level: Vec<String> = g
        .wet_cells_per_level
        .iter()
        .map(|c| c.to_string())
        .collect();
    println!("per level    {}", per_level.join(" "));
    println!("longitude    {}", range(g.lon_range));
    println!("latitude     {}", range(g.lat_range));
    println!(
        "corners      {}",
        if g.corners_exact {
            "exact"
        } else {
            "partly extrapolated"
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_steps_from_file_names() {
        let p = Path::new("diags/SSH_mon_mean/SSH_mon_mean.0000000732.data");
        assert_eq!(name_from_file(p), "SSH_mon_mean");
        assert_eq!(step_from_file(p), Some(732));
        assert_eq!(name_from_file(Path::new("grid/XC.meta")), "XC");
        assert_eq!(step_from_file(Path::new("grid/XC.meta")), None);
    }

    #[test]
    fn accumulator_skips_non_finite_values() {
        let mut a = Accumulator::default();
        for v in [2.0, f64::NAN, -1.0, 5.0, f64::INFINITY] {
            a.add(v);
        }
        let s = a.stats();
        assert_eq!(
            (s.count, s.min, s.max, s.mean),
            (3, Some(-1.0), Some(5.0), Some(2.0))
        );
        assert_eq!(Accumulator::default().stats().min, None);
    }
}
