//! The model-output tree in the EDP input layout (`docs/edp-compatibility.md` 4.1):
//! `<root>/<diags_monthly|diags_daily>/<VAR>_<period>/<VAR>_<period>.<ts10>.{data,meta}`,
//! big-endian float32 with MITgcm-style `.meta` files.

use std::path::Path;

use edp_conventions::naming::{
    MdsFileKind, PeriodToken, SnapInstants, input_freq_dir, input_period_tokens, mds_file_name,
    mds_prefix,
};
use edp_conventions::staggering::Staggering;
use edp_conventions::{Frequency, ModelClock};
use edp_grid::Grid;
use edp_mds::{ByteOrder, Meta, Precision, write_mds};

use crate::error::{DemoError, create_dir};
use crate::fields::field;
use crate::variables::{DIAGNOSTICS, Diagnostic};
use crate::{DemoInput, DemoSpec};

/// MITgcm's `missingValue` of diagnostics (land still holds 0.0).
const MISSING_VALUE: f64 = -999.0;

/// The input pairs of `spec` below `root`, with their diagnostic, in write order.
pub(crate) fn inputs(root: &Path, spec: &DemoSpec) -> Vec<(DemoInput, &'static Diagnostic)> {
    let mut out = Vec::new();
    for (frequency, token) in [
        (Frequency::AvgMon, PeriodToken::MonMean),
        (Frequency::AvgDay, PeriodToken::DayMean),
    ] {
        for diagnostic in DIAGNOSTICS {
            if frequency == Frequency::AvgDay && !diagnostic.daily {
                continue;
            }
            let dir = root
                .join(input_freq_dir(frequency))
                .join(mds_prefix(diagnostic.name, token));
            for &step in spec.steps(frequency) {
                let file = |kind| dir.join(mds_file_name(diagnostic.name, token, step, kind));
                out.push((
                    DemoInput {
                        variable: diagnostic.name.to_string(),
                        frequency,
                        step,
                        data: file(MdsFileKind::Data),
                        meta: file(MdsFileKind::Meta),
                    },
                    diagnostic,
                ));
            }
        }
    }
    out
}

/// Writes the `.data`/`.meta` pair of `input` (diagnostic `name` at `location`): the analytic
/// field of [`field`], float32 big-endian, with an MITgcm-style `.meta` whose
/// `timeInterval` is `bounds` (model hours, written in model seconds as MITgcm does; none for
/// snapshots).
pub(crate) fn write_pair(
    grid: &Grid,
    name: &str,
    location: Staggering,
    input: &DemoInput,
    bounds: Option<[i32; 2]>,
) -> Result<(), DemoError> {
    if let Some(dir) = input.data.parent() {
        create_dir(dir)?;
    }
    let values = field(grid, name, location, input.step);
    let levels = if location.is_3d() { grid.nz } else { 1 };
    let meta_name = input
        .meta
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut meta = Meta::new_llc(meta_name, grid.n, levels, Precision::F32, 1);
    meta.time_step = Some(input.step);
    meta.time_interval = bounds
        .map(|[a, b]| vec![f64::from(a) * 3600.0, f64::from(b) * 3600.0])
        .unwrap_or_default();
    meta.missing_value = Some(MISSING_VALUE);
    meta.fields = vec![name.to_string()];
    write_mds(
        &input.data,
        &meta,
        &grid.llc().tiles_to_compact(&values)?,
        ByteOrder::Big,
    )?;
    Ok(())
}

/// Writes the input pair of any diagnostic `name` at `location` for `frequency` and `step`
/// below `root`, where a local search for it looks (`<root>/<diags_*>/<VAR>_<token>/...`, the
/// first token of the frequency), with the clock's averaging interval. Diagnostics that the
/// demo does not describe get a generic smooth field.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_any(
    root: &Path,
    grid: &Grid,
    clock: &ModelClock,
    name: &str,
    location: Staggering,
    frequency: Frequency,
    step: u64,
    snap: SnapInstants,
) -> Result<DemoInput, DemoError> {
    let period = clock
        .period(frequency, step)
        .map_err(|source| DemoError::Time {
            step,
            source: Box::new(source),
        })?;
    let token = input_period_tokens(frequency, snap)
        .first()
        .copied()
        .unwrap_or(PeriodToken::Snap);
    let dir = root
        .join(input_freq_dir(frequency))
        .join(mds_prefix(name, token));
    let file = |kind| dir.join(mds_file_name(name, token, step, kind));
    let input = DemoInput {
        variable: name.to_string(),
        frequency,
        step,
        data: file(MdsFileKind::Data),
        meta: file(MdsFileKind::Meta),
    };
    write_pair(grid, name, location, &input, period.time_bnds())?;
    Ok(input)
}

/// Writes every input pair and returns them in write order.
pub(crate) fn write(
    root: &Path,
    grid: &Grid,
    spec: &DemoSpec,
) -> Result<Vec<DemoInput>, DemoError> {
    let clock = ModelClock::v4r4();
    let mut written = Vec::new();
    for (input, diagnostic) in inputs(root, spec) {
        let step = input.step;
        let period = clock
            .period(input.frequency, step)
            .map_err(|source| DemoError::Time {
                step,
                source: Box::new(source),
            })?;
        write_pair(
            grid,
            diagnostic.name,
            diagnostic.location,
            &input,
            period.time_bnds(),
        )?;
        written.push(input);
    }
    Ok(written)
}
