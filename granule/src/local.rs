//! Finding the inputs of one granule in a local MDS results tree laid out as EDP expects
//! (`docs/edp-compatibility.md` 4.1): `<root>/<diags_monthly|diags_daily|diags_inst>/<VAR>_<period>/
//! <VAR>_<period>.<ts10>.data` (+ `.meta`), with the period tokens accepted for the frequency
//! in order of preference (`mon_mean`; `day_mean`; `day_inst`/`day_snap`/`snap` or
//! `mon_inst`/`mon_snap`/`snap`).

use std::path::{Path, PathBuf};

use edp_conventions::Frequency;
use edp_conventions::catalog::Dataset;
use edp_conventions::naming::{
    MdsFileKind, SnapInstants, input_freq_dir, input_period_tokens, mds_file_name, mds_prefix,
};

use crate::request::{InputRef, RequestVariable};

/// The result of a search: the variables whose inputs were all found, and for each missing
/// input the files that were looked for.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalInputs {
    /// Variables with all their inputs, in grouping order.
    pub variables: Vec<RequestVariable>,
    /// `(output variable, diagnostic, candidate .data paths)` of each input not found.
    pub missing: Vec<(String, String, Vec<PathBuf>)>,
}

/// Looks for the inputs of every variable of `dataset` at `step` below `root`.
pub fn find_inputs(
    root: &Path,
    dataset: &Dataset,
    frequency: Frequency,
    step: u64,
    snap: SnapInstants,
) -> LocalInputs {
    let dir = root.join(input_freq_dir(frequency));
    let mut found = LocalInputs {
        variables: Vec::new(),
        missing: Vec::new(),
    };
    for output in &dataset.variables {
        let mut inputs = Vec::new();
        for component in &output.inputs {
            let candidates: Vec<(PathBuf, PathBuf)> = input_period_tokens(frequency, snap)
                .iter()
                .map(|token| {
                    let sub = dir.join(mds_prefix(&component.name, *token));
                    let file = |kind| sub.join(mds_file_name(&component.name, *token, step, kind));
                    (file(MdsFileKind::Data), file(MdsFileKind::Meta))
                })
                .collect();
            match candidates
                .iter()
                .find(|(data, meta)| data.is_file() && meta.is_file())
            {
                Some((data, meta)) => inputs.push(InputRef::new(
                    data.display().to_string(),
                    meta.display().to_string(),
                )),
                None => found.missing.push((
                    output.output_name.clone(),
                    component.name.clone(),
                    candidates.into_iter().map(|(data, _)| data).collect(),
                )),
            }
        }
        if inputs.len() == output.inputs.len() {
            found.variables.push(RequestVariable {
                name: output.output_name.clone(),
                inputs,
            });
        }
    }
    found
}
