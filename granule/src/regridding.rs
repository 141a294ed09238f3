//! The values of lat-lon data variables: fetch + check + decode the inputs (shared
//! [`load_input`]), turn vector components into east/north at cell centres
//! ([`VectorRotation`], `ecco-format.md` 6), regrid level by level with the weights
//! ([`Weights::apply_level`], 7.5) and replace NaN by the fill value, in slabs of levels.
//!
//! Level `k` of every input, a `k_l` field such as WVEL included, is mapped with the weights
//! of tracer level `k` (its wet sources `hFacC[k] > 0` and land mask) and written at `Z[k]`
//! (7.6). Inputs are not masked before the rotation: land faces hold 0 in the MDS files, and
//! the wet-source selection of the weights removes land afterwards (6).
//!
//! Everything here runs off the NetCDF thread and in parallel (rayon over levels, and inside
//! each level over targets); the writer receives finished slabs.

use std::time::Instant;

use edp_conventions::catalog::{InputComponent, Orientation};
use edp_grid::Grid;
use edp_regrid::{VectorLocation, VectorRotation, Weights};
use rayon::prelude::*;

use crate::encoding::{ValueStats, fill_nan};
use crate::error::Result;
use crate::fields::{DecodedInput, InputDigest, load_input};
use crate::input::InputSource;
use crate::request::InputRef;

/// How the values of one output variable are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    /// One cell-centre input, regridded as it is.
    Scalar,
    /// x and y components, rotated to east/north at centres; `keep` chooses the component.
    Vector {
        /// Where the two components live.
        location: VectorLocation,
        /// `Zonal` keeps east, `Meridional` north.
        keep: Orientation,
    },
}

/// One output variable to compute.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldPlan<'a> {
    /// Output name.
    pub name: &'a str,
    /// Scalar or vector.
    pub kind: FieldKind,
    /// The catalog's input components (one, or x then y).
    pub components: &'a [InputComponent],
    /// The request's input locations, one per component.
    pub inputs: &'a [InputRef],
    /// Levels of the output (1 for 2-D).
    pub levels: usize,
}

/// A finished slab of one variable: levels `first_level .. first_level + levels` of the
/// output, `(level, latitude, longitude)` row-major, fill instead of NaN.
#[derive(Debug)]
pub(crate) struct Slab {
    /// Index of the variable in the plan list.
    pub variable: usize,
    /// First output level of the slab.
    pub first_level: usize,
    /// Number of levels in the slab.
    pub levels: usize,
    /// The values.
    pub values: Vec<f32>,
    /// Range and counts of the values.
    pub stats: ValueStats,
}

/// What the slab producer hands back at the end.
#[derive(Debug, Default)]
pub(crate) struct Produced {
    /// Digest of every input read (each location once), in variable order.
    pub digests: Vec<InputDigest>,
    /// Seconds spent fetching, decoding, rotating, regridding and filling.
    pub busy_seconds: f64,
}

/// Decoded inputs kept for the next variable: EVEL and NVEL share UVEL/VVEL.
struct Decoded {
    inputs: Vec<InputRef>,
    fields: Vec<DecodedInput>,
}

/// The regridding context shared by every variable of a granule.
pub(crate) struct Regridder<'a> {
    /// The native grid (for input checks).
    pub grid: &'a Grid,
    /// The weights (every level the granule needs).
    pub weights: &'a Weights,
    /// Rotation to east/north (present when some variable is a vector).
    pub rotation: Option<&'a VectorRotation>,
    /// Model step of the request (checked against the inputs).
    pub step: u64,
    /// Where the input bytes come from.
    pub source: &'a dyn InputSource,
    /// Levels per slab (the chunk size along `Z` for 3-D granules).
    pub slab_levels: usize,
}

impl Regridder<'_> {
    /// Computes every variable of `plans` in order and passes each slab to `send`, which
    /// returns `false` when nobody listens any more (the writer failed); then stops quietly.
    pub fn run(
        &self,
        plans: &[FieldPlan<'_>],
        mut send: impl FnMut(Slab) -> bool,
    ) -> Result<Produced> {
        let mut produced = Produced::default();
        let mut kept: Option<Decoded> = None;
        for (index, plan) in plans.iter().enumerate() {
            let started = Instant::now();
            // What the previous variable kept is dropped here unless this one shares it, so
            // that at most one set of decoded inputs is alive.
            let reusable = kept.take().filter(|d| d.inputs.as_slice() == plan.inputs);
            let decoded = match reusable {
                Some(d) => d,
                None => {
                    let d = self.decode(plan)?;
                    for field in &d.fields {
                        for digest in [&field.data, &field.meta_digest] {
                            if !produced
                                .digests
                                .iter()
                                .any(|p| p.location == digest.location)
                            {
                                produced.digests.push(digest.clone());
                            }
                        }
                    }
                    d
                }
            };
            produced.busy_seconds += started.elapsed().as_secs_f64();
            let slab_levels = self.slab_levels.clamp(1, plan.levels.max(1));
            let mut first = 0;
            while first < plan.levels {
                let started = Instant::now();
                let levels = slab_levels.min(plan.levels - first);
                let slab = self.slab(index, plan, &decoded.fields, first, levels)?;
                produced.busy_seconds += started.elapsed().as_secs_f64();
                if !send(slab) {
                    return Ok(produced);
                }
                first += levels;
            }
            kept = Some(decoded);
        }
        Ok(produced)
    }

    /// Fetches, checks and decodes the inputs of `plan` (components in parallel).
    fn decode(&self, plan: &FieldPlan<'_>) -> Result<Decoded> {
        let load = |c: usize| {
            load_input(
                plan.name,
                &plan.components[c],
                &plan.inputs[c],
                self.grid,
                self.step,
                self.source,
            )
        };
        let fields = match plan.kind {
            FieldKind::Scalar => vec![load(0)?],
            FieldKind::Vector { .. } => {
                let (x, y) = rayon::join(|| load(0), || load(1));
                vec![x?, y?]
            }
        };
        Ok(Decoded {
            inputs: plan.inputs.to_vec(),
            fields,
        })
    }

    /// Levels `first .. first + levels` of `plan` on the target grid, NaN replaced by fill.
    fn slab(
        &self,
        variable: usize,
        plan: &FieldPlan<'_>,
        fields: &[DecodedInput],
        first: usize,
        levels: usize,
    ) -> Result<Slab> {
        let cells = self.grid.cells();
        let targets = self.weights.n_target();
        let mut values = vec![0.0f32; levels * targets];
        values
            .par_chunks_mut(targets)
            .enumerate()
            .try_for_each(|(offset, out)| -> Result<()> {
                let k = first + offset;
                let mapped = match (plan.kind, fields, self.rotation) {
                    (FieldKind::Scalar, [field], _) => self
                        .weights
                        .apply_level(k, level(plan.name, field, cells, k)?)?,
                    (FieldKind::Vector { location, keep }, [x, y], Some(rotation)) => {
                        let (east, north) = rotation.east_north(
                            level(plan.name, x, cells, k)?,
                            level(plan.name, y, cells, k)?,
                            location,
                        )?;
                        let component = match keep {
                            Orientation::Zonal => east,
                            Orientation::Meridional => north,
                        };
                        self.weights.apply_level(k, &component)?
                    }
                    // The writer builds plans, fields and the rotation together; this arm is
                    // unreachable unless that code changes, so say so rather than panic.
                    _ => {
                        return Err(crate::error::GranuleError::Unsupported {
                            what: format!("variable {}", plan.name),
                            reason: "internal: inputs do not match the variable kind".into(),
                        });
                    }
                };
                out.copy_from_slice(&mapped);
                Ok(())
            })?;
        let stats = fill_nan(&mut values);
        Ok(Slab {
            variable,
            first_level: first,
            levels,
            values,
            stats,
        })
    }
}

/// Level `k` of a decoded input. `load_input` checked the level count against the grid; a
/// short field is still an error rather than a panic.
fn level<'f>(variable: &str, input: &'f DecodedInput, cells: usize, k: usize) -> Result<&'f [f32]> {
    input
        .field
        .data
        .get(k * cells..(k + 1) * cells)
        .ok_or_else(|| crate::error::GranuleError::InputMismatch {
            variable: variable.to_string(),
            location: input.data.location.clone(),
            expected: format!("level {k} of {cells} values"),
            found: format!("{} values", input.field.data.len()),
        })
}
