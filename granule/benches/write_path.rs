//! Benchmark of the write path (a program, not a timed test): the 8 granule kinds of the
//! EDP comparison on the real LLC90 grid (50 levels) with deterministic inputs written as MDS
//! files, each kind in a fresh process (whole-process time, as the EDP figures were taken:
//! loading grid and metadata, building the lat-lon weights and writing their cache, reading
//! the inputs, writing the granules), once through netCDF-C's own compression and once with
//! the direct chunk path; then all 16 granules in one process with CPU utilisation. Lat-lon
//! kinds and the mixed run are measured a third time reading a weights cache written before
//! (the Python EDP figures read mapping factors computed once beforehand, in 405 s).
//!
//! ```text
//! cargo bench -p edp-granule --bench write_path                 # every kind, both paths
//! cargo bench -p edp-granule --bench write_path -- ssh-native   # some kinds (keys below)
//! EDP_BENCH_SKIP_NETCDF=1 cargo bench -p edp-granule --bench write_path   # direct path only
//! EDP_BENCH_KEEP_INPUTS=/tmp/in cargo bench -p edp-granule --bench write_path -- ts-latlon
//!     # inputs kept in /tmp/in, and a child's command line printed (for profilers)
//! ```
//!
//! The mixed run is measured once more under a working-memory budget (`EDP_MEMORY_BUDGET_MB`
//! in the child, as `edp run --memory-budget-mb`).
//!
//! Granules of one process are produced `cores` at a time, costliest first (as `edp run` does). Printed per
//! kind: seconds and peak resident memory of the process for both paths, the speed-up over
//! the Python EDP figures measured on the same 2-core machine, and over the netCDF-C path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use edp_conventions::{Frequency, ProductType};
use edp_granule::{GranuleRequest, LocalFiles, ResourceCache, WritePath, local, produce_granule};
use edp_grid::Grid;
use edp_mds::{ByteOrder, Meta, Precision};
use edp_plan::cost::CostModel;
use edp_plan::memory::{MemoryModel, next_within_budget};
use edp_task_schemas::ProductKind;

/// One benchmarked kind: granules of one grouping at some time steps.
struct Kind {
    key: &'static str,
    label: &'static str,
    product: ProductType,
    grouping: usize,
    steps: &'static [u64],
    /// Python EDP whole-process seconds and peak MB for the same granules (issue 12 table).
    edp: (f64, f64),
}

const MONTHS: &[u64] = &[732, 1428, 2172];
const ONE: &[u64] = &[732];

const KINDS: &[Kind] = &[
    Kind {
        key: "ssh-native",
        label: "2-D native SSH (3)",
        product: ProductType::Native,
        grouping: 0,
        steps: MONTHS,
        edp: (11.2, 279.0),
    },
    Kind {
        key: "stress-native",
        label: "2-D native stress (3)",
        product: ProductType::Native,
        grouping: 6,
        steps: MONTHS,
        edp: (9.7, 307.0),
    },
    Kind {
        key: "ssh-latlon",
        label: "2-D lat-lon SSH (3)",
        product: ProductType::Latlon,
        grouping: 0,
        steps: MONTHS,
        edp: (6.9, 414.0),
    },
    Kind {
        key: "stress-latlon",
        label: "2-D vector lat-lon stress (3)",
        product: ProductType::Latlon,
        grouping: 6,
        steps: MONTHS,
        edp: (17.2, 421.0),
    },
    Kind {
        key: "ts-native",
        label: "3-D native T/S (1)",
        product: ProductType::Native,
        grouping: 15,
        steps: ONE,
        edp: (16.2, 552.0),
    },
    Kind {
        key: "velocity-native",
        label: "3-D native velocity (1)",
        product: ProductType::Native,
        grouping: 17,
        steps: ONE,
        edp: (18.6, 678.0),
    },
    Kind {
        key: "ts-latlon",
        label: "3-D lat-lon T/S (1)",
        product: ProductType::Latlon,
        grouping: 9,
        steps: ONE,
        edp: (12.5, 902.0),
    },
    Kind {
        key: "velocity-latlon",
        label: "3-D vector lat-lon velocity (1)",
        product: ProductType::Latlon,
        grouping: 11,
        steps: ONE,
        edp: (19.2, 1249.0),
    },
];

/// All 16 in one process (EDP: 84.4 s, 1269 MB).
const ALL_EDP: (f64, f64) = (84.4, 1269.0);

/// 2-D and 3-D diagnostics the kinds read.
const DIAGS_2D: &[&str] = &[
    "SSH", "SSHIBC", "SSHNOIBC", "ETAN", "EXFtaux", "EXFtauy", "oceTAUX", "oceTAUY",
];
const DIAGS_3D: &[&str] = &["THETA", "SALT", "UVEL", "VVEL", "WVELMASS"];

fn grid_dir() -> Option<PathBuf> {
    edp_testkit::llc90_grid_dir()
}

/// Writes the inputs as MDS files (`diags_monthly/<VAR>_mon_mean/...`): smooth fields with
/// small-scale variability, 0 on land as MITgcm writes it, different per variable and step.
fn write_inputs(root: &Path, grid: &Grid) {
    let cells = grid.cells();
    let write = |diag: &str, step: u64, nz: usize, index: usize| {
        let values: Vec<f32> = (0..nz * cells)
            .map(|v| {
                let (k, c) = (v / cells, v % cells);
                if !grid.mask_c[k * cells + c] {
                    return 0.0;
                }
                let (kf, cf) = (k as f32, c as f32);
                let phase = index as f32 + step as f32 * 1e-3;
                0.2 * (-kf / 15.0).exp()
                    + 0.1 * (cf * 7.3e-4 + phase).sin()
                    + 0.01 * (cf * 0.31).cos()
            })
            .collect();
        let dir = root.join("diags_monthly").join(format!("{diag}_mon_mean"));
        std::fs::create_dir_all(&dir).unwrap();
        let stem = dir.join(format!("{diag}_mon_mean.{step:010}"));
        let mut meta = Meta::new_llc(stem.display().to_string(), grid.n, nz, Precision::F32, 1);
        meta.time_step = Some(step);
        meta.fields = vec![diag.to_string()];
        std::fs::write(
            format!("{}.data", stem.display()),
            edp_mds::encode_values(&values, Precision::F32, ByteOrder::Big),
        )
        .unwrap();
        std::fs::write(format!("{}.meta", stem.display()), meta.to_meta_text()).unwrap();
    };
    for (index, diag) in DIAGS_2D.iter().enumerate() {
        for step in MONTHS {
            write(diag, *step, 1, index);
        }
    }
    for (index, diag) in DIAGS_3D.iter().enumerate() {
        write(diag, 732, grid.nz, index);
    }
}

/// `VmHWM` of this process in MB.
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// User + system CPU seconds of this process (`/proc/self/stat` fields 14 and 15).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rfind(')').map_or("", |i| &stat[i + 1..]);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// The jobs of a child not started yet (with their working-memory estimates) and those in
/// flight.
struct Queue<'k> {
    waiting: Vec<(f64, (&'k Kind, u64))>,
    running: usize,
    in_flight_mb: f64,
}

/// Child mode: produce the granules of `keys` (comma-separated) in this process, `cores`
/// at a time, and print peak memory and CPU seconds.
fn child(keys: &str, path: WritePath, root: &Path, out: &Path, weights: Option<&Path>) {
    let grid = grid_dir().unwrap();
    let metadata = edp_testkit::v4r4_metadata_dir().unwrap();
    // By default a fresh weights cache: the process builds the weights and writes the cache,
    // as a first run does. With `weights`, the cache a previous run wrote (what the Python
    // EDP figures correspond to: its mapping factors are computed once, 405 s, and read).
    let cache_dir = weights.map_or_else(|| out.join("weights-cache"), Path::to_path_buf);
    let cache = ResourceCache::new().with_cache_dir(cache_dir);
    let kinds: Vec<&Kind> = keys
        .split(',')
        .map(|k| KINDS.iter().find(|x| x.key == k).unwrap())
        .collect();
    let mut jobs: Vec<(&Kind, u64)> = Vec::new();
    for kind in &kinds {
        for step in kind.steps {
            jobs.push((*kind, *step));
        }
    }
    // Longest first by the planner's cost model, as `edp run` starts the tasks of a list.
    let catalog = cache.catalog(&metadata).unwrap();
    let model = CostModel::default();
    let cost = |kind: &Kind| {
        let dataset = catalog.dataset(kind.product, kind.grouping as i64).unwrap();
        let product_kind = ProductKind::new(kind.product, dataset.dimension);
        model.estimate_parts(product_kind, dataset.variables.len(), 0)
    };
    jobs.sort_by(|a, b| cost(b.0).total_cmp(&cost(a.0)));
    // Under a working-memory budget, the next job is the first that fits beside those in
    // flight (`edp_plan::memory::next_within_budget`, as `edp run --memory-budget-mb`).
    let budget_mb: Option<f64> = std::env::var("EDP_MEMORY_BUDGET_MB")
        .ok()
        .and_then(|v| v.parse().ok());
    let memory = MemoryModel::default();
    let estimate = |kind: &Kind| {
        let dataset = catalog.dataset(kind.product, kind.grouping as i64).unwrap();
        let product_kind = ProductKind::new(kind.product, dataset.dimension);
        let inputs: std::collections::HashSet<&str> = dataset
            .variables
            .iter()
            .flat_map(|v| &v.inputs)
            .map(|input| input.name.as_str())
            .collect();
        memory.estimate_parts(product_kind, inputs.len())
    };
    let queue = Mutex::new(Queue {
        waiting: jobs.into_iter().map(|job| (estimate(job.0), job)).collect(),
        running: 0,
        in_flight_mb: 0.0,
    });
    let finished = Condvar::new();
    let next_job = || {
        let mut queue = queue.lock().unwrap();
        loop {
            let estimates: Vec<f64> = queue.waiting.iter().map(|(mb, _)| *mb).collect();
            let pick = next_within_budget(&estimates, queue.running, queue.in_flight_mb, budget_mb);
            if let Some(index) = pick {
                let (mb, job) = queue.waiting.remove(index);
                queue.running += 1;
                queue.in_flight_mb += mb;
                return Some((mb, job));
            }
            if queue.waiting.is_empty() {
                return None;
            }
            queue = finished.wait(queue).unwrap();
        }
    };
    let job_done = |mb: f64| {
        let mut queue = queue.lock().unwrap();
        queue.running -= 1;
        queue.in_flight_mb -= mb;
        finished.notify_all();
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..cores {
            scope.spawn(|| {
                while let Some((mb, (kind, step))) = next_job() {
                    let resources = match kind.product {
                        ProductType::Native => cache.resources(&grid, &metadata, None),
                        ProductType::Latlon => cache.latlon_resources(&grid, &metadata, None, None),
                    }
                    .unwrap()
                    .with_write_path(path);
                    let dataset = resources
                        .catalog
                        .dataset(kind.product, kind.grouping as i64)
                        .unwrap();
                    let found = local::find_inputs(
                        root,
                        &dataset,
                        Frequency::AvgMon,
                        step,
                        resources.config.snap_instants,
                    );
                    assert!(
                        found.missing.is_empty(),
                        "missing inputs {:?}",
                        found.missing
                    );
                    let request = GranuleRequest::new(
                        &resources.catalog,
                        &resources.config,
                        kind.product,
                        kind.grouping,
                        Frequency::AvgMon,
                        step,
                        found.variables,
                    )
                    .unwrap();
                    let target = out.join(&request.granule_name);
                    produce_granule(&request, &resources, &LocalFiles::new(), &target).unwrap();
                    job_done(mb);
                }
            });
        }
    });
    // The weights cache file of a fresh run is written in the background: counted too.
    cache.wait_for_cache_writes();
    println!("CHILD {:.1} {:.3}", peak_mb(), cpu_seconds());
}

/// One measured process: wall seconds, peak MB, CPU seconds. `weights`: a weights cache to
/// read instead of building the weights.
fn measure(
    keys: &str,
    path: WritePath,
    root: &Path,
    weights: Option<&Path>,
    budget_mb: Option<u64>,
) -> (f64, f64, f64) {
    let out = tempfile::tempdir().unwrap();
    let name = match path {
        WritePath::NetCdf => "netcdf",
        _ => "direct",
    };
    let started = Instant::now();
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command.env_remove("EDP_MEMORY_BUDGET_MB");
    if let Some(mb) = budget_mb {
        command.env("EDP_MEMORY_BUDGET_MB", mb.to_string());
    }
    let child = command
        .args([
            "--child",
            keys,
            name,
            root.to_str().unwrap(),
            out.path().to_str().unwrap(),
            weights.map_or("-", |w| w.to_str().unwrap()),
        ])
        .output()
        .unwrap();
    let wall = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&child.stdout);
    let figures: Vec<f64> = text
        .lines()
        .find_map(|l| l.strip_prefix("CHILD "))
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .unwrap_or_else(|| {
            panic!(
                "child {keys} failed: {}",
                String::from_utf8_lossy(&child.stderr)
            )
        });
    (wall, figures[0], figures[1])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        let path = if args[pos + 2] == "netcdf" {
            WritePath::NetCdf
        } else {
            WritePath::DirectChunks
        };
        let weights = Some(args[pos + 5].as_str()).filter(|w| *w != "-");
        child(
            &args[pos + 1],
            path,
            Path::new(&args[pos + 3]),
            Path::new(&args[pos + 4]),
            weights.map(Path::new),
        );
        return;
    }
    let (Some(grid_dir), Some(_)) = (grid_dir(), edp_testkit::v4r4_metadata_dir()) else {
        println!("SKIPPED: the shared LLC90 grid and V4r4 metadata are needed");
        return;
    };
    let only: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    let skip_netcdf = std::env::var_os("EDP_BENCH_SKIP_NETCDF").is_some();
    let grid = Grid::from_mds_dir(&grid_dir).unwrap();
    // $EDP_BENCH_KEEP_INPUTS: the inputs are written there and kept, and a child's command
    // line printed, for profiling one child by hand (e.g. under `valgrind --tool=massif`).
    let temporary = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("EDP_BENCH_KEEP_INPUTS").map(PathBuf::from);
    let inputs = kept
        .clone()
        .unwrap_or_else(|| temporary.path().to_path_buf());
    write_inputs(&inputs, &grid);
    if let Some(kept) = &kept {
        let all: Vec<&str> = KINDS.iter().map(|k| k.key).collect();
        println!(
            "inputs kept in {}; one child: {} --child {} direct {} OUT_DIR WEIGHTS_CACHE_DIR|-",
            kept.display(),
            std::env::current_exe().unwrap().display(),
            all.join(","),
            kept.display()
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "whole process per kind, LLC{} x {} levels, {cores} core(s); EDP = Python EDP on the same machine",
        grid.n, grid.nz
    );
    // One weights cache written up front, for the "weights cached" column.
    let warm = tempfile::tempdir().unwrap();
    ResourceCache::new()
        .with_cache_dir(warm.path().to_path_buf())
        .latlon_resources(
            &grid_dir,
            &edp_testkit::v4r4_metadata_dir().unwrap(),
            None,
            None,
        )
        .unwrap();
    let warm = Some(warm.path());
    println!(
        "| kind (granules) | direct s | peak MB | vs EDP | direct, weights cached s | vs EDP | netCDF-C path s | peak MB | direct vs netCDF-C |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut keys = Vec::new();
    for kind in KINDS {
        if !only.is_empty() && !only.iter().any(|o| *o == kind.key) {
            continue;
        }
        keys.push(kind.key);
        let (direct, direct_mb, _) = measure(
            kind.key,
            WritePath::DirectChunks,
            inputs.as_path(),
            None,
            None,
        );
        let cached = match kind.product {
            ProductType::Latlon => {
                let (s, _, _) = measure(
                    kind.key,
                    WritePath::DirectChunks,
                    inputs.as_path(),
                    warm,
                    None,
                );
                format!("{s:.2} | {:.0}x", kind.edp.0 / s)
            }
            ProductType::Native => "- | -".to_string(),
        };
        let (netcdf, netcdf_mb) = if skip_netcdf {
            (f64::NAN, f64::NAN)
        } else {
            let (s, mb, _) = measure(kind.key, WritePath::NetCdf, inputs.as_path(), None, None);
            (s, mb)
        };
        println!(
            "| {} | {direct:.2} | {direct_mb:.0} | {:.0}x | {cached} | {netcdf:.2} | {netcdf_mb:.0} | {:.2}x |",
            kind.label,
            kind.edp.0 / direct,
            netcdf / direct
        );
    }
    if keys.len() == KINDS.len() {
        let all = keys.join(",");
        let (direct, direct_mb, direct_cpu) =
            measure(&all, WritePath::DirectChunks, inputs.as_path(), None, None);
        let (cached, cached_mb, cached_cpu) =
            measure(&all, WritePath::DirectChunks, inputs.as_path(), warm, None);
        let (netcdf, netcdf_mb, netcdf_cpu) = if skip_netcdf {
            (f64::NAN, f64::NAN, f64::NAN)
        } else {
            measure(&all, WritePath::NetCdf, inputs.as_path(), None, None)
        };
        let util = |cpu: f64, wall: f64| 100.0 * cpu / (wall * cores as f64);
        println!(
            "| all 16 in one process | {direct:.2} (CPU {:.0} %) | {direct_mb:.0} | {:.0}x | {cached:.2} (CPU {:.0} %, {cached_mb:.0} MB) | {:.0}x | {netcdf:.2} (CPU {:.0} %) | {netcdf_mb:.0} | {:.2}x |",
            util(direct_cpu, direct),
            ALL_EDP.0 / direct,
            util(cached_cpu, cached),
            ALL_EDP.0 / cached,
            util(netcdf_cpu, netcdf),
            netcdf / direct
        );
        // The same mixed run under a working-memory budget (`edp run --memory-budget-mb`):
        // with room for one 3-D lat-lon granule beside small ones, the two never overlap.
        let (budgeted, budgeted_mb, budgeted_cpu) = measure(
            &all,
            WritePath::DirectChunks,
            inputs.as_path(),
            None,
            Some(MIXED_BUDGET_MB),
        );
        let (budgeted_cached, budgeted_cached_mb, budgeted_cached_cpu) = measure(
            &all,
            WritePath::DirectChunks,
            inputs.as_path(),
            warm,
            Some(MIXED_BUDGET_MB),
        );
        println!(
            "| all 16, --memory-budget-mb {MIXED_BUDGET_MB} | {budgeted:.2} (CPU {:.0} %) | {budgeted_mb:.0} | {:.0}x | {budgeted_cached:.2} (CPU {:.0} %, {budgeted_cached_mb:.0} MB) | {:.0}x | - | - | - |",
            util(budgeted_cpu, budgeted),
            ALL_EDP.0 / budgeted,
            util(budgeted_cached_cpu, budgeted_cached),
            ALL_EDP.0 / budgeted_cached,
        );
        println!("(EDP all 16: {} s, {} MB)", ALL_EDP.0, ALL_EDP.1);
    }
}

/// Working-memory budget of the budgeted mixed run: one 3-D lat-lon granule (T/S 152 MB,
/// velocity 200 MB by `MemoryModel::default`) and a small one, never two large ones.
const MIXED_BUDGET_MB: u64 = 240;
