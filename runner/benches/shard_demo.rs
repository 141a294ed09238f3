//! Benchmark program: the shard executor on the demo dataset (local folders), printing wall
//! time, granules per second, bytes written and the CPU utilisation
//! (user + system CPU time / (wall x cores)).
//!
//! ```text
//! cargo bench -p edp-runner --bench shard_demo            # LLC30, 50 levels
//! EDP_BENCH_N=90 EDP_BENCH_NZ=50 EDP_BENCH_JOBS=4 cargo bench -p edp-runner --bench shard_demo
//! ```
//!
//! The executor runs twice on the same plan: first producing every granule, then with every
//! granule done (the cost of the skip rule alone).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use edp_conventions::catalog::LoadOptions;
use edp_conventions::{Catalog, ProductionConfig};
use edp_demo_data::{DemoSpec, generate};
use edp_plan::builder::TaskLocations;
use edp_plan::planner::{PlanRequest, plan_run};
use edp_plan::roots::Root;
use edp_plan::sources::{grouping_counts, parse_jobs};
use edp_plan::state::read_shard;
use edp_runner::process::{CpuTimes, available_cores, cpu_utilisation};
use edp_runner::{NoObserver, WorkerOptions, run_shards};
use edp_store::Store;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let spec = DemoSpec {
        n: env("EDP_BENCH_N", 30),
        nz: env("EDP_BENCH_NZ", 50),
        ..DemoSpec::default()
    };
    let jobs = env("EDP_BENCH_JOBS", 0);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let demo = generate(dir.path().join("demo"), &spec).unwrap();
    println!(
        "demo LLC{} x {} levels generated in {:.2} s",
        spec.n,
        spec.nz,
        started.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Store::local_only();
        let catalog = Catalog::load(&demo.metadata_dir, &LoadOptions::default()).unwrap();
        let config = ProductionConfig::from_yaml_file(&demo.config_file).unwrap();
        let text = std::fs::read_to_string(&demo.jobfile).unwrap();
        let counts = grouping_counts(&catalog).unwrap();
        let loaded = parse_jobs("jobs", &text, &counts, &Default::default()).unwrap();
        let dest = dir.path().join("products").display().to_string();
        let mut request = PlanRequest::new(
            loaded.jobs,
            Root::parse(&demo.source_root.display().to_string()).unwrap(),
            Root::parse(&dest).unwrap(),
        );
        let path = |p: &std::path::Path| Some(p.display().to_string());
        request.locations = TaskLocations {
            cfg_loc: path(&demo.config_file),
            grid_loc: path(&demo.grid_dir),
            factors_loc: None,
            metadata_loc: path(&demo.metadata_dir),
        };
        let plan = plan_run(&store, &catalog, &config, &request).await.unwrap();
        let shards_dir = plan.shards_location.clone().unwrap();
        let mut shards = Vec::new();
        for index in 0..plan.shard_count {
            shards.push(read_shard(&store, &shards_dir, index).await.unwrap());
        }
        let mut options = WorkerOptions::new(Root::parse(&dest).unwrap(), plan.run_id.clone());
        options.concurrency = jobs;
        options.cache_dir = dir.path().join("cache");
        let cores = available_cores();
        println!(
            "{} granules in {} shard(s); {} in flight on {cores} core(s)",
            plan.tasks.len(),
            shards.len(),
            options.effective_concurrency()
        );
        for pass in ["produce", "skip (all done)"] {
            let cpu_before = CpuTimes::now();
            let wall = Instant::now();
            let outcome = run_shards(&store, &shards, &options, &NoObserver).await;
            let wall = wall.elapsed();
            let cpu = CpuTimes::now()
                .zip(cpu_before)
                .map(|(after, before)| after.since(&before).total())
                .unwrap_or_default();
            let counts = outcome.counts();
            let task_seconds: f64 = outcome.tasks.iter().map(|t| t.seconds).sum();
            println!(
                "{pass:<16} wall {:>7.3} s | {:>6.1} granules/s | {:>9.1} MB written | task seconds {:>7.3} | CPU {:>6.3} s = {:>4.0}% of {cores} core(s) | done {} skipped {} failed {}",
                wall.as_secs_f64(),
                outcome.tasks.len() as f64 / wall.as_secs_f64().max(1e-9),
                outcome.produced_bytes() as f64 / 1e6,
                task_seconds,
                cpu.as_secs_f64(),
                100.0 * cpu_utilisation(cpu, wall, cores),
                counts.done,
                counts.skipped,
                counts.failed
            );
        }
    });
}
