//! A local AWS emulator (moto) for tests: one `moto_server` child process per [`MotoServer`],
//! listening on a free loopback port and killed when the value is dropped.
//!
//! Code under test talks to it through settings only (`AWS_ENDPOINT_URL`, path-style S3),
//! never through a separate code path: [`MotoServer::env_vars`] lists exactly what a child
//! process needs, and [`MotoServer::endpoint`] is what an in-process client needs.
//!
//! This module uses only `std` (no tokio, no AWS SDK): the one HTTP request it makes (the
//! moto configuration POST) is written by hand over a `TcpStream`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Access key id that moto accepts (any value works; this is the conventional one).
pub const MOTO_ACCESS_KEY_ID: &str = "testing";
/// Secret access key that goes with [`MOTO_ACCESS_KEY_ID`].
pub const MOTO_SECRET_ACCESS_KEY: &str = "testing";
/// Region the emulator is addressed in.
pub const MOTO_REGION: &str = "us-east-1";

/// How long [`MotoServer::start`] waits for the emulator to answer. The first start after a
/// fresh virtualenv compiles Python bytecode and can take several seconds on a loaded machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Timeout of one HTTP exchange with the emulator.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Moto configuration posted after start: run Batch jobs without Docker.
const MOTO_CONFIG: &str = r#"{"batch":{"use_docker":false}}"#;
/// Attempts at picking a free port: another process may grab the port between the moment we
/// release it and the moment moto binds it.
const PORT_ATTEMPTS: usize = 3;

/// Why the emulator could not be started or reached.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    /// No `moto_server` executable in any of the places searched.
    #[error(
        "moto_server executable not found: looked at $EDP_MOTO_SERVER, {venv} and every \
         directory of $PATH (run scripts/python-env to create the .venv)"
    )]
    NotInstalled {
        /// The virtualenv location that was tried.
        venv: PathBuf,
    },
    /// `$EDP_MOTO_SERVER` names something that is not an executable file.
    #[error("EDP_MOTO_SERVER={path}: expected an executable file, found {found}")]
    BadOverride {
        /// The value of the variable.
        path: PathBuf,
        /// What is there instead.
        found: &'static str,
    },
    /// No free loopback port could be bound.
    #[error("cannot bind a free port on 127.0.0.1: {0}")]
    NoPort(#[source] std::io::Error),
    /// Creating the log file or spawning the process failed.
    #[error("cannot start {exe}: {source}")]
    Spawn {
        /// The executable.
        exe: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The process exited before it answered.
    #[error("{exe} on port {port} exited with {status} before answering; its output:\n{log}")]
    Exited {
        /// The executable.
        exe: PathBuf,
        /// The port it was asked to listen on.
        port: u16,
        /// Its exit status.
        status: String,
        /// Its stdout and stderr.
        log: String,
    },
    /// The process is running but did not answer in time.
    #[error(
        "{exe} on port {port} did not answer within {seconds} s (last error: {last_error}); \
         its output:\n{log}"
    )]
    Timeout {
        /// The executable.
        exe: PathBuf,
        /// The port it was asked to listen on.
        port: u16,
        /// The bounded wait.
        seconds: u64,
        /// The last connection or HTTP error seen while polling.
        last_error: String,
        /// Its stdout and stderr.
        log: String,
    },
    /// An HTTP exchange with the running emulator failed.
    #[error("{method} {url}: {detail}")]
    Http {
        /// HTTP method.
        method: String,
        /// Full URL.
        url: String,
        /// What went wrong (I/O error, or expected status vs found).
        detail: String,
    },
}

/// A running moto server on `127.0.0.1:<port>`, killed on drop.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    port: u16,
    exe: PathBuf,
    /// stdout+stderr of the child; kept so that errors can show it, removed on drop.
    log: tempfile::NamedTempFile,
}

impl MotoServer {
    /// Starts a fresh emulator on a free loopback port, waits (bounded) until it answers and
    /// configures Batch to run without Docker.
    ///
    /// The executable is `$EDP_MOTO_SERVER` if set, else `<repo>/.venv/bin/moto_server`, else
    /// the first `moto_server` on `$PATH`.
    pub fn start() -> Result<MotoServer, MotoError> {
        let exe = find_moto_server()?;
        let mut last = None;
        for _ in 0..PORT_ATTEMPTS {
            match Self::start_once(&exe) {
                Ok(server) => return Ok(server),
                // Only an early exit may be a lost race for the port; anything else is final.
                Err(err @ MotoError::Exited { .. }) => last = Some(err),
                Err(err) => return Err(err),
            }
        }
        Err(last.unwrap_or(MotoError::NotInstalled {
            venv: venv_moto_server(),
        }))
    }

    /// [`MotoServer::start`] for tests that may be skipped: `None` (with a printed `SKIPPED`
    /// line) when moto is not installed outside CI. In CI (`CI` set) a missing moto is a hard
    /// failure, and so is, everywhere, an installed moto that does not start.
    pub fn start_or_skip() -> Option<MotoServer> {
        match MotoServer::start() {
            Ok(server) => Some(server),
            Err(err @ MotoError::NotInstalled { .. }) => {
                if std::env::var_os("CI").is_some() {
                    panic!("{err}: CI must have the moto emulator installed");
                }
                eprintln!("SKIPPED: {err}");
                None
            }
            Err(err) => panic!("the moto emulator is installed but did not start: {err}"),
        }
    }

    fn start_once(exe: &Path) -> Result<MotoServer, MotoError> {
        let port = free_loopback_port()?;
        let log = tempfile::Builder::new()
            .prefix("edp-moto-")
            .suffix(".log")
            .tempfile()
            .map_err(|source| MotoError::Spawn {
                exe: exe.to_path_buf(),
                source,
            })?;
        let spawn_err = |source| MotoError::Spawn {
            exe: exe.to_path_buf(),
            source,
        };
        let stdout = log.reopen().map_err(spawn_err)?;
        let stderr = log.reopen().map_err(spawn_err)?;
        let child = Command::new(exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(spawn_err)?;
        // From here on `server` owns the child: any early return kills it through Drop.
        let mut server = MotoServer {
            child,
            port,
            exe: exe.to_path_buf(),
            log,
        };
        server.wait_until_configured()?;
        Ok(server)
    }

    /// Polls the configuration endpoint until the POST succeeds, the child exits or the
    /// deadline passes. The POST doubles as the readiness probe.
    fn wait_until_configured(&mut self) -> Result<(), MotoError> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let mut last_error;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(MotoError::Exited {
                    exe: self.exe.clone(),
                    port: self.port,
                    status: status.to_string(),
                    log: self.log_text(),
                });
            }
            match self.request("POST", "/moto-api/config", Some(MOTO_CONFIG)) {
                // moto answers 201 Created; any 2xx means the configuration was taken.
                Ok((200..=299, _)) => return Ok(()),
                Ok((status, body)) => last_error = format!("HTTP {status}: {body}"),
                Err(err) => last_error = err.to_string(),
            }
            if Instant::now() >= deadline {
                return Err(MotoError::Timeout {
                    exe: self.exe.clone(),
                    port: self.port,
                    seconds: STARTUP_TIMEOUT.as_secs(),
                    last_error,
                    log: self.log_text(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The endpoint URL, e.g. `http://127.0.0.1:40123`, for `AWS_ENDPOINT_URL` or an SDK
    /// client's `endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port the emulator listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Environment a child process needs to use the emulator: endpoint, dummy credentials,
    /// region, and path-style S3 addressing (`EDP_S3_FORCE_PATH_STYLE`, read by `edp-store`).
    /// Pass to `Command::envs`.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", MOTO_ACCESS_KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", MOTO_SECRET_ACCESS_KEY.to_string()),
            ("AWS_REGION", MOTO_REGION.to_string()),
            ("AWS_DEFAULT_REGION", MOTO_REGION.to_string()),
            ("EDP_S3_FORCE_PATH_STYLE", "true".to_string()),
        ]
    }

    /// Forgets every resource created in the emulator (`POST /moto-api/reset`).
    pub fn reset(&self) -> Result<(), MotoError> {
        self.expect_ok("POST", "/moto-api/reset", None)
    }

    /// Sends one HTTP/1.1 request to the emulator and returns the status code and body.
    /// A small helper for tests that want to poke moto's own API (`/moto-api/...`).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        json_body: Option<&str>,
    ) -> Result<(u16, String), MotoError> {
        let url = format!("{}{path}", self.endpoint());
        let http_err = |detail: String| MotoError::Http {
            method: method.to_string(),
            url: url.clone(),
            detail,
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, HTTP_TIMEOUT)
            .map_err(|e| http_err(format!("connect: {e}")))?;
        stream
            .set_read_timeout(Some(HTTP_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(HTTP_TIMEOUT)))
            .map_err(|e| http_err(format!("set timeout: {e}")))?;
        let body = json_body.unwrap_or("");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Content-Type: application/json\r\nContent-Length: {len}\r\n\
             Connection: close\r\n\r\n{body}",
            port = self.port,
            len = body.len(),
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| http_err(format!("send: {e}")))?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .map_err(|e| http_err(format!("receive: {e}")))?;
        parse_response(&response).map_err(http_err)
    }

    fn expect_ok(&self, method: &str, path: &str, body: Option<&str>) -> Result<(), MotoError> {
        match self.request(method, path, body)? {
            (200..=299, _) => Ok(()),
            (status, body) => Err(MotoError::Http {
                method: method.to_string(),
                url: format!("{}{path}", self.endpoint()),
                detail: format!("expected HTTP 2xx, found {status}: {body}"),
            }),
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path())
            .unwrap_or_else(|e| format!("<cannot read {}: {e}>", self.log.path().display()))
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // Errors are ignored on purpose: the child may already have exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Splits a raw HTTP/1.1 response (read until the server closed) into status and body.
/// Handles `Transfer-Encoding: chunked` loosely: moto answers these small requests with a
/// `Content-Length`, and the body is only used in error messages.
fn parse_response(raw: &[u8]) -> Result<(u16, String), String> {
    let text = String::from_utf8_lossy(raw);
    let status_line = text.lines().next().unwrap_or("");
    let mut parts = status_line.split_whitespace();
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/") {
        return Err(format!(
            "expected an HTTP status line, found {:?}",
            truncate(status_line, 80)
        ));
    }
    let status = code
        .parse::<u16>()
        .map_err(|_| format!("expected a numeric HTTP status, found {code:?}"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Binds port 0 on 127.0.0.1 to let the OS pick a free port, then releases it for moto.
fn free_loopback_port() -> Result<u16, MotoError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(MotoError::NoPort)?;
    let port = listener.local_addr().map_err(MotoError::NoPort)?.port();
    drop(listener);
    Ok(port)
}

fn venv_moto_server() -> PathBuf {
    crate::repo_root().join(".venv/bin/moto_server")
}

/// `$EDP_MOTO_SERVER`, else the repository's `.venv`, else `$PATH`.
fn find_moto_server() -> Result<PathBuf, MotoError> {
    if let Some(path) = std::env::var_os("EDP_MOTO_SERVER").map(PathBuf::from) {
        return if is_executable_file(&path) {
            Ok(path)
        } else {
            let found = if !path.exists() {
                "nothing"
            } else if path.is_dir() {
                "a directory"
            } else {
                "a file that is not executable"
            };
            Err(MotoError::BadOverride { path, found })
        };
    }
    let venv = venv_moto_server();
    if is_executable_file(&venv) {
        return Ok(venv);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("moto_server"))
        .find(|candidate| is_executable_file(candidate))
        .ok_or(MotoError::NotInstalled { venv })
}

fn is_executable_file(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_status_line_and_body() {
        let raw = b"HTTP/1.1 412 Precondition Failed\r\nContent-Length: 2\r\n\r\nno";
        assert_eq!(parse_response(raw), Ok((412, "no".to_string())));
    }

    #[test]
    fn rejects_a_response_that_is_not_http() {
        let err = parse_response(b"SSH-2.0-OpenSSH\r\n").unwrap_err();
        assert!(err.contains("expected an HTTP status line"), "{err}");
    }

    #[test]
    fn started_server_answers_and_dies_on_drop() {
        let Some(server) = MotoServer::start_or_skip() else {
            return;
        };
        let port = server.port();
        let (status, _) = server.request("GET", "/moto-api/data.json", None).unwrap();
        assert_eq!(status, 200);
        let env = server.env_vars();
        assert!(
            env.iter()
                .any(|(k, v)| *k == "AWS_ENDPOINT_URL" && *v == format!("http://127.0.0.1:{port}"))
        );
        drop(server);
        // The port is closed once the child is killed and reaped.
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
    }
}
