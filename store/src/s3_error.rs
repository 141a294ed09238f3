//! Classification of AWS SDK errors into [`ErrorKind`]s, with messages that keep the service's
//! code, message, HTTP status and request id.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::RequestId;

use crate::Location;
use crate::error::{ErrorKind, Operation, StoreError};

/// Service error codes that a later retry can fix, whatever their HTTP status.
const TRANSIENT_CODES: &[&str] = &[
    "SlowDown",
    "RequestTimeout",
    "InternalError",
    "ServiceUnavailable",
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestTimeTooSkewed",
    "ConditionalRequestConflict",
    "OperationAborted",
    "IDPCommunicationError",
];

/// The kind of a service (HTTP) error from its status and S3 error code.
///
/// The code wins over the status where they disagree: `RequestTimeout` comes with a 400 and
/// is transient; `NoSuchBucket` comes with a 404 and is permanent (a configuration error, not
/// a missing object).
pub(crate) fn classify_service(status: Option<u16>, code: Option<&str>) -> ErrorKind {
    match code {
        Some(c) if TRANSIENT_CODES.contains(&c) => return ErrorKind::Transient,
        Some("NoSuchBucket") => return ErrorKind::Permanent,
        Some("NoSuchKey" | "NotFound") => return ErrorKind::NotFound,
        Some("PreconditionFailed") => return ErrorKind::PreconditionFailed,
        _ => {}
    }
    match status {
        Some(404) => ErrorKind::NotFound,
        Some(412) => ErrorKind::PreconditionFailed,
        Some(408 | 429) => ErrorKind::Transient,
        Some(s) if s >= 500 => ErrorKind::Transient,
        Some(_) => ErrorKind::Permanent,
        // A service error without a response cannot happen; be conservative.
        None => ErrorKind::Transient,
    }
}

/// The HTTP status of a service error, if there was a response.
pub(crate) fn status_of<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// True for the 409 `ConditionalRequestConflict` of a conditional write racing another one
/// on the same key: the request should be sent again, and its answer (412 or success) decides.
pub(crate) fn is_conditional_conflict<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
) -> bool {
    matches!(err, SdkError::ServiceError(_))
        && (err.code() == Some("ConditionalRequestConflict") || status_of(err) == Some(409))
}

/// The [`ErrorKind`] of any SDK error (also used where only the kind matters).
pub(crate) fn kind_of<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> ErrorKind {
    match err {
        // The request could not even be built (missing region, invalid input): no retry helps.
        SdkError::ConstructionFailure(_) => ErrorKind::Permanent,
        SdkError::TimeoutError(_) => ErrorKind::Transient,
        // A "user" dispatch failure is a client misconfiguration (e.g. TLS setup); the rest are
        // connection refused/reset, DNS, timeouts: worth retrying.
        SdkError::DispatchFailure(d) if d.is_user() => ErrorKind::Permanent,
        SdkError::DispatchFailure(_) => ErrorKind::Transient,
        // A response arrived but was cut off or unreadable.
        SdkError::ResponseError(_) => ErrorKind::Transient,
        SdkError::ServiceError(_) => classify_service(status_of(err), err.code()),
        _ => ErrorKind::Permanent,
    }
}

/// Converts an SDK error into a [`StoreError`] naming the operation and location.
pub(crate) fn sdk_error<E>(
    op: Operation,
    loc: &Location,
    err: SdkError<E, HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let kind = kind_of(&err);
    let mut detail = match &err {
        SdkError::ServiceError(_) => {
            let status = status_of(&err).map_or_else(|| "?".to_string(), |s| s.to_string());
            let code = err.code().unwrap_or("(no error code)");
            match err.message() {
                Some(message) => format!("HTTP {status} {code}: {message}"),
                None => format!("HTTP {status} {code}"),
            }
        }
        SdkError::ConstructionFailure(_) => {
            format!("could not build the request: {}", DisplayErrorContext(&err))
        }
        SdkError::TimeoutError(_) => format!("timed out: {}", DisplayErrorContext(&err)),
        SdkError::DispatchFailure(_) => {
            format!("request not delivered: {}", DisplayErrorContext(&err))
        }
        SdkError::ResponseError(_) => {
            format!("unreadable response: {}", DisplayErrorContext(&err))
        }
        _ => DisplayErrorContext(&err).to_string(),
    };
    if let Some(id) = err.request_id() {
        detail.push_str(&format!(" (request id {id})"));
    }
    StoreError::new(kind, op, loc, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_transient() {
        assert_eq!(
            classify_service(Some(503), Some("SlowDown")),
            ErrorKind::Transient
        );
        assert_eq!(
            classify_service(Some(500), Some("InternalError")),
            ErrorKind::Transient
        );
        assert_eq!(classify_service(Some(502), None), ErrorKind::Transient);
        assert_eq!(classify_service(Some(429), None), ErrorKind::Transient);
        // S3 sends RequestTimeout with a 400.
        assert_eq!(
            classify_service(Some(400), Some("RequestTimeout")),
            ErrorKind::Transient
        );
        assert_eq!(
            classify_service(Some(409), Some("ConditionalRequestConflict")),
            ErrorKind::Transient
        );
    }

    #[test]
    fn client_errors_are_permanent_and_missing_keys_not_found() {
        assert_eq!(
            classify_service(Some(403), Some("AccessDenied")),
            ErrorKind::Permanent
        );
        assert_eq!(
            classify_service(Some(400), Some("InvalidArgument")),
            ErrorKind::Permanent
        );
        assert_eq!(
            classify_service(Some(404), Some("NoSuchBucket")),
            ErrorKind::Permanent
        );
        assert_eq!(
            classify_service(Some(404), Some("NoSuchKey")),
            ErrorKind::NotFound
        );
        // HEAD responses have no body, hence no code.
        assert_eq!(classify_service(Some(404), None), ErrorKind::NotFound);
        assert_eq!(
            classify_service(Some(412), Some("PreconditionFailed")),
            ErrorKind::PreconditionFailed
        );
    }
}
