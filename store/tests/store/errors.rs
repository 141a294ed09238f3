//! Transient versus permanent failures, against endpoints that misbehave on purpose.

use edp_store::{ErrorKind, Location, Store};

use crate::support::{StubServer, closed_port_endpoint, emulator_config};

fn object() -> Location {
    Location::parse("s3://bucket/some/key.json").unwrap()
}

async fn store_at(endpoint: String, max_attempts: u32) -> Store {
    let mut config = emulator_config(endpoint);
    config.retry.max_attempts = max_attempts;
    Store::from_config(config).await
}

#[tokio::test]
async fn a_closed_port_is_a_retryable_error() {
    let store = store_at(closed_port_endpoint(), 2).await;
    let err = store.get(&object()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.is_retryable());
    assert!(
        err.to_string().contains("s3://bucket/some/key.json"),
        "{err}"
    );
    let err = store.put(&object(), "x").await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn a_connection_closed_without_answer_is_retryable() {
    let stub = StubServer::hang_up();
    let store = store_at(stub.endpoint.clone(), 2).await;
    let err = store.get(&object()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn slow_down_503_is_retried_by_the_sdk_then_reported_retryable() {
    let stub = StubServer::s3_error(503, "Slow Down", "SlowDown");
    let store = store_at(stub.endpoint.clone(), 3).await;
    let err = store.get(&object()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.is_retryable());
    let text = err.to_string();
    assert!(text.contains("HTTP 503 SlowDown"), "{text}");
    assert!(text.contains("STUBREQUEST"), "{text}");
    // The configured attempts were all made.
    assert_eq!(stub.request_count(), 3);
}

#[tokio::test]
async fn internal_error_500_is_retryable() {
    let stub = StubServer::s3_error(500, "Internal Server Error", "InternalError");
    let store = store_at(stub.endpoint.clone(), 2).await;
    let err = store.put(&object(), "x").await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn access_denied_403_is_permanent_and_not_retried() {
    let stub = StubServer::s3_error(403, "Forbidden", "AccessDenied");
    let store = store_at(stub.endpoint.clone(), 3).await;
    let err = store.get(&object()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("HTTP 403 AccessDenied"), "{err}");
    assert_eq!(stub.request_count(), 1);
}

#[tokio::test]
async fn no_such_bucket_404_is_permanent_but_no_such_key_is_not_found() {
    let stub = StubServer::s3_error(404, "Not Found", "NoSuchBucket");
    let store = store_at(stub.endpoint.clone(), 3).await;
    let err = store.get(&object()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
    assert!(!err.is_retryable());

    let stub = StubServer::s3_error(404, "Not Found", "NoSuchKey");
    let store = store_at(stub.endpoint.clone(), 3).await;
    let err = store.get(&object()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}
