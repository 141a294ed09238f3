//! What the commands share: the `-l/--log` option, the start-up of logging and of the async
//! runtime, and number formatting.

use anyhow::Context;

/// Default level of the commands that print their own summary (`edp plan`, `run`, `status`,
/// `verify`, `demo`): warnings only.
pub const QUIET: &str = "WARNING";

/// Default level of the long-running cloud-facing commands (`edp worker`, `edp submit`).
pub const CHATTY: &str = "INFO";

/// EDP's `-l/--log LEVEL` option.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct LogArgs {
    /// Log level: DEBUG, INFO, WARNING, ERROR or CRITICAL (EDP `-l/--log`; default WARNING,
    /// INFO for `edp worker` and `edp submit`).
    #[arg(short = 'l', long = "log", value_name = "LEVEL")]
    pub level: Option<String>,
}

impl LogArgs {
    /// The level given, or `default`.
    pub fn level_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.level.as_deref().unwrap_or(default)
    }
}

/// Installs logging at `level` and starts the multi-threaded async runtime every command that
/// talks to a store runs on.
pub fn start(level: &str) -> anyhow::Result<tokio::runtime::Runtime> {
    crate::logging::init(level)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Bytes with a decimal unit (`12.3 MB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_get_a_decimal_unit() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(421_200), "421.2 kB");
        assert_eq!(human_bytes(1_234_567), "1.2 MB");
        assert_eq!(human_bytes(3_000_000_000), "3.0 GB");
    }

    #[test]
    fn the_log_level_falls_back_to_the_command_default() {
        assert_eq!(LogArgs::default().level_or(QUIET), "WARNING");
        let given = LogArgs {
            level: Some("DEBUG".into()),
        };
        assert_eq!(given.level_or(CHATTY), "DEBUG");
    }
}
