//! What the native and lat-lon writers share around their own layouts: the global attributes
//! prepared before the file exists, the temporary file, the valid range and report of a
//! finished variable, and the last steps (provenance, close, direct chunks, commit, report).
//!
//! Each writer keeps what differs: its dimensions, the order of its definitions, its coordinate
//! values and how its data arrive (one decoded field at a time on the native grid, regridded
//! slabs from a producer thread on the lat-lon grid).

use std::path::{Path, PathBuf};
use std::time::Instant;

use edp_conventions::attrs::{AttrValue, Attrs, global_coordinates};
use edp_conventions::catalog::Dataset;
use netcdf::FileMut;

use crate::atomic::AtomicFile;
use crate::chunk_encoding::PendingChunks;
use crate::encoding::ValueStats;
use crate::error::{Result, nc_err};
use crate::fields::InputDigest;
use crate::metadata::{
    TimeAxis, granule_global_attributes, provenance_attributes, repair_provenance, time_axis,
};
use crate::nc;
use crate::report::{GranuleReport, Timings, VariableReport};
use crate::request::GranuleRequest;
use crate::resources::Resources;

/// What is known before the file is created: the time values, the warnings about them, the
/// granule's uuid and its global attributes without the provenance (which needs the inputs'
/// hashes, known only once they are read).
pub(crate) struct Prologue {
    /// `time` and `time_bnds` values.
    pub axis: TimeAxis,
    /// Differences between the task's times and the ones recomputed from the step.
    pub warnings: Vec<String>,
    /// The granule's `uuid`.
    pub uuid: String,
    /// Output variable names in writing order.
    pub names: Vec<String>,
    /// ECCO's global attributes, then the global `coordinates` when there is one.
    pub globals: Attrs,
}

/// The [`Prologue`] of a granule whose data variables are `variables` (output name and
/// attributes, the per-variable `coordinates` last when the variable has one).
pub(crate) fn prologue(
    request: &GranuleRequest,
    dataset: &Dataset,
    resources: &Resources,
    variables: &[(&str, &Attrs)],
) -> Result<Prologue> {
    let config = &resources.config;
    let (axis, warnings) = time_axis(request, config)?;
    for warning in &warnings {
        tracing::warn!(granule = %request.granule_name, "{warning}");
    }
    let names: Vec<String> = variables.iter().map(|(n, _)| n.to_string()).collect();
    let uuid = uuid::Uuid::new_v4().to_string();
    let created = chrono::Utc::now().naive_utc();
    let mut globals =
        granule_global_attributes(&resources.catalog, config, request, &names, &uuid, created)?;
    let var_coords: Vec<&str> = variables
        .iter()
        .filter_map(|(_, attrs)| match attrs.last() {
            Some((n, AttrValue::Str(c))) if n == "coordinates" => Some(c.as_str()),
            _ => None,
        })
        .collect();
    if let Some(coords) = global_coordinates(
        request.product,
        dataset.dimension,
        request.frequency,
        &var_coords,
    ) {
        globals.push(("coordinates".into(), AttrValue::Str(coords)));
    }
    Ok(Prologue {
        axis,
        warnings,
        uuid,
        names,
        globals,
    })
}

/// A granule being written under its temporary name.
pub(crate) struct OpenGranule {
    /// The temporary file and the final name it is committed to.
    pub atomic: AtomicFile,
    /// The temporary file's path (what netCDF-C and HDF5 open).
    pub path: PathBuf,
    /// The open file, in define mode.
    pub file: FileMut,
}

/// Creates the temporary file of the granule at `out_path` with the dimensions `dims`.
pub(crate) fn create(out_path: &Path, dims: &[(&str, usize)]) -> Result<OpenGranule> {
    let atomic = AtomicFile::new(out_path)?;
    let path = atomic.temp_path().to_path_buf();
    let mut file = netcdf::create(&path).map_err(nc_err(&path, "create"))?;
    nc::add_dimensions(&mut file, &path, dims)?;
    Ok(OpenGranule { atomic, path, file })
}

/// `valid_min`/`valid_max` of a finished variable (none when it holds no valid value).
pub(crate) fn valid_range(stats: &ValueStats) -> Attrs {
    match (stats.min, stats.max) {
        (Some(min), Some(max)) => vec![
            ("valid_min".into(), AttrValue::F32(min)),
            ("valid_max".into(), AttrValue::F32(max)),
        ],
        _ => Vec::new(),
    }
}

/// The report of one written variable.
pub(crate) fn variable_report(
    name: &str,
    diagnostics: Vec<String>,
    dims: &[&str],
    chunks: Vec<usize>,
    stats: &ValueStats,
) -> VariableReport {
    VariableReport {
        name: name.to_string(),
        diagnostics,
        dims: dims.iter().map(|d| d.to_string()).collect(),
        chunks,
        valid_min: stats.min,
        valid_max: stats.max,
        valid_values: stats.valid,
        fill_values: stats.filled,
        infinite_values: stats.infinite,
    }
}

/// What the data phase produced.
pub(crate) struct Written {
    /// Hashes of every input read.
    pub digests: Vec<InputDigest>,
    /// One report per variable.
    pub reports: Vec<VariableReport>,
    /// Compressed chunks waiting for the file to be closed (direct-chunk path).
    pub pending: PendingChunks,
    /// Seconds so far.
    pub timings: Timings,
}

/// The last steps: the global attributes (ECCO's, sorted case-insensitively, then the global
/// `coordinates`, then our provenance), close, the direct chunks, the commit under the final
/// name, and the report.
pub(crate) fn finish(
    granule: OpenGranule,
    request: &GranuleRequest,
    dataset: &Dataset,
    resources: &Resources,
    prologue: Prologue,
    written: Written,
    started: Instant,
) -> Result<GranuleReport> {
    let OpenGranule {
        atomic,
        path,
        mut file,
    } = granule;
    let Prologue {
        uuid,
        warnings,
        mut globals,
        ..
    } = prologue;
    let Written {
        digests,
        reports,
        pending,
        mut timings,
    } = written;
    let write_started = Instant::now();
    globals.extend(provenance_attributes(request, &resources.config, &digests));
    globals.extend(repair_provenance(request, dataset, &resources.grid));
    nc::put_global_attributes(&mut file, &path, &globals)?;
    file.close().map_err(nc_err(&path, "close"))?;
    pending.write(&path)?;
    timings.write_seconds += write_started.elapsed().as_secs_f64();

    let final_path = atomic.final_path().to_path_buf();
    let bytes = atomic.commit()?;
    timings.total_seconds = started.elapsed().as_secs_f64();
    Ok(GranuleReport {
        path: final_path,
        granule_name: request.granule_name.clone(),
        product: request.product,
        frequency: request.frequency,
        bytes,
        uuid,
        variables: reports,
        inputs: digests,
        timings,
        warnings,
    })
}
