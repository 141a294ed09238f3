//! Listing speed against the moto emulator: uploads N small objects (default 10,000;
//! `EDP_BENCH_KEYS` to change) and times `Store::list` of their folder with the default
//! 1000-key pages and with 100-key pages. Prints figures; never fails on time.
//!
//! Run: `cargo bench -p edp-store --bench list_moto` (or, without a release build,
//! `cargo test -p edp-store --bench list_moto`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use edp_store::{Location, StaticCredentials, Store, StoreConfig};
use edp_testkit::MotoServer;
use edp_testkit::moto::{MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY};
use futures::StreamExt;

fn config(endpoint: String, page: Option<i32>) -> StoreConfig {
    StoreConfig {
        endpoint_url: Some(endpoint),
        region: Some(MOTO_REGION.to_string()),
        credentials: Some(StaticCredentials {
            access_key_id: MOTO_ACCESS_KEY_ID.to_string(),
            secret_access_key: MOTO_SECRET_ACCESS_KEY.to_string(),
            session_token: None,
        }),
        force_path_style: true,
        list_page_size: page,
        ..StoreConfig::default()
    }
}

fn main() {
    let keys: usize = std::env::var("EDP_BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let Some(server) = MotoServer::start_or_skip() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Store::from_config(config(server.endpoint(), None)).await;
        store
            .s3_client()
            .unwrap()
            .create_bucket()
            .bucket("bench")
            .send()
            .await
            .unwrap();
        let folder = Location::s3("bench", "granules");

        let start = Instant::now();
        futures::stream::iter(0..keys)
            .map(|i| {
                let (store, loc) = (store.clone(), folder.join(&format!("g{i:06}.nc")));
                async move { store.put(&loc, "x").await.unwrap() }
            })
            .buffer_unordered(32)
            .collect::<Vec<()>>()
            .await;
        let upload = start.elapsed();
        println!(
            "uploaded {keys} objects in {:.2} s ({:.0} puts/s, 32 in flight)",
            upload.as_secs_f64(),
            keys as f64 / upload.as_secs_f64()
        );

        for page in [None, Some(100)] {
            let store = Store::from_config(config(server.endpoint(), page)).await;
            let mut best = Duration::MAX;
            for _ in 0..3 {
                let start = Instant::now();
                let listed = store.list(&folder).await.unwrap();
                best = best.min(start.elapsed());
                assert_eq!(listed.len(), keys);
            }
            let page_keys = page.unwrap_or(1000) as usize;
            println!(
                "list {keys} keys, {page_keys}-key pages ({} requests): best of 3 {:.3} s \
                 ({:.0} keys/s, {:.1} ms per page)",
                keys.div_ceil(page_keys),
                best.as_secs_f64(),
                keys as f64 / best.as_secs_f64(),
                best.as_secs_f64() * 1000.0 / keys.div_ceil(page_keys) as f64
            );
        }
    });
}
