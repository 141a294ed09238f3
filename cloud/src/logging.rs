//! Log setup shared by the cloud programs: `tracing` events as one JSON object per line
//! (`EDP_LOG_FORMAT=json`, the cloud default: CloudWatch Logs Insights and metric filters
//! query the fields `run_id`, `task_id`, `granule`, `seconds`, `bytes` ...) or as
//! human-readable text (`EDP_LOG_FORMAT=text`).
//!
//! Log lines go to **stderr**: stdout is kept for program output (`edp submit` prints the run
//! and job ids there) and for CloudWatch embedded-metric-format lines. Both streams reach
//! CloudWatch Logs from Lambda and from the Batch `awslogs` driver. The level comes from
//! `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

use crate::env::LogFormat;

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot install the {format} log subscriber: {reason}")]
pub struct LoggingError {
    /// The format asked for.
    pub format: LogFormat,
    /// Why (usually: a subscriber is already installed).
    pub reason: String,
}

/// Installs the global subscriber for `format`. Call once, first thing in `main`.
pub fn init(format: LogFormat) -> Result<(), LoggingError> {
    // Icechunk's warnings about its conditional writes and local storage are about cases the
    // virtual stores handle (a conflicting commit is redone from the new tip; see
    // `edp_virtual::icechunk_repo`): left at info they would follow every commit.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,icechunk_arrow_object_store=error,icechunk_storage::readback=error")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Json => builder
            .json()
            // Fields at the top level of each line (`$.run_id`, not `$.fields.run_id`), and
            // the fields of the enclosing span (the Lambda request id) beside them.
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_target(false)
            .try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
    result.map_err(|err| LoggingError {
        format,
        reason: err.to_string(),
    })
}
