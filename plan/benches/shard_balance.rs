//! Benchmark program (not a test): LPT shard balancing and task-list writing at production
//! scale. Prints figures; never fails on timing.
//!
//! `cargo bench -p edp-plan --bench shard_balance`

use std::time::Instant;

use edp_plan::cost::CostModel;
use edp_plan::shard::{balance, split_into_shards};
use edp_plan::tasklist::{EdpKey, to_python_json};
use edp_task_schemas::{Dimension, DynamicMetadata, InputPair, ShardSizing, Task};
use indexmap::IndexMap;

fn synthetic_task(i: usize) -> Task {
    let three_d = i.is_multiple_of(3);
    let product = if i.is_multiple_of(2) {
        "native_llc0090"
    } else {
        "latlon_0p50deg"
    };
    let mut variables = IndexMap::new();
    for v in 0..(1 + i % 4) {
        let stem = format!(
            "src/diags_daily/V{v}_day_mean/V{v}_day_mean.{:010}",
            12 + 24 * i
        );
        variables.insert(
            format!("V{v}"),
            vec![InputPair::new(
                format!("{stem}.data"),
                format!("{stem}.meta"),
            )],
        );
    }
    Task {
        granule: format!(
            "out/G_day_mean_1992-01-{:02}_ECCO_V4r4_{product}.nc",
            1 + i % 28
        ),
        variables,
        ecco_cfg_loc: Some("config_V4r4.yaml".into()),
        ecco_grid_loc: Some("grid".into()),
        ecco_mapping_factors_loc: Some("factors".into()),
        ecco_metadata_loc: Some("metadata".into()),
        dynamic_metadata: DynamicMetadata {
            name: "synthetic".into(),
            dimension: if three_d {
                Dimension::ThreeD
            } else {
                Dimension::TwoD
            },
            time_coverage_start: "1992-01-01T12:00:00".into(),
            time_coverage_end: "1992-01-02T00:00:00".into(),
            time_coverage_center: "1992-01-01T18:00:00".into(),
            time_long_name: "center time of averaging period".into(),
            time_coverage_duration: "P1D".into(),
            time_coverage_resolution: "P1D".into(),
            comment: None,
            field_components: None,
            field_orientations: None,
            summary: "This dataset contains daily-averaged synthetic fields.".into(),
        },
        input_netcdf: None,
        strip_attributes: None,
        edp: None,
    }
}

fn main() {
    let model = CostModel::default();

    // Pure LPT on 1e6 items into 10 000 shards (the Batch array limit).
    let keys: Vec<String> = (0..1_000_000).map(|i| format!("{i:064x}")).collect();
    let items: Vec<(f64, &str)> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| (((i * 7919) % 1000) as f64 / 100.0 + 0.05, key.as_str()))
        .collect();
    let start = Instant::now();
    let bins = balance(&items, 10_000);
    let elapsed = start.elapsed();
    let loads: Vec<f64> = bins
        .iter()
        .map(|bin| bin.iter().map(|&i| items[i].0).sum())
        .collect();
    let max = loads.iter().cloned().fold(f64::MIN, f64::max);
    let mean = loads.iter().sum::<f64>() / loads.len() as f64;
    println!(
        "balance: 1000000 items -> {} shards in {:.3} s; max/mean load = {:.5}",
        bins.len(),
        elapsed.as_secs_f64(),
        max / mean
    );

    // Full split of 100 000 tasks (cost estimate + task id per task) by target seconds.
    let tasks: Vec<Task> = (0..100_000).map(synthetic_task).collect();
    let start = Instant::now();
    let shards = split_into_shards(
        "bench",
        tasks.clone(),
        ShardSizing::TargetSeconds(600.0),
        10_000,
        &model,
    );
    let elapsed = start.elapsed();
    match shards {
        Ok(shards) => println!(
            "split_into_shards: 100000 tasks -> {} shards (target 600 s) in {:.3} s",
            shards.len(),
            elapsed.as_secs_f64()
        ),
        Err(err) => println!("split_into_shards failed: {err}"),
    }

    // Python-compatible writing of the same 100 000 tasks.
    let start = Instant::now();
    match to_python_json(&tasks, EdpKey::Strip) {
        Ok(text) => println!(
            "to_python_json: 100000 tasks, {:.1} MB in {:.3} s ({:.0} MB/s)",
            text.len() as f64 / 1e6,
            start.elapsed().as_secs_f64(),
            text.len() as f64 / 1e6 / start.elapsed().as_secs_f64()
        ),
        Err(err) => println!("to_python_json failed: {err}"),
    }
}
