//! What can invoke the planner, parsed from the raw JSON the Lambda runtime hands over:
//!
//! * an **SQS** batch (production: S3 -> SQS -> Lambda with a batching window) whose message
//!   bodies are S3 event notifications; the `s3:TestEvent` message S3 sends when the
//!   notification is configured, and bodies wrapped in an SNS envelope, are understood too;
//! * a **direct S3** event notification (S3 -> Lambda);
//! * an EventBridge **schedule** (plans the jobs of SSM `settings/jobs`);
//! * a **manual** payload ([`ManualTrigger`]).
//!
//! Keys in S3 notifications are URL-encoded form values (`+` is a space, `%2B` a plus); they
//! are decoded here, once.

use std::fmt;

use edp_store::Location;
use edp_task_schemas::ManualTrigger;
use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde_json::Value;

/// An event the planner cannot make sense of.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// `Records` present, but neither SQS nor S3 records.
    #[error(
        "unsupported event: expected Records from aws:sqs or aws:s3, found eventSource {found:?}"
    )]
    UnsupportedSource {
        /// The `eventSource` of the first record.
        found: String,
    },
    /// An SQS or S3 envelope that does not have the documented shape.
    #[error("malformed {what}: {source}")]
    Malformed {
        /// Which envelope.
        what: &'static str,
        /// The JSON error (names the field; the payload itself is not echoed).
        #[source]
        source: serde_json::Error,
    },
    /// A manual payload that is not a valid [`ManualTrigger`].
    #[error("invalid manual trigger: {source}")]
    Manual {
        /// The JSON error, naming the unknown or mistyped field.
        #[source]
        source: serde_json::Error,
    },
}

/// One invocation of the planner, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum PlannerEvent {
    /// An SQS batch; each message carries zero or more object-created records.
    Sqs(Vec<QueueMessage>),
    /// S3 notification records delivered directly.
    S3(Vec<S3Record>),
    /// An EventBridge scheduled event: plan the jobs of the deployment settings.
    Schedule,
    /// A manual request.
    Manual(Box<ManualTrigger>),
}

/// One SQS message, reduced to what planning needs.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueMessage {
    /// SQS message id (for logs and `batchItemFailures`).
    pub message_id: String,
    /// What the body said.
    pub body: MessageBody,
}

/// The body of one SQS message.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageBody {
    /// An S3 event notification.
    Records(Vec<S3Record>),
    /// The `s3:TestEvent` S3 sends when notifications are configured.
    TestEvent,
    /// Not an S3 notification (logged and dropped: a retry cannot make it one).
    Unrecognised(String),
}

/// One S3 notification record (key decoded).
#[derive(Debug, Clone, PartialEq)]
pub struct S3Record {
    /// e.g. `ObjectCreated:Put`.
    pub event_name: String,
    /// Bucket name.
    pub bucket: String,
    /// Object key, URL-decoded.
    pub key: String,
    /// Object size, when given.
    pub size: Option<u64>,
}

impl S3Record {
    /// The object.
    pub fn location(&self) -> Location {
        Location::s3(&self.bucket, &self.key)
    }

    /// True for `ObjectCreated:*` events.
    pub fn is_object_created(&self) -> bool {
        self.event_name.starts_with("ObjectCreated:")
    }
}

/// Why an S3 record does not trigger planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    /// Not an `ObjectCreated:*` event.
    NotCreated,
    /// Another bucket or a key outside the source prefix.
    OutsideSourceRoot,
    /// Not a `.data` or `.meta` file.
    NotModelOutput,
}

impl fmt::Display for IgnoreReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IgnoreReason::NotCreated => "not an ObjectCreated event",
            IgnoreReason::OutsideSourceRoot => "outside the source root",
            IgnoreReason::NotModelOutput => "not a .data or .meta file",
        })
    }
}

/// Whether `record` announces new model output below `source_root`.
pub fn relevance(record: &S3Record, source_root: &Location) -> Result<(), IgnoreReason> {
    if !record.is_object_created() {
        return Err(IgnoreReason::NotCreated);
    }
    let inside = record
        .location()
        .relative_to(source_root)
        .is_some_and(|rest| !rest.is_empty());
    if !inside {
        return Err(IgnoreReason::OutsideSourceRoot);
    }
    if !(record.key.ends_with(".data") || record.key.ends_with(".meta")) {
        return Err(IgnoreReason::NotModelOutput);
    }
    Ok(())
}

/// Decodes an S3 notification key: `+` is a space, then `%XX` escapes. Invalid UTF-8 after
/// decoding (impossible for keys S3 produced) is replaced rather than rejected.
pub fn decode_key(encoded: &str) -> String {
    let spaced = encoded.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

// ----- wire shapes -------------------------------------------------------------------------
// Own minimal shapes instead of aws_lambda_events::s3::S3EventRecord: that type requires
// userIdentity and requestParameters, which S3 always sends but emulators and hand-written
// test events often leave out; we only need bucket, key, size and the event name.

#[derive(Deserialize)]
struct RecordsEnvelope {
    #[serde(rename = "Records")]
    records: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSqsRecord {
    message_id: String,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireS3Record {
    #[serde(default)]
    event_name: String,
    s3: WireS3Entity,
}

#[derive(Deserialize)]
struct WireS3Entity {
    bucket: WireBucket,
    object: WireObject,
}

#[derive(Deserialize)]
struct WireBucket {
    name: String,
}

#[derive(Deserialize)]
struct WireObject {
    key: String,
    #[serde(default)]
    size: Option<u64>,
}

impl From<WireS3Record> for S3Record {
    fn from(wire: WireS3Record) -> S3Record {
        S3Record {
            event_name: wire.event_name,
            bucket: wire.s3.bucket.name,
            key: decode_key(&wire.s3.object.key),
            size: wire.s3.object.size,
        }
    }
}

impl PlannerEvent {
    /// Classifies and parses a raw invocation payload.
    pub fn parse(value: Value) -> Result<PlannerEvent, EventError> {
        if value.get("Records").is_some() {
            let envelope: RecordsEnvelope =
                serde_json::from_value(value).map_err(|source| EventError::Malformed {
                    what: "event Records",
                    source,
                })?;
            return parse_records(envelope.records);
        }
        if value.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
            return Ok(PlannerEvent::Schedule);
        }
        serde_json::from_value::<ManualTrigger>(value)
            .map(|trigger| PlannerEvent::Manual(Box::new(trigger)))
            .map_err(|source| EventError::Manual { source })
    }

    /// Every S3 record of the event (all messages of an SQS batch), decoded.
    pub fn s3_records(&self) -> Vec<&S3Record> {
        match self {
            PlannerEvent::Sqs(messages) => messages
                .iter()
                .flat_map(|m| match &m.body {
                    MessageBody::Records(records) => records.iter().collect(),
                    _ => Vec::new(),
                })
                .collect(),
            PlannerEvent::S3(records) => records.iter().collect(),
            PlannerEvent::Schedule | PlannerEvent::Manual(_) => Vec::new(),
        }
    }
}

fn event_source(record: &Value) -> &str {
    // SQS spells it eventSource, S3 (and SNS) EventSource/eventSource.
    record
        .get("eventSource")
        .or_else(|| record.get("EventSource"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn parse_records(records: Vec<Value>) -> Result<PlannerEvent, EventError> {
    let source = records.first().map(event_source).unwrap_or("aws:s3");
    match source {
        "aws:sqs" => records
            .into_iter()
            .map(|record| {
                let wire: WireSqsRecord =
                    serde_json::from_value(record).map_err(|source| EventError::Malformed {
                        what: "SQS record",
                        source,
                    })?;
                Ok(QueueMessage {
                    body: parse_body(wire.body.as_deref().unwrap_or("")),
                    message_id: wire.message_id,
                })
            })
            .collect::<Result<_, _>>()
            .map(PlannerEvent::Sqs),
        "aws:s3" => {
            s3_records(records)
                .map(PlannerEvent::S3)
                .map_err(|source| EventError::Malformed {
                    what: "S3 record",
                    source,
                })
        }
        other => Err(EventError::UnsupportedSource {
            found: other.to_string(),
        }),
    }
}

fn s3_records(records: Vec<Value>) -> Result<Vec<S3Record>, serde_json::Error> {
    records
        .into_iter()
        .map(|r| serde_json::from_value::<WireS3Record>(r).map(S3Record::from))
        .collect()
}

/// Parses one SQS message body: an S3 notification, the S3 test event, or either of them
/// wrapped in an SNS notification envelope (S3 -> SNS -> SQS fan-out).
fn parse_body(body: &str) -> MessageBody {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return MessageBody::Unrecognised("body is not JSON".to_string());
    };
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return MessageBody::TestEvent;
    }
    if value.get("Type").and_then(Value::as_str) == Some("Notification")
        && let Some(inner) = value.get("Message").and_then(Value::as_str)
    {
        return parse_body(inner);
    }
    match value.get("Records") {
        Some(Value::Array(records)) => match s3_records(records.clone()) {
            Ok(records) => MessageBody::Records(records),
            Err(err) => MessageBody::Unrecognised(format!("not an S3 notification: {err}")),
        },
        _ => MessageBody::Unrecognised("no Records in body".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s3_notification(bucket: &str, key: &str, event_name: &str) -> Value {
        json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-01-01T00:00:00.000Z", "eventName": event_name,
            "userIdentity": {"principalId": "AWS:X"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "new-output",
                   "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                   "object": {"key": key, "size": 1234, "eTag": "abc"}}
        }]})
    }

    fn sqs_batch(bodies: &[String]) -> Value {
        let records: Vec<Value> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                json!({"messageId": format!("m{i}"), "receiptHandle": "r", "body": body,
                       "attributes": {}, "messageAttributes": {}, "md5OfBody": "x",
                       "eventSource": "aws:sqs",
                       "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:trigger",
                       "awsRegion": "us-east-1"})
            })
            .collect();
        json!({ "Records": records })
    }

    #[test]
    fn keys_are_form_decoded() {
        assert_eq!(
            decode_key("diags/SSH+mon%2Bmean.0000000732.data"),
            "diags/SSH mon+mean.0000000732.data"
        );
        assert_eq!(decode_key("a%20b/%C3%A9t%C3%A9.meta"), "a b/été.meta");
        assert_eq!(decode_key("plain/key.data"), "plain/key.data");
    }

    #[test]
    fn sqs_batch_of_s3_notifications_and_a_test_event() {
        let body = s3_notification(
            "model",
            "run1/diags/SSH+x.0000000732.data",
            "ObjectCreated:Put",
        )
        .to_string();
        let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent",
                                "Time": "2026-01-01T00:00:00Z", "Bucket": "model",
                                "RequestId": "1", "HostId": "2"})
        .to_string();
        let event = PlannerEvent::parse(sqs_batch(&[body, test_event, "not json".into()])).unwrap();
        let PlannerEvent::Sqs(messages) = &event else {
            panic!("{event:?}")
        };
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[1].body, MessageBody::TestEvent);
        assert!(matches!(messages[2].body, MessageBody::Unrecognised(_)));
        let records = event.s3_records();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].key, "run1/diags/SSH x.0000000732.data");
        assert_eq!(records[0].size, Some(1234));
    }

    #[test]
    fn sns_wrapped_notifications_are_unwrapped() {
        let inner = s3_notification("model", "k.meta", "ObjectCreated:Copy").to_string();
        let sns = json!({"Type": "Notification", "MessageId": "x", "TopicArn": "arn:aws:sns:::t",
                         "Message": inner})
        .to_string();
        let event = PlannerEvent::parse(sqs_batch(&[sns])).unwrap();
        assert_eq!(event.s3_records()[0].key, "k.meta");
    }

    #[test]
    fn minimal_s3_records_without_identity_fields_parse() {
        // The shape some emulators send: no userIdentity / requestParameters.
        let event = PlannerEvent::parse(json!({"Records": [{
            "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "b"}, "object": {"key": "x/y.data"}}}]}))
        .unwrap();
        assert_eq!(
            event.s3_records()[0].location(),
            Location::s3("b", "x/y.data")
        );
    }

    #[test]
    fn relevance_filters_bucket_prefix_event_and_extension() {
        let root = Location::parse("s3://model/v4r4").unwrap();
        let record = |bucket: &str, key: &str, name: &str| S3Record {
            event_name: name.into(),
            bucket: bucket.into(),
            key: key.into(),
            size: None,
        };
        assert_eq!(
            relevance(
                &record(
                    "model",
                    "v4r4/diags/SSH.0000000732.data",
                    "ObjectCreated:Put"
                ),
                &root
            ),
            Ok(())
        );
        assert_eq!(
            relevance(
                &record(
                    "model",
                    "v4r4/diags/SSH.0000000732.meta",
                    "ObjectCreated:CompleteMultipartUpload"
                ),
                &root
            ),
            Ok(())
        );
        assert_eq!(
            relevance(
                &record("other", "v4r4/SSH.data", "ObjectCreated:Put"),
                &root
            ),
            Err(IgnoreReason::OutsideSourceRoot)
        );
        assert_eq!(
            relevance(
                &record("model", "v4r4x/SSH.data", "ObjectCreated:Put"),
                &root
            ),
            Err(IgnoreReason::OutsideSourceRoot)
        );
        assert_eq!(
            relevance(
                &record("model", "v4r4/diags/STDOUT.0000", "ObjectCreated:Put"),
                &root
            ),
            Err(IgnoreReason::NotModelOutput)
        );
        assert_eq!(
            relevance(
                &record("model", "v4r4/diags/SSH.data", "ObjectRemoved:Delete"),
                &root
            ),
            Err(IgnoreReason::NotCreated)
        );
        let bucket_root = Location::parse("s3://model").unwrap();
        assert_eq!(
            relevance(
                &record("model", "SSH.data", "ObjectCreated:Put"),
                &bucket_root
            ),
            Ok(())
        );
    }

    #[test]
    fn manual_payloads_and_schedules() {
        let event =
            PlannerEvent::parse(json!({"job_file": "s3://b/jobs.txt", "dry_run": true})).unwrap();
        let PlannerEvent::Manual(trigger) = event else {
            panic!()
        };
        assert_eq!(trigger.job_file.as_deref(), Some("s3://b/jobs.txt"));
        assert!(trigger.dry_run);
        let err = PlannerEvent::parse(json!({"jobfile": "x"})).unwrap_err();
        assert!(err.to_string().contains("jobfile"), "{err}");
        let schedule = json!({"version": "0", "id": "x", "detail-type": "Scheduled Event",
                              "source": "aws.events", "time": "2026-01-01T00:00:00Z",
                              "region": "us-east-1", "resources": [], "detail": {}});
        assert_eq!(
            PlannerEvent::parse(schedule).unwrap(),
            PlannerEvent::Schedule
        );
    }

    #[test]
    fn records_of_an_unknown_source_are_rejected() {
        let err =
            PlannerEvent::parse(json!({"Records": [{"eventSource": "aws:kinesis"}]})).unwrap_err();
        assert!(err.to_string().contains("aws:kinesis"), "{err}");
    }
}
