//! Submitting a run's shards to AWS Batch: one array job whose children each process the
//! shard of their `AWS_BATCH_JOB_ARRAY_INDEX`, or one plain job when a run has one shard
//! (Batch arrays have at least 2 children).
//!
//! The planner talks to Batch through [`JobSubmitter`], so that the handler can be tested
//! with a recording submitter and run in production with [`BatchSubmitter`].

use std::future::Future;

use aws_sdk_batch::error::DisplayErrorContext;
use aws_sdk_batch::types::{ArrayProperties, ContainerOverrides, KeyValuePair};
use edp_task_schemas::deploy::{ENV_RUN_ID, ENV_SHARDS_URI, MAX_ARRAY_SIZE};

/// One job to submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRequest {
    /// Batch job name (letters, digits, `-`, `_`; at most 128).
    pub job_name: String,
    /// Job queue name or ARN.
    pub job_queue: String,
    /// Job definition name or ARN.
    pub job_definition: String,
    /// Number of shards: an array job of this size when >= 2, a plain job when 1.
    pub shard_count: u32,
    /// Variables added to the container environment (`containerOverrides.environment`).
    pub environment: Vec<(String, String)>,
    /// Tags of the job (propagated to the tasks).
    pub tags: Vec<(String, String)>,
}

impl JobRequest {
    /// The request for the shards of `run_id` below `shards_uri`: the worker finds both in
    /// its environment (`EDP_RUN_ID`, `EDP_SHARDS_URI`).
    pub fn for_run(
        run_id: &str,
        shards_uri: &str,
        shard_count: u32,
        job_queue: &str,
        job_definition: &str,
    ) -> JobRequest {
        JobRequest {
            job_name: job_name(run_id),
            job_queue: job_queue.to_string(),
            job_definition: job_definition.to_string(),
            shard_count,
            environment: vec![
                (ENV_RUN_ID.to_string(), run_id.to_string()),
                (ENV_SHARDS_URI.to_string(), shards_uri.to_string()),
            ],
            tags: vec![("edp:run_id".to_string(), run_id.to_string())],
        }
    }

    /// The array size to request, `None` for a plain job.
    pub fn array_size(&self) -> Option<u32> {
        (self.shard_count >= 2).then_some(self.shard_count)
    }
}

/// The Batch job name of a run: `edp-<run id>` reduced to the characters Batch accepts.
pub fn job_name(run_id: &str) -> String {
    let cleaned: String = format!("edp-{run_id}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(128)
        .collect();
    cleaned
}

/// A submitted job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedJob {
    /// Batch job id (of the array parent).
    pub job_id: String,
    /// Batch job name.
    pub job_name: String,
    /// Job ARN, when the service returned one.
    pub job_arn: Option<String>,
}

/// Why a job could not be submitted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The request itself is impossible (array size out of Batch's limits).
    #[error("cannot submit job {job_name}: {shard_count} shards, expected 1..={MAX_ARRAY_SIZE}")]
    BadShardCount {
        /// Job name.
        job_name: String,
        /// Shards asked for.
        shard_count: u32,
    },
    /// The Batch API refused or failed.
    #[error("SubmitJob {job_name} to queue {job_queue} (definition {job_definition}): {detail}")]
    Service {
        /// Job name.
        job_name: String,
        /// Queue.
        job_queue: String,
        /// Definition.
        job_definition: String,
        /// Service error with code, message and request id.
        detail: String,
    },
}

/// Something that can submit a job: AWS Batch in production ([`BatchSubmitter`]), a recorder
/// in unit tests.
pub trait JobSubmitter: Send + Sync {
    /// Submits `request` and returns the job id.
    fn submit(
        &self,
        request: &JobRequest,
    ) -> impl Future<Output = Result<SubmittedJob, SubmitError>> + Send;
}

/// [`JobSubmitter`] over the AWS Batch API.
#[derive(Debug, Clone)]
pub struct BatchSubmitter {
    client: aws_sdk_batch::Client,
}

impl BatchSubmitter {
    /// Wraps a client (built from `aws_config`, so `AWS_ENDPOINT_URL` reaches an emulator).
    pub fn new(client: aws_sdk_batch::Client) -> BatchSubmitter {
        BatchSubmitter { client }
    }

    /// A client configured from the environment (credential and region chains,
    /// `AWS_ENDPOINT_URL`).
    pub async fn from_env() -> BatchSubmitter {
        let config = aws_config::load_from_env().await;
        BatchSubmitter::new(aws_sdk_batch::Client::new(&config))
    }
}

impl JobSubmitter for BatchSubmitter {
    async fn submit(&self, request: &JobRequest) -> Result<SubmittedJob, SubmitError> {
        if request.shard_count == 0 || request.shard_count > MAX_ARRAY_SIZE {
            return Err(SubmitError::BadShardCount {
                job_name: request.job_name.clone(),
                shard_count: request.shard_count,
            });
        }
        let environment = request
            .environment
            .iter()
            .map(|(name, value)| KeyValuePair::builder().name(name).value(value).build())
            .collect::<Vec<_>>();
        let mut call = self
            .client
            .submit_job()
            .job_name(&request.job_name)
            .job_queue(&request.job_queue)
            .job_definition(&request.job_definition)
            .container_overrides(
                ContainerOverrides::builder()
                    .set_environment(Some(environment))
                    .build(),
            );
        if let Some(size) = request.array_size() {
            // Both bounds were checked above, so the size fits an i32.
            let size = i32::try_from(size).unwrap_or(i32::MAX);
            call = call.array_properties(ArrayProperties::builder().size(size).build());
        }
        for (key, value) in &request.tags {
            call = call.tags(key, value);
        }
        let output = call.send().await.map_err(|err| SubmitError::Service {
            job_name: request.job_name.clone(),
            job_queue: request.job_queue.clone(),
            job_definition: request.job_definition.clone(),
            detail: DisplayErrorContext(&err).to_string(),
        })?;
        let Some(job_id) = output.job_id else {
            return Err(SubmitError::Service {
                job_name: request.job_name.clone(),
                job_queue: request.job_queue.clone(),
                job_definition: request.job_definition.clone(),
                detail: "expected a jobId in the SubmitJob response, found none".to_string(),
            });
        };
        Ok(SubmittedJob {
            job_id,
            job_name: output.job_name.unwrap_or_else(|| request.job_name.clone()),
            job_arn: output.job_arn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names_keep_only_batch_characters() {
        assert_eq!(
            job_name("20260101T000000Z-ab12"),
            "edp-20260101T000000Z-ab12"
        );
        assert_eq!(job_name("r:1/2.3"), "edp-r-1-2-3");
        assert_eq!(job_name(&"x".repeat(300)).len(), 128);
    }

    #[test]
    fn single_shard_runs_are_plain_jobs() {
        let one = JobRequest::for_run("r1", "s3://b/_edp/scratch/r1/shards", 1, "q", "d");
        assert_eq!(one.array_size(), None);
        let many = JobRequest::for_run("r1", "s3://b/_edp/scratch/r1/shards", 7, "q", "d");
        assert_eq!(many.array_size(), Some(7));
        assert!(
            many.environment
                .contains(&(ENV_RUN_ID.to_string(), "r1".to_string()))
        );
        assert!(many.environment.contains(&(
            ENV_SHARDS_URI.to_string(),
            "s3://b/_edp/scratch/r1/shards".to_string()
        )));
    }
}
