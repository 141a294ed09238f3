//! Benchmark program (not a timed test): how long the planner-side work of this crate takes.
//! Prints figures; run with `cargo bench -p edp-conventions --bench catalog`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::Instant;

use chrono::NaiveDate;
use edp_conventions::attrs::{GranuleContext, dynamic_metadata, global_attributes};
use edp_conventions::naming::granule_file_name;
use edp_conventions::{Catalog, Frequency, LoadOptions, ProductType, ProductionConfig};

fn main() {
    let Some(dir) = edp_testkit::v4r4_metadata_dir() else {
        println!("shared data absent: nothing measured");
        return;
    };
    let config = ProductionConfig::v4r4();

    let runs = 20;
    let t = Instant::now();
    for _ in 0..runs {
        Catalog::load(&dir, &LoadOptions::default()).unwrap();
    }
    let load_ms = t.elapsed().as_secs_f64() * 1e3 / f64::from(runs);
    println!("catalog load (V4r4, 19 files): {load_ms:.2} ms");

    let catalog = Catalog::load(&dir, &LoadOptions::default()).unwrap();
    let t = Instant::now();
    let mut datasets = Vec::new();
    for _ in 0..runs {
        datasets.clear();
        for product in ProductType::ALL {
            let n = catalog.groupings(product).unwrap().len();
            for id in 0..n {
                datasets.push(
                    catalog
                        .dataset(product, i64::try_from(id).unwrap())
                        .unwrap(),
                );
            }
        }
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / f64::from(runs) / datasets.len() as f64;
    println!(
        "dataset resolution: {per:.1} us per grouping ({} groupings)",
        datasets.len()
    );

    let end = config.clock.end_step().unwrap();
    let t = Instant::now();
    let mut count = 0u64;
    for ts in (12..=end).step_by(24).chain([end]) {
        let p = config.clock.period(Frequency::AvgDay, ts).unwrap();
        std::hint::black_box(granule_file_name(
            "X",
            &p,
            "V4r4",
            ProductType::Native,
            "llc0090",
        ));
        count += 1;
    }
    let per = t.elapsed().as_secs_f64() * 1e9 / count as f64;
    println!("daily period + granule name: {per:.0} ns each ({count} records)");

    let created = NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let t = Instant::now();
    let mut granules = 0u32;
    for dataset in datasets.iter().filter(|d| d.supports(Frequency::AvgMon)) {
        let period = config.clock.period(Frequency::AvgMon, 732).unwrap();
        let dynamic = dynamic_metadata(dataset, &period, &config);
        let name = granule_file_name(
            &dataset.filename,
            &period,
            &config.ecco_version,
            dataset.product,
            config.grid_label(dataset.product),
        );
        let variables: Vec<String> = dataset
            .output_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let ctx = GranuleContext {
            product: dataset.product,
            frequency: Frequency::AvgMon,
            product_name: &name,
            dynamic: &dynamic,
            variables: &variables,
            date_created: created,
            uuid: "00000000-0000-4000-8000-000000000000",
        };
        std::hint::black_box(global_attributes(&catalog, &config, &ctx).unwrap());
        granules += 1;
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / f64::from(granules);
    println!("global attributes: {per:.1} us per granule ({granules} monthly datasets)");
}
