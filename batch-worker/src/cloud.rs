//! The worker's side of the deployment contract (`docs/architecture.md`): its environment,
//! its SSM settings and secrets, and the store it works through.
//!
//! | variable | meaning |
//! |---|---|
//! | `AWS_BATCH_JOB_ARRAY_INDEX` | shard index, set by Batch for array children; 0 when absent (a single-shard run is a plain job) |
//! | `EDP_SHARDS_URI` | prefix holding `shard-NNNNN.json` (set per job by the planner; required) |
//! | `EDP_RUN_ID` | run id (set per job by the planner); must match the shard's when set |
//! | `EDP_DEST_ROOT` | destination root (required) |
//! | `EDP_SSM_PREFIX` | SSM prefix of `settings/*` and `secrets/*`; without it no SSM call is made (local runs) |
//! | `EDP_LOG_FORMAT` | `json` (default) or `text` |
//! | `EDP_CACHE_DIR` | local cache folder (default: the system temporary folder) |
//!
//! Settings `grid_loc`, `metadata_loc`, `factors_loc` and `config_loc` become the defaults of
//! tasks that carry no location of their own. `secrets/destination_credentials` sign the main
//! store, `secrets/source_credentials` a store that only reads the task inputs; their values
//! are never logged (only which parameter signs which store).

use std::path::PathBuf;

use edp_cloud::env::{self, ConfigError, LogFormat};
use edp_cloud::{DeploySettings, SettingsError, SettingsSource};
use edp_plan::builder::TaskLocations;
use edp_store::{Location, Store, StoreConfig};
use edp_task_schemas::ExitKind;
use edp_task_schemas::deploy::{
    ENV_ARRAY_INDEX, ENV_DEST_ROOT, ENV_RUN_ID, ENV_SHARDS_URI, ENV_SSM_PREFIX,
    SSM_DESTINATION_CREDENTIALS, SSM_SOURCE_CREDENTIALS, ssm_parameter_name,
};

/// Local cache folder override (not part of the Terraform contract: a container default).
pub const ENV_CACHE_DIR: &str = "EDP_CACHE_DIR";

/// The worker's environment, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerEnv {
    /// `AWS_BATCH_JOB_ARRAY_INDEX` (0 when absent).
    pub array_index: u32,
    /// `EDP_SHARDS_URI`.
    pub shards_uri: Location,
    /// `EDP_RUN_ID`, when set.
    pub run_id: Option<String>,
    /// `EDP_DEST_ROOT` as given (kept as written: it prefixes granule paths).
    pub dest_root: String,
    /// `EDP_SSM_PREFIX`, when set.
    pub ssm_prefix: Option<String>,
    /// `EDP_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `EDP_CACHE_DIR`, when set.
    pub cache_dir: Option<PathBuf>,
}

impl WorkerEnv {
    /// Reads the process environment.
    pub fn from_env() -> Result<WorkerEnv, ConfigError> {
        WorkerEnv::from_lookup(env::process_env)
    }

    /// Like [`WorkerEnv::from_env`] with an explicit lookup.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<WorkerEnv, ConfigError> {
        let array_index = match env::optional(&lookup, ENV_ARRAY_INDEX) {
            None => 0,
            Some(_) => env::parsed(
                &lookup,
                ENV_ARRAY_INDEX,
                "a shard index in 0..10000",
                |i: &u32| *i < edp_task_schemas::deploy::MAX_ARRAY_SIZE,
            )?,
        };
        let dest_root = env::required(
            &lookup,
            ENV_DEST_ROOT,
            "a storage root such as s3://bucket/prefix",
        )?;
        // Checked here so that a bad root is a usage error before any work.
        env::location(&lookup, ENV_DEST_ROOT)?;
        let ssm_prefix = match env::optional(&lookup, ENV_SSM_PREFIX) {
            None => None,
            Some(_) => Some(env::ssm_prefix(&lookup)?),
        };
        Ok(WorkerEnv {
            array_index,
            shards_uri: env::location(&lookup, ENV_SHARDS_URI)?,
            run_id: env::optional(&lookup, ENV_RUN_ID),
            dest_root,
            ssm_prefix,
            log_format: LogFormat::from_lookup(&lookup)?,
            cache_dir: env::optional(&lookup, ENV_CACHE_DIR).map(PathBuf::from),
        })
    }
}

/// What the worker needs from SSM, resolved.
#[derive(Debug)]
pub struct CloudSetup {
    /// The main store: shards, grid/metadata/factors, outputs, ledger.
    pub store: Store,
    /// The store that reads task inputs (the model output), signed with
    /// `secrets/source_credentials`; `None` when those are not set (inputs go through
    /// [`CloudSetup::store`]).
    pub source_store: Option<Store>,
    /// SSM `settings/skip_invalid_metadata`.
    pub skip_invalid_metadata: bool,
    /// Default locations of tasks that carry none.
    pub defaults: TaskLocations,
    /// Which credentials sign the main store (parameter name), `None` for the default chain.
    pub credentials_from: Option<String>,
    /// Which credentials sign the source store (parameter name), `None` when there is none.
    pub source_credentials_from: Option<String>,
}

/// Why the cloud setup failed, with the exit kind it maps to.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Reading SSM failed (throttling, network: worth a retry).
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

impl SetupError {
    /// SSM service errors are retried by Batch (they are mostly throttling and network);
    /// malformed parameters and configuration are usage errors.
    pub fn exit_kind(&self) -> ExitKind {
        match self {
            SetupError::Settings(SettingsError::Ssm { .. }) => ExitKind::Retryable,
            SetupError::Settings(_) => ExitKind::Usage,
        }
    }
}

/// Loads the settings (when an SSM prefix is set) and builds the stores.
///
/// The main store is signed with `secrets/destination_credentials` when set, else with the
/// task role. `secrets/source_credentials`, when set, sign a separate source store used only
/// to read the model output, so the source keys never write the products bucket.
pub async fn setup(
    worker_env: &WorkerEnv,
    settings_source: &impl SettingsSource,
    store_config: &StoreConfig,
) -> Result<CloudSetup, SetupError> {
    let settings = match &worker_env.ssm_prefix {
        Some(prefix) => settings_source.load_settings(prefix).await?,
        None => DeploySettings::default(),
    };
    let prefix = worker_env.ssm_prefix.as_deref().unwrap_or("/");
    // Without destination credentials `destination_store` is the default chain.
    let store = settings.destination_store(store_config).await;
    let credentials_from = settings
        .destination_credentials
        .is_some()
        .then(|| ssm_parameter_name(prefix, SSM_DESTINATION_CREDENTIALS));
    let (source_store, source_credentials_from) = if settings.source_credentials.is_some() {
        (
            Some(settings.source_store(store_config).await),
            Some(ssm_parameter_name(prefix, SSM_SOURCE_CREDENTIALS)),
        )
    } else {
        (None, None)
    };
    let loc = |l: &Option<Location>| l.as_ref().map(ToString::to_string);
    Ok(CloudSetup {
        store,
        source_store,
        skip_invalid_metadata: settings.skip_invalid_metadata,
        defaults: TaskLocations {
            cfg_loc: loc(&settings.config_loc),
            grid_loc: loc(&settings.grid_loc),
            factors_loc: loc(&settings.factors_loc),
            metadata_loc: loc(&settings.metadata_loc),
        },
        credentials_from,
        source_credentials_from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> Result<WorkerEnv, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        WorkerEnv::from_lookup(|name| map.get(name).cloned())
    }

    const BASE: [(&str, &str); 2] = [
        (ENV_SHARDS_URI, "s3://products/_edp/scratch/r1/shards"),
        (ENV_DEST_ROOT, "s3://products"),
    ];

    #[test]
    fn array_index_defaults_to_zero_for_plain_jobs() {
        let env = read(&BASE).unwrap();
        assert_eq!(env.array_index, 0);
        assert_eq!(env.ssm_prefix, None);
        assert_eq!(env.log_format, LogFormat::Json);
        let mut with_index = BASE.to_vec();
        with_index.push((ENV_ARRAY_INDEX, "17"));
        with_index.push((ENV_SSM_PREFIX, "/edp/test/"));
        let env = read(&with_index).unwrap();
        assert_eq!(env.array_index, 17);
        assert_eq!(env.ssm_prefix.as_deref(), Some("/edp/test/"));
    }

    #[test]
    fn bad_or_missing_variables_are_named() {
        let mut bad_index = BASE.to_vec();
        bad_index.push((ENV_ARRAY_INDEX, "-1"));
        let err = read(&bad_index).unwrap_err().to_string();
        assert!(
            err.contains(ENV_ARRAY_INDEX) && err.contains("\"-1\""),
            "{err}"
        );
        let err = read(&BASE[..1]).unwrap_err().to_string();
        assert!(err.contains(ENV_DEST_ROOT), "{err}");
        let err = read(&BASE[1..]).unwrap_err().to_string();
        assert!(err.contains(ENV_SHARDS_URI), "{err}");
    }

    #[tokio::test]
    async fn settings_become_task_defaults_without_credentials() {
        let mut pairs = BASE.to_vec();
        pairs.push((ENV_SSM_PREFIX, "/edp/test/"));
        let worker_env = read(&pairs).unwrap();
        let settings = DeploySettings {
            grid_loc: Some(Location::s3("aux", "grid")),
            metadata_loc: Some(Location::s3("aux", "metadata")),
            ..DeploySettings::default()
        };
        let setup = setup(&worker_env, &settings, &StoreConfig::default())
            .await
            .unwrap();
        assert_eq!(setup.defaults.grid_loc.as_deref(), Some("s3://aux/grid"));
        assert_eq!(
            setup.defaults.metadata_loc.as_deref(),
            Some("s3://aux/metadata")
        );
        assert_eq!(setup.defaults.cfg_loc, None);
        assert_eq!(setup.credentials_from, None);
        assert!(setup.source_store.is_none());
        assert_eq!(setup.source_credentials_from, None);
    }

    fn credentials(key: &str) -> edp_task_schemas::deploy::Credentials {
        edp_task_schemas::deploy::Credentials {
            access_key_id: edp_task_schemas::Secret::new(key),
            secret_access_key: edp_task_schemas::Secret::new("secret"),
            session_token: None,
        }
    }

    #[tokio::test]
    async fn source_credentials_sign_only_the_source_store() {
        let mut pairs = BASE.to_vec();
        pairs.push((ENV_SSM_PREFIX, "/edp/test/"));
        let worker_env = read(&pairs).unwrap();
        let source_only = DeploySettings {
            source_credentials: Some(credentials("SOURCE")),
            ..DeploySettings::default()
        };
        let setup_source = setup(&worker_env, &source_only, &StoreConfig::default())
            .await
            .unwrap();
        assert!(setup_source.source_store.is_some());
        assert_eq!(
            setup_source.source_credentials_from.as_deref(),
            Some("/edp/test/secrets/source_credentials")
        );
        // The main store (outputs, ledger) stays on the task role.
        assert_eq!(setup_source.credentials_from, None);

        let both = DeploySettings {
            source_credentials: Some(credentials("SOURCE")),
            destination_credentials: Some(credentials("DEST")),
            ..DeploySettings::default()
        };
        let setup_both = setup(&worker_env, &both, &StoreConfig::default())
            .await
            .unwrap();
        assert!(setup_both.source_store.is_some());
        assert_eq!(
            setup_both.credentials_from.as_deref(),
            Some("/edp/test/secrets/destination_credentials")
        );
        assert_eq!(
            setup_both.source_credentials_from.as_deref(),
            Some("/edp/test/secrets/source_credentials")
        );
    }

    #[test]
    fn ssm_failures_are_retryable_and_bad_parameters_are_usage_errors() {
        let ssm = SetupError::Settings(SettingsError::Ssm {
            path: "/p".into(),
            detail: "ThrottlingException".into(),
        });
        assert_eq!(ssm.exit_kind(), ExitKind::Retryable);
        let bad = SetupError::Settings(SettingsError::BadLocation {
            parameter: "/p/settings/grid_loc".into(),
            found: "ftp://x".into(),
        });
        assert_eq!(bad.exit_kind(), ExitKind::Usage);
    }
}
