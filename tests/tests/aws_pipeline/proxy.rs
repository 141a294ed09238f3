//! A loopback HTTP proxy in front of the emulator, for two things a mock cannot show:
//!
//! * which access key signed each request (read from the SigV4 `Authorization` header), to
//!   prove that the worker really uses the credentials it read from SSM;
//! * real transient failures: requests whose path matches a pattern are answered
//!   `503 SlowDown` (the S3 throttling error) without reaching the emulator.
//!
//! One request per connection: the proxy asks both sides for `Connection: close`, so that
//! it only ever parses one request head and one response head per connection.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request seen by the proxy.
#[derive(Debug, Clone)]
pub struct Seen {
    /// HTTP method.
    pub method: String,
    /// Request target, percent-decoded.
    pub path: String,
    /// The access key id of the SigV4 signature.
    pub access_key_id: Option<String>,
    /// True when the proxy answered 503 instead of forwarding.
    pub throttled: bool,
}

/// A running proxy; stops with the test's runtime.
pub struct Proxy {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    /// Starts a proxy to `127.0.0.1:upstream` that throttles requests whose decoded path
    /// contains every one of `throttle` (no throttling when empty).
    pub async fn start(upstream: u16, throttle: Vec<String>) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let throttle = Arc::new(throttle);
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let log = Arc::clone(&log);
                let throttle = Arc::clone(&throttle);
                tokio::spawn(async move {
                    // A failed connection only fails the client's request, which retries.
                    let _ = serve(client, upstream, &throttle, &log).await;
                });
            }
        });
        Proxy { port, seen }
    }

    /// The endpoint URL to give a client.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: u16,
    throttle: &[String],
    log: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    let (head, rest) = read_head(&mut client).await?;
    let text = String::from_utf8_lossy(&head).to_string();
    let mut request_line = text.lines().next().unwrap_or("").split_whitespace();
    let method = request_line.next().unwrap_or("").to_string();
    let path = percent_decode(request_line.next().unwrap_or(""));
    let access_key_id = text
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .and_then(|l| l.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .map(str::to_string);
    let throttled = !throttle.is_empty() && throttle.iter().all(|p| path.contains(p.as_str()));
    log.lock().unwrap().push(Seen {
        method: method.clone(),
        path,
        access_key_id,
        throttled,
    });

    if throttled {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>\
                    <Message>Please reduce your request rate.</Message>\
                    <RequestId>E2EPROXY</RequestId></Error>";
        let body = if method == "HEAD" { "" } else { body };
        let response = format!(
            "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        client.write_all(response.as_bytes()).await?;
        return client.shutdown().await;
    }

    let mut server = TcpStream::connect(("127.0.0.1", upstream)).await?;
    server.write_all(&with_connection_close(&head)).await?;
    server.write_all(&rest).await?;
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    // The rest of the request body, while the response comes back.
    let upload = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
    });
    let (response_head, response_rest) = read_head(&mut server_read).await?;
    client_write
        .write_all(&with_connection_close(&response_head))
        .await?;
    client_write.write_all(&response_rest).await?;
    tokio::io::copy(&mut server_read, &mut client_write).await?;
    client_write.shutdown().await?;
    upload.abort();
    Ok(())
}

/// Reads up to the end of the head (`\r\n\r\n`); returns the head and any bytes after it.
async fn read_head(
    stream: &mut (impl AsyncReadExt + Unpin),
) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            return Ok((buffer, rest));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed before the end of the head",
            ));
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// The head with its `Connection` header replaced by `Connection: close` (not signed by
/// SigV4, so the signature stays valid).
fn with_connection_close(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<&str> = text
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    format!("{}\r\n\r\n", lines.join("\r\n")).into_bytes()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
