//! The time-invariant lat-lon datasets: GRID_GEOMETRY (`GRID_GEOMETRY_ECCO_<v>_latlon_<label>.nc`)
//! and the mixing coefficients, on the configuration's lat-lon grid with the resources'
//! weights.
//!
//! GEOMETRY holds what ECCO's lat-lon geometry metadata lists: `Depth` (the bin-average of the
//! native depths of the wet sources at the surface level, as every lat-lon field is made),
//! `area` (the exact spherical area of each target cell, `R^2 dlon (sin lat2 - sin lat1)`),
//! `drC`, `drF` (the native vertical grid), `hFacC` (regridded level by level) and `maskC`
//! (the targets with wet sources, level by level), with the lat-lon coordinates and bounds.
//! As ECCO says of its own file: the domain fields are interpolated, approximations of the
//! native ones.

use std::path::{Path, PathBuf};

use edp_conventions::attrs::{
    AttrError, AttrValue, Attrs, coordinate_attributes, geometry_attributes, set_attr,
    variable_attributes,
};
use edp_conventions::catalog::Dataset;
use edp_conventions::{Catalog, ProductType};
use edp_grid::geometry::EARTH_RADIUS_M;
use edp_mds::{ByteOrder, FieldSelector, MdsFile};
use edp_regrid::Weights;

use crate::atomic::AtomicFile;
use crate::error::{GranuleError, Result, nc_err};
use crate::geometry::{geometry_file_name, time_invariant_file_name, time_invariant_globals};
use crate::nc;
use crate::resources::Resources;

/// What a lat-lon time-invariant writer wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct LatlonInvariantReport {
    /// The granule.
    pub path: PathBuf,
    /// Its file name.
    pub granule_name: String,
    /// Data variables written.
    pub variables: Vec<String>,
    /// Size in bytes.
    pub bytes: u64,
}

/// The weights of the resources, checked against the grid.
fn weights(resources: &Resources) -> Result<&Weights> {
    let weights = resources
        .weights
        .as_deref()
        .ok_or_else(|| GranuleError::NoWeights {
            granule: "time-invariant lat-lon granule".into(),
        })?;
    let cells = resources.grid.cells();
    if weights.n_source() != cells || weights.n_levels() != resources.grid.nz {
        return Err(GranuleError::GridMismatch {
            what: "lat-lon weights".into(),
            expected: format!("{cells} source points, {} levels", resources.grid.nz),
            found: format!(
                "{} source points, {} levels",
                weights.n_source(),
                weights.n_levels()
            ),
        });
    }
    Ok(weights)
}

fn coordinate(catalog: &Catalog, name: &str) -> Result<Attrs> {
    match coordinate_attributes(catalog, ProductType::Latlon, name) {
        Ok(a) => Ok(a),
        Err(AttrError::CoordinateMetadataMissing { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// A lat-lon data variable: name, dims, values (fill instead of NaN).
type Field = (String, Vec<&'static str>, Vec<f32>);

/// Writes a lat-lon time-invariant granule with the coordinates and `fields`.
#[allow(clippy::too_many_arguments)]
fn write_file(
    resources: &Resources,
    weights: &Weights,
    out: &Path,
    granule_name: &str,
    summary: String,
    fields: Vec<Field>,
    attributes_of: &dyn Fn(&str) -> Result<Attrs, AttrError>,
    extra_globals: Attrs,
) -> Result<LatlonInvariantReport> {
    let grid = &resources.grid;
    let catalog = &resources.catalog;
    let config = &resources.config;
    let target = weights.target();
    let (ny, nx, nz) = (target.ny(), target.nx(), grid.nz);
    let names: Vec<String> = fields.iter().map(|(n, _, _)| n.clone()).collect();
    // GCMD keywords come from the variable metadata; the lat-lon geometry variables have none.
    let keyword_names: Vec<String> = names
        .iter()
        .filter(|n| {
            catalog
                .has_variable_metadata(ProductType::Latlon, n)
                .unwrap_or(false)
        })
        .cloned()
        .collect();
    let mut globals = time_invariant_globals(
        resources,
        ProductType::Latlon,
        granule_name,
        summary,
        &keyword_names,
    )?;
    for (name, value) in extra_globals {
        set_attr(&mut globals, &name, value);
    }
    let atomic = AtomicFile::new(&out.join(granule_name))?;
    let path = atomic.temp_path().to_path_buf();
    let mut file = netcdf::create(&path).map_err(nc_err(&path, "create"))?;
    nc::add_dimensions(
        &mut file,
        &path,
        &[
            ("Z", nz),
            ("Zp1", nz + 1),
            ("latitude", ny),
            ("longitude", nx),
            ("nv", 2),
        ],
    )?;
    let lat_bnds: Vec<f64> = (0..ny).flat_map(|iy| target.lat_bounds(iy)).collect();
    let lon_bnds: Vec<f64> = (0..nx).flat_map(|ix| target.lon_bounds(ix)).collect();
    let z_bnds: Vec<f64> = grid.rf.windows(2).flat_map(|w| [w[0], w[1]]).collect();
    let coords: [(&str, &[&str], Vec<f64>); 6] = [
        ("Z", &["Z"], grid.rc.clone()),
        ("latitude", &["latitude"], target.latitudes().to_vec()),
        ("longitude", &["longitude"], target.longitudes().to_vec()),
        ("Z_bnds", &["Z", "nv"], z_bnds),
        ("latitude_bnds", &["latitude", "nv"], lat_bnds),
        ("longitude_bnds", &["longitude", "nv"], lon_bnds),
    ];
    for (name, dims, values) in coords {
        nc::define_coordinate::<f32>(&mut file, &path, name, dims, &coordinate(catalog, name)?)?;
        nc::put_values(&mut file, &path, name, &nc::to_f32(&values))?;
    }
    for (name, dims, values) in &fields {
        let mut attrs = attributes_of(name)?;
        let (lo, hi) = values
            .iter()
            .filter(|v| **v != crate::FILL_F32 && v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        if lo <= hi {
            set_attr(&mut attrs, "valid_min", AttrValue::F32(lo));
            set_attr(&mut attrs, "valid_max", AttrValue::F32(hi));
        }
        let shape: Vec<usize> = dims
            .iter()
            .map(|d| match *d {
                "Z" => nz,
                "Zp1" => nz + 1,
                "latitude" => ny,
                _ => nx,
            })
            .collect();
        nc::define_data_variable(
            &mut file,
            &path,
            name,
            dims,
            &shape,
            &config.compression,
            &attrs,
        )?;
        nc::put_values(&mut file, &path, name, values)?;
    }
    nc::put_global_attributes(&mut file, &path, &globals)?;
    file.close().map_err(nc_err(&path, "close"))?;
    let final_path = atomic.final_path().to_path_buf();
    let bytes = atomic.commit()?;
    Ok(LatlonInvariantReport {
        path: final_path,
        granule_name: granule_name.to_string(),
        variables: names,
        bytes,
    })
}

/// NaN (no wet source) as the fill value.
fn filled(values: Vec<f32>) -> Vec<f32> {
    values
        .into_iter()
        .map(|v| if v.is_nan() { crate::FILL_F32 } else { v })
        .collect()
}

/// Writes the lat-lon GRID_GEOMETRY granule into directory `out_dir`.
pub fn write_latlon_geometry(
    resources: &Resources,
    out_dir: &Path,
) -> Result<LatlonInvariantReport> {
    let weights = weights(resources)?;
    let grid = &resources.grid;
    let config = &resources.config;
    let catalog = &resources.catalog;
    let geometry = catalog.geometry_metadata(ProductType::Latlon)?;
    let target = weights.target();
    let (ny, nx, nz) = (target.ny(), target.nx(), grid.nz);

    let depth = filled(weights.apply_level(0, &grid.depth)?);
    let r2 = EARTH_RADIUS_M * EARTH_RADIUS_M;
    let area: Vec<f32> = (0..ny)
        .flat_map(|iy| {
            let [s, n] = target.lat_bounds(iy);
            (0..nx).map(move |ix| {
                let [w, e] = target.lon_bounds(ix);
                (r2 * (e - w).to_radians() * (n.to_radians().sin() - s.to_radians().sin())) as f32
            })
        })
        .collect();
    let hfac = filled(weights.apply_3d(&grid.hfac_c[..nz * grid.cells()])?);
    let mut mask = Vec::with_capacity(nz * ny * nx);
    for k in 0..nz {
        mask.extend(
            weights
                .target_wet_mask(k)?
                .into_iter()
                .map(|wet| if wet { 1.0f32 } else { 0.0 }),
        );
    }
    let mut drc = grid.drc.clone();
    drc.push(grid.drf.last().copied().unwrap_or(0.0) / 2.0);
    let available: Vec<Field> = vec![
        ("Depth".into(), vec!["latitude", "longitude"], depth),
        ("area".into(), vec!["latitude", "longitude"], area),
        ("drC".into(), vec!["Zp1"], nc::to_f32(&drc)),
        ("drF".into(), vec!["Z"], nc::to_f32(&grid.drf)),
        ("hFacC".into(), vec!["Z", "latitude", "longitude"], hfac),
        ("maskC".into(), vec!["Z", "latitude", "longitude"], mask),
    ];
    // What the release's geometry metadata lists, in its order.
    let mut fields = Vec::new();
    let mut rest = available;
    for entry in &geometry.entries {
        if let Some(pos) = rest.iter().position(|(n, _, _)| *n == entry.name) {
            fields.push(rest.remove(pos));
        } else {
            return Err(GranuleError::Unsupported {
                what: format!("lat-lon geometry variable {}", entry.name),
                reason: format!(
                    "{} lists it; edp writes Depth, area, drC, drF, hFacC, maskC",
                    geometry.path.display()
                ),
            });
        }
    }
    let granule_name = geometry_file_name(
        &config.ecco_version,
        ProductType::Latlon,
        config.grid_label(ProductType::Latlon),
    );
    let summary = format!(
        "This dataset provides geometric parameters{}",
        config.dataset_description_tail(ProductType::Latlon)
    );
    let summary = summary.split_whitespace().collect::<Vec<_>>().join(" ");
    let attributes_of = |name: &str| geometry_attributes(catalog, ProductType::Latlon, name);
    write_file(
        resources,
        weights,
        out_dir,
        &granule_name,
        summary,
        fields,
        &attributes_of,
        Vec::new(),
    )
}

/// Writes the lat-lon granule of time-invariant grouping `dataset` (3-D cell-centre
/// parameter fields read from `params_dir`, as for [`crate::mixing::write_native_mixing`])
/// into directory `out_dir`.
pub fn write_latlon_mixing(
    resources: &Resources,
    dataset: &Dataset,
    params_dir: &Path,
    out_dir: &Path,
) -> Result<LatlonInvariantReport> {
    let weights = weights(resources)?;
    let grid = &resources.grid;
    let config = &resources.config;
    let nz = grid.nz;
    let mut fields = Vec::new();
    let mut inputs = Vec::new();
    for variable in &dataset.variables {
        let input = &variable.inputs[0];
        let stem = params_dir.join(&input.name);
        let field =
            MdsFile::open(&stem, ByteOrder::Big)?.read_tiles::<f32>(&FieldSelector::Record(0))?;
        if field.n != grid.n || field.nz != nz {
            return Err(GranuleError::GridMismatch {
                what: format!("parameter field {}", stem.display()),
                expected: format!("N = {}, {nz} levels (the grid)", grid.n),
                found: format!("N = {}, {} levels", field.n, field.nz),
            });
        }
        let values = filled(weights.apply_3d(&field.data)?);
        fields.push((
            variable.output_name.clone(),
            vec!["Z", "latitude", "longitude"],
            values,
        ));
        inputs.push(stem.display().to_string());
    }
    let granule_name = time_invariant_file_name(
        &dataset.filename,
        &config.ecco_version,
        ProductType::Latlon,
        config.grid_label(ProductType::Latlon),
    );
    let summary = format!(
        "This dataset provides {}{}",
        dataset.name,
        config.dataset_description_tail(ProductType::Latlon)
    );
    let summary = summary.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut extra: Attrs = vec![("edp_input_files".into(), AttrValue::Strs(inputs))];
    if !dataset.repairs.is_empty() {
        extra.push((
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
    let catalog = &resources.catalog;
    let attributes_of = |name: &str| variable_attributes(catalog, ProductType::Latlon, name);
    write_file(
        resources,
        weights,
        out_dir,
        &granule_name,
        summary,
        fields,
        &attributes_of,
        extra,
    )
}
