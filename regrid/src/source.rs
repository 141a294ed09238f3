//! The source (native) grid as plain arrays: cell-centre coordinates in flat order, one wet
//! mask per vertical level and the extreme cell sizes. Nothing here is LLC-specific; for an
//! LLC grid the flat order is the tile order `s = t*N*N + j*N + i` and
//! [`SourceGrid::from_grid`] fills everything from an [`edp_grid::Grid`].

use crate::error::{RegridError, Result, check_len};
use sha2::{Digest, Sha256};

/// Source points and their per-level wet masks.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceGrid {
    shape: Vec<usize>,
    lon: Vec<f64>,
    lat: Vec<f64>,
    wet: Vec<Vec<bool>>,
    min_cell_size_m: f64,
    max_cell_size_m: f64,
}

impl SourceGrid {
    /// Builds a source grid.
    ///
    /// * `shape`: the logical array shape of one level, slowest first, e.g. `[13, 90, 90]`
    ///   for LLC90 (`(tile, j, i)`); its product is the number of points `n_a`.
    /// * `lon`, `lat`: cell centres in degrees, `n_a` values each, flat order.
    /// * `wet`: one mask of `n_a` values per vertical level (`hFacC[k] > 0`); at least one.
    /// * `min_cell_size_m`, `max_cell_size_m`: `min`/`max` over `dxG` and `dyG` (`min_L`,
    ///   `max_L` of docs/regridding.md §2.2); `max_L` bounds the nearest-neighbour search and
    ///   `min_L` the neighbour cap.
    pub fn new(
        shape: Vec<usize>,
        lon: Vec<f64>,
        lat: Vec<f64>,
        wet: Vec<Vec<bool>>,
        min_cell_size_m: f64,
        max_cell_size_m: f64,
    ) -> Result<SourceGrid> {
        let n_a: usize = shape.iter().product();
        if shape.is_empty() || n_a == 0 || n_a > u32::MAX as usize - 1 {
            return Err(RegridError::Invalid {
                what: "source grid shape".into(),
                expected: "at least one dimension, 1 ..= 2^32-2 points".into(),
                found: format!("{shape:?}"),
            });
        }
        check_len("source longitudes", n_a, lon.len())?;
        check_len("source latitudes", n_a, lat.len())?;
        if wet.is_empty() {
            return Err(RegridError::Invalid {
                what: "source wet masks".into(),
                expected: "at least one level".into(),
                found: "none".into(),
            });
        }
        for (k, mask) in wet.iter().enumerate() {
            check_len(format!("source wet mask of level {k}"), n_a, mask.len())?;
        }
        if let Some(s) = (0..n_a).find(|&s| !(lon[s].is_finite() && lat[s].abs() <= 90.0)) {
            return Err(RegridError::Invalid {
                what: format!("source point {s}"),
                expected: "finite longitude, latitude within [-90, 90]".into(),
                found: format!("({}, {})", lon[s], lat[s]),
            });
        }
        if !(min_cell_size_m.is_finite()
            && max_cell_size_m.is_finite()
            && 0.0 < min_cell_size_m
            && min_cell_size_m <= max_cell_size_m)
        {
            return Err(RegridError::Invalid {
                what: "source cell sizes".into(),
                expected: "0 < min_L <= max_L (metres)".into(),
                found: format!("min_L = {min_cell_size_m}, max_L = {max_cell_size_m}"),
            });
        }
        Ok(SourceGrid {
            shape,
            lon,
            lat,
            wet,
            min_cell_size_m,
            max_cell_size_m,
        })
    }

    /// The source grid of an LLC [`edp_grid::Grid`]: shape `[13, N, N]`, `XC`, `YC` in tile
    /// order, `maskC` (`hFacC > 0`) per level, `min_L`/`max_L` over `dxG` and `dyG`.
    pub fn from_grid(grid: &edp_grid::Grid) -> Result<SourceGrid> {
        let cells = grid.cells();
        check_len(
            format!(
                "maskC of the grid ({} levels x 13 x {} x {})",
                grid.nz, grid.n, grid.n
            ),
            grid.nz * cells,
            grid.mask_c.len(),
        )?;
        let wet = grid
            .mask_c
            .chunks(cells.max(1))
            .map(<[bool]>::to_vec)
            .collect();
        let (min_l, max_l) = cell_size_range(&[&grid.dxg, &grid.dyg])?;
        SourceGrid::new(
            vec![13, grid.n, grid.n],
            grid.xc.clone(),
            grid.yc.clone(),
            wet,
            min_l,
            max_l,
        )
    }

    /// Logical shape of one level (slowest first).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of source points `n_a`.
    pub fn len(&self) -> usize {
        self.lon.len()
    }

    /// Always false for a valid grid.
    pub fn is_empty(&self) -> bool {
        self.lon.is_empty()
    }

    /// Cell-centre longitudes (degrees).
    pub fn lon(&self) -> &[f64] {
        &self.lon
    }

    /// Cell-centre latitudes (degrees).
    pub fn lat(&self) -> &[f64] {
        &self.lat
    }

    /// Number of vertical levels.
    pub fn n_levels(&self) -> usize {
        self.wet.len()
    }

    /// Wet mask of level `k`.
    pub fn wet(&self, k: usize) -> Result<&[bool]> {
        self.wet
            .get(k)
            .map(Vec::as_slice)
            .ok_or_else(|| RegridError::Level {
                level: k,
                n_levels: self.wet.len(),
                what: "the source grid".into(),
            })
    }

    /// All wet masks, one per level.
    pub fn wet_masks(&self) -> &[Vec<bool>] {
        &self.wet
    }

    /// `min_L` (m).
    pub fn min_cell_size_m(&self) -> f64 {
        self.min_cell_size_m
    }

    /// `max_L` (m).
    pub fn max_cell_size_m(&self) -> f64 {
        self.max_cell_size_m
    }

    /// Keeps only the first `n_levels` levels (e.g. to build 2-D weights cheaply).
    pub fn truncate_levels(mut self, n_levels: usize) -> Result<SourceGrid> {
        if n_levels == 0 || n_levels > self.wet.len() {
            return Err(RegridError::Level {
                level: n_levels.saturating_sub(1),
                n_levels: self.wet.len(),
                what: "the source grid".into(),
            });
        }
        self.wet.truncate(n_levels);
        Ok(self)
    }

    /// SHA-256 (hex) of everything that determines the weights: shape, coordinates (f64
    /// little-endian bytes), every wet mask and the two cell sizes. Two grids with the same
    /// checksum give identical weights for the same target specification.
    pub fn checksum(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"edp-regrid source grid v1\0");
        h.update((self.shape.len() as u64).to_le_bytes());
        for &d in &self.shape {
            h.update((d as u64).to_le_bytes());
        }
        for values in [&self.lon, &self.lat] {
            for v in values {
                h.update(v.to_le_bytes());
            }
        }
        h.update((self.wet.len() as u64).to_le_bytes());
        for mask in &self.wet {
            let bytes: Vec<u8> = mask.iter().map(|&w| u8::from(w)).collect();
            h.update(&bytes);
        }
        h.update(self.min_cell_size_m.to_le_bytes());
        h.update(self.max_cell_size_m.to_le_bytes());
        hex::encode(h.finalize())
    }
}

/// `(min, max)` over all values of the edge-length arrays (`dxG`, `dyG`): `min_L`, `max_L`.
pub fn cell_size_range(edge_lengths: &[&[f64]]) -> Result<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for &v in edge_lengths.iter().flat_map(|a| a.iter()) {
        if !v.is_finite() {
            return Err(RegridError::Invalid {
                what: "cell edge length".into(),
                expected: "finite metres".into(),
                found: format!("{v}"),
            });
        }
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return Err(RegridError::Invalid {
            what: "cell edge lengths".into(),
            expected: "at least one value".into(),
            found: "none".into(),
        });
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> SourceGrid {
        SourceGrid::new(
            vec![2, 2],
            vec![0.0, 1.0, 0.0, 1.0],
            vec![0.0, 0.0, 1.0, 1.0],
            vec![vec![true, true, false, true]],
            100.0,
            200.0,
        )
        .unwrap()
    }

    #[test]
    fn checksum_changes_with_the_wet_mask() {
        let a = tiny();
        let mut wet = a.wet_masks().to_vec();
        wet[0][2] = true;
        let b = SourceGrid::new(
            vec![2, 2],
            a.lon().to_vec(),
            a.lat().to_vec(),
            wet,
            100.0,
            200.0,
        )
        .unwrap();
        assert_ne!(a.checksum(), b.checksum());
        assert_eq!(a.checksum(), tiny().checksum());
        assert_eq!(a.checksum().len(), 64);
    }

    #[test]
    fn bad_inputs_are_rejected_with_their_names() {
        let err = SourceGrid::new(
            vec![2, 2],
            vec![0.0; 3],
            vec![0.0; 4],
            vec![vec![true; 4]],
            1.0,
            2.0,
        )
        .unwrap_err();
        assert!(err.to_string().contains("source longitudes"), "{err}");
        let err = SourceGrid::new(
            vec![2],
            vec![0.0; 2],
            vec![0.0, 91.0],
            vec![vec![true; 2]],
            1.0,
            2.0,
        )
        .unwrap_err();
        assert!(err.to_string().contains("source point 1"), "{err}");
        assert!(SourceGrid::new(vec![2], vec![0.0; 2], vec![0.0; 2], vec![], 1.0, 2.0).is_err());
        assert!(
            SourceGrid::new(
                vec![2],
                vec![0.0; 2],
                vec![0.0; 2],
                vec![vec![true; 2]],
                3.0,
                2.0
            )
            .is_err()
        );
    }

    #[test]
    fn cell_size_range_spans_both_arrays() {
        let (lo, hi) = cell_size_range(&[&[3.0, 5.0], &[2.0, 4.0]]).unwrap();
        assert_eq!((lo, hi), (2.0, 5.0));
        assert!(cell_size_range(&[&[f64::NAN]]).is_err());
    }
}
