//! The deployment contract of `docs/architecture.md` at run time, shared by every program that
//! runs in the cloud (planner and reporter Lambdas, the Batch worker) and by `edp submit`:
//!
//! * [`env`]: typed reading of the contract's environment variables, with errors that name
//!   the variable and say expected vs found;
//! * [`settings`]: the `settings/*` and `secrets/*` SSM parameters below `EDP_SSM_PREFIX`,
//!   fetched with one paginated `GetParametersByPath` (decrypting SecureStrings), and
//!   [`Store`](edp_store::Store)s signed with the credentials found there;
//! * [`logging`]: JSON lines (CloudWatch) or text (terminal) through `tracing`.
//!
//! No NetCDF and no Lambda runtime here: the Lambdas link this crate.
//!
//! ```
//! use edp_deploy::settings::DeploySettings;
//!
//! let settings = DeploySettings::from_parameters(
//!     "/edp/prod/",
//!     [
//!         ("/edp/prod/settings/grid_loc".to_string(), "s3://aux/grid".to_string()),
//!         (
//!             "/edp/prod/secrets/source_credentials".to_string(),
//!             r#"{"access_key_id": "AKIA1", "secret_access_key": "s3cr3t"}"#.to_string(),
//!         ),
//!     ],
//! )?;
//! assert_eq!(settings.grid_loc, Some(edp_store::Location::s3("aux", "grid")));
//! assert!(!format!("{settings:?}").contains("s3cr3t"));
//! # Ok::<(), edp_deploy::settings::SettingsError>(())
//! ```

pub mod env;
pub mod logging;
pub mod settings;

pub use env::{ConfigError, LogFormat};
pub use settings::{DeploySettings, SettingsError, SettingsSource, SsmSettings};
