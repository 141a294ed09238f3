//! The model-output tree in the EDP input layout (`docs/edp-compatibility.md` 4.1):
//! `<root>/<diags_monthly|diags_daily>/<VAR>_<period>/<VAR>_<period>.<ts10>.{data,meta}`,
//! big-endian float32 with MITgcm-style `.meta` files.

use std::path::Path;

use edp_conventions::naming::{
    MdsFileKind, PeriodToken, input_freq_dir, mds_file_name, mds_prefix,
};
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

/// Writes every input pair and returns them in write order.
pub(crate) fn write(
    root: &Path,
    grid: &Grid,
    spec: &DemoSpec,
) -> Result<Vec<DemoInput>, DemoError> {
    let clock = ModelClock::v4r4();
    let llc = grid.llc();
    let mut written = Vec::new();
    for (input, diagnostic) in inputs(root, spec) {
        let step = input.step;
        let period = clock
            .period(input.frequency, step)
            .map_err(|source| DemoError::Time {
                step,
                source: Box::new(source),
            })?;
        if let Some(dir) = input.data.parent() {
            create_dir(dir)?;
        }
        let values = field(grid, diagnostic.name, diagnostic.location, step);
        let levels = if diagnostic.location.is_3d() {
            grid.nz
        } else {
            1
        };
        let meta_name = input
            .meta
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut meta = Meta::new_llc(meta_name, grid.n, levels, Precision::F32, 1);
        meta.time_step = Some(step);
        // MITgcm writes the averaging interval in model seconds.
        meta.time_interval = period
            .time_bnds()
            .map(|[a, b]| vec![f64::from(a) * 3600.0, f64::from(b) * 3600.0])
            .unwrap_or_default();
        meta.missing_value = Some(MISSING_VALUE);
        meta.fields = vec![diagnostic.name.to_string()];
        write_mds(
            &input.data,
            &meta,
            &llc.tiles_to_compact(&values)?,
            ByteOrder::Big,
        )?;
        written.push(input);
    }
    Ok(written)
}
