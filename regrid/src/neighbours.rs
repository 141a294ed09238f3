//! The level-independent part of the mapping: for every target, the sources of the `ALL` set
//! (every cell, wet or dry) within its radius, and its nearest source (docs/regridding.md §2.2-2.3).
//!
//! Everything level-dependent follows from these two without another search:
//!
//! * `land_k(p)` is the wet state of the nearest `ALL` source (`within_ALL(p)[0]` when that
//!   list is not empty, which is then the nearest source anyway).
//! * `within_WET_k(p)` is `within_ALL(p)` filtered by the wet mask (then capped), because
//!   membership only depends on the distance.
//! * `nearest_WET_k(p)` is only needed when `land_k(p) = 1`, i.e. when the nearest `ALL`
//!   source is wet: then it *is* the nearest wet source (same distance, and with ties broken by
//!   the smaller index in both sets it is the same cell).
//!
//! The k-d tree only proposes candidates, with a tiny radius slack; the membership test
//! `d <= r` uses [`chord_distance`] so that results do not depend on the tree's rounding.

use crate::error::{RegridError, Result};
use crate::geometry::{chord_distance, to_xyz};
use crate::source::SourceGrid;
use crate::target::LatLonGrid;
use kiddo::{ImmutableKdTree, SquaredEuclidean};
use rayon::prelude::*;

/// Marker for "no source within the nearest-neighbour search cap".
pub(crate) const NONE: u32 = u32::MAX;

/// Relative slack on candidate radii: far above the rounding of a squared distance (~1e-16),
/// far below any meaningful distance difference.
const CANDIDATE_SLACK: f64 = 1e-9;

/// The search limits derived from the grids (docs/regridding.md §2.2, "as implemented").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchLimits {
    /// Upper bound (m) of every bin-average search: `floor(max_p r_p)`.
    pub within_cap_m: f64,
    /// Upper bound (m) of the nearest-neighbour search: `floor(max_L)`.
    pub nearest_cap_m: f64,
    /// At most this many (nearest) sources of a source set enter a bin average:
    /// `min(100, ceil((2 max_p r_p / min_L)^2))`.
    pub neighbour_cap: usize,
}

impl SearchLimits {
    /// Limits for `target` (its radii) and `source` (its cell sizes).
    pub fn new(source: &SourceGrid, target: &LatLonGrid) -> SearchLimits {
        let max_r = target.max_radius();
        let cap = (2.0 * max_r / source.min_cell_size_m()).powi(2).ceil();
        SearchLimits {
            within_cap_m: max_r.floor(),
            nearest_cap_m: source.max_cell_size_m().floor(),
            // `cap` is a positive finite number here; anything above 100 is clamped.
            neighbour_cap: if cap >= 100.0 {
                100
            } else {
                (cap as usize).max(1)
            },
        }
    }
}

/// Per target: the `ALL` sources within `min(r_p, within_cap)` sorted by (distance, index), and
/// the nearest source within `nearest_cap` ([`NONE`] if there is none).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Neighbourhood {
    /// `n_b + 1` offsets into `within`.
    pub ptr: Vec<usize>,
    /// Source indices, per target sorted by distance then index.
    pub within: Vec<u32>,
    /// Nearest source of each target, or [`NONE`].
    pub nearest: Vec<u32>,
}

impl Neighbourhood {
    /// The sorted `ALL` sources within the radius of target `p`.
    pub fn within(&self, p: usize) -> &[u32] {
        &self.within[self.ptr[p]..self.ptr[p + 1]]
    }

    /// Largest number of `ALL` sources within the radius of any target.
    pub fn max_within(&self) -> usize {
        self.ptr.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0)
    }

    /// Number of targets with a source within the nearest-neighbour cap.
    pub fn targets_with_source(&self) -> usize {
        self.nearest.iter().filter(|&&s| s != NONE).count()
    }
}

/// Neighbour search over the source points.
pub(crate) struct SourceIndex {
    points: Vec<[f64; 3]>,
    tree: ImmutableKdTree<f64, 3>,
}

impl std::fmt::Debug for SourceIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceIndex")
            .field("points", &self.points.len())
            .finish()
    }
}

impl SourceIndex {
    pub fn new(source: &SourceGrid) -> Result<SourceIndex> {
        let points: Vec<[f64; 3]> = source
            .lon()
            .par_iter()
            .zip(source.lat().par_iter())
            .map(|(&lon, &lat)| to_xyz(lon, lat))
            .collect();
        let tree = ImmutableKdTree::<f64, 3>::new_from_slice(&points).map_err(|e| {
            RegridError::SpatialIndex {
                n: points.len(),
                reason: format!("{e:?}"),
            }
        })?;
        Ok(SourceIndex { points, tree })
    }

    /// Appends to `out` every source with `chord <= radius`, as (distance, index) pairs
    /// (unsorted).
    fn within(&self, q: &[f64; 3], radius: f64, out: &mut Vec<(f64, u32)>) {
        let probe = radius * (1.0 + CANDIDATE_SLACK) + 1e-6;
        self.tree
            .query(q)
            .within::<SquaredEuclidean<f64>>(probe * probe)
            .unsorted()
            .visit(|hit| {
                let s = hit.item;
                let d = chord_distance(&self.points[s as usize], q);
                if d <= radius {
                    out.push((d, s));
                }
            });
    }

    /// The nearest source (smallest distance, then smallest index) with its distance.
    fn nearest(&self, q: &[f64; 3], scratch: &mut Vec<(f64, u32)>) -> Option<(f64, u32)> {
        let best = self
            .tree
            .query(q)
            .nearest_one::<SquaredEuclidean<f64>>()
            .execute();
        if best.item as usize >= self.points.len() {
            return None;
        }
        // Re-measure and gather every source that could tie with it under our own distance.
        let d = chord_distance(&self.points[best.item as usize], q);
        scratch.clear();
        self.within(q, d * (1.0 + CANDIDATE_SLACK) + 1e-6, scratch);
        scratch
            .iter()
            .copied()
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
    }

    /// The `ALL` neighbourhood of every target of `target` (parallel over rows).
    pub fn neighbourhood(&self, target: &LatLonGrid, limits: &SearchLimits) -> Neighbourhood {
        let nx = target.nx();
        let rows: Vec<(Vec<usize>, Vec<u32>, Vec<u32>)> = (0..target.ny())
            .into_par_iter()
            .map(|iy| {
                let radius = target.row_radius(iy).min(limits.within_cap_m);
                let lat = target.latitudes()[iy];
                let mut counts = Vec::with_capacity(nx);
                let mut within = Vec::with_capacity(nx * 4);
                let mut nearest = Vec::with_capacity(nx);
                let mut hits = Vec::new();
                let mut scratch = Vec::new();
                for &lon in target.longitudes() {
                    let q = to_xyz(lon, lat);
                    hits.clear();
                    self.within(&q, radius, &mut hits);
                    hits.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    let first = match hits.first() {
                        Some(&hit) => Some(hit),
                        None => self.nearest(&q, &mut scratch),
                    };
                    match first {
                        Some((d, s)) if d <= limits.nearest_cap_m => {
                            nearest.push(s);
                            counts.push(hits.len());
                            within.extend(hits.iter().map(|h| h.1));
                        }
                        // No source within max_L: the within set is treated as empty too.
                        _ => {
                            nearest.push(NONE);
                            counts.push(0);
                        }
                    }
                }
                (counts, within, nearest)
            })
            .collect();
        let n_b = target.len();
        let mut ptr = Vec::with_capacity(n_b + 1);
        let mut within = Vec::with_capacity(rows.iter().map(|r| r.1.len()).sum());
        let mut nearest = Vec::with_capacity(n_b);
        ptr.push(0);
        let mut total = 0;
        for (counts, w, n) in rows {
            for c in counts {
                total += c;
                ptr.push(total);
            }
            within.extend(w);
            nearest.extend(n);
        }
        Neighbourhood {
            ptr,
            within,
            nearest,
        }
    }
}
