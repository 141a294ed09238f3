//! Helpers shared by the test modules.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use edp_store::{Location, RetrySettings, StaticCredentials, Store, StoreConfig};
use edp_testkit::MotoServer;
use edp_testkit::moto::{MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY};

/// A configuration pointing at `endpoint` with dummy credentials, path-style addressing and
/// quick retries (so failure tests stay fast).
pub fn emulator_config(endpoint: String) -> StoreConfig {
    StoreConfig {
        endpoint_url: Some(endpoint),
        region: Some(MOTO_REGION.to_string()),
        credentials: Some(StaticCredentials {
            access_key_id: MOTO_ACCESS_KEY_ID.to_string(),
            secret_access_key: MOTO_SECRET_ACCESS_KEY.to_string(),
            session_token: None,
        }),
        force_path_style: true,
        retry: RetrySettings {
            initial_backoff: Duration::from_millis(10),
            ..RetrySettings::default()
        },
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(30),
        ..StoreConfig::default()
    }
}

/// A running moto with one bucket, and a store talking to it.
pub struct Moto {
    pub store: Store,
    pub bucket: String,
    /// Kept alive for the test's duration; the emulator dies with it.
    pub server: MotoServer,
}

impl Moto {
    /// `None` (test skipped, with a printed reason) when moto is not installed outside CI.
    pub async fn start(bucket: &str, tweak: impl FnOnce(&mut StoreConfig)) -> Option<Moto> {
        let server = MotoServer::start_or_skip()?;
        let mut config = emulator_config(server.endpoint());
        tweak(&mut config);
        let store = Store::from_config(config).await;
        store
            .s3_client()
            .unwrap()
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        Some(Moto {
            store,
            bucket: bucket.to_string(),
            server,
        })
    }

    /// `s3://<bucket>/<key>`
    pub fn loc(&self, key: &str) -> Location {
        Location::s3(&self.bucket, key)
    }
}

/// A loopback HTTP server answering every request with the same canned response; counts
/// requests. The accept thread is detached and ends with the test process.
pub struct StubServer {
    pub endpoint: String,
    pub requests: Arc<AtomicUsize>,
}

impl StubServer {
    /// Answers with `status` and an S3-style XML error `code`.
    pub fn s3_error(status: u16, reason: &str, code: &str) -> StubServer {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
             <Message>stub says {code}</Message><RequestId>STUBREQUEST</RequestId></Error>"
        );
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n\
             x-amz-request-id: STUBREQUEST\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        StubServer::spawn(Some(response))
    }

    /// Accepts connections and closes them without answering.
    pub fn hang_up() -> StubServer {
        StubServer::spawn(None)
    }

    fn spawn(response: Option<String>) -> StubServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                if let Some(response) = &response {
                    read_request_head(&mut stream);
                    let _ = stream.write_all(response.as_bytes());
                }
                // Dropping the stream closes the connection.
            }
        });
        StubServer { endpoint, requests }
    }

    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads until the end of the request headers (the stub ignores bodies: the tests send GETs).
fn read_request_head(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// A loopback port with nothing listening: bound, then released.
pub fn closed_port_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// Deterministic pseudo-random bytes (xorshift), independent of the code under test.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}
