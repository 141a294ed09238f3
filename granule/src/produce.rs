//! "Produce one granule from one task": the entry point of the batch worker and of
//! `edp granule`. Resolves the request against the catalog, then dispatches on the product
//! type (time-invariant requests to [`crate::mixing`]).

use std::path::Path;
use std::time::Instant;

use edp_conventions::ProductType;
use edp_task_schemas::Task;

use crate::error::Result;
use crate::input::InputSource;
use crate::latlon::write_latlon;
use crate::metadata::plan_variables;
use crate::mixing::write_time_invariant;
use crate::native::write_native;
use crate::report::GranuleReport;
use crate::request::GranuleRequest;
use crate::resources::Resources;

/// Produces the granule of `request` at `out_path` (a local file; its directory is created;
/// the file appears only when complete) and reports what was written.
///
/// Lat-lon granules need [`Resources::weights`] (see [`crate::ResourceCache::weights`]).
/// Inputs are read from `inputs` by the locations in the request. Errors say whether a
/// retry can help ([`crate::GranuleError::kind`]); on any error no file exists at `out_path` (an
/// older file there is left untouched).
pub fn produce_granule(
    request: &GranuleRequest,
    resources: &Resources,
    inputs: &dyn InputSource,
    out_path: &Path,
) -> Result<GranuleReport> {
    let started = Instant::now();
    let dataset = resources
        .catalog
        .dataset(request.product, request.grouping_id as i64)?;
    let planned = plan_variables(request, &dataset)?;
    let mut report = match request.product {
        _ if request.frequency.is_time_invariant() => write_time_invariant(
            request, &dataset, &planned, resources, inputs, out_path, started,
        ),
        ProductType::Native => write_native(
            request, &dataset, &planned, resources, inputs, out_path, started,
        ),
        ProductType::Latlon => write_latlon(
            request, &dataset, &planned, resources, inputs, out_path, started,
        ),
    }?;
    for variable in &report.variables {
        if variable.infinite_values > 0 {
            report.warnings.push(format!(
                "variable {}: {} infinite (±Inf) input values written as fill",
                variable.name, variable.infinite_values
            ));
        }
    }
    Ok(report)
}

/// [`produce_granule`] for a task of a task list (resolved with
/// [`GranuleRequest::from_task`] against the resources' catalog).
pub fn produce_task(
    task: &Task,
    resources: &Resources,
    inputs: &dyn InputSource,
    out_path: &Path,
) -> Result<GranuleReport> {
    let request = GranuleRequest::from_task(task, &resources.catalog)?;
    produce_granule(&request, resources, inputs, out_path)
}
