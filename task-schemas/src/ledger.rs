//! Ledger records: the state of one granule in one run.
//!
//! Stored as `<dest_root>/_edp/runs/<run_id>/ledger/<task_id>.json` (latest attempt); the
//! record of a successful granule is also copied to `<dest_root>/_edp/done/<task_id>.json`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Status of a task.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// In the plan, not started.
    Planned,
    /// A worker is producing it.
    Running,
    /// The granule is written and verified.
    Done,
    /// The last attempt failed (see `error`).
    Failed,
    /// Not produced because it was already done.
    Skipped,
}

impl TaskStatus {
    /// Every status.
    pub const ALL: [TaskStatus; 5] = [
        TaskStatus::Planned,
        TaskStatus::Running,
        TaskStatus::Done,
        TaskStatus::Failed,
        TaskStatus::Skipped,
    ];

    /// True for `done`, `failed` and `skipped`: no worker will change the record any more
    /// (unless the run is retried).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskStatus::Done | TaskStatus::Failed | TaskStatus::Skipped
        )
    }

    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Planned => "planned",
            TaskStatus::Running => "running",
            TaskStatus::Done => "done",
            TaskStatus::Failed => "failed",
            TaskStatus::Skipped => "skipped",
        }
    }
}

/// Whether retrying a failed task can help.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// Bad input or configuration: a retry fails the same way.
    Permanent,
    /// Throttling, network, timeouts: a retry may succeed.
    Retryable,
}

/// Why a task failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskError {
    /// Permanent or retryable.
    pub kind: ErrorKind,
    /// Human-readable message naming the file and what was expected vs found.
    pub message: String,
}

/// The ledger record of one granule in one run (latest attempt).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LedgerRecord {
    /// Content hash of the task.
    pub task_id: String,
    /// Output location of the granule.
    pub granule: String,
    /// Run that wrote the record.
    pub run_id: String,
    /// Current status.
    pub status: TaskStatus,
    /// Attempts so far (0 while planned).
    #[serde(default)]
    pub attempts: u32,
    /// Error of the last failed attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TaskError>,
    /// Shard that processed the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_index: Option<u32>,
    /// Wall-clock seconds of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Peak resident memory of the worker process during the attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_memory_bytes: Option<u64>,
    /// Size of the granule written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bytes: Option<u64>,
    /// SHA-256 of the granule written (lower-case hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Input location -> ETag of the inputs actually read.
    #[serde(default)]
    pub input_etags: IndexMap<String, String>,
    /// Version of the worker.
    pub software_version: String,
    /// Hash of the production configuration used.
    #[serde(default)]
    pub config_hash: String,
    /// RFC 3339 UTC time the attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// RFC 3339 UTC time the attempt finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Where every variable's chunks sit in the granule written (done records only): what
    /// virtual stores are built from, without re-reading granules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_index: Option<crate::ChunkIndex>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_record_minimal_json_reads_with_defaults() {
        let text = r#"{"task_id": "ab", "granule": "g.nc", "run_id": "r1",
                       "status": "failed", "software_version": "0.1.0",
                       "error": {"kind": "retryable", "message": "timeout"},
                       "future_field": 1}"#;
        let record: LedgerRecord = serde_json::from_str(text).unwrap();
        assert_eq!(record.status, TaskStatus::Failed);
        assert_eq!(record.attempts, 0);
        assert_eq!(
            record.error.as_ref().map(|e| e.kind),
            Some(ErrorKind::Retryable)
        );
        assert!(record.input_etags.is_empty());
        let back = serde_json::to_value(&record).unwrap();
        assert_eq!(back["status"], "failed");
        assert!(back.get("sha256").is_none());
    }

    #[test]
    fn final_statuses() {
        let finals: Vec<_> = TaskStatus::ALL.iter().filter(|s| s.is_final()).collect();
        assert_eq!(
            finals,
            [&TaskStatus::Done, &TaskStatus::Failed, &TaskStatus::Skipped]
        );
    }
}
