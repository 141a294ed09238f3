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
    assert_eq!(outcome.exit, ExitKind::Permanent);
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
    assert_eq!(outcome.exit, ExitKind::Permanent);
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
    assert_eq!(outcome.exit, ExitKind::Permanent);
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
