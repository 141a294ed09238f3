//! Per-level sparse weights (docs/regridding.md §2.4-2.5) and their application.
//!
//! Level `k` is a matrix `W_k` of shape `(n_b, n_a)` stored as CSR over its **wet targets**
//! only: `out_k(p) = sum_s W_k[p, s] * F[s]` for the targets listed, NaN for every other
//! target (land, or no source within `max_L`). A wet target always has at least one entry
//! (the nearest wet source), so "listed" and "wet" are the same thing.

use crate::error::{RegridError, Result, check_len};
use crate::neighbours::{NONE, Neighbourhood, SearchLimits, SourceIndex};
use crate::source::SourceGrid;
use crate::target::{LatLonGrid, LatLonSpec};
use rayon::prelude::*;
use std::sync::OnceLock;

/// The weights of one vertical level, CSR over its wet targets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LevelWeights {
    /// Wet target indices (0-based, ascending).
    rows: Vec<u32>,
    /// `rows.len() + 1` offsets into `cols` (and the stored weights).
    ptr: Vec<u32>,
    /// Source indices (0-based); ascending within a row.
    cols: Vec<u32>,
    /// Weight of each entry (`1/n` for a bin average of `n` sources, `1` for the fallback).
    weights: EntryWeights,
    /// How many rows use the nearest-wet fallback (the rest are bin averages).
    n_nearest: usize,
}

/// The weights of a level's entries. Built weights are always `1 / (entries of the row)` (a
/// bin average of `n` sources, or the single nearest source), so they are implied by `ptr`
/// and not stored: 8 bytes less per entry, 54 MB of the 50-level LLC90 weights.
#[derive(Debug, Clone, PartialEq, Default)]
enum EntryWeights {
    /// Every entry of a row of `n` entries weighs `1.0 / n as f64`, bit for bit.
    #[default]
    RowMean,
    /// Weights that are not row means (a weights file may hold any), one per entry.
    Stored(Vec<f64>),
}

/// The weight of every entry of a row of `len` entries under [`EntryWeights::RowMean`]: the
/// very expression the build used to store, so applying either gives the same bits.
#[inline]
fn row_mean(len: u32) -> f64 {
    1.0 / f64::from(len)
}

impl LevelWeights {
    /// Assembles a level from its parts, checking that they fit together and that every index
    /// is below `n_b` (targets) or `n_a` (sources).
    pub fn from_parts(
        rows: Vec<u32>,
        ptr: Vec<u32>,
        cols: Vec<u32>,
        weights: Vec<f64>,
        n_nearest: usize,
        n_b: usize,
        n_a: usize,
    ) -> Result<LevelWeights> {
        let invalid = |what: &str, expected: String, found: String| {
            Err(RegridError::Invalid {
                what: format!("level weights: {what}"),
                expected,
                found,
            })
        };
        check_len("level weights: row offsets", rows.len() + 1, ptr.len())?;
        check_len("level weights: weights", cols.len(), weights.len())?;
        if ptr.first() != Some(&0) || ptr.last().map(|&l| l as usize) != Some(cols.len()) {
            return invalid(
                "row offsets",
                format!("0 .. {}", cols.len()),
                format!("{:?} .. {:?}", ptr.first(), ptr.last()),
            );
        }
        if let Some(w) = ptr.windows(2).position(|w| w[1] <= w[0]) {
            return invalid(
                "row offsets",
                "strictly increasing (no empty row)".into(),
                format!("row {w}"),
            );
        }
        if let Some(w) = rows.windows(2).position(|w| w[1] <= w[0]) {
            return invalid(
                "target rows",
                "strictly ascending".into(),
                format!("position {w}"),
            );
        }
        if let Some(&r) = rows.iter().find(|&&r| r as usize >= n_b) {
            return invalid("target row", format!("< n_b = {n_b}"), r.to_string());
        }
        if let Some(&c) = cols.iter().find(|&&c| c as usize >= n_a) {
            return invalid("source column", format!("< n_a = {n_a}"), c.to_string());
        }
        if n_nearest > rows.len() {
            return invalid(
                "fallback count",
                format!("<= {} rows", rows.len()),
                n_nearest.to_string(),
            );
        }
        let row_means = ptr.windows(2).all(|w| {
            let mean = row_mean(w[1] - w[0]).to_bits();
            weights[w[0] as usize..w[1] as usize]
                .iter()
                .all(|v| v.to_bits() == mean)
        });
        Ok(LevelWeights {
            rows,
            ptr,
            cols,
            weights: if row_means {
                EntryWeights::RowMean
            } else {
                EntryWeights::Stored(weights)
            },
            n_nearest,
        })
    }

    /// Wet target indices (ascending).
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    /// Row offsets (`rows().len() + 1`).
    pub fn ptr(&self) -> &[u32] {
        &self.ptr
    }

    /// Source index of each entry.
    pub fn cols(&self) -> &[u32] {
        &self.cols
    }

    /// Weight of each entry (computed from the row lengths when they are row means).
    pub fn weights(&self) -> std::borrow::Cow<'_, [f64]> {
        match &self.weights {
            EntryWeights::Stored(weights) => std::borrow::Cow::Borrowed(weights),
            EntryWeights::RowMean => std::borrow::Cow::Owned(
                self.ptr
                    .windows(2)
                    .flat_map(|w| {
                        std::iter::repeat_n(row_mean(w[1] - w[0]), (w[1] - w[0]) as usize)
                    })
                    .collect(),
            ),
        }
    }

    /// The weight of entry `e` of row `r`.
    #[inline]
    fn weight(&self, r: usize, e: usize) -> f64 {
        match &self.weights {
            EntryWeights::RowMean => row_mean(self.ptr[r + 1] - self.ptr[r]),
            EntryWeights::Stored(weights) => weights[e],
        }
    }

    /// Number of non-zero entries.
    pub fn n_entries(&self) -> usize {
        self.cols.len()
    }

    /// Number of wet targets.
    pub fn n_wet_targets(&self) -> usize {
        self.rows.len()
    }

    /// Wet targets mapped with the nearest-wet fallback.
    pub fn n_nearest(&self) -> usize {
        self.n_nearest
    }

    /// Wet targets mapped with a bin average.
    pub fn n_bin_average(&self) -> usize {
        self.rows.len() - self.n_nearest
    }

    /// The `(source, weight)` entries of wet target `p`, or `None` when `p` is land.
    pub fn row_of(&self, p: usize) -> Option<(&[u32], Vec<f64>)> {
        let r = self.rows.binary_search(&u32::try_from(p).ok()?).ok()?;
        let (a, b) = (self.ptr[r] as usize, self.ptr[r + 1] as usize);
        Some((
            &self.cols[a..b],
            (a..b).map(|e| self.weight(r, e)).collect(),
        ))
    }

    /// Land mask over all `n_b` targets: `true` where the target is wet.
    pub fn wet_mask(&self, n_b: usize) -> Vec<bool> {
        let mut mask = vec![false; n_b];
        for &p in &self.rows {
            mask[p as usize] = true;
        }
        mask
    }

    /// `out[p] = sum W[p, s] F[s]` in f64 for the wet targets (cast to f32), NaN elsewhere.
    fn apply_into<T: Copy + Into<f64> + Sync>(
        &self,
        field: &[T],
        out: &mut [f32],
        parallel: Parallel,
    ) {
        out.fill(f32::NAN);
        let dot = |r: usize| -> f32 {
            let (a, b) = (self.ptr[r] as usize, self.ptr[r + 1] as usize);
            let mut acc = 0.0f64;
            match &self.weights {
                // The same products in the same order as with stored row means.
                EntryWeights::RowMean => {
                    let w = row_mean(self.ptr[r + 1] - self.ptr[r]);
                    for e in a..b {
                        acc += w * field[self.cols[e] as usize].into();
                    }
                }
                EntryWeights::Stored(weights) => {
                    for e in a..b {
                        acc += weights[e] * field[self.cols[e] as usize].into();
                    }
                }
            }
            acc as f32
        };
        if parallel == Parallel::Rows {
            let values: Vec<f32> = (0..self.rows.len())
                .into_par_iter()
                .with_min_len(4096)
                .map(dot)
                .collect();
            for (&p, v) in self.rows.iter().zip(values) {
                out[p as usize] = v;
            }
        } else {
            for (r, &p) in self.rows.iter().enumerate() {
                out[p as usize] = dot(r);
            }
        }
    }
}

/// Whether [`Weights::apply_level_into`] splits a level's target rows over rayon's threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parallel {
    /// Rows in parallel (one level at a time).
    Rows,
    /// On the calling thread.
    No,
}

/// Figures of a build that the matrices alone do not tell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildStats {
    /// Targets with at least one source (of any kind) within the nearest-neighbour cap.
    pub targets_with_source: usize,
    /// Largest number of `ALL` sources within the radius of one target.
    pub max_within_all: usize,
}

/// Lat-lon regridding weights for every vertical level of a source grid.
///
/// What is stored is the level-independent neighbourhood of every target (the sources within
/// its radius, and its nearest source); the matrix of level `k` follows from it and the wet
/// mask of level `k` without another search, and is derived the first time it is asked for.
/// A 2-D product therefore never derives the 49 levels below the surface, and a weights file
/// holds one neighbourhood instead of 50 matrices.
#[derive(Debug, Clone)]
pub struct Weights {
    pub(crate) source: SourceGrid,
    pub(crate) source_checksum: String,
    pub(crate) target: LatLonGrid,
    pub(crate) limits: SearchLimits,
    pub(crate) stats: BuildStats,
    pub(crate) hood: Neighbourhood,
    /// Whether every wet cell of level `k+1` is wet at `k` (then a level only revisits the wet
    /// targets of the level above, when that one is derived already).
    nested: bool,
    levels: Vec<OnceLock<LevelWeights>>,
}

/// Weights are equal when they map the same source grid onto the same target grid with the
/// same limits and neighbourhood: the checksum, the statistics and every level follow from
/// those.
impl PartialEq for Weights {
    fn eq(&self, other: &Weights) -> bool {
        self.source == other.source
            && self.target == other.target
            && self.limits == other.limits
            && self.hood == other.hood
    }
}

impl Weights {
    /// Builds the weights of every level of `source` onto the grid of `spec` by the V4r4
    /// algorithm (docs/regridding.md §2): one neighbour search per target over all source cells
    /// (parallel over target rows); per level, the wet bin average within `r_p` or the nearest
    /// wet source, and land where the nearest source cell is dry, derived when first used.
    pub fn build(source: &SourceGrid, spec: &LatLonSpec) -> Result<Weights> {
        let target = LatLonGrid::new(*spec)?;
        let limits = SearchLimits::new(source, &target);
        let index = SourceIndex::new(source)?;
        let hood = index.neighbourhood(&target, &limits);
        Weights::from_neighbourhood(source.clone(), source.checksum(), target, limits, hood)
    }

    /// Weights from their level-independent parts, checking that the neighbourhood fits the
    /// grids (every index in range, one list per target) and that no level can hold more
    /// entries than a `u32` counts.
    pub(crate) fn from_neighbourhood(
        source: SourceGrid,
        source_checksum: String,
        target: LatLonGrid,
        limits: SearchLimits,
        hood: Neighbourhood,
    ) -> Result<Weights> {
        let (n_a, n_b) = (source.len(), target.len());
        let invalid = |what: &str, expected: String, found: String| RegridError::Invalid {
            what: format!("neighbourhood: {what}"),
            expected,
            found,
        };
        check_len("neighbourhood: nearest sources", n_b, hood.nearest.len())?;
        check_len("neighbourhood: offsets", n_b + 1, hood.ptr.len())?;
        if hood.ptr.first() != Some(&0)
            || hood.ptr.last() != Some(&hood.within.len())
            || hood.ptr.windows(2).any(|w| w[1] < w[0])
        {
            return Err(invalid(
                "offsets",
                format!("ascending from 0 to {}", hood.within.len()),
                "offsets out of order or range".into(),
            ));
        }
        if let Some(&s) = hood.within.iter().find(|&&s| s as usize >= n_a) {
            return Err(invalid("source", format!("< n_a = {n_a}"), s.to_string()));
        }
        if let Some(&s) = hood
            .nearest
            .iter()
            .find(|&&s| s != NONE && s as usize >= n_a)
        {
            return Err(invalid(
                "nearest source",
                format!("< n_a = {n_a}"),
                s.to_string(),
            ));
        }
        // A level has at most one entry per wet target beyond its within-radius entries.
        if u32::try_from(hood.within.len() + n_b).is_err() {
            return Err(invalid(
                "size",
                "fewer than 2^32 entries per level".into(),
                format!(
                    "{} sources within radii and {n_b} targets",
                    hood.within.len()
                ),
            ));
        }
        let masks = source.wet_masks();
        let nested = masks.windows(2).all(|w| {
            w[0].iter()
                .zip(&w[1])
                .all(|(&upper, &lower)| upper || !lower)
        });
        Ok(Weights {
            stats: BuildStats {
                targets_with_source: hood.targets_with_source(),
                max_within_all: hood.max_within(),
            },
            levels: (0..masks.len()).map(|_| OnceLock::new()).collect(),
            nested,
            source,
            source_checksum,
            target,
            limits,
            hood,
        })
    }

    /// The source grid the weights were built from.
    pub fn source(&self) -> &SourceGrid {
        &self.source
    }

    /// [`SourceGrid::checksum`] of the source grid.
    pub fn source_checksum(&self) -> &str {
        &self.source_checksum
    }

    /// The target grid.
    pub fn target(&self) -> &LatLonGrid {
        &self.target
    }

    /// The search limits used.
    pub fn limits(&self) -> &SearchLimits {
        &self.limits
    }

    /// Level-independent figures of the build.
    pub fn stats(&self) -> &BuildStats {
        &self.stats
    }

    /// Number of source points `n_a`.
    pub fn n_source(&self) -> usize {
        self.source.len()
    }

    /// Number of target cells `n_b`.
    pub fn n_target(&self) -> usize {
        self.target.len()
    }

    /// Number of vertical levels.
    pub fn n_levels(&self) -> usize {
        self.levels.len()
    }

    /// The weights of level `k`, derived from the neighbourhood on first use.
    pub fn level(&self, k: usize) -> Result<&LevelWeights> {
        let cell = self.levels.get(k).ok_or_else(|| RegridError::Level {
            level: k,
            n_levels: self.levels.len(),
            what: "the weights".into(),
        })?;
        Ok(cell.get_or_init(|| self.derive_level(k)))
    }

    /// All levels, surface first (each derived on first use).
    pub fn levels(&self) -> impl ExactSizeIterator<Item = &LevelWeights> {
        (0..self.levels.len()).map(|k| self.levels[k].get_or_init(|| self.derive_level(k)))
    }

    /// Derives the matrix of level `k` (see `neighbours` for why no search is needed).
    fn derive_level(&self, k: usize) -> LevelWeights {
        let wet = &self.source.wet_masks()[k];
        // With nested masks a target that is land at level k-1 stays land at k, so the wet
        // targets of the level above (when derived already) are the only candidates.
        let above = k
            .checked_sub(1)
            .filter(|_| self.nested)
            .and_then(|k| self.levels[k].get());
        let cap = self.limits.neighbour_cap;
        match above {
            Some(above) => level_weights(&self.hood, wet, above.rows().iter().copied(), cap),
            // Every target index fits in u32: `from_neighbourhood` checked the sizes.
            None => level_weights(&self.hood, wet, 0..self.hood.nearest.len() as u32, cap),
        }
    }

    /// Land mask of level `k` over the targets (`true` = wet, `false` = land/NaN).
    pub fn target_wet_mask(&self, k: usize) -> Result<Vec<bool>> {
        Ok(self.level(k)?.wet_mask(self.n_target()))
    }

    /// Regrids one level of a field given on **all** `n_a` source points (flat order; values
    /// at dry sources are ignored). Computed in f64, returned as f32 with NaN on land.
    pub fn apply_level<T: Copy + Into<f64> + Sync>(
        &self,
        k: usize,
        field: &[T],
    ) -> Result<Vec<f32>> {
        let mut out = vec![f32::NAN; self.n_target()];
        self.apply_level_into(k, field, &mut out, Parallel::Rows)?;
        Ok(out)
    }

    /// [`Weights::apply_level`] into `out` (`n_b` values, all overwritten), for callers that
    /// regrid into buffers of their own. With [`Parallel::No`] the level is computed on the
    /// calling thread, for callers already parallel over levels (splitting each level's rows
    /// as well only added a gather buffer and a copy per level).
    pub fn apply_level_into<T: Copy + Into<f64> + Sync>(
        &self,
        k: usize,
        field: &[T],
        out: &mut [f32],
        parallel: Parallel,
    ) -> Result<()> {
        let level = self.level(k)?;
        check_len(format!("field of level {k}"), self.n_source(), field.len())?;
        check_len(format!("output of level {k}"), self.n_target(), out.len())?;
        level.apply_into(field, out, parallel);
        Ok(())
    }

    /// Regrids one level of a field given only at the **wet** sources of level `k`, in
    /// ascending source order (EDP's convention for its sparse matrices).
    pub fn apply_level_wet<T: Copy + Into<f64> + Sync>(
        &self,
        k: usize,
        wet_values: &[T],
    ) -> Result<Vec<f32>> {
        let wet = self.source.wet(k)?;
        let n_wet = wet.iter().filter(|&&w| w).count();
        check_len(format!("wet values of level {k}"), n_wet, wet_values.len())?;
        let mut full = vec![0.0f64; wet.len()];
        let mut values = wet_values.iter();
        for (slot, _) in full.iter_mut().zip(wet).filter(|(_, w)| **w) {
            if let Some(&v) = values.next() {
                *slot = v.into();
            }
        }
        self.apply_level(k, &full)
    }

    /// Regrids a 3-D field `[k][s]` with `n_levels * n_a` values (level `k` with `W_k`) into
    /// `[k][p]` (`n_levels * n_b` values). Parallel over levels.
    pub fn apply_3d<T: Copy + Into<f64> + Sync>(&self, field: &[T]) -> Result<Vec<f32>> {
        let (n_a, n_b) = (self.n_source(), self.n_target());
        check_len(
            format!("3-D field ({} levels x {n_a} sources)", self.n_levels()),
            self.n_levels() * n_a,
            field.len(),
        )?;
        let mut out = vec![f32::NAN; self.n_levels() * n_b];
        out.par_chunks_mut(n_b)
            .zip(field.par_chunks(n_a))
            .enumerate()
            .try_for_each(|(k, (dst, src))| {
                self.level(k)?.apply_into(src, dst, Parallel::No);
                Ok(())
            })?;
        Ok(out)
    }
}

/// One level's matrix over the `candidates` targets (ascending).
///
/// Sequential on purpose: levels are derived inside `OnceLock::get_or_init`, often from rayon
/// jobs (one per level in [`Weights::apply_3d`]). Waiting there for rayon jobs of its own would
/// let this thread steal a job that asks for the same level, which blocks forever on the cell
/// it is initialising. A level takes milliseconds; the parallelism is across levels.
fn level_weights(
    hood: &Neighbourhood,
    wet: &[bool],
    candidates: impl ExactSizeIterator<Item = u32>,
    cap: usize,
) -> LevelWeights {
    let mut level = LevelWeights {
        rows: Vec::with_capacity(candidates.len()),
        ptr: Vec::with_capacity(candidates.len() + 1),
        cols: Vec::with_capacity(candidates.len() * 2),
        weights: EntryWeights::RowMean,
        n_nearest: 0,
    };
    level.ptr.push(0);
    for p in candidates {
        let s0 = hood.nearest[p as usize];
        if s0 == NONE || !wet[s0 as usize] {
            continue; // land at this level
        }
        let start = level.cols.len();
        level.cols.extend(
            hood.within(p as usize)
                .iter()
                .copied()
                .filter(|&s| wet[s as usize])
                .take(cap),
        );
        if level.cols.len() == start {
            level.cols.push(s0);
            level.n_nearest += 1;
        }
        level.cols[start..].sort_unstable();
        level.rows.push(p);
        // At most one entry per source within a radius plus one per fallback row: below
        // 2^32, as `Weights::from_neighbourhood` checked.
        level.ptr.push(level.cols.len() as u32);
    }
    level.rows.shrink_to_fit();
    level.ptr.shrink_to_fit();
    level.cols.shrink_to_fit();
    level
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_means_are_implied_and_other_weights_stored() {
        // Two rows of 2 and 1 entries: weights 1/2, 1/2 and 1 are row means.
        let parts = |w: Vec<f64>| {
            LevelWeights::from_parts(vec![0, 2], vec![0, 2, 3], vec![0, 1, 2], w, 1, 3, 3).unwrap()
        };
        let means = parts(vec![0.5, 0.5, 1.0]);
        assert_eq!(means.weights, EntryWeights::RowMean);
        assert_eq!(&*means.weights(), &[0.5, 0.5, 1.0]);
        let mut out = vec![0.0f32; 3];
        means.apply_into(&[2.0f32, 4.0, 7.0], &mut out, Parallel::No);
        assert_eq!(out[0], 3.0);
        assert!(out[1].is_nan());
        assert_eq!(out[2], 7.0);
        // Anything else is kept as given and applied as given.
        let other = parts(vec![0.25, 0.75, 1.0]);
        assert_eq!(other.weights, EntryWeights::Stored(vec![0.25, 0.75, 1.0]));
        assert_eq!(other.row_of(0).unwrap(), (&[0u32, 1][..], vec![0.25, 0.75]));
        other.apply_into(&[2.0f32, 4.0, 7.0], &mut out, Parallel::Rows);
        assert_eq!(out[0], 3.5);
        // 1/3 is a row mean only as the exact double `1.0 / 3.0`.
        let third = 1.0 / 3.0;
        let three = LevelWeights::from_parts(
            vec![0],
            vec![0, 3],
            vec![0, 1, 2],
            vec![third, third, third],
            0,
            1,
            3,
        )
        .unwrap();
        assert_eq!(three.weights, EntryWeights::RowMean);
        let near = LevelWeights::from_parts(
            vec![0],
            vec![0, 3],
            vec![0, 1, 2],
            vec![0.333_333_333, third, third],
            0,
            1,
            3,
        )
        .unwrap();
        assert!(matches!(near.weights, EntryWeights::Stored(_)));
    }
    use crate::geometry::CHORD_SPHERE_RADIUS_M;
    use crate::target::TargetRadius;

    /// One 1 x 1 deg target cell centred on (0.5, 0.5) with a fixed 50 km radius.
    fn one_cell() -> LatLonSpec {
        LatLonSpec {
            resolution_deg: 1.0,
            lon_min: 0.0,
            lon_max: 1.0,
            lat_min: 0.0,
            lat_max: 1.0,
            radius: TargetRadius::Fixed(50_000.0),
        }
    }

    /// Longitude of a point on the parallel 0.5 N that is `km` east of the target centre
    /// (small-angle, good to well under a kilometre at these distances).
    fn lon_east(km: f64) -> f64 {
        0.5 + (km * 1000.0 / (CHORD_SPHERE_RADIUS_M * 0.5f64.to_radians().cos())).to_degrees()
    }

    fn source(lons: Vec<f64>, wet: Vec<bool>, max_l: f64) -> SourceGrid {
        let n = lons.len();
        SourceGrid::new(vec![n], lons, vec![0.5; n], vec![wet], 1000.0, max_l).unwrap()
    }

    #[test]
    fn wet_sources_within_the_radius_get_equal_weights() {
        // Sources at 10 km (wet), 20 km (dry), 30 km (wet) and 80 km (wet, outside r).
        let src = source(
            vec![
                lon_east(30.0),
                lon_east(10.0),
                lon_east(20.0),
                lon_east(80.0),
            ],
            vec![true, true, false, true],
            200_000.0,
        );
        let w = Weights::build(&src, &one_cell()).unwrap();
        let level = w.level(0).unwrap();
        let (cols, weights) = level.row_of(0).unwrap();
        assert_eq!(cols, &[0, 1]);
        assert_eq!(weights, &[0.5, 0.5]);
        assert_eq!((level.n_bin_average(), level.n_nearest()), (1, 0));
        let out = w.apply_level(0, &[2.0f32, 4.0, 1e30, 1e30]).unwrap();
        assert_eq!(out, vec![3.0]);
        assert_eq!(w.stats().max_within_all, 3);
    }

    #[test]
    fn a_level_regridded_into_a_buffer_overwrites_it_whether_rows_are_split_or_not() {
        let wet = source(
            vec![lon_east(30.0), lon_east(10.0), lon_east(20.0)],
            vec![true, true, false],
            200_000.0,
        );
        let land = source(
            vec![lon_east(5.0), lon_east(10.0)],
            vec![false, true],
            200_000.0,
        );
        let wet = Weights::build(&wet, &one_cell()).unwrap();
        let land = Weights::build(&land, &one_cell()).unwrap();
        for parallel in [Parallel::Rows, Parallel::No] {
            // Stale values in the buffer: the mean replaces one, NaN (land) the other.
            let mut out = [f32::INFINITY];
            wet.apply_level_into(0, &[2.0f32, 4.0, 1e30], &mut out, parallel)
                .unwrap();
            assert_eq!(out, [3.0]);
            land.apply_level_into(0, &[1.0f32, 1.0], &mut out, parallel)
                .unwrap();
            assert!(out[0].is_nan());
            // A buffer of another length is an error naming it, not a panic.
            let err = wet
                .apply_level_into(0, &[2.0f32, 4.0, 1e30], &mut [0.0; 2], parallel)
                .unwrap_err();
            assert!(err.to_string().contains("output of level 0"), "{err}");
        }
    }

    #[test]
    fn dry_nearest_cell_makes_the_target_land() {
        let src = source(
            vec![lon_east(5.0), lon_east(10.0)],
            vec![false, true],
            200_000.0,
        );
        let w = Weights::build(&src, &one_cell()).unwrap();
        assert_eq!(w.level(0).unwrap().n_wet_targets(), 0);
        assert!(w.apply_level(0, &[1.0f32, 1.0]).unwrap()[0].is_nan());
    }

    #[test]
    fn nearest_wet_fallback_beyond_the_radius_but_within_max_l() {
        let src = source(
            vec![lon_east(90.0), lon_east(120.0)],
            vec![true, true],
            100_000.0,
        );
        let w = Weights::build(&src, &one_cell()).unwrap();
        let level = w.level(0).unwrap();
        assert_eq!(level.row_of(0).unwrap(), (&[0u32][..], vec![1.0]));
        assert_eq!(level.n_nearest(), 1);
        assert_eq!(w.stats().targets_with_source, 1);
        // The same sources with max_L below 90 km: no source at all, land.
        let src = source(
            vec![lon_east(90.0), lon_east(120.0)],
            vec![true, true],
            85_000.0,
        );
        let w = Weights::build(&src, &one_cell()).unwrap();
        assert_eq!(w.level(0).unwrap().n_wet_targets(), 0);
        assert_eq!(w.stats().targets_with_source, 0);
    }

    #[test]
    fn exact_distance_ties_go_to_the_smaller_source_index() {
        // Two sources at the same position beyond the radius; only one is wet. The land mask
        // follows the smaller index.
        let lon = lon_east(70.0);
        let w = Weights::build(
            &source(vec![lon, lon], vec![false, true], 200_000.0),
            &one_cell(),
        )
        .unwrap();
        assert_eq!(w.level(0).unwrap().n_wet_targets(), 0);
        let w = Weights::build(
            &source(vec![lon, lon], vec![true, false], 200_000.0),
            &one_cell(),
        )
        .unwrap();
        assert_eq!(w.level(0).unwrap().row_of(0).unwrap().0, &[0]);
    }

    #[test]
    fn levels_follow_their_own_wet_masks() {
        let lons = vec![lon_east(10.0), lon_east(20.0)];
        let src = SourceGrid::new(
            vec![2],
            lons,
            vec![0.5; 2],
            vec![vec![true, true], vec![true, false], vec![false, true]],
            1000.0,
            200_000.0,
        )
        .unwrap();
        let w = Weights::build(&src, &one_cell()).unwrap();
        assert_eq!(w.level(0).unwrap().row_of(0).unwrap().0, &[0, 1]);
        assert_eq!(w.level(1).unwrap().row_of(0).unwrap().0, &[0]);
        // Not nested: level 2 is land (its nearest cell is dry) although a wet cell is within r.
        assert_eq!(w.level(2).unwrap().n_wet_targets(), 0);
        let out = w.apply_3d(&[1.0f64, 3.0, 5.0, 7.0, 9.0, 11.0]).unwrap();
        assert_eq!(&out[..2], &[2.0, 5.0]);
        assert!(out[2].is_nan());
        assert_eq!(w.apply_level_wet(1, &[5.0f32]).unwrap(), vec![5.0]);
        assert!(w.apply_level(3, &[0.0f32; 2]).is_err());
        assert!(w.apply_level(0, &[0.0f32; 3]).is_err());
    }
}
