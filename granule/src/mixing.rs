//! The time-invariant native mixing-coefficient granule (V4r4
//! `OCEAN_3D_MIXING_COEFFS_ECCO_V4r4_native_llc0090.nc`, V4r5
//! `OCEAN_MIXING_COEFFS_ECCO_V4r5_native_llc0090.nc`): the 3-D Gent-McWilliams (`KAPGM`),
//! Redi (`KAPREDI`) and background vertical diffusivity (`DIFFKR`) coefficients that the
//! optimisation estimated, at cell centres, without a time axis.
//!
//! Input: the model's parameter fields as MDS pairs named after the grouping's fields
//! (`DIFFKR.meta/.data`, `KAPGM...`, `KAPREDI...`, one 3-D LLC record each, any precision and
//! the big-endian byte order MITgcm writes) in one folder, by default the grid directory.
//! Land (the grid's `maskC`) is written as fill.

use std::path::{Path, PathBuf};

use edp_conventions::ProductType;
use edp_conventions::attrs::{
    AttrError, AttrValue, Attrs, coordinate_attributes, set_attr, variable_attributes,
    variable_coordinates,
};
use edp_conventions::catalog::{Dataset, GroupingFrequency};
use edp_conventions::staggering::{Horizontal, Vertical};
use edp_mds::{ByteOrder, FieldSelector, MdsFile};

use crate::atomic::AtomicFile;
use crate::error::{GranuleError, Result, nc_err};
use crate::geometry::{time_invariant_file_name, time_invariant_globals};
use crate::nc;
use crate::resources::Resources;

/// What [`write_native_mixing`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct MixingReport {
    /// The granule.
    pub path: PathBuf,
    /// Its file name.
    pub granule_name: String,
    /// The variables written.
    pub variables: Vec<String>,
    /// Size in bytes.
    pub bytes: u64,
}

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

/// Writes the native time-invariant granule of `dataset` (3-D fields at cell centres) from
/// the parameter fields in `params_dir` into directory `out_dir`.
pub fn write_native_mixing(
    resources: &Resources,
    dataset: &Dataset,
    params_dir: &Path,
    out_dir: &Path,
) -> Result<MixingReport> {
    let grid = &resources.grid;
    let config = &resources.config;
    let catalog = &resources.catalog;
    let (n, nz) = (grid.n, grid.nz);
    let cells = 13 * n * n;
    let mut fields = Vec::new();
    for variable in &dataset.variables {
        let input = &variable.inputs[0];
        if input.location.horizontal != Horizontal::Centre || input.location.vertical != Vertical::K
        {
            return Err(GranuleError::Unsupported {
                what: format!("time-invariant variable {}", variable.output_name),
                reason: format!(
                    "it lives at {}; only 3-D cell-centre fields are written",
                    input.location
                ),
            });
        }
        let stem = params_dir.join(&input.name);
        let field =
            MdsFile::open(&stem, ByteOrder::Big)?.read_tiles::<f32>(&FieldSelector::Record(0))?;
        if field.n != n || field.nz != nz {
            return Err(GranuleError::GridMismatch {
                what: format!("parameter field {}", stem.display()),
                expected: format!("N = {n}, {nz} levels (the grid)"),
                found: format!("N = {}, {} levels", field.n, field.nz),
            });
        }
        let data: Vec<f32> = field
            .data
            .iter()
            .zip(&grid.mask_c)
            .map(|(v, wet)| if *wet { *v } else { crate::FILL_F32 })
            .collect();
        fields.push((variable.output_name.clone(), stem, data));
    }

    let granule_name = time_invariant_file_name(
        &dataset.filename,
        &config.ecco_version,
        ProductType::Native,
        config.grid_label(ProductType::Native),
    );
    let names: Vec<String> = fields.iter().map(|(n, _, _)| n.clone()).collect();
    let summary = format!(
        "This dataset provides {}{}",
        dataset.name,
        config.dataset_description_tail(ProductType::Native)
    );
    let summary = summary.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut globals = time_invariant_globals(
        resources,
        ProductType::Native,
        &granule_name,
        summary,
        &names,
    )?;
    if !dataset.repairs.is_empty() {
        set_attr(
            &mut globals,
            "edp_metadata_repairs",
            AttrValue::Strs(
                dataset
                    .repairs
                    .iter()
                    .map(|r| format!("{}: {}", r.kind.as_str(), r.detail))
                    .collect(),
            ),
        );
    }
    set_attr(
        &mut globals,
        "edp_input_files",
        AttrValue::Strs(
            fields
                .iter()
                .map(|(_, stem, _)| stem.display().to_string())
                .collect(),
        ),
    );

    let coord = |name: &str| -> Result<Attrs> {
        match coordinate_attributes(catalog, ProductType::Native, name) {
            Ok(a) => Ok(a),
            Err(AttrError::CoordinateMetadataMissing { .. }) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    };
    let atomic = AtomicFile::new(&out_dir.join(&granule_name))?;
    let path = atomic.temp_path().to_path_buf();
    let mut file = netcdf::create(&path).map_err(nc_err(&path, "create"))?;
    nc::add_dimensions(
        &mut file,
        &path,
        &[
            ("i", n),
            ("i_g", n),
            ("j", n),
            ("j_g", n),
            ("k", nz),
            ("k_u", nz),
            ("k_l", nz),
            ("k_p1", nz + 1),
            ("tile", 13),
            ("nb", 4),
            ("nv", 2),
        ],
    )?;
    for (name, len) in [
        ("i", n),
        ("i_g", n),
        ("j", n),
        ("j_g", n),
        ("k", nz),
        ("k_u", nz),
        ("k_l", nz),
        ("k_p1", nz + 1),
        ("tile", 13),
    ] {
        nc::define_coordinate::<i32>(&mut file, &path, name, &[name], &coord(name)?)?;
        let index: Vec<i32> = (0..len as i32).collect();
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
    for (name, _, data) in &fields {
        let mut attrs = variable_attributes(catalog, ProductType::Native, name)?;
        let (lo, hi) = data
            .iter()
            .filter(|v| **v != crate::FILL_F32 && v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        if lo <= hi {
            set_attr(&mut attrs, "valid_min", AttrValue::F32(lo));
            set_attr(&mut attrs, "valid_max", AttrValue::F32(hi));
        }
        if let Some(coordinates) =
            variable_coordinates(ProductType::Native, &["k", "tile", "j", "i"])
        {
            set_attr(&mut attrs, "coordinates", AttrValue::Str(coordinates));
        }
        nc::define_data_variable(
            &mut file,
            &path,
            name,
            &["k", "tile", "j", "i"],
            &[nz, 13, n, n],
            &config.compression,
            &attrs,
        )?;
        nc::put_values(&mut file, &path, name, data)?;
    }
    debug_assert!(fields.iter().all(|(_, _, d)| d.len() == nz * cells));
    nc::put_global_attributes(&mut file, &path, &globals)?;
    file.close().map_err(nc_err(&path, "close"))?;
    let final_path = atomic.final_path().to_path_buf();
    let bytes = atomic.commit()?;
    Ok(MixingReport {
        path: final_path,
        granule_name,
        variables: names,
        bytes,
    })
}
