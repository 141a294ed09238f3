//! The LLC compact layout and the 13 tiles (docs/mds-llc.md §3), for any tile size `N`.
//!
//! One level of a compact file is `13N x N` values (row-major, `dimList = [N, 13N]`) holding
//! five facets. Tiles 0..=6 are consecutive `N x N` blocks; tiles 7..=9 and 10..=12 are the
//! column thirds of facets 4 and 5, which are stored as row-major `N x 3N` blocks:
//!
//! ```text
//! t in 0..=6   : off = (t*N + j)*N + i
//! t in 7..=9   : off = 7N^2  + j*3N + (t-7)*N  + i
//! t in 10..=12 : off = 10N^2 + j*3N + (t-10)*N + i
//! ```
//!
//! No data rotation is applied. Every tile row `(t, j)` is a contiguous run of `N` values in
//! both layouts, which is what makes the reorder a sequence of `memcpy`s.
//!
//! Tile arrays are ordered `[k][t][j][i]`, the layout of the NetCDF native dims
//! `(k, tile, j, i)`.

use crate::error::{MdsError, Result};
use rayon::prelude::*;

/// Number of tiles of an LLC grid.
pub const TILES: usize = 13;

/// Geometry of an LLC(`n`) grid: `n x n` tiles, 13 of them per level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Llc {
    /// Tile size `N` (90 for LLC90).
    pub n: usize,
}

impl Llc {
    /// LLC(`n`).
    pub fn new(n: usize) -> Llc {
        Llc { n }
    }

    /// Values per tile (`N^2`).
    pub fn tile_len(&self) -> usize {
        self.n * self.n
    }

    /// Values per level (`13 N^2`), the same in compact and tile order.
    pub fn level_len(&self) -> usize {
        TILES * self.n * self.n
    }

    /// Flat compact offset (values, within one level) of tile value `(t, j, i)`.
    /// Requires `t < 13`, `j, i < N` (checked in debug builds).
    #[inline]
    pub fn off(&self, t: usize, j: usize, i: usize) -> usize {
        debug_assert!(t < TILES && j < self.n && i < self.n);
        self.row_off(t, j) + i
    }

    /// Compact offset of the first value of tile row `(t, j)`; the row is `N` consecutive
    /// values.
    #[inline]
    pub fn row_off(&self, t: usize, j: usize) -> usize {
        let n = self.n;
        match t {
            0..=6 => (t * n + j) * n,
            7..=9 => 7 * n * n + j * 3 * n + (t - 7) * n,
            _ => 10 * n * n + j * 3 * n + (t - 10) * n,
        }
    }

    /// Index of `(t, j, i)` in a tile-ordered level (`(t*N + j)*N + i`).
    #[inline]
    pub fn tile_index(&self, t: usize, j: usize, i: usize) -> usize {
        (t * self.n + j) * self.n + i
    }

    fn levels_of(&self, len: usize, what: &str) -> Result<usize> {
        let level = self.level_len();
        if level == 0 || !len.is_multiple_of(level) {
            return Err(MdsError::Length {
                what: format!("{what} for LLC({})", self.n),
                expected: format!("a multiple of 13*{0}*{0} = {level}", self.n),
                found: len,
            });
        }
        Ok(len / level)
    }

    /// Compact order (`[k][13N][N]`, any number of levels) to tile order `[k][t][j][i]`.
    pub fn compact_to_tiles<T: Copy + Default + Send + Sync>(
        &self,
        compact: &[T],
    ) -> Result<Vec<T>> {
        self.levels_of(compact.len(), "compact array")?;
        let mut out = vec![T::default(); compact.len()];
        self.fill_tile_rows(&mut out, |k, t, j, dst| {
            let start = k * self.level_len() + self.row_off(t, j);
            dst.copy_from_slice(&compact[start..start + self.n]);
        });
        Ok(out)
    }

    /// Tile order `[k][t][j][i]` back to compact order; the exact inverse of
    /// [`Llc::compact_to_tiles`].
    pub fn tiles_to_compact<T: Copy + Default + Send + Sync>(&self, tiles: &[T]) -> Result<Vec<T>> {
        let nz = self.levels_of(tiles.len(), "tile array")?;
        let n = self.n;
        let level = self.level_len();
        let mut out = vec![T::default(); tiles.len()];
        // Each output level is filled from one input level; rows are contiguous in both.
        out.par_chunks_mut(level.max(1))
            .zip(tiles.par_chunks(level.max(1)))
            .for_each(|(dst, src)| {
                for t in 0..TILES {
                    for j in 0..n {
                        let d = self.row_off(t, j);
                        let s = self.tile_index(t, j, 0);
                        dst[d..d + n].copy_from_slice(&src[s..s + n]);
                    }
                }
            });
        debug_assert_eq!(out.len(), nz * level);
        Ok(out)
    }

    /// Fills `out` (tile order, whole levels) tile by tile in parallel: `fill(k, t, j, row)`
    /// writes the `N` values of tile row `(t, j)` of level `k`.
    pub(crate) fn fill_tile_rows<T, F>(&self, out: &mut [T], fill: F)
    where
        T: Send,
        F: Fn(usize, usize, usize, &mut [T]) + Sync,
    {
        let n = self.n.max(1);
        let tile = self.tile_len().max(1);
        out.par_chunks_mut(tile)
            .with_min_len(min_tiles_per_task(tile))
            .enumerate()
            .for_each(|(kt, dst)| {
                let (k, t) = (kt / TILES, kt % TILES);
                for (j, row) in dst.chunks_exact_mut(n).enumerate() {
                    fill(k, t, j, row);
                }
            });
    }
}

/// Keeps rayon tasks at >= ~64k values so small grids do not drown in scheduling.
pub(crate) fn min_tiles_per_task(tile_len: usize) -> usize {
    (65_536 / tile_len.max(1)).max(1)
}

/// A field in tile order `[k][t][j][i]` with its LLC size and level count.
#[derive(Debug, Clone, PartialEq)]
pub struct LlcField<T> {
    /// Tile size `N`.
    pub n: usize,
    /// Number of levels (1 for 2-D fields).
    pub nz: usize,
    /// `nz * 13 * N * N` values, `[k][t][j][i]`.
    pub data: Vec<T>,
}

impl<T: Copy> LlcField<T> {
    /// The value at level `k`, tile `t`, row `j`, column `i` (panics when out of range, like
    /// slice indexing).
    #[inline]
    pub fn get(&self, k: usize, t: usize, j: usize, i: usize) -> T {
        self.data[((k * TILES + t) * self.n + j) * self.n + i]
    }

    /// All tiles of level `k` (`[t][j][i]`).
    pub fn level(&self, k: usize) -> &[T] {
        let len = TILES * self.n * self.n;
        &self.data[k * len..(k + 1) * len]
    }

    /// Tile `t` of level `k` (`[j][i]`).
    pub fn tile(&self, k: usize, t: usize) -> &[T] {
        let len = self.n * self.n;
        let start = (k * TILES + t) * len;
        &self.data[start..start + len]
    }

    /// The LLC geometry.
    pub fn llc(&self) -> Llc {
        Llc { n: self.n }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_of_the_documented_llc90_test_vectors() {
        // docs/mds-llc.md §3.2 table, column `off`.
        let llc = Llc::new(90);
        assert_eq!(llc.off(0, 0, 0), 0);
        assert_eq!(llc.off(2, 3, 5), 16475);
        assert_eq!(llc.off(3, 89, 89), 32399);
        assert_eq!(llc.off(6, 45, 45), 52695);
        assert_eq!(llc.off(7, 0, 0), 56700);
        assert_eq!(llc.off(8, 10, 20), 59510);
        assert_eq!(llc.off(10, 0, 0), 81000);
        assert_eq!(llc.off(12, 89, 89), 105299);
    }

    #[test]
    fn off_is_a_bijection_for_several_sizes() {
        for n in [1, 2, 3, 4, 12, 90] {
            let llc = Llc::new(n);
            let mut seen = vec![false; llc.level_len()];
            for t in 0..TILES {
                for j in 0..n {
                    for i in 0..n {
                        let o = llc.off(t, j, i);
                        assert!(!seen[o], "N={n}: offset {o} hit twice");
                        seen[o] = true;
                    }
                }
            }
            assert!(seen.iter().all(|s| *s));
        }
    }

    #[test]
    fn rejects_lengths_that_are_not_whole_levels() {
        let llc = Llc::new(4);
        let err = llc.compact_to_tiles(&[0.0f32; 100]).unwrap_err();
        assert!(
            err.to_string().contains("a multiple of 13*4*4 = 208"),
            "{err}"
        );
        assert!(llc.tiles_to_compact(&[0.0f32; 209]).is_err());
    }
}
