//! Reading one input component: fetch the `.meta` and `.data`, check them against the
//! catalog's staggering, the grid and the request, decode into LLC tile order (all at once,
//! [`load_input`], or level by level, [`fetch_input`]), and hash the bytes for provenance.
//! Shared by the native and lat-lon writers.
//!
//! Checks (each failure is a bad-input error naming the file, expected and found):
//! * the `.data` and `.meta` locations share their stem, and an EDP file name
//!   (`<VAR>_<period>.<ts10>.data`) names the catalog's diagnostic and the request's step;
//! * the `.meta` is an LLC compact field of the grid's tile size `N`;
//! * 2-D vs 3-D agrees with the staggering (diagnostics log / built-in table,
//!   `docs/mds-llc.md` 2), and a 3-D field has the grid's level count; a log `Levs` of 1 must
//!   be a 2-D field and any other `Levs` a 3-D one (the exact count is compared with the grid,
//!   which describes the run, so that reduced-level test grids work with the V4r4 log);
//! * `fldList`, when present, holds the diagnostic (its record is the one decoded);
//! * `timeStepNumber`, when present, is the request's step.

use edp_conventions::catalog::InputComponent;
use edp_conventions::naming::MdsFileName;
use edp_grid::Grid;
use std::borrow::Cow;

use edp_mds::{ByteOrder, FieldSelector, Llc, LlcField, Meta};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{GranuleError, Result};
use crate::input::InputSource;
use crate::request::InputRef;

/// Size and SHA-256 of one input object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputDigest {
    /// Location as written in the task.
    pub location: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

impl InputDigest {
    fn of(location: &str, bytes: &[u8]) -> InputDigest {
        InputDigest {
            location: location.to_string(),
            bytes: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }
}

/// One decoded input component.
#[derive(Debug)]
pub struct DecodedInput {
    /// The values in tile order `[k][t][j][i]` (float32 whatever `dataprec` was).
    pub field: LlcField<f32>,
    /// The parsed `.meta`.
    pub meta: Meta,
    /// Digest of the `.data`.
    pub data: InputDigest,
    /// Digest of the `.meta`.
    pub meta_digest: InputDigest,
}

/// One input component fetched and checked but not decoded: the bytes stay as they came
/// (borrowed from an in-memory source), and levels are decoded on demand, so that a writer
/// going level by level never holds a decoded 3-D copy (the lat-lon writer).
#[derive(Debug)]
pub struct FetchedInput<'s> {
    /// The output variable the input is read for (for messages).
    variable: String,
    /// The `.data` location.
    location: String,
    /// The whole `.data` object (its length was checked against the `.meta`).
    bytes: Cow<'s, [u8]>,
    /// The record to decode.
    selector: FieldSelector,
    /// The LLC geometry of the field.
    llc: Llc,
    /// The parsed `.meta`.
    pub meta: Meta,
    /// Digest of the `.meta`.
    pub meta_digest: InputDigest,
}

impl FetchedInput<'_> {
    /// Number of levels (1 for 2-D fields).
    pub fn levels(&self) -> usize {
        self.meta.nz()
    }

    /// The bytes of the selected record (validated when fetched).
    fn record(&self) -> Result<&[u8]> {
        Ok(edp_mds::decode::record_bytes(
            &self.bytes,
            &self.meta,
            &self.selector,
            &self.location,
        )?)
    }

    /// Level `k` in tile order `[t][j][i]` (float32 whatever `dataprec` was).
    pub fn level(&self, k: usize) -> Result<Vec<f32>> {
        let record = self.record()?;
        let level_bytes = self.llc.level_len() * self.meta.precision.size();
        let bytes = record
            .get(k * level_bytes..(k + 1) * level_bytes)
            .ok_or_else(|| GranuleError::InputMismatch {
                variable: self.variable.clone(),
                location: self.location.clone(),
                expected: format!("level {k} ({level_bytes} bytes)"),
                found: format!("{} levels", self.levels()),
            })?;
        Ok(edp_mds::decode::tiles_from_record_bytes::<f32>(
            bytes,
            self.llc,
            1,
            self.meta.precision,
            ByteOrder::Big,
        )
        .data)
    }

    /// Size and SHA-256 of the `.data`.
    pub fn digest(&self) -> InputDigest {
        InputDigest::of(&self.location, &self.bytes)
    }

    /// Decodes every level (hashing the bytes at the same time).
    pub fn decode(self) -> Result<DecodedInput> {
        let (field, data_digest) = rayon::join(
            || {
                edp_mds::decode_record_tiles::<f32>(
                    &self.bytes,
                    &self.meta,
                    &self.selector,
                    ByteOrder::Big,
                    &self.location,
                )
            },
            || self.digest(),
        );
        Ok(DecodedInput {
            field: field?,
            meta: self.meta,
            data: data_digest,
            meta_digest: self.meta_digest,
        })
    }
}

/// Fetches, checks, decodes and hashes input `input` of output variable `variable`, whose
/// diagnostic is `component` ([`fetch_input`] then [`FetchedInput::decode`]).
pub fn load_input(
    variable: &str,
    component: &InputComponent,
    input: &InputRef,
    grid: &Grid,
    step: Option<u64>,
    source: &dyn InputSource,
) -> Result<DecodedInput> {
    fetch_input(variable, component, input, grid, step, source)?.decode()
}

/// Fetches and checks input `input` of output variable `variable`, whose diagnostic is
/// `component`, without decoding it. MITgcm writes big-endian (`ByteOrder::Big`); the
/// precision comes from the `.meta`. The `.data` length is checked here, so that decoding
/// levels later cannot fail on a short file. `step` is the request's model time step, which
/// the file name and `timeStepNumber` must agree with; `None` for a time-invariant input,
/// whose `timeStepNumber` (an optimisation iteration, say) is not checked.
pub fn fetch_input<'s>(
    variable: &str,
    component: &InputComponent,
    input: &InputRef,
    grid: &Grid,
    step: Option<u64>,
    source: &'s dyn InputSource,
) -> Result<FetchedInput<'s>> {
    let mismatch = |location: &str, expected: String, found: String| GranuleError::InputMismatch {
        variable: variable.to_string(),
        location: location.to_string(),
        expected,
        found,
    };
    check_names(variable, component, input, step)?;

    let meta_bytes = source.fetch(&input.meta)?;
    let text = std::str::from_utf8(&meta_bytes).map_err(|e| {
        mismatch(
            &input.meta,
            "a UTF-8 text .meta file".into(),
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    let meta = Meta::parse(text, &input.meta)?;
    let llc = meta.require_llc(&input.meta)?;
    if llc.n != grid.n {
        return Err(mismatch(
            &input.meta,
            format!("an LLC{} field (the grid's tile size)", grid.n),
            format!("an LLC{} field ({})", llc.n, meta.shape_description()),
        ));
    }
    let three_d = component.location.is_3d();
    let nz = meta.nz();
    let levels_ok = if three_d {
        meta.n_dims() == 3 && nz == grid.nz
    } else {
        nz == 1
    };
    if !levels_ok {
        return Err(mismatch(
            &input.meta,
            if three_d {
                format!(
                    "a 3-D field with {} levels ({} {} per the staggering table, grid has {} \
                     levels)",
                    grid.nz, component.name, component.location, grid.nz
                )
            } else {
                format!(
                    "a 2-D field ({} {} per the staggering table)",
                    component.name, component.location
                )
            },
            format!("nDims = {}, {}", meta.n_dims(), meta.shape_description()),
        ));
    }
    if let Some(levs) = component.levels
        && (levs == 1) == three_d
    {
        return Err(mismatch(
            &input.meta,
            format!(
                "agreement with the diagnostics log, which lists {} with Levs = {levs}",
                component.name
            ),
            format!(
                "a {} location {}",
                if three_d { "3-D" } else { "2-D" },
                component.location
            ),
        ));
    }
    let selector = if meta.fields.is_empty() {
        if meta.n_records != 1 {
            return Err(mismatch(
                &input.meta,
                format!("one record or a fldList naming {}", component.name),
                format!("{} records and no fldList", meta.n_records),
            ));
        }
        FieldSelector::Record(0)
    } else if meta.fields.iter().any(|f| f == &component.name) {
        FieldSelector::Name(component.name.clone())
    } else {
        return Err(mismatch(
            &input.meta,
            format!("fldList containing '{}'", component.name),
            format!("fldList {:?}", meta.fields),
        ));
    };
    if let (Some(step), Some(ts)) = (step, meta.time_step)
        && ts != step
    {
        return Err(mismatch(
            &input.meta,
            format!("timeStepNumber {step} (the request's step)"),
            format!("timeStepNumber {ts}"),
        ));
    }

    let data_bytes = source.fetch(&input.data)?;
    edp_mds::decode::record_bytes(&data_bytes, &meta, &selector, &input.data)?;
    Ok(FetchedInput {
        variable: variable.to_string(),
        location: input.data.clone(),
        bytes: data_bytes,
        selector,
        llc: grid.llc(),
        meta_digest: InputDigest::of(&input.meta, &meta_bytes),
        meta,
    })
}

/// Checks the pair's file names: `.data`/`.meta` with the same stem, and for EDP names the
/// catalog's diagnostic and the request's step.
fn check_names(
    variable: &str,
    component: &InputComponent,
    input: &InputRef,
    step: Option<u64>,
) -> Result<()> {
    let mismatch = |location: &str, expected: String, found: String| GranuleError::InputMismatch {
        variable: variable.to_string(),
        location: location.to_string(),
        expected,
        found,
    };
    let (Some(data_stem), Some(meta_stem)) = (
        input.data.strip_suffix(".data"),
        input.meta.strip_suffix(".meta"),
    ) else {
        return Err(mismatch(
            &input.data,
            "a [<stem>.data, <stem>.meta] pair".into(),
            format!("[{}, {}]", input.data, input.meta),
        ));
    };
    if data_stem != meta_stem {
        return Err(mismatch(
            &input.data,
            format!("the .meta {meta_stem}.meta to have the same stem"),
            format!("stem {data_stem}"),
        ));
    }
    if let Some(name) = MdsFileName::parse_location(&input.data) {
        if name.variable != component.name {
            return Err(mismatch(
                &input.data,
                format!(
                    "a file of diagnostic {} (the input of {variable})",
                    component.name
                ),
                format!("a file of {}", name.variable),
            ));
        }
        if let Some(step) = step
            && name.step != step
        {
            return Err(mismatch(
                &input.data,
                format!("time step {step:010}"),
                format!("time step {:010}", name.step),
            ));
        }
    }
    Ok(())
}
