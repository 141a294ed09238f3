//! Dataset status: the state of one dataset (all granules of one grouping, product type and
//! period of one ECCO version), stored as
//! `<dest_root>/_edp/datasets/<ecco_version>/<native|latlon>/<period>/<GROUPING>.json`.
//!
//! Granules have ledger records; datasets have this: which time steps are expected, which are
//! present, failed or missing, the result of the last series check, the publication, the
//! lifecycle state and every state transition with who made it, when and why. The allowed
//! transitions are a table in `edp-datasets` (`lifecycle`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Lifecycle state of a dataset.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DatasetState {
    /// Some expected granules are missing or failed.
    Incomplete,
    /// Every expected granule is present; not checked since the last change.
    Produced,
    /// The series check passed.
    Validated,
    /// Validated and its mapfile is written: ready to publish.
    Publishable,
    /// Copied to a publication location (see `publication`).
    Published,
    /// The series check found problems (see `last_check`); repaired by producing granules
    /// again.
    Failed,
}

impl DatasetState {
    /// Every state.
    pub const ALL: [DatasetState; 6] = [
        DatasetState::Incomplete,
        DatasetState::Produced,
        DatasetState::Validated,
        DatasetState::Publishable,
        DatasetState::Published,
        DatasetState::Failed,
    ];

    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetState::Incomplete => "incomplete",
            DatasetState::Produced => "produced",
            DatasetState::Validated => "validated",
            DatasetState::Publishable => "publishable",
            DatasetState::Published => "published",
            DatasetState::Failed => "failed",
        }
    }
}

/// The status document of one dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DatasetStatus {
    /// Dataset path relative to the destination root,
    /// `<ecco_version>/<native|latlon>/<period>/<GROUPING>`.
    pub dataset: String,
    /// Current state.
    pub state: DatasetState,
    /// The time steps the dataset should have.
    pub expected: ExpectedSteps,
    /// Granules by time step: present, failed, missing.
    pub coverage: Coverage,
    /// Result of the last series check, when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_check: Option<CheckSummary>,
    /// The current publication, when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publication: Option<Publication>,
    /// Every state change, oldest first.
    #[serde(default)]
    pub history: Vec<Transition>,
    /// RFC 3339 UTC time of the last update.
    pub updated_at: String,
}

/// The expected time steps of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExpectedSteps {
    /// First expected step, as the date part of granule names (`1992-01`, `1992-01-01`,
    /// `1992-01-02T000000`).
    pub first: String,
    /// Last expected step (same form).
    pub last: String,
    /// Number of expected steps from `first` to `last` at the dataset's frequency.
    pub count: u64,
    /// Where the range comes from, e.g. `granules planned or produced so far`.
    pub source: String,
}

/// Which steps are present, failed or missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Coverage {
    /// Steps with a granule in the manifest.
    pub present: u64,
    /// Steps whose latest attempt failed (and that have no granule).
    pub failed: Vec<FailedStep>,
    /// Expected steps neither present nor failed, as ranges.
    pub missing: Vec<StepRange>,
    /// First present step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    /// Last present step (the latest granule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// Path of the latest granule relative to the destination root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_granule: Option<String>,
    /// Present steps (date parts), sorted; the timeline of the report page.
    #[serde(default)]
    pub present_steps: Vec<String>,
}

/// A failed step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FailedStep {
    /// The step (date part of the granule name).
    pub step: String,
    /// The granule path relative to the destination root.
    pub granule: String,
    /// The run whose attempt failed.
    pub run_id: String,
    /// The error message.
    pub message: String,
}

/// An inclusive range of steps (`first == last` for one step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepRange {
    /// First step of the range.
    pub first: String,
    /// Last step of the range.
    pub last: String,
    /// Steps in the range.
    pub count: u64,
}

/// The outcome of one series check (`edp check`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckSummary {
    /// RFC 3339 UTC time of the check.
    pub checked_at: String,
    /// True when no problem was found.
    pub passed: bool,
    /// Granules examined.
    pub granules: u64,
    /// Bytes read from the store.
    pub bytes_read: u64,
    /// Every problem found, each naming its granule.
    #[serde(default)]
    pub problems: Vec<CheckProblem>,
}

/// One problem found by a series check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckProblem {
    /// Short machine-readable kind, e.g. `gap`, `overlap`, `duplicate`, `time_bounds`,
    /// `grouping`, `structure`, `checksum`, `values`.
    pub kind: String,
    /// The granule concerned (file name), or the step range for gaps.
    pub granule: String,
    /// What was expected and what was found.
    pub message: String,
}

/// Where and what a dataset was published as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Publication {
    /// The publication prefix given to `edp publish --to`.
    pub location: String,
    /// The folder of this version below `location`.
    pub version_location: String,
    /// The ESGF-style version, `vYYYYMMDDhhmmss`.
    pub version: String,
    /// The mapfile written beside the granules.
    pub mapfile: String,
    /// RFC 3339 UTC time of the publication.
    pub published_at: String,
    /// Every published granule with the checksum of the copy.
    pub granules: Vec<PublishedGranule>,
}

/// One published granule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PublishedGranule {
    /// Location of the copy.
    pub location: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the copy (lower-case hex).
    pub sha256: String,
}

/// One state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Transition {
    /// State before (`None` when the status was created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DatasetState>,
    /// State after.
    pub to: DatasetState,
    /// RFC 3339 UTC time.
    pub at: String,
    /// Who made it: the command or component (`edp run`, `edp check`, `reporter`, ...).
    pub by: String,
    /// The run that caused it, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Why.
    pub reason: String,
}
