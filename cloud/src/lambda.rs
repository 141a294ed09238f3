//! The start-up every Lambda of the deployment shares (feature `lambda`): read the
//! configuration from the environment, install the log subscriber, build the AWS clients once
//! per container, then serve invocations, each inside a span carrying the Lambda request id.
//!
//! A Lambda crate is then event parsing + its handler + a `main` of one line:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     edp_cloud::lambda::main::<Planner>()
//! }
//! ```

use std::fmt;
use std::future::Future;
use std::process::ExitCode;

use edp_store::{Store, StoreConfig};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::env::{ConfigError, LogFormat};
use crate::logging;
use crate::settings::SsmSettings;

/// The clients a Lambda builds once per container.
#[derive(Debug)]
pub struct Clients {
    /// The AWS SDK configuration from the environment (region, credentials of the role).
    pub aws: aws_config::SdkConfig,
    /// Store with the default credential chain.
    pub store: Store,
    /// The configuration of `store`: the base of stores signed with credentials from SSM.
    pub store_config: StoreConfig,
    /// The SSM settings and secrets below `EDP_SSM_PREFIX`.
    pub settings: SsmSettings,
}

impl Clients {
    /// Loads the AWS configuration and builds the store and the SSM client.
    pub async fn load() -> Result<Clients, edp_store::ConfigError> {
        let aws = aws_config::load_from_env().await;
        let store_config = StoreConfig::from_env()?;
        Ok(Clients {
            store: Store::from_config(store_config.clone()).await,
            store_config,
            settings: SsmSettings::new(aws_sdk_ssm::Client::new(&aws)),
            aws,
        })
    }
}

/// One Lambda: its configuration, its dependencies and its handler.
pub trait Lambda: Sized + Send + Sync {
    /// The program name, prefix of the messages printed before logging is set up.
    const NAME: &'static str;
    /// What the Lambda reads from its environment.
    type Config;
    /// The handler's answer (returned to the invoker and logged by the handler).
    type Response: Serialize;
    /// Why an invocation failed (reported to Lambda as `errorType` / `errorMessage`).
    type Error: fmt::Display + fmt::Debug + Into<Diagnostic>;

    /// Reads the configuration from the process environment.
    fn config() -> Result<Self::Config, ConfigError>;
    /// The log format the configuration asks for.
    fn log_format(config: &Self::Config) -> LogFormat;
    /// Builds the dependencies of the handler, once per container.
    fn new(config: Self::Config, clients: Clients) -> Self;
    /// Handles one invocation.
    fn handle(
        &self,
        payload: Value,
        request_id: &str,
    ) -> impl Future<Output = Result<Self::Response, Self::Error>>;
}

/// The whole `main` of a Lambda: serves invocations until the runtime stops; a configuration
/// or start-up error is printed (Display: it names the variable and says expected vs found)
/// and the process fails, which Lambda reports as an init error.
pub fn main<L: Lambda>() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("{}: cannot start the async runtime: {err}", L::NAME);
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve::<L>()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}: {err}", L::NAME);
            ExitCode::FAILURE
        }
    }
}

/// Builds the configuration and the clients once per container, then serves invocations.
async fn serve<L: Lambda>() -> Result<(), lambda_runtime::Error> {
    let config = L::config()?;
    logging::init(L::log_format(&config))?;
    let clients = Clients::load().await?;
    let lambda = L::new(config, clients);
    let lambda = &lambda;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let request_id = event.context.request_id.clone();
        let span = tracing::info_span!("invocation", request_id = %request_id);
        async {
            let response = lambda.handle(event.payload, &request_id).await;
            if let Err(err) = &response {
                tracing::error!(error = %err, "{} failed", L::NAME);
            }
            response
        }
        .instrument(span)
        .await
    }))
    .await
}
