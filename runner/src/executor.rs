//! The shard executor: every task of a shard (or of several shards, or of a task list) on all
//! cores, each one:
//!
//! 1. skipped when done (done marker + granule with the recorded size), unless `force`;
//! 2. recorded as `running` in the run's ledger (attempts = previous attempts + 1);
//! 3. its resources (grid, catalog, configuration) taken from the per-location cache;
//! 4. its inputs fetched through [`WorkerOptions::source_store`], or the [`Store`] when that
//!    is unset (HEAD for the ETag, then GET), into memory;
//! 5. produced by `edp-granule` on a blocking thread into a local file (for a local
//!    destination the final path, written under a temporary name and renamed; for `s3://` a
//!    file in the cache folder), then hashed (SHA-256) and, for `s3://`, uploaded;
//! 6. recorded: `done` ledger record (with the granule's chunk index, read back through HDF5)
//!    then done marker, or `failed` with the classified error.
//!
//! Every finished granule is logged with `run_id`, `task_id`, `granule`, `seconds` and
//! `bytes`, and with [`MetricsOutput::Stdout`] also written as a CloudWatch EMF line.
//!
//! Parallelism: up to [`WorkerOptions::effective_concurrency`] tasks are in flight, and with a
//! memory budget ([`WorkerOptions::effective_memory_budget_mb`]) only as many as the working
//! memory estimates of `edp_plan::memory` allow (see [`run_within_limits`]); their
//! fetches are asynchronous, their conversions run on tokio's blocking pool and use rayon's
//! global pool (one thread per core) inside, so the total number of busy threads stays near
//! the core count while one granule's NetCDF write (a global lock) overlaps another's decode.

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use chrono::{SecondsFormat, Utc};
use edp_granule::{MemoryInputs, produce_task};
use edp_plan::confine;
use edp_plan::cost::{CostModel, task_kind};
use edp_plan::memory::{MemoryModel, next_within_budget};
use edp_plan::state::{
    Layout, StateError, find_done, is_recorded, record_success, task_key, write_granule_record,
    write_ledger,
};
use edp_plan::tasklist::unsupported_reason;
use edp_plan::validate::validate_task;
use edp_store::{Location, Store};
use edp_task_schemas::{ChunkIndex, LedgerRecord, ProductKind, Shard, Task, TaskStatus};
use futures::stream::{self, FuturesUnordered, StreamExt};
use indexmap::IndexMap;

use crate::digest::sha256_file;
use crate::emf::GranuleMetric;
use crate::failure::Failure;
use crate::options::{MetricsOutput, WorkerOptions};
use crate::outcome::{ShardOutcome, TaskOutcome};
use crate::process::peak_memory_bytes;
use crate::resources::WorkerResources;

/// Version of the worker written into ledger records.
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One fetched input: location as written in the task, bytes, ETag.
type Fetched = (String, Vec<u8>, Option<String>);

/// Inputs of one task fetched concurrently.
const FETCH_CONCURRENCY: usize = 8;

/// Told about every task as it starts and finishes (progress bars, tests).
pub trait TaskObserver: Send + Sync {
    /// A task is about to be processed.
    fn started(&self, _task: &Task) {}
    /// A task finished (done, failed or skipped).
    fn finished(&self, _outcome: &TaskOutcome) {}
}

/// An observer that does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl TaskObserver for NoObserver {}

/// Runs every task of `shard` (see the module documentation).
pub async fn run_shard(store: &Store, shard: &Shard, options: &WorkerOptions) -> ShardOutcome {
    run_shards(store, std::slice::from_ref(shard), options, &NoObserver).await
}

/// Runs the tasks of several shards in one pool (ledger records keep each task's shard).
pub async fn run_shards(
    store: &Store,
    shards: &[Shard],
    options: &WorkerOptions,
    observer: &dyn TaskObserver,
) -> ShardOutcome {
    let tasks = shards
        .iter()
        .flat_map(|s| s.tasks.iter().map(move |t| (t.clone(), Some(s.index))))
        .collect();
    run_tasks(store, tasks, options, observer).await
}

/// Runs `tasks` (each with the shard it came from, if any). Tasks writing a granule already
/// written by an earlier task of the list are left out with a warning (EDP task lists can
/// repeat a granule; producing it twice at once would race). The rest start in order of
/// decreasing estimated cost (see [`longest_first`]).
pub async fn run_tasks(
    store: &Store,
    tasks: Vec<(Task, Option<u32>)>,
    options: &WorkerOptions,
    observer: &dyn TaskObserver,
) -> ShardOutcome {
    let started = Instant::now();
    // Before any NetCDF use of this execution (see `nc_thread`).
    edp_granule::nc_thread::start();
    let mut seen = HashSet::new();
    let tasks: Vec<(Task, Option<u32>)> = tasks
        .into_iter()
        .filter(|(task, _)| {
            let first = seen.insert(task.granule.clone());
            if !first {
                tracing::warn!(granule = %task.granule, "duplicate task for this granule ignored");
            }
            first
        })
        .collect();
    let tasks = longest_first(tasks);
    let context = Context {
        store,
        options,
        layout: Layout::new(options.dest_root.location()),
        resources: WorkerResources::new(
            store.clone(),
            options.cache_dir.clone(),
            options.defaults.clone(),
        )
        .with_skip_invalid_metadata(options.skip_invalid_metadata),
        observer,
    };
    let memory_budget_mb = options.effective_memory_budget_mb();
    tracing::info!(
        run_id = %options.run_id,
        tasks = tasks.len(),
        concurrency = options.effective_concurrency(),
        memory_budget_mb,
        "starting"
    );
    let outcomes = run_within_limits(
        tasks,
        options.effective_concurrency().max(1),
        memory_budget_mb.map(|mb| mb as f64),
        |task, shard| context.process(task, shard),
    )
    .await;
    // A weights cache file still being written (after a build) is finished before the run
    // reports; dropping the cache would wait for it too, but on the runtime's thread.
    context.resources.wait_for_cache_writes().await;
    ShardOutcome::new(
        options.run_id.clone(),
        outcomes,
        started.elapsed().as_secs_f64(),
    )
}

/// Runs `process` on every task, at most `concurrency` at a time and, with a budget, with the
/// working-memory estimates of the tasks in flight ([`MemoryModel`]) within `budget_mb`: the
/// next task started is the first in order that fits ([`next_within_budget`]), so a 3-D
/// lat-lon granule waits for another to finish while smaller ones keep the cores busy, and
/// one task always runs. Outcomes come in the order tasks finish.
async fn run_within_limits<F, Fut>(
    tasks: Vec<(Task, Option<u32>)>,
    concurrency: usize,
    budget_mb: Option<f64>,
    process: F,
) -> Vec<TaskOutcome>
where
    F: Fn(Task, Option<u32>) -> Fut,
    Fut: Future<Output = TaskOutcome>,
{
    let model = MemoryModel::default();
    // A task whose kind is unknown fails fast in `process`; it weighs nothing here.
    let mut estimates: Vec<f64> = tasks
        .iter()
        .map(|(task, _)| model.estimate(task).unwrap_or(0.0))
        .collect();
    let mut waiting = tasks;
    let mut outcomes = Vec::with_capacity(waiting.len());
    let mut running = FuturesUnordered::new();
    let mut in_flight_mb = 0.0;
    loop {
        while running.len() < concurrency {
            let Some(next) = next_within_budget(&estimates, running.len(), in_flight_mb, budget_mb)
            else {
                break;
            };
            let estimate = estimates.remove(next);
            let (task, shard) = waiting.remove(next);
            in_flight_mb += estimate;
            let work = process(task, shard);
            running.push(async move { (work.await, estimate) });
        }
        match running.next().await {
            Some((outcome, estimate)) => {
                // Exactly zero once nothing runs, whatever the rounding of the sums.
                in_flight_mb = if running.is_empty() {
                    0.0
                } else {
                    in_flight_mb - estimate
                };
                outcomes.push(outcome);
            }
            None => break,
        }
    }
    outcomes
}

/// The tasks in order of decreasing estimated cost (the planner's `edp.cost_core_seconds`, else
/// the cost model's estimate; ties and tasks without an estimate keep their order).
///
/// Started longest first, the tasks of a pool of `c` slots finish within 4/3 of the best
/// possible time (Graham's bound); in list order, a 3-D lat-lon granule listed last runs
/// alone on one core while the others idle.
fn longest_first(tasks: Vec<(Task, Option<u32>)>) -> Vec<(Task, Option<u32>)> {
    let model = CostModel::default();
    let mut costed: Vec<(f64, (Task, Option<u32>))> = tasks
        .into_iter()
        .map(|entry| {
            let cost = model.task_cost(&entry.0).unwrap_or(0.0);
            (if cost.is_finite() { cost } else { 0.0 }, entry)
        })
        .collect();
    costed.sort_by(|a, b| b.0.total_cmp(&a.0));
    costed.into_iter().map(|(_, entry)| entry).collect()
}

/// What every task of one execution shares.
struct Context<'a> {
    store: &'a Store,
    options: &'a WorkerOptions,
    layout: Layout,
    resources: WorkerResources,
    observer: &'a dyn TaskObserver,
}

/// What a successful production leaves behind.
struct Produced {
    bytes: u64,
    sha256: String,
    input_etags: IndexMap<String, String>,
    config_hash: String,
    warnings: Vec<String>,
    chunk_index: ChunkIndex,
}

fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Context<'_> {
    /// Processes one task and reports its outcome (never fails: failures are outcomes).
    async fn process(&self, task: Task, shard_index: Option<u32>) -> TaskOutcome {
        self.observer.started(&task);
        let started = Instant::now();
        let started_at = now_rfc3339();
        let task_id = task_key(&task);
        let kind = task_kind(&task).ok();
        let mut outcome = TaskOutcome {
            task_id: task_id.clone(),
            granule: task.granule.clone(),
            product_kind: kind,
            shard_index,
            status: TaskStatus::Failed,
            error: None,
            attempts: 0,
            seconds: 0.0,
            output_bytes: None,
            sha256: None,
            warnings: Vec::new(),
        };
        let previous = self.previous_attempts(&task_id).await;
        let mut record = LedgerRecord {
            task_id: task_id.clone(),
            granule: task.granule.clone(),
            run_id: self.options.run_id.clone(),
            status: TaskStatus::Running,
            attempts: previous,
            error: None,
            shard_index,
            seconds: None,
            peak_memory_bytes: None,
            output_bytes: None,
            sha256: None,
            input_etags: Default::default(),
            software_version: SOFTWARE_VERSION.to_string(),
            config_hash: task
                .edp
                .as_ref()
                .map(|e| e.config_hash.clone())
                .unwrap_or_default(),
            started_at: Some(started_at),
            finished_at: None,
            chunk_index: None,
        };

        // Where the granule goes, refused before anything is read or written when the task
        // would write outside the destination root (permanent: the task itself is wrong).
        let granule = match confine::granule_location(&self.options.dest_root, &task.granule) {
            Ok(granule) => granule,
            Err(err) => {
                outcome.attempts = previous;
                return self
                    .fail(
                        outcome,
                        record,
                        Failure::permanent(err.to_string()),
                        started,
                    )
                    .await;
            }
        };

        match self.already_done(&task).await {
            Ok(Some(done)) if done.run_id == self.options.run_id => {
                // A retry of this run (Batch retried the shard, or the container was killed
                // after the granule was recorded) finds the granule this run produced: the
                // run's ledger keeps `done`, with the attempt that did it; this execution
                // skipped it (its outcome says so, and it produced no bytes).
                outcome.status = TaskStatus::Skipped;
                outcome.attempts = done.attempts;
                outcome.output_bytes = done.output_bytes;
                outcome.sha256 = done.sha256.clone();
                if let Err(err) = write_ledger(self.store, &self.layout, &done).await {
                    tracing::warn!(run_id = %done.run_id, task_id = %task_id, error = %err,
                        "cannot restore the done ledger record of this run");
                }
                outcome.seconds = started.elapsed().as_secs_f64();
                tracing::info!(run_id = %done.run_id, task_id = %task_id,
                    granule = %task.granule, "granule already done by this run");
                self.observer.finished(&outcome);
                return outcome;
            }
            Ok(Some(done)) => {
                outcome.status = TaskStatus::Skipped;
                outcome.attempts = previous;
                outcome.output_bytes = done.output_bytes;
                outcome.sha256 = done.sha256.clone();
                record.status = TaskStatus::Skipped;
                record.output_bytes = done.output_bytes;
                record.sha256 = done.sha256;
                record.finished_at = Some(now_rfc3339());
                if let Err(err) = write_ledger(self.store, &self.layout, &record).await {
                    // The granule is done; only this run's bookkeeping is incomplete.
                    tracing::warn!(run_id = %record.run_id, task_id = %task_id, error = %err,
                        "cannot record the skipped granule in the ledger");
                }
                outcome.seconds = started.elapsed().as_secs_f64();
                tracing::info!(run_id = %record.run_id, task_id = %task_id,
                    granule = %task.granule, "granule already done, skipped");
                self.observer.finished(&outcome);
                return outcome;
            }
            Ok(None) => {}
            Err(failure) => {
                outcome.attempts = previous;
                return self.fail(outcome, record, failure, started).await;
            }
        }

        record.attempts = previous + 1;
        outcome.attempts = previous + 1;
        if let Err(err) = write_ledger(self.store, &self.layout, &record).await {
            let failure = Failure::from(err).context("recording the start in the ledger");
            return self.fail(outcome, record, failure, started).await;
        }
        if let Err(failure) = self.validate(&task).await {
            return self.fail(outcome, record, failure, started).await;
        }
        if let Err(failure) = self.claim_final_name(&task, &granule, &record).await {
            return self.fail(outcome, record, failure, started).await;
        }
        match self.produce(&task, &task_id, &granule).await {
            Ok(produced) => {
                record.status = TaskStatus::Done;
                record.output_bytes = Some(produced.bytes);
                record.sha256 = Some(produced.sha256.clone());
                record.input_etags = produced.input_etags;
                record.config_hash = produced.config_hash;
                record.chunk_index = Some(produced.chunk_index);
                record.seconds = Some(started.elapsed().as_secs_f64());
                record.peak_memory_bytes = peak_memory_bytes();
                record.finished_at = Some(now_rfc3339());
                let recorded =
                    match write_granule_record(self.store, &self.layout, &granule, &record).await {
                        Ok(_) => record_success(self.store, &self.layout, &record).await,
                        Err(err) => Err(err),
                    };
                if let Err(err) = recorded {
                    let failure = Failure::from(err).context(
                        "the granule was written but recording it (ledger, done marker) failed",
                    );
                    return self.fail(outcome, record, failure, started).await;
                }
                outcome.status = TaskStatus::Done;
                outcome.output_bytes = Some(produced.bytes);
                outcome.sha256 = Some(produced.sha256);
                outcome.warnings = produced.warnings;
                outcome.seconds = started.elapsed().as_secs_f64();
                for warning in &outcome.warnings {
                    tracing::warn!(task_id = %task_id, granule = %task.granule, "{warning}");
                }
                tracing::info!(
                    run_id = %self.options.run_id,
                    task_id = %task_id,
                    granule = %task.granule,
                    seconds = outcome.seconds,
                    bytes = produced.bytes,
                    "granule done"
                );
                self.emit_metric(&outcome);
                self.observer.finished(&outcome);
                outcome
            }
            Err(failure) => self.fail(outcome, record, failure, started).await,
        }
    }

    /// Records a failure in the ledger and the outcome.
    async fn fail(
        &self,
        mut outcome: TaskOutcome,
        mut record: LedgerRecord,
        failure: Failure,
        started: Instant,
    ) -> TaskOutcome {
        outcome.status = TaskStatus::Failed;
        outcome.error = Some(failure.to_task_error());
        outcome.seconds = started.elapsed().as_secs_f64();
        record.status = TaskStatus::Failed;
        record.error = outcome.error.clone();
        record.seconds = Some(outcome.seconds);
        record.peak_memory_bytes = peak_memory_bytes();
        record.finished_at = Some(now_rfc3339());
        tracing::error!(
            run_id = %self.options.run_id,
            task_id = %outcome.task_id,
            granule = %outcome.granule,
            seconds = outcome.seconds,
            kind = kind_name(failure.kind),
            "granule failed: {}",
            failure.message
        );
        if let Err(err) = write_ledger(self.store, &self.layout, &record).await {
            tracing::error!(task_id = %outcome.task_id, error = %err,
                "cannot record the failure in the ledger");
        }
        self.emit_metric(&outcome);
        self.observer.finished(&outcome);
        outcome
    }

    /// Attempts recorded for this task in this run so far (0 when none or unreadable).
    async fn previous_attempts(&self, task_id: &str) -> u32 {
        let location = self.layout.ledger(&self.options.run_id, task_id);
        match self.store.get(&location).await {
            Ok(bytes) => match serde_json::from_slice::<LedgerRecord>(&bytes) {
                Ok(record) => record.attempts,
                Err(err) => {
                    tracing::warn!(%location, error = %err, "unreadable ledger record, attempts restart at 1");
                    0
                }
            },
            Err(_) => 0,
        }
    }

    /// The done marker of the task when the skip rule holds (and `force` is off).
    async fn already_done(&self, task: &Task) -> Result<Option<LedgerRecord>, Failure> {
        if self.options.force {
            return Ok(None);
        }
        find_done(self.store, &self.options.dest_root, task)
            .await
            .map_err(|e: StateError| Failure::from(e).context("checking the done marker"))
    }

    /// The task is supported and its granule name describes its inputs (checked before the
    /// final name is touched; the resources loaded here are cached for the production).
    async fn validate(&self, task: &Task) -> Result<(), Failure> {
        if let Some(reason) = unsupported_reason(task) {
            return Err(Failure::permanent(reason));
        }
        let (resources, _) = self.resources.for_task(task).await?;
        validate_task(task, &resources.config.clock).map_err(|e| Failure::permanent(e.to_string()))
    }

    /// Refuses to replace a file at the granule's final name that edp did not record (made by
    /// another tool, or copied there), unless `force`; then records the intent to write it
    /// (see [`write_granule_record`]), so that a crash between writing the file and recording
    /// it never makes edp's own file look foreign.
    async fn claim_final_name(
        &self,
        task: &Task,
        granule: &Location,
        record: &LedgerRecord,
    ) -> Result<(), Failure> {
        if !self.options.force && self.store.head(granule).await?.is_some() {
            let recorded = is_recorded(self.store, &self.layout, granule, task)
                .await
                .map_err(|e| Failure::from(e).context("checking the granule record"))?;
            if !recorded {
                let record_location = self
                    .layout
                    .granule_record(&granule.relative_to(self.layout.dest()).unwrap_or_default());
                return Err(Failure::permanent(format!(
                    "task {}: refused to replace {granule}: a file is at this final name but edp \
                     has no record of writing it (expected {record_location}, found none); to \
                     replace it run again with --force, to keep it move it out of the \
                     destination (or use it as it is and leave this granule out of the job)",
                    task.granule
                )));
            }
        }
        write_granule_record(self.store, &self.layout, granule, record)
            .await
            .map_err(|e| Failure::from(e).context("recording the granule's final name"))?;
        Ok(())
    }

    /// Steps 3-5 of the module documentation.
    async fn produce(
        &self,
        task: &Task,
        task_id: &str,
        granule: &Location,
    ) -> Result<Produced, Failure> {
        if let Some(reason) = unsupported_reason(task) {
            return Err(Failure::permanent(reason));
        }
        let phase = Instant::now();
        let (resources, _locations) = self.resources.for_task(task).await?;
        let config_hash = resources.config.config_hash();
        let resources_seconds = phase.elapsed().as_secs_f64();
        let (inputs, input_etags) = self.fetch_inputs(task).await?;
        tracing::debug!(
            task_id,
            resources_seconds,
            fetch_seconds = phase.elapsed().as_secs_f64() - resources_seconds,
            input_bytes = inputs.total_bytes(),
            "inputs fetched"
        );

        let name = granule.file_name().unwrap_or("granule.nc").to_string();
        let (out_path, upload) = match granule.as_local_path() {
            Some(path) => (path.to_path_buf(), false),
            None => (
                self.options
                    .cache_dir
                    .join("work")
                    .join(&self.options.run_id)
                    .join(task_id)
                    .join(&name),
                true,
            ),
        };
        let owned_task = task.clone();
        let path = out_path.clone();
        let input_bytes = inputs.total_bytes();
        let (report, bytes, sha256, chunk_index) = tokio::task::spawn_blocking(move || {
            let report = produce_task(&owned_task, &resources, &inputs, &path)
                .map_err(|err| Failure::from(&err).or_refused_write(&path, input_bytes))?;
            drop(inputs);
            let (bytes, sha256) = sha256_file(&path).map_err(|e| {
                Failure::retryable(format!("cannot read back {}: {e}", path.display()))
            })?;
            // Where every chunk sits, for virtual stores (which never open granules).
            let chunk_index = edp_h5chunks::chunk_index(&path).map_err(|e| {
                Failure::retryable(format!("cannot index the chunks of the granule: {e}"))
            })?;
            Ok::<_, Failure>((report, bytes, sha256, chunk_index))
        })
        .await??;
        tracing::debug!(
            task_id,
            read_seconds = report.timings.read_seconds,
            write_seconds = report.timings.write_seconds,
            produce_seconds = report.timings.total_seconds,
            "granule written"
        );

        if upload {
            let result = self.store.put_file(granule, &out_path).await;
            remove_work_file(&out_path);
            result?;
        }
        Ok(Produced {
            bytes,
            sha256,
            input_etags,
            config_hash,
            warnings: report.warnings,
            chunk_index,
        })
    }

    /// Fetches every input object of the task into memory, keyed by the location strings of
    /// the task, with the ETags seen.
    async fn fetch_inputs(
        &self,
        task: &Task,
    ) -> Result<(MemoryInputs, IndexMap<String, String>), Failure> {
        let mut wanted: Vec<String> = Vec::new();
        for (_, pair) in task.input_pairs() {
            for location in [&pair.meta, &pair.data] {
                if !wanted.contains(location) {
                    wanted.push(location.clone());
                }
            }
        }
        // Model output may sit in another account: read it with the source store if any.
        let source = self.options.source_store.as_ref().unwrap_or(self.store);
        let fetched: Vec<Result<Fetched, Failure>> =
            stream::iter(wanted.into_iter().map(|given| async move {
                let location = match &self.options.source_root {
                    Some(root) => confine::input_location(root, &task.granule, &given)
                        .map_err(|e| Failure::permanent(e.to_string()))?,
                    None => Location::parse(&given).map_err(|e| {
                        Failure::permanent(format!(
                            "task {}: input location {given:?}: {e}",
                            task.granule
                        ))
                    })?,
                };
                let (bytes, etag) = fetch_with_retries(source, &location, &FETCH_RETRY).await?;
                Ok((given, bytes, etag))
            }))
            .buffered(FETCH_CONCURRENCY)
            .collect()
            .await;
        let mut inputs = MemoryInputs::new();
        let mut etags = IndexMap::new();
        for item in fetched {
            let (given, bytes, etag) = item?;
            if let Some(etag) = etag {
                etags.insert(given.clone(), etag);
            }
            inputs.insert(given, bytes);
        }
        Ok((inputs, etags))
    }

    /// One EMF line for a finished (done or failed) granule.
    fn emit_metric(&self, outcome: &TaskOutcome) {
        if self.options.metrics != MetricsOutput::Stdout {
            return;
        }
        let line = GranuleMetric {
            product_kind: outcome.product_kind.map_or("unknown", ProductKind::as_str),
            succeeded: outcome.status == TaskStatus::Done,
            seconds: outcome.seconds,
            run_id: &self.options.run_id,
            task_id: &outcome.task_id,
            granule: &outcome.granule,
            timestamp_ms: Utc::now().timestamp_millis(),
        }
        .to_json_line();
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        // A closed stdout must not fail the granule; the log line has the same facts.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// How often and how patiently one input is fetched again after a transient failure
/// (throttling, a dropped connection, a body cut off mid-stream) before the task fails
/// retryably and Batch retries the whole shard.
#[derive(Debug, Clone, Copy)]
pub struct FetchRetry {
    /// Attempts in all (the first one included).
    pub attempts: u32,
    /// Wait before the second attempt; doubled for every further attempt.
    pub first_backoff: std::time::Duration,
    /// Upper bound of one wait.
    pub max_backoff: std::time::Duration,
}

/// The worker's bound: 5 attempts, waiting 0.2, 0.4, 0.8, 1.6 s (3 s in all at most).
pub const FETCH_RETRY: FetchRetry = FetchRetry {
    attempts: 5,
    first_backoff: std::time::Duration::from_millis(200),
    max_backoff: std::time::Duration::from_secs(5),
};

/// HEAD (for the ETag) and GET of one input, each retried on transient errors with
/// exponential backoff up to `retry.attempts`. The SDK retries a request only until its
/// response body starts; a body interrupted mid-stream surfaces here as a transient error and
/// is fetched again whole. A missing input, or a local path that is not a regular file, is
/// reported by the GET (which names what was found) and is permanent.
pub async fn fetch_with_retries(
    source: &Store,
    location: &Location,
    retry: &FetchRetry,
) -> Result<(Vec<u8>, Option<String>), Failure> {
    let mut backoff = retry.first_backoff;
    let mut attempt = 1;
    loop {
        let result = async {
            let etag = match source.head(location).await? {
                Some(meta) => meta.etag.map(|e| e.trim_matches('"').to_string()),
                // Let the GET say why (not found, not a regular file, ...).
                None => None,
            };
            let bytes = source.get(location).await?;
            Ok::<_, edp_store::StoreError>((bytes.to_vec(), etag))
        }
        .await;
        match result {
            Ok(fetched) => return Ok(fetched),
            Err(err) if err.is_retryable() && attempt < retry.attempts => {
                tracing::warn!(%location, attempt, error = %err,
                    "transient input read failure, retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(retry.max_backoff);
                attempt += 1;
            }
            Err(err) if err.is_retryable() => {
                return Err(Failure::from(&err)
                    .context(format!("input read failed {attempt} times, giving up")));
            }
            Err(err) => return Err(Failure::from(&err)),
        }
    }
}

/// The ledger spelling of an error kind, for log fields.
fn kind_name(kind: edp_task_schemas::ErrorKind) -> &'static str {
    match kind {
        edp_task_schemas::ErrorKind::Permanent => "permanent",
        edp_task_schemas::ErrorKind::Retryable => "retryable",
    }
}

/// Removes a granule staged for upload and its (now empty) task folder.
fn remove_work_file(path: &Path) {
    let _ = std::fs::remove_file(path);
    if let Some(parent) = path.parent() {
        let _ = std::fs::remove_dir(parent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(granule: &str, dimension: &str) -> Task {
        serde_json::from_value(serde_json::json!({
            "granule": granule,
            "variables": {"THETA": [["THETA_mon_mean.0000000732.data", "THETA_mon_mean.0000000732.meta"]]},
            "ecco_grid_loc": null, "ecco_mapping_factors_loc": null, "ecco_metadata_loc": null,
            "dynamic_metadata": {
                "name": "n", "dimension": dimension,
                "time_coverage_start": "1992-01-01T12:00:00", "time_coverage_end": "1992-02-01T00:00:00",
                "time_coverage_center": "1992-01-16T18:00:00", "time_long_name": "t",
                "time_coverage_duration": "P1M", "time_coverage_resolution": "P1M", "summary": "s"
            }
        }))
        .unwrap()
    }

    #[test]
    fn the_costliest_tasks_start_first_and_ties_keep_their_order() {
        let native = |month: u32| {
            task(
                &format!("out/X_mon_mean_1992-{month:02}_ECCO_V4r4_native_llc0090.nc"),
                "2D",
            )
        };
        let latlon_3d = task("out/Y_mon_mean_1992-01_ECCO_V4r4_latlon_0p50deg.nc", "3D");
        let model = CostModel::default();
        assert!(model.task_cost(&latlon_3d).unwrap() > model.task_cost(&native(1)).unwrap());
        // Unknown kind (no EDP granule name): no estimate, kept in place after the others.
        let unknown = task("out/not-a-granule-name.nc", "2D");
        let ordered = longest_first(vec![
            (native(1), Some(0)),
            (native(2), Some(0)),
            (latlon_3d, Some(1)),
            (unknown, None),
            (native(3), Some(1)),
        ]);
        let names: Vec<&str> = ordered
            .iter()
            .map(|(t, _)| t.granule.split('_').nth(3).unwrap_or(&t.granule))
            .collect();
        assert_eq!(
            names,
            [
                "1992-01",
                "1992-01",
                "1992-02",
                "1992-03",
                "out/not-a-granule-name.nc"
            ]
        );
        assert!(ordered[0].0.granule.contains("latlon"));
        assert_eq!(ordered[0].1, Some(1));
    }

    /// Runs `tasks` through [`run_within_limits`] with a process that yields a few times, and
    /// returns the largest number of tasks and of estimated MB that were in flight at once.
    fn peaks(
        tasks: Vec<(Task, Option<u32>)>,
        concurrency: usize,
        budget_mb: Option<f64>,
    ) -> (usize, f64, usize) {
        use std::sync::Mutex;
        let model = MemoryModel::default();
        // (tasks now, MB now, most tasks, most MB)
        let state = Mutex::new((0usize, 0.0f64, 0usize, 0.0f64));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let outcomes = runtime.block_on(run_within_limits(
            tasks,
            concurrency,
            budget_mb,
            |task, _| {
                let state = &state;
                let mb = model.estimate(&task).unwrap();
                async move {
                    {
                        let mut s = state.lock().unwrap();
                        s.0 += 1;
                        s.1 += mb;
                        s.2 = s.2.max(s.0);
                        s.3 = s.3.max(s.1);
                    }
                    for _ in 0..3 {
                        tokio::task::yield_now().await;
                    }
                    let mut s = state.lock().unwrap();
                    s.0 -= 1;
                    s.1 -= mb;
                    TaskOutcome {
                        task_id: task.granule.clone(),
                        granule: task.granule,
                        product_kind: None,
                        shard_index: None,
                        status: TaskStatus::Skipped,
                        error: None,
                        attempts: 0,
                        seconds: 0.0,
                        output_bytes: None,
                        sha256: None,
                        warnings: Vec::new(),
                    }
                }
            },
        ));
        let s = state.into_inner().unwrap();
        (s.2, s.3, outcomes.len())
    }

    fn mixed_tasks() -> Vec<(Task, Option<u32>)> {
        let latlon_3d = |month: u32| {
            task(
                &format!("out/Y_mon_mean_1992-{month:02}_ECCO_V4r4_latlon_0p50deg.nc"),
                "3D",
            )
        };
        let native_2d = |month: u32| {
            task(
                &format!("out/X_mon_mean_1992-{month:02}_ECCO_V4r4_native_llc0090.nc"),
                "2D",
            )
        };
        longest_first(
            [
                latlon_3d(1),
                latlon_3d(2),
                native_2d(1),
                native_2d(2),
                native_2d(3),
            ]
            .into_iter()
            .map(|t| (t, None))
            .collect(),
        )
    }

    #[test]
    fn without_a_budget_the_concurrency_alone_limits() {
        let (most_tasks, most_mb, finished) = peaks(mixed_tasks(), 2, None);
        assert_eq!(finished, 5);
        assert_eq!(most_tasks, 2);
        // The two 3-D lat-lon granules (104 MB each) start together.
        let one = MemoryModel::default()
            .estimate(&mixed_tasks()[0].0)
            .unwrap();
        assert_eq!(most_mb, 2.0 * one);
    }

    #[test]
    fn a_budget_keeps_large_granules_apart_and_small_ones_running() {
        let model = MemoryModel::default();
        let tasks = mixed_tasks();
        let large = model.estimate(&tasks[0].0).unwrap();
        let small = model.estimate(&tasks[4].0).unwrap();
        // Room for one large granule and one small one, not for two large ones.
        let budget = large + small;
        let (most_tasks, most_mb, finished) = peaks(tasks, 2, Some(budget));
        assert_eq!(finished, 5);
        assert_eq!(most_tasks, 2, "a small granule runs beside the large one");
        assert!(most_mb <= budget, "{most_mb} MB in flight, budget {budget}");
        // A budget below any task: one task at a time, all of them.
        let (most_tasks, _, finished) = peaks(mixed_tasks(), 2, Some(1.0));
        assert_eq!((most_tasks, finished), (1, 5));
    }
}
