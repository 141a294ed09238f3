//! Local-folder semantics.

use std::path::Path;
use std::sync::Arc;

use edp_store::{ErrorKind, Location, PutOutcome, Store};
use tokio::sync::Barrier;

use crate::support::pattern;

fn root(dir: &tempfile::TempDir) -> Location {
    Location::local(dir.path()).unwrap()
}

/// Every file name below `dir`, recursively (hidden temporaries included), as a sorted list.
fn all_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn put_get_head_list_delete_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local_only();
    let loc = root(&dir).join("a/b/record.json");
    let data = b"{\"ok\":true}".to_vec();

    assert_eq!(store.head(&loc).await.unwrap(), None);
    assert!(!store.exists(&loc).await.unwrap());
    store.put(&loc, data.clone()).await.unwrap();

    assert_eq!(
        std::fs::read(dir.path().join("a/b/record.json")).unwrap(),
        data
    );
    assert_eq!(store.get(&loc).await.unwrap().as_ref(), data.as_slice());
    let meta = store.head(&loc).await.unwrap().unwrap();
    assert_eq!(meta.location, loc);
    assert_eq!(meta.size, data.len() as u64);
    assert!(meta.etag.is_some());
    assert!(meta.last_modified.is_some());
    assert_eq!(store.list(&root(&dir)).await.unwrap(), vec![meta]);

    store.delete(&loc).await.unwrap();
    assert!(!dir.path().join("a/b/record.json").exists());
    let err = store.get(&loc).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("record.json"), "{err}");
    // Deleting a missing object succeeds, as on S3.
    store.delete(&loc).await.unwrap();
}

#[tokio::test]
async fn a_directory_is_not_an_object() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local_only();
    store.put(&root(&dir).join("sub/x"), "x").await.unwrap();
    assert_eq!(store.head(&root(&dir).join("sub")).await.unwrap(), None);
    assert_eq!(store.head(&root(&dir).join("sub/x/y")).await.unwrap(), None);
}

#[tokio::test]
async fn failed_put_file_leaves_no_object_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local_only();
    let target = root(&dir).join("out/granule.nc");
    // Opening a directory succeeds but reading it fails: the copy fails mid-way, after the
    // temporary file was created.
    let source_dir = tempfile::tempdir().unwrap();
    let err = store
        .put_file(&target, source_dir.path())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains("granule.nc"), "{err}");
    assert_eq!(all_files(dir.path()), Vec::<String>::new());

    // A failed replacement keeps the previous content intact.
    store.put(&target, "previous").await.unwrap();
    store
        .put_file(&target, source_dir.path())
        .await
        .unwrap_err();
    assert_eq!(store.get(&target).await.unwrap().as_ref(), b"previous");
    assert_eq!(all_files(dir.path()), vec!["out/granule.nc".to_string()]);
}

#[tokio::test]
async fn put_file_and_download_to_copy_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local_only();
    let data = pattern(300_000, 7);
    let src = dir.path().join("src.bin");
    std::fs::write(&src, &data).unwrap();
    let obj = root(&dir).join("objects/copy.bin");
    store.put_file(&obj, &src).await.unwrap();
    assert_eq!(store.get(&obj).await.unwrap().as_ref(), data.as_slice());

    let dest = dir.path().join("downloads/nested/back.bin");
    store.download_to(&obj, &dest).await.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), data);

    let missing = root(&dir).join("objects/missing.bin");
    let err = store.download_to(&missing, &dest).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    // The earlier download is untouched.
    assert_eq!(std::fs::read(&dest).unwrap(), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_see_a_partial_object() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local_only();
    let loc = root(&dir).join("flip.bin");
    const LEN: usize = 2 * 1024 * 1024;
    store.put(&loc, vec![b'a'; LEN]).await.unwrap();

    let writer = {
        let (store, loc) = (store.clone(), loc.clone());
        tokio::spawn(async move {
            for i in 0..40 {
                let byte = if i % 2 == 0 { b'b' } else { b'a' };
                store.put(&loc, vec![byte; LEN]).await.unwrap();
            }
        })
    };
    let mut reads = 0;
    while !writer.is_finished() {
        let data = store.get(&loc).await.unwrap();
        assert_eq!(data.len(), LEN, "a reader saw a partial object");
        let first = data[0];
        assert!(
            data.iter().all(|&b| b == first),
            "a reader saw mixed content"
        );
        reads += 1;
    }
    writer.await.unwrap();
    assert!(reads > 0);
    assert_eq!(all_files(dir.path()), vec!["flip.bin".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn put_if_absent_race_has_exactly_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local_only();
    const WRITERS: usize = 8;
    for round in 0..20 {
        let loc = root(&dir).join(&format!("claims/task-{round}.json"));
        let barrier = Arc::new(Barrier::new(WRITERS));
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (store, loc, barrier) = (store.clone(), loc.clone(), barrier.clone());
                tokio::spawn(async move {
                    let body = format!("writer {w} of round {round}");
                    barrier.wait().await;
                    (w, store.put_if_absent(&loc, body).await.unwrap())
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
        let content = store.get(&loc).await.unwrap();
        assert_eq!(
            content.as_ref(),
            format!("writer {} of round {round}", winners[0]).as_bytes()
        );
    }
    // No temporary file survives a lost race.
    assert_eq!(all_files(&dir.path().join("claims")).len(), 20);
}

#[tokio::test]
async fn put_if_absent_twice_creates_then_reports_existing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local_only();
    let loc = root(&dir).join("claim.json");
    assert_eq!(
        store.put_if_absent(&loc, "first").await.unwrap(),
        PutOutcome::Created
    );
    assert_eq!(
        store.put_if_absent(&loc, "second").await.unwrap(),
        PutOutcome::AlreadyExists
    );
    assert_eq!(store.get(&loc).await.unwrap().as_ref(), b"first");
}

#[tokio::test]
async fn put_if_match_replaces_only_the_expected_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local_only();
    let loc = root(&dir).join("manifest.json");

    let err = store.put_if_match(&loc, "x", "nope").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed);

    store.put(&loc, "v1").await.unwrap();
    let v1 = store.head(&loc).await.unwrap().unwrap().etag.unwrap();
    let v2 = store.put_if_match(&loc, "v2", &v1).await.unwrap().unwrap();
    assert_eq!(store.get(&loc).await.unwrap().as_ref(), b"v2");
    assert_eq!(store.head(&loc).await.unwrap().unwrap().etag.unwrap(), v2);

    // The old tag no longer matches.
    let err = store.put_if_match(&loc, "v3", &v1).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed);
    assert!(
        err.to_string().contains(&v1) && err.to_string().contains(&v2),
        "{err}"
    );
    assert_eq!(store.get(&loc).await.unwrap().as_ref(), b"v2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_put_if_match_on_one_version_has_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local_only();
    const WRITERS: usize = 8;
    for round in 0..10 {
        let loc = root(&dir).join(&format!("m{round}.json"));
        store.put(&loc, "base").await.unwrap();
        let etag = store.head(&loc).await.unwrap().unwrap().etag.unwrap();
        let barrier = Arc::new(Barrier::new(WRITERS));
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (store, loc, barrier, etag) =
                    (store.clone(), loc.clone(), barrier.clone(), etag.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    (w, store.put_if_match(&loc, format!("w{w}"), &etag).await)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                (w, Ok(_)) => winners.push(w),
                (_, Err(e)) => assert_eq!(e.kind(), ErrorKind::PreconditionFailed, "{e}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let content = store.get(&loc).await.unwrap();
        assert_eq!(content.as_ref(), format!("w{}", winners[0]).as_bytes());
    }
}

#[tokio::test]
async fn list_is_recursive_sorted_like_s3_and_skips_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local_only();
    let base = root(&dir).join("prefix");
    // '-' (0x2d) sorts before '/' (0x2f): S3 lists "a-b" before "a/b", a path-component sort
    // would not.
    let keys = ["z.nc", "a/b", "a-b", "a/c/d e.nc", "b+c%20.json"];
    for (i, key) in keys.iter().enumerate() {
        store
            .put(&base.join(key), pattern(i + 1, i as u64))
            .await
            .unwrap();
    }
    // Outside the prefix, and an in-flight temporary file inside it.
    store.put(&root(&dir).join("prefix2/x"), "x").await.unwrap();
    std::fs::write(dir.path().join("prefix/.z.nc.abc123.edp-tmp"), "partial").unwrap();

    let listed = store.list(&base).await.unwrap();
    let mut expected: Vec<&str> = keys.to_vec();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let got: Vec<String> = listed
        .iter()
        .map(|m| m.location.relative_to(&base).unwrap())
        .collect();
    assert_eq!(got, expected);
    for meta in &listed {
        let i = keys
            .iter()
            .position(|k| *k == meta.location.relative_to(&base).unwrap())
            .unwrap();
        assert_eq!(meta.size, (i + 1) as u64);
    }
    assert!(
        store
            .list(&root(&dir).join("missing"))
            .await
            .unwrap()
            .is_empty()
    );
    // A file is not a folder.
    assert!(store.list(&base.join("z.nc")).await.unwrap().is_empty());
}

#[tokio::test]
async fn get_range_returns_exact_bytes_or_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local_only();
    let loc = root(&dir).join("data.bin");
    let data = pattern(1000, 3);
    store.put(&loc, data.clone()).await.unwrap();
    assert_eq!(
        store.get_range(&loc, 10..20).await.unwrap().as_ref(),
        &data[10..20]
    );
    assert!(store.get_range(&loc, 5..5).await.unwrap().is_empty());
    let err = store.get_range(&loc, 990..1010).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    assert!(
        err.to_string().contains("expected 20 bytes, found 10"),
        "{err}"
    );
}

#[tokio::test]
async fn a_local_only_store_refuses_s3_locations() {
    let store = Store::local_only();
    let err = store
        .get(&Location::parse("s3://bucket/key").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("s3://bucket/key"), "{err}");
}

#[cfg(unix)]
#[tokio::test]
async fn written_files_get_normal_permissions_not_private_temp_ones() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::local_only();
    store.put(&root(&dir).join("g.nc"), "x").await.unwrap();
    // A file created the ordinary way gets 0666 minus the umask; ours should get 0644 minus
    // the same umask (temporary files default to 0600).
    std::fs::write(dir.path().join("reference"), "x").unwrap();
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("g.nc"), mode("reference") & 0o644);
}
