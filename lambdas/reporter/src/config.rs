//! [`ReporterConfig`]: the reporter's environment (deployment contract).

use edp_cloud::env::{self, ConfigError, LogFormat};
use edp_store::Location;
use edp_task_schemas::deploy::ENV_DEST_ROOT;

/// Everything the reporter reads from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ReporterConfig {
    /// `EDP_DEST_ROOT`: root of the products (run state under `_edp/`).
    pub dest_root: Location,
    /// `EDP_SSM_PREFIX`: prefix of the SSM settings and secrets.
    pub ssm_prefix: String,
    /// `EDP_LOG_FORMAT`: `json` (default) or `text`.
    pub log_format: LogFormat,
}

impl ReporterConfig {
    /// Reads the reporter's variables from the process environment.
    pub fn from_env() -> Result<ReporterConfig, ConfigError> {
        ReporterConfig::from_lookup(env::process_env)
    }

    /// Like [`ReporterConfig::from_env`] with an explicit lookup.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<ReporterConfig, ConfigError> {
        Ok(ReporterConfig {
            dest_root: env::location(&lookup, ENV_DEST_ROOT)?,
            ssm_prefix: env::ssm_prefix(&lookup)?,
            log_format: LogFormat::from_lookup(&lookup)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edp_task_schemas::deploy::{ENV_SSM_PREFIX, REPORTER_ENV};
    use std::collections::HashMap;

    #[test]
    fn reads_exactly_the_reporter_variables_of_the_contract() {
        let env: HashMap<&str, &str> = HashMap::from([
            (ENV_DEST_ROOT, "s3://products/ecco"),
            (ENV_SSM_PREFIX, "/edp/prod/"),
            ("EDP_LOG_FORMAT", "text"),
        ]);
        let mut names: Vec<&str> = env.keys().copied().collect();
        names.sort_unstable();
        let mut contract = REPORTER_ENV.to_vec();
        contract.sort_unstable();
        assert_eq!(names, contract);
        let config = ReporterConfig::from_lookup(|n| env.get(n).map(|v| v.to_string())).unwrap();
        assert_eq!(config.dest_root, Location::s3("products", "ecco"));
        assert_eq!(config.log_format, LogFormat::Text);
        let err = ReporterConfig::from_lookup(|_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(ENV_DEST_ROOT), "{err}");
    }
}
