//! Benchmark: `edp check` (headers only) of a 1,000-granule dataset on the S3 emulator.
//!
//! ```text
//! cargo bench -p edp-datasets --features netcdf --bench check_s3 [-- <granules>]
//! ```
//!
//! Writes N daily native granules (LLC90: 13 x 90 x 90, deflated, V4r4 time axis) into moto,
//! with their manifest, then checks the dataset twice and prints bytes read and seconds per
//! granule:
//!
//! 1. without chunk indexes: each granule is downloaded whole and its header read with
//!    libnetcdf;
//! 2. with chunk indexes in the done records (what the granule writer records, issue 12; here
//!    the byte ranges of `time` and `time_bnds` come from h5py on the written files): only
//!    those chunks are read with ranged GETs.
//!
//! Needs `moto_server` (`EDP_MOTO_SERVER`) and, for step 2, Python with h5py (`EDP_PYTHON`).
//! Prints figures; never fails on time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use edp_datasets::DatasetId;
use edp_datasets::check::{CheckOptions, check_dataset};
use edp_datasets::lifecycle::Actor;
use edp_store::{Location, StaticCredentials, Store, StoreConfig};
use edp_task_schemas::{
    ChunkIndex, DatasetManifest, LedgerRecord, ManifestGranule, StoredChunk, StoredVariable,
    TaskStatus,
};
use edp_testkit::MotoServer;
use edp_testkit::moto::{MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY};
use sha2::Digest;

const N: usize = 90;
const DATASET: &str = "V4r4/native/day_mean/SEA_SURFACE_HEIGHT";

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let Some(moto) = MotoServer::start_or_skip() else {
        println!("moto_server not found: set EDP_MOTO_SERVER");
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(bench(&moto, count));
}

async fn bench(moto: &MotoServer, count: usize) {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        endpoint_url: Some(moto.endpoint()),
        region: Some(MOTO_REGION.to_string()),
        credentials: Some(StaticCredentials {
            access_key_id: MOTO_ACCESS_KEY_ID.to_string(),
            secret_access_key: MOTO_SECRET_ACCESS_KEY.to_string(),
            session_token: None,
        }),
        force_path_style: true,
        ..StoreConfig::default()
    };
    let store = Store::from_config(config).await;
    create_bucket(moto);
    let dest = Location::s3("bench", "products");

    let started = Instant::now();
    let files = write_granules(dir.path(), count);
    println!(
        "wrote {count} granules in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut manifest = DatasetManifest {
        dataset: DATASET.to_string(),
        updated_at: None,
        granules: Vec::new(),
    };
    let started = Instant::now();
    let mut total_bytes = 0u64;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let relative = format!("{DATASET}/{name}");
        let bytes = std::fs::read(file).unwrap();
        total_bytes += bytes.len() as u64;
        manifest.granules.push(ManifestGranule {
            path: relative.clone(),
            size: bytes.len() as u64,
            sha256: hex::encode(sha2::Sha256::digest(&bytes)),
        });
        store.put(&dest.join(&relative), bytes).await.unwrap();
    }
    store
        .put(
            &dest.join(&format!("_edp/manifests/{DATASET}.json")),
            serde_json::to_vec(&manifest).unwrap(),
        )
        .await
        .unwrap();
    println!(
        "uploaded {count} granules ({:.1} kB each) in {:.1} s",
        total_bytes as f64 / count as f64 / 1e3,
        started.elapsed().as_secs_f64()
    );

    let id = DatasetId::parse(DATASET).unwrap();
    let options = CheckOptions {
        values: false,
        checksums: false,
        masks: None,
        cache_dir: dir.path().join("cache"),
        concurrency: 8,
        record: false,
    };
    let actor = Actor::new("bench");
    let report = |label: &str, check: &edp_datasets::check::DatasetCheck| {
        let n = check.bytes_per_granule.len().max(1) as f64;
        let bytes: u64 = check.bytes_per_granule.iter().sum();
        let max = check.bytes_per_granule.iter().max().copied().unwrap_or(0);
        println!(
            "{label}: {} granules, {} problem(s); {:.0} B read per granule (max {} B, goal <= 64 kB), \
             {:.4} s per granule, {} from chunk indexes",
            check.summary.granules,
            check.summary.problems.len(),
            bytes as f64 / n,
            max,
            check.seconds / n,
            check.from_chunk_index
        );
        for p in check.summary.problems.iter().take(3) {
            println!("  {} {}: {}", p.kind, p.granule, p.message);
        }
    };
    let without = check_dataset(&store, &dest, &id, &options, &actor)
        .await
        .unwrap();
    report(
        "headers, no chunk index (whole granule downloaded)",
        &without,
    );

    let Some(offsets) = h5py_offsets(&files) else {
        println!("Python with h5py not found (EDP_PYTHON): chunk-index pass skipped");
        return;
    };
    for (k, file) in files.iter().enumerate() {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let record = LedgerRecord {
            task_id: format!("bench{k:05}"),
            granule: dest.join(&format!("{DATASET}/{name}")).to_string(),
            run_id: "bench".into(),
            status: TaskStatus::Done,
            attempts: 1,
            error: None,
            shard_index: None,
            seconds: None,
            peak_memory_bytes: None,
            output_bytes: Some(manifest.granules[k].size),
            sha256: Some(manifest.granules[k].sha256.clone()),
            input_etags: Default::default(),
            software_version: "bench".into(),
            config_hash: String::new(),
            started_at: None,
            finished_at: None,
            chunk_index: Some(chunk_index(file, &offsets[&name])),
        };
        store
            .put(
                &dest.join(&format!("_edp/done/{}.json", record.task_id)),
                serde_json::to_vec(&record).unwrap(),
            )
            .await
            .unwrap();
    }
    let with = check_dataset(&store, &dest, &id, &options, &actor)
        .await
        .unwrap();
    report(
        "headers from chunk indexes (ranged GETs of time, time_bnds)",
        &with,
    );
    let ratio = (without.summary.bytes_read as f64) / (with.summary.bytes_read.max(1) as f64);
    println!(
        "ratio: {ratio:.0}x fewer bytes, {:.1}x less time per granule",
        without.seconds / with.seconds.max(1e-9)
    );
}

fn create_bucket(moto: &MotoServer) {
    moto.request("PUT", "/bench", None).unwrap();
}

/// Daily V4r4 granules from 1992-01-01: `time`, `time_bnds` (hours since the model start),
/// coverage attributes and a smooth SSH field.
fn write_granules(dir: &Path, count: usize) -> Vec<PathBuf> {
    let field: Vec<f32> = (0..13 * N * N)
        .map(|k| ((k % N) as f32 * 0.07).sin() + ((k / N % N) as f32 * 0.05).cos())
        .collect();
    let origin = chrono::NaiveDate::from_ymd_opt(1992, 1, 1)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    let mut files = Vec::with_capacity(count);
    for day in 0..count {
        let date =
            chrono::NaiveDate::from_ymd_opt(1992, 1, 1).unwrap() + chrono::Days::new(day as u64);
        let start = date.and_hms_opt(0, 0, 0).unwrap().max(origin);
        let end = date.and_hms_opt(0, 0, 0).unwrap() + chrono::TimeDelta::days(1);
        let hours = |t: chrono::NaiveDateTime| (t - origin).num_hours() as i32;
        let centre = start + (end - start) / 2;
        let name = format!(
            "SEA_SURFACE_HEIGHT_day_mean_{}_ECCO_V4r4_native_llc0090.nc",
            date.format("%Y-%m-%d")
        );
        let path = dir.join(&name);
        let mut file = netcdf::create(&path).unwrap();
        file.add_dimension("time", 1).unwrap();
        file.add_dimension("tile", 13).unwrap();
        file.add_dimension("j", N).unwrap();
        file.add_dimension("i", N).unwrap();
        file.add_dimension("nv", 2).unwrap();
        let mut time = file.add_variable::<i32>("time", &["time"]).unwrap();
        time.put_attribute("units", "hours since 1992-01-01 12:00:00")
            .unwrap();
        time.put_attribute("calendar", "proleptic_gregorian")
            .unwrap();
        time.put_values(&[hours(centre)], ..).unwrap();
        let mut bounds = file
            .add_variable::<i32>("time_bnds", &["time", "nv"])
            .unwrap();
        bounds.put_values(&[hours(start), hours(end)], ..).unwrap();
        let mut ssh = file
            .add_variable::<f32>("SSH", &["time", "tile", "j", "i"])
            .unwrap();
        ssh.set_chunking(&[1, 13, N, N]).unwrap();
        ssh.set_compression(5, true).unwrap();
        ssh.put_attribute("units", "m").unwrap();
        ssh.put_values(&field, ..).unwrap();
        let iso = |t: chrono::NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%S").to_string();
        file.add_attribute("time_coverage_start", iso(start))
            .unwrap();
        file.add_attribute("time_coverage_end", iso(end)).unwrap();
        file.add_attribute("title", "ECCO sea surface height (benchmark)")
            .unwrap();
        drop(file);
        files.push(path);
    }
    files
}

/// `{file name: {variable: (offset, length)}}` of `time` and `time_bnds`, from h5py.
/// Byte (offset, length) of each variable's data, per file.
type FileOffsets = BTreeMap<String, BTreeMap<String, (u64, u64)>>;

fn h5py_offsets(files: &[PathBuf]) -> Option<FileOffsets> {
    let python = std::env::var_os("EDP_PYTHON")?;
    let script = r#"
import h5py, json, sys, os
out = {}
for path in sys.argv[1:]:
    with h5py.File(path, "r") as f:
        entry = {}
        for name in ("time", "time_bnds"):
            d = f[name].id
            if d.get_create_plist().get_layout() == h5py.h5d.CHUNKED:
                info = d.get_chunk_info(0)
                entry[name] = [info.byte_offset, info.size]
            else:
                entry[name] = [d.get_offset(), d.get_storage_size()]
        out[os.path.basename(path)] = entry
print(json.dumps(out))
"#;
    let mut out = BTreeMap::new();
    for batch in files.chunks(200) {
        let output = std::process::Command::new(&python)
            .arg("-c")
            .arg(script)
            .args(batch)
            .output()
            .ok()?;
        if !output.status.success() {
            eprintln!("h5py: {}", String::from_utf8_lossy(&output.stderr));
            return None;
        }
        let parsed: BTreeMap<String, BTreeMap<String, (u64, u64)>> =
            serde_json::from_slice(&output.stdout).ok()?;
        out.extend(parsed);
    }
    Some(out)
}

/// The chunk index of a benchmark granule: structure and attributes from libnetcdf, the
/// byte ranges of `time` and `time_bnds` from h5py.
fn chunk_index(path: &Path, offsets: &BTreeMap<String, (u64, u64)>) -> ChunkIndex {
    let file = netcdf::open(path).unwrap();
    let attributes = file
        .attributes()
        .map(|a| {
            let value = match a.value().unwrap() {
                netcdf::AttributeValue::Str(s) => serde_json::Value::String(s),
                other => serde_json::Value::String(format!("{other:?}")),
            };
            (a.name().to_string(), value)
        })
        .collect();
    let variables = file
        .variables()
        .map(|v| {
            let name = v.name();
            let dims: Vec<String> = v.dimensions().iter().map(|d| d.name()).collect();
            let shape: Vec<u64> = v.dimensions().iter().map(|d| d.len() as u64).collect();
            let dtype = if name == "SSH" { "<f4" } else { "<i4" }.to_string();
            let attributes = v
                .attributes()
                .filter_map(|a| match a.value().ok()? {
                    netcdf::AttributeValue::Str(s) => {
                        Some((a.name().to_string(), serde_json::Value::String(s)))
                    }
                    _ => None,
                })
                .collect();
            let chunks = offsets
                .get(&name)
                .map(|(offset, length)| {
                    vec![StoredChunk {
                        index: vec![0; dims.len()],
                        offset: *offset,
                        length: *length,
                        inline: None,
                    }]
                })
                .unwrap_or_default();
            StoredVariable {
                chunk_shape: v
                    .chunking()
                    .unwrap()
                    .map(|c| c.iter().map(|x| *x as u64).collect()),
                name,
                dimensions: dims,
                shape,
                dtype,
                filters: Vec::new(),
                fill_value: None,
                attributes,
                chunks,
            }
        })
        .collect();
    ChunkIndex {
        attributes,
        variables,
    }
}
