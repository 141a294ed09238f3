//! Reporter Lambda entrypoint: the shared start-up of the cloud library
//! ([`edp_cloud::lambda::main`]) serving invocations with [`edp_reporter_lambda::handle`].

use std::process::ExitCode;

use edp_cloud::lambda::{Clients, Lambda};
use edp_cloud::{ConfigError, LogFormat, SsmSettings};
use edp_reporter_lambda::{BatchDescriber, Deps, ReporterConfig, ReporterError, ReporterResponse};
use serde_json::Value;

/// The reporter's dependencies in production.
#[derive(Debug)]
struct Reporter(Deps<BatchDescriber, SsmSettings>);

impl Lambda for Reporter {
    const NAME: &'static str = "edp-reporter";
    type Config = ReporterConfig;
    type Response = ReporterResponse;
    type Error = ReporterError;

    fn config() -> Result<ReporterConfig, ConfigError> {
        ReporterConfig::from_env()
    }

    fn log_format(config: &ReporterConfig) -> LogFormat {
        config.log_format
    }

    fn new(config: ReporterConfig, clients: Clients) -> Reporter {
        Reporter(Deps {
            store: clients.store,
            store_config: clients.store_config,
            describer: BatchDescriber::new(aws_sdk_batch::Client::new(&clients.aws)),
            settings: clients.settings,
            config,
        })
    }

    async fn handle(
        &self,
        payload: Value,
        _request_id: &str,
    ) -> Result<ReporterResponse, ReporterError> {
        edp_reporter_lambda::handle(payload, &self.0).await
    }
}

fn main() -> ExitCode {
    edp_cloud::lambda::main::<Reporter>()
}
