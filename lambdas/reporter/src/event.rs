//! The EventBridge `Batch Job State Change` event, reduced to what the reporter needs.
//!
//! Parsed leniently (every field optional) so that the reporter can say *why* it ignores an
//! event instead of failing on shapes it does not care about.

use serde::Deserialize;
use serde_json::Value;

/// The detail type of Batch job state changes.
pub const DETAIL_TYPE: &str = "Batch Job State Change";
/// The event source of AWS Batch.
pub const SOURCE: &str = "aws.batch";

/// An event that is not even an EventBridge event.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid EventBridge event: expected {{\"source\", \"detail-type\", \"detail\": {{...}}}}: {source}"
)]
pub struct EventError {
    /// The JSON error (the payload is not echoed).
    #[source]
    source: serde_json::Error,
}

/// One job state change.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobStateChange {
    /// `source`.
    pub source: Option<String>,
    /// `detail-type`.
    pub detail_type: Option<String>,
    /// `detail.jobId`.
    pub job_id: Option<String>,
    /// `detail.jobName`.
    pub job_name: Option<String>,
    /// `detail.status`.
    pub status: Option<String>,
    /// `detail.arrayProperties.index`: set for array children only.
    pub array_index: Option<i64>,
    /// `detail.container.environment`, in order.
    pub environment: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    source: Option<String>,
    #[serde(default, rename = "detail-type")]
    detail_type: Option<String>,
    #[serde(default)]
    detail: Option<Detail>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Detail {
    #[serde(default)]
    job_id: Option<String>,
    #[serde(default)]
    job_name: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    array_properties: Option<ArrayProperties>,
    #[serde(default)]
    container: Option<Container>,
}

#[derive(Deserialize)]
struct ArrayProperties {
    #[serde(default)]
    index: Option<i64>,
}

#[derive(Deserialize)]
struct Container {
    #[serde(default)]
    environment: Vec<NameValue>,
}

#[derive(Deserialize)]
struct NameValue {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

impl JobStateChange {
    /// Parses an EventBridge event.
    pub fn parse(event: Value) -> Result<JobStateChange, EventError> {
        let envelope: Envelope =
            serde_json::from_value(event).map_err(|source| EventError { source })?;
        let detail = envelope.detail.unwrap_or_default();
        Ok(JobStateChange {
            source: envelope.source,
            detail_type: envelope.detail_type,
            job_id: detail.job_id,
            job_name: detail.job_name,
            status: detail.status,
            array_index: detail.array_properties.and_then(|a| a.index),
            environment: detail
                .container
                .map(|c| {
                    c.environment
                        .into_iter()
                        .filter_map(|nv| Some((nv.name?, nv.value.unwrap_or_default())))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// Why the reporter has nothing to do with this event, `None` when it should report.
    pub fn ignore_reason(&self) -> Option<String> {
        if self.source.as_deref() != Some(SOURCE)
            || self.detail_type.as_deref() != Some(DETAIL_TYPE)
        {
            return Some(format!(
                "not a Batch job state change (source {:?}, detail-type {:?})",
                self.source, self.detail_type
            ));
        }
        let Some(job_id) = &self.job_id else {
            return Some("event without detail.jobId".to_string());
        };
        match self.status.as_deref() {
            Some("SUCCEEDED" | "FAILED") => {}
            other => {
                return Some(format!(
                    "status {other:?} is not final (SUCCEEDED or FAILED)"
                ));
            }
        }
        // Children carry their index; their ids are `<parent id>:<index>`.
        if let Some(index) = self.array_index {
            return Some(format!(
                "array child {index}: only the parent job is reported"
            ));
        }
        if job_id.contains(':') {
            return Some(format!(
                "job {job_id} is an array child: only the parent job is reported"
            ));
        }
        None
    }

    /// The value of `name` in the container environment.
    pub fn environment_value(&self, name: &str) -> Option<&str> {
        self.environment
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A parent array job's final state change, in the shape EventBridge delivers.
    fn parent_event(status: &str) -> Value {
        json!({
            "version": "0", "id": "c8f9c4b5-76e5-d76a-f980-7011e206042b",
            "detail-type": "Batch Job State Change", "source": "aws.batch",
            "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:batch:us-east-1:123456789012:job/4c7599ae"],
            "detail": {
                "jobArn": "arn:aws:batch:us-east-1:123456789012:job/4c7599ae",
                "jobName": "edp-20260101T000000Z-ab12cd34", "jobId": "4c7599ae",
                "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/edp",
                "status": status, "attempts": [], "createdAt": 1767225600000_i64,
                "dependsOn": [], "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/edp-worker:1",
                "parameters": {},
                "arrayProperties": {"statusSummary": {"SUCCEEDED": 3}, "size": 3},
                "container": {"image": "edp-worker:latest", "command": [],
                              "environment": [
                                  {"name": "EDP_DEST_ROOT", "value": "s3://products"},
                                  {"name": "EDP_RUN_ID", "value": "20260101T000000Z-ab12cd34"},
                                  {"name": "EDP_SHARDS_URI", "value": "s3://products/_edp/scratch/20260101T000000Z-ab12cd34/shards"}]},
                "tags": {"edp:run_id": "20260101T000000Z-ab12cd34"}, "propagateTags": true,
                "platformCapabilities": ["FARGATE"]
            }
        })
    }

    #[test]
    fn parent_final_states_are_reported_with_their_run_id() {
        for status in ["SUCCEEDED", "FAILED"] {
            let change = JobStateChange::parse(parent_event(status)).unwrap();
            assert_eq!(change.ignore_reason(), None);
            assert_eq!(change.job_id.as_deref(), Some("4c7599ae"));
            assert_eq!(
                change.environment_value("EDP_RUN_ID"),
                Some("20260101T000000Z-ab12cd34")
            );
        }
    }

    #[test]
    fn children_running_states_and_other_events_are_ignored() {
        let mut child = parent_event("SUCCEEDED");
        child["detail"]["jobId"] = json!("4c7599ae:2");
        child["detail"]["arrayProperties"] = json!({"index": 2});
        let reason = JobStateChange::parse(child)
            .unwrap()
            .ignore_reason()
            .unwrap();
        assert!(reason.contains("child"), "{reason}");

        let running = JobStateChange::parse(parent_event("RUNNING")).unwrap();
        assert!(running.ignore_reason().unwrap().contains("RUNNING"));

        let mut other = parent_event("SUCCEEDED");
        other["detail-type"] = json!("EC2 Instance State-change Notification");
        other["source"] = json!("aws.ec2");
        assert!(
            JobStateChange::parse(other)
                .unwrap()
                .ignore_reason()
                .unwrap()
                .contains("aws.ec2")
        );
    }

    #[test]
    fn events_without_an_environment_parse() {
        let mut event = parent_event("FAILED");
        event["detail"].as_object_mut().unwrap().remove("container");
        let change = JobStateChange::parse(event).unwrap();
        assert_eq!(change.environment_value("EDP_RUN_ID"), None);
        assert_eq!(change.ignore_reason(), None);
    }

    #[test]
    fn non_objects_are_rejected() {
        assert!(JobStateChange::parse(json!([1, 2])).is_err());
    }
}
