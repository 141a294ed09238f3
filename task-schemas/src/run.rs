//! Run records (`_edp/runs/<run_id>/run.json`, written by the planner) and run reports
//! (`_edp/runs/<run_id>/report.json`, written by the reporter or `edp run`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Job, ProductKind};
use crate::ledger::{TaskError, TaskStatus};

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    /// A manual payload sent to the planner Lambda.
    Manual,
    /// New model output announced by S3 (directly or through SQS).
    S3Event,
    /// A scheduled invocation.
    Schedule,
    /// The `edp` command line.
    Cli,
}

/// Planned work of one product kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KindPlan {
    /// Product kind.
    pub kind: ProductKind,
    /// Tasks of this kind in the run.
    pub tasks: u64,
    /// Their estimated cost in core-seconds.
    pub estimated_core_seconds: f64,
}

/// The plan of a run, written before any worker starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunRecord {
    /// Run id (also the directory name under `_edp/runs/`).
    pub run_id: String,
    /// RFC 3339 UTC creation time.
    pub created_at: String,
    /// What started the run.
    pub trigger: RunTrigger,
    /// Root of the model output.
    pub source_root: String,
    /// Root of the products.
    pub dest_root: String,
    /// Jobs planned (empty when the run was planned from an existing task list).
    #[serde(default)]
    pub jobs: Vec<Job>,
    /// Tasks to produce in this run.
    pub task_count: u64,
    /// Tasks of the jobs skipped because their granule was already done.
    #[serde(default)]
    pub already_done_count: u64,
    /// Number of shards (= Batch array size; 0 when nothing is left to do).
    pub shard_count: u32,
    /// Location of the full task list of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks_uri: Option<String>,
    /// Prefix holding `shard-NNNNN.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards_uri: Option<String>,
    /// AWS Batch job id of the array job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_job_id: Option<String>,
    /// AWS Batch job name of the array job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_job_name: Option<String>,
    /// Sum of the task cost estimates.
    pub estimated_core_seconds: f64,
    /// Estimated compute cost in US dollars (`edp_plan::cost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_cost_usd: Option<f64>,
    /// Planned work per product kind.
    #[serde(default)]
    pub by_kind: Vec<KindPlan>,
    /// True when the run was only planned (no job submitted).
    #[serde(default)]
    pub dry_run: bool,
    /// Version of the planner.
    pub software_version: String,
    /// Hash of the production configuration.
    #[serde(default)]
    pub config_hash: String,
    /// The model's time range from the production configuration: the steps a complete
    /// dataset holds (absent in records of older releases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_time_range: Option<ModelTimeRange>,
}

/// `model_start_time` and `model_end_time` of the production configuration, as written there
/// (`1992-01-01T12:00:00`, no zone: the model's calendar is UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ModelTimeRange {
    /// Start of the model run.
    pub start: String,
    /// End of the model run (time of its last record).
    pub end: String,
}

/// Number of tasks per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatusCounts {
    /// Not started.
    pub planned: u64,
    /// In progress.
    pub running: u64,
    /// Produced.
    pub done: u64,
    /// Failed.
    pub failed: u64,
    /// Already done before the run.
    pub skipped: u64,
}

impl StatusCounts {
    /// Counts one more task of `status`.
    pub fn add(&mut self, status: TaskStatus) {
        let slot = match status {
            TaskStatus::Planned => &mut self.planned,
            TaskStatus::Running => &mut self.running,
            TaskStatus::Done => &mut self.done,
            TaskStatus::Failed => &mut self.failed,
            TaskStatus::Skipped => &mut self.skipped,
        };
        *slot += 1;
    }

    /// Number of tasks with `status`.
    pub fn get(&self, status: TaskStatus) -> u64 {
        match status {
            TaskStatus::Planned => self.planned,
            TaskStatus::Running => self.running,
            TaskStatus::Done => self.done,
            TaskStatus::Failed => self.failed,
            TaskStatus::Skipped => self.skipped,
        }
    }

    /// All tasks.
    pub fn total(&self) -> u64 {
        self.planned + self.running + self.done + self.failed + self.skipped
    }
}

/// One failed task in a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Failure {
    /// Content hash of the task.
    pub task_id: String,
    /// Output location.
    pub granule: String,
    /// Attempts made.
    pub attempts: u32,
    /// Error of the last attempt.
    pub error: TaskError,
}

/// Outcome per product kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KindStats {
    /// Product kind.
    pub kind: ProductKind,
    /// Tasks per status.
    pub counts: StatusCounts,
    /// Sum of the task seconds of finished attempts.
    pub seconds: f64,
    /// Bytes written.
    pub output_bytes: u64,
    /// Sum of the cost estimates (to calibrate the cost model against `seconds`).
    pub estimated_core_seconds: f64,
}

/// Summary of a run, built from its ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunReport {
    /// Run id.
    pub run_id: String,
    /// RFC 3339 UTC time the report was built.
    pub generated_at: String,
    /// True when every task reached a final status.
    pub complete: bool,
    /// Tasks per status.
    pub counts: StatusCounts,
    /// Every failed task with its error.
    #[serde(default)]
    pub failures: Vec<Failure>,
    /// Sum of the task seconds.
    pub seconds: f64,
    /// Bytes written.
    pub output_bytes: u64,
    /// Sum of the cost estimates of the run's tasks.
    pub estimated_core_seconds: f64,
    /// Estimated compute cost in US dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_cost_usd: Option<f64>,
    /// Outcome per product kind.
    #[serde(default)]
    pub by_kind: Vec<KindStats>,
    /// AWS Batch job id of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_job_id: Option<String>,
    /// Kerchunk references (`refs.json`) of the virtual stores the run updated, one per
    /// dataset that has a chunk index (`_edp/virtual/<dataset>/refs.json`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub virtual_stores: Vec<String>,
    /// Icechunk repositories of the same datasets (`_edp/virtual/<dataset>/icechunk`), one
    /// commit each where the run changed the dataset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub icechunk_repositories: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_counts_add_and_total() {
        let mut counts = StatusCounts::default();
        for status in [TaskStatus::Done, TaskStatus::Done, TaskStatus::Failed] {
            counts.add(status);
        }
        assert_eq!(counts.get(TaskStatus::Done), 2);
        assert_eq!(counts.failed, 1);
        assert_eq!(counts.total(), 3);
    }
}
