//! The time-invariant lat-lon datasets: GRID_GEOMETRY (`GRID_GEOMETRY_ECCO_<v>_latlon_<label>.nc`)
//! and the layout of the mixing coefficients ([`crate::mixing`]), on the configuration's
//! lat-lon grid with the resources' weights.
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
    AttrError, AttrValue, Attrs, DynamicMetadata, coordinate_attributes, geometry_attributes,
    run_coverage_metadata, set_attr, variable_attributes,
};
use edp_conventions::{Catalog, Dimension, ProductType};
use edp_grid::geometry::EARTH_RADIUS_M;
use edp_regrid::Weights;

use crate::atomic::AtomicFile;
use crate::encoding::fill_nan;
use crate::error::{GranuleError, Result, nc_err};
use crate::geometry::{geometry_file_name, time_invariant_globals};
use crate::mixing::{InvariantFile, ParameterField, uuid_of};
use crate::nc;
use crate::request::GranuleRequest;
use crate::resources::Resources;
use crate::skeleton;

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

/// What [`write_file`] wrote.
struct WrittenFile {
    bytes: u64,
    uuid: String,
    /// The chunk sizes of each field, in order.
    chunks: Vec<Vec<usize>>,
}

/// Writes a lat-lon time-invariant granule with the coordinates and `fields` to `out_path`
/// (atomically).
#[allow(clippy::too_many_arguments)]
fn write_file(
    resources: &Resources,
    weights: &Weights,
    out_path: &Path,
    granule_name: &str,
    dynamic: &DynamicMetadata,
    fields: Vec<Field>,
    attributes_of: &dyn Fn(&str) -> Result<Attrs, AttrError>,
    extra_globals: Attrs,
) -> Result<WrittenFile> {
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
        dynamic,
        &keyword_names,
    )?;
    for (name, value) in extra_globals {
        set_attr(&mut globals, &name, value);
    }
    let uuid = uuid_of(&globals);
    let atomic = AtomicFile::new(out_path)?;
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
    let mut chunks = Vec::with_capacity(fields.len());
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
        chunks.push(nc::define_data_variable(
            &mut file,
            &path,
            name,
            dims,
            &shape,
            &config.compression,
            &attrs,
        )?);
        nc::put_values(&mut file, &path, name, values)?;
    }
    nc::put_global_attributes(&mut file, &path, &globals)?;
    file.close().map_err(nc_err(&path, "close"))?;
    let bytes = atomic.commit()?;
    Ok(WrittenFile {
        bytes,
        uuid,
        chunks,
    })
}

/// Writes the lat-lon granule of a time-invariant `request` (see [`crate::mixing`]): each
/// (name, diagnostic, native values) field regridded level by level, targets without a wet
/// source as fill.
pub(crate) fn write_mixing_file(
    request: &GranuleRequest,
    resources: &Resources,
    fields: Vec<ParameterField>,
    extra_globals: Attrs,
    out_path: &Path,
) -> Result<InvariantFile> {
    let weights = weights(resources)?;
    let dims = vec!["Z", "latitude", "longitude"];
    let mut regridded = Vec::with_capacity(fields.len());
    let mut reported = Vec::with_capacity(fields.len());
    for ParameterField {
        name,
        diagnostic,
        values,
    } in fields
    {
        let mut values = weights.apply_3d(&values)?;
        let stats = fill_nan(&mut values);
        reported.push((name.clone(), diagnostic, stats));
        regridded.push((name, dims.clone(), values));
    }
    let catalog = &resources.catalog;
    let attributes_of = |name: &str| variable_attributes(catalog, ProductType::Latlon, name);
    let written = write_file(
        resources,
        weights,
        out_path,
        &request.granule_name,
        &request.dynamic,
        regridded,
        &attributes_of,
        extra_globals,
    )?;
    let variables = reported
        .into_iter()
        .zip(written.chunks)
        .map(|((name, diagnostic, stats), chunks)| {
            skeleton::variable_report(&name, vec![diagnostic], &dims, chunks, &stats)
        })
        .collect();
    Ok(InvariantFile {
        bytes: written.bytes,
        uuid: written.uuid,
        variables,
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

    // The seafloor depth, as the native `Depth` (below ice shelves: column + draft).
    let depth = filled(weights.apply_level(0, &grid.seafloor_depth())?);
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
    let dynamic = run_coverage_metadata(&granule_name, Dimension::ThreeD, summary, config);
    let attributes_of = |name: &str| geometry_attributes(catalog, ProductType::Latlon, name);
    let names = fields.iter().map(|(n, _, _)| n.clone()).collect();
    let path = out_dir.join(&granule_name);
    let written = write_file(
        resources,
        weights,
        &path,
        &granule_name,
        &dynamic,
        fields,
        &attributes_of,
        Vec::new(),
    )?;
    Ok(LatlonInvariantReport {
        path,
        granule_name,
        variables: names,
        bytes: written.bytes,
    })
}
