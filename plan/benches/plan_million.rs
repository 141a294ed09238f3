//! Planning at scale: a synthetic listing of about 1,000,000 input objects (V4r4-like daily
//! means of the 55 diagnostics of the ten 2-D native groupings, 9,497 days each, `.data` +
//! `.meta`) -> inventory -> tasks (ten `AVG_DAY` jobs, 94,970 granules) -> cost-balanced shards
//! -> serialised shards and task list.
//!
//! Prints seconds per stage and the process's resident memory (VmRSS now, VmHWM peak, from
//! `/proc/self/status`). Goals: <= 30 s and <= 1 GB for listing -> shards. Needs the V4r4
//! metadata (`edp_testkit::v4r4_metadata_dir`); prints SKIPPED without it.
//!
//! Run: `cargo bench -p edp-plan --bench plan_million` (add `-- --latlon` to also plan the
//! nine 2-D lat-lon groupings from the same inputs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::time::Instant;

use edp_conventions::catalog::LoadOptions;
use edp_conventions::{Catalog, ProductionConfig};
use edp_plan::builder::{BuildOptions, TaskLocations, build_tasks};
use edp_plan::cost::CostModel;
use edp_plan::inventory::{Inventory, InventoryOptions};
use edp_plan::roots::Root;
use edp_plan::shard::split_into_shards;
use edp_plan::task_output::write_python_task_list;
use edp_plan::tasklist::EdpKey;
use edp_store::{Location, ObjectMeta};
use edp_task_schemas::{Frequency, Job, ProductType, ShardSizing, TimeSteps};
use sha2::{Digest, Sha256};

const BUCKET: &str = "ecco-model-granules";
/// Daily means of V4r4 (`docs/time-axis.md` 1): ts = 12 + 24 n for n < 9496 (up to 227892 =
/// 2017-12-31T00), plus the final partial record at 227904: 9,497 records.
const REGULAR_DAYS: u64 = 9496;
const LAST_STEP: u64 = 227_904;
const DAYS: u64 = REGULAR_DAYS + 1;
/// Size of a 2-D LLC90 float32 field.
const DATA_BYTES: u64 = 421_200;
const META_BYTES: u64 = 312;

fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "?".to_string())
    };
    format!("VmRSS {}, VmHWM {}", field("VmRSS:"), field("VmHWM:"))
}

fn main() {
    let latlon = std::env::args().any(|a| a == "--latlon");
    let Some(metadata) = edp_testkit::v4r4_metadata_dir() else {
        println!("SKIPPED: no V4r4 metadata");
        return;
    };
    let catalog = Catalog::load(&metadata, &LoadOptions::default()).unwrap();
    let config = ProductionConfig::v4r4();

    // The diagnostics of the 2-D native groupings 0..=9 (all have AVG_DAY).
    let native_ids: Vec<u32> = (0..=9).collect();
    let mut variables: Vec<String> = Vec::new();
    for id in &native_ids {
        let dataset = catalog
            .dataset(ProductType::Native, i64::from(*id))
            .unwrap();
        for name in dataset.input_names() {
            if !variables.iter().any(|v| v == name) {
                variables.push(name.to_string());
            }
        }
    }
    let mut jobs: Vec<Job> = native_ids
        .iter()
        .map(|id| Job {
            grouping_id: *id,
            product_type: ProductType::Native,
            frequency: Frequency::AvgDay,
            time_steps: TimeSteps::All,
        })
        .collect();
    if latlon {
        jobs.extend((0..=8).map(|id| Job {
            grouping_id: id,
            product_type: ProductType::Latlon,
            frequency: Frequency::AvgDay,
            time_steps: TimeSteps::All,
        }));
    }
    let objects = variables.len() as u64 * DAYS * 2;
    println!(
        "synthetic listing: {} diagnostics x {DAYS} days x 2 files = {objects} objects; {} jobs",
        variables.len(),
        jobs.len()
    );
    println!("start: {}", memory());

    // The listing is generated lazily, in key order, as S3 would return it.
    let listing = variables.iter().flat_map(|variable| {
        (0..REGULAR_DAYS)
            .map(|n| 12 + 24 * n)
            .chain([LAST_STEP])
            .flat_map(move |step| {
                ["data", "meta"].into_iter().map(move |ext| {
                    let key = format!(
                        "V4r4/diags_daily/{variable}_day_mean/{variable}_day_mean.{step:010}.{ext}"
                    );
                    let etag =
                        format!("\"{}\"", hex::encode(&Sha256::digest(key.as_bytes())[..16]));
                    ObjectMeta {
                        location: Location::s3(BUCKET, &key),
                        size: if ext == "data" {
                            DATA_BYTES
                        } else {
                            META_BYTES
                        },
                        etag: Some(etag),
                        last_modified: None,
                    }
                })
            })
    });
    let root = Root::parse(&format!("s3://{BUCKET}/V4r4")).unwrap();

    let total = Instant::now();
    let t = Instant::now();
    let inventory =
        Inventory::build(root, listing, &InventoryOptions::for_config(&config)).unwrap();
    let inventory_s = t.elapsed().as_secs_f64();
    println!(
        "inventory: {:.2} s, {} files, {} pairs; {}",
        inventory_s,
        inventory.len(),
        inventory.stats().pairs,
        memory()
    );

    let t = Instant::now();
    let options = BuildOptions {
        dest_root: "s3://ecco-products/V4r4-products".to_string(),
        locations: TaskLocations {
            cfg_loc: Some("s3://ecco-config/config_V4r4.yaml".to_string()),
            grid_loc: Some("s3://ecco-grids/V4r4".to_string()),
            factors_loc: Some("s3://ecco-factors/V4r4".to_string()),
            metadata_loc: Some("s3://ecco-metadata/V4r4".to_string()),
        },
        allow_partial: false,
        cost_model: CostModel::default(),
        config_hash: config.config_hash(),
    };
    let built = build_tasks(&jobs, &catalog, &config, &inventory, &options).unwrap();
    let build_s = t.elapsed().as_secs_f64();
    let task_count = built.tasks.len();
    println!(
        "tasks: {:.2} s, {} tasks, {} incomplete, {} warnings; {}",
        build_s,
        task_count,
        built.incomplete.len(),
        built.warnings.len(),
        memory()
    );

    let t = Instant::now();
    let shards = split_into_shards(
        "20261121T101500Z-00000000",
        built.tasks,
        ShardSizing::TargetSeconds(3600.0),
        10_000,
        &CostModel::default(),
    )
    .unwrap();
    let shard_s = t.elapsed().as_secs_f64();
    let loads: Vec<f64> = shards
        .iter()
        .map(|s| {
            s.tasks
                .iter()
                .map(|t| t.edp.as_ref().unwrap().cost_core_seconds)
                .sum()
        })
        .collect();
    let max = loads.iter().cloned().fold(0.0, f64::max);
    let min = loads.iter().cloned().fold(f64::INFINITY, f64::min);
    println!(
        "shards: {:.2} s, {} shards, load {:.0}..{:.0} core-s; {}",
        shard_s,
        shards.len(),
        min,
        max,
        memory()
    );
    let planning_s = total.elapsed().as_secs_f64();
    println!(
        "listing -> shards: {planning_s:.2} s for {objects} objects ({:.0} objects/s); peak {}",
        objects as f64 / planning_s,
        memory()
    );

    // What plan_run writes next: every shard (compact JSON, one at a time) and the task list.
    let t = Instant::now();
    let mut shard_bytes = 0usize;
    for shard in &shards {
        shard_bytes += serde_json::to_vec(shard).unwrap().len();
    }
    println!(
        "shard JSON: {:.2} s, {:.1} MB in {} files; {}",
        t.elapsed().as_secs_f64(),
        shard_bytes as f64 / 1e6,
        shards.len(),
        memory()
    );
    let mut tasks: Vec<_> = shards.into_iter().flat_map(|s| s.tasks).collect();
    tasks.sort_by(|a, b| a.granule.cmp(&b.granule));
    // Streamed as plan_run and `edp plan --outfile` write it (one task at a time).
    let t = Instant::now();
    let file = tempfile::NamedTempFile::new().unwrap();
    {
        let mut writer = std::io::BufWriter::with_capacity(1 << 20, file.as_file());
        write_python_task_list(&tasks, EdpKey::Keep, &mut writer, "temp file").unwrap();
        writer.flush().unwrap();
    }
    let bytes = file.as_file().metadata().unwrap().len();
    println!(
        "task list JSON (indent 4, streamed to a file): {:.2} s, {:.1} MB; {}",
        t.elapsed().as_secs_f64(),
        bytes as f64 / 1e6,
        memory()
    );
    println!(
        "goals: listing -> shards <= 30 s: {}; peak <= 1 GB: see VmHWM above",
        if planning_s <= 30.0 { "met" } else { "MISSED" }
    );
    assert_eq!(task_count, tasks.len());
}
