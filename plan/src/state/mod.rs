//! Run state beside the outputs, under `<dest_root>/_edp/` (`docs/architecture.md`,
//! "Locations"):
//!
//! ```text
//! _edp/claims/<task_id>.json                  claim of a planned task (conditional create)   claims
//! _edp/done/<task_id>.json                    success marker = ledger record of the success  ledger
//! _edp/granules/<ver>/<type>/<period>/<GROUPING>/<file>.nc.json   record of a granule file   ledger
//! _edp/runs/<run_id>/run.json                 run record (plan summary, shards, job id)      runs
//! _edp/runs/<run_id>/ledger/<task_id>.json    ledger record (latest attempt)                 ledger
//! _edp/runs/<run_id>/report.json              run report                                     ledger
//! _edp/manifests/<ver>/<type>/<period>/<GROUPING>.json   manifest per dataset                manifest
//! _edp/scratch/<run_id>/tasks.json            full task list of the run                      runs
//! _edp/scratch/<run_id>/shards/shard-NNNNN.json   shard files                                runs
//! ```
//!
//! [`Layout`] computes these locations; the submodules read and write them. Every function
//! takes the [`edp_store::Store`] to use, so the same code serves local folders and S3.

pub mod claims;
pub mod ledger;
pub mod manifest;
pub mod runs;

use edp_store::{Location, LocationError, Store, StoreError};
use edp_task_schemas::{Shard, Task};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

pub use claims::{ClaimOutcome, ExistingClaim, claim_task, inspect_claim, release_claim};
pub use ledger::{
    DoneIndex, RedoReason, SOFTWARE_VERSION, find_done, granule_location, is_compatible_version,
    is_done, is_recorded, legacy_task_key, read_done_marker, read_granule_record, read_ledger,
    reconcile_run, record_success, redo_reason, task_key, write_done_marker, write_granule_record,
    write_ledger,
};
pub use manifest::{ManifestOutcome, read_manifest, write_manifests};
pub use runs::{
    is_valid_run_id, latest_run, list_runs, new_run_id, new_run_id_at, read_report,
    read_run_record, read_scratch_tasks, read_shard, report_exists, write_report, write_run_record,
    write_scratch_tasks, write_shards,
};

/// Name of the state folder below the destination root.
pub const STATE_DIR: &str = "_edp";

/// How many store requests the state functions keep in flight.
pub const IO_CONCURRENCY: usize = 32;

/// How many claims are created at once: one small conditional PUT per task, far below S3's
/// 3,500 PUT/s per prefix, so a large run is claimed in seconds rather than minutes.
pub const CLAIM_CONCURRENCY: usize = 128;

/// Errors of reading and writing run state.
#[derive(Debug, Error)]
pub enum StateError {
    /// A store operation failed (the error names the operation and location).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A state file is not the JSON it should be.
    #[error("{location}: expected a {expected} JSON document: {source}")]
    Decode {
        /// The file.
        location: String,
        /// What it should hold.
        expected: &'static str,
        /// The parser error.
        #[source]
        source: serde_json::Error,
    },
    /// A value could not be serialised.
    #[error("cannot encode {what} for {location}: {source}")]
    Encode {
        /// What was being written.
        what: &'static str,
        /// Where.
        location: String,
        /// The serialiser error.
        #[source]
        source: serde_json::Error,
    },
    /// An id that cannot be used as a path segment.
    #[error("invalid {what} {found:?}: expected {expected}")]
    InvalidId {
        /// `run id` or `task id`.
        what: &'static str,
        /// The accepted form.
        expected: &'static str,
        /// The value found.
        found: String,
    },
    /// A record that contradicts where it is stored or what it is used for.
    #[error("{location}: {field} must be {expected}, found {found}")]
    Mismatch {
        /// The file.
        location: String,
        /// The field.
        field: &'static str,
        /// The expected value.
        expected: String,
        /// The value found.
        found: String,
    },
    /// Nothing is known about a run.
    #[error("run {run_id} not found: neither {run_record} nor a ledger exists")]
    RunNotFound {
        /// The run id.
        run_id: String,
        /// The run record location looked at.
        run_record: String,
    },
    /// A granule path that is not a valid location.
    #[error("granule path {path:?}: {source}")]
    Location {
        /// The path as written in the task.
        path: String,
        /// Why it is not a location.
        #[source]
        source: LocationError,
    },
    /// A granule path outside the destination root (manifests need it below the root).
    #[error(
        "granule {granule}: expected a path below the destination root {dest} of the form \
         <ecco_version>/<native|latlon>/<period>/<GROUPING>/<file>.nc"
    )]
    OutsideDestination {
        /// The granule.
        granule: String,
        /// The destination root as written.
        dest: String,
    },
    /// A task list could not be written.
    #[error(transparent)]
    TaskList(#[from] crate::task_output::TaskOutputError),
    /// A conditional update kept losing against concurrent writers.
    #[error("{location}: gave up after {attempts} conflicting concurrent updates")]
    Contention {
        /// The file.
        location: String,
        /// Attempts made.
        attempts: u32,
    },
}

/// The locations of the run state of one destination root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    dest: Location,
    state: Location,
}

impl Layout {
    /// The layout below `dest` (the destination root).
    pub fn new(dest: &Location) -> Layout {
        Layout {
            dest: dest.clone(),
            state: dest.join(STATE_DIR),
        }
    }

    /// The destination root.
    pub fn dest(&self) -> &Location {
        &self.dest
    }

    /// `<dest>/_edp`.
    pub fn state_dir(&self) -> &Location {
        &self.state
    }

    /// `_edp/claims`.
    pub fn claims_dir(&self) -> Location {
        self.state.join("claims")
    }

    /// `_edp/claims/<task_id>.json`.
    pub fn claim(&self, task_id: &str) -> Location {
        self.state.join(&format!("claims/{task_id}.json"))
    }

    /// `_edp/done`.
    pub fn done_dir(&self) -> Location {
        self.state.join("done")
    }

    /// `_edp/done/<task_id>.json`.
    pub fn done(&self, task_id: &str) -> Location {
        self.state.join(&format!("done/{task_id}.json"))
    }

    /// `_edp/granules/<path below the destination root>.json`: the record of the granule
    /// file edp writes or wrote there.
    pub fn granule_record(&self, relative: &str) -> Location {
        self.state.join(&format!("granules/{relative}.json"))
    }

    /// `_edp/runs`.
    pub fn runs_dir(&self) -> Location {
        self.state.join("runs")
    }

    /// `_edp/runs/<run_id>`.
    pub fn run_dir(&self, run_id: &str) -> Location {
        self.state.join(&format!("runs/{run_id}"))
    }

    /// `_edp/runs/<run_id>/run.json`.
    pub fn run_record(&self, run_id: &str) -> Location {
        self.run_dir(run_id).join("run.json")
    }

    /// `_edp/runs/<run_id>/report.json`.
    pub fn report(&self, run_id: &str) -> Location {
        self.run_dir(run_id).join("report.json")
    }

    /// `_edp/runs/<run_id>/ledger`.
    pub fn ledger_dir(&self, run_id: &str) -> Location {
        self.run_dir(run_id).join("ledger")
    }

    /// `_edp/runs/<run_id>/ledger/<task_id>.json`.
    pub fn ledger(&self, run_id: &str, task_id: &str) -> Location {
        self.ledger_dir(run_id).join(&format!("{task_id}.json"))
    }

    /// `_edp/manifests`.
    pub fn manifests_dir(&self) -> Location {
        self.state.join("manifests")
    }

    /// `_edp/manifests/<dataset>.json` for a dataset path
    /// `<ecco_version>/<native|latlon>/<period>/<GROUPING>`.
    pub fn manifest(&self, dataset: &str) -> Location {
        self.manifests_dir().join(&format!("{dataset}.json"))
    }

    /// `_edp/scratch/<run_id>`.
    pub fn scratch_dir(&self, run_id: &str) -> Location {
        self.state.join(&format!("scratch/{run_id}"))
    }

    /// `_edp/scratch/<run_id>/tasks.json`.
    pub fn scratch_tasks(&self, run_id: &str) -> Location {
        self.scratch_dir(run_id).join("tasks.json")
    }

    /// `_edp/scratch/<run_id>/shards` (the worker's `EDP_SHARDS_URI`).
    pub fn shards_dir(&self, run_id: &str) -> Location {
        self.scratch_dir(run_id).join("shards")
    }

    /// `_edp/scratch/<run_id>/shards/shard-NNNNN.json`.
    pub fn shard(&self, run_id: &str, index: u32) -> Location {
        self.shards_dir(run_id).join(&Shard::file_name(index))
    }
}

/// Reads a JSON document; `None` when the object does not exist.
pub(crate) async fn get_json<T: DeserializeOwned>(
    store: &Store,
    location: &Location,
    expected: &'static str,
) -> Result<Option<T>, StateError> {
    let bytes = match store.get(location).await {
        Ok(bytes) => bytes,
        Err(err) if err.is_not_found() => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| StateError::Decode {
            location: location.to_string(),
            expected,
            source,
        })
}

/// Serialises a state document (pretty, for operators reading them).
pub(crate) fn encode_json<T: Serialize>(
    value: &T,
    location: &Location,
    what: &'static str,
) -> Result<Vec<u8>, StateError> {
    serde_json::to_vec_pretty(value).map_err(|source| StateError::Encode {
        what,
        location: location.to_string(),
        source,
    })
}

/// Writes a JSON document (atomic replace).
pub(crate) async fn put_json<T: Serialize>(
    store: &Store,
    location: &Location,
    value: &T,
    what: &'static str,
) -> Result<(), StateError> {
    let bytes = encode_json(value, location, what)?;
    store.put(location, bytes).await?;
    Ok(())
}

/// True for ids that are safe as one path segment: 1-128 characters of `A-Z a-z 0-9 . _ -`,
/// not starting with `.`.
pub(crate) fn is_safe_segment(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Checks a task id before it becomes a path segment.
pub(crate) fn check_task_id(task_id: &str) -> Result<(), StateError> {
    if is_safe_segment(task_id) {
        Ok(())
    } else {
        Err(StateError::InvalidId {
            what: "task id",
            expected: "1-128 characters of A-Z a-z 0-9 . _ - (a 64-digit hex content hash)",
            found: task_id.to_string(),
        })
    }
}

/// The task list of a run, to be decoded quickly (no EDP validation: we wrote it).
pub(crate) fn decode_tasks(bytes: &[u8], location: &Location) -> Result<Vec<Task>, StateError> {
    serde_json::from_slice(bytes).map_err(|source| StateError::Decode {
        location: location.to_string(),
        expected: "task list",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_follows_the_architecture_contract() {
        let layout = Layout::new(&Location::parse("s3://products/ecco").unwrap());
        assert_eq!(
            layout.claim("ab").to_string(),
            "s3://products/ecco/_edp/claims/ab.json"
        );
        assert_eq!(
            layout.done("ab").to_string(),
            "s3://products/ecco/_edp/done/ab.json"
        );
        assert_eq!(
            layout.run_record("r1").to_string(),
            "s3://products/ecco/_edp/runs/r1/run.json"
        );
        assert_eq!(
            layout.ledger("r1", "ab").to_string(),
            "s3://products/ecco/_edp/runs/r1/ledger/ab.json"
        );
        assert_eq!(
            layout.report("r1").to_string(),
            "s3://products/ecco/_edp/runs/r1/report.json"
        );
        assert_eq!(
            layout
                .manifest("V4r4/native/mon_mean/SEA_SURFACE_HEIGHT")
                .to_string(),
            "s3://products/ecco/_edp/manifests/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT.json"
        );
        assert_eq!(
            layout.scratch_tasks("r1").to_string(),
            "s3://products/ecco/_edp/scratch/r1/tasks.json"
        );
        assert_eq!(
            layout.shard("r1", 7).to_string(),
            "s3://products/ecco/_edp/scratch/r1/shards/shard-00007.json"
        );
    }

    #[test]
    fn unsafe_ids_are_rejected() {
        assert!(is_safe_segment("20261121T101500Z-0a1b2c3d"));
        for bad in ["", "..", "../x", "a/b", ".hidden", "a b"] {
            assert!(!is_safe_segment(bad), "{bad:?}");
        }
    }
}
