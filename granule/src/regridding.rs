//! The values of lat-lon data variables: fetch + check + hash the inputs (shared
//! [`fetch_input`]), then level by level decode, turn vector components into east/north at
//! cell centres ([`VectorRotation`], `docs/regridding.md` 1), regrid with the weights
//! ([`Weights::apply_level`], 7.5) and replace NaN by the fill value, in slabs of levels.
//! Decoding per level keeps the memory of a variable at its output slab: no decoded 3-D copy
//! of an input exists (inputs held in memory by the worker are only borrowed).
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
use edp_regrid::{Parallel, VectorLocation, VectorRotation, Weights};
use rayon::prelude::*;

use crate::encoding::{ValueStats, fill_nan};
use crate::error::{GranuleError, Result};
use crate::fields::{FetchedInput, InputDigest, fetch_input};
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

/// The digests of `fields`: per component its `.data` then its `.meta` (the components'
/// `.data` hashed in parallel).
fn digests_of(fields: &[FetchedInput<'_>]) -> Vec<InputDigest> {
    let data: Vec<InputDigest> = fields.par_iter().map(FetchedInput::digest).collect();
    data.into_iter()
        .zip(fields)
        .flat_map(|(data, field)| [data, field.meta_digest.clone()])
        .collect()
}

/// Adds `new` to `digests`, each location once, in order.
fn add_digests(digests: &mut Vec<InputDigest>, new: Vec<InputDigest>) {
    for digest in new {
        if !digests.iter().any(|d| d.location == digest.location) {
            digests.push(digest);
        }
    }
}

/// Fetched inputs kept for the next variable: EVEL and NVEL share UVEL/VVEL.
struct Fetched<'s> {
    inputs: Vec<InputRef>,
    fields: Vec<FetchedInput<'s>>,
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

impl<'a> Regridder<'a> {
    /// Computes every variable of `plans` in order and passes each slab to `send`, which
    /// returns the slab's buffer once it is written (the next slab is computed in it), or
    /// `None` when nobody listens any more (the writer failed); then stops quietly.
    pub fn run(
        &self,
        plans: &[FieldPlan<'_>],
        mut send: impl FnMut(Slab) -> Option<Vec<f32>>,
    ) -> Result<Produced> {
        let mut produced = Produced::default();
        let mut buffer = Vec::new();
        let mut kept: Option<Fetched<'a>> = None;
        for (index, plan) in plans.iter().enumerate() {
            let started = Instant::now();
            // What the previous variable kept is dropped here unless this one shares it, so
            // that at most one set of inputs is held.
            let reusable = kept.take().filter(|f| f.inputs.as_slice() == plan.inputs);
            let (fetched, fresh) = match reusable {
                Some(f) => (f, false),
                None => (self.fetch(plan)?, true),
            };
            produced.busy_seconds += started.elapsed().as_secs_f64();
            let slab_levels = self.slab_levels.clamp(1, plan.levels.max(1));
            let mut first = 0;
            while first < plan.levels {
                let started = Instant::now();
                let levels = slab_levels.min(plan.levels - first);
                let slab = if fresh && first == 0 {
                    // The inputs' SHA-256 (only needed for the provenance at the end) is
                    // computed beside the first slab instead of before it: hashing a 3-D
                    // input took 14 ms on one core while the other waited.
                    let (digests, slab) = rayon::join(
                        || digests_of(&fetched.fields),
                        || self.slab(index, plan, &fetched.fields, first, levels, buffer),
                    );
                    add_digests(&mut produced.digests, digests);
                    slab?
                } else {
                    self.slab(index, plan, &fetched.fields, first, levels, buffer)?
                };
                produced.busy_seconds += started.elapsed().as_secs_f64();
                match send(slab) {
                    Some(returned) => buffer = returned,
                    None => return Ok(produced),
                }
                first += levels;
            }
            kept = Some(fetched);
        }
        Ok(produced)
    }

    /// Fetches and checks the inputs of `plan` (components in parallel); their digests are
    /// computed later ([`digests_of`]).
    fn fetch(&self, plan: &FieldPlan<'_>) -> Result<Fetched<'a>> {
        let fetch = |c: usize| -> Result<FetchedInput<'a>> {
            fetch_input(
                plan.name,
                &plan.components[c],
                &plan.inputs[c],
                self.grid,
                Some(self.step),
                self.source,
            )
        };
        let fields = match plan.kind {
            FieldKind::Scalar => vec![fetch(0)?],
            FieldKind::Vector { .. } => {
                let (x, y) = rayon::join(|| fetch(0), || fetch(1));
                vec![x?, y?]
            }
        };
        Ok(Fetched {
            inputs: plan.inputs.to_vec(),
            fields,
        })
    }

    /// Levels `first .. first + levels` of `plan` on the target grid, NaN replaced by fill
    /// (parallel over levels; each level decodes its own slice of the inputs), computed in
    /// `buffer` (whose values are all overwritten).
    fn slab(
        &self,
        variable: usize,
        plan: &FieldPlan<'_>,
        fields: &[FetchedInput<'_>],
        first: usize,
        levels: usize,
        buffer: Vec<f32>,
    ) -> Result<Slab> {
        let targets = self.weights.n_target();
        let mut values = buffer;
        values.resize(levels * targets, 0.0);
        // Levels in parallel, each on one thread, when there are enough of them to share out;
        // a single level (2-D) splits its rows instead.
        let parallel = if levels >= 2 * rayon::current_num_threads() {
            Parallel::No
        } else {
            Parallel::Rows
        };
        let stats = values
            .par_chunks_mut(targets)
            .enumerate()
            .map(|(offset, out)| -> Result<ValueStats> {
                let k = first + offset;
                match (plan.kind, fields, self.rotation) {
                    (FieldKind::Scalar, [field], _) => {
                        self.weights
                            .apply_level_into(k, &field.level(k)?, out, parallel)?;
                    }
                    (FieldKind::Vector { location, keep }, [x, y], Some(rotation)) => {
                        let (east, north) =
                            rotation.east_north(&x.level(k)?, &y.level(k)?, location)?;
                        let component = match keep {
                            Orientation::Zonal => east,
                            Orientation::Meridional => north,
                        };
                        self.weights
                            .apply_level_into(k, &component, out, parallel)?;
                    }
                    // The writer builds plans, inputs and the rotation together; this arm is
                    // unreachable unless that code changes, so say so rather than panic.
                    _ => {
                        return Err(GranuleError::Unsupported {
                            what: format!("variable {}", plan.name),
                            reason: "internal: inputs do not match the variable kind".into(),
                        });
                    }
                }
                // NaN becomes fill while the level is still in cache (a pass of its own over
                // the slab read and wrote it all again).
                Ok(fill_nan(out))
            })
            .try_reduce(ValueStats::default, |a, b| Ok(a.merge(b)))?;
        Ok(Slab {
            variable,
            first_level: first,
            levels,
            values,
            stats,
        })
    }
}
