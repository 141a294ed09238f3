//! The native-grid writer: one granule of a native grouping on the 13 LLC tiles, in the layout
//! of the released ECCO V4r4 granules (`docs/netcdf-layout.md` 3) and of the reference headers in
//! `docs/reference-cdl/*native*.cdl`.
//!
//! Structure (what `ncdump -h` shows):
//!
//! * dims `i, i_g, j, j_g, [k, k_u, k_l, k_p1,] tile, time, [nv,] nb` in that order; `nv`
//!   exists when something uses it (`time_bnds` of averages, `Z_bnds` of 3-D granules), as
//!   xarray writes it;
//! * variables `i, i_g, j, j_g, [k, k_u, k_l, k_p1,] tile, time, XC, YC, XG, YG,
//!   [Z, Zp1, Zu, Zl,]` the first data variable, `time_bnds` (averages), the other data
//!   variables, `XC_bnds, YC_bnds[, Z_bnds]`. `time_bnds` after the first data variable is an
//!   artefact of xarray's ordering in the reference files, kept so that headers compare
//!   line by line;
//! * int32 index coordinates and `time`/`time_bnds`; float32 coordinates; none of them
//!   compressed or with `_FillValue`; float32 data with `_FillValue`, deflate + shuffle and
//!   netCDF-C's default chunks written explicitly.
//!
//! Where the reference headers show EDP Gen C bugs we follow `docs/metadata.md` instead (the
//! global attributes come from `edp_conventions`): `coordinates_comment` instead of
//! `coordinates_note`, no `project_summary` and no `identifier_product_doi*`, `id` = the DOI
//! instead of the short name, no `geospatial_vertical_min` on 2-D granules, a summary with the
//! project text and no trailing space, and per-variable `coordinates` including `time`
//! (9.5). We do not write xmitgcm's leftovers (`swap_dim`, `c_grid_axis_shift`, `mate`, `XC:
//! coordinate`), which the format document calls optional. One deliberate difference from
//! the ECCO metadata: the index coordinates `i`, `j`, `k` carry no `axis` attribute (see
//! `index_coordinate_attributes`), because CF reserves X/Y/Z for longitude, latitude and
//! vertical coordinates.
//!
//! Processing: variables are handled one at a time to bound memory (one decoded 3-D field at a
//! time): fetch + check + decode + hash (parallel), mask by grid location (maskC/W/S, level
//! `l` of a `k_l`/`k_u` field uses mask level `l`, 2-D fields level 0; `docs/netcdf-layout.md` 6),
//! valid range before fill, NaN → fill (parallel), then shuffle + deflate of its chunks
//! (parallel, `chunk_encoding`), kept until netCDF-C has written the metadata and closed the
//! file, then written with `H5Dwrite_chunk`.

use std::path::Path;
use std::time::Instant;

use edp_conventions::attrs::{
    AttrValue, Attrs, coordinate_attributes, time_attributes, time_bnds_attributes,
    variable_attributes, variable_coordinates,
};
use edp_conventions::catalog::Dataset;
use edp_conventions::staggering::Horizontal;
use edp_conventions::{Dimension, ProductType};
use edp_grid::{Grid, TILES};

use crate::chunk_encoding::{Block, Filters, PendingChunks};
use crate::encoding::mask_and_fill;
use crate::error::{GranuleError, Result};
use crate::fields::{InputDigest, load_input};
use crate::input::InputSource;
use crate::metadata::PlannedVariable;
use crate::nc;
use crate::report::{GranuleReport, Timings};
use crate::request::GranuleRequest;
use crate::resources::{Resources, WritePath};
use crate::skeleton;

/// Sizes of the native dimensions of one granule.
#[derive(Debug, Clone, Copy)]
struct Layout {
    n: usize,
    nz: usize,
    three_d: bool,
    bounds: bool,
}

impl Layout {
    /// Dimensions in file order.
    fn dims(&self) -> Vec<(&'static str, usize)> {
        let mut dims = vec![
            ("i", self.n),
            ("i_g", self.n),
            ("j", self.n),
            ("j_g", self.n),
        ];
        if self.three_d {
            dims.extend([
                ("k", self.nz),
                ("k_u", self.nz),
                ("k_l", self.nz),
                ("k_p1", self.nz + 1),
            ]);
        }
        dims.extend([("tile", TILES), ("time", 1)]);
        if self.bounds || self.three_d {
            dims.push(("nv", 2));
        }
        dims.push(("nb", 4));
        dims
    }

    /// Length of dimension `name`.
    fn len(&self, name: &str) -> usize {
        self.dims()
            .into_iter()
            .find(|(d, _)| *d == name)
            .map_or(0, |(_, len)| len)
    }

    /// The index coordinates (dimension coordinates with values `0..len`), in file order.
    fn index_coordinates(&self) -> Vec<(&'static str, usize)> {
        self.dims()
            .into_iter()
            .filter(|(d, _)| !matches!(*d, "time" | "nv" | "nb"))
            .collect()
    }
}

/// A data variable ready to define: name, dims, shape and attributes.
struct DataVariable<'a> {
    planned: PlannedVariable<'a>,
    dims: Vec<&'static str>,
    shape: Vec<usize>,
    attrs: Attrs,
}

/// The mask of a horizontal location (`docs/netcdf-layout.md` 6), `[k][t][j][i]`.
fn mask_of<'g>(grid: &'g Grid, horizontal: Horizontal, variable: &str) -> Result<&'g [bool]> {
    match horizontal {
        Horizontal::Centre => Ok(&grid.mask_c),
        Horizontal::UFace => Ok(&grid.mask_w),
        Horizontal::VFace => Ok(&grid.mask_s),
        // No V4r4 grouping has corner variables, and ECCO defines no corner mask.
        Horizontal::Corner => Err(GranuleError::Unsupported {
            what: format!("native variable {variable} at cell corners (j_g, i_g)"),
            reason: "docs/netcdf-layout.md 6 defines masks for centres, u and v faces only".into(),
        }),
    }
}

/// The attributes of an index coordinate (`i`, `j`, `k`, ...) without `axis`.
///
/// The ECCO coordinate metadata gives `i`, `j`, `k` an `axis` of X, Y, Z, but CF reserves
/// those values for longitude, latitude and vertical coordinates (CF 1.8 §4), which these
/// integer indices of a curvilinear grid are not: with them, CF checkers take `i`/`j`/`k` for
/// longitude/latitude/depth without units (high-priority failures of compliance-checker
/// `cf:1.8` §4.1-4.3). Geographic positions are in `XC`/`YC`/`Z`, which keep their
/// `standard_name`, `units` and `axis`-free CF description.
pub(crate) fn index_coordinate_attributes(mut attrs: Attrs) -> Attrs {
    attrs.retain(|(name, _)| name != "axis");
    attrs
}

/// Checks that the grid's arrays have the sizes the layout needs.
fn check_grid(grid: &Grid) -> Result<()> {
    let cells = grid.cells();
    let want_3d = grid.nz * cells;
    let corners = 13 * (grid.n + 1) * (grid.n + 1);
    let checks: [(&str, usize, usize); 13] = [
        ("XC", grid.xc.len(), cells),
        ("YC", grid.yc.len(), cells),
        ("XG", grid.xg.len(), cells),
        ("YG", grid.yg.len(), cells),
        ("RC", grid.rc.len(), grid.nz),
        ("RF", grid.rf.len(), grid.nz + 1),
        ("maskC", grid.mask_c.len(), want_3d),
        ("maskW", grid.mask_w.len(), want_3d),
        ("maskS", grid.mask_s.len(), want_3d),
        // What XC_bnds and YC_bnds are made of (checked without building them).
        ("corner tile size", grid.corners.n, grid.n),
        ("corner longitudes", grid.corners.lon.len(), corners),
        ("corner latitudes", grid.corners.lat.len(), corners),
        ("levels", grid.nz, grid.nz.max(1)),
    ];
    for (what, found, expected) in checks {
        if found != expected {
            return Err(GranuleError::GridMismatch {
                what: format!("array {what} of LLC{} with {} levels", grid.n, grid.nz),
                expected: format!("{expected} values"),
                found: format!("{found} values"),
            });
        }
    }
    Ok(())
}

/// Writes the native granule of `request` to `out_path` (atomically).
pub(crate) fn write_native(
    request: &GranuleRequest,
    dataset: &Dataset,
    planned: &[PlannedVariable<'_>],
    resources: &Resources,
    source: &dyn InputSource,
    out_path: &Path,
    started: Instant,
) -> Result<GranuleReport> {
    let grid: &Grid = &resources.grid;
    let catalog = &resources.catalog;
    let config = &resources.config;
    check_grid(grid)?;
    let three_d = dataset.dimension == Dimension::ThreeD;
    let layout = Layout {
        n: grid.n,
        nz: grid.nz,
        three_d,
        bounds: request.frequency.is_average(),
    };

    // Everything that can fail on metadata is prepared before the file is created.
    let mut variables: Vec<DataVariable<'_>> = Vec::with_capacity(planned.len());
    for pv in planned {
        let name = pv.output.output_name.as_str();
        let Some(component) = pv.output.inputs.first() else {
            return Err(GranuleError::InvalidTask {
                granule: request.granule_name.clone(),
                reason: format!("the catalog lists no input for variable {name}"),
            });
        };
        if pv.output.is_vector() || pv.output.inputs.len() != 1 {
            return Err(GranuleError::Unsupported {
                what: format!("native vector variable {name}"),
                reason: "native granules hold model components as they are".into(),
            });
        }
        if component.location.is_3d() && !three_d {
            return Err(GranuleError::InvalidTask {
                granule: request.granule_name.clone(),
                reason: format!(
                    "variable {name} ({} {}) is 3-D but grouping {} ({}) is 2D",
                    component.name, component.location, dataset.grouping_id, dataset.filename
                ),
            });
        }
        mask_of(grid, component.location.horizontal, name)?;
        let dims = component.location.native_dims();
        let shape: Vec<usize> = dims.iter().map(|d| layout.len(d)).collect();
        let mut attrs = variable_attributes(catalog, ProductType::Native, name)?;
        if let Some(coords) = variable_coordinates(ProductType::Native, &dims) {
            attrs.push(("coordinates".into(), AttrValue::Str(coords)));
        }
        variables.push(DataVariable {
            planned: *pv,
            dims,
            shape,
            attrs,
        });
    }
    let var_attrs: Vec<(&str, &Attrs)> = variables
        .iter()
        .map(|v| (v.planned.output.output_name.as_str(), &v.attrs))
        .collect();
    let prologue = skeleton::prologue(request, dataset, resources, &var_attrs)?;
    let coord_attrs = |name: &str| coordinate_attributes(catalog, ProductType::Native, name);
    let write_started = Instant::now();
    let mut granule = skeleton::create(out_path, &layout.dims())?;
    let path = granule.path.clone();
    let path = path.as_path();
    let file = &mut granule.file;

    // Definitions, in the reference order.
    for (name, _) in layout.index_coordinates() {
        nc::define_coordinate::<i32>(
            file,
            path,
            name,
            &[name],
            &index_coordinate_attributes(coord_attrs(name)?),
        )?;
    }
    nc::define_coordinate::<i32>(
        file,
        path,
        "time",
        &["time"],
        &time_attributes(catalog, &config.clock, request.frequency)?,
    )?;
    let centre = ["tile", "j", "i"];
    let corner = ["tile", "j_g", "i_g"];
    for (name, dims) in [
        ("XC", centre),
        ("YC", centre),
        ("XG", corner),
        ("YG", corner),
    ] {
        nc::define_coordinate::<f32>(file, path, name, &dims, &coord_attrs(name)?)?;
    }
    if three_d {
        for (name, dim) in [("Z", "k"), ("Zp1", "k_p1"), ("Zu", "k_u"), ("Zl", "k_l")] {
            nc::define_coordinate::<f32>(file, path, name, &[dim], &coord_attrs(name)?)?;
        }
    }
    let mut chunks: Vec<Vec<usize>> = Vec::with_capacity(variables.len());
    for (index, var) in variables.iter().enumerate() {
        chunks.push(nc::define_data_variable(
            file,
            path,
            &var.planned.output.output_name,
            &var.dims,
            &var.shape,
            &config.compression,
            &var.attrs,
        )?);
        if index == 0 && layout.bounds {
            nc::define_coordinate::<i32>(
                file,
                path,
                "time_bnds",
                &["time", "nv"],
                &time_bnds_attributes(catalog)?,
            )?;
        }
    }
    let bnds = ["tile", "j", "i", "nb"];
    for name in ["XC_bnds", "YC_bnds"] {
        nc::define_coordinate::<f32>(file, path, name, &bnds, &coord_attrs(name)?)?;
    }
    if three_d {
        nc::define_coordinate::<f32>(file, path, "Z_bnds", &["k", "nv"], &coord_attrs("Z_bnds")?)?;
    }

    // Coordinate values.
    for (name, len) in layout.index_coordinates() {
        let index: Vec<i32> = (0..len)
            .map(|v| i32::try_from(v).unwrap_or(i32::MAX))
            .collect();
        nc::put_values(file, path, name, &index)?;
    }
    nc::put_values(file, path, "time", &[prologue.axis.time])?;
    if let Some(bounds) = prologue.axis.bounds {
        nc::put_values(file, path, "time_bnds", &bounds)?;
    }
    for (name, values) in [
        ("XC", &grid.xc),
        ("YC", &grid.yc),
        ("XG", &grid.xg),
        ("YG", &grid.yg),
    ] {
        nc::put_values(file, path, name, &nc::to_f32(values))?;
    }
    nc::put_values(file, path, "XC_bnds", &grid.corners.xc_bnds_f32())?;
    nc::put_values(file, path, "YC_bnds", &grid.corners.yc_bnds_f32())?;
    if three_d {
        let nz = grid.nz;
        let z_bnds: Vec<f64> = grid.rf.windows(2).flat_map(|w| [w[0], w[1]]).collect();
        nc::put_values(file, path, "Z", &nc::to_f32(&grid.rc))?;
        nc::put_values(file, path, "Zp1", &nc::to_f32(&grid.rf))?;
        // Zu = bottom faces RF[1..], Zl = top faces RF[..nz] (Zl[0] = 0, Zu[0] = -10 for
        // V4r4; the released files had them swapped and needed fix_Zul_kul.py).
        nc::put_values(file, path, "Zu", &nc::to_f32(&grid.rf[1..=nz]))?;
        nc::put_values(file, path, "Zl", &nc::to_f32(&grid.rf[..nz]))?;
        nc::put_values(file, path, "Z_bnds", &nc::to_f32(&z_bnds))?;
    }
    let mut timings = Timings {
        write_seconds: write_started.elapsed().as_secs_f64(),
        ..Timings::default()
    };

    // Data, one variable at a time: compressed here on every core and written into the
    // file once netCDF-C has closed it (or, on the reference path, handed to netCDF-C).
    let direct = resources.write_path == WritePath::DirectChunks;
    let filters = Filters::of(&config.compression);
    let mut pending = PendingChunks::default();
    let mut reports = Vec::with_capacity(variables.len());
    let mut digests: Vec<InputDigest> = Vec::new();
    for (var, chunks) in variables.iter().zip(chunks) {
        let name = var.planned.output.output_name.as_str();
        let component = &var.planned.output.inputs[0];
        let read_started = Instant::now();
        let decoded = load_input(
            name,
            component,
            &var.planned.inputs[0],
            grid,
            Some(request.step),
            source,
        )?;
        let mask = mask_of(grid, component.location.horizontal, name)?;
        let mut values = decoded.field.data;
        let level = grid.cells();
        if mask.len() < values.len() {
            return Err(GranuleError::GridMismatch {
                what: format!("mask for {name}"),
                expected: format!("at least {} values", values.len()),
                found: format!("{} values", mask.len()),
            });
        }
        // Level k of a k, k_l or k_u field uses mask level k; a 2-D field is level 0.
        let stats = mask_and_fill(&mut values, level, |k, i| mask[k * level + i]);
        digests.push(decoded.data);
        digests.push(decoded.meta_digest);
        timings.read_seconds += read_started.elapsed().as_secs_f64();

        let write_started = Instant::now();
        if direct {
            let block = Block {
                values: &values,
                shape: &var.shape,
                first_chunk: &vec![0; var.shape.len()],
            };
            pending.encode(name, block, &chunks, filters)?;
        } else {
            nc::put_values(file, path, name, &values)?;
        }
        drop(values);
        nc::put_variable_attributes(file, path, name, &skeleton::valid_range(&stats))?;
        timings.write_seconds += write_started.elapsed().as_secs_f64();
        reports.push(skeleton::variable_report(
            name,
            vec![component.name.clone()],
            &var.dims,
            chunks,
            &stats,
        ));
    }

    // Global attributes last: the provenance needs the input hashes.
    let written = skeleton::Written {
        digests,
        reports,
        pending,
        timings,
    };
    skeleton::finish(
        granule, request, dataset, resources, prologue, written, started,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_with_corners_of_another_size_is_refused_naming_them() {
        let grid = Grid::synthetic(&edp_grid::SyntheticSpec {
            n: 6,
            nz: 2,
            land: edp_grid::SyntheticLand::Analytic,
        })
        .unwrap();
        assert!(check_grid(&grid).is_ok());
        // Too few corner longitudes: an error (building XC_bnds from them would index past
        // their end).
        let mut short = grid.clone();
        short.corners.lon.pop();
        let err = check_grid(&short).unwrap_err().to_string();
        assert!(err.contains("corner longitudes"), "{err}");
        assert!(err.contains(&format!("{} values", 13 * 7 * 7)), "{err}");
        // Corners of another tile size.
        let mut other = grid.clone();
        other.corners.n = 5;
        let err = check_grid(&other).unwrap_err().to_string();
        assert!(err.contains("corner tile size"), "{err}");
    }

    #[test]
    fn dims_follow_the_reference_headers() {
        let names = |l: Layout| l.dims().into_iter().map(|(d, _)| d).collect::<Vec<_>>();
        let two_d = Layout {
            n: 90,
            nz: 50,
            three_d: false,
            bounds: true,
        };
        assert_eq!(
            names(two_d),
            ["i", "i_g", "j", "j_g", "tile", "time", "nv", "nb"]
        );
        let three_d = Layout {
            three_d: true,
            ..two_d
        };
        assert_eq!(
            names(three_d),
            [
                "i", "i_g", "j", "j_g", "k", "k_u", "k_l", "k_p1", "tile", "time", "nv", "nb"
            ]
        );
        assert_eq!(three_d.len("k_p1"), 51);
        assert_eq!(three_d.len("tile"), 13);
        let snap_2d = Layout {
            bounds: false,
            ..two_d
        };
        assert!(!names(snap_2d).contains(&"nv"));
        assert_eq!(
            three_d
                .index_coordinates()
                .into_iter()
                .map(|(d, _)| d)
                .collect::<Vec<_>>(),
            ["i", "i_g", "j", "j_g", "k", "k_u", "k_l", "k_p1", "tile"]
        );
    }
}
