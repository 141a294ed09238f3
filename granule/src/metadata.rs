//! Granule-level decisions shared by the native and lat-lon writers: which of the grouping's
//! variables the request holds and in which order, the time axis, the global attributes and
//! our provenance attributes.

use chrono::NaiveDateTime;
use edp_conventions::attrs::{AttrValue, Attrs, GranuleContext, global_attributes};
use edp_conventions::catalog::{Dataset, OutputVariable};
use edp_conventions::naming::GranuleName;
use edp_conventions::time::parse_time;
use edp_conventions::{Catalog, ProductionConfig};

use crate::error::{GranuleError, Result};
use crate::fields::InputDigest;
use crate::request::{GranuleRequest, InputRef};

/// One output variable of the request with its catalog entry.
#[derive(Debug, Clone, Copy)]
pub struct PlannedVariable<'a> {
    /// The grouping's variable (name, input diagnostics and their staggering).
    pub output: &'a OutputVariable,
    /// The request's input components, one per entry of `output.inputs`.
    pub inputs: &'a [InputRef],
}

/// Checks the request against the grouping and returns its variables in the grouping's
/// order (EDP order: `fields` order with renamed variables last). A request may hold a
/// subset (partial granule), but no unknown variable, no duplicate and the right number of
/// components for each.
pub fn plan_variables<'a>(
    request: &'a GranuleRequest,
    dataset: &'a Dataset,
) -> Result<Vec<PlannedVariable<'a>>> {
    let invalid = |reason: String| GranuleError::InvalidTask {
        granule: request.granule_name.clone(),
        reason,
    };
    let name = GranuleName::parse(&request.granule_name)?;
    if name.prefix != dataset.filename
        || name.product != request.product
        || name.period.frequency() != request.frequency
    {
        return Err(invalid(format!(
            "the granule name says {} {} {}, the request says {} grouping {} ({}) {}",
            name.product,
            name.prefix,
            name.period.frequency(),
            request.product,
            request.grouping_id,
            dataset.filename,
            request.frequency
        )));
    }
    if !dataset.supports(request.frequency) {
        return Err(invalid(format!(
            "{} grouping {} ({}) is not produced at frequency {} (it lists {:?})",
            request.product,
            request.grouping_id,
            dataset.filename,
            request.frequency,
            dataset.frequencies
        )));
    }
    if request.dynamic.dimension != dataset.dimension {
        return Err(invalid(format!(
            "dynamic_metadata.dimension is {}, grouping {} ({}) is {}",
            request.dynamic.dimension, request.grouping_id, dataset.filename, dataset.dimension
        )));
    }
    if request.variables.is_empty() {
        return Err(invalid("the request has no variables".into()));
    }
    for (i, var) in request.variables.iter().enumerate() {
        if request.variables[..i].iter().any(|v| v.name == var.name) {
            return Err(invalid(format!("variable '{}' is listed twice", var.name)));
        }
        let Some(output) = dataset.variable(&var.name) else {
            return Err(GranuleError::UnknownVariable {
                granule: request.granule_name.clone(),
                variable: var.name.clone(),
                grouping: format!(
                    "{} grouping {} ({})",
                    request.product, request.grouping_id, dataset.filename
                ),
                expected: dataset.output_names().join(", "),
            });
        };
        if var.inputs.len() != output.inputs.len() {
            return Err(GranuleError::ComponentCount {
                granule: request.granule_name.clone(),
                variable: var.name.clone(),
                expected: output.inputs.len(),
                found: var.inputs.len(),
            });
        }
    }
    Ok(dataset
        .variables
        .iter()
        .filter_map(|output| {
            request
                .variables
                .iter()
                .find(|v| v.name == output.output_name)
                .map(|v| PlannedVariable {
                    output,
                    inputs: &v.inputs,
                })
        })
        .collect())
}

/// The encoded time axis of a granule: `time` and (averages) `time_bnds` in int32 hours since
/// the model start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeAxis {
    /// Centre of the averaging period, or the instant.
    pub time: i32,
    /// `[start, end]` for averages; `None` for SNAP.
    pub bounds: Option<[i32; 2]>,
}

/// The time axis from the request's dynamic metadata, which is authoritative (task lists
/// made by EDP carry EDP's times, docs/edp-compatibility.md 2.3); the values recomputed from the step are
/// compared and any difference is returned as a warning.
pub fn time_axis(
    request: &GranuleRequest,
    config: &ProductionConfig,
) -> Result<(TimeAxis, Vec<String>)> {
    let clock = &config.clock;
    let d = &request.dynamic;
    let hours = |text: &str, what: &'static str| -> Result<i32> {
        Ok(clock.hours_since_start(parse_time(text, what)?, what)?)
    };
    let time = hours(&d.time_coverage_center, "time_coverage_center")?;
    let bounds = if request.frequency.is_average() {
        Some([
            hours(&d.time_coverage_start, "time_coverage_start")?,
            hours(&d.time_coverage_end, "time_coverage_end")?,
        ])
    } else {
        None
    };
    let axis = TimeAxis { time, bounds };
    let period = clock.period(request.frequency, request.step)?;
    let computed = TimeAxis {
        time: period.time(),
        bounds: period.time_bnds(),
    };
    let mut warnings = Vec::new();
    if axis != computed {
        warnings.push(format!(
            "{}: dynamic metadata times (time {}, bounds {:?} h) differ from step {} \
             ({:?}, time {}, bounds {:?} h); the task's values are written",
            request.granule_name,
            axis.time,
            axis.bounds,
            request.step,
            request.frequency,
            computed.time,
            computed.bounds
        ));
    }
    Ok((axis, warnings))
}

/// The ECCO global attributes of the granule (sorted, without the global `coordinates`).
pub fn granule_global_attributes(
    catalog: &Catalog,
    config: &ProductionConfig,
    request: &GranuleRequest,
    variables: &[String],
    uuid: &str,
    created: NaiveDateTime,
) -> Result<Attrs> {
    let ctx = GranuleContext {
        product: request.product,
        frequency: request.frequency,
        product_name: &request.granule_name,
        dynamic: &request.dynamic,
        variables,
        date_created: created,
        uuid,
    };
    Ok(global_attributes(catalog, config, &ctx)?)
}

/// Provenance of what the granule owes to repairs and fallbacks: `edp_metadata_repairs`
/// (each known metadata defect of the dataset that a rule repaired, see
/// `edp_conventions::catalog::RepairKind`) and, for native granules whose cell corners were
/// partly extrapolated (no grid-geometry file, no `.mitgrid` value), `edp_grid_corners`
/// (`extrapolated: K of M outer corners ...: not exact`). Neither when nothing was repaired.
pub fn repair_provenance(
    request: &GranuleRequest,
    dataset: &Dataset,
    grid: &edp_grid::Grid,
) -> Attrs {
    let mut attrs: Attrs = Vec::new();
    if !dataset.repairs.is_empty() {
        attrs.push((
            "edp_metadata_repairs".into(),
            AttrValue::Strs(
                dataset
                    .repairs
                    .iter()
                    .map(|r| format!("{}: {}", r.kind.as_str(), r.detail))
                    .collect(),
            ),
        ));
    }
    if request.product == edp_conventions::ProductType::Native && !grid.corners.is_exact() {
        attrs.push((
            "edp_grid_corners".into(),
            AttrValue::Str(grid.corners.provenance()),
        ));
    }
    attrs
}

/// Our provenance attributes. All start with `edp_`, outside the CF and ACDD vocabularies,
/// so they never clash with ECCO's attributes:
///
/// | attribute | value |
/// |---|---|
/// | `edp_software_version` | version of this software |
/// | `edp_config_hash` | SHA-256 of the production configuration (canonical JSON) |
/// | `edp_task_id` | the task id, when the request came from a planned task |
/// | `edp_input_files` | every input location (`.data` and `.meta`), in variable order |
/// | `edp_input_sha256` | SHA-256 of each of those, same order |
/// | `edp_metadata_repairs`, `edp_grid_corners` | see [`repair_provenance`] |
pub fn provenance_attributes(
    request: &GranuleRequest,
    config: &ProductionConfig,
    digests: &[InputDigest],
) -> Attrs {
    let mut attrs: Attrs = vec![
        (
            "edp_software_version".into(),
            AttrValue::Str(env!("CARGO_PKG_VERSION").into()),
        ),
        (
            "edp_config_hash".into(),
            AttrValue::Str(config.config_hash()),
        ),
    ];
    if let Some(id) = &request.task_id {
        attrs.push(("edp_task_id".into(), AttrValue::Str(id.clone())));
    }
    attrs.push((
        "edp_input_files".into(),
        AttrValue::Strs(digests.iter().map(|d| d.location.clone()).collect()),
    ));
    attrs.push((
        "edp_input_sha256".into(),
        AttrValue::Strs(digests.iter().map(|d| d.sha256.clone()).collect()),
    ));
    attrs
}
