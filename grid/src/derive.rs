//! Derived grid quantities (docs/mds-llc.md §4.2): open fractions `hFacC/W/S` and wet masks.
//!
//! `hFacC[k] = clamp((Depth + RF[k]) / DRF[k], 0, 1)` is exact for MITgcm grids because
//! `Depth` is written after the partial-cell rounding. Without ice shelves
//! `hFacW = min(hFacC, hFacC(i-1))` and `hFacS = min(hFacC, hFacC(j-1))`, where the `i-1`/`j-1`
//! cell comes from the neighbour tile at the west/south tile edge and is land across the
//! open south-polar edges.
//!
//! All 3-D arrays are `[k][t][j][i]`.

use crate::connectivity::ghost_cell;
use rayon::prelude::*;

/// `hFacC` for every level from column depths (`[t][j][i]`, positive metres) and the
/// vertical grid (`rf`: `nz + 1` interfaces, `drf`: `nz` thicknesses).
pub fn hfac_c_from_depth(depth: &[f64], rf: &[f64], drf: &[f64]) -> Vec<f64> {
    let cells = depth.len();
    let mut out = vec![0.0; cells * drf.len()];
    out.par_chunks_mut(cells.max(1))
        .enumerate()
        .for_each(|(k, level)| {
            let top = rf.get(k).copied().unwrap_or(f64::NAN);
            let thick = drf[k];
            for (h, d) in level.iter_mut().zip(depth) {
                *h = ((d + top) / thick).clamp(0.0, 1.0);
            }
        });
    out
}

/// [`hfac_c_from_depth`] rounded to float32, with its wet mask (`hFacC > 0` of the float64
/// value), in one pass: the grid keeps only these, and building the float64 arrays first
/// (42 MB each on LLC90) cost more in page faults than the arithmetic.
pub fn hfac_c_f32_from_depth(depth: &[f64], rf: &[f64], drf: &[f64]) -> (Vec<f32>, Vec<bool>) {
    let cells = depth.len();
    let mut hfac = vec![0f32; cells * drf.len()];
    let mut mask = vec![false; hfac.len()];
    hfac.par_chunks_mut(cells.max(1))
        .zip(mask.par_chunks_mut(cells.max(1)))
        .enumerate()
        .for_each(|(k, (level, wet))| {
            let top = rf.get(k).copied().unwrap_or(f64::NAN);
            let thick = drf[k];
            for ((h, m), d) in level.iter_mut().zip(wet.iter_mut()).zip(depth) {
                let value = ((d + top) / thick).clamp(0.0, 1.0);
                *h = value as f32;
                *m = value > 0.0;
            }
        });
    (hfac, mask)
}

/// Which neighbour an `hFac` face takes its second cell from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// West face: cell `(j, i-1)`.
    West,
    /// South face: cell `(j-1, i)`.
    South,
}

/// The cell (index within a level) that the `face` of every cell of a level shares with it;
/// `None`: land beyond the domain edge.
fn face_partners(n: usize, face: Face) -> Vec<Option<usize>> {
    (0..13 * n * n)
        .into_par_iter()
        .map(|c| {
            let (t, j, i) = (c / (n * n), (c / n) % n, c % n);
            let (jj, ii) = match face {
                Face::West => (j as isize, i as isize - 1),
                Face::South => (j as isize - 1, i as isize),
            };
            ghost_cell(n, t, jj, ii).map(|(bt, bj, bi)| (bt * n + bj) * n + bi)
        })
        .collect()
}

/// A face `hFac` (`West`: `hFacW`, `South`: `hFacS`) from the float32 `hFacC` of an LLC(`n`)
/// grid, with its wet mask (`> 0`). Equal to [`hfac_w_from_c`] / [`hfac_s_from_c`] of the
/// float64 `hFacC` rounded afterwards: rounding to float32 is monotonic, so the minimum of
/// the rounded values is the rounded minimum.
pub fn hfac_face_f32(n: usize, hfac_c: &[f32], face: Face) -> (Vec<f32>, Vec<bool>) {
    let level_len = 13 * n * n;
    let partner = face_partners(n, face);
    let mut hfac = vec![0f32; hfac_c.len()];
    let mut mask = vec![false; hfac_c.len()];
    hfac.par_chunks_mut(level_len.max(1))
        .zip(mask.par_chunks_mut(level_len.max(1)))
        .zip(hfac_c.par_chunks(level_len.max(1)))
        .for_each(|((dst, wet), src)| {
            for (((d, m), here), p) in dst.iter_mut().zip(wet.iter_mut()).zip(src).zip(&partner) {
                let value = match p {
                    Some(p) => here.min(src[*p]),
                    None => 0.0,
                };
                *d = value;
                *m = value > 0.0;
            }
        });
    (hfac, mask)
}

fn hfac_face(n: usize, hfac_c: &[f64], face: Face) -> Vec<f64> {
    let level_len = 13 * n * n;
    let partner = face_partners(n, face);
    let mut out = vec![0.0; hfac_c.len()];
    out.par_chunks_mut(level_len.max(1))
        .zip(hfac_c.par_chunks(level_len.max(1)))
        .for_each(|(dst, src)| {
            for ((d, here), p) in dst.iter_mut().zip(src).zip(&partner) {
                *d = match p {
                    Some(p) => here.min(src[*p]),
                    None => 0.0,
                };
            }
        });
    out
}

/// `hFacW` (west faces, dims `(k, tile, j, i_g)`) from `hFacC` of an LLC(`n`) grid.
pub fn hfac_w_from_c(n: usize, hfac_c: &[f64]) -> Vec<f64> {
    hfac_face(n, hfac_c, Face::West)
}

/// `hFacS` (south faces, dims `(k, tile, j_g, i)`) from `hFacC` of an LLC(`n`) grid.
pub fn hfac_s_from_c(n: usize, hfac_c: &[f64]) -> Vec<f64> {
    hfac_face(n, hfac_c, Face::South)
}

/// `values` rounded to float32 (parallel).
pub fn to_f32(values: &[f64]) -> Vec<f32> {
    values.par_iter().map(|v| *v as f32).collect()
}

/// Wet mask: `hfac > 0`.
pub fn mask_from_hfac(hfac: &[f64]) -> Vec<bool> {
    hfac.par_iter().map(|h| *h > 0.0).collect()
}

/// MITgcm's partial-cell rule applied to raw bathymetry (positive metres): per level
/// `h = clamp((RF[k] + bathy) / DRF[k], 0, 1)`, then with
/// `hFacMnSz = max(hfac_min, min(hfac_min_dr / DRF[k], 1))` a cell becomes 0 when
/// `h < hFacMnSz / 2` and `max(h, hFacMnSz)` otherwise. Returns the model `Depth`
/// (`sum_k h * DRF[k]`), from which [`hfac_c_from_depth`] reproduces the rounded `h`.
pub fn depth_after_partial_cells(
    bathy: &[f64],
    rf: &[f64],
    drf: &[f64],
    hfac_min: f64,
    hfac_min_dr: f64,
) -> Vec<f64> {
    bathy
        .par_iter()
        .map(|b| {
            let mut depth = 0.0;
            for (thick, top) in drf.iter().zip(rf) {
                let h = ((top + b) / thick).clamp(0.0, 1.0);
                let min_size = hfac_min.max((hfac_min_dr / thick).min(1.0));
                let h = if h < 0.5 * min_size {
                    0.0
                } else {
                    h.max(min_size)
                };
                if h == 0.0 {
                    // Deeper levels of a column are closed once one is (no overhangs).
                    break;
                }
                depth += h * thick;
            }
            depth
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vertical::Vertical;

    #[test]
    fn hfac_c_of_a_partial_column() {
        let v = Vertical::from_thicknesses(&[10.0, 10.0, 20.0]);
        // 15 m: first level full, second half, third dry; 0 m: all dry; 100 m: all full.
        let h = hfac_c_from_depth(&[15.0, 0.0, 100.0], &v.rf, &v.drf);
        assert_eq!(h, vec![1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn partial_cell_rule_rounds_and_depth_round_trips() {
        let v = Vertical::from_thicknesses(&[10.0, 10.0, 20.0]);
        // hFacMnSz: 0.5 for 10 m levels (hFacMinDr 5 m), 0.25 for 20 m.
        let d = depth_after_partial_cells(&[12.0, 13.0, 21.0, 24.0, 3.0], &v.rf, &v.drf, 0.2, 5.0);
        // 12 m: second level 0.2 < 0.25 -> closed; 13 m: 0.3 -> raised to 0.5;
        // 21 m: third level 0.05 < 0.125 -> closed; 24 m: 0.2 -> raised to 0.25;
        // 3 m: first level 0.3 -> 0.5.
        assert_eq!(d, vec![10.0, 15.0, 20.0, 25.0, 5.0]);
        let h = hfac_c_from_depth(&d, &v.rf, &v.drf);
        assert_eq!(&h[5..10], &[0.0, 0.5, 1.0, 1.0, 0.0]);
        assert_eq!(&h[10..15], &[0.0, 0.0, 0.0, 0.25, 0.0]);
    }

    #[test]
    fn faces_take_the_minimum_with_the_neighbour_across_tiles() {
        let n = 2;
        // One level; cell value = distinct positive codes.
        let c: Vec<f64> = (0..13 * n * n).map(|x| 1.0 + x as f64).collect();
        let w = hfac_w_from_c(n, &c);
        let s = hfac_s_from_c(n, &c);
        let idx = |t: usize, j: usize, i: usize| (t * n + j) * n + i;
        // Interior: min with the cell to the west / south.
        assert_eq!(w[idx(1, 1, 1)], c[idx(1, 1, 0)]);
        assert_eq!(s[idx(1, 1, 1)], c[idx(1, 0, 1)]);
        // Tile 0's west edge is tile 12's north edge reversed: ghost of (0, j=0, -1) is (12, 1, 1).
        assert_eq!(w[idx(0, 0, 0)], c[idx(0, 0, 0)].min(c[idx(12, 1, 1)]));
        // South edges of tiles 0 and 3 are the domain boundary: closed.
        assert_eq!(s[idx(0, 0, 1)], 0.0);
        assert_eq!(s[idx(3, 0, 0)], 0.0);
        assert_eq!(mask_from_hfac(&[0.0, 0.2, 1.0]), vec![false, true, true]);
    }
}
