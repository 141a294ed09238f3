//! Logging of the `edp` commands: `tracing` to stderr, human-readable by default and one JSON
//! object per line with the global `--log-format json` (or `EDP_LOG_FORMAT=json`), as the
//! cloud log pipeline expects. Stdout stays free for command output (task lists, summaries,
//! CloudWatch EMF lines).
//!
//! Levels use EDP's names (`-l/--log DEBUG|INFO|WARNING|ERROR|CRITICAL`); `RUST_LOG`, when
//! set, overrides them with a full `tracing` filter (e.g. `RUST_LOG=edp_runner=debug`).
//!
//! While a progress bar is on screen ([`set_progress_bar`]), log lines are written through
//! [`indicatif::ProgressBar::suspend`], so they appear above the bar instead of tearing it.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use anyhow::bail;
use indicatif::ProgressBar;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Format of log lines (global option `--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (with colours on a terminal).
    #[default]
    Text,
    /// One JSON object per line, fields flattened (`run_id`, `task_id`, `granule`, ...).
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();
static PROGRESS: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Records the global format; called once by `main` before any command runs.
pub fn set_format(format: LogFormat) {
    let _ = FORMAT.set(format);
}

/// The tracing filter of an EDP log level name (case-insensitive; tracing names accepted).
pub fn level_filter(level: &str) -> anyhow::Result<&'static str> {
    Ok(match level.to_ascii_uppercase().as_str() {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "INFO" => "info",
        "WARNING" | "WARN" => "warn",
        "ERROR" | "CRITICAL" => "error",
        _ => bail!("invalid log level {level:?}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL"),
    })
}

/// Installs the subscriber for this process at `level` in the global format. A second call
/// (or a subscriber installed by a test harness) is ignored.
pub fn init(level: &str) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(text) if !text.is_empty() => EnvFilter::try_new(text)?,
        // Icechunk warns on every open of a local repository that its local storage does
        // not detect concurrent commits, and on every conditional write that a lost response
        // may look like a conflict; edp serialises local commits itself (a lock file beside
        // the repository) and redoes a conflicting commit from the new tip
        // (`edp_virtual::icechunk_repo`), so the warnings would only mislead.
        _ => EnvFilter::new(format!(
            "{},icechunk_arrow_object_store=error,icechunk_storage::readback=error",
            level_filter(level)?
        )),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(ProgressAwareStderr);
    let _ = match FORMAT.get().copied().unwrap_or_default() {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
    Ok(())
}

/// Routes log lines around `bar` while it is shown; `None` when it is finished.
pub fn set_progress_bar(bar: Option<ProgressBar>) {
    let mut slot = PROGRESS.lock().unwrap_or_else(|p| p.into_inner());
    *slot = bar;
}

/// `MakeWriter` for stderr that cooperates with the progress bar.
#[derive(Debug, Clone, Copy)]
struct ProgressAwareStderr;

impl<'a> MakeWriter<'a> for ProgressAwareStderr {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter(Vec::with_capacity(256))
    }
}

/// Collects one formatted event and writes it in one piece when dropped.
#[derive(Debug)]
struct LineWriter(Vec<u8>);

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let write = |bytes: &[u8]| {
            let mut err = std::io::stderr().lock();
            // Logging must never fail a command; a closed stderr loses the line.
            let _ = err.write_all(bytes);
            let _ = err.flush();
        };
        let bar = PROGRESS.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match bar {
            Some(bar) if !bar.is_hidden() => bar.suspend(|| write(&self.0)),
            _ => write(&self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edp_level_names_map_to_tracing_filters() {
        assert_eq!(level_filter("WARNING").unwrap(), "warn");
        assert_eq!(level_filter("critical").unwrap(), "error");
        assert_eq!(level_filter("Info").unwrap(), "info");
        let err = level_filter("LOUD").unwrap_err().to_string();
        assert!(err.contains("LOUD") && err.contains("WARNING"), "{err}");
    }
}
