//! Virtual stores (kerchunk references, `edp virtual` and the update at the end of `edp run`)
//! checked with real readers: `tests/python/check_virtual.py` opens each store with xarray on
//! fsspec's reference file system and compares every variable and coordinate with
//! `xarray.open_mfdataset` of the granules, for native and lat-lon, 2-D and 3-D datasets;
//! after an append, a backfill, a reprocessed granule, and with the products on S3 (moto).
//!
//! The stores `edp run` builds from the writer's chunk indexes are checked first; for the
//! staged updates the chunk indexes come from an independent reader
//! (`tests/python/chunk_index.py`, h5py's `H5Dget_chunk_info`), injected into the done records
//! of that run (`tests/python/virtual_fixture.py`), so the test controls which granules each
//! update sees.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use edp_demo_data::{DemoSpec, generate};
use edp_testkit::moto::MotoServer;

use super::support::{Demo, edp, text};

/// The Python that `variable` names (else `default` below the repository root), and
/// whether it runs `probe`.
fn python_at(variable: &str, default: &str, probe: &str) -> (PathBuf, bool) {
    let candidate = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| edp_testkit::repo_root().join(default));
    let usable = Command::new(&candidate)
        .args(["-c", probe])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    (candidate, usable)
}

/// The Python with h5py, xarray, zarr, dask and netCDF4, or `None` (skip; a failure in CI).
pub(super) fn python() -> Option<PathBuf> {
    let (candidate, usable) = python_at(
        "EDP_PYTHON",
        ".venv/bin/python",
        "import h5py, xarray, zarr, dask, netCDF4, fsspec, aiohttp, boto3",
    );
    if usable {
        return Some(candidate);
    }
    let why = format!(
        "no Python with h5py, xarray, zarr, dask, netCDF4, fsspec, aiohttp and boto3 at {} \
         (run scripts/python-env or set EDP_PYTHON)",
        candidate.display()
    );
    assert!(std::env::var_os("CI").is_none(), "CI: {why}");
    eprintln!("SKIPPED: {why}");
    None
}

/// A Python with icechunk-python 2.x and the check's readers (`.venv-icechunk2`, made by
/// scripts/python-env where a Python >= 3.12 exists; `EDP_PYTHON_ICECHUNK2` overrides), or
/// `None`: then only icechunk-python 1.x reads the repositories, and the test says so.
fn icechunk2_python() -> Option<PathBuf> {
    let (candidate, usable) = python_at(
        "EDP_PYTHON_ICECHUNK2",
        ".venv-icechunk2/bin/python",
        "import sys, icechunk, h5py, xarray, zarr, dask, netCDF4, fsspec, fastparquet; \
         sys.exit(int(icechunk.__version__.split('.')[0]) < 2)",
    );
    if !usable {
        eprintln!(
            "NOT CHECKED: icechunk-python 2.x (no usable {}; scripts/python-env makes it where \
             a Python >= 3.12 exists)",
            candidate.display()
        );
    }
    usable.then_some(candidate)
}

/// Runs `tests/python/<script>` with `args`; returns its stdout as JSON.
fn script(python: &Path, name: &str, args: &[String]) -> serde_json::Value {
    script_with_env(python, name, args, &[])
}

/// Like [`script`], with extra environment variables (the emulator's credentials).
fn script_with_env(
    python: &Path,
    name: &str,
    args: &[String],
    env: &[(&str, String)],
) -> serde_json::Value {
    let path = edp_testkit::repo_root().join("tests/python").join(name);
    let output = Command::new(python)
        .arg(path)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{name} {args:?}\n{}",
        text(&output)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Like [`script`] for `check_virtual.py`, returning whether it passed.
pub(super) fn check(
    python: &Path,
    refs: &str,
    granules: &[PathBuf],
    extra: &[String],
) -> serde_json::Value {
    check_with_env(python, refs, granules, extra, &[])
}

/// Like [`check`], with extra environment variables (the emulator's credentials).
fn check_with_env(
    python: &Path,
    refs: &str,
    granules: &[PathBuf],
    extra: &[String],
    env: &[(&str, String)],
) -> serde_json::Value {
    let mut args = vec![refs.to_string()];
    args.extend(granules.iter().map(|g| g.display().to_string()));
    args.extend(extra.iter().cloned());
    script_with_env(python, "check_virtual.py", &args, env)
}

/// LLC12 with 10 levels, three months and three days, native and lat-lon.
fn demo_with_latlon() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let spec = DemoSpec {
        n: 12,
        nz: 10,
        latlon_jobs: true,
        ..DemoSpec::default()
    };
    let layout = generate(dir.path().join("demo"), &spec).unwrap();
    let dest = dir.path().join("products");
    Demo { dir, layout, dest }
}

/// The granules of each dataset (folder relative to the root), in time order.
fn datasets(demo: &Demo) -> BTreeMap<String, Vec<PathBuf>> {
    let mut out: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for granule in demo.expected_granules() {
        let dir = granule.parent().unwrap().strip_prefix(&demo.dest).unwrap();
        out.entry(dir.display().to_string())
            .or_default()
            .push(granule);
    }
    for granules in out.values_mut() {
        granules.sort();
    }
    out
}

fn refs_of(dest: &Path, dataset: &str) -> PathBuf {
    dest.join("_edp/virtual").join(dataset).join("refs.json")
}

fn edp_virtual(dest: &Path) -> String {
    let output = edp(&["virtual", "--dest", &dest.display().to_string()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every file below `dir` with its modification time.
fn snapshot(dir: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(snapshot(&path));
        } else {
            out.push((path.clone(), super::support::modified(&path)));
        }
    }
    out.sort();
    out
}

#[test]
fn virtual_stores_equal_the_granules_after_append_backfill_and_reprocessing() {
    let Some(python) = python() else { return };
    let demo = demo_with_latlon();
    let run = demo.run(&[]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("virtual stores:"),
        "{}",
        text(&run)
    );
    let dest = demo.dest.display().to_string();
    let datasets = datasets(&demo);
    assert!(
        datasets.keys().any(|d| d.contains("/latlon/")),
        "{datasets:?}"
    );
    let monthly = |d: &str| d.contains("mon_mean");

    // The stores `edp run` built from the writer's own chunk indexes hold every granule.
    for (dataset, granules) in &datasets {
        let checked = check(
            &python,
            &refs_of(&demo.dest, dataset).display().to_string(),
            granules,
            &[],
        );
        assert_eq!(checked["times"], granules.len(), "{dataset}: {checked}");
        // refs.parq/ beside refs.json opened through fsspec's Parquet references too, and
        // the Icechunk repository beside them with icechunk-python.
        assert_eq!(checked["parquet"], true, "{dataset}: {checked}");
        assert!(
            checked["icechunk_commits"].as_u64() >= Some(2),
            "{dataset}: {checked}"
        );
    }

    // From here on the test stages what each update sees: the stores are removed and the done
    // records carry chunk indexes read independently (h5py) for the chosen months only.
    std::fs::remove_dir_all(demo.dest.join("_edp/virtual")).unwrap();

    // Months 1 and 3 first (the daily dataset has its three days in month 1).
    script(
        &python,
        "virtual_fixture.py",
        &["inject".into(), dest.clone(), "1,3".into()],
    );
    let out = edp_virtual(&demo.dest);
    assert!(
        out.contains(&format!("virtual stores: {} dataset(s)", datasets.len())),
        "{out}"
    );
    let mut vertical = [false, false];
    for (dataset, granules) in &datasets {
        let expected: Vec<PathBuf> = if monthly(dataset) {
            vec![granules[0].clone(), granules[2].clone()]
        } else {
            granules.clone()
        };
        let checked = check(
            &python,
            &refs_of(&demo.dest, dataset).display().to_string(),
            &expected,
            &[],
        );
        assert_eq!(checked["times"], expected.len(), "{dataset}: {checked}");
        assert_eq!(checked["scheme"], "file");
        // A new repository: its creation and one commit.
        assert_eq!(checked["icechunk_commits"], 2, "{dataset}: {checked}");
        vertical[usize::from(checked["vertical"] == true)] = true;
    }
    assert_eq!(
        vertical,
        [true, true],
        "both 2-D and 3-D datasets are checked"
    );

    // Backfill: month 2 goes between 1 and 3.
    script(
        &python,
        "virtual_fixture.py",
        &["inject".into(), dest.clone(), "1,2,3".into()],
    );
    let out = edp_virtual(&demo.dest);
    for (dataset, granules) in &datasets {
        if monthly(dataset) {
            assert!(
                out.contains(&format!(
                    "{dataset}: 3 granule(s) (+1 added, 0 replaced, 2 unchanged"
                )),
                "{out}"
            );
        }
        let checked = check(
            &python,
            &refs_of(&demo.dest, dataset).display().to_string(),
            granules,
            &[],
        );
        assert_eq!(checked["times"], granules.len(), "{dataset}: {checked}");
        assert_eq!(checked["parquet"], true, "{dataset}: {checked}");
        // One more commit where the backfill changed the dataset (the daily one had its
        // three days already).
        let commits = if monthly(dataset) { 3 } else { 2 };
        assert_eq!(checked["icechunk_commits"], commits, "{dataset}: {checked}");
        let times: Vec<String> = serde_json::from_value(checked["time_values"].clone()).unwrap();
        let mut sorted = times.clone();
        sorted.sort();
        assert_eq!(times, sorted, "{dataset}: time order");
    }

    // Running again changes nothing, not even a modification time.
    let virtual_dir = demo.dest.join("_edp/virtual");
    let before = snapshot(&virtual_dir);
    let out = edp_virtual(&demo.dest);
    assert!(out.contains("0 changed"), "{out}");
    assert_eq!(snapshot(&virtual_dir), before);

    // A reprocessed granule (new values, new bytes): the store returns the new bytes.
    let (dataset, granules) = datasets
        .iter()
        .find(|(d, _)| monthly(d) && d.contains("/native/") && !d.contains("SEA_SURFACE"))
        .unwrap();
    let stale = demo.dir.path().join("stale-refs.json");
    std::fs::copy(refs_of(&demo.dest, dataset), &stale).unwrap();
    script(
        &python,
        "virtual_fixture.py",
        &[
            "reprocess".into(),
            dest.clone(),
            granules[1].display().to_string(),
        ],
    );
    let out = edp_virtual(&demo.dest);
    assert!(
        out.contains(&format!(
            "{dataset}: 3 granule(s) (+0 added, 1 replaced, 2 unchanged"
        )),
        "{out}"
    );
    let checked = check(
        &python,
        &refs_of(&demo.dest, dataset).display().to_string(),
        granules,
        &[],
    );
    assert_eq!(checked["icechunk_commits"], 4, "{dataset}: {checked}");
    let stale_check = Command::new(&python)
        .arg(edp_testkit::repo_root().join("tests/python/check_virtual.py"))
        .arg(&stale)
        .args(granules)
        .output()
        .unwrap();
    assert!(
        !stale_check.status.success(),
        "the old references no longer match the reprocessed granule"
    );

    // The same repositories, read by icechunk-python 2.x (the repositories are Icechunk spec
    // 1, which both generations open): every dataset equals its granules.
    if let Some(python2) = icechunk2_python() {
        for (dataset, granules) in &datasets {
            let refs = refs_of(&demo.dest, dataset).display().to_string();
            let checked = check(&python2, &refs, granules, &[]);
            assert!(
                checked["icechunk_python"]
                    .as_str()
                    .is_some_and(|v| v.starts_with("2.")),
                "{dataset}: {checked}"
            );
            assert!(
                checked["icechunk_commits"].as_u64() >= Some(2),
                "{dataset}: {checked}"
            );
        }
    }

    // `edp status` shows where the stores are.
    let status = edp(&["status", "--dest", &dest]);
    let status_text = String::from_utf8_lossy(&status.stdout);
    assert!(
        status_text.contains("virtual stores (kerchunk references, Icechunk repository):"),
        "{}",
        text(&status)
    );
    assert!(
        status_text.contains(&refs_of(&demo.dest, dataset).display().to_string()),
        "{status_text}"
    );
}

#[test]
fn virtual_stores_on_s3_point_at_the_objects() {
    let Some(python) = python() else { return };
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let demo = super::support::demo();
    let run = demo.run(&[]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let dest = demo.dest.display().to_string();
    script(
        &python,
        "virtual_fixture.py",
        &["inject".into(), dest.clone(), "1,2,3".into()],
    );
    let endpoint = moto.endpoint();
    let env: Vec<(&str, String)> = moto.env_vars();
    let upload = Command::new(&python)
        .arg(edp_testkit::repo_root().join("tests/python/virtual_fixture.py"))
        .args(["upload", &dest, "products", "ecco", &endpoint])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(upload.status.success(), "{}", text(&upload));

    let https_base = format!("{endpoint}/products/ecco");
    let output = Command::new(super::support::edp_binary())
        .args([
            "virtual",
            "--dest",
            "s3://products/ecco",
            "--https-base",
            &https_base,
        ])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    // The https:// container is authorized with icechunk's explicit sentinel (`None` made
    // icechunk warn of a deprecation on every run).
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("DEPRECATED"),
        "{}",
        text(&output)
    );
    for (dataset, granules) in datasets(&demo) {
        let prefix = format!("s3://products/ecco/_edp/virtual/{dataset}");
        let endpoint_args = vec!["--s3-endpoint".to_string(), endpoint.clone()];
        // The s3:// references point at the objects on S3 ...
        let mut args = endpoint_args.clone();
        args.push("--urls-only".into());
        let urls = check_with_env(&python, &format!("{prefix}/refs.json"), &[], &args, &env);
        let urls: Vec<String> = serde_json::from_value(urls["urls"].clone()).unwrap();
        assert_eq!(urls.len(), granules.len(), "{dataset}: {urls:?}");
        for (url, granule) in urls.iter().zip(&granules) {
            let name = granule.file_name().unwrap().to_string_lossy();
            assert_eq!(*url, format!("s3://products/ecco/{dataset}/{name}"));
        }
        // ... and the https references, read from S3, give the granules' values.
        let checked = check_with_env(
            &python,
            &format!("{prefix}/refs.https.json"),
            &granules,
            &endpoint_args,
            &env,
        );
        assert_eq!(checked["scheme"], "http");
        assert_eq!(checked["times"], granules.len());
        // ... and so do the Parquet references written beside them on S3, and the Icechunk
        // repository of https:// references.
        assert_eq!(checked["parquet"], true, "{dataset}: {checked}");
        assert_eq!(checked["icechunk_commits"], 2, "{dataset}: {checked}");
        // The Icechunk repository of s3:// references, on S3, read by icechunk-python through
        // its virtual chunk container (S3 with the emulator's credentials; every chunk
        // reference carries the object's ETag).
        let checked = check_with_env(
            &python,
            &format!("{prefix}/refs.json"),
            &granules,
            &endpoint_args,
            &env,
        );
        assert_eq!(checked["scheme"], "s3");
        assert_eq!(checked["times"], granules.len());
        assert_eq!(checked["icechunk_commits"], 2, "{dataset}: {checked}");
    }
}
