//! What the executor reports: one [`TaskOutcome`] per task and a [`ShardOutcome`] with the
//! exit kind of the whole shard.

use edp_task_schemas::{ErrorKind, ExitKind, ProductKind, StatusCounts, TaskError, TaskStatus};

/// The result of one task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskOutcome {
    /// Task id (ledger key).
    pub task_id: String,
    /// Granule location as written in the task.
    pub granule: String,
    /// Product kind, when it can be told.
    pub product_kind: Option<ProductKind>,
    /// Shard that held the task.
    pub shard_index: Option<u32>,
    /// `done`, `failed` or `skipped`.
    pub status: TaskStatus,
    /// Why it failed.
    pub error: Option<TaskError>,
    /// Attempts of this task in this run, this one included (skipped tasks keep the count).
    pub attempts: u32,
    /// Wall-clock seconds of this attempt.
    pub seconds: f64,
    /// Size of the granule (produced, or recorded when skipped).
    pub output_bytes: Option<u64>,
    /// SHA-256 of the granule.
    pub sha256: Option<String>,
    /// Non-fatal findings of the writer.
    pub warnings: Vec<String>,
}

impl TaskOutcome {
    /// The exit kind this task alone would give.
    pub fn exit_kind(&self) -> ExitKind {
        match (self.status, self.error.as_ref().map(|e| e.kind)) {
            (TaskStatus::Failed, Some(ErrorKind::Retryable)) => ExitKind::Retryable,
            (TaskStatus::Failed, _) => ExitKind::Permanent,
            _ => ExitKind::Success,
        }
    }
}

/// The result of a shard (or of several shards run together).
#[derive(Debug, Clone, PartialEq)]
pub struct ShardOutcome {
    /// Run id.
    pub run_id: String,
    /// One outcome per task, in the order the tasks finished.
    pub tasks: Vec<TaskOutcome>,
    /// Wall-clock seconds of the whole execution.
    pub seconds: f64,
    /// Exit kind: the [`ExitKind::combine`] of every task's.
    pub exit: ExitKind,
}

impl ShardOutcome {
    /// Builds the outcome and its exit kind.
    pub fn new(run_id: String, tasks: Vec<TaskOutcome>, seconds: f64) -> ShardOutcome {
        let exit = tasks
            .iter()
            .fold(ExitKind::Success, |acc, t| acc.combine(t.exit_kind()));
        ShardOutcome {
            run_id,
            tasks,
            seconds,
            exit,
        }
    }

    /// Tasks per status.
    pub fn counts(&self) -> StatusCounts {
        let mut counts = StatusCounts::default();
        for task in &self.tasks {
            counts.add(task.status);
        }
        counts
    }

    /// The failed tasks.
    pub fn failures(&self) -> impl Iterator<Item = &TaskOutcome> {
        self.tasks.iter().filter(|t| t.status == TaskStatus::Failed)
    }

    /// Bytes of the granules produced in this execution.
    pub fn produced_bytes(&self) -> u64 {
        self.tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Done)
            .filter_map(|t| t.output_bytes)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(status: TaskStatus, kind: Option<ErrorKind>) -> TaskOutcome {
        TaskOutcome {
            task_id: "t".into(),
            granule: "g".into(),
            product_kind: None,
            shard_index: None,
            status,
            error: kind.map(|kind| TaskError {
                kind,
                message: "m".into(),
            }),
            attempts: 1,
            seconds: 0.0,
            output_bytes: Some(10),
            sha256: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn shard_exit_is_the_combination_of_its_tasks() {
        let done = outcome(TaskStatus::Done, None);
        let skipped = outcome(TaskStatus::Skipped, None);
        let permanent = outcome(TaskStatus::Failed, Some(ErrorKind::Permanent));
        let retryable = outcome(TaskStatus::Failed, Some(ErrorKind::Retryable));
        let all_ok = ShardOutcome::new("r".into(), vec![done.clone(), skipped.clone()], 1.0);
        assert_eq!(all_ok.exit, ExitKind::Success);
        assert_eq!(all_ok.produced_bytes(), 10);
        let bad = ShardOutcome::new("r".into(), vec![done.clone(), permanent.clone()], 1.0);
        assert_eq!(bad.exit, ExitKind::Permanent);
        assert_eq!(bad.exit.code(), 3);
        let both = ShardOutcome::new("r".into(), vec![permanent, retryable, done], 1.0);
        assert_eq!(both.exit, ExitKind::Retryable);
        assert_eq!(both.counts().failed, 2);
        assert_eq!(both.failures().count(), 2);
    }
}
