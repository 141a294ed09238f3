//! The cloud library: the deployment contract of `docs/architecture.md` at run time, shared by
//! every program that runs in the cloud (planner and reporter Lambdas, the Batch worker) and by
//! `edp submit`, and the planning-and-submission code path of the planner and `edp submit`:
//!
//! * [`env`]: typed reading of the contract's environment variables, with errors that name
//!   the variable and say expected vs found;
//! * [`settings`]: the `settings/*` and `secrets/*` SSM parameters below `EDP_SSM_PREFIX`,
//!   fetched with one paginated `GetParametersByPath` (decrypting SecureStrings), and
//!   [`Store`](edp_store::Store)s signed with the credentials found there;
//! * [`logging`]: JSON lines (CloudWatch) or text (terminal) through `tracing`;
//! * [`submission`]: [`plan_and_submit`], from "plan these jobs" to "a Batch job runs them"
//!   (the planner Lambda and `edp submit`), with [`config::PlannerConfig`] (the planner's
//!   environment) and [`submit`] (the Batch `SubmitJob` call behind [`JobSubmitter`]);
//! * `lambda` (feature `lambda`, enabled by the Lambda crates only): the start-up every Lambda
//!   shares (configuration, logging, clients, the invocation loop).
//!
//! No NetCDF here: the Lambdas link this crate. Without the `lambda` feature no Lambda runtime
//! either, so `edp submit` and the worker do not link it.
//!
//! ```
//! use edp_cloud::settings::DeploySettings;
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
//! # Ok::<(), edp_cloud::settings::SettingsError>(())
//! ```

pub mod config;
pub mod env;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod logging;
pub mod settings;
pub mod submission;
pub mod submit;

pub use config::PlannerConfig;
pub use env::{ConfigError, LogFormat};
pub use settings::{DeploySettings, SettingsError, SettingsSource, SsmSettings};
pub use submission::{Outcome, PlannerResponse, SubmissionError, SubmitContext, plan_and_submit};
pub use submit::{BatchSubmitter, JobRequest, JobSubmitter, SubmitError, SubmittedJob};
