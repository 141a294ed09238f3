//! Serde types shared by every part of edp: job specs, tasks, shards, ledger records, run
//! reports, trigger payloads, the worker's exit-code table and the deployment contract
//! (environment variables and SSM parameter names).
//!
//! These types are the single source of truth for the JSON formats: the JSON Schemas in
//! `task-schemas/schemas/` are generated from them (`cargo run -p edp-task-schemas --bin
//! gen-schemas`), and a test fails when the committed schemas are stale.
//!
//! Tasks are compatible with the task lists of the Python ECCO Dataset Production (EDP
//! Gen B and Gen C, `docs/edp-compatibility.md` 2): the field order of [`Task`] and
//! [`DynamicMetadata`] is the Gen C key order, and our own bookkeeping lives under the extra
//! key `"edp"`, which EDP ignores.
//!
//! ```
//! use edp_task_schemas::{Task, TaskGeneration};
//!
//! let text = r#"{
//!     "granule": "out/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc",
//!     "variables": {"SSH": [["SSH_mon_mean.0000000732.data", "SSH_mon_mean.0000000732.meta"]]},
//!     "ecco_grid_loc": "grid", "ecco_mapping_factors_loc": "factors", "ecco_metadata_loc": "metadata",
//!     "dynamic_metadata": {
//!         "name": "dynamic sea surface height", "dimension": "2D",
//!         "time_coverage_start": "1992-01-01T12:00:00", "time_coverage_end": "1992-02-01T00:00:00",
//!         "time_coverage_center": "1992-01-16T18:00:00",
//!         "time_long_name": "center time of averaging period",
//!         "time_coverage_duration": "P1M", "time_coverage_resolution": "P1M",
//!         "summary": "This dataset contains monthly-averaged dynamic sea surface height."
//!     }
//! }"#;
//! let task: Task = serde_json::from_str(text)?;
//! assert_eq!(task.generation(), TaskGeneration::B); // no ecco_cfg_loc
//! assert_eq!(task.variables["SSH"][0].meta, "SSH_mon_mean.0000000732.meta");
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod chunks;
pub mod claim;
pub mod common;
pub mod dataset;
pub mod deploy;
pub mod error;
pub mod exit;
pub mod job_spec;
pub mod ledger;
pub mod locations;
pub mod manifest;
pub mod run;
pub mod schema_files;
pub mod secret;
pub mod shard;
pub mod task;
pub mod trigger;

pub use chunks::{ChunkIndex, INLINE_CHUNK_MAX_BYTES, StorageFilter, StoredChunk, StoredVariable};
pub use claim::Claim;
pub use common::{Dimension, Frequency, Job, ProductKind, ProductType, TimeSteps};
pub use dataset::{
    CheckProblem, CheckSummary, Coverage, DatasetState, DatasetStatus, ExpectedSteps, FailedStep,
    Publication, PublishedGranule, StepRange, Transition,
};
pub use error::{ParseValueError, PayloadError};
pub use exit::ExitKind;
pub use job_spec::JobSpec;
pub use ledger::{ErrorKind, LedgerRecord, TaskError, TaskStatus};
pub use locations::{Locations, TaskLocations};
pub use manifest::{DatasetManifest, ManifestGranule};
pub use run::{
    Failure, KindPlan, KindStats, ModelTimeRange, RunRecord, RunReport, RunTrigger, StatusCounts,
};
pub use secret::Secret;
pub use shard::Shard;
pub use task::{
    DynamicMetadata, EdpTaskInfo, InputObject, InputPair, Task, TaskGeneration, TaskList,
    XyComponents,
};
pub use trigger::{JobSource, ManualTrigger, ShardSizing};
