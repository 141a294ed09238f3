//! Cell-corner (G point) arrays extended to `(N+1) x (N+1)` per tile, and the cell bounds
//! `XC_bnds`/`YC_bnds` built from them (docs/mds-llc.md §4.2, §5.3).
//!
//! `G(t, jg, ig)` equals `XG/YG` for `jg, ig < N`. The `N`-th row and column come from the
//! neighbour tile by the rule of §5.3:
//!
//! | case | link | value |
//! |---|---|---|
//! | `ig = N`, `jg < N` | E -> B's W | `G_B(jg, 0)` |
//! | `ig = N`, `jg < N` | E -> B's S, rev | `G_B(0, N - jg)` |
//! | `jg = N`, `ig < N` | N -> B's S | `G_B(0, ig)` |
//! | `jg = N`, `ig < N` | N -> B's W, rev | `G_B(N - ig, 0)` |
//! | `jg = ig = N` | the E rule with `jg = N` (recursing), else the N rule | |
//!
//! On LLC90 the rule resolves 2,168 of the 2,353 extension points. The other 185 (the cap
//! corner shared by tiles 2, 6, 10; `G(3, 0, N)`; the `ig = N` columns of tiles 9 and 12)
//! are taken from the facet's `.mitgrid` file when present; points still unknown after that
//! are extrapolated linearly on the unit sphere from the two previous columns (or rows) and
//! flagged [`CornerSource::Extrapolated`] (not bit-identical to the released grid file; for
//! tile 12's last column of LLC90 the extrapolation misses `tile005.mitgrid` by about 0.5 km).

use crate::connectivity::{Edge, Link, neighbour};
use crate::geometry::extrapolate;
use crate::mitgrid::{Mitgrids, facet_position};

/// Where a corner value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CornerSource {
    /// `XG/YG` of the tile itself (`jg, ig < N`).
    Interior,
    /// The §5.3 neighbour rule, from interior points only.
    Rule,
    /// A `.mitgrid` file (directly, or through the rule from a `.mitgrid` point).
    Mitgrid,
    /// Read from cell bounds in a grid-geometry NetCDF file.
    File,
    /// Computed from closed formulas (synthetic grids).
    Analytic,
    /// Extrapolated fallback: not exact.
    Extrapolated,
}

/// Extended corner coordinates of all 13 tiles: `[t][jg][ig]`, `jg, ig` in `0..=N`.
#[derive(Debug, Clone, PartialEq)]
pub struct Corners {
    /// Tile size `N`.
    pub n: usize,
    /// Longitudes (degrees east), `13 (N+1)^2` values.
    pub lon: Vec<f64>,
    /// Latitudes (degrees north), same layout.
    pub lat: Vec<f64>,
    /// Provenance of every value, same layout.
    pub source: Vec<CornerSource>,
}

/// Maximum chain length of the §5.3 rule (the longest real chain is 2 steps; cycles around
/// the cap corner are cut here).
const MAX_RULE_STEPS: usize = 4;

impl Corners {
    /// Index of `(t, jg, ig)` in the arrays.
    #[inline]
    pub fn index(&self, t: usize, jg: usize, ig: usize) -> usize {
        (t * (self.n + 1) + jg) * (self.n + 1) + ig
    }

    /// `(lon, lat)` of corner `(t, jg, ig)`.
    pub fn get(&self, t: usize, jg: usize, ig: usize) -> (f64, f64) {
        let k = self.index(t, jg, ig);
        (self.lon[k], self.lat[k])
    }

    /// Number of corners of the given provenance.
    pub fn count(&self, source: CornerSource) -> usize {
        self.source.iter().filter(|s| **s == source).count()
    }

    /// Where the corners come from, for logs and granule provenance: `grid-geometry file`,
    /// `grid files (neighbour rule, mitgrid)`, `analytic`, or, when some were extrapolated,
    /// `extrapolated: K of M outer corners (no grid-geometry file, no .mitgrid value): not
    /// exact`.
    pub fn provenance(&self) -> String {
        let total = self.source.len();
        let extrapolated = self.count(CornerSource::Extrapolated);
        if self.count(CornerSource::File) == total {
            "grid-geometry file (XC_bnds, YC_bnds)".to_string()
        } else if self.count(CornerSource::Analytic) == total {
            "analytic".to_string()
        } else if extrapolated > 0 {
            let outer = total - self.count(CornerSource::Interior);
            format!(
                "extrapolated: {extrapolated} of {outer} outer corners (no grid-geometry file \
                 and no .mitgrid value for them): not exact"
            )
        } else {
            "grid files (neighbour rule, .mitgrid)".to_string()
        }
    }

    /// True when no corner was extrapolated.
    pub fn is_exact(&self) -> bool {
        self.count(CornerSource::Extrapolated) == 0
    }

    /// Extends `XG/YG` (`[t][j][i]`, `13 N^2` values each) to all corners: the §5.3 rule,
    /// then the `.mitgrid` records (`mitgrids[f-1]` for facet `f`), then extrapolation.
    pub fn extend(n: usize, xg: &[f64], yg: &[f64], mitgrids: &Mitgrids) -> Corners {
        let m = n + 1;
        let len = 13 * m * m;
        let mut c = Corners {
            n,
            lon: vec![f64::NAN; len],
            lat: vec![f64::NAN; len],
            source: vec![CornerSource::Extrapolated; len],
        };
        let mut known: Vec<Option<(f64, f64)>> = vec![None; len];
        for t in 0..13 {
            for j in 0..n {
                for i in 0..n {
                    let src = (t * n + j) * n + i;
                    let k = c.index(t, j, i);
                    // Short input arrays give NaN corners rather than a panic.
                    let at = |v: &[f64]| v.get(src).copied().unwrap_or(f64::NAN);
                    known[k] = Some((at(xg), at(yg)));
                    c.source[k] = CornerSource::Interior;
                }
            }
        }
        let boundary: Vec<(usize, usize, usize)> = (0..13)
            .flat_map(|t| (0..=n).flat_map(move |jg| (0..=n).map(move |ig| (t, jg, ig))))
            .filter(|(_, jg, ig)| *jg == n || *ig == n)
            .collect();

        // 1. The neighbour rule from interior points.
        c.apply_rule(&boundary, &mut known, CornerSource::Rule);
        // 2. The facet's .mitgrid file.
        for &(t, jg, ig) in &boundary {
            let k = c.index(t, jg, ig);
            if known[k].is_none() {
                let (facet, y, x) = facet_position(n, t, jg, ig);
                if let Some(mg) = &mitgrids[facet - 1] {
                    known[k] = Some(mg.corner(y, x));
                    c.source[k] = CornerSource::Mitgrid;
                }
            }
        }
        // 3. The rule again, now reaching points taken from other facets' .mitgrid files.
        c.apply_rule(&boundary, &mut known, CornerSource::Mitgrid);
        // 4. Extrapolation for whatever is left (e.g. tile 12's last column without
        //    tile005.mitgrid).
        loop {
            let mut progress = false;
            for &(t, jg, ig) in &boundary {
                let k = c.index(t, jg, ig);
                if known[k].is_some() || n < 2 {
                    continue;
                }
                let at = |jg: usize, ig: usize| known[c.index(t, jg, ig)];
                let along_i = if ig == n {
                    at(jg, n - 2).zip(at(jg, n - 1))
                } else {
                    None
                };
                let along_j = if jg == n {
                    at(n - 2, ig).zip(at(n - 1, ig))
                } else {
                    None
                };
                if let Some((before, last)) = along_i.or(along_j) {
                    known[k] = Some(extrapolate(before, last));
                    c.source[k] = CornerSource::Extrapolated;
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        for (k, v) in known.iter().enumerate() {
            if let Some((lon, lat)) = v {
                c.lon[k] = *lon;
                c.lat[k] = *lat;
            }
        }
        c
    }

    fn apply_rule(
        &mut self,
        boundary: &[(usize, usize, usize)],
        known: &mut [Option<(f64, f64)>],
        source: CornerSource,
    ) {
        loop {
            let mut progress = false;
            for &(t, jg, ig) in boundary {
                let k = self.index(t, jg, ig);
                if known[k].is_some() {
                    continue;
                }
                if let Some(v) = rule(self.n, known, t, jg, ig, MAX_RULE_STEPS) {
                    known[k] = Some(v);
                    self.source[k] = source;
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
    }

    /// Rebuilds the extended corners from cell bounds (`[t][j][i][nb]`, `nb` = SW, SE, NE, NW),
    /// as stored in grid-geometry NetCDF files.
    pub fn from_bounds(n: usize, xc_bnds: &[f64], yc_bnds: &[f64]) -> Corners {
        let m = n + 1;
        let mut c = Corners {
            n,
            lon: vec![f64::NAN; 13 * m * m],
            lat: vec![f64::NAN; 13 * m * m],
            source: vec![CornerSource::File; 13 * m * m],
        };
        let b = |t: usize, j: usize, i: usize, nb: usize| (((t * n + j) * n + i) * 4) + nb;
        for t in 0..13 {
            for jg in 0..=n {
                for ig in 0..=n {
                    // The cell that has this corner, and which of its corners it is.
                    let (j, i, nb) = match (jg == n, ig == n) {
                        (false, false) => (jg, ig, 0),
                        (false, true) => (jg, n - 1, 1),
                        (true, true) => (n - 1, n - 1, 2),
                        (true, false) => (n - 1, ig, 3),
                    };
                    let k = c.index(t, jg, ig);
                    let at = |v: &[f64]| v.get(b(t, j, i, nb)).copied().unwrap_or(f64::NAN);
                    c.lon[k] = at(xc_bnds);
                    c.lat[k] = at(yc_bnds);
                }
            }
        }
        c
    }

    fn bnds<T>(&self, pick: impl Fn(usize) -> T) -> Vec<T> {
        let n = self.n;
        let mut out = Vec::with_capacity(13 * n * n * 4);
        for t in 0..13 {
            for j in 0..n {
                for i in 0..n {
                    for (jg, ig) in [(j, i), (j, i + 1), (j + 1, i + 1), (j + 1, i)] {
                        out.push(pick(self.index(t, jg, ig)));
                    }
                }
            }
        }
        out
    }

    /// `XC_bnds` `(tile, j, i, nb)`: corner longitudes of each cell in the order SW, SE, NE,
    /// NW of index space (`G(j,i)`, `G(j,i+1)`, `G(j+1,i+1)`, `G(j+1,i)`).
    pub fn xc_bnds(&self) -> Vec<f64> {
        self.bnds(|k| self.lon[k])
    }

    /// `YC_bnds` `(tile, j, i, nb)`, same order as [`Corners::xc_bnds`].
    pub fn yc_bnds(&self) -> Vec<f64> {
        self.bnds(|k| self.lat[k])
    }

    /// [`Corners::xc_bnds`] rounded to float32 (as granules store them), without the float64
    /// array in between.
    pub fn xc_bnds_f32(&self) -> Vec<f32> {
        self.bnds(|k| self.lon[k] as f32)
    }

    /// [`Corners::yc_bnds`] rounded to float32.
    pub fn yc_bnds_f32(&self) -> Vec<f32> {
        self.bnds(|k| self.lat[k] as f32)
    }
}

/// The §5.3 rule for corner `(t, jg, ig)`, following chains through other extension points
/// for at most `steps` steps.
fn rule(
    n: usize,
    known: &[Option<(f64, f64)>],
    t: usize,
    jg: usize,
    ig: usize,
    steps: usize,
) -> Option<(f64, f64)> {
    let m = n + 1;
    let lookup = |t: usize, jg: usize, ig: usize| -> Option<(f64, f64)> {
        known[(t * m + jg) * m + ig].or_else(|| {
            if steps > 1 {
                rule(n, known, t, jg, ig, steps - 1)
            } else {
                None
            }
        })
    };
    let east = |jg: usize| match neighbour(t, Edge::East) {
        Some(Link {
            tile,
            edge: Edge::West,
            ..
        }) => lookup(tile, jg, 0),
        Some(Link {
            tile,
            edge: Edge::South,
            ..
        }) => lookup(tile, 0, n - jg),
        _ => None,
    };
    let north = |ig: usize| match neighbour(t, Edge::North) {
        Some(Link {
            tile,
            edge: Edge::South,
            ..
        }) => lookup(tile, 0, ig),
        Some(Link {
            tile,
            edge: Edge::West,
            ..
        }) => lookup(tile, n - ig, 0),
        _ => None,
    };
    match (jg == n, ig == n) {
        (false, true) => east(jg),
        (true, false) => north(ig),
        (true, true) => east(n).or_else(|| north(n)),
        (false, false) => None,
    }
}
