//! The time-invariant granules of groupings whose frequency is `TI`/`TIME-INVARIANT`: the
//! mixing coefficients (V4r4 `OCEAN_3D_MIXING_COEFFS_ECCO_V4r4_native_llc0090.nc`, V4r5
//! `OCEAN_MIXING_COEFFS_ECCO_V4r5_native_llc0090.nc` and their lat-lon counterparts): the 3-D
//! Gent-McWilliams (`KAPGM`), Redi (`KAPREDI`) and background vertical diffusivity (`DIFFKR`)
//! coefficients that the optimisation estimated, at cell centres, without a time axis.
//!
//! They are written from a [`GranuleRequest`] like every other granule ([`crate::produce_granule`]
//! dispatches here on [`Frequency::TimeInvariant`]), so a task planned from a job-file line
//! `[20, 'native', 'TI', 'all']` and `edp time-invariant --params DIR` take the same path.
//! Input: one 3-D LLC record per field as an MDS pair, any precision, big-endian as MITgcm
//! writes; below a source root at `time_invariant/<FIELD>/<FIELD>.{data,meta}`, in a
//! parameter folder at `<DIR>/<FIELD>.{data,meta}` (`docs/time-invariant.md`). Native: land
//! (the grid's `maskC`) is fill; lat-lon: the fields are regridded level by level with the
//! resources' weights, targets without a wet source are fill.

use std::path::Path;
use std::time::Instant;

use edp_conventions::attrs::{
    AttrError, AttrValue, Attrs, coordinate_attributes, set_attr, variable_attributes,
    variable_coordinates,
};
use edp_conventions::catalog::{Dataset, GroupingFrequency};
use edp_conventions::staggering::{Horizontal, Vertical};
use edp_conventions::{Frequency, ProductType};

use crate::atomic::AtomicFile;
use crate::encoding::{ValueStats, mask_and_fill};
use crate::error::{GranuleError, Result, nc_err};
use crate::fields::{InputDigest, load_input};
use crate::geometry::time_invariant_globals;
use crate::input::{InputSource, LocalFiles};
use crate::metadata::{PlannedVariable, provenance_attributes, repair_provenance};
use crate::native::index_coordinate_attributes;
use crate::nc;
use crate::produce::produce_granule;
use crate::report::{GranuleReport, Timings, VariableReport};
use crate::request::{GranuleRequest, InputRef, RequestVariable};
use crate::resources::Resources;
use crate::skeleton;

/// The time-invariant groupings of `product` (e.g. V4r4 native 20, V4r5 native 13 and lat-lon
/// 13).
pub fn time_invariant_groupings(
    resources: &Resources,
    product: ProductType,
) -> Result<Vec<Dataset>> {
    let catalog = &resources.catalog;
    let mut out = Vec::new();
    for g in catalog.groupings(product)? {
        // The resolved frequencies: a grouping added from the PO.DAAC table has its `TI` there.
        let dataset = catalog.dataset(product, g.id as i64)?;
        if dataset
            .frequencies
            .contains(&GroupingFrequency::TimeInvariant)
        {
            out.push(dataset);
        }
    }
    Ok(out)
}

/// The request for the granule of time-invariant grouping `dataset` from the parameter
/// fields in folder `params_dir` (`<params_dir>/<FIELD>.data` and `.meta`).
pub fn parameter_request(
    resources: &Resources,
    dataset: &Dataset,
    params_dir: &Path,
) -> Result<GranuleRequest> {
    let variables = dataset
        .variables
        .iter()
        .map(|variable| {
            let inputs = variable
                .inputs
                .iter()
                .map(|input| {
                    let stem = params_dir.join(&input.name).display().to_string();
                    InputRef::new(format!("{stem}.data"), format!("{stem}.meta"))
                })
                .collect();
            RequestVariable {
                name: variable.output_name.clone(),
                inputs,
            }
        })
        .collect();
    GranuleRequest::new(
        &resources.catalog,
        &resources.config,
        dataset.product,
        dataset.grouping_id,
        Frequency::TimeInvariant,
        0,
        variables,
    )
}

/// Writes the granule of time-invariant grouping `dataset` (native or lat-lon, by its product
/// type) from the parameter fields in `params_dir` into directory `out_dir`
/// (`edp time-invariant --params`). Lat-lon needs [`Resources::weights`].
pub fn write_from_parameters(
    resources: &Resources,
    dataset: &Dataset,
    params_dir: &Path,
    out_dir: &Path,
) -> Result<GranuleReport> {
    let request = parameter_request(resources, dataset, params_dir)?;
    let out_path = out_dir.join(&request.granule_name);
    produce_granule(&request, resources, &LocalFiles::new(), &out_path)
}

/// One parameter field read and checked: the output variable, its diagnostic and values in
/// tile order `[k][t][j][i]`.
pub(crate) struct ParameterField {
    pub name: String,
    pub diagnostic: String,
    pub values: Vec<f32>,
}

/// What a time-invariant writer wrote.
pub(crate) struct InvariantFile {
    /// Size in bytes.
    pub bytes: u64,
    /// The granule's `uuid`.
    pub uuid: String,
    /// One report per data variable.
    pub variables: Vec<VariableReport>,
}

/// Writes the time-invariant granule of `request` (frequency `TI`) to `out_path` atomically:
/// reads and checks each field (3-D, cell centres), then the native or lat-lon layout.
pub(crate) fn write_time_invariant(
    request: &GranuleRequest,
    dataset: &Dataset,
    planned: &[PlannedVariable<'_>],
    resources: &Resources,
    source: &dyn InputSource,
    out_path: &Path,
    started: Instant,
) -> Result<GranuleReport> {
    let grid = &resources.grid;
    let mut digests: Vec<InputDigest> = Vec::with_capacity(2 * planned.len());
    let mut fields = Vec::with_capacity(planned.len());
    for pv in planned {
        let name = pv.output.output_name.as_str();
        let (Some(component), [input]) = (pv.output.inputs.first(), pv.inputs) else {
            return Err(GranuleError::InvalidTask {
                granule: request.granule_name.clone(),
                reason: format!(
                    "time-invariant variable {name}: expected one input, found {}",
                    pv.inputs.len()
                ),
            });
        };
        let location = component.location;
        if location.horizontal != Horizontal::Centre || location.vertical != Vertical::K {
            return Err(GranuleError::Unsupported {
                what: format!("time-invariant variable {name}"),
                reason: format!("it lives at {location}; only 3-D cell-centre fields are written"),
            });
        }
        let decoded = load_input(name, component, input, grid, None, source)?;
        digests.push(decoded.data);
        digests.push(decoded.meta_digest);
        fields.push(ParameterField {
            name: name.to_string(),
            diagnostic: component.name.clone(),
            values: decoded.field.data,
        });
    }
    let read_seconds = started.elapsed().as_secs_f64();

    let write_started = Instant::now();
    let mut extra = provenance_attributes(request, &resources.config, &digests);
    extra.extend(repair_provenance(request, dataset, grid));
    let written = match request.product {
        ProductType::Native => write_native_file(request, resources, fields, extra, out_path)?,
        ProductType::Latlon => {
            crate::latlon_invariant::write_mixing_file(request, resources, fields, extra, out_path)?
        }
    };
    Ok(GranuleReport {
        path: out_path.to_path_buf(),
        granule_name: request.granule_name.clone(),
        product: request.product,
        frequency: request.frequency,
        bytes: written.bytes,
        uuid: written.uuid,
        variables: written.variables,
        inputs: digests,
        timings: Timings {
            read_seconds,
            write_seconds: write_started.elapsed().as_secs_f64(),
            total_seconds: started.elapsed().as_secs_f64(),
        },
        warnings: Vec::new(),
    })
}

/// The `uuid` global attribute of `globals` (empty when there is none).
pub(crate) fn uuid_of(globals: &Attrs) -> String {
    globals
        .iter()
        .find_map(|(name, value)| match value {
            AttrValue::Str(s) if name == "uuid" => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// The native layout: dims `i, i_g, j, j_g, k, k_u, k_l, k_p1, tile, nb, nv`, the native
/// coordinates and bounds, data `[k, tile, j, i]` with land as fill.
fn write_native_file(
    request: &GranuleRequest,
    resources: &Resources,
    fields: Vec<ParameterField>,
    extra_globals: Attrs,
    out_path: &Path,
) -> Result<InvariantFile> {
    let grid = &resources.grid;
    let config = &resources.config;
    let catalog = &resources.catalog;
    let (n, nz) = (grid.n, grid.nz);
    let names: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
    let mut globals = time_invariant_globals(
        resources,
        ProductType::Native,
        &request.granule_name,
        &request.dynamic,
        &names,
    )?;
    for (name, value) in extra_globals {
        set_attr(&mut globals, &name, value);
    }
    let uuid = uuid_of(&globals);

    let coord = |name: &str| -> Result<Attrs> {
        match coordinate_attributes(catalog, ProductType::Native, name) {
            Ok(a) => Ok(a),
            Err(AttrError::CoordinateMetadataMissing { .. }) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    };
    let atomic = AtomicFile::new(out_path)?;
    let path = atomic.temp_path().to_path_buf();
    let mut file = netcdf::create(&path).map_err(nc_err(&path, "create"))?;
    let index_dims = [
        ("i", n),
        ("i_g", n),
        ("j", n),
        ("j_g", n),
        ("k", nz),
        ("k_u", nz),
        ("k_l", nz),
        ("k_p1", nz + 1),
        ("tile", 13),
    ];
    let mut dims = index_dims.to_vec();
    dims.extend([("nb", 4), ("nv", 2)]);
    nc::add_dimensions(&mut file, &path, &dims)?;
    for (name, len) in index_dims {
        let attrs = index_coordinate_attributes(coord(name)?);
        nc::define_coordinate::<i32>(&mut file, &path, name, &[name], &attrs)?;
        let index: Vec<i32> = (0..len)
            .map(|v| i32::try_from(v).unwrap_or(i32::MAX))
            .collect();
        nc::put_values(&mut file, &path, name, &index)?;
    }
    let z_bnds: Vec<f64> = grid.rf.windows(2).flat_map(|w| [w[0], w[1]]).collect();
    let coords: [(&str, &[&str], Vec<f64>); 11] = [
        ("XC", &["tile", "j", "i"], grid.xc.clone()),
        ("YC", &["tile", "j", "i"], grid.yc.clone()),
        ("XG", &["tile", "j_g", "i_g"], grid.xg.clone()),
        ("YG", &["tile", "j_g", "i_g"], grid.yg.clone()),
        ("Z", &["k"], grid.rc.clone()),
        ("Zp1", &["k_p1"], grid.rf.clone()),
        ("Zu", &["k_u"], grid.rf[1..].to_vec()),
        ("Zl", &["k_l"], grid.rf[..nz].to_vec()),
        ("XC_bnds", &["tile", "j", "i", "nb"], grid.xc_bnds()),
        ("YC_bnds", &["tile", "j", "i", "nb"], grid.yc_bnds()),
        ("Z_bnds", &["k", "nv"], z_bnds),
    ];
    for (name, dims, values) in coords {
        nc::define_coordinate::<f32>(&mut file, &path, name, dims, &coord(name)?)?;
        nc::put_values(&mut file, &path, name, &nc::to_f32(&values))?;
    }
    let data_dims = ["k", "tile", "j", "i"];
    let shape = [nz, 13, n, n];
    let level = grid.cells();
    let mut reports = Vec::with_capacity(fields.len());
    for field in fields {
        let ParameterField {
            name,
            diagnostic,
            mut values,
        } = field;
        if grid.mask_c.len() < values.len() {
            return Err(GranuleError::GridMismatch {
                what: format!("maskC for {name}"),
                expected: format!("at least {} values", values.len()),
                found: format!("{} values", grid.mask_c.len()),
            });
        }
        let stats: ValueStats =
            mask_and_fill(&mut values, level, |k, i| grid.mask_c[k * level + i]);
        let mut attrs = variable_attributes(catalog, ProductType::Native, &name)?;
        attrs.extend(skeleton::valid_range(&stats));
        if let Some(coordinates) = variable_coordinates(ProductType::Native, &data_dims) {
            set_attr(&mut attrs, "coordinates", AttrValue::Str(coordinates));
        }
        let chunks = nc::define_data_variable(
            &mut file,
            &path,
            &name,
            &data_dims,
            &shape,
            &config.compression,
            &attrs,
        )?;
        nc::put_values(&mut file, &path, &name, &values)?;
        reports.push(skeleton::variable_report(
            &name,
            vec![diagnostic],
            &data_dims,
            chunks,
            &stats,
        ));
    }
    nc::put_global_attributes(&mut file, &path, &globals)?;
    file.close().map_err(nc_err(&path, "close"))?;
    let bytes = atomic.commit()?;
    Ok(InvariantFile {
        bytes,
        uuid,
        variables: reports,
    })
}
