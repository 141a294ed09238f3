//! Looking up a Batch job's container environment with `DescribeJobs`, for state-change
//! events that do not carry it.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_batch::error::DisplayErrorContext;

/// The container environment of a job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobEnvironment(HashMap<String, String>);

impl JobEnvironment {
    /// From name/value pairs.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> JobEnvironment {
        JobEnvironment(pairs.into_iter().collect())
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// DescribeJobs failed.
#[derive(Debug, thiserror::Error)]
#[error("DescribeJobs {job_id}: {detail}")]
pub struct DescribeError {
    /// The job.
    pub job_id: String,
    /// Service error with code, message and request id.
    pub detail: String,
}

/// Something that can tell a job's container environment: AWS Batch in production, a map in
/// unit tests.
pub trait JobDescriber: Send + Sync {
    /// The environment of `job_id`, `None` when the job is unknown.
    fn environment(
        &self,
        job_id: &str,
    ) -> impl Future<Output = Result<Option<JobEnvironment>, DescribeError>> + Send;
}

/// [`JobDescriber`] over the AWS Batch API.
#[derive(Debug, Clone)]
pub struct BatchDescriber {
    client: aws_sdk_batch::Client,
}

impl BatchDescriber {
    /// Wraps a client.
    pub fn new(client: aws_sdk_batch::Client) -> BatchDescriber {
        BatchDescriber { client }
    }
}

impl JobDescriber for BatchDescriber {
    async fn environment(&self, job_id: &str) -> Result<Option<JobEnvironment>, DescribeError> {
        let output = self
            .client
            .describe_jobs()
            .jobs(job_id)
            .send()
            .await
            .map_err(|err| DescribeError {
                job_id: job_id.to_string(),
                detail: DisplayErrorContext(&err).to_string(),
            })?;
        let Some(job) = output
            .jobs
            .unwrap_or_default()
            .into_iter()
            .find(|j| j.job_id.as_deref() == Some(job_id))
        else {
            return Ok(None);
        };
        let pairs = job
            .container
            .and_then(|c| c.environment)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|kv| Some((kv.name?, kv.value.unwrap_or_default())));
        Ok(Some(JobEnvironment::new(pairs)))
    }
}

/// A fixed environment answers for every job (unit tests, local runs).
impl JobDescriber for JobEnvironment {
    async fn environment(&self, _job_id: &str) -> Result<Option<JobEnvironment>, DescribeError> {
        Ok(Some(self.clone()))
    }
}
