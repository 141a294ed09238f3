//! The time-invariant native GRID_GEOMETRY granule
//! (`GRID_GEOMETRY_ECCO_<version>_native_<label>.nc`): the grid as ECCO publishes it
//! (coordinates and cell bounds, areas, lengths, rotation, depths, `hFacC/W/S`, masks; the
//! layout of [`edp_grid::Grid::write_netcdf`]) with ECCO's attributes: the native geometry
//! metadata for the data variables, the native coordinate metadata for the coordinates, and
//! the global metadata with the PO.DAAC identifiers of the GEOMETRY dataset.
//!
//! The granule has no time axis: `time_coverage_start`/`end` are the model run's, and there
//! is no `time_coverage_duration`/`resolution`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use edp_conventions::attrs::{
    AttrError, AttrValue, Attrs, DynamicMetadata, GranuleContext, coordinate_attributes,
    global_attributes, run_coverage_metadata, set_attr, variable_attributes,
};
use edp_conventions::naming::time_invariant_file_name;
use edp_conventions::{Dimension, Frequency, ProductType};

use crate::atomic::AtomicFile;
use crate::error::{Result, nc_err};
use crate::nc;
use crate::resources::Resources;

/// Granule prefix of the grid-geometry datasets.
pub const GEOMETRY_PREFIX: &str = "GRID_GEOMETRY";

/// What [`write_native_geometry`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct GeometryReport {
    /// The granule.
    pub path: PathBuf,
    /// Its file name (`product_name`).
    pub granule_name: String,
    /// Data variables with ECCO geometry attributes.
    pub variables: Vec<String>,
    /// Size in bytes.
    pub bytes: u64,
    /// Wall time.
    pub seconds: f64,
}

/// `GRID_GEOMETRY_ECCO_<version>_<product>_<label>.nc`.
pub fn geometry_file_name(ecco_version: &str, product: ProductType, grid_label: &str) -> String {
    time_invariant_file_name(GEOMETRY_PREFIX, ecco_version, product, grid_label)
}

/// The global attributes of a time-invariant granule of `product` whose data variables are
/// `variables`, from its dynamic metadata (the model run's coverage, the summary).
pub(crate) fn time_invariant_globals(
    resources: &Resources,
    product: ProductType,
    product_name: &str,
    dynamic: &DynamicMetadata,
    variables: &[String],
) -> Result<Attrs> {
    let config = &resources.config;
    let uuid = uuid::Uuid::new_v4().to_string();
    let ctx = GranuleContext {
        product,
        // Not used by the global attributes of a granule without a time axis.
        frequency: Frequency::AvgMon,
        product_name,
        dynamic,
        variables,
        date_created: chrono::Utc::now().naive_utc(),
        uuid: &uuid,
    };
    let mut globals = global_attributes(&resources.catalog, config, &ctx)?;
    globals
        .retain(|(name, _)| name != "time_coverage_duration" && name != "time_coverage_resolution");
    Ok(globals)
}

/// The V4r5 geometry variable that MITgcm's `Depth.data` holds.
const OCEAN_COLUMN_THICKNESS: &str = "ocean_column_thickness";

/// The integer index coordinates of the native grid.
const INDEX_COORDINATES: [&str; 9] = ["i", "i_g", "j", "j_g", "k", "k_u", "k_l", "k_p1", "tile"];

/// Writes the native GRID_GEOMETRY granule of the resources' grid into directory `out_dir`
/// (atomically: the file appears complete or not at all). Needs the native geometry
/// metadata of the catalog.
pub fn write_native_geometry(resources: &Resources, out_dir: &Path) -> Result<GeometryReport> {
    let started = Instant::now();
    let config = &resources.config;
    let catalog = &resources.catalog;
    let product = ProductType::Native;
    let granule_name =
        geometry_file_name(&config.ecco_version, product, config.grid_label(product));
    let geometry = catalog.geometry_metadata(product)?;
    let atomic = AtomicFile::new(&out_dir.join(&granule_name))?;
    let path = atomic.temp_path().to_path_buf();
    resources.grid.write_netcdf(&path)?;

    let mut file = netcdf::append(&path).map_err(nc_err(&path, "reopen"))?;
    if geometry.find(OCEAN_COLUMN_THICKNESS).is_some()
        && file.variable(OCEAN_COLUMN_THICKNESS).is_none()
    {
        // MITgcm writes the ocean column thickness to `Depth.data` (ECCO's V4r5 geometry
        // metadata says so): exact, also under ice shelves. (A grid with an ice-shelf draft
        // wrote it already, with the draft.)
        let depth = nc::to_f32(&resources.grid.depth);
        let mut var = file
            .add_variable::<f32>(OCEAN_COLUMN_THICKNESS, &["tile", "j", "i"])
            .map_err(nc_err(&path, "add ocean_column_thickness"))?;
        var.set_compression(5, true)
            .map_err(nc_err(&path, "compress ocean_column_thickness"))?;
        var.put_values(&depth, ..)
            .map_err(nc_err(&path, "write ocean_column_thickness"))?;
    }
    let names: Vec<String> = file.variables().map(|v| v.name()).collect();
    let mut data_variables = Vec::new();
    for name in &names {
        let attrs = if geometry.find(name).is_some() {
            data_variables.push(name.clone());
            variable_attributes(catalog, product, name)?
        } else {
            match coordinate_attributes(catalog, product, name) {
                // The index coordinates of the native grid carry no `axis`, as in every
                // native granule (see `native::index_coordinate_attributes`).
                Ok(attrs) if INDEX_COORDINATES.contains(&name.as_str()) => {
                    crate::native::index_coordinate_attributes(attrs)
                }
                Ok(attrs) => attrs,
                // Index coordinates the coordinate metadata does not describe keep none.
                Err(AttrError::CoordinateMetadataMissing { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        nc::put_variable_attributes(&mut file, &path, name, &attrs)?;
    }
    let summary = format!(
        "This dataset provides geometric parameters{}",
        config.dataset_description_tail(product)
    );
    let summary = summary.split_whitespace().collect::<Vec<_>>().join(" ");
    let dynamic = run_coverage_metadata(&granule_name, Dimension::ThreeD, summary, config);
    let mut globals =
        time_invariant_globals(resources, product, &granule_name, &dynamic, &data_variables)?;
    if !resources.grid.corners.is_exact() {
        set_attr(
            &mut globals,
            "edp_grid_corners",
            AttrValue::Str(resources.grid.corners.provenance()),
        );
    }
    set_attr(
        &mut globals,
        "edp_software_version",
        AttrValue::Str(env!("CARGO_PKG_VERSION").into()),
    );
    set_attr(
        &mut globals,
        "edp_config_hash",
        AttrValue::Str(config.config_hash()),
    );
    nc::put_global_attributes(&mut file, &path, &globals)?;
    file.close().map_err(nc_err(&path, "close"))?;
    let final_path = atomic.final_path().to_path_buf();
    let bytes = atomic.commit()?;
    if data_variables.len() != geometry.entries.len() {
        let missing: Vec<&str> = geometry
            .entries
            .iter()
            .map(|e| e.name.as_str())
            .filter(|n| !data_variables.iter().any(|d| d == n))
            .collect();
        tracing::warn!(
            granule = %granule_name,
            "geometry metadata lists variables the grid file does not have: {}",
            missing.join(", ")
        );
    }
    Ok(GeometryReport {
        path: final_path,
        granule_name,
        variables: data_variables,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}
