//! Benchmark of the lat-lon writer (a program, not a timed test): seconds per lat-lon granule
//! on LLC90 with 50 levels and synthetic data held in memory (as the worker has them), with
//! the V4r4 weights loaded from a file built beforehand; peak memory of one granule in a child
//! process (grid + weights + inputs + writing); and the ratio to the "compression floor", the
//! time to shuffle + deflate (level 5, zlib, one thread) the same output values in the same
//! chunks, which no writer can beat.
//!
//! ```text
//! cargo bench -p edp-granule --bench latlon              # all kinds
//! cargo bench -p edp-granule --bench latlon -- velocity  # one kind: 2d, ts or velocity
//! ```
//!
//! Uses the real LLC90 grid and the V4r4 metadata from the shared data (see edp_testkit); the
//! weights are built once into `<target>/tmp/edp-bench-weights` (not timed). Goals for a 3-D
//! granule: ratio <= 1.5 and peak memory <= 500 MB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "common/floor.rs"]
mod floor;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use edp_conventions::{Catalog, Frequency, LoadOptions, ProductType, ProductionConfig};
use edp_granule::{
    GranuleRequest, InputRef, MemoryInputs, RequestVariable, Resources, produce_granule,
};
use edp_grid::Grid;
use edp_mds::{ByteOrder, Meta, Precision};
use edp_regrid::{LatLonSpec, SourceGrid};

/// One benchmarked granule kind.
struct Kind {
    key: &'static str,
    grouping: usize,
    /// (output variable, input diagnostics, levels)
    variables: &'static [(&'static str, &'static [&'static str], usize)],
}

const KINDS: &[Kind] = &[
    Kind {
        key: "2d",
        grouping: 0,
        variables: &[
            ("SSH", &["SSH"], 1),
            ("SSHIBC", &["SSHIBC"], 1),
            ("SSHNOIBC", &["SSHNOIBC"], 1),
        ],
    },
    Kind {
        key: "ts",
        grouping: 9,
        variables: &[("THETA", &["THETA"], 50), ("SALT", &["SALT"], 50)],
    },
    Kind {
        key: "velocity",
        grouping: 11,
        variables: &[
            ("EVEL", &["UVEL", "VVEL"], 50),
            ("NVEL", &["UVEL", "VVEL"], 50),
            ("WVEL", &["WVELMASS"], 50),
        ],
    },
];

const STEP: u64 = 732;
const REPEATS: usize = 5;

fn weights_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("edp-bench-weights")
}

/// Grid, metadata and weights (built into the weights directory the first time); also
/// returns the seconds to get the weights and the memory after the grid (peak, resident MB).
fn resources() -> Option<(Resources, f64, (f64, f64))> {
    let grid_dir = edp_testkit::llc90_grid_dir()?;
    let metadata = edp_testkit::v4r4_metadata_dir()?;
    let grid = Grid::from_mds_dir(grid_dir).unwrap();
    let after_grid = memory_mb();
    let source = SourceGrid::from_grid(&grid).unwrap();
    let started = Instant::now();
    let (weights, _) =
        edp_granule::weights::locate_or_build(&source, &LatLonSpec::v4r4(), None, &weights_dir())
            .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    drop(source);
    let resources = Resources::new(
        Arc::new(grid),
        Arc::new(Catalog::load(metadata, &LoadOptions::default()).unwrap()),
        Arc::new(ProductionConfig::v4r4()),
    )
    .with_weights(Arc::new(weights));
    Some((resources, seconds, after_grid))
}

/// Synthetic smooth fields with ocean-like variability, as MDS bytes in memory; each
/// diagnostic once (EVEL and NVEL share UVEL/VVEL).
fn inputs(kind: &Kind, n: usize) -> (MemoryInputs, Vec<RequestVariable>) {
    let cells = 13 * n * n;
    let mut inputs = MemoryInputs::new();
    let mut variables = Vec::new();
    let mut made = std::collections::HashSet::new();
    let location = |diag: &str| format!("s3://bench/{diag}_mon_mean/{diag}_mon_mean.{STEP:010}");
    for (output, diags, nz) in kind.variables {
        for (index, diag) in diags.iter().enumerate() {
            if !made.insert(*diag) {
                continue;
            }
            let stem = location(diag);
            let values: Vec<f32> = (0..nz * cells)
                .map(|v| {
                    let (k, c) = ((v / cells) as f32, (v % cells) as f32);
                    let phase = index as f32;
                    0.2 * (-k / 15.0).exp()
                        + 0.1 * (c * 7.3e-4 + phase).sin()
                        + 0.01 * (c * 0.31).cos()
                })
                .collect();
            let mut meta = Meta::new_llc(&stem, n, *nz, Precision::F32, 1);
            meta.time_step = Some(STEP);
            meta.fields = vec![diag.to_string()];
            let bytes = edp_mds::encode_values(&values, Precision::F32, ByteOrder::Big);
            inputs.insert(format!("{stem}.data"), bytes);
            inputs.insert(format!("{stem}.meta"), meta.to_meta_text().into_bytes());
        }
        variables.push(RequestVariable {
            name: output.to_string(),
            inputs: diags
                .iter()
                .map(|d| {
                    InputRef::new(
                        format!("{}.data", location(d)),
                        format!("{}.meta", location(d)),
                    )
                })
                .collect(),
        });
    }
    (inputs, variables)
}

fn request(r: &Resources, kind: &Kind, variables: Vec<RequestVariable>) -> GranuleRequest {
    GranuleRequest::new(
        &r.catalog,
        &r.config,
        ProductType::Latlon,
        kind.grouping,
        Frequency::AvgMon,
        STEP,
        variables,
    )
    .unwrap()
}

/// `VmHWM` (peak resident set) and `VmRSS` of this process in MB.
fn memory_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Child mode: load everything and write one granule, then print the memory figures.
fn child(key: &str, out_dir: &Path) {
    let kind = KINDS.iter().find(|k| k.key == key).unwrap();
    let (r, _, (hwm_grid, rss_grid)) = resources().unwrap();
    let (hwm_resources, rss_resources) = memory_mb();
    let (inputs, variables) = inputs(kind, r.grid.n);
    let (_, rss_inputs) = memory_mb();
    let req = request(&r, kind, variables);
    produce_granule(&req, &r, &inputs, &out_dir.join(&req.granule_name)).unwrap();
    let (hwm, _) = memory_mb();
    println!(
        "CHILD {hwm:.1} {hwm_grid:.1} {rss_grid:.1} {hwm_resources:.1} {rss_resources:.1} \
         {rss_inputs:.1}"
    );
}

fn run_kind(r: &Resources, kind: &Kind, out_dir: &Path) {
    let (inputs, variables) = inputs(kind, r.grid.n);
    let req = request(r, kind, variables);
    let out = out_dir.join(&req.granule_name);
    // Warm-up, then timed repeats with the granule and its floor interleaved so that both see
    // the same machine load; the minimum of each is the least disturbed run.
    let report = produce_granule(&req, r, &inputs, &out).unwrap();
    let names: Vec<String> = report.variables.iter().map(|v| v.name.clone()).collect();
    let chunks = floor::granule_chunks(&out, &names);
    let (mut seconds, mut floors) = (Vec::new(), Vec::new());
    let mut floor_bytes = 0;
    let mut report = report;
    for _ in 0..REPEATS {
        let started = Instant::now();
        report = produce_granule(&req, r, &inputs, &out).unwrap();
        seconds.push(started.elapsed().as_secs_f64());
        let (floor, bytes) = floor::compression_floor(&chunks);
        floors.push(floor);
        floor_bytes = bytes;
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (best, floor) = (min(&seconds), min(&floors));
    let (median_s, median_floor) = (median(&mut seconds), median(&mut floors));
    let raw_mb = report
        .variables
        .iter()
        .map(|v| (v.valid_values + v.fill_values) * 4)
        .sum::<usize>() as f64
        / 1e6;

    // Peak memory of one granule in a fresh process.
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--child", kind.key, out_dir.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&child.stdout);
    let mem: Vec<f64> = text
        .lines()
        .find_map(|l| l.strip_prefix("CHILD "))
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .unwrap_or_else(|| panic!("child failed: {}", String::from_utf8_lossy(&child.stderr)));

    println!(
        "{:<9} {} var(s), {:.1} MB float32 -> {:.1} MB file | granule {:.3} s (median {:.3}; \
         last: regrid {:.3} busy, write {:.3}) | floor {:.3} s (median {:.3}; {:.1} MB) | ratio \
         {:.2} (medians {:.2}) | peak {:.1} MB (grid loaded: peak {:.1}, resident {:.1}; + weights: \
         peak {:.1}, resident {:.1}; + inputs {:.1})",
        kind.key,
        names.len(),
        raw_mb,
        report.bytes as f64 / 1e6,
        best,
        median_s,
        report.timings.read_seconds,
        report.timings.write_seconds,
        floor,
        median_floor,
        floor_bytes as f64 / 1e6,
        best / floor,
        median_s / median_floor,
        mem[0],
        mem[1],
        mem[2],
        mem[3],
        mem[4],
        mem[5],
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        child(&args[pos + 1], &PathBuf::from(&args[pos + 2]));
        return;
    }
    let Some((r, weights_seconds, _)) = resources() else {
        println!("SKIPPED: the shared LLC90 grid and V4r4 metadata are needed");
        return;
    };
    let only: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    let tmp = tempfile::tempdir().unwrap();
    println!(
        "lat-lon granules (0.5 deg) from LLC{} x {} levels, {} rayon threads, {REPEATS} repeats; \
         weights: {} levels ready in {weights_seconds:.2} s",
        r.grid.n,
        r.grid.nz,
        rayon::current_num_threads(),
        r.weights.as_ref().map_or(0, |w| w.n_levels()),
    );
    for kind in KINDS {
        if only.is_empty() || only.iter().any(|o| *o == kind.key) {
            run_kind(&r, kind, tmp.path());
        }
    }
}
