//! Runs: ids, run records (`runs/<run_id>/run.json`), reports (`runs/<run_id>/report.json`)
//! and the scratch task list and shards of a run (`scratch/<run_id>/...`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use edp_store::{Location, Store};
use edp_task_schemas::{RunRecord, RunReport, Shard, Task};
use futures::stream::{self, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};

use super::{
    IO_CONCURRENCY, Layout, StateError, decode_tasks, get_json, is_safe_segment, put_json,
};
use crate::task_output::put_task_list;
use crate::tasklist::EdpKey;

/// A new run id for the current time: `20261121T101500Z-<8 hex>`.
pub fn new_run_id() -> String {
    new_run_id_at(Utc::now())
}

/// A new run id for `now`: `YYYYMMDDTHHMMSSZ-<8 hex>`. Ids sort by creation time (to the
/// second); the random suffix keeps two planners started in the same second apart.
pub fn new_run_id_at(now: DateTime<Utc>) -> String {
    format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), random_hex8())
}

/// True for ids usable as a run id (one safe path segment: `A-Z a-z 0-9 . _ -`, at most 128
/// characters, not starting with `.`). Ids from [`new_run_id`] always are.
pub fn is_valid_run_id(run_id: &str) -> bool {
    is_safe_segment(run_id)
}

pub(crate) fn check_run_id(run_id: &str) -> Result<(), StateError> {
    if is_valid_run_id(run_id) {
        Ok(())
    } else {
        Err(StateError::InvalidId {
            what: "run id",
            expected: "1-128 characters of A-Z a-z 0-9 . _ - not starting with '.', \
                       e.g. 20261121T101500Z-0a1b2c3d",
            found: run_id.to_string(),
        })
    }
}

/// 32 bits from the clock, the process id and a process-wide counter, hashed. Not
/// cryptographic: it only has to differ between runs started in the same second.
fn random_hex8() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(nanos.to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hasher.update(format!("{:?}", std::thread::current().id()).as_bytes());
    hex::encode(&hasher.finalize()[..4])
}

/// Writes `runs/<run_id>/run.json`.
pub async fn write_run_record(
    store: &Store,
    layout: &Layout,
    record: &RunRecord,
) -> Result<Location, StateError> {
    check_run_id(&record.run_id)?;
    let location = layout.run_record(&record.run_id);
    put_json(store, &location, record, "run record").await?;
    Ok(location)
}

/// Reads `runs/<run_id>/run.json`, `None` when absent.
pub async fn read_run_record(
    store: &Store,
    layout: &Layout,
    run_id: &str,
) -> Result<Option<RunRecord>, StateError> {
    check_run_id(run_id)?;
    get_json(store, &layout.run_record(run_id), "run record").await
}

/// Writes `runs/<run_id>/report.json`.
pub async fn write_report(
    store: &Store,
    layout: &Layout,
    report: &RunReport,
) -> Result<Location, StateError> {
    check_run_id(&report.run_id)?;
    let location = layout.report(&report.run_id);
    put_json(store, &location, report, "run report").await?;
    Ok(location)
}

/// Reads `runs/<run_id>/report.json`, `None` when absent.
pub async fn read_report(
    store: &Store,
    layout: &Layout,
    run_id: &str,
) -> Result<Option<RunReport>, StateError> {
    check_run_id(run_id)?;
    get_json(store, &layout.report(run_id), "run report").await
}

/// True when the run has a report (it is finished: its claims may be taken over).
pub async fn report_exists(
    store: &Store,
    layout: &Layout,
    run_id: &str,
) -> Result<bool, StateError> {
    check_run_id(run_id)?;
    Ok(store.exists(&layout.report(run_id)).await?)
}

/// Every run with a run record, sorted by id (= by creation time for generated ids).
///
/// One recursive listing of `_edp/runs/` (the store has no delimiter listing), so its cost
/// grows with the ledger records of all runs.
pub async fn list_runs(store: &Store, layout: &Layout) -> Result<Vec<String>, StateError> {
    let runs_dir = layout.runs_dir();
    let mut runs: Vec<String> = store
        .list(&runs_dir)
        .await?
        .into_iter()
        .filter_map(|object| {
            let relative = object.location.relative_to(&runs_dir)?;
            let (run_id, rest) = relative.split_once('/')?;
            (rest == "run.json").then(|| run_id.to_string())
        })
        .collect();
    runs.sort();
    runs.dedup();
    Ok(runs)
}

/// The most recent run (largest id), if any.
pub async fn latest_run(store: &Store, layout: &Layout) -> Result<Option<String>, StateError> {
    Ok(list_runs(store, layout).await?.pop())
}

/// Writes the run's full task list `scratch/<run_id>/tasks.json` in EDP's format with our
/// `edp` key (which EDP ignores), streamed through a temporary file (see
/// [`crate::task_output::put_task_list`]).
pub async fn write_scratch_tasks(
    store: &Store,
    layout: &Layout,
    run_id: &str,
    tasks: &[Task],
) -> Result<Location, StateError> {
    check_run_id(run_id)?;
    let location = layout.scratch_tasks(run_id);
    put_task_list(store, &location, tasks, EdpKey::Keep).await?;
    Ok(location)
}

/// Reads `scratch/<run_id>/tasks.json`, `None` when absent (scratch files expire).
pub async fn read_scratch_tasks(
    store: &Store,
    layout: &Layout,
    run_id: &str,
) -> Result<Option<Vec<Task>>, StateError> {
    check_run_id(run_id)?;
    let location = layout.scratch_tasks(run_id);
    match store.get(&location).await {
        Ok(bytes) => decode_tasks(&bytes, &location).map(Some),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Writes every shard to `scratch/<run_id>/shards/shard-NNNNN.json` (compact JSON) and
/// returns their locations in index order.
pub async fn write_shards(
    store: &Store,
    layout: &Layout,
    run_id: &str,
    shards: &[Shard],
) -> Result<Vec<Location>, StateError> {
    check_run_id(run_id)?;
    for shard in shards {
        if shard.run_id != run_id {
            return Err(StateError::Mismatch {
                location: layout.shard(run_id, shard.index).to_string(),
                field: "run_id",
                expected: run_id.to_string(),
                found: shard.run_id.clone(),
            });
        }
    }
    stream::iter(shards.iter().map(|shard| async move {
        let location = layout.shard(run_id, shard.index);
        let bytes = serde_json::to_vec(shard).map_err(|source| StateError::Encode {
            what: "shard",
            location: location.to_string(),
            source,
        })?;
        store.put(&location, bytes).await?;
        Ok::<Location, StateError>(location)
    }))
    .buffered(IO_CONCURRENCY)
    .try_collect()
    .await
}

/// Reads shard `index` below `shards_dir` (`EDP_SHARDS_URI`), checking that the file is the
/// shard it claims to be.
pub async fn read_shard(
    store: &Store,
    shards_dir: &Location,
    index: u32,
) -> Result<Shard, StateError> {
    let location = shards_dir.join(&Shard::file_name(index));
    let bytes = store.get(&location).await?;
    let shard: Shard = serde_json::from_slice(&bytes).map_err(|source| StateError::Decode {
        location: location.to_string(),
        expected: "shard",
        source,
    })?;
    if shard.index != index {
        return Err(StateError::Mismatch {
            location: location.to_string(),
            field: "index",
            expected: index.to_string(),
            found: shard.index.to_string(),
        });
    }
    shard.check().map_err(|err| StateError::Mismatch {
        location: location.to_string(),
        field: "shard",
        expected: "a valid shard".to_string(),
        found: err.to_string(),
    })?;
    Ok(shard)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn run_ids_sort_by_time_and_are_safe() {
        let early = Utc.with_ymd_and_hms(2026, 11, 21, 10, 15, 0).unwrap();
        let later = Utc.with_ymd_and_hms(2026, 11, 21, 10, 15, 1).unwrap();
        let a = new_run_id_at(early);
        let b = new_run_id_at(later);
        assert!(a.starts_with("20261121T101500Z-"), "{a}");
        assert_eq!(a.len(), "20261121T101500Z-".len() + 8);
        assert!(a < b);
        assert!(is_valid_run_id(&a));
        assert_ne!(new_run_id_at(early), new_run_id_at(early));
    }
}
