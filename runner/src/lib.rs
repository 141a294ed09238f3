//! The run engine: executes the tasks of one shard (or of a whole EDP task list) on all
//! cores, writes granules, ledger records and done markers, and maps the outcome to the
//! documented exit code (`docs/architecture.md`, "Worker exit codes"). `edp run`, `edp worker`
//! and the Batch container (`edp-batch-worker`) all run shards through it.
//!
//! | module | job |
//! |---|---|
//! | [`executor`] | [`run_shard`] / [`run_shards`] / [`run_tasks`]: skip rule, fetch, produce, upload, ledger |
//! | [`input`] | shard files and task lists (EDP Gen B/C), destination inference, slices |
//! | [`resources`] | grid, metadata and configuration loaded once per location (local or `s3://`) |
//! | [`failure`] | permanent vs retryable classification of every failure |
//! | [`outcome`] | [`TaskOutcome`], [`ShardOutcome`] and the shard's [`ExitKind`](edp_task_schemas::ExitKind) |
//! | [`emf`] | CloudWatch Embedded Metric Format lines |
//! | [`verify`] | checking a destination against its manifests (`edp verify`) |
//! | [`process`] | peak memory and CPU time of this process |
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use edp_runner::{WorkerOptions, input, run_shard};
//! use edp_plan::roots::Root;
//! use edp_store::Store;
//!
//! let store = Store::from_env().await?;
//! let location = input::parse_location("shard", "s3://products/_edp/scratch/r1/shards/shard-00003.json")?;
//! let shard = input::load_shard(&store, &location).await?;
//! let options = WorkerOptions::new(Root::parse("s3://products")?, shard.run_id.clone());
//! let outcome = run_shard(&store, &shard, &options).await;
//! println!("{} tasks, exit {}", outcome.tasks.len(), outcome.exit);
//! std::process::exit(i32::from(outcome.exit.code()));
//! # }
//! ```

mod digest;
pub mod emf;
pub mod error;
pub mod executor;
pub mod failure;
pub mod input;
pub mod options;
pub mod outcome;
pub mod process;
pub mod resources;
pub mod verify;

pub use digest::sha256_file;
pub use error::WorkerError;
pub use executor::{NoObserver, SOFTWARE_VERSION, TaskObserver, run_shard, run_shards, run_tasks};
pub use failure::Failure;
pub use options::{MetricsOutput, WorkerOptions};
pub use outcome::{ShardOutcome, TaskOutcome};
