//! NOT YET WIRED: add `mod datasets;` to main.rs once compiled and run (see the h15 report).
//! The dataset level on S3 (moto): `edp check` reads the granules of a dataset in a bucket and
//! finds a duplicate by name, `edp publish` copies server-side with the copies' SHA-256 and a
//! strict mapfile, refuses an unchecked dataset, and `edp datasets --html` writes the page and
//! quicklooks into the bucket.

use std::process::Command;

use edp_datasets::mapfile;
use edp_store::Location;
use sha2::Digest;

use super::cloud::{Cloud, DEST_BUCKET, demo};
use super::worker::{aws_command, edp_exe};

fn run(mut command: Command) -> (i32, String, String) {
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_publish_datasets_in_a_bucket() {
    let Some(cloud) = Cloud::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let layout = demo(&dir.path().join("demo"));
    let products = dir.path().join("products");
    let path = |p: &std::path::Path| p.display().to_string();
    let mut local_run = Command::new(edp_exe());
    local_run.args([
        "run",
        "--jobfile",
        &path(&layout.jobfile),
        "--source",
        &path(&layout.source_root),
        "--dest",
        &path(&products),
        "--metadata",
        &path(&layout.metadata_dir),
        "--grid",
        &path(&layout.grid_dir),
        "--config",
        &path(&layout.config_file),
        "--no-progress",
    ]);
    let (code, stdout, stderr) = run(local_run);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let dest = Location::s3(DEST_BUCKET, "copied");
    cloud.upload_dir(&products, &dest).await;

    let endpoint = cloud.moto.endpoint();
    let edp = |args: &[&str]| {
        let mut command = aws_command(edp_exe(), &endpoint);
        command
            .args(args)
            .env("EDP_CACHE_DIR", dir.path().join("cache"));
        run(command)
    };
    let dest_text = dest.to_string();
    let statuses = edp_datasets::list_statuses(&cloud.store, &edp_plan::state::Layout::new(&dest))
        .await
        .unwrap();
    let monthly: Vec<String> = statuses
        .iter()
        .map(|s| s.dataset.clone())
        .filter(|d| d.contains("/native/mon_mean/"))
        .collect();
    assert!(monthly.len() >= 2, "{monthly:?}");
    let (dataset, unchecked) = (&monthly[0], &monthly[1]);

    // Headers only on S3 by default: passes, publishable.
    let (code, stdout, stderr) = edp(&[
        "check",
        "--dest",
        &dest_text,
        "--dataset",
        dataset,
        "--json",
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let results: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(results[0]["state"], "publishable", "{stdout}");
    assert!(results[0]["granules"].as_u64().unwrap() >= 2);

    // An unchecked dataset is refused.
    let target = Location::s3(DEST_BUCKET, "published");
    let target_text = target.to_string();
    let (code, stdout, stderr) = edp(&[
        "publish",
        "--dest",
        &dest_text,
        "--dataset",
        unchecked,
        "--to",
        &target_text,
    ]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("refused"), "{stderr}");

    // The checked one is copied server-side; the copies match the mapfile.
    let (code, stdout, stderr) = edp(&[
        "publish",
        "--dest",
        &dest_text,
        "--dataset",
        dataset,
        "--to",
        &target_text,
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let granules = results[0]["granules"].as_u64().unwrap();
    assert!(
        stdout.contains(&format!("{granules} copied server-side")),
        "{stdout}"
    );
    let id = edp_datasets::DatasetId::parse(dataset).unwrap();
    let current = target.join(&format!("{dataset}/{}.map", id.esgf_id()));
    let text = String::from_utf8(cloud.store.get(&current).await.unwrap().to_vec()).unwrap();
    let lines = mapfile::parse(&text).unwrap();
    assert_eq!(lines.len() as u64, granules);
    for line in &lines {
        let copy = cloud
            .store
            .get(&Location::parse(&line.path).unwrap())
            .await
            .unwrap();
        assert_eq!(hex::encode(sha2::Sha256::digest(&copy)), line.checksum);
        assert_eq!(copy.len() as u64, line.size);
    }

    // A copy of the first granule under the next free month's name: a duplicate, by name.
    let listing = cloud.store.list(&dest.join(dataset)).await.unwrap();
    let first = &listing[0].location;
    let last = &listing[listing.len() - 1].location;
    let last_name = last.file_name().unwrap().to_string();
    let month = last_name
        .split('_')
        .find(|p| p.len() == 7 && p.as_bytes()[4] == b'-')
        .unwrap()
        .to_string();
    let next = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .unwrap()
        .checked_add_months(chrono::Months::new(1))
        .unwrap()
        .format("%Y-%m")
        .to_string();
    let copy_name = last_name.replace(&month, &next);
    let bytes = cloud.store.get(first).await.unwrap();
    cloud
        .store
        .put(&dest.join(&format!("{dataset}/{copy_name}")), bytes)
        .await
        .unwrap();
    let (code, stdout, stderr) = edp(&[
        "check",
        "--dest",
        &dest_text,
        "--dataset",
        dataset,
        "--json",
        "--no-record",
    ]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let results: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let problems = results[0]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["kind"] == "duplicate" && p["granule"] == copy_name.as_str()),
        "{problems:#?}"
    );

    // The page and quicklooks land in the bucket.
    let (code, stdout, stderr) = edp(&["datasets", "--dest", &dest_text, "--html"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("published"), "{stdout}");
    let report = dest.join("_edp/report");
    assert!(
        cloud
            .store
            .exists(&report.join("index.html"))
            .await
            .unwrap()
    );
    let png = report.join(&format!("quicklooks/{}.png", id.slug()));
    let png = cloud.store.get(&png).await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}
