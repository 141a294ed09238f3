//! The shard executor on a generated demo tree (local folders): planned shards produce every
//! granule with ledger records and done markers, a second execution skips them, bad inputs
//! fail only their own granule with a permanent error, and EDP task lists without our `edp`
//! key run too. Inputs in S3 (moto) are read through `WorkerOptions::source_store` when set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use edp_conventions::catalog::LoadOptions;
use edp_conventions::{Catalog, ProductionConfig};
use edp_demo_data::{DemoLayout, DemoSpec, generate};
use edp_plan::builder::TaskLocations;
use edp_plan::planner::{PlanRequest, plan_run};
use edp_plan::roots::Root;
use edp_plan::sources::{grouping_counts, parse_jobs};
use edp_plan::state::{Layout, read_done_marker, read_ledger, read_shard};
use edp_runner::{NoObserver, ShardOutcome, WorkerOptions, run_shards, run_tasks};
use edp_store::{Location, StaticCredentials, Store, StoreConfig};
use edp_task_schemas::{ErrorKind, ExitKind, Shard, Task, TaskStatus};
use sha2::{Digest, Sha256};

struct Fixture {
    _dir: tempfile::TempDir,
    demo: DemoLayout,
    dest: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let demo = generate(dir.path().join("demo"), &DemoSpec::small()).unwrap();
    let dest = dir.path().join("products");
    Fixture {
        _dir: dir,
        demo,
        dest,
    }
}

fn locations(demo: &DemoLayout) -> TaskLocations {
    let s = |p: &Path| Some(p.display().to_string());
    TaskLocations {
        cfg_loc: s(&demo.config_file),
        grid_loc: s(&demo.grid_dir),
        factors_loc: None,
        metadata_loc: s(&demo.metadata_dir),
    }
}

/// Plans the demo job file into `dest` and reads the shards back.
async fn plan(store: &Store, demo: &DemoLayout, dest: &Path) -> (String, Vec<Shard>) {
    let catalog = Catalog::load(&demo.metadata_dir, &LoadOptions::default()).unwrap();
    let config = ProductionConfig::from_yaml_file(&demo.config_file).unwrap();
    let text = std::fs::read_to_string(&demo.jobfile).unwrap();
    let jobs = parse_jobs(
        "jobs",
        &text,
        &grouping_counts(&catalog).unwrap(),
        &Default::default(),
    )
    .unwrap();
    let mut request = PlanRequest::new(
        jobs.jobs,
        Root::parse(&demo.source_root.display().to_string()).unwrap(),
        Root::parse(&dest.display().to_string()).unwrap(),
    );
    request.locations = locations(demo);
    let outcome = plan_run(store, &catalog, &config, &request).await.unwrap();
    let shards_dir = outcome.shards_location.clone().unwrap_or_else(|| {
        panic!(
            "nothing planned: {:#?} {:#?} {:#?} {:#?}",
            outcome.inventory, outcome.incomplete, outcome.warnings, outcome.orphans
        )
    });
    let mut shards = Vec::new();
    for index in 0..outcome.shard_count {
        shards.push(read_shard(store, &shards_dir, index).await.unwrap());
    }
    (outcome.run_id, shards)
}

fn options(dest: &Path, run_id: &str) -> WorkerOptions {
    let mut options = WorkerOptions::new(
        Root::parse(&dest.display().to_string()).unwrap(),
        run_id.to_string(),
    );
    options.cache_dir = dest.join("cache");
    options
}

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// Every task error of `outcome`, one per line, for assertion messages.
fn errors(outcome: &ShardOutcome) -> String {
    outcome
        .tasks
        .iter()
        .filter_map(|t| Some(format!("{}: {:?}", t.granule, t.error.as_ref()?)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn by_granule<'a>(outcome: &'a ShardOutcome, needle: &str) -> Vec<&'a edp_runner::TaskOutcome> {
    outcome
        .tasks
        .iter()
        .filter(|t| t.granule.contains(needle))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_produce_every_granule_with_ledger_and_done_markers() {
    let f = fixture();
    let store = Store::local_only();
    let (run_id, shards) = plan(&store, &f.demo, &f.dest).await;
    let outcome = run_shards(&store, &shards, &options(&f.dest, &run_id), &NoObserver).await;
    assert_eq!(
        outcome.exit,
        ExitKind::Success,
        "{:#?}",
        outcome.failures().collect::<Vec<_>>()
    );

    let expected = f
        .demo
        .expected_granules(&f.dest.display().to_string())
        .unwrap();
    assert_eq!(outcome.tasks.len(), expected.len());
    assert_eq!(outcome.counts().done as usize, expected.len());
    let layout = Layout::new(&Location::local(&f.dest).unwrap());
    let ledger = read_ledger(&store, &layout, &run_id).await.unwrap();
    assert_eq!(ledger.len(), expected.len());
    for granule in &expected {
        let path = Path::new(granule);
        assert!(path.is_file(), "{granule} missing");
        let record = ledger.iter().find(|r| r.granule == *granule).unwrap();
        assert_eq!(record.status, TaskStatus::Done);
        assert_eq!(record.attempts, 1);
        assert_eq!(
            record.output_bytes,
            Some(std::fs::metadata(path).unwrap().len())
        );
        assert_eq!(record.sha256.as_deref(), Some(sha256(path).as_str()));
        assert!(record.peak_memory_bytes.unwrap_or(0) > 0);
        assert!(!record.input_etags.is_empty());
        assert!(!record.config_hash.is_empty());
        let marker = read_done_marker(&store, &layout, &record.task_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(marker.sha256, record.sha256);
        assert!(record.shard_index.is_some());
        // The chunk index lists every variable of the file as netCDF sees it, with chunks
        // inside the file (compare_write_paths.py checks it byte for byte against h5py).
        let index = record
            .chunk_index
            .as_ref()
            .expect("done records carry the chunk index");
        let file = netcdf::open(path).unwrap();
        let names: Vec<String> = file.variables().map(|v| v.name()).collect();
        let indexed: Vec<String> = index.variables.iter().map(|v| v.name.clone()).collect();
        assert_eq!(indexed, names);
        let file_len = std::fs::metadata(path).unwrap().len();
        for stored in &index.variables {
            let var = file.variable(&stored.name).unwrap();
            let shape: Vec<u64> = var.dimensions().iter().map(|d| d.len() as u64).collect();
            assert_eq!(stored.shape, shape, "{}", stored.name);
            let chunking = var.chunking().unwrap();
            assert_eq!(
                stored.chunk_shape,
                chunking.map(|c| c.iter().map(|&x| x as u64).collect::<Vec<_>>()),
                "{}",
                stored.name
            );
            if let Some(chunk) = &stored.chunk_shape {
                // Data variables: every chunk written (the demo has ocean in every chunk).
                let grid: u64 = shape
                    .iter()
                    .zip(chunk)
                    .map(|(s, c)| s.div_ceil(*c))
                    .product();
                assert_eq!(stored.chunks.len() as u64, grid, "{}", stored.name);
            }
            for c in &stored.chunks {
                assert!(
                    c.length > 0 && c.offset + c.length <= file_len,
                    "{}",
                    stored.name
                );
            }
        }
    }
    // The granule opens and holds the variables of its task.
    let task: &Task = &shards[0].tasks[0];
    let file = netcdf::open(Path::new(&task.granule)).unwrap();
    for name in task.variables.keys() {
        assert!(file.variable(name).is_some(), "{name} in {}", task.granule);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_execution_skips_done_granules_and_force_redoes_them() {
    let f = fixture();
    let store = Store::local_only();
    let (run_id, shards) = plan(&store, &f.demo, &f.dest).await;
    let opts = options(&f.dest, &run_id);
    run_shards(&store, &shards, &opts, &NoObserver).await;
    let first = &shards[0].tasks[0].granule;
    let modified = std::fs::metadata(first).unwrap().modified().unwrap();

    let again = run_shards(&store, &shards, &opts, &NoObserver).await;
    assert_eq!(again.exit, ExitKind::Success);
    assert_eq!(again.counts().skipped as usize, again.tasks.len());
    assert_eq!(again.produced_bytes(), 0);
    assert_eq!(
        std::fs::metadata(first).unwrap().modified().unwrap(),
        modified
    );

    // A granule whose size no longer matches its record is not done any more.
    std::fs::write(first, b"truncated").unwrap();
    let repaired = run_shards(&store, &shards, &opts, &NoObserver).await;
    assert_eq!(repaired.counts().done, 1);
    assert!(std::fs::metadata(first).unwrap().len() > 100);

    let mut forced = opts.clone();
    forced.force = true;
    let redone = run_shards(&store, &shards, &forced, &NoObserver).await;
    assert_eq!(redone.counts().done as usize, redone.tasks.len());
    // Attempts accumulate within the run: produced in runs 1 and 4 (skipped in 2, 3).
    let record = redone.tasks.iter().find(|t| t.granule != *first).unwrap();
    assert_eq!(record.attempts, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_input_fails_only_its_granule_permanently() {
    let f = fixture();
    let store = Store::local_only();
    let input = f
        .demo
        .input("THETA", edp_conventions::Frequency::AvgMon, 1428)
        .unwrap();
    let data = std::fs::read(&input.data).unwrap();
    std::fs::write(&input.data, &data[..data.len() / 2]).unwrap();

    let (run_id, shards) = plan(&store, &f.demo, &f.dest).await;
    let opts = options(&f.dest, &run_id);
    let outcome = run_shards(&store, &shards, &opts, &NoObserver).await;
    assert_eq!(outcome.exit, ExitKind::Permanent, "{}", errors(&outcome));
    let failed: Vec<_> = outcome.failures().collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let failure = failed[0];
    assert!(
        failure
            .granule
            .contains("OCEAN_TEMPERATURE_SALINITY_mon_mean_1992-02")
    );
    let error = failure.error.as_ref().unwrap();
    assert_eq!(error.kind, ErrorKind::Permanent);
    assert!(
        error.message.contains("THETA_mon_mean.0000001428.data"),
        "{}",
        error.message
    );
    assert!(!Path::new(&failure.granule).exists());
    assert_eq!(outcome.counts().done as usize, outcome.tasks.len() - 1);

    // The ledger says the same, and a retry in the same run counts a second attempt.
    let layout = Layout::new(&Location::local(&f.dest).unwrap());
    let again = run_shards(&store, &shards, &opts, &NoObserver).await;
    assert_eq!(again.counts().skipped as usize, again.tasks.len() - 1);
    let ledger = read_ledger(&store, &layout, &run_id).await.unwrap();
    let record = ledger
        .iter()
        .find(|r| r.task_id == failure.task_id)
        .unwrap();
    assert_eq!(record.status, TaskStatus::Failed);
    assert_eq!(record.attempts, 2);
    assert_eq!(record.error.as_ref().unwrap().kind, ErrorKind::Permanent);

    // With the input repaired the same run finishes.
    std::fs::write(&input.data, &data).unwrap();
    let repaired = run_shards(&store, &shards, &opts, &NoObserver).await;
    assert_eq!(repaired.exit, ExitKind::Success);
    assert_eq!(repaired.counts().done, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_input_is_a_permanent_failure_naming_the_file() {
    let f = fixture();
    let store = Store::local_only();
    let (run_id, shards) = plan(&store, &f.demo, &f.dest).await;
    let input = f
        .demo
        .input("SSH", edp_conventions::Frequency::AvgDay, 12)
        .unwrap();
    std::fs::remove_file(&input.meta).unwrap();
    let outcome = run_shards(&store, &shards, &options(&f.dest, &run_id), &NoObserver).await;
    assert_eq!(outcome.exit, ExitKind::Permanent, "{}", errors(&outcome));
    let failed = by_granule(&outcome, "SEA_SURFACE_HEIGHT_day_mean_1992-01-01");
    let error = failed[0].error.as_ref().unwrap();
    assert_eq!(error.kind, ErrorKind::Permanent);
    assert!(
        error.message.contains("SSH_day_mean.0000000012.meta"),
        "{}",
        error.message
    );
    assert!(error.message.contains("not found"), "{}", error.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edp_task_list_without_our_key_runs_with_default_locations() {
    let f = fixture();
    let store = Store::local_only();
    let (_, shards) = plan(&store, &f.demo, &f.dest).await;
    // What EDP would have written: no `edp` key, and (Gen B) no locations at all.
    let tasks: Vec<(Task, Option<u32>)> = shards
        .iter()
        .flat_map(|s| s.tasks.iter())
        .map(|t| {
            let mut t = t.without_edp();
            t.ecco_cfg_loc = None;
            t.ecco_grid_loc = None;
            t.ecco_metadata_loc = None;
            (t, None)
        })
        .collect();
    let count = tasks.len();
    let mut opts = options(&f.dest, "edp-task-list-run");
    opts.defaults = locations(&f.demo);
    // A separate destination, so that nothing is skipped.
    let other = f.dest.parent().unwrap().join("other");
    let tasks: Vec<(Task, Option<u32>)> = tasks
        .into_iter()
        .map(|(mut t, s)| {
            t.granule = t
                .granule
                .replace(&f.dest.display().to_string(), &other.display().to_string());
            (t, s)
        })
        .collect();
    opts.dest_root = Root::parse(&other.display().to_string()).unwrap();
    let outcome = run_tasks(&store, tasks.clone(), &opts, &NoObserver).await;
    assert_eq!(
        outcome.exit,
        ExitKind::Success,
        "{:#?}",
        outcome.failures().collect::<Vec<_>>()
    );
    assert_eq!(outcome.counts().done as usize, count);
    for (task, _) in &tasks {
        assert!(Path::new(&task.granule).is_file());
    }

    // Without defaults the same tasks fail permanently, naming what is missing.
    let mut bare = opts.clone();
    bare.defaults = TaskLocations::default();
    bare.force = true;
    let outcome = run_tasks(&store, tasks, &bare, &NoObserver).await;
    assert_eq!(outcome.exit, ExitKind::Permanent, "{}", errors(&outcome));
    let message = &outcome.tasks[0].error.as_ref().unwrap().message;
    assert!(
        message.contains("ecco_grid_loc") && message.contains("--grid"),
        "{message}"
    );
}

/// A store for the moto emulator at `endpoint`.
async fn moto_store(endpoint: String) -> Store {
    use edp_testkit::moto::{MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY};
    Store::from_config(StoreConfig {
        endpoint_url: Some(endpoint),
        region: Some(MOTO_REGION.to_string()),
        credentials: Some(StaticCredentials {
            access_key_id: MOTO_ACCESS_KEY_ID.to_string(),
            secret_access_key: MOTO_SECRET_ACCESS_KEY.to_string(),
            session_token: None,
        }),
        force_path_style: true,
        ..StoreConfig::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_inputs_are_read_through_the_source_store_only() {
    let Some(moto) = edp_testkit::MotoServer::start_or_skip() else {
        return;
    };
    let f = fixture();
    let local = Store::local_only();
    let (run_id, shards) = plan(&local, &f.demo, &f.dest).await;

    // Upload every input to a "source" bucket and point the tasks at it.
    let source = moto_store(moto.endpoint()).await;
    source
        .s3_client()
        .unwrap()
        .create_bucket()
        .bucket("model-output")
        .send()
        .await
        .unwrap();
    let local_root = f.demo.source_root.display().to_string();
    let s3_root = "s3://model-output/v4r4";
    let mut uploaded = 0;
    let mut tasks: Vec<(Task, Option<u32>)> = Vec::new();
    for shard in &shards {
        for task in &shard.tasks {
            let mut task = task.clone();
            for pairs in task.variables.values_mut() {
                for pair in pairs.iter_mut() {
                    for given in [&mut pair.data, &mut pair.meta] {
                        let remote = given.replacen(&local_root, s3_root, 1);
                        assert_ne!(remote, *given, "input outside the source root: {given}");
                        let loc = Location::parse(&remote).unwrap();
                        if !source.exists(&loc).await.unwrap() {
                            source
                                .put(&loc, std::fs::read(&*given).unwrap())
                                .await
                                .unwrap();
                            uploaded += 1;
                        }
                        *given = remote;
                    }
                }
            }
            tasks.push((task, Some(shard.index)));
        }
    }
    assert!(uploaded > 0);
    // The local copies go, so nothing can be read from the local tree by accident.
    std::fs::remove_dir_all(&f.demo.source_root).unwrap();

    // The main store refuses s3://: without a source store every granule fails.
    let mut opts = options(&f.dest, &run_id);
    let without = run_tasks(&local, tasks.clone(), &opts, &NoObserver).await;
    assert_eq!(without.exit, ExitKind::Permanent);
    assert_eq!(without.counts().failed as usize, tasks.len());

    // With the moto store as source store, inputs come from S3 while grid, metadata,
    // outputs and ledger stay on the local main store.
    opts.source_store = Some(source);
    let with = run_tasks(&local, tasks.clone(), &opts, &NoObserver).await;
    assert_eq!(
        with.exit,
        ExitKind::Success,
        "{:#?}",
        with.failures().collect::<Vec<_>>()
    );
    assert_eq!(with.counts().done as usize, tasks.len());
    let layout = Layout::new(&Location::local(&f.dest).unwrap());
    for (task, _) in &tasks {
        assert!(
            Path::new(&task.granule).is_file(),
            "{} missing",
            task.granule
        );
        let record = read_done_marker(&local, &layout, &edp_plan::state::task_key(task))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.attempts, 2);
        assert!(
            record.input_etags.keys().all(|k| k.starts_with(s3_root)),
            "{:?}",
            record.input_etags
        );
    }
}

/// Every file below `dir` with its SHA-256 (the state of a tree, to compare before/after).
fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            // Never follow links or read special files (a FIFO blocks, /dev/zero never ends).
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                out.insert(path.clone(), sha256(&path));
            } else if kind.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(path.clone(), format!("link to {}", target.display()));
            } else {
                out.insert(path.clone(), "special file".to_string());
            }
        }
    }
    out
}

/// A killed and retried shard (Batch retries the same run): granules the first attempt
/// finished keep their `done` ledger records, and the run's report counts every granule
/// done, not "skipped".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_shard_keeps_this_runs_done_records_and_reports_them_done() {
    let f = fixture();
    let store = Store::local_only();
    let (run_id, shards) = plan(&store, &f.demo, &f.dest).await;
    let opts = options(&f.dest, &run_id);
    let layout = Layout::new(&Location::local(&f.dest).unwrap());
    let first = run_shards(&store, &shards, &opts, &NoObserver).await;
    assert_eq!(first.exit, ExitKind::Success);
    let total = first.tasks.len();

    // The kill: one granule was being written when the container died (ledger `running`,
    // no granule, no done marker).
    let killed = &shards[0].tasks[0];
    let id = edp_plan::state::task_key(killed);
    std::fs::remove_file(&killed.granule).unwrap();
    std::fs::remove_file(f.dest.join(format!("_edp/done/{id}.json"))).unwrap();
    let ledger_file = f.dest.join(format!("_edp/runs/{run_id}/ledger/{id}.json"));
    let mut record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&ledger_file).unwrap()).unwrap();
    record["status"] = "running".into();
    std::fs::write(&ledger_file, serde_json::to_vec(&record).unwrap()).unwrap();

    let retry = run_shards(&store, &shards, &opts, &NoObserver).await;
    assert_eq!(retry.exit, ExitKind::Success);
    assert_eq!(
        retry.counts().done,
        1,
        "only the killed granule is produced again"
    );
    assert_eq!(retry.counts().skipped as usize, total - 1);

    let ledger = read_ledger(&store, &layout, &run_id).await.unwrap();
    assert_eq!(ledger.len(), total);
    assert!(
        ledger.iter().all(|r| r.status == TaskStatus::Done),
        "{:?}",
        ledger.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let redone = ledger.iter().find(|r| r.task_id == id).unwrap();
    assert_eq!(redone.attempts, 2);
    let report = edp_plan::state::reconcile_run(&store, layout.dest(), &run_id)
        .await
        .unwrap();
    assert_eq!(report.counts.done as usize, total);
    assert_eq!(report.counts.skipped, 0);
    assert!(report.complete);

    // Another run finds them done by someone else: `skipped` in *its* ledger.
    let other = options(&f.dest, "20261121T101500Z-0a1b2c3d");
    let later = run_shards(&store, &shards, &other, &NoObserver).await;
    assert_eq!(later.counts().skipped as usize, total);
    let ledger = read_ledger(&store, &layout, "20261121T101500Z-0a1b2c3d")
        .await
        .unwrap();
    assert!(ledger.iter().all(|r| r.status == TaskStatus::Skipped));
}

/// Granule paths from a hostile task list (absolute elsewhere, climbing out with `..`, into
/// the state folder) are refused permanently, naming the task and the path; nothing is
/// written outside the destination and no state records the outside path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn granule_paths_outside_the_destination_are_refused() {
    let f = fixture();
    let store = Store::local_only();
    let (run_id, shards) = plan(&store, &f.demo, &f.dest).await;
    let task = shards[0].tasks[0].clone();
    let name = Path::new(&task.granule)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    let outside = f.dest.parent().unwrap().join("outside");
    let dest = f.dest.display().to_string();
    let hostile = [
        format!("{}/V4r4/native/mon_mean/X/{name}", outside.display()),
        format!("{dest}/V4r4/native/mon_mean/X/../../../../../outside/V4r4/native/m/X/{name}"),
        format!("{dest}/../outside/V4r4/native/mon_mean/X/{name}"),
        format!("{dest}/_edp/done/{name}"),
    ];
    let tasks: Vec<(Task, Option<u32>)> = hostile
        .iter()
        .map(|g| {
            let mut t = task.without_edp();
            t.granule = g.clone();
            (t, None)
        })
        .collect();
    let before = tree(f.dest.parent().unwrap());
    let outcome = run_tasks(&store, tasks, &options(&f.dest, &run_id), &NoObserver).await;
    assert_eq!(outcome.exit, ExitKind::Permanent, "{}", errors(&outcome));
    assert_eq!(outcome.counts().failed as usize, hostile.len());
    // Outcomes arrive in completion order: pair each hostile path with its own outcome.
    for given in &hostile {
        let t = outcome
            .tasks
            .iter()
            .find(|t| &t.granule == given)
            .unwrap_or_else(|| panic!("no outcome for {given}"));
        let error = t.error.as_ref().unwrap();
        assert_eq!(error.kind, ErrorKind::Permanent);
        assert!(
            error.message.contains(&format!("{given:?}")),
            "{}",
            error.message
        );
        assert!(
            error.message.contains("destination root"),
            "{}",
            error.message
        );
    }
    assert!(
        !outside.exists(),
        "something was written outside the destination"
    );
    // Only ledger records (of this run, below `_edp/runs/`) were added.
    let after = tree(f.dest.parent().unwrap());
    for (path, hash) in &after {
        if before.get(path) != Some(hash) {
            assert!(
                path.starts_with(f.dest.join("_edp/runs")),
                "changed: {}",
                path.display()
            );
        }
    }
}

/// Inputs must stay below the source root when it is known: a `*.data` symlink to a file
/// elsewhere is refused, and a `.data` that is a directory is "not a regular file".
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_outside_the_source_root_or_not_regular_files_are_refused() {
    let f = fixture();
    let store = Store::local_only();
    let (run_id, shards) = plan(&store, &f.demo, &f.dest).await;
    let mut opts = options(&f.dest, &run_id);
    opts.source_root = Some(Root::parse(&f.demo.source_root.display().to_string()).unwrap());

    let input = f
        .demo
        .input("SSH", edp_conventions::Frequency::AvgDay, 12)
        .unwrap();
    // A valid copy of the data, but outside the source root.
    let elsewhere = f.dest.parent().unwrap().join("elsewhere.data");
    std::fs::copy(&input.data, &elsewhere).unwrap();
    std::fs::remove_file(&input.data).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &input.data).unwrap();
    let outcome = run_shards(&store, &shards, &opts, &NoObserver).await;
    assert_eq!(outcome.exit, ExitKind::Permanent, "{}", errors(&outcome));
    let failed = by_granule(&outcome, "SEA_SURFACE_HEIGHT_day_mean_1992-01-01");
    let error = failed[0].error.as_ref().unwrap();
    assert_eq!(error.kind, ErrorKind::Permanent);
    assert!(
        error.message.contains("SSH_day_mean.0000000012.data"),
        "{}",
        error.message
    );
    assert!(error.message.contains("symbolic link"), "{}", error.message);
    assert!(!Path::new(&failed[0].granule).exists());

    // A directory in its place: not a regular file (not "not found").
    std::fs::remove_file(&input.data).unwrap();
    std::fs::create_dir(&input.data).unwrap();
    let outcome = run_shards(&store, &shards, &opts, &NoObserver).await;
    let failed = by_granule(&outcome, "SEA_SURFACE_HEIGHT_day_mean_1992-01-01");
    let error = failed[0].error.as_ref().unwrap();
    assert_eq!(error.kind, ErrorKind::Permanent);
    assert!(
        error.message.contains("not a regular file") && error.message.contains("a directory"),
        "{}",
        error.message
    );
}

/// A task whose inputs are 1992-01 but whose name is the finished 1992-02 granule is refused
/// before anything is written: the finished granule keeps its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granule_name_for_other_inputs_is_refused_and_the_finished_granule_kept() {
    let f = fixture();
    let store = Store::local_only();
    let (run_id, shards) = plan(&store, &f.demo, &f.dest).await;
    let opts = options(&f.dest, &run_id);
    assert_eq!(
        run_shards(&store, &shards, &opts, &NoObserver).await.exit,
        ExitKind::Success
    );
    let all: Vec<&Task> = shards.iter().flat_map(|s| s.tasks.iter()).collect();
    let january = all
        .iter()
        .find(|t| t.granule.contains("_mon_mean_1992-01_"))
        .unwrap();
    let february = january
        .granule
        .replace("_mon_mean_1992-01_", "_mon_mean_1992-02_");
    assert!(Path::new(&february).is_file(), "{february}");
    let before = sha256(Path::new(&february));

    for edp_key in [true, false] {
        let mut wrong = if edp_key {
            (*january).clone()
        } else {
            january.without_edp()
        };
        wrong.granule = february.clone();
        if let Some(edp) = wrong.edp.as_mut() {
            edp.task_id = String::new();
        }
        let mut forced = options(&f.dest, "20261121T101500Z-0a1b2c3d");
        forced.force = true;
        let outcome = run_tasks(&store, vec![(wrong, None)], &forced, &NoObserver).await;
        assert_eq!(outcome.exit, ExitKind::Permanent, "{}", errors(&outcome));
        let message = &outcome.tasks[0].error.as_ref().unwrap().message;
        assert!(
            message.contains("expected 1992-01, found 1992-02"),
            "{message}"
        );
        assert_eq!(sha256(Path::new(&february)), before);
    }
}

/// A file at a granule's final name that edp did not write is not replaced without
/// `--force` (the message says how to replace or keep it); the other granules are produced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unrecorded_file_at_a_final_name_is_kept_unless_forced() {
    let f = fixture();
    let store = Store::local_only();
    let (run_id, shards) = plan(&store, &f.demo, &f.dest).await;
    let foreign = PathBuf::from(&shards[0].tasks[0].granule);
    std::fs::create_dir_all(foreign.parent().unwrap()).unwrap();
    std::fs::write(&foreign, b"made by another tool").unwrap();

    let opts = options(&f.dest, &run_id);
    let outcome = run_shards(&store, &shards, &opts, &NoObserver).await;
    assert_eq!(outcome.exit, ExitKind::Permanent, "{}", errors(&outcome));
    assert_eq!(outcome.counts().failed, 1);
    assert_eq!(outcome.counts().done as usize, outcome.tasks.len() - 1);
    let failed = outcome.failures().next().unwrap();
    let message = &failed.error.as_ref().unwrap().message;
    assert!(
        message.contains("--force") && message.contains(foreign.to_str().unwrap()),
        "{message}"
    );
    assert_eq!(std::fs::read(&foreign).unwrap(), b"made by another tool");

    let mut forced = opts.clone();
    forced.force = true;
    let outcome = run_shards(&store, &shards[..1], &forced, &NoObserver).await;
    assert_eq!(outcome.exit, ExitKind::Success);
    assert_ne!(std::fs::read(&foreign).unwrap(), b"made by another tool");
}

/// The bad-input corpus (`tests/bad_input/*.json`, described in its README): each case
/// mutates the inputs or the task of one granule of a fresh demo tree, runs that task and
/// checks the exact error class, that the message names the file or key with what was
/// expected and found, and that nothing outside the destination or under a final name of a
/// failed task changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_corpus() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_input");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "corpus missing: {}", corpus.display());
    for file in &files {
        let case: serde_json::Value =
            serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        run_case(&case).await;
    }
}

async fn run_case(case: &serde_json::Value) {
    let name = case["case"].as_str().unwrap();
    let mutate = &case["mutate"];
    let expect = &case["expect"];
    let f = fixture();
    let store = Store::local_only();
    let (run_id, shards) = plan(&store, &f.demo, &f.dest).await;
    let mut task = shards
        .iter()
        .flat_map(|s| s.tasks.iter())
        .find(|t| {
            t.granule.contains("/native/")
                && t.granule
                    .contains("SEA_SURFACE_HEIGHT_day_mean_1992-01-01_")
        })
        .unwrap()
        .clone();
    let input = f
        .demo
        .input("SSH", edp_conventions::Frequency::AvgDay, 12)
        .unwrap()
        .clone();
    let mut opts = options(&f.dest, &run_id);
    let parent = f.dest.parent().unwrap().to_path_buf();
    let file_name = Path::new(&task.granule)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let fill = |text: &str, given: &str| {
        text.replace("{given}", given)
            .replace("{dest}", &f.dest.display().to_string())
            .replace("{parent}", &parent.display().to_string())
            .replace("{name}", &file_name)
    };
    let str_of = |key: &str| mutate[key].as_str().unwrap_or_default().to_string();
    let target = str_of("target");
    let action = str_of("action");
    let path = match target.as_str() {
        "meta" => input.meta.clone(),
        "data" => input.data.clone(),
        _ => PathBuf::from(&task.granule),
    };
    match (target.as_str(), action.as_str()) {
        ("granule", "set") => task.granule = fill(&str_of("to"), ""),
        ("granule", "replace") => {
            let from = str_of("from");
            assert!(
                task.granule.contains(&from),
                "{name}: {from} not in {}",
                task.granule
            );
            task.granule = task.granule.replace(&from, &str_of("to"));
            if let Some(pair) = mutate["and"].as_array() {
                let (a, b) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
                assert!(task.granule.contains(a), "{name}: {a}");
                task.granule = task.granule.replace(a, b);
            }
        }
        (_, "write_text") => {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, str_of("text")).unwrap();
        }
        (_, "replace") => {
            let text = std::fs::read_to_string(&path).unwrap();
            let from = str_of("from");
            assert!(text.contains(&from), "{name}: {from:?} not in {text}");
            std::fs::write(&path, text.replace(&from, &str_of("to"))).unwrap();
        }
        (_, "truncate_half") => {
            let bytes = std::fs::read(&path).unwrap();
            std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        }
        (_, "directory") => {
            std::fs::remove_file(&path).unwrap();
            std::fs::create_dir(&path).unwrap();
        }
        (_, "fifo") => {
            std::fs::remove_file(&path).unwrap();
            let made = std::process::Command::new("mkfifo")
                .arg(&path)
                .status()
                .unwrap();
            assert!(made.success(), "{name}: mkfifo");
        }
        #[cfg(unix)]
        (_, "symlink") => {
            std::fs::remove_file(&path).unwrap();
            std::os::unix::fs::symlink(str_of("to"), &path).unwrap();
        }
        #[cfg(unix)]
        (_, "symlink_copy_outside") => {
            let copy = parent.join("copy-outside.data");
            std::fs::copy(&path, &copy).unwrap();
            std::fs::remove_file(&path).unwrap();
            std::os::unix::fs::symlink(&copy, &path).unwrap();
        }
        (_, "all_infinite") => {
            let len = std::fs::metadata(&path).unwrap().len() as usize;
            let inf = f32::INFINITY.to_be_bytes();
            let bytes: Vec<u8> = inf.iter().copied().cycle().take(len).collect();
            std::fs::write(&path, bytes).unwrap();
        }
        other => panic!("{name}: unknown mutation {other:?}"),
    }
    if mutate["source_root"].as_bool() == Some(true) {
        opts.source_root = Some(Root::parse(&f.demo.source_root.display().to_string()).unwrap());
    }

    let final_name = PathBuf::from(&task.granule);
    let before = tree(&parent);
    let outcome = run_tasks(&store, vec![(task.clone(), None)], &opts, &NoObserver).await;
    let result = &outcome.tasks[0];
    let after = tree(&parent);

    if expect["status"].as_str() == Some("done") {
        assert_eq!(
            result.status,
            TaskStatus::Done,
            "{name}: {:?}",
            result.error
        );
        for fragment in expect["warning"].as_array().unwrap() {
            let fragment = fragment.as_str().unwrap();
            assert!(
                result.warnings.iter().any(|w| w.contains(fragment)),
                "{name}: no warning with {fragment:?} in {:?}",
                result.warnings
            );
        }
        return;
    }
    assert_eq!(result.status, TaskStatus::Failed, "{name}");
    let error = result.error.as_ref().unwrap();
    let kind = match expect["kind"].as_str().unwrap() {
        "permanent" => ErrorKind::Permanent,
        _ => ErrorKind::Retryable,
    };
    assert_eq!(error.kind, kind, "{name}: {}", error.message);
    assert_eq!(
        outcome.exit,
        if kind == ErrorKind::Permanent {
            ExitKind::Permanent
        } else {
            ExitKind::Retryable
        },
        "{name}"
    );
    for fragment in expect["message"].as_array().unwrap() {
        let fragment = fill(fragment.as_str().unwrap(), &format!("{:?}", task.granule));
        assert!(
            error.message.contains(&fragment),
            "{name}: {fragment:?} not in {:?}",
            error.message
        );
    }
    // Nothing changed outside the destination's run bookkeeping; the final name of the
    // failed granule holds what it held before (or nothing).
    for (path, hash) in &after {
        if before.get(path) == Some(hash) {
            continue;
        }
        assert!(
            path.starts_with(f.dest.join("_edp/runs"))
                || path.starts_with(f.dest.join("_edp/granules"))
                || path.starts_with(f.dest.join("cache")),
            "{name}: {} changed",
            path.display()
        );
    }
    assert_eq!(
        before.get(&final_name),
        after.get(&final_name),
        "{name}: the final name changed"
    );
}

/// An S3 endpoint whose first `cut` GETs send the headers of the whole object but only half
/// its bytes, then hang up (a body interrupted mid-stream); HEADs and later GETs answer in
/// full. Returns the endpoint and the count of GETs served.
fn interrupting_endpoint(
    object: &'static [u8],
    cut: usize,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let gets = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = gets.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let headers = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"0123abcd\"\r\n\
                 Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                object.len()
            );
            let _ = stream.write_all(headers.as_bytes());
            if head.starts_with(b"GET") {
                let served = counter.fetch_add(1, Ordering::SeqCst) + 1;
                let body = if served <= cut {
                    &object[..object.len() / 2]
                } else {
                    object
                };
                let _ = stream.write_all(body);
            }
            // Dropping the stream closes the connection.
        }
    });
    (endpoint, gets)
}

/// A response body cut off mid-stream is retried inside the worker (the SDK's own retries
/// stop once a body starts): two interrupted GETs then a whole one give the whole object;
/// an endpoint that always interrupts gives up after the bound, retryably, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_body_interrupted_mid_stream_is_fetched_again() {
    use edp_runner::executor::{FetchRetry, fetch_with_retries};
    use std::sync::atomic::Ordering;
    static OBJECT: [u8; 64 << 10] = {
        let mut bytes = [0u8; 64 << 10];
        let mut i = 0;
        while i < bytes.len() {
            bytes[i] = (i % 251) as u8;
            i += 1;
        }
        bytes
    };
    let retry = FetchRetry {
        attempts: 4,
        first_backoff: std::time::Duration::from_millis(10),
        max_backoff: std::time::Duration::from_millis(40),
    };
    let location = Location::parse("s3://bucket/SSH_day_mean.0000000012.data").unwrap();

    let (endpoint, gets) = interrupting_endpoint(&OBJECT, 2);
    let store = moto_store(endpoint).await;
    let (bytes, etag) = fetch_with_retries(&store, &location, &retry).await.unwrap();
    assert_eq!(bytes, OBJECT.to_vec());
    assert_eq!(etag.as_deref(), Some("0123abcd"));
    assert_eq!(
        gets.load(Ordering::SeqCst),
        3,
        "two interrupted GETs, one whole"
    );

    let (endpoint, gets) = interrupting_endpoint(&OBJECT, usize::MAX);
    let store = moto_store(endpoint).await;
    let failure = fetch_with_retries(&store, &location, &retry)
        .await
        .unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Retryable);
    assert!(
        failure
            .message
            .contains("input read failed 4 times, giving up")
            && failure.message.contains("response body interrupted")
            && failure.message.contains("SSH_day_mean.0000000012.data"),
        "{}",
        failure.message
    );
    assert_eq!(gets.load(Ordering::SeqCst), 4);
}
