//! The lat-lon writer: one granule of a lat-lon grouping on the regular target grid
//! (`docs/netcdf-layout.md` 4; V4r4: 0.5 deg, 720 x 360), in the layout of the reference headers
//! `docs/reference-cdl/*latlon*.cdl`.
//!
//! Structure (what `ncdump -h` shows):
//!
//! * dims `time, [Z,] latitude, longitude, nv` in that order (`nv` always: the latitude and
//!   longitude bounds use it);
//! * variables `time, [Z,] latitude, longitude,` the data variables in grouping order,
//!   `time_bnds` (averages), `latitude_bnds, longitude_bnds[, Z_bnds]`;
//! * data `(time, latitude, longitude)` or `(time, Z, latitude, longitude)`, float32 with
//!   `_FillValue`, deflate + shuffle and netCDF-C's default chunks written explicitly
//!   (`(1, 360, 720)`, `(1, 25, 180, 360)`); `time`/`time_bnds` int32; `latitude`,
//!   `longitude`, their bounds, `Z` (= RC) and `Z_bnds` (RF pairs) float32; no coordinate is
//!   compressed or has a `_FillValue`. Latitudes ascend (row 0 is the southernmost, 7.1).
//!
//! As for native granules we follow `docs/metadata.md` where the reference headers show EDP
//! Gen C bugs: `coordinates_comment` instead of `coordinates_note`, no `project_summary` and
//! no `identifier_product_doi*`, `id` = the DOI, no `geospatial_vertical_min` on 2-D granules,
//! per-variable `coordinates` (`time`, or `Z time` for 3-D; 9.5, which the reference headers
//! lack), and no empty `time:comment`.
//!
//! Processing (`regridding`): inputs are decoded, rotated to east/north when they are vector
//! components (6), regridded level by level with the weights (7.5; a `k_l` level `l` with the
//! tracer-level-`l` weights, labelled `Z[l]`, 7.6) and filled, in slabs of whole chunks along
//! `Z`, on a producer thread (rayon inside); this thread compresses each slab's chunks as it
//! arrives (rayon too) and writes them with `H5Dwrite_chunk` once netCDF-C has closed the
//! file. The producer waits until a slab is compressed and computes the next in the same
//! buffer, so one slab and one set of decoded inputs are alive at a time.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Instant;

use edp_conventions::attrs::{
    AttrValue, Attrs, coordinate_attributes, time_attributes, time_bnds_attributes,
    variable_attributes, variable_coordinates,
};
use edp_conventions::catalog::{Dataset, InputComponent, VariableKind};
use edp_conventions::staggering::{Horizontal, latlon_dims};
use edp_conventions::{Dimension, ProductType};
use edp_grid::Grid;
use edp_regrid::{LatLonGrid, VectorLocation, VectorRotation, Weights};
use netcdf::FileMut;

use crate::chunk_encoding::{Block, Filters, PendingChunks};
use crate::encoding::ValueStats;
use crate::error::{GranuleError, Result};
use crate::input::InputSource;
use crate::metadata::PlannedVariable;
use crate::nc;
use crate::regridding::{FieldKind, FieldPlan, Regridder, Slab};
use crate::report::{GranuleReport, Timings};
use crate::request::GranuleRequest;
use crate::resources::{Resources, WritePath};
use crate::skeleton;
use crate::weights::latlon_spec;

/// Sizes of the lat-lon dimensions of one granule.
#[derive(Debug, Clone, Copy)]
struct Layout {
    nz: usize,
    ny: usize,
    nx: usize,
    three_d: bool,
}

impl Layout {
    /// Dimensions in file order.
    fn dims(&self) -> Vec<(&'static str, usize)> {
        let mut dims = vec![("time", 1)];
        if self.three_d {
            dims.push(("Z", self.nz));
        }
        dims.extend([("latitude", self.ny), ("longitude", self.nx), ("nv", 2)]);
        dims
    }

    /// Levels of a data variable.
    fn levels(&self) -> usize {
        if self.three_d { self.nz } else { 1 }
    }

    /// Shape of a data variable.
    fn data_shape(&self) -> Vec<usize> {
        if self.three_d {
            vec![1, self.nz, self.ny, self.nx]
        } else {
            vec![1, self.ny, self.nx]
        }
    }

    /// `(start, count)` of the slab of levels `first .. first + levels`.
    fn slab(&self, first: usize, levels: usize) -> (Vec<usize>, Vec<usize>) {
        if self.three_d {
            (vec![0, first, 0, 0], vec![1, levels, self.ny, self.nx])
        } else {
            (vec![0, 0, 0], vec![1, self.ny, self.nx])
        }
    }
}

/// A data variable ready to define.
struct DataVariable<'a> {
    planned: PlannedVariable<'a>,
    kind: FieldKind,
    attrs: Attrs,
}

/// Checks that the weights fit the grid and the configuration's target grid, and that the
/// grid has what the layout needs. Comparing the wet masks catches weights of another
/// bathymetry with the same horizontal grid.
fn check_grid_and_weights(
    grid: &Grid,
    weights: &Weights,
    resources: &Resources,
    levels: usize,
    vectors: bool,
) -> Result<()> {
    let mismatch = |what: String, expected: String, found: String| GranuleError::GridMismatch {
        what,
        expected,
        found,
    };
    let cells = grid.cells();
    let spec = latlon_spec(&resources.config);
    if weights.target().spec() != &spec {
        return Err(mismatch(
            "lat-lon weights: target grid".into(),
            format!("{spec:?} (the configuration's lat-lon grid)"),
            format!("{:?}", weights.target().spec()),
        ));
    }
    if weights.n_source() != cells {
        return Err(mismatch(
            format!("lat-lon weights for LLC{}", grid.n),
            format!("{cells} source points"),
            format!("{} source points", weights.n_source()),
        ));
    }
    if weights.n_levels() < levels || grid.nz < levels {
        return Err(mismatch(
            "lat-lon weights: levels".into(),
            format!("at least {levels} levels (grid has {})", grid.nz),
            format!("{} levels", weights.n_levels()),
        ));
    }
    for k in 0..levels {
        let grid_wet = grid.mask_c.get(k * cells..(k + 1) * cells);
        let weights_wet = weights.source().wet(k)?;
        if grid_wet != Some(weights_wet) {
            return Err(mismatch(
                format!("lat-lon weights: wet sources of level {k}"),
                "the grid's maskC (hFacC > 0) of that level".into(),
                "weights built for another bathymetry".into(),
            ));
        }
    }
    let mut arrays: Vec<(&str, usize, usize)> = vec![
        ("RC", grid.rc.len(), grid.nz),
        ("RF", grid.rf.len(), grid.nz + 1),
    ];
    if vectors {
        arrays.extend([
            ("AngleCS", grid.cs.len(), cells),
            ("AngleSN", grid.sn.len(), cells),
        ]);
    }
    for (what, found, expected) in arrays {
        if found != expected {
            return Err(mismatch(
                format!("array {what} of LLC{} with {} levels", grid.n, grid.nz),
                format!("{expected} values"),
                format!("{found} values"),
            ));
        }
    }
    Ok(())
}

/// How the values of `pv` are made, checking its inputs' locations and the task's vector
/// metadata against the catalog.
fn field_kind(request: &GranuleRequest, pv: &PlannedVariable<'_>) -> Result<FieldKind> {
    let name = pv.output.output_name.as_str();
    let unsupported = |reason: String| GranuleError::Unsupported {
        what: format!("lat-lon variable {name}"),
        reason,
    };
    let invalid = |reason: String| GranuleError::InvalidTask {
        granule: request.granule_name.clone(),
        reason,
    };
    match (&pv.output.kind, pv.output.inputs.as_slice()) {
        (VariableKind::Direct, [component]) => {
            if component.location.horizontal != Horizontal::Centre {
                return Err(unsupported(format!(
                    "{} lives at {}; lat-lon scalars are mapped from cell centres only",
                    component.name, component.location
                )));
            }
            Ok(FieldKind::Scalar)
        }
        (VariableKind::Vector { x, y, orientation }, [cx, cy]) => {
            let location = vector_location(cx, cy).ok_or_else(|| {
                unsupported(format!(
                    "components {} at {} and {} at {}: expected u/v faces or both at centres",
                    cx.name, cx.location, cy.name, cy.location
                ))
            })?;
            // Tasks carry the grouping's vector metadata; it must say what the catalog says.
            let d = &request.dynamic;
            if let Some(xy) = d.field_components.as_ref().and_then(|c| c.get(name))
                && (&xy.x, &xy.y) != (x, y)
            {
                return Err(invalid(format!(
                    "dynamic_metadata.field_components[{name}] is x={}, y={}; the grouping says \
                     x={x}, y={y}",
                    xy.x, xy.y
                )));
            }
            if let Some(o) = d.field_orientations.as_ref().and_then(|o| o.get(name))
                && o != orientation.as_str()
            {
                return Err(invalid(format!(
                    "dynamic_metadata.field_orientations[{name}] is {o}; the grouping says \
                     {orientation}"
                )));
            }
            Ok(FieldKind::Vector {
                location,
                keep: *orientation,
            })
        }
        (_, inputs) => Err(invalid(format!(
            "the catalog lists {} input(s) for variable {name} of kind {:?}",
            inputs.len(),
            pv.output.kind
        ))),
    }
}

/// The vector location of a component pair: u on west faces and v on south faces, or both at
/// centres, on the same vertical levels.
fn vector_location(x: &InputComponent, y: &InputComponent) -> Option<VectorLocation> {
    if x.location.vertical != y.location.vertical {
        return None;
    }
    match (x.location.horizontal, y.location.horizontal) {
        (Horizontal::UFace, Horizontal::VFace) => Some(VectorLocation::Faces),
        (Horizontal::Centre, Horizontal::Centre) => Some(VectorLocation::Centres),
        _ => None,
    }
}

/// Writes the lat-lon granule of `request` to `out_path` (atomically).
pub(crate) fn write_latlon(
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
    let weights: &Weights =
        resources
            .weights
            .as_deref()
            .ok_or_else(|| GranuleError::NoWeights {
                granule: request.granule_name.clone(),
            })?;
    let three_d = dataset.dimension == Dimension::ThreeD;
    let target: &LatLonGrid = weights.target();
    let layout = Layout {
        nz: grid.nz,
        ny: target.ny(),
        nx: target.nx(),
        three_d,
    };

    // Everything that can fail on metadata is prepared before the file is created.
    let dims = latlon_dims(dataset.dimension);
    let shape = layout.data_shape();
    let mut variables: Vec<DataVariable<'_>> = Vec::with_capacity(planned.len());
    for pv in planned {
        let name = pv.output.output_name.as_str();
        if pv
            .output
            .inputs
            .iter()
            .any(|c| c.location.is_3d() != three_d)
        {
            return Err(GranuleError::InvalidTask {
                granule: request.granule_name.clone(),
                reason: format!(
                    "variable {name} has inputs of another dimension than grouping {} ({}, {})",
                    dataset.grouping_id, dataset.filename, dataset.dimension
                ),
            });
        }
        let kind = field_kind(request, pv)?;
        let mut attrs = variable_attributes(catalog, ProductType::Latlon, name)?;
        if let Some(coords) = variable_coordinates(ProductType::Latlon, &dims) {
            attrs.push(("coordinates".into(), AttrValue::Str(coords)));
        }
        variables.push(DataVariable {
            planned: *pv,
            kind,
            attrs,
        });
    }
    let vectors = variables
        .iter()
        .any(|v| matches!(v.kind, FieldKind::Vector { .. }));
    check_grid_and_weights(grid, weights, resources, layout.levels(), vectors)?;
    let rotation = if vectors {
        Some(VectorRotation::from_grid(grid)?)
    } else {
        None
    };
    let var_attrs: Vec<(&str, &Attrs)> = variables
        .iter()
        .map(|v| (v.planned.output.output_name.as_str(), &v.attrs))
        .collect();
    let prologue = skeleton::prologue(request, dataset, resources, &var_attrs)?;
    let coord_attrs = |name: &str| coordinate_attributes(catalog, ProductType::Latlon, name);
    let bounds = request.frequency.is_average();
    let time_attrs = time_attributes(catalog, &config.clock, request.frequency)?;
    let time_bnds_attrs = if bounds {
        Some(time_bnds_attributes(catalog)?)
    } else {
        None
    };
    let mut spatial: Vec<(&str, Vec<&str>, Attrs)> = Vec::new();
    for (name, dims) in [
        ("Z", vec!["Z"]),
        ("latitude", vec!["latitude"]),
        ("longitude", vec!["longitude"]),
        ("latitude_bnds", vec!["latitude", "nv"]),
        ("longitude_bnds", vec!["longitude", "nv"]),
        ("Z_bnds", vec!["Z", "nv"]),
    ] {
        if three_d || !name.starts_with('Z') {
            spatial.push((name, dims, coord_attrs(name)?));
        }
    }
    let spatial_of = |name: &str| spatial.iter().find(|(n, _, _)| *n == name);

    let write_started = Instant::now();
    let mut granule = skeleton::create(out_path, &layout.dims())?;
    let path = granule.path.clone();
    let path = path.as_path();
    let file = &mut granule.file;

    // Definitions, in the reference order.
    nc::define_coordinate::<i32>(file, path, "time", &["time"], &time_attrs)?;
    for name in ["Z", "latitude", "longitude"] {
        if let Some((name, dims, attrs)) = spatial_of(name) {
            nc::define_coordinate::<f32>(file, path, name, dims, attrs)?;
        }
    }
    let mut chunks: Vec<usize> = Vec::new();
    for var in &variables {
        chunks = nc::define_data_variable(
            file,
            path,
            &var.planned.output.output_name,
            &dims,
            &shape,
            &config.compression,
            &var.attrs,
        )?;
    }
    if let Some(attrs) = &time_bnds_attrs {
        nc::define_coordinate::<i32>(file, path, "time_bnds", &["time", "nv"], attrs)?;
    }
    for name in ["latitude_bnds", "longitude_bnds", "Z_bnds"] {
        if let Some((name, dims, attrs)) = spatial_of(name) {
            nc::define_coordinate::<f32>(file, path, name, dims, attrs)?;
        }
    }

    // Coordinate values.
    nc::put_values(file, path, "time", &[prologue.axis.time])?;
    if let Some(bounds) = prologue.axis.bounds {
        nc::put_values(file, path, "time_bnds", &bounds)?;
    }
    nc::put_values(file, path, "latitude", &nc::to_f32(target.latitudes()))?;
    nc::put_values(file, path, "longitude", &nc::to_f32(target.longitudes()))?;
    let lat_bnds: Vec<f64> = (0..target.ny())
        .flat_map(|iy| target.lat_bounds(iy))
        .collect();
    let lon_bnds: Vec<f64> = (0..target.nx())
        .flat_map(|ix| target.lon_bounds(ix))
        .collect();
    nc::put_values(file, path, "latitude_bnds", &nc::to_f32(&lat_bnds))?;
    nc::put_values(file, path, "longitude_bnds", &nc::to_f32(&lon_bnds))?;
    if three_d {
        let z_bnds: Vec<f64> = grid.rf.windows(2).flat_map(|w| [w[0], w[1]]).collect();
        nc::put_values(file, path, "Z", &nc::to_f32(&grid.rc))?;
        nc::put_values(file, path, "Z_bnds", &nc::to_f32(&z_bnds))?;
    }
    let mut timings = Timings {
        write_seconds: write_started.elapsed().as_secs_f64(),
        ..Timings::default()
    };

    // Data: slabs regridded on a producer thread, written here as they arrive.
    let plans: Vec<FieldPlan<'_>> = variables
        .iter()
        .map(|v| FieldPlan {
            name: &v.planned.output.output_name,
            kind: v.kind,
            components: &v.planned.output.inputs,
            inputs: v.planned.inputs,
            levels: layout.levels(),
        })
        .collect();
    let regridder = Regridder {
        grid,
        weights,
        rotation: rotation.as_ref(),
        step: request.step,
        source,
        // Whole chunks along Z, so that HDF5 compresses each chunk once, complete.
        slab_levels: if three_d {
            chunks.get(1).copied().unwrap_or(1)
        } else {
            1
        },
    };
    let mut sink = SlabSink {
        file,
        path,
        layout,
        names: &prologue.names,
        stats: vec![ValueStats::default(); variables.len()],
        remaining: vec![layout.levels(); variables.len()],
        seconds: 0.0,
        direct: (resources.write_path == WritePath::DirectChunks)
            .then(|| (Filters::of(&config.compression), chunks.clone())),
        pending: PendingChunks::default(),
    };
    let (written, produced) = std::thread::scope(|scope| {
        // A rendezvous channel and a return channel: the producer hands over a slab and
        // waits until this thread has encoded it and handed its buffer back, then computes
        // the next slab in that buffer. So one slab buffer exists per granule (26 MB in 3-D;
        // two 3-D granules of a run at once held four before), allocated once (a fresh one
        // per slab cost a page fault per 4 kB). Both steps are parallel inside (levels,
        // chunks), so overlapping them gained little on two cores.
        let (sender, receiver) = sync_channel::<Slab>(0);
        let (done, returned) = sync_channel::<Vec<f32>>(0);
        let plans = &plans;
        let regridder = &regridder;
        let producer = scope.spawn(move || {
            regridder.run(plans, |slab| {
                sender.send(slab).ok()?;
                returned.recv().ok()
            })
        });
        // `receiver` and `done` are consumed (dropped) by `write_all` even on error, which
        // stops the producer before it is joined.
        let written = sink.write_all(receiver, done);
        match producer.join() {
            Ok(produced) => (written, produced),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    written?;
    let produced = produced?;
    let SlabSink {
        stats,
        seconds,
        pending,
        ..
    } = sink;
    timings.write_seconds += seconds;
    timings.read_seconds = produced.busy_seconds;

    let reports = variables
        .iter()
        .zip(&stats)
        .map(|(var, stats)| {
            let output = var.planned.output;
            let diagnostics = output.inputs.iter().map(|c| c.name.clone()).collect();
            skeleton::variable_report(
                &output.output_name,
                diagnostics,
                &dims,
                chunks.clone(),
                stats,
            )
        })
        .collect();

    // Global attributes last: the provenance needs the input hashes.
    let written = skeleton::Written {
        digests: produced.digests,
        reports,
        pending,
        timings,
    };
    skeleton::finish(
        granule, request, dataset, resources, prologue, written, started,
    )
}

/// The writing end: puts each slab at its place and, once a variable is complete, its valid
/// range.
struct SlabSink<'f, 'n> {
    file: &'f mut FileMut,
    path: &'f Path,
    layout: Layout,
    names: &'n [String],
    stats: Vec<ValueStats>,
    remaining: Vec<usize>,
    seconds: f64,
    /// Filters and chunk extents when slabs are compressed here (`None`: netCDF-C path).
    direct: Option<(Filters, Vec<usize>)>,
    /// Compressed chunks waiting for the file to be closed.
    pending: PendingChunks,
}

impl SlabSink<'_, '_> {
    /// Writes every slab `receiver` delivers until the producer is done (or this fails),
    /// handing each slab's buffer back through `done` once it is written.
    fn write_all(&mut self, receiver: Receiver<Slab>, done: SyncSender<Vec<f32>>) -> Result<()> {
        for slab in receiver {
            let started = Instant::now();
            let buffer = self.write(slab)?;
            self.seconds += started.elapsed().as_secs_f64();
            if done.send(buffer).is_err() {
                break;
            }
        }
        Ok(())
    }

    /// Writes one slab; returns its buffer for the next.
    fn write(&mut self, slab: Slab) -> Result<Vec<f32>> {
        let v = slab.variable;
        let name = self.names[v].as_str();
        let (start, count) = self.layout.slab(slab.first_level, slab.levels);
        match &self.direct {
            Some((filters, chunk)) => {
                // Slabs are whole chunks along Z, so a slab is a block of the chunk grid.
                let first_chunk: Vec<usize> = start
                    .iter()
                    .zip(chunk)
                    .map(|(s, c)| s / (*c).max(1))
                    .collect();
                let block = Block {
                    values: &slab.values,
                    shape: &count,
                    first_chunk: &first_chunk,
                };
                self.pending.encode(name, block, chunk, *filters)?;
            }
            None => nc::put_slab(self.file, self.path, name, &start, &count, &slab.values)?,
        }
        self.stats[v] = self.stats[v].merge(slab.stats);
        self.remaining[v] = self.remaining[v].saturating_sub(slab.levels);
        if self.remaining[v] == 0 {
            let range = skeleton::valid_range(&self.stats[v]);
            nc::put_variable_attributes(self.file, self.path, name, &range)?;
        }
        Ok(slab.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dims_and_slabs_follow_the_reference_headers() {
        let names = |l: Layout| l.dims().into_iter().map(|(d, _)| d).collect::<Vec<_>>();
        let two_d = Layout {
            nz: 50,
            ny: 360,
            nx: 720,
            three_d: false,
        };
        assert_eq!(names(two_d), ["time", "latitude", "longitude", "nv"]);
        assert_eq!(two_d.data_shape(), [1, 360, 720]);
        assert_eq!(two_d.levels(), 1);
        assert_eq!(two_d.slab(0, 1), (vec![0, 0, 0], vec![1, 360, 720]));
        let three_d = Layout {
            three_d: true,
            ..two_d
        };
        assert_eq!(names(three_d), ["time", "Z", "latitude", "longitude", "nv"]);
        assert_eq!(three_d.data_shape(), [1, 50, 360, 720]);
        assert_eq!(
            three_d.slab(25, 25),
            (vec![0, 25, 0, 0], vec![1, 25, 360, 720])
        );
    }
}
