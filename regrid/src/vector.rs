//! Vector components: interpolation from u/v faces to cell centres across tile edges, and
//! rotation from model axes to east/north (docs/regridding.md §1).
//!
//! Fields are in LLC tile order (`[t][j][i]` per level, `[k][t][j][i]` for 3-D). `u` lives
//! on west faces `(j, i_g)`, `v` on south faces `(j_g, i)`; the east face of the last column
//! and the north face of the last row of a tile belong to the neighbouring tile:
//!
//! * `u[t][j][N]`: E edge linked to B's W edge: `u_B[j][0]`; to B's S edge (reversed):
//!   `v_B[0][N-1-j]`; no link: 0;
//! * `v[t][N][i]`: N edge linked to B's S edge: `v_B[0][i]`; to B's W edge (reversed):
//!   `u_B[N-1-i][0]`; no link: 0.
//!
//! No sign changes: these are the components normal to the shared edge, which keep their sign
//! across every link (docs/mds-llc.md §5.2). Inputs are not masked (land faces hold 0).
//! Centre-located components (EXFtaux/EXFtauy, EXFuwind/EXFvwind) skip the interpolation.
//! Rotation: `E = CS Rx - SN Ry`, `N = SN Rx + CS Ry`.

use crate::error::{RegridError, Result, check_len};
use edp_grid::TILES;
use edp_grid::connectivity::{FaceValue, u_face, v_face};
use rayon::prelude::*;

/// Where the two input components live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorLocation {
    /// `u` on west faces `(j, i_g)`, `v` on south faces `(j_g, i)` (UVEL/VVEL, oceTAUX/Y, ...).
    Faces,
    /// Both at cell centres (EXFtaux/EXFtauy, EXFuwind/EXFvwind).
    Centres,
}

/// Interpolates and rotates vector fields on one LLC grid.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorRotation {
    n: usize,
    cs: Vec<f64>,
    sn: Vec<f64>,
}

impl VectorRotation {
    /// `n`: tile size; `cs`, `sn`: `AngleCS`, `AngleSN` at cell centres in tile order. The
    /// face values beyond tile edges follow the LLC connectivity of
    /// [`edp_grid::connectivity`] ([`u_face`], [`v_face`]).
    pub fn new(n: usize, cs: Vec<f64>, sn: Vec<f64>) -> Result<VectorRotation> {
        let len = TILES * n * n;
        check_len("AngleCS (13 x N x N)", len, cs.len())?;
        check_len("AngleSN (13 x N x N)", len, sn.len())?;
        Ok(VectorRotation { n, cs, sn })
    }

    /// The rotation of an LLC [`edp_grid::Grid`] (its `CS`, `SN`).
    pub fn from_grid(grid: &edp_grid::Grid) -> Result<VectorRotation> {
        VectorRotation::new(grid.n, grid.cs.clone(), grid.sn.clone())
    }

    /// Tile size `N`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Values per level (`13 N^2`).
    pub fn level_len(&self) -> usize {
        TILES * self.n * self.n
    }

    /// Model-axis components at cell centres (`Rx`, `Ry`) of one level of face fields.
    pub fn to_centres<T: Copy + Into<f64>>(
        &self,
        u: &[T],
        v: &[T],
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        check_len(
            "u component (one level, 13 x N x N)",
            self.level_len(),
            u.len(),
        )?;
        check_len(
            "v component (one level, 13 x N x N)",
            self.level_len(),
            v.len(),
        )?;
        let n = self.n;
        let at = |f: &[T], t: usize, j: usize, i: usize| -> f64 { f[(t * n + j) * n + i].into() };
        let face = |value: FaceValue| -> f64 {
            match value {
                FaceValue::U { tile, j, i } => at(u, tile, j, i),
                FaceValue::V { tile, j, i } => at(v, tile, j, i),
                FaceValue::Zero => 0.0,
            }
        };
        let mut rx = vec![0.0; self.level_len()];
        let mut ry = vec![0.0; self.level_len()];
        for t in 0..TILES {
            for j in 0..n {
                for i in 0..n {
                    // Inside the tile the next face is ours; beyond the edge the connectivity
                    // says which neighbour face (u or v) it is.
                    let u_east = if i + 1 < n {
                        at(u, t, j, i + 1)
                    } else {
                        face(u_face(n, t, j, n))
                    };
                    let v_north = if j + 1 < n {
                        at(v, t, j + 1, i)
                    } else {
                        face(v_face(n, t, n, i))
                    };
                    let c = (t * n + j) * n + i;
                    rx[c] = 0.5 * (at(u, t, j, i) + u_east);
                    ry[c] = 0.5 * (at(v, t, j, i) + v_north);
                }
            }
        }
        Ok((rx, ry))
    }

    /// East and north components at cell centres from centre-located model-axis components.
    pub fn rotate<T: Copy + Into<f64>>(&self, rx: &[T], ry: &[T]) -> Result<(Vec<f64>, Vec<f64>)> {
        check_len(
            "x component at centres (13 x N x N)",
            self.level_len(),
            rx.len(),
        )?;
        check_len(
            "y component at centres (13 x N x N)",
            self.level_len(),
            ry.len(),
        )?;
        let mut e = Vec::with_capacity(rx.len());
        let mut north = Vec::with_capacity(rx.len());
        for c in 0..rx.len() {
            let (x, y): (f64, f64) = (rx[c].into(), ry[c].into());
            e.push(self.cs[c] * x - self.sn[c] * y);
            north.push(self.sn[c] * x + self.cs[c] * y);
        }
        Ok((e, north))
    }

    /// The inverse rotation (east/north to model axes at centres): `Rx = CS E + SN N`,
    /// `Ry = -SN E + CS N`. Used to build synthetic model-axis inputs.
    pub fn to_model_axes(&self, east: &[f64], north: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
        check_len("east component (13 x N x N)", self.level_len(), east.len())?;
        check_len(
            "north component (13 x N x N)",
            self.level_len(),
            north.len(),
        )?;
        let rx = (0..east.len())
            .map(|c| self.cs[c] * east[c] + self.sn[c] * north[c])
            .collect();
        let ry = (0..east.len())
            .map(|c| -self.sn[c] * east[c] + self.cs[c] * north[c])
            .collect();
        Ok((rx, ry))
    }

    /// East and north components at cell centres of one level.
    pub fn east_north<T: Copy + Into<f64>>(
        &self,
        u: &[T],
        v: &[T],
        location: VectorLocation,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        match location {
            VectorLocation::Faces => {
                let (rx, ry) = self.to_centres(u, v)?;
                self.rotate(&rx, &ry)
            }
            VectorLocation::Centres => self.rotate(u, v),
        }
    }

    /// East and north components of 3-D fields `[k][t][j][i]`, level by level (parallel).
    pub fn east_north_3d<T: Copy + Into<f64> + Sync>(
        &self,
        u: &[T],
        v: &[T],
        location: VectorLocation,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let level = self.level_len();
        if level == 0 || !u.len().is_multiple_of(level) {
            return Err(RegridError::Length {
                what: "3-D u component".into(),
                expected: format!("a multiple of 13 x N x N = {level}"),
                found: u.len(),
            });
        }
        check_len("3-D v component (as u)", u.len(), v.len())?;
        let per_level: Vec<(Vec<f64>, Vec<f64>)> = u
            .par_chunks(level)
            .zip(v.par_chunks(level))
            .map(|(u, v)| self.east_north(u, v, location))
            .collect::<Result<_>>()?;
        let mut east = Vec::with_capacity(u.len());
        let mut north = Vec::with_capacity(u.len());
        for (e, n) in per_level {
            east.extend(e);
            north.extend(n);
        }
        Ok((east, north))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: usize = 2;

    fn idx(t: usize, j: usize, i: usize) -> usize {
        (t * N + j) * N + i
    }

    #[test]
    fn faces_beyond_the_tile_follow_the_rules_of_ecco_format_6() {
        let r = VectorRotation::new(N, vec![1.0; 13 * N * N], vec![0.0; 13 * N * N]).unwrap();
        // Every face value is distinct: u = 1000 + cell index, v = 2000 + cell index.
        let u: Vec<f64> = (0..13 * N * N).map(|c| 1000.0 + c as f64).collect();
        let v: Vec<f64> = (0..13 * N * N).map(|c| 2000.0 + c as f64).collect();
        let (rx, ry) = r.to_centres(&u, &v).unwrap();
        let last = N - 1;
        for j in 0..N {
            // Tile 0 E -> tile 3 W: u_3[j][0].
            assert_eq!(
                rx[idx(0, j, last)],
                0.5 * (u[idx(0, j, last)] + u[idx(3, j, 0)])
            );
            // Tile 3 E -> tile 9 S reversed: v_9[0][N-1-j].
            assert_eq!(
                rx[idx(3, j, last)],
                0.5 * (u[idx(3, j, last)] + v[idx(9, 0, last - j)])
            );
            // Tile 9 E: domain boundary, 0.
            assert_eq!(rx[idx(9, j, last)], 0.5 * u[idx(9, j, last)]);
        }
        for i in 0..N {
            // Tile 0 N -> tile 1 S: v_1[0][i].
            assert_eq!(
                ry[idx(0, last, i)],
                0.5 * (v[idx(0, last, i)] + v[idx(1, 0, i)])
            );
            // Tile 2 N -> tile 6 W reversed: u_6[N-1-i][0].
            assert_eq!(
                ry[idx(2, last, i)],
                0.5 * (v[idx(2, last, i)] + u[idx(6, last - i, 0)])
            );
        }
        // Interior faces are plain averages.
        assert_eq!(rx[idx(5, 1, 0)], 0.5 * (u[idx(5, 1, 0)] + u[idx(5, 1, 1)]));
        assert_eq!(ry[idx(5, 0, 1)], 0.5 * (v[idx(5, 0, 1)] + v[idx(5, 1, 1)]));
    }

    #[test]
    fn rotation_and_its_inverse() {
        let angle: Vec<f64> = (0..13).map(|t| t as f64 * 0.5).collect();
        let r = VectorRotation::new(
            1,
            angle.iter().map(|a| a.cos()).collect(),
            angle.iter().map(|a| a.sin()).collect(),
        )
        .unwrap();
        let e: Vec<f64> = (0..13).map(|c| 1.0 + c as f64).collect();
        let nn: Vec<f64> = (0..13).map(|c| -2.0 * c as f64).collect();
        let (rx, ry) = r.to_model_axes(&e, &nn).unwrap();
        let (e2, n2) = r.east_north(&rx, &ry, VectorLocation::Centres).unwrap();
        for c in 0..13 {
            assert!((e2[c] - e[c]).abs() < 1e-12 && (n2[c] - nn[c]).abs() < 1e-12);
        }
        // Tiles 7-12 style axes (CS = 0, SN = -1): E = Ry, N = -Rx.
        let r = VectorRotation::new(1, vec![0.0; 13], vec![-1.0; 13]).unwrap();
        let (e, nn) = r.rotate(&[3.0; 13], &[5.0; 13]).unwrap();
        assert_eq!((e[0], nn[0]), (5.0, -3.0));
    }

    #[test]
    fn bad_lengths_are_errors() {
        assert!(VectorRotation::new(1, vec![1.0; 12], vec![0.0; 13]).is_err());
        let r = VectorRotation::new(1, vec![1.0; 13], vec![0.0; 13]).unwrap();
        assert!(
            r.east_north_3d(&[0.0f64; 20], &[0.0; 20], VectorLocation::Faces)
                .is_err()
        );
        assert!(
            r.east_north(&[0.0f64; 13], &[0.0; 12], VectorLocation::Faces)
                .is_err()
        );
    }
}
