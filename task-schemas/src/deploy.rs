//! The deployment contract (`docs/architecture.md`, "Deployment contract"): environment
//! variables and SSM parameter names. Terraform sets exactly these.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::secret::Secret;

/// `s3://` root of the model output (EDP `--ecco_source_root`). Planner.
pub const ENV_SOURCE_ROOT: &str = "EDP_SOURCE_ROOT";
/// `s3://` root of the products. Planner, worker, reporter.
pub const ENV_DEST_ROOT: &str = "EDP_DEST_ROOT";
/// SSM Parameter Store path prefix, e.g. `/edp/prod/`. Planner, worker, reporter.
pub const ENV_SSM_PREFIX: &str = "EDP_SSM_PREFIX";
/// Batch job queue name or ARN. Planner.
pub const ENV_JOB_QUEUE: &str = "EDP_JOB_QUEUE";
/// Batch job definition name or ARN. Planner.
pub const ENV_JOB_DEFINITION: &str = "EDP_JOB_DEFINITION";
/// Target estimated core-seconds per shard. Planner.
pub const ENV_SHARD_TARGET_SECONDS: &str = "EDP_SHARD_TARGET_SECONDS";
/// Upper bound of the array size (at most [`MAX_ARRAY_SIZE`]). Planner.
pub const ENV_MAX_SHARDS: &str = "EDP_MAX_SHARDS";
/// Seconds after which a claim of an unfinished run is considered dead. Planner.
pub const ENV_CLAIM_TTL_SECONDS: &str = "EDP_CLAIM_TTL_SECONDS";
/// `json` (cloud) or `text`. Planner, worker, reporter.
pub const ENV_LOG_FORMAT: &str = "EDP_LOG_FORMAT";
/// Run id, set per job by the planner. Worker.
pub const ENV_RUN_ID: &str = "EDP_RUN_ID";
/// Prefix holding `shard-NNNNN.json`, set per job by the planner. Worker.
pub const ENV_SHARDS_URI: &str = "EDP_SHARDS_URI";
/// Shard index, set by AWS Batch for array children; 0 when absent. Worker.
pub const ENV_ARRAY_INDEX: &str = "AWS_BATCH_JOB_ARRAY_INDEX";

/// Environment variables the planner Lambda reads.
pub const PLANNER_ENV: &[&str] = &[
    ENV_SOURCE_ROOT,
    ENV_DEST_ROOT,
    ENV_SSM_PREFIX,
    ENV_JOB_QUEUE,
    ENV_JOB_DEFINITION,
    ENV_SHARD_TARGET_SECONDS,
    ENV_MAX_SHARDS,
    ENV_CLAIM_TTL_SECONDS,
    ENV_LOG_FORMAT,
];
/// Environment variables the Batch worker reads.
pub const WORKER_ENV: &[&str] = &[
    ENV_DEST_ROOT,
    ENV_SSM_PREFIX,
    ENV_LOG_FORMAT,
    ENV_RUN_ID,
    ENV_SHARDS_URI,
    ENV_ARRAY_INDEX,
];
/// Environment variables the reporter Lambda reads.
pub const REPORTER_ENV: &[&str] = &[ENV_DEST_ROOT, ENV_SSM_PREFIX, ENV_LOG_FORMAT];

/// AWS Batch limit on the size of an array job.
pub const MAX_ARRAY_SIZE: u32 = 10_000;

/// SSM (String): ECCO metadata directory.
pub const SSM_METADATA_LOC: &str = "settings/metadata_loc";
/// SSM (String): MDS grid directory.
pub const SSM_GRID_LOC: &str = "settings/grid_loc";
/// SSM (String): lat-lon weights location (computed and cached when missing).
pub const SSM_FACTORS_LOC: &str = "settings/factors_loc";
/// SSM (String): production configuration YAML (optional: built-in V4r4 default).
pub const SSM_CONFIG_LOC: &str = "settings/config_loc";
/// SSM (String): job file text (EDP syntax) planned for new model output.
pub const SSM_JOBS: &str = "settings/jobs";
/// SSM (String): `true` to plan a finished granule again when one of its inputs was
/// re-uploaded after it was written; unset or `false`: report it and leave the granule.
pub const SSM_REPLAN_CHANGED_INPUTS: &str = "settings/replan_changed_inputs";
/// SSM (String, `true`/`false`, default `false`): load the metadata directory even when a
/// file is invalid beyond the known, repaired defects; the file is skipped and reported, and
/// only the datasets that need it fail (`edp plan/run --skip-invalid-metadata`).
pub const SSM_SKIP_INVALID_METADATA: &str = "settings/skip_invalid_metadata";
/// SSM (String, optional): `https://` (or `http://`) URL at which the destination root is
/// served; the reporter then writes each virtual store's `refs.https.json` with granule URLs
/// below it, beside the `s3://` references (`edp virtual --https-base`).
pub const SSM_VIRTUAL_HTTPS_BASE: &str = "settings/virtual_https_base";
/// SSM (SecureString): [`Credentials`] JSON for a source bucket outside the account.
pub const SSM_SOURCE_CREDENTIALS: &str = "secrets/source_credentials";
/// SSM (SecureString): [`Credentials`] JSON for the destination.
pub const SSM_DESTINATION_CREDENTIALS: &str = "secrets/destination_credentials";

/// Every SSM parameter name (relative to the prefix).
pub const SSM_PARAMETERS: &[&str] = &[
    SSM_METADATA_LOC,
    SSM_GRID_LOC,
    SSM_FACTORS_LOC,
    SSM_CONFIG_LOC,
    SSM_JOBS,
    SSM_REPLAN_CHANGED_INPUTS,
    SSM_SKIP_INVALID_METADATA,
    SSM_VIRTUAL_HTTPS_BASE,
    SSM_SOURCE_CREDENTIALS,
    SSM_DESTINATION_CREDENTIALS,
];

/// Full SSM parameter name: `prefix` joined to `name` with exactly one `/` between them
/// (`/edp/prod/` or `/edp/prod` + `settings/jobs` -> `/edp/prod/settings/jobs`).
pub fn ssm_parameter_name(prefix: &str, name: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    let name = name.trim_start_matches('/');
    format!("{prefix}/{name}")
}

/// Static credentials stored in the `secrets/*_credentials` SecureStrings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
pub struct Credentials {
    /// Access key id (not secret by itself, but redacted anyway to keep logs clean).
    pub access_key_id: Secret,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Session token of temporary credentials.
    #[serde(default)]
    pub session_token: Option<Secret>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssm_names_join_with_one_slash() {
        assert_eq!(
            ssm_parameter_name("/edp/prod/", SSM_JOBS),
            "/edp/prod/settings/jobs"
        );
        assert_eq!(
            ssm_parameter_name("/edp/prod", SSM_GRID_LOC),
            "/edp/prod/settings/grid_loc"
        );
    }

    #[test]
    fn credentials_debug_shows_no_secret() {
        let creds: Credentials = serde_json::from_str(
            r#"{"access_key_id": "AKIAEXAMPLE", "secret_access_key": "abc/def", "session_token": "tok"}"#,
        )
        .unwrap();
        let shown = format!("{creds:?}");
        assert!(!shown.contains("AKIAEXAMPLE"));
        assert!(!shown.contains("abc/def"));
        assert!(!shown.contains("tok\""));
        assert_eq!(creds.secret_access_key.expose(), "abc/def");
    }

    #[test]
    fn every_env_var_is_in_some_component_list() {
        let all = [
            ENV_SOURCE_ROOT,
            ENV_DEST_ROOT,
            ENV_SSM_PREFIX,
            ENV_JOB_QUEUE,
            ENV_JOB_DEFINITION,
            ENV_SHARD_TARGET_SECONDS,
            ENV_MAX_SHARDS,
            ENV_CLAIM_TTL_SECONDS,
            ENV_LOG_FORMAT,
            ENV_RUN_ID,
            ENV_SHARDS_URI,
            ENV_ARRAY_INDEX,
        ];
        for var in all {
            let used = PLANNER_ENV.contains(&var)
                || WORKER_ENV.contains(&var)
                || REPORTER_ENV.contains(&var);
            assert!(used, "{var} is not read by any component");
        }
    }
}
