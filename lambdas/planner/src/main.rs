//! Planner Lambda entrypoint: the shared start-up of the cloud library
//! ([`edp_cloud::lambda::main`]) serving invocations with [`edp_planner_lambda::handle`].

use std::process::ExitCode;

use edp_cloud::lambda::{Clients, Lambda};
use edp_cloud::{ConfigError, LogFormat, SsmSettings};
use edp_planner_lambda::{BatchSubmitter, Deps, PlannerConfig, PlannerError, PlannerResponse};
use serde_json::Value;

/// The planner's dependencies in production.
#[derive(Debug)]
struct Planner(Deps<BatchSubmitter, SsmSettings>);

impl Lambda for Planner {
    const NAME: &'static str = "edp-planner";
    type Config = PlannerConfig;
    type Response = PlannerResponse;
    type Error = PlannerError;

    fn config() -> Result<PlannerConfig, ConfigError> {
        PlannerConfig::from_env()
    }

    fn log_format(config: &PlannerConfig) -> LogFormat {
        config.log_format
    }

    fn new(config: PlannerConfig, clients: Clients) -> Planner {
        Planner(Deps {
            store: clients.store,
            store_config: clients.store_config,
            submitter: BatchSubmitter::new(aws_sdk_batch::Client::new(&clients.aws)),
            settings: clients.settings,
            config,
        })
    }

    async fn handle(
        &self,
        payload: Value,
        request_id: &str,
    ) -> Result<PlannerResponse, PlannerError> {
        // Boxed: the planning future is deep enough to exceed the compiler's default query
        // depth when inlined into the runtime's future.
        Box::pin(edp_planner_lambda::handle(
            payload,
            Some(request_id),
            &self.0,
        ))
        .await
    }
}

fn main() -> ExitCode {
    edp_cloud::lambda::main::<Planner>()
}
