//! Datasets, not just granules: the level above the per-granule ledger.
//!
//! A dataset is every granule of one grouping, product type and period of one ECCO version
//! (`<dest>/<ecco_version>/<native|latlon>/<period>/<GROUPING>/`). This crate keeps a status
//! per dataset (`<dest>/_edp/datasets/<dataset>.json`, type
//! [`edp_task_schemas::DatasetStatus`]) and moves it through an explicit state machine
//! ([`lifecycle::TRANSITIONS`]):
//!
//! * [`status::update_after_run`]: coverage (expected, present, failed, missing steps) after
//!   a run; `incomplete` or `produced` (called by `edp run` and the reporter Lambda);
//! * `check` (feature `netcdf`): series QA of the granules' own time axes, structure,
//!   checksums and values; `validated` + mapfile -> `publishable`, or `failed`;
//! * [`publish::publish`]: copies a publishable dataset (server-side on S3), writes its
//!   [`mapfile`], records `published`;
//! * [`report`]: the dataset table (`edp datasets`) and the static page under
//!   `<dest>/_edp/report/` with coverage timelines and quicklook images ([`quicklook`]).
//!
//! Everything that reads granules (NetCDF headers and values, quicklooks from granules) is
//! behind the `netcdf` feature: the reporter Lambda links this crate without libnetcdf.

pub mod id;
pub mod lifecycle;
pub mod mapfile;
pub mod mask;
pub mod png;
pub mod publish;
pub mod quicklook;
pub mod report;
pub mod series;
pub mod status;
pub mod steps;

#[cfg(feature = "netcdf")]
pub mod check;
#[cfg(feature = "netcdf")]
pub mod header;
#[cfg(feature = "netcdf")]
pub mod render;

use edp_plan::roots::Root;
use edp_plan::state::StateError;
use edp_store::{Store, StoreError};

pub use id::DatasetId;
pub use lifecycle::{Actor, TRANSITIONS};
pub use status::{RunUpdate, list_statuses, read_status, update_after_run};

/// Errors of dataset operations; each names the dataset, file or line concerned.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A dataset path that does not follow the layout.
    #[error("invalid dataset {found:?}: {reason}")]
    InvalidDataset {
        /// What was given.
        found: String,
        /// Why it is not a dataset.
        reason: String,
    },
    /// A state change that the state machine does not allow.
    #[error("dataset {dataset}: cannot go from {from} to {to} (allowed from {from}: {allowed})")]
    IllegalTransition {
        /// The dataset.
        dataset: String,
        /// Current state.
        from: &'static str,
        /// Requested state.
        to: &'static str,
        /// The states the table allows from `from`.
        allowed: String,
    },
    /// The dataset has no status (never produced).
    #[error("dataset {dataset} has no status at {location}: run `edp run` first")]
    NoStatus {
        /// The dataset.
        dataset: String,
        /// Where the status was looked for.
        location: String,
    },
    /// Publication refused or failed.
    #[error("cannot publish {dataset}: {reason}")]
    Publish {
        /// The dataset.
        dataset: String,
        /// Why.
        reason: String,
    },
    /// A mapfile line that does not follow the layout.
    #[error("mapfile line {line:?}: {reason}")]
    Mapfile {
        /// The line.
        line: String,
        /// What is wrong.
        reason: String,
    },
    /// A granule could not be read.
    #[error("granule {granule}: {reason}")]
    Granule {
        /// The granule.
        granule: String,
        /// Why.
        reason: String,
    },
    /// A state file is not the JSON it should be.
    #[error("{location}: expected a {expected} JSON document: {source}")]
    Decode {
        /// The file.
        location: String,
        /// What it should hold.
        expected: &'static str,
        /// The parser error.
        #[source]
        source: serde_json::Error,
    },
    /// A status could not be serialised.
    #[error("cannot encode the status for {location}: {source}")]
    Encode {
        /// Where it was going.
        location: String,
        /// The serialiser error.
        #[source]
        source: serde_json::Error,
    },
    /// A conditional update kept losing against concurrent writers.
    #[error("{location}: gave up after {attempts} conflicting concurrent updates")]
    Contention {
        /// The file.
        location: String,
        /// Attempts made.
        attempts: u32,
    },
    /// Reading run state (ledger, manifests) failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A store operation failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`after_run`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct AfterRun {
    /// Datasets updated and their states.
    pub update: RunUpdate,
    /// The report page written.
    pub page: String,
}

/// Everything the dataset level does after a run (the one call of `edp run` and of the
/// reporter Lambda): updates the status of every dataset the run touched, then rewrites the
/// report page (quicklooks already rendered are linked; rendering new ones needs granules and
/// is left to `edp datasets --html`).
pub async fn after_run(
    store: &Store,
    dest: &Root,
    run_id: &str,
    by: &str,
) -> Result<AfterRun, DatasetError> {
    let update = update_after_run(store, dest, run_id, &Actor::in_run(by, run_id)).await?;
    let page = report::write_page(store, dest.location()).await?;
    Ok(AfterRun {
        update,
        page: page.to_string(),
    })
}
