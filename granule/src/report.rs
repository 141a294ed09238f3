//! What a writer reports about the granule it produced (for logs, ledgers and the command
//! line).

use std::path::PathBuf;

use edp_conventions::{Frequency, ProductType};
use serde::Serialize;

use crate::fields::InputDigest;

/// One data variable of a written granule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariableReport {
    /// Output name.
    pub name: String,
    /// Input diagnostics (one, or x and y for vectors).
    pub diagnostics: Vec<String>,
    /// NetCDF dimensions.
    pub dims: Vec<String>,
    /// Chunk sizes written.
    pub chunks: Vec<usize>,
    /// `valid_min` (`None` when every value is fill).
    pub valid_min: Option<f32>,
    /// `valid_max`.
    pub valid_max: Option<f32>,
    /// Values written as data.
    pub valid_values: usize,
    /// Values written as fill (land, NaN and ±Inf).
    pub fill_values: usize,
    /// Of the fill values, those that were ±Inf in the input (see
    /// [`crate::encoding::ValueStats::infinite`]); the producer warns when there are any.
    pub infinite_values: usize,
}

/// Wall-clock seconds of the phases of one granule.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Timings {
    /// Fetching, checking, hashing and decoding inputs, masking and fill (parallel); for
    /// lat-lon granules also rotating and regridding, on a thread that runs while the
    /// NetCDF thread writes (so the phases overlap and may add up to more than the total).
    pub read_seconds: f64,
    /// NetCDF calls: defining, compressing and writing (one thread).
    pub write_seconds: f64,
    /// Everything, including metadata and the final sync and rename.
    pub total_seconds: f64,
}

/// The outcome of producing one granule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GranuleReport {
    /// Where the granule was written (the final name).
    pub path: PathBuf,
    /// Granule file name (`product_name`).
    pub granule_name: String,
    /// Product type.
    pub product: ProductType,
    /// Frequency.
    pub frequency: Frequency,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// The granule's `uuid` attribute.
    pub uuid: String,
    /// Data variables, in file order.
    pub variables: Vec<VariableReport>,
    /// Every input read, with size and SHA-256.
    pub inputs: Vec<InputDigest>,
    /// Phase timings.
    pub timings: Timings,
    /// Non-fatal findings (e.g. task times that differ from the recomputed ones).
    pub warnings: Vec<String>,
}
