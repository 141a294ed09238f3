//! [`StoreConfig`]: how the S3 client is built, read once from the environment.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`) | AWS | read by the SDK itself; when set, path-style addressing is the default |
//! | `EDP_S3_FORCE_PATH_STYLE` | `true` if an endpoint URL is set, else `false` | `true`/`false`: path-style (`http://host/bucket/key`) instead of virtual-hosted addressing |
//! | `AWS_MAX_ATTEMPTS` | `5` | attempts per request, first one included, by the SDK's own retry loop |
//! | `AWS_RETRY_MODE` | `standard` | `standard` (exponential backoff with jitter) or `adaptive` (adds client-side rate limiting, for throttled buckets) |
//! | `EDP_S3_CONNECT_TIMEOUT_SECONDS` | `5` | TCP+TLS connect timeout of one attempt |
//! | `EDP_S3_READ_TIMEOUT_SECONDS` | `60` | longest wait for data on an open connection |
//! | `EDP_S3_MULTIPART_THRESHOLD_MIB` | `64` | `put_file` of a larger file uses a multipart upload |
//! | `EDP_S3_PART_SIZE_MIB` | `16` | part size of multipart uploads (S3 minimum 5) |
//! | `EDP_S3_LIST_PAGE_SIZE` | S3's (1000) | keys per ListObjectsV2 page (1..=1000) |
//!
//! Credentials and region come from the SDK's default chains (environment, profile, container
//! and instance roles) unless [`StoreConfig::credentials`] / [`StoreConfig::region`] are set.

use std::fmt;
use std::time::Duration;

const MIB: u64 = 1024 * 1024;
/// S3 rejects multipart parts below 5 MiB (except the last one).
const MIN_PART_SIZE: u64 = 5 * MIB;

/// An environment variable with a value the store cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {variable}={value:?}: expected {expected}")]
pub struct ConfigError {
    /// The variable.
    pub variable: &'static str,
    /// Its value.
    pub value: String,
    /// What would have been accepted.
    pub expected: &'static str,
}

/// Static credentials for a bucket outside the account (read from SSM by the caller).
/// `Debug` shows the access key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    /// `AKIA...` / `ASIA...`
    pub access_key_id: String,
    /// The secret; never printed.
    pub secret_access_key: String,
    /// Session token of temporary credentials; never printed.
    pub session_token: Option<String>,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The SDK's retry strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryMode {
    /// Exponential backoff with jitter.
    Standard,
    /// Standard plus a client-side token bucket that slows down under throttling.
    Adaptive,
}

/// Retries done by the SDK inside one store call (on throttling, 5xx, timeouts, connection
/// errors). Errors that survive them reach the caller as [`crate::ErrorKind::Transient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    /// Standard or adaptive.
    pub mode: RetryMode,
    /// Attempts per request, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Base of the exponential backoff (the SDK's default is 1 s; tests lower it).
    pub initial_backoff: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            mode: RetryMode::Standard,
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
        }
    }
}

/// Everything needed to build the S3 side of a [`crate::Store`]. `None` fields defer to the
/// AWS SDK's own defaults and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Endpoint override (an emulator); `None`: the SDK's (which reads `AWS_ENDPOINT_URL`).
    pub endpoint_url: Option<String>,
    /// Region override; `None`: the SDK's region chain.
    pub region: Option<String>,
    /// Static credentials; `None`: the SDK's credential chain.
    pub credentials: Option<StaticCredentials>,
    /// Path-style addressing (needed by emulators).
    pub force_path_style: bool,
    /// The SDK's retries.
    pub retry: RetrySettings,
    /// Connect timeout of one attempt.
    pub connect_timeout: Duration,
    /// Longest wait for data on an open connection.
    pub read_timeout: Duration,
    /// Files larger than this are uploaded in parts.
    pub multipart_threshold: u64,
    /// Size of each part but the last (>= 5 MiB).
    pub part_size: u64,
    /// Keys per ListObjectsV2 page; `None`: the service's default (1000).
    pub list_page_size: Option<i32>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            endpoint_url: None,
            region: None,
            credentials: None,
            force_path_style: false,
            retry: RetrySettings::default(),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(60),
            multipart_threshold: 64 * MIB,
            part_size: 16 * MIB,
            list_page_size: None,
        }
    }
}

impl StoreConfig {
    /// Reads the variables in the [module table](self) from the process environment.
    pub fn from_env() -> Result<StoreConfig, ConfigError> {
        StoreConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`StoreConfig::from_env`] with an explicit variable lookup (for tests and for
    /// callers that hold settings in a map).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<StoreConfig, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut config = StoreConfig::default();

        let endpoint_set =
            get("AWS_ENDPOINT_URL").is_some() || get("AWS_ENDPOINT_URL_S3").is_some();
        config.force_path_style = match get("EDP_S3_FORCE_PATH_STYLE") {
            None => endpoint_set,
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    return Err(ConfigError {
                        variable: "EDP_S3_FORCE_PATH_STYLE",
                        value,
                        expected: "true or false",
                    });
                }
            },
        };
        if let Some(value) = get("AWS_MAX_ATTEMPTS") {
            config.retry.max_attempts = match value.trim().parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(ConfigError {
                        variable: "AWS_MAX_ATTEMPTS",
                        value,
                        expected: "an integer >= 1",
                    });
                }
            };
        }
        if let Some(value) = get("AWS_RETRY_MODE") {
            config.retry.mode = match value.trim().to_ascii_lowercase().as_str() {
                // The SDK for Rust has no legacy mode; standard is its successor.
                "standard" | "legacy" => RetryMode::Standard,
                "adaptive" => RetryMode::Adaptive,
                _ => {
                    return Err(ConfigError {
                        variable: "AWS_RETRY_MODE",
                        value,
                        expected: "standard or adaptive",
                    });
                }
            };
        }
        if let Some(value) = get("EDP_S3_CONNECT_TIMEOUT_SECONDS") {
            config.connect_timeout = seconds("EDP_S3_CONNECT_TIMEOUT_SECONDS", value)?;
        }
        if let Some(value) = get("EDP_S3_READ_TIMEOUT_SECONDS") {
            config.read_timeout = seconds("EDP_S3_READ_TIMEOUT_SECONDS", value)?;
        }
        if let Some(value) = get("EDP_S3_MULTIPART_THRESHOLD_MIB") {
            config.multipart_threshold = mebibytes("EDP_S3_MULTIPART_THRESHOLD_MIB", value, 1)?;
        }
        if let Some(value) = get("EDP_S3_PART_SIZE_MIB") {
            config.part_size = mebibytes("EDP_S3_PART_SIZE_MIB", value, MIN_PART_SIZE)?;
        }
        if let Some(value) = get("EDP_S3_LIST_PAGE_SIZE") {
            config.list_page_size = match value.trim().parse::<i32>() {
                Ok(n) if (1..=1000).contains(&n) => Some(n),
                _ => {
                    return Err(ConfigError {
                        variable: "EDP_S3_LIST_PAGE_SIZE",
                        value,
                        expected: "an integer in 1..=1000",
                    });
                }
            };
        }
        Ok(config)
    }

    /// The part size actually used: at least S3's 5 MiB minimum.
    pub(crate) fn effective_part_size(&self) -> u64 {
        self.part_size.max(MIN_PART_SIZE)
    }
}

fn seconds(variable: &'static str, value: String) -> Result<Duration, ConfigError> {
    match value.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(Duration::from_secs_f64(s)),
        _ => Err(ConfigError {
            variable,
            value,
            expected: "a positive number of seconds",
        }),
    }
}

fn mebibytes(variable: &'static str, value: String, min_bytes: u64) -> Result<u64, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(n) if n.checked_mul(MIB).is_some_and(|b| b >= min_bytes) => Ok(n * MIB),
        _ => Err(ConfigError {
            variable,
            value,
            expected: if min_bytes > MIB {
                "an integer number of MiB >= 5"
            } else {
                "an integer number of MiB >= 1"
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_without_any_variable() {
        let config = StoreConfig::from_lookup(lookup(&[])).unwrap();
        assert_eq!(config, StoreConfig::default());
        assert!(!config.force_path_style);
        assert_eq!(config.retry.mode, RetryMode::Standard);
        assert_eq!(config.retry.max_attempts, 5);
    }

    #[test]
    fn an_endpoint_url_implies_path_style_unless_overridden() {
        let on = StoreConfig::from_lookup(lookup(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]));
        assert!(on.unwrap().force_path_style);
        let off = StoreConfig::from_lookup(lookup(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("EDP_S3_FORCE_PATH_STYLE", "false"),
        ]));
        assert!(!off.unwrap().force_path_style);
        let forced = StoreConfig::from_lookup(lookup(&[("EDP_S3_FORCE_PATH_STYLE", "TRUE")]));
        assert!(forced.unwrap().force_path_style);
    }

    #[test]
    fn reads_retry_timeouts_and_sizes() {
        let config = StoreConfig::from_lookup(lookup(&[
            ("AWS_MAX_ATTEMPTS", "3"),
            ("AWS_RETRY_MODE", "adaptive"),
            ("EDP_S3_CONNECT_TIMEOUT_SECONDS", "0.5"),
            ("EDP_S3_READ_TIMEOUT_SECONDS", "30"),
            ("EDP_S3_MULTIPART_THRESHOLD_MIB", "100"),
            ("EDP_S3_PART_SIZE_MIB", "8"),
            ("EDP_S3_LIST_PAGE_SIZE", "250"),
        ]))
        .unwrap();
        assert_eq!(config.retry.max_attempts, 3);
        assert_eq!(config.retry.mode, RetryMode::Adaptive);
        assert_eq!(config.connect_timeout, Duration::from_millis(500));
        assert_eq!(config.read_timeout, Duration::from_secs(30));
        assert_eq!(config.multipart_threshold, 100 * 1024 * 1024);
        assert_eq!(config.part_size, 8 * 1024 * 1024);
        assert_eq!(config.list_page_size, Some(250));
    }

    #[test]
    fn invalid_values_name_the_variable_and_what_was_expected() {
        let cases = [
            ("AWS_MAX_ATTEMPTS", "0", "an integer >= 1"),
            ("AWS_RETRY_MODE", "eager", "standard or adaptive"),
            ("EDP_S3_FORCE_PATH_STYLE", "maybe", "true or false"),
            (
                "EDP_S3_CONNECT_TIMEOUT_SECONDS",
                "-1",
                "a positive number of seconds",
            ),
            ("EDP_S3_PART_SIZE_MIB", "4", "an integer number of MiB >= 5"),
            ("EDP_S3_LIST_PAGE_SIZE", "5000", "an integer in 1..=1000"),
        ];
        for (variable, value, expected) in cases {
            let err = StoreConfig::from_lookup(lookup(&[(variable, value)])).unwrap_err();
            assert_eq!(
                err,
                ConfigError {
                    variable,
                    value: value.to_string(),
                    expected
                }
            );
            assert!(err.to_string().contains(variable));
        }
    }

    #[test]
    fn debug_of_credentials_hides_the_secret() {
        let creds = StaticCredentials {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("token-secret".into()),
        };
        let shown = format!("{creds:?}");
        assert!(shown.contains("AKIAEXAMPLE"));
        assert!(!shown.contains("very-secret"));
        assert!(!shown.contains("token-secret"));
    }
}
