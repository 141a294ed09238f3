//! The payload of a manual invocation of the planner Lambda.
//!
//! ```json
//! {
//!   "jobs": [{ "grouping_id": 0, "product_type": "native", "frequency": "AVG_MON", "time_steps": "all" }],
//!   "dest_root": "s3://my-products",
//!   "target_seconds": 3600,
//!   "dry_run": true
//! }
//! ```
//!
//! Locations left out fall back to the deployment settings (`EDP_SOURCE_ROOT`,
//! `EDP_DEST_ROOT`, SSM `settings/*`); with neither `jobs` nor `job_file` the planner plans
//! the job file text of SSM `settings/jobs`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::Job;
use crate::error::PayloadError;
use crate::job_spec::check_jobs;

/// Manual planner trigger. Unknown keys are rejected (payloads are hand-written).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualTrigger {
    /// Jobs given inline (excludes `job_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<Vec<Job>>,
    /// Location of an EDP job file or a JSON job spec (excludes `jobs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_file: Option<String>,
    /// Root of the model output (default `EDP_SOURCE_ROOT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_root: Option<String>,
    /// Root of the products (default `EDP_DEST_ROOT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_root: Option<String>,
    /// Grid location (default SSM `settings/grid_loc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_loc: Option<String>,
    /// ECCO metadata directory (default SSM `settings/metadata_loc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_loc: Option<String>,
    /// Lat-lon mapping factors (default SSM `settings/factors_loc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factors_loc: Option<String>,
    /// Production configuration YAML (default SSM `settings/config_loc`, else built-in V4r4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cfg_loc: Option<String>,
    /// Exact number of shards (excludes `target_seconds`; capped by the task count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_count: Option<u32>,
    /// Target estimated core-seconds per shard (excludes `shard_count`; default
    /// `EDP_SHARD_TARGET_SECONDS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_seconds: Option<f64>,
    /// Plan and write the run record, but submit nothing and claim nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Redo granules that are already done.
    #[serde(default)]
    pub force: bool,
}

/// Where the jobs of a trigger come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JobSource<'a> {
    /// Jobs in the payload.
    Inline(&'a [Job]),
    /// A job file or job spec at this location.
    JobFile(&'a str),
    /// The job file text of SSM `settings/jobs`.
    Settings,
}

/// How to size the shards of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShardSizing {
    /// This many shards (capped by the task count).
    Count(u32),
    /// As many shards as needed for about this many estimated core-seconds each.
    TargetSeconds(f64),
}

impl ManualTrigger {
    /// The job source; `jobs` and `job_file` exclude each other, inline jobs must be valid.
    pub fn job_source(&self) -> Result<JobSource<'_>, PayloadError> {
        match (&self.jobs, &self.job_file) {
            (Some(_), Some(_)) => Err(PayloadError::Conflict {
                payload: "manual trigger",
                first: "jobs",
                second: "job_file",
            }),
            (Some(jobs), None) => {
                if jobs.is_empty() {
                    return Err(PayloadError::OutOfRange {
                        payload: "manual trigger",
                        field: "jobs",
                        expected: "a non-empty list",
                        found: "[]".to_string(),
                    });
                }
                check_jobs("manual trigger", jobs)?;
                Ok(JobSource::Inline(jobs))
            }
            (None, Some(uri)) => Ok(JobSource::JobFile(uri)),
            (None, None) => Ok(JobSource::Settings),
        }
    }

    /// The shard sizing asked for, `None` for the deployment default.
    pub fn shard_sizing(&self) -> Result<Option<ShardSizing>, PayloadError> {
        match (self.shard_count, self.target_seconds) {
            (Some(_), Some(_)) => Err(PayloadError::Conflict {
                payload: "manual trigger",
                first: "shard_count",
                second: "target_seconds",
            }),
            (Some(0), None) => Err(PayloadError::OutOfRange {
                payload: "manual trigger",
                field: "shard_count",
                expected: "at least 1",
                found: "0".to_string(),
            }),
            (Some(count), None) => Ok(Some(ShardSizing::Count(count))),
            (None, Some(seconds)) if !(seconds.is_finite() && seconds > 0.0) => {
                Err(PayloadError::OutOfRange {
                    payload: "manual trigger",
                    field: "target_seconds",
                    expected: "a positive number",
                    found: seconds.to_string(),
                })
            }
            (None, Some(seconds)) => Ok(Some(ShardSizing::TargetSeconds(seconds))),
            (None, None) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example_is_a_valid_trigger() {
        let text = r#"{
          "jobs": [{ "grouping_id": 0, "product_type": "native", "frequency": "AVG_MON", "time_steps": "all" }],
          "dest_root": "s3://my-products",
          "target_seconds": 3600,
          "dry_run": true
        }"#;
        let trigger: ManualTrigger = serde_json::from_str(text).unwrap();
        assert!(matches!(trigger.job_source(), Ok(JobSource::Inline(jobs)) if jobs.len() == 1));
        assert_eq!(
            trigger.shard_sizing(),
            Ok(Some(ShardSizing::TargetSeconds(3600.0)))
        );
        assert!(trigger.dry_run);
        assert!(!trigger.force);
    }

    #[test]
    fn conflicting_fields_are_rejected() {
        let trigger = ManualTrigger {
            jobs: Some(Vec::new()),
            job_file: Some("s3://b/jobs.txt".into()),
            shard_count: Some(3),
            target_seconds: Some(10.0),
            ..ManualTrigger::default()
        };
        assert!(matches!(
            trigger.job_source(),
            Err(PayloadError::Conflict { .. })
        ));
        assert!(matches!(
            trigger.shard_sizing(),
            Err(PayloadError::Conflict { .. })
        ));
    }

    #[test]
    fn empty_trigger_uses_settings_and_default_sizing() {
        let trigger: ManualTrigger = serde_json::from_str("{}").unwrap();
        assert_eq!(trigger.job_source(), Ok(JobSource::Settings));
        assert_eq!(trigger.shard_sizing(), Ok(None));
        let zero = ManualTrigger {
            shard_count: Some(0),
            ..ManualTrigger::default()
        };
        assert!(zero.shard_sizing().is_err());
        let negative = ManualTrigger {
            target_seconds: Some(-5.0),
            ..ManualTrigger::default()
        };
        assert!(negative.shard_sizing().is_err());
        assert!(serde_json::from_str::<ManualTrigger>(r#"{"dryrun": true}"#).is_err());
    }
}
