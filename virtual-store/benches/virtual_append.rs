//! Benchmark program (prints figures, asserts nothing): appending one granule's refs to a
//! dataset's virtual store, one `update` per granule as `edp run` does at its end, on a local
//! destination root.
//!
//! The granules are synthetic: a native 3-D monthly granule's layout on LLC90 (5 data
//! variables of `(time, k=50, tile=13, j=90, i=90)` in 5 chunks of 10 levels, one 2-D data
//! variable, and 8 coordinate and bounds variables), sparse files of the recorded size, done
//! records with the chunk index. No granule is read.
//!
//! ```text
//! cargo bench -p edp-virtual --bench virtual_append [-- GRANULES]   (default 1000)
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use edp_plan::roots::Root;
use edp_store::Store;
use edp_virtual::{Scope, UpdateOptions, update};
use serde_json::{Value, json};

const DATASET: &str = "V4r4/native/mon_mean/OCEAN_TEMPERATURE_SALINITY";
const GRANULE_BYTES: u64 = 40_000_000;

fn chunk_index(month: usize) -> Value {
    let mut variables = vec![
        json!({"name": "time", "dimensions": ["time"], "shape": [1], "dtype": "<f8",
               "attributes": {"units": "hours since 1992-01-01T12:00:00"},
               "chunks": [{"index": [0], "offset": 1000, "length": 8}]}),
        json!({"name": "time_bnds", "dimensions": ["time", "nv"], "shape": [1, 2], "dtype": "<f8",
               "chunks": [{"index": [0, 0], "offset": 1008, "length": 16}]}),
    ];
    for (k, name) in ["XC", "YC", "XG", "YG"].iter().enumerate() {
        variables.push(
            json!({"name": name, "dimensions": ["tile", "j", "i"], "shape": [13, 90, 90],
            "dtype": "<f4", "attributes": {"units": "degrees"},
            "chunks": [{"index": [0, 0, 0], "offset": 2000 + k * 421_200, "length": 421_200}]}),
        );
    }
    for name in ["Z", "Zu", "Zl"] {
        variables.push(
            json!({"name": name, "dimensions": ["k"], "shape": [50], "dtype": "<f4",
            "chunks": [{"index": [0], "offset": 1_700_000, "length": 200}]}),
        );
    }
    variables.push(
        json!({"name": "Z_bnds", "dimensions": ["k", "nv"], "shape": [50, 2], "dtype": "<f4",
        "chunks": [{"index": [0, 0], "offset": 1_701_000, "length": 400}]}),
    );
    let filters = json!([{"id": "shuffle", "element_size": 4}, {"id": "deflate", "level": 5}]);
    let mut offset = 2_000_000 + month as u64;
    for name in ["THETA", "SALT", "UVEL", "VVEL", "WVEL"] {
        let chunks: Vec<Value> = (0..5)
            .map(|c| {
                offset += 1_000_000;
                json!({"index": [0, c, 0, 0, 0], "offset": offset, "length": 999_000})
            })
            .collect();
        variables.push(
            json!({"name": name, "dimensions": ["time", "k", "tile", "j", "i"],
            "shape": [1, 50, 13, 90, 90], "dtype": "<f4", "chunk_shape": [1, 10, 13, 90, 90],
            "filters": filters, "fill_value": 9.969209968386869e36,
            "attributes": {"units": "degree_C", "coordinates": "XC YC Z time"},
            "chunks": chunks}),
        );
    }
    offset += 1_000_000;
    variables.push(
        json!({"name": "ETAN", "dimensions": ["time", "tile", "j", "i"],
        "shape": [1, 13, 90, 90], "dtype": "<f4", "chunk_shape": [1, 13, 90, 90],
        "filters": filters, "fill_value": 9.969209968386869e36,
        "chunks": [{"index": [0, 0, 0, 0], "offset": offset, "length": 300_000}]}),
    );
    let year = 1992 + month / 12;
    let mon = month % 12 + 1;
    json!({"attributes": {"title": "ECCO Ocean Temperature and Salinity", "time_coverage_start":
        format!("{year}-{mon:02}-01T00:00:00")}, "variables": variables})
}

/// Writes granule `month` (a sparse file) and its done record in the ledger of run `run`.
fn produce(dest: &Path, run: &str, month: usize) -> std::io::Result<()> {
    let year = 1992 + month / 12;
    let mon = month % 12 + 1;
    let relative = format!(
        "{DATASET}/OCEAN_TEMPERATURE_SALINITY_mon_mean_{year}-{mon:02}_ECCO_V4r4_native_llc0090.nc"
    );
    let granule = dest.join(&relative);
    if let Some(parent) = granule.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::File::create(&granule)?.set_len(GRANULE_BYTES)?;
    let record = json!({"task_id": format!("t{month:06}"), "granule": granule.display().to_string(),
        "run_id": run, "status": "done", "software_version": "bench", "output_bytes": GRANULE_BYTES,
        "sha256": format!("{month:064x}"), "chunk_index": chunk_index(month)});
    let ledger = dest.join(format!("_edp/runs/{run}/ledger"));
    std::fs::create_dir_all(&ledger)?;
    std::fs::write(
        ledger.join(format!("t{month:06}.json")),
        serde_json::to_vec(&record)?,
    )
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(at).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let granules: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir()?;
    let dest = dir.path();
    let root = Root::parse(&dest.display().to_string())?;
    let store = Store::local_only();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let options = UpdateOptions::default();
    let store_dir = dest.join("_edp/virtual").join(DATASET);
    let mut times = Vec::with_capacity(granules);
    let mut marks = Vec::new();
    println!(
        "virtual store append benchmark: {granules} granules of {DATASET}, one update per granule"
    );
    for month in 0..granules {
        let run = format!("run{month:06}");
        produce(dest, &run, month)?;
        let start = Instant::now();
        runtime.block_on(update(&store, &root, Scope::Run(&run), &options))?;
        times.push(start.elapsed());
        let n = month + 1;
        if n == 1 || n == 10 || n == 100 || n == 1000 || n == 10_000 || n == granules {
            let window = &times[n.saturating_sub(10)..n];
            let mean = window.iter().map(Duration::as_secs_f64).sum::<f64>() / window.len() as f64;
            let state = size(&store_dir.join("state.json"));
            let refs = size(&store_dir.join("refs.json"));
            marks.push((n, mean * 1e3, state, refs));
        }
    }
    println!(
        "{:>9} {:>16} {:>14} {:>14} {:>16}",
        "granules", "append ms (last 10)", "state.json B", "refs.json B", "refs B/granule"
    );
    let mut seen = std::collections::BTreeSet::new();
    for (n, ms, state, refs) in marks {
        if seen.insert(n) {
            println!(
                "{n:>9} {ms:>19.2} {state:>14} {refs:>14} {:>16}",
                refs / n as u64
            );
        }
    }
    let mut sorted = times.clone();
    sorted.sort();
    println!(
        "append over all {granules}: median {:.2} ms, p95 {:.2} ms, max {:.2} ms (goal <= 50 ms)",
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.95),
        percentile(&sorted, 1.0)
    );
    // A second update with nothing new: what a repeated run costs.
    let run = format!("run{:06}", granules - 1);
    let start = Instant::now();
    let report = runtime.block_on(update(&store, &root, Scope::Run(&run), &options))?;
    println!(
        "repeat of the last update (nothing new): {:.2} ms, state written: {}",
        start.elapsed().as_secs_f64() * 1e3,
        report.changed() > 0
    );
    Ok(())
}
