//! [`PlannerConfig`]: the planner's deployment settings, read once from the environment
//! variables of the deployment contract (`docs/architecture.md`; names in
//! [`edp_task_schemas::deploy`]).

use crate::env::{self, ConfigError, LogFormat};
use edp_store::Location;
use edp_task_schemas::deploy::{
    ENV_CLAIM_TTL_SECONDS, ENV_DEST_ROOT, ENV_JOB_DEFINITION, ENV_JOB_QUEUE, ENV_MAX_SHARDS,
    ENV_SHARD_TARGET_SECONDS, ENV_SOURCE_ROOT, MAX_ARRAY_SIZE,
};

/// Everything the planner reads from its environment. `edp submit` builds one from its
/// command line instead.
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
        PlannerConfig::from_lookup(env::process_env)
    }

    /// Like [`PlannerConfig::from_env`] with an explicit lookup (tests, or a settings map).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<PlannerConfig, ConfigError> {
        Ok(PlannerConfig {
            source_root: env::location(&lookup, ENV_SOURCE_ROOT)?,
            dest_root: env::location(&lookup, ENV_DEST_ROOT)?,
            ssm_prefix: env::ssm_prefix(&lookup)?,
            job_queue: env::required(&lookup, ENV_JOB_QUEUE, "a Batch job queue name or ARN")?,
            job_definition: env::required(
                &lookup,
                ENV_JOB_DEFINITION,
                "a Batch job definition name or ARN",
            )?,
            shard_target_seconds: env::parsed(
                &lookup,
                ENV_SHARD_TARGET_SECONDS,
                "a positive number of seconds",
                |s: &f64| s.is_finite() && *s > 0.0,
            )?,
            max_shards: env::parsed(
                &lookup,
                ENV_MAX_SHARDS,
                "an integer in 1..=10000 (the AWS Batch array size limit)",
                |n: &u32| (1..=MAX_ARRAY_SIZE).contains(n),
            )?,
            claim_ttl_seconds: env::parsed(
                &lookup,
                ENV_CLAIM_TTL_SECONDS,
                "a positive integer number of seconds",
                |n: &u64| *n > 0,
            )?,
            log_format: LogFormat::from_lookup(&lookup)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edp_task_schemas::deploy::{ENV_LOG_FORMAT, ENV_SSM_PREFIX, PLANNER_ENV};
    use std::collections::HashMap;

    fn complete() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            (ENV_SOURCE_ROOT, "s3://model-output/v4r4"),
            (ENV_DEST_ROOT, "s3://products"),
            (ENV_SSM_PREFIX, "/edp/prod/"),
            (
                ENV_JOB_QUEUE,
                "arn:aws:batch:us-east-1:123456789012:job-queue/edp",
            ),
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
    fn the_fixture_sets_exactly_the_planner_variables_of_the_contract() {
        let mut names: Vec<&str> = complete().into_keys().collect();
        names.sort_unstable();
        let mut contract = PLANNER_ENV.to_vec();
        contract.sort_unstable();
        assert_eq!(names, contract);
    }

    #[test]
    fn a_complete_environment_parses_into_typed_fields() {
        let config = read(&complete()).unwrap();
        assert_eq!(config.source_root.as_s3(), Some(("model-output", "v4r4")));
        assert_eq!(config.dest_root.as_s3(), Some(("products", "")));
        assert_eq!(config.ssm_prefix, "/edp/prod/");
        assert_eq!(config.job_definition, "edp-worker:3");
        assert_eq!(config.shard_target_seconds, 3600.0);
        assert_eq!(config.max_shards, 500);
        assert_eq!(config.claim_ttl_seconds, 86_400);
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn every_required_variable_is_named_when_missing() {
        for variable in PLANNER_ENV.iter().filter(|v| **v != ENV_LOG_FORMAT) {
            let mut env = complete();
            env.remove(variable);
            let err = read(&env).unwrap_err();
            assert!(
                matches!(err, ConfigError::Missing { variable: v, .. } if v == *variable),
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
}
