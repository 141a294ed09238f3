//! Typed reading of the deployment contract's environment variables. Every reader takes a
//! `lookup` function (`|name| std::env::var(name).ok()` in production, a map in tests), so
//! that configuration parsing is tested without touching the process environment.

use std::fmt;
use std::str::FromStr;

use edp_store::Location;
use edp_task_schemas::deploy::{ENV_LOG_FORMAT, ENV_SSM_PREFIX};

/// A deployment variable that is missing or holds a value the program cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The variable is not set (or blank).
    #[error("environment variable {variable} is not set: expected {expected}")]
    Missing {
        /// The variable.
        variable: &'static str,
        /// What it should hold.
        expected: &'static str,
    },
    /// The variable is set to something unusable.
    #[error("environment variable {variable}={found:?}: expected {expected}")]
    Invalid {
        /// The variable.
        variable: &'static str,
        /// What it should hold.
        expected: &'static str,
        /// Its value.
        found: String,
    },
}

/// The process environment as a lookup function.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The value of `variable`, trimmed; `None` when unset or blank.
pub fn optional(lookup: &impl Fn(&str) -> Option<String>, variable: &str) -> Option<String> {
    lookup(variable)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A variable that must be set.
pub fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    expected: &'static str,
) -> Result<String, ConfigError> {
    optional(lookup, variable).ok_or(ConfigError::Missing { variable, expected })
}

/// A storage root or prefix: `s3://bucket[/prefix]` in the cloud; local paths are accepted
/// too, so that the same programs run against folders in tests and on a laptop.
pub fn location(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Location, ConfigError> {
    const EXPECTED: &str = "a storage location such as s3://bucket/prefix";
    let value = required(lookup, variable, EXPECTED)?;
    Location::parse(&value).map_err(|_| ConfigError::Invalid {
        variable,
        expected: EXPECTED,
        found: value,
    })
}

/// `EDP_SSM_PREFIX`: an absolute parameter path such as `/edp/prod/`.
pub fn ssm_prefix(lookup: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    const EXPECTED: &str = "an SSM parameter path starting with '/', such as /edp/prod/";
    let value = required(lookup, ENV_SSM_PREFIX, EXPECTED)?;
    if !is_ssm_prefix(&value) {
        return Err(ConfigError::Invalid {
            variable: ENV_SSM_PREFIX,
            expected: EXPECTED,
            found: value,
        });
    }
    Ok(value)
}

/// SSM hierarchies are absolute paths without empty segments: `/edp/prod/`.
pub fn is_ssm_prefix(prefix: &str) -> bool {
    prefix.starts_with('/') && !prefix.contains("//")
}

/// A number parsed with `FromStr` and accepted by `valid`.
pub fn parsed<T: FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    expected: &'static str,
    valid: impl Fn(&T) -> bool,
) -> Result<T, ConfigError> {
    let value = required(lookup, variable, expected)?;
    match value.parse::<T>() {
        Ok(parsed) if valid(&parsed) => Ok(parsed),
        _ => Err(ConfigError::Invalid {
            variable,
            expected,
            found: value,
        }),
    }
}

/// How log lines are written (`EDP_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One JSON object per line (CloudWatch Logs Insights and metric filters read the fields).
    #[default]
    Json,
    /// Human-readable lines for a terminal.
    Text,
}

impl FromStr for LogFormat {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(LogFormat::Json),
            "text" => Ok(LogFormat::Text),
            _ => Err(ConfigError::Invalid {
                variable: ENV_LOG_FORMAT,
                expected: "json or text",
                found: s.to_string(),
            }),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Json => "json",
            LogFormat::Text => "text",
        })
    }
}

impl LogFormat {
    /// `EDP_LOG_FORMAT`; JSON when unset (the cloud default).
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<LogFormat, ConfigError> {
        match optional(lookup, ENV_LOG_FORMAT) {
            None => Ok(LogFormat::Json),
            Some(value) => value.parse(),
        }
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
    fn blank_values_count_as_missing() {
        let env = lookup(&[("EDP_X", "   ")]);
        let err = required(&env, "EDP_X", "something").unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable EDP_X is not set: expected something"
        );
    }

    #[test]
    fn locations_and_prefixes_are_checked() {
        let env = lookup(&[
            ("ROOT", "s3://bucket/prefix/"),
            ("BAD", "gs://bucket"),
            (ENV_SSM_PREFIX, "edp/prod/"),
        ]);
        assert_eq!(
            location(&env, "ROOT").unwrap(),
            Location::s3("bucket", "prefix")
        );
        let err = location(&env, "BAD").unwrap_err().to_string();
        assert!(
            err.contains("BAD=\"gs://bucket\"") && err.contains("s3://"),
            "{err}"
        );
        let err = ssm_prefix(&env).unwrap_err().to_string();
        assert!(err.contains("starting with '/'"), "{err}");
    }

    #[test]
    fn numbers_outside_the_accepted_range_are_invalid() {
        let env = lookup(&[("N", "0"), ("M", "twelve")]);
        let positive = |n: &u32| *n > 0;
        let err = parsed::<u32>(&env, "N", "a positive integer", positive).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { ref found, .. } if found == "0"));
        assert!(parsed::<u32>(&env, "M", "a positive integer", positive).is_err());
    }

    #[test]
    fn log_format_defaults_to_json() {
        assert_eq!(
            LogFormat::from_lookup(&lookup(&[])).unwrap(),
            LogFormat::Json
        );
        let text = lookup(&[(ENV_LOG_FORMAT, "Text")]);
        assert_eq!(LogFormat::from_lookup(&text).unwrap(), LogFormat::Text);
        let bad = lookup(&[(ENV_LOG_FORMAT, "yaml")]);
        let err = LogFormat::from_lookup(&bad).unwrap_err().to_string();
        assert!(
            err.contains("EDP_LOG_FORMAT=\"yaml\": expected json or text"),
            "{err}"
        );
    }
}
