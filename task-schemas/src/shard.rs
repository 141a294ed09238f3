//! A shard: the slice of a run's task list that one Batch array child processes.
//!
//! Stored as `<dest_root>/_edp/scratch/<run_id>/shards/shard-NNNNN.json`; the array index of
//! the child is the shard index.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::PayloadError;
use crate::task::Task;

/// The tasks of one array child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Shard {
    /// Run this shard belongs to.
    pub run_id: String,
    /// 0-based shard index (= `AWS_BATCH_JOB_ARRAY_INDEX`).
    pub index: u32,
    /// Number of shards of the run.
    pub count: u32,
    /// The tasks, most expensive first.
    pub tasks: Vec<Task>,
}

impl Shard {
    /// File name of shard `index`: `shard-00000.json` (5 digits: Batch arrays hold at most
    /// 10 000 children).
    pub fn file_name(index: u32) -> String {
        format!("shard-{index:05}.json")
    }

    /// Checks `index < count` and that the shard is not empty.
    pub fn check(&self) -> Result<(), PayloadError> {
        if self.index >= self.count {
            return Err(PayloadError::OutOfRange {
                payload: "shard",
                field: "index",
                expected: "smaller than `count`",
                found: format!("index {} with count {}", self.index, self.count),
            });
        }
        if self.tasks.is_empty() {
            return Err(PayloadError::OutOfRange {
                payload: "shard",
                field: "tasks",
                expected: "a non-empty list",
                found: "[]".to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_file_names_are_zero_padded() {
        assert_eq!(Shard::file_name(0), "shard-00000.json");
        assert_eq!(Shard::file_name(9999), "shard-09999.json");
    }

    #[test]
    fn shard_check_rejects_index_past_count() {
        let shard = Shard {
            run_id: "r".into(),
            index: 2,
            count: 2,
            tasks: Vec::new(),
        };
        assert!(
            shard
                .check()
                .unwrap_err()
                .to_string()
                .contains("index 2 with count 2")
        );
    }
}
