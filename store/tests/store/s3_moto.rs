//! The store's behaviours against the moto S3 emulator (skipped with a message when moto is
//! not installed outside CI).

use std::sync::Arc;

use edp_store::{ErrorKind, Location, PutOutcome};
use tokio::sync::Barrier;

use crate::support::{Moto, pattern};

#[tokio::test]
async fn put_get_head_exists_delete_round_trip() {
    let Some(moto) = Moto::start("roundtrip", |_| {}).await else {
        return;
    };
    let store = &moto.store;
    let loc = moto.loc("runs/r1/run.json");
    let data = b"{\"run\":1}".to_vec();

    assert_eq!(store.head(&loc).await.unwrap(), None);
    assert!(!store.exists(&loc).await.unwrap());
    let err = store.get(&loc).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains("s3://roundtrip/runs/r1/run.json"),
        "{err}"
    );
    assert!(err.to_string().contains("NoSuchKey"), "{err}");

    store.put(&loc, data.clone()).await.unwrap();
    assert_eq!(store.get(&loc).await.unwrap().as_ref(), data.as_slice());
    let meta = store.head(&loc).await.unwrap().unwrap();
    assert_eq!(meta.location, loc);
    assert_eq!(meta.size, data.len() as u64);
    assert!(meta.etag.is_some());
    assert!(meta.last_modified.is_some());
    assert!(store.exists(&loc).await.unwrap());
    // A listing reports the same size and tag as a head.
    let listed = store.list(&moto.loc("runs")).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].location, loc);
    assert_eq!(listed[0].size, meta.size);
    assert_eq!(listed[0].etag, meta.etag);

    // Overwrite, then delete (twice: deleting a missing key succeeds).
    store.put(&loc, "second").await.unwrap();
    assert_eq!(store.get(&loc).await.unwrap().as_ref(), b"second");
    store.delete(&loc).await.unwrap();
    store.delete(&loc).await.unwrap();
    assert!(!store.exists(&loc).await.unwrap());
}

#[tokio::test]
async fn put_if_absent_twice_creates_then_reports_existing() {
    let Some(moto) = Moto::start("claims", |_| {}).await else {
        return;
    };
    let loc = moto.loc("_edp/claims/t1.json");
    assert_eq!(
        moto.store.put_if_absent(&loc, "first").await.unwrap(),
        PutOutcome::Created
    );
    assert_eq!(
        moto.store.put_if_absent(&loc, "second").await.unwrap(),
        PutOutcome::AlreadyExists
    );
    assert_eq!(moto.store.get(&loc).await.unwrap().as_ref(), b"first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_put_if_absent_has_exactly_one_winner() {
    let Some(moto) = Moto::start("race", |_| {}).await else {
        return;
    };
    const WRITERS: usize = 8;
    for round in 0..10 {
        let loc = moto.loc(&format!("claims/{round}.json"));
        let barrier = Arc::new(Barrier::new(WRITERS));
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (store, loc, barrier) = (moto.store.clone(), loc.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    (
                        w,
                        store
                            .put_if_absent(&loc, format!("writer {w}"))
                            .await
                            .unwrap(),
                    )
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            let (w, outcome) = task.await.unwrap();
            if outcome == PutOutcome::Created {
                winners.push(w);
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let content = moto.store.get(&loc).await.unwrap();
        assert_eq!(
            content.as_ref(),
            format!("writer {}", winners[0]).as_bytes()
        );
    }
}

#[tokio::test]
async fn put_if_match_replaces_only_the_expected_version() {
    let Some(moto) = Moto::start("manifests", |_| {}).await else {
        return;
    };
    let store = &moto.store;
    let loc = moto.loc("m.json");

    let err = store.put_if_match(&loc, "x", "\"0\"").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed, "{err}");

    store.put(&loc, "v1").await.unwrap();
    let v1 = store.head(&loc).await.unwrap().unwrap().etag.unwrap();
    let v2 = store.put_if_match(&loc, "v2", &v1).await.unwrap();
    assert_eq!(store.get(&loc).await.unwrap().as_ref(), b"v2");
    assert_eq!(store.head(&loc).await.unwrap().unwrap().etag, v2);

    let err = store.put_if_match(&loc, "v3", &v1).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed, "{err}");
    assert!(!err.is_retryable());
    assert_eq!(store.get(&loc).await.unwrap().as_ref(), b"v2");
}

#[tokio::test]
async fn list_follows_pages_and_stays_inside_the_folder() {
    // A page size of 7 forces several ListObjectsV2 pages for 40 keys.
    let Some(moto) = Moto::start("listing", |c| c.list_page_size = Some(7)).await else {
        return;
    };
    let folder = moto.loc("granules");
    let mut expected = Vec::new();
    for i in 0..40 {
        let key = format!("g{:03}.nc", (i * 37) % 40);
        moto.store
            .put(&folder.join(&key), vec![b'x'; i])
            .await
            .unwrap();
        expected.push((key, i as u64));
    }
    // Neighbours that share the textual prefix but are not inside the folder.
    moto.store
        .put(&moto.loc("granules2/g.nc"), "n")
        .await
        .unwrap();
    moto.store.put(&moto.loc("granules.nc"), "n").await.unwrap();

    expected.sort();
    let listed = moto.store.list(&folder).await.unwrap();
    let got: Vec<(String, u64)> = listed
        .iter()
        .map(|m| (m.location.relative_to(&folder).unwrap(), m.size))
        .collect();
    assert_eq!(got, expected);
    assert!(
        moto.store
            .list(&moto.loc("nothing-here"))
            .await
            .unwrap()
            .is_empty()
    );
    // The bucket root lists everything.
    assert_eq!(
        moto.store
            .list(&Location::s3("listing", ""))
            .await
            .unwrap()
            .len(),
        42
    );
}

#[tokio::test]
async fn keys_with_spaces_and_special_characters_round_trip() {
    let Some(moto) = Moto::start("special", |_| {}).await else {
        return;
    };
    let folder = moto.loc("dir");
    let names = [
        "with space.nc",
        "plus+sign.nc",
        "percent%20literal.nc",
        "amp&eq=q?hash#.nc",
        "ünïcödé €.nc",
        "tilde~paren(1).nc",
        "sub dir/inner file.json",
    ];
    for (i, name) in names.iter().enumerate() {
        let loc = folder.join(name);
        moto.store.put(&loc, format!("{i}")).await.unwrap();
        assert_eq!(
            moto.store.get(&loc).await.unwrap().as_ref(),
            format!("{i}").as_bytes()
        );
        assert!(moto.store.exists(&loc).await.unwrap(), "{loc}");
    }
    let listed = moto.store.list(&folder).await.unwrap();
    let mut got: Vec<String> = listed
        .iter()
        .map(|m| m.location.relative_to(&folder).unwrap())
        .collect();
    got.sort();
    let mut expected: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(got, expected);
    // Listed locations are usable as they are.
    for meta in &listed {
        moto.store.delete(&meta.location).await.unwrap();
    }
    assert!(moto.store.list(&folder).await.unwrap().is_empty());
}

#[tokio::test]
async fn put_file_single_and_multipart_and_download_to() {
    // 5 MiB parts above 6 MiB: a 12 MiB + 123 byte file goes up in 3 parts.
    let Some(moto) = Moto::start("uploads", |c| {
        c.multipart_threshold = 6 * 1024 * 1024;
        c.part_size = 5 * 1024 * 1024;
    })
    .await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (name, len) in [
        ("small.bin", 100_000usize),
        ("big.bin", 12 * 1024 * 1024 + 123),
    ] {
        let data = pattern(len, len as u64);
        let src = dir.path().join(name);
        std::fs::write(&src, &data).unwrap();
        let loc = moto.loc(&format!("up/{name}"));
        moto.store.put_file(&loc, &src).await.unwrap();
        let meta = moto.store.head(&loc).await.unwrap().unwrap();
        assert_eq!(meta.size, len as u64);
        // S3 marks multipart ETags with the part count: "<md5 of part md5s>-<parts>".
        let etag = meta.etag.unwrap();
        let parts = len.div_ceil(5 * 1024 * 1024);
        if len > 6 * 1024 * 1024 {
            assert!(
                etag.ends_with(&format!("-{parts}\"")),
                "{name}: ETag {etag}"
            );
        } else {
            assert!(!etag.contains('-'), "{name}: ETag {etag}");
        }
        let back = moto.store.get(&loc).await.unwrap();
        assert!(back.as_ref() == data.as_slice(), "{name}: content differs");
        let range = moto.store.get_range(&loc, 1000..5000).await.unwrap();
        assert_eq!(range.as_ref(), &data[1000..5000]);

        let dest = dir.path().join("down").join(name);
        moto.store.download_to(&loc, &dest).await.unwrap();
        assert!(
            std::fs::read(&dest).unwrap() == data,
            "{name}: download differs"
        );
    }
    // No multipart upload is left behind.
    let uploads = moto
        .store
        .s3_client()
        .unwrap()
        .list_multipart_uploads()
        .bucket("uploads")
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty());
}

#[tokio::test]
async fn get_range_past_the_end_is_an_error() {
    let Some(moto) = Moto::start("ranges", |_| {}).await else {
        return;
    };
    let loc = moto.loc("r.bin");
    moto.store.put(&loc, pattern(100, 1)).await.unwrap();
    let err = moto.store.get_range(&loc, 90..120).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
    assert!(
        err.to_string().contains("expected 30 bytes, found 10"),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_bucket_is_permanent_not_retryable() {
    let Some(moto) = Moto::start("present", |_| {}).await else {
        return;
    };
    let loc = Location::parse("s3://absent-bucket/k").unwrap();
    let err = moto.store.get(&loc).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("NoSuchBucket"), "{err}");
    let err = moto.store.put(&loc, "x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
    let err = moto.store.list(&loc).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
}

/// Environment variable through which [`store_from_env_in_child_process`] hands the child
/// the location to write; the child half does nothing when it is absent.
const CHILD_LOCATION: &str = "EDP_STORE_TEST_FROM_ENV_LOCATION";

/// Child half of [`store_from_env_in_child_process`]: re-run by it with the emulator's
/// environment. (Run directly, without the variable, it has nothing to do.)
#[tokio::test]
async fn from_env_child_half() {
    let Ok(target) = std::env::var(CHILD_LOCATION) else {
        return;
    };
    let store = edp_store::Store::from_env().await.unwrap();
    let loc = Location::parse(&target).unwrap();
    store.put(&loc, "written by Store::from_env").await.unwrap();
    assert_eq!(
        store.put_if_absent(&loc, "again").await.unwrap(),
        PutOutcome::AlreadyExists
    );
}

/// `Store::from_env` reaches the emulator through environment settings only — exactly
/// `MotoServer::env_vars()`, as the real binaries get them. The environment cannot be changed
/// inside this process (that needs `unsafe`), so this test re-runs its own binary, filtered
/// to the child half above, with that environment.
#[tokio::test]
async fn store_from_env_in_child_process() {
    let Some(moto) = Moto::start("fromenv", |_| {}).await else {
        return;
    };
    let loc = moto.loc("via env/obj.json");
    let env = moto.server.env_vars();
    let output = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["s3_moto::from_env_child_half", "--exact", "--nocapture"])
        .envs(env)
        // Keep the developer's AWS profile files out of the child.
        .env("AWS_CONFIG_FILE", "/nonexistent/edp-test-aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/edp-test-aws-credentials",
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env(CHILD_LOCATION, loc.to_string())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child half did not run: {stdout}"
    );
    assert_eq!(
        moto.store.get(&loc).await.unwrap().as_ref(),
        b"written by Store::from_env"
    );
}
