//! Reporter Lambda entrypoint: reads the configuration, builds the clients once per
//! container, and serves invocations with [`edp_reporter_lambda::handle`].

use std::process::ExitCode;

use edp_deploy::{SsmSettings, logging};
use edp_reporter_lambda::{BatchDescriber, Deps, ReporterConfig, handle};
use edp_store::{Store, StoreConfig};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use tracing::Instrument;

#[tokio::main]
async fn main() -> ExitCode {
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Display, not Debug: the message names the variable and says expected vs found.
            eprintln!("edp-reporter: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the configuration and the clients once per container, then serves invocations.
async fn serve() -> Result<(), Error> {
    let config = ReporterConfig::from_env()?;
    logging::init(config.log_format)?;
    let aws = aws_config::load_from_env().await;
    let store_config = StoreConfig::from_env()?;
    let deps = Deps {
        store: Store::from_config(store_config.clone()).await,
        store_config,
        describer: BatchDescriber::new(aws_sdk_batch::Client::new(&aws)),
        settings: SsmSettings::new(aws_sdk_ssm::Client::new(&aws)),
        config,
    };
    let deps = &deps;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        async {
            let response = handle(event.payload, deps).await;
            if let Err(err) = &response {
                tracing::error!(error = %err, "reporter failed");
            }
            response
        }
        .instrument(span)
        .await
    }))
    .await
}
