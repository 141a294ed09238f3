//! The SSM parameters of the deployment contract, below `EDP_SSM_PREFIX`:
//! `settings/{metadata_loc,grid_loc,factors_loc,config_loc,jobs,replan_changed_inputs,skip_invalid_metadata,virtual_https_base}`
//! (String) and
//! `secrets/{source,destination}_credentials` (SecureString, [`Credentials`] JSON).
//!
//! All of them are read with one paginated `GetParametersByPath` (recursive, decrypted):
//! one IAM action, one round trip for the usual handful of parameters. Secret values go
//! straight into [`Secret`](edp_task_schemas::Secret)s, whose `Debug` is redacted, and no
//! error message here quotes a parameter value.

use std::future::Future;

use edp_store::{Location, StaticCredentials, Store, StoreConfig};
use edp_task_schemas::deploy::{
    Credentials, SSM_CONFIG_LOC, SSM_DESTINATION_CREDENTIALS, SSM_FACTORS_LOC, SSM_GRID_LOC,
    SSM_JOBS, SSM_METADATA_LOC, SSM_REPLAN_CHANGED_INPUTS, SSM_SKIP_INVALID_METADATA,
    SSM_SOURCE_CREDENTIALS, SSM_VIRTUAL_HTTPS_BASE, ssm_parameter_name,
};

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The SSM call failed.
    #[error("GetParametersByPath {path} (recursive, with decryption): {detail}")]
    Ssm {
        /// The path asked for.
        path: String,
        /// Service error with code, message and request id.
        detail: String,
    },
    /// A `settings/*_loc` parameter that is not a location.
    #[error("SSM parameter {parameter}={found:?}: expected a location such as s3://bucket/prefix")]
    BadLocation {
        /// Full parameter name.
        parameter: String,
        /// Its value (settings are not secret).
        found: String,
    },
    /// A URL setting that is not an `http(s)://host...` URL.
    #[error("SSM parameter {parameter}={found:?}: expected an https:// (or http://) URL")]
    BadUrl {
        /// Full parameter name.
        parameter: String,
        /// Its value (settings are not secret).
        found: String,
    },
    /// A yes/no setting that is neither `true` nor `false`.
    #[error("SSM parameter {parameter}={found:?}: expected true or false")]
    BadFlag {
        /// Full parameter name.
        parameter: String,
        /// Its value (settings are not secret).
        found: String,
    },
    /// A `secrets/*_credentials` parameter that is not the documented JSON. The value is
    /// never quoted: only the JSON error category and position.
    #[error(
        "SSM parameter {parameter}: expected JSON {{\"access_key_id\", \"secret_access_key\", \
         \"session_token\"?}}, found invalid {category} at line {line} column {column} \
         (value not shown: it is a secret)"
    )]
    BadCredentials {
        /// Full parameter name.
        parameter: String,
        /// serde_json's error category (syntax, data, eof).
        category: &'static str,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },
}

/// The deployment settings and secrets. `Debug` shows no secret.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploySettings {
    /// `settings/metadata_loc`: ECCO metadata directory.
    pub metadata_loc: Option<Location>,
    /// `settings/grid_loc`: MDS grid directory.
    pub grid_loc: Option<Location>,
    /// `settings/factors_loc`: lat-lon mapping factors.
    pub factors_loc: Option<Location>,
    /// `settings/config_loc`: production configuration YAML (built-in V4r4 default when unset).
    pub config_loc: Option<Location>,
    /// `settings/jobs`: job file text planned for new model output.
    pub jobs: Option<String>,
    /// `settings/replan_changed_inputs`: plan finished granules again whose inputs were
    /// re-uploaded after they were written (default false: report them only).
    pub replan_changed_inputs: bool,
    /// `settings/skip_invalid_metadata`: skip (and report) invalid metadata files instead of
    /// failing (`false` when unset).
    pub skip_invalid_metadata: bool,
    /// `settings/virtual_https_base`: URL serving the destination root; the virtual stores
    /// then get `https://` references too (without a trailing `/`).
    pub virtual_https_base: Option<String>,
    /// `secrets/source_credentials`: for a source bucket outside the account.
    pub source_credentials: Option<Credentials>,
    /// `secrets/destination_credentials`: for a destination outside the account.
    pub destination_credentials: Option<Credentials>,
    /// Parameters below the prefix that are not part of the contract (names only).
    pub unknown: Vec<String>,
}

impl DeploySettings {
    /// Builds the settings from `(full name, value)` pairs found below `prefix`. Parameters
    /// outside the contract are listed in [`DeploySettings::unknown`]; blank values count as
    /// unset.
    pub fn from_parameters(
        prefix: &str,
        parameters: impl IntoIterator<Item = (String, String)>,
    ) -> Result<DeploySettings, SettingsError> {
        let mut settings = DeploySettings::default();
        let name_of = |relative: &str| ssm_parameter_name(prefix, relative);
        for (name, value) in parameters {
            if value.trim().is_empty() {
                continue;
            }
            let slot_loc = |slot: &mut Option<Location>| -> Result<(), SettingsError> {
                let parsed =
                    Location::parse(value.trim()).map_err(|_| SettingsError::BadLocation {
                        parameter: name.clone(),
                        found: value.clone(),
                    })?;
                *slot = Some(parsed);
                Ok(())
            };
            if name == name_of(SSM_METADATA_LOC) {
                slot_loc(&mut settings.metadata_loc)?;
            } else if name == name_of(SSM_GRID_LOC) {
                slot_loc(&mut settings.grid_loc)?;
            } else if name == name_of(SSM_FACTORS_LOC) {
                slot_loc(&mut settings.factors_loc)?;
            } else if name == name_of(SSM_CONFIG_LOC) {
                slot_loc(&mut settings.config_loc)?;
            } else if name == name_of(SSM_JOBS) {
                settings.jobs = Some(value);
            } else if name == name_of(SSM_REPLAN_CHANGED_INPUTS) {
                settings.replan_changed_inputs = parse_flag(&name, &value)?;
            } else if name == name_of(SSM_SKIP_INVALID_METADATA) {
                settings.skip_invalid_metadata = parse_flag(&name, &value)?;
            } else if name == name_of(SSM_VIRTUAL_HTTPS_BASE) {
                settings.virtual_https_base = Some(parse_url(&name, &value)?);
            } else if name == name_of(SSM_SOURCE_CREDENTIALS) {
                settings.source_credentials = Some(parse_credentials(&name, &value)?);
            } else if name == name_of(SSM_DESTINATION_CREDENTIALS) {
                settings.destination_credentials = Some(parse_credentials(&name, &value)?);
            } else {
                settings.unknown.push(name);
            }
        }
        Ok(settings)
    }

    /// A store for the source bucket: `base` (endpoint, retries, timeouts) signed with
    /// `secrets/source_credentials` when set, else with `base`'s own credentials.
    pub async fn source_store(&self, base: &StoreConfig) -> Store {
        store_for(self.source_credentials.as_ref(), base).await
    }

    /// A store for the destination, like [`DeploySettings::source_store`].
    pub async fn destination_store(&self, base: &StoreConfig) -> Store {
        store_for(self.destination_credentials.as_ref(), base).await
    }
}

/// An `https://` or `http://` URL with a host, without its trailing `/`.
fn parse_url(name: &str, value: &str) -> Result<String, SettingsError> {
    let trimmed = value.trim().trim_end_matches('/');
    let host = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match host {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.contains(char::is_whitespace) =>
        {
            Ok(trimmed.to_string())
        }
        _ => Err(SettingsError::BadUrl {
            parameter: name.to_string(),
            found: value.to_string(),
        }),
    }
}

/// A `true`/`false` setting (any case, surrounding blanks ignored).
fn parse_flag(name: &str, value: &str) -> Result<bool, SettingsError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(SettingsError::BadFlag {
            parameter: name.to_string(),
            found: value.to_string(),
        }),
    }
}

async fn store_for(credentials: Option<&Credentials>, base: &StoreConfig) -> Store {
    let mut config = base.clone();
    if let Some(credentials) = credentials {
        config.credentials = Some(static_credentials(credentials));
    }
    Store::from_config(config).await
}

/// The store's credential type for SSM credentials (the one place a secret is exposed, to
/// hand it to the SDK's signer).
pub fn static_credentials(credentials: &Credentials) -> StaticCredentials {
    StaticCredentials {
        access_key_id: credentials.access_key_id.expose().to_string(),
        secret_access_key: credentials.secret_access_key.expose().to_string(),
        session_token: credentials
            .session_token
            .as_ref()
            .map(|token| token.expose().to_string()),
    }
}

fn parse_credentials(parameter: &str, value: &str) -> Result<Credentials, SettingsError> {
    serde_json::from_str(value).map_err(|err| SettingsError::BadCredentials {
        parameter: parameter.to_string(),
        category: match err.classify() {
            serde_json::error::Category::Io => "input",
            serde_json::error::Category::Syntax => "JSON syntax",
            serde_json::error::Category::Data => "content (missing or mistyped field)",
            serde_json::error::Category::Eof => "JSON (unexpected end)",
        },
        line: err.line(),
        column: err.column(),
    })
}

/// Where [`DeploySettings`] come from: SSM in the cloud ([`SsmSettings`]), fixed values in
/// tests and on a laptop (a [`DeploySettings`] is its own source).
pub trait SettingsSource: Send + Sync {
    /// The settings below `prefix`.
    fn load_settings(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<DeploySettings, SettingsError>> + Send;
}

impl SettingsSource for DeploySettings {
    async fn load_settings(&self, _prefix: &str) -> Result<DeploySettings, SettingsError> {
        Ok(self.clone())
    }
}

impl SettingsSource for SsmSettings {
    async fn load_settings(&self, prefix: &str) -> Result<DeploySettings, SettingsError> {
        self.load(prefix).await
    }
}

/// Reads [`DeploySettings`] from SSM Parameter Store.
#[derive(Debug, Clone)]
pub struct SsmSettings {
    client: aws_sdk_ssm::Client,
}

impl SsmSettings {
    /// Wraps a client (built from `aws_config`, so `AWS_ENDPOINT_URL` reaches an emulator).
    pub fn new(client: aws_sdk_ssm::Client) -> SsmSettings {
        SsmSettings { client }
    }

    /// A client configured from the environment (credential and region chains,
    /// `AWS_ENDPOINT_URL`).
    pub async fn from_env() -> SsmSettings {
        let config = aws_config::load_from_env().await;
        SsmSettings::new(aws_sdk_ssm::Client::new(&config))
    }

    /// Every parameter below `prefix` (recursive, SecureStrings decrypted), as
    /// `(full name, value)` pairs.
    pub async fn parameters(&self, prefix: &str) -> Result<Vec<(String, String)>, SettingsError> {
        // GetParametersByPath wants the hierarchy without a trailing slash (except "/").
        let path = match prefix.trim_end_matches('/') {
            "" => "/".to_string(),
            trimmed => trimmed.to_string(),
        };
        let mut pages = self
            .client
            .get_parameters_by_path()
            .path(&path)
            .recursive(true)
            .with_decryption(true)
            .into_paginator()
            .send();
        let mut parameters = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|err| SettingsError::Ssm {
                path: path.clone(),
                detail: aws_sdk_ssm::error::DisplayErrorContext(&err).to_string(),
            })?;
            for parameter in page.parameters.unwrap_or_default() {
                if let (Some(name), Some(value)) = (parameter.name, parameter.value) {
                    parameters.push((name, value));
                }
            }
        }
        Ok(parameters)
    }

    /// The deployment settings below `prefix`. Unknown parameters are logged by name.
    pub async fn load(&self, prefix: &str) -> Result<DeploySettings, SettingsError> {
        let settings = DeploySettings::from_parameters(prefix, self.parameters(prefix).await?)?;
        for name in &settings.unknown {
            tracing::debug!(parameter = %name, "SSM parameter outside the deployment contract ignored");
        }
        tracing::info!(
            ssm_prefix = %prefix,
            metadata_loc = settings.metadata_loc.as_ref().map(ToString::to_string),
            grid_loc = settings.grid_loc.as_ref().map(ToString::to_string),
            factors_loc = settings.factors_loc.as_ref().map(ToString::to_string),
            config_loc = settings.config_loc.as_ref().map(ToString::to_string),
            jobs = settings.jobs.is_some(),
            source_credentials = settings.source_credentials.is_some(),
            destination_credentials = settings.destination_credentials.is_some(),
            "deployment settings loaded"
        );
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_contract_parameter_lands_in_its_field() {
        let settings = DeploySettings::from_parameters(
            "/edp/test/",
            pairs(&[
                ("/edp/test/settings/metadata_loc", "s3://aux/metadata"),
                ("/edp/test/settings/grid_loc", "s3://aux/grid/"),
                ("/edp/test/settings/factors_loc", "s3://aux/factors"),
                ("/edp/test/settings/config_loc", "s3://aux/cfg.yaml"),
                ("/edp/test/settings/jobs", "[0,'native','AVG_MON','all']\n"),
                (
                    "/edp/test/secrets/source_credentials",
                    r#"{"access_key_id":"AKIASRC","secret_access_key":"src-secret","session_token":"tok"}"#,
                ),
                (
                    "/edp/test/secrets/destination_credentials",
                    r#"{"access_key_id":"AKIADST","secret_access_key":"dst-secret"}"#,
                ),
                ("/edp/test/settings/something_else", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.metadata_loc, Some(Location::s3("aux", "metadata")));
        assert_eq!(settings.grid_loc, Some(Location::s3("aux", "grid")));
        assert_eq!(settings.factors_loc, Some(Location::s3("aux", "factors")));
        assert_eq!(settings.config_loc, Some(Location::s3("aux", "cfg.yaml")));
        assert_eq!(
            settings.jobs.as_deref(),
            Some("[0,'native','AVG_MON','all']\n")
        );
        let source = settings.source_credentials.as_ref().unwrap();
        assert_eq!(source.secret_access_key.expose(), "src-secret");
        let store_creds = static_credentials(source);
        assert_eq!(store_creds.session_token.as_deref(), Some("tok"));
        assert_eq!(
            settings
                .destination_credentials
                .as_ref()
                .unwrap()
                .access_key_id
                .expose(),
            "AKIADST"
        );
        assert_eq!(settings.unknown, ["/edp/test/settings/something_else"]);
        let shown = format!("{settings:?}");
        for secret in ["src-secret", "dst-secret", "AKIASRC", "tok\""] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn blank_parameters_are_unset_and_prefix_slashes_do_not_matter() {
        let settings = DeploySettings::from_parameters(
            "/edp/test",
            pairs(&[
                ("/edp/test/settings/config_loc", " "),
                ("/edp/test/settings/grid_loc", "s3://g/x"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.config_loc, None);
        assert_eq!(settings.grid_loc, Some(Location::s3("g", "x")));
    }

    #[test]
    fn skip_invalid_metadata_is_a_flag() {
        let parse = |value: &str| {
            DeploySettings::from_parameters(
                "/p/",
                pairs(&[("/p/settings/skip_invalid_metadata", value)]),
            )
        };
        assert!(parse("true").unwrap().skip_invalid_metadata);
        assert!(parse(" TRUE ").unwrap().skip_invalid_metadata);
        assert!(!parse("false").unwrap().skip_invalid_metadata);
        assert!(!DeploySettings::default().skip_invalid_metadata);
        let err = parse("yes").unwrap_err();
        assert!(matches!(err, SettingsError::BadFlag { .. }), "{err}");
        assert!(err.to_string().contains("skip_invalid_metadata"), "{err}");
    }

    #[test]
    fn the_virtual_https_base_is_a_url_without_its_trailing_slash() {
        let parse = |value: &str| {
            DeploySettings::from_parameters(
                "/p/",
                pairs(&[("/p/settings/virtual_https_base", value)]),
            )
        };
        assert_eq!(
            parse("https://data.example.org/ecco/")
                .unwrap()
                .virtual_https_base
                .as_deref(),
            Some("https://data.example.org/ecco")
        );
        assert_eq!(
            parse("http://127.0.0.1:5000")
                .unwrap()
                .virtual_https_base
                .as_deref(),
            Some("http://127.0.0.1:5000")
        );
        for bad in [
            "s3://bucket/ecco",
            "https://",
            "https:///path",
            "data.example.org",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(matches!(err, SettingsError::BadUrl { .. }), "{bad}: {err}");
            assert!(
                err.to_string().contains("settings/virtual_https_base"),
                "{err}"
            );
        }
    }

    #[test]
    fn malformed_credentials_are_reported_without_their_value() {
        let value = r#"{"access_key_id":"AKIAX","secret_access_key":12345678}"#;
        let err = DeploySettings::from_parameters(
            "/p/",
            pairs(&[("/p/secrets/source_credentials", value)]),
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("/p/secrets/source_credentials"),
            "{message}"
        );
        assert!(message.contains("line 1"), "{message}");
        assert!(
            !message.contains("12345678") && !message.contains("AKIAX"),
            "{message}"
        );
    }

    #[test]
    fn a_location_setting_that_is_not_a_location_is_named() {
        let err = DeploySettings::from_parameters(
            "/p/",
            pairs(&[("/p/settings/grid_loc", "ftp://host/grid")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("/p/settings/grid_loc") && err.contains("ftp://host/grid"),
            "{err}"
        );
    }
}
