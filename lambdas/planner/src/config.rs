//! [`PlannerConfig`]: the planner's deployment settings, read once from the environment
//! variables of the deployment contract (`docs/architecture.md`, names in
//! [`edp_task_schemas::deploy`]).

use std::fmt;
use std::str::FromStr;

use edp_store::Location;
use edp_task_schemas::deploy::{
    ENV_CLAIM_TTL_SECONDS, ENV_DEST_ROOT, ENV_JOB_DEFINITION, ENV_JOB_QUEUE, ENV_LOG_FORMAT,
    ENV_MAX_SHARDS, ENV_SHARD_TARGET_SECONDS, ENV_SOURCE_ROOT, ENV_SSM_PREFIX, MAX_ARRAY_SIZE,
};

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

/// How log lines are written (`EDP_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One JSON object per line (CloudWatch Logs Insights can query the fields).
    #[default]
    Json,
    /// Human-readable lines for a terminal.
    Text,
}

impl FromStr for LogFormat {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(LogFormat::Json),
            "text" => Ok(LogFormat::Text),
            _ => Err(()),
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
    /// `EDP_LOG_FORMAT` from `lookup`; JSON when unset (the cloud default).
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<LogFormat, ConfigError> {
        match non_blank(lookup, ENV_LOG_FORMAT) {
            None => Ok(LogFormat::Json),
            Some(value) => value.parse().map_err(|()| ConfigError::Invalid {
                variable: ENV_LOG_FORMAT,
                expected: "json or text",
                found: value,
            }),
        }
    }
}

/// Everything the planner reads from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannerConfig {
    /// `EDP_SOURCE_ROOT`: root of the model output (new objects below it trigger plans).
    pub source_root: Location,
    /// `EDP_DEST_ROOT`: root of the products (run state under `_edp/`).
    pub dest_root: Location,
    /// `EDP_SSM_PREFIX`: prefix of the `settings/*` and `secrets/*` parameters.
    pub ssm_prefix: String,
    /// `EDP_JOB_QUEUE`: Batch job queue name or ARN.
    pub job_queue: String,
    /// `EDP_JOB_DEFINITION`: Batch job definition name or ARN.
    pub job_definition: String,
    /// `EDP_SHARD_TARGET_SECONDS`: target estimated core-seconds per shard.
    pub shard_target_seconds: f64,
    /// `EDP_MAX_SHARDS`: upper bound of the array size (1..=10000).
    pub max_shards: u32,
    /// `EDP_CLAIM_TTL_SECONDS`: age after which a claim of an unfinished run is dead.
    pub claim_ttl_seconds: u64,
    /// `EDP_LOG_FORMAT`: `json` (default) or `text`.
    pub log_format: LogFormat,
}

impl PlannerConfig {
    /// Reads the planner's variables from the process environment.
    pub fn from_env() -> Result<PlannerConfig, ConfigError> {
        PlannerConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`PlannerConfig::from_env`] with an explicit lookup (tests, or a settings map).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<PlannerConfig, ConfigError> {
        Ok(PlannerConfig {
            source_root: s3_root(&lookup, ENV_SOURCE_ROOT)?,
            dest_root: s3_root(&lookup, ENV_DEST_ROOT)?,
            ssm_prefix: ssm_prefix(&lookup)?,
            job_queue: required(&lookup, ENV_JOB_QUEUE, "a Batch job queue name or ARN")?,
            job_definition: required(
                &lookup,
                ENV_JOB_DEFINITION,
                "a Batch job definition name or ARN",
            )?,
            shard_target_seconds: positive_seconds(&lookup, ENV_SHARD_TARGET_SECONDS)?,
            max_shards: max_shards(&lookup)?,
            claim_ttl_seconds: claim_ttl(&lookup)?,
            log_format: LogFormat::from_lookup(&lookup)?,
        })
    }
}

/// The value of `variable`, `None` when unset or blank.
pub(crate) fn non_blank(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &str,
) -> Option<String> {
    lookup(variable).filter(|v| !v.trim().is_empty())
}

/// A variable that must be set.
pub(crate) fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    expected: &'static str,
) -> Result<String, ConfigError> {
    non_blank(lookup, variable)
        .map(|v| v.trim().to_string())
        .ok_or(ConfigError::Missing { variable, expected })
}

/// A storage root: `s3://bucket[/prefix]` in the cloud; local paths are accepted too so that
/// the same handler runs against a folder in tests and on a laptop.
pub(crate) fn s3_root(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Location, ConfigError> {
    const EXPECTED: &str = "a storage root such as s3://bucket/prefix";
    let value = required(lookup, variable, EXPECTED)?;
    Location::parse(&value).map_err(|_| ConfigError::Invalid {
        variable,
        expected: EXPECTED,
        found: value,
    })
}

/// `EDP_SSM_PREFIX`: an absolute parameter path such as `/edp/prod/`.
pub(crate) fn ssm_prefix(lookup: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    const EXPECTED: &str = "an SSM parameter path starting with '/', such as /edp/prod/";
    let value = required(lookup, ENV_SSM_PREFIX, EXPECTED)?;
    if !value.starts_with('/') {
        return Err(ConfigError::Invalid {
            variable: ENV_SSM_PREFIX,
            expected: EXPECTED,
            found: value,
        });
    }
    Ok(value)
}

fn positive_seconds(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<f64, ConfigError> {
    const EXPECTED: &str = "a positive number of seconds";
    let value = required(lookup, variable, EXPECTED)?;
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok(s),
        _ => Err(ConfigError::Invalid {
            variable,
            expected: EXPECTED,
            found: value,
        }),
    }
}

fn max_shards(lookup: &impl Fn(&str) -> Option<String>) -> Result<u32, ConfigError> {
    const EXPECTED: &str = "an integer in 1..=10000 (the AWS Batch array size limit)";
    let value = required(lookup, ENV_MAX_SHARDS, EXPECTED)?;
    match value.parse::<u32>() {
        Ok(n) if (1..=MAX_ARRAY_SIZE).contains(&n) => Ok(n),
        _ => Err(ConfigError::Invalid {
            variable: ENV_MAX_SHARDS,
            expected: EXPECTED,
            found: value,
        }),
    }
}

fn claim_ttl(lookup: &impl Fn(&str) -> Option<String>) -> Result<u64, ConfigError> {
    const EXPECTED: &str = "a positive integer number of seconds";
    let value = required(lookup, ENV_CLAIM_TTL_SECONDS, EXPECTED)?;
    match value.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ConfigError::Invalid {
            variable: ENV_CLAIM_TTL_SECONDS,
            expected: EXPECTED,
            found: value,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn complete() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            (ENV_SOURCE_ROOT, "s3://model-output/v4r4"),
            (ENV_DEST_ROOT, "s3://products"),
            (ENV_SSM_PREFIX, "/edp/prod/"),
            (ENV_JOB_QUEUE, "arn:aws:batch:us-east-1:123456789012:job-queue/edp"),
            (ENV_JOB_DEFINITION, "edp-worker:3"),
            (ENV_SHARD_TARGET_SECONDS, "3600"),
            (ENV_MAX_SHARDS, "500"),
            (ENV_CLAIM_TTL_SECONDS, "86400"),
            (ENV_LOG_FORMAT, "json"),
        ])
    }

    fn read(map: &HashMap<&'static str, &'static str>) -> Result<PlannerConfig, ConfigError> {
        PlannerConfig::from_lookup(|name| map.get(name).map(|v| v.to_string()))
    }

    #[test]
    fn a_complete_environment_parses_into_typed_fields() {
        let config = read(&complete()).unwrap();
        assert_eq!(config.source_root.as_s3(), Some(("model-output", "v4r4")));
        assert_eq!(config.dest_root.as_s3(), Some(("products", "")));
        assert_eq!(config.job_definition, "edp-worker:3");
        assert_eq!(config.shard_target_seconds, 3600.0);
        assert_eq!(config.max_shards, 500);
        assert_eq!(config.claim_ttl_seconds, 86_400);
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn every_required_variable_is_named_when_missing() {
        for variable in [
            ENV_SOURCE_ROOT,
            ENV_DEST_ROOT,
            ENV_SSM_PREFIX,
            ENV_JOB_QUEUE,
            ENV_JOB_DEFINITION,
            ENV_SHARD_TARGET_SECONDS,
            ENV_MAX_SHARDS,
            ENV_CLAIM_TTL_SECONDS,
        ] {
            let mut env = complete();
            env.remove(variable);
            let err = read(&env).unwrap_err();
            assert!(
                matches!(err, ConfigError::Missing { variable: v, .. } if v == variable),
                "{variable}: {err}"
            );
            assert!(err.to_string().contains(variable), "{err}");
        }
    }

    #[test]
    fn invalid_values_say_expected_and_found() {
        let cases = [
            (ENV_MAX_SHARDS, "20000", "1..=10000"),
            (ENV_MAX_SHARDS, "0", "1..=10000"),
            (ENV_SHARD_TARGET_SECONDS, "-1", "positive"),
            (ENV_SHARD_TARGET_SECONDS, "NaN", "positive"),
            (ENV_CLAIM_TTL_SECONDS, "1h", "integer"),
            (ENV_SSM_PREFIX, "edp/prod", "starting with '/'"),
            (ENV_LOG_FORMAT, "yaml", "json or text"),
            (ENV_SOURCE_ROOT, "gs://bucket/x", "s3://"),
        ];
        for (variable, value, expected) in cases {
            let mut env = complete();
            env.insert(variable, value);
            let message = read(&env).unwrap_err().to_string();
            assert!(message.contains(variable), "{message}");
            assert!(message.contains(value), "{message}");
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn log_format_defaults_to_json_and_accepts_text() {
        let mut env = complete();
        env.remove(ENV_LOG_FORMAT);
        assert_eq!(read(&env).unwrap().log_format, LogFormat::Json);
        env.insert(ENV_LOG_FORMAT, "TEXT");
        assert_eq!(read(&env).unwrap().log_format, LogFormat::Text);
    }
}
