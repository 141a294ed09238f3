//! The JSON job spec: the structured alternative to an EDP job file.
//!
//! ```json
//! {
//!   "jobs": [
//!     { "grouping_id": 0, "product_type": "native", "frequency": "AVG_MON", "time_steps": "all" },
//!     { "grouping_id": 11, "product_type": "latlon", "frequency": "AVG_DAY", "time_steps": [12, 36] }
//!   ],
//!   "source_root": "s3://ecco-model-granules/V4r4",
//!   "dest_root": "s3://my-products"
//! }
//! ```
//!
//! The locations are optional: the command line, the trigger payload or the deployment
//! settings supply what the spec leaves out.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Job, TimeSteps};
use crate::error::PayloadError;

/// A list of jobs with optional locations. Unknown keys are rejected (specs are hand-written,
/// so a misspelt key must not be silently ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// The jobs, in order.
    pub jobs: Vec<Job>,
    /// Root of the model output (EDP `--ecco_source_root`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_root: Option<String>,
    /// Root of the products (EDP `--ecco_destination_root`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_root: Option<String>,
    /// Grid location (EDP `--ecco_grid_loc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_loc: Option<String>,
    /// Lat-lon mapping factors (EDP `--ecco_mapping_factors_loc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factors_loc: Option<String>,
    /// ECCO metadata directory (EDP `--ecco_metadata_loc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_loc: Option<String>,
    /// Production configuration YAML (EDP `--ecco_cfg_loc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cfg_loc: Option<String>,
}

impl JobSpec {
    /// Checks what the types cannot: at least one job, no empty step list.
    pub fn check(&self) -> Result<(), PayloadError> {
        if self.jobs.is_empty() {
            return Err(PayloadError::OutOfRange {
                payload: "job spec",
                field: "jobs",
                expected: "a non-empty list",
                found: "[]".to_string(),
            });
        }
        check_jobs("job spec", &self.jobs)
    }
}

/// Rejects jobs with an empty explicit step list (EDP would plan nothing for them).
pub(crate) fn check_jobs(payload: &'static str, jobs: &[Job]) -> Result<(), PayloadError> {
    for (index, job) in jobs.iter().enumerate() {
        if let TimeSteps::Steps(steps) = &job.time_steps
            && steps.is_empty()
        {
            return Err(PayloadError::OutOfRange {
                payload,
                field: "time_steps",
                expected: "\"all\" or a non-empty list",
                found: format!("[] in job {index}"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::{Frequency, ProductType};

    #[test]
    fn job_spec_reads_the_documented_example() {
        let text = r#"{
          "jobs": [
            { "grouping_id": 0, "product_type": "native", "frequency": "AVG_MON", "time_steps": "all" },
            { "grouping_id": 11, "product_type": "latlon", "frequency": "AVG_DAY", "time_steps": [12, 36] }
          ],
          "source_root": "s3://ecco-model-granules/V4r4",
          "dest_root": "s3://my-products"
        }"#;
        let spec: JobSpec = serde_json::from_str(text).unwrap();
        assert_eq!(spec.jobs.len(), 2);
        assert_eq!(spec.jobs[1].product_type, ProductType::Latlon);
        assert_eq!(spec.jobs[1].frequency, Frequency::AvgDay);
        assert_eq!(spec.jobs[1].time_steps, TimeSteps::Steps(vec![12, 36]));
        assert_eq!(spec.grid_loc, None);
        spec.check().unwrap();
    }

    #[test]
    fn job_spec_rejects_misspelt_keys_and_empty_lists() {
        let misspelt = r#"{"jobs": [], "dest_rot": "x"}"#;
        let err = serde_json::from_str::<JobSpec>(misspelt).unwrap_err();
        assert!(err.to_string().contains("dest_rot"));
        let empty: JobSpec = serde_json::from_str(r#"{"jobs": []}"#).unwrap();
        assert!(empty.check().is_err());
        let no_steps: JobSpec = serde_json::from_str(
            r#"{"jobs": [{"grouping_id": 1, "product_type": "native", "frequency": "SNAP", "time_steps": []}]}"#,
        )
        .unwrap();
        let err = no_steps.check().unwrap_err();
        assert!(err.to_string().contains("time_steps"), "{err}");
    }
}
