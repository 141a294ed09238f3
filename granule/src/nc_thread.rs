//! One dedicated thread for the NetCDF reads of the process (lat-lon weights, grid-geometry
//! files, `edp verify`), so that HDF5 never prints "HDF5-DIAG" error traces to stderr.
//!
//! Why: HDF5 (thread-safe build) keeps its error-printing switch per thread, and netCDF-C
//! turns printing off only on the thread that initialises it. Reading a variable makes
//! netCDF-C probe optional attributes (`_QuantizeBitGroomNumberOfSignificantDigits`, ...) that
//! most files lack; on any other thread each probe prints a harmless but alarming trace. Writing
//! granules does not probe, so the writers may run on any thread.
//!
//! [`start`] makes this thread the initialising one; call it before anything else uses
//! NetCDF (the executor and the `edp` commands that read NetCDF do). Jobs run one after the
//! other, which costs nothing: libnetcdf serialises its calls behind a global lock anyway.

use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use thiserror::Error;

/// A job for the thread.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// The NetCDF thread could not run a job.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NcThreadError {
    /// The thread could not be started or has stopped.
    #[error("the NetCDF thread is not running")]
    Unavailable,
    /// The job panicked (the thread itself keeps running).
    #[error("a NetCDF job panicked: {0}")]
    Panicked(String),
}

static JOBS: OnceLock<Mutex<Option<mpsc::Sender<Job>>>> = OnceLock::new();

/// Starts the NetCDF thread (idempotent) and initialises netCDF-C on it.
pub fn start() {
    jobs();
}

fn jobs() -> &'static Mutex<Option<mpsc::Sender<Job>>> {
    JOBS.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("edp-netcdf".into())
            .spawn(move || {
                // Initialises netCDF-C (and its HDF5 error settings) on this thread; opening a
                // file that does not exist fails, which is expected.
                let _ = netcdf::open("/nonexistent/edp-netcdf-init.nc");
                for job in rx {
                    job();
                }
            });
        match spawned {
            Ok(_) => Mutex::new(Some(tx)),
            Err(err) => {
                tracing::warn!("cannot start the NetCDF thread: {err}");
                Mutex::new(None)
            }
        }
    })
}

/// Runs `work` on the NetCDF thread and waits for its result (blocking the caller).
pub fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, NcThreadError> {
    let (tx, rx) = mpsc::channel();
    submit(move || {
        let _ = tx.send(catch(work));
    })?;
    rx.recv().map_err(|_| NcThreadError::Unavailable)?
}

/// Runs `work` on the NetCDF thread and awaits its result.
pub async fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, NcThreadError> {
    let (tx, rx) = futures::channel::oneshot::channel();
    submit(move || {
        let _ = tx.send(catch(work));
    })?;
    rx.await.map_err(|_| NcThreadError::Unavailable)?
}

fn submit(job: impl FnOnce() + Send + 'static) -> Result<(), NcThreadError> {
    let guard = jobs().lock().unwrap_or_else(|p| p.into_inner());
    match guard.as_ref() {
        Some(tx) => tx
            .send(Box::new(job))
            .map_err(|_| NcThreadError::Unavailable),
        None => Err(NcThreadError::Unavailable),
    }
}

/// Runs `work`, turning a panic into an error so that the thread survives it.
fn catch<T>(work: impl FnOnce() -> T) -> Result<T, NcThreadError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|payload| {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        NcThreadError::Panicked(text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_one_thread_and_survive_panics() {
        let a = run_blocking(|| std::thread::current().id()).unwrap();
        let b = run_blocking(|| std::thread::current().id()).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, std::thread::current().id());
        let err = run_blocking(|| -> u8 { panic!("boom") }).unwrap_err();
        assert_eq!(err, NcThreadError::Panicked("boom".into()));
        assert_eq!(run_blocking(|| 7).unwrap(), 7);
    }

    #[tokio::test]
    async fn async_jobs_return_their_value() {
        assert_eq!(run(|| 40 + 2).await.unwrap(), 42);
    }
}
