//! Vector components: interpolation from u/v faces to cell centres across tile edges, and
//! rotation from model axes to east/north (ecco-format §6).
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
//! across every link (ecco-format §5.2). Inputs are not masked (land faces hold 0).
//! Centre-located components (EXFtaux/EXFtauy, EXFuwind/EXFvwind) skip the interpolation.
//! Rotation: `E = CS Rx - SN Ry`, `N = SN Rx + CS Ry`.

use crate::error::{RegridError, Result, check_len};
use rayon::prelude::*;

/// Number of LLC tiles.
const TILES: usize = 13;

/// An edge of a tile in index space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileEdge {
    /// Beyond `i = N-1`.
    East,
    /// Before `i = 0`.
    West,
    /// Beyond `j = N-1`.
    North,
    /// Before `j = 0`.
    South,
}

/// Where an edge of a tile leads: the neighbour tile, which of its edges, and whether the
/// along-edge index runs backwards (`s -> N-1-s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EdgeLink {
    /// Neighbour tile (0-based).
    pub tile: usize,
    /// The neighbour's edge that is shared.
    pub edge: TileEdge,
    /// Whether the along-edge index is reversed.
    pub reversed: bool,
}

/// Where the two input components live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorLocation {
    /// `u` on west faces `(j, i_g)`, `v` on south faces `(j_g, i)` (UVEL/VVEL, oceTAUX/Y, ...).
    Faces,
    /// Both at cell centres (EXFtaux/EXFtauy, EXFuwind/EXFvwind).
    Centres,
}

/// How the face value beyond a tile's east or north edge is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Borrow {
    /// Domain boundary: 0.
    Zero,
    /// `u_B[j][0]` (east) / `v_B[0][i]` (north): plain link.
    Same(usize),
    /// `v_B[0][N-1-j]` (east, link to B's S reversed) / `u_B[N-1-i][0]` (north, link to B's W
    /// reversed).
    Other(usize),
}

/// Interpolates and rotates vector fields on one LLC grid.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorRotation {
    n: usize,
    cs: Vec<f64>,
    sn: Vec<f64>,
    east: [Borrow; TILES],
    north: [Borrow; TILES],
}

impl VectorRotation {
    /// `n`: tile size; `cs`, `sn`: `AngleCS`, `AngleSN` at cell centres in tile order;
    /// `link(tile, edge)`: the connectivity table (ecco-format §5.1), of which the east and
    /// north edges are used.
    ///
    /// Fails when a link is of a kind LLC grids do not have (e.g. an east edge joined to a
    /// north edge), since no face rule is defined for it.
    pub fn new(
        n: usize,
        cs: Vec<f64>,
        sn: Vec<f64>,
        link: impl Fn(usize, TileEdge) -> Option<EdgeLink>,
    ) -> Result<VectorRotation> {
        let len = TILES * n * n;
        check_len("AngleCS (13 x N x N)", len, cs.len())?;
        check_len("AngleSN (13 x N x N)", len, sn.len())?;
        let mut east = [Borrow::Zero; TILES];
        let mut north = [Borrow::Zero; TILES];
        for t in 0..TILES {
            east[t] = borrow_rule(t, TileEdge::East, link(t, TileEdge::East))?;
            north[t] = borrow_rule(t, TileEdge::North, link(t, TileEdge::North))?;
        }
        Ok(VectorRotation {
            n,
            cs,
            sn,
            east,
            north,
        })
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
    pub fn to_centres<T: Copy + Into<f64>>(&self, u: &[T], v: &[T]) -> Result<(Vec<f64>, Vec<f64>)> {
        check_len("u component (one level, 13 x N x N)", self.level_len(), u.len())?;
        check_len("v component (one level, 13 x N x N)", self.level_len(), v.len())?;
        let n = self.n;
        let at = |f: &[T], t: usize, j: usize, i: usize| -> f64 { f[(t * n + j) * n + i].into() };
        let mut rx = vec![0.0; self.level_len()];
        let mut ry = vec![0.0; self.level_len()];
        for t in 0..TILES {
            for j in 0..n {
                for i in 0..n {
                    let u_east = if i + 1 < n {
                        at(u, t, j, i + 1)
                    } else {
                        match self.east[t] {
                            Borrow::Zero => 0.0,
                            Borrow::Same(b) => at(u, b, j, 0),
                            Borrow::Other(b) => at(v, b, 0, n - 1 - j),
                        }
                    };
                    let v_north = if j + 1 < n {
                        at(v, t, j + 1, i)
                    } else {
                        match self.north[t] {
                            Borrow::Zero => 0.0,
                            Borrow::Same(b) => at(v, b, 0, i),
                            Borrow::Other(b) => at(u, b, n - 1 - i, 0),
                        }
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
        check_len("x component at centres (13 x N x N)", self.level_len(), rx.len())?;
        check_len("y component at centres (13 x N x N)", self.level_len(), ry.len())?;
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
        check_len("north component (13 x N x N)", self.level_len(), north.len())?;
        let rx = (0..east.len()).map(|c| self.cs[c] * east[c] + self.sn[c] * north[c]).collect();
        let ry = (0..east.len()).map(|c| -self.sn[c] * east[c] + self.cs[c] * north[c]).collect();
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
        if level == 0 || u.len() % level != 0 {
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

fn borrow_rule(tile: usize, edge: TileEdge, link: Option<EdgeLink>) -> Result<Borrow> {
    let Some(link) = link else {
        return Ok(Borrow::Zero);
    };
    if link.tile >= TILES {
        return Err(RegridError::Invalid {
            what: format!("connectivity of tile {tile} ({edge:?} edge)"),
            expected: "a neighbour tile < 13".into(),
            found: link.tile.to_string(),
        });
    }
    match (edge, link.edge, link.reversed) {
        (TileEdge::East, TileEdge::West, false) | (TileEdge::North, TileEdge::South, false) => {
            Ok(Borrow::Same(link.tile))
        }
        (TileEdge::East, TileEdge::South, true) | (TileEdge::North, TileEdge::West, true) => {
            Ok(Borrow::Other(link.tile))
        }
        _ => Err(RegridError::Invalid {
            what: format!("connectivity of tile {tile} ({edge:?} edge)"),
            expected: if edge == TileEdge::East {
                "a link to the neighbour's West edge, or to its South edge reversed".into()
            } else {
                "a link to the neighbour's South edge, or to its West edge reversed".into()
            },
            found: format!("{:?} edge of tile {} (reversed: {})", link.edge, link.tile, link.reversed),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiles 0 and 1 side by side (0's East = 1's West), 0's North = 2's West reversed; the
    /// rest unlinked. Enough to exercise each borrow rule on a 2x2 tile size.
    fn toy() -> VectorRotation {
        let n = 2;
        VectorRotation::new(n, vec![1.0; 13 * 4], vec![0.0; 13 * 4], |t, e| match (t, e) {
            (0, TileEdge::East) => Some(EdgeLink { tile: 1, edge: TileEdge::West, reversed: false }),
            (0, TileEdge::North) => Some(EdgeLink { tile: 2, edge: TileEdge::West, reversed: true }),
            (1, TileEdge::East) => Some(EdgeLink { tile: 3, edge: TileEdge::South, reversed: true }),
            (1, TileEdge::North) => Some(EdgeLink { tile: 4, edge: TileEdge::South, reversed: false }),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn faces_beyond_the_tile_come_from_the_linked_neighbour() {
        let r = toy();
        let n = 2;
        let idx = |t: usize, j: usize, i: usize| (t * n + j) * n + i;
        // Each face value encodes its position: 1000*comp + 100*t + 10*j + i.
        let u: Vec<f64> = (0..13 * 4).map(|c| 1000.0 + (100 * (c / 4) + 10 * ((c / 2) % 2) + c % 2) as f64).collect();
        let v: Vec<f64> = (0..13 * 4).map(|c| 2000.0 + (100 * (c / 4) + 10 * ((c / 2) % 2) + c % 2) as f64).collect();
        let (rx, ry) = r.to_centres(&u, &v).unwrap();
        // Tile 0, (j=1, i=1): east face = u_1[1][0]; north face = u_2[N-1-1][0] = u_2[0][0].
        assert_eq!(rx[idx(0, 1, 1)], 0.5 * (u[idx(0, 1, 1)] + u[idx(1, 1, 0)]));
        assert_eq!(ry[idx(0, 1, 1)], 0.5 * (v[idx(0, 1, 1)] + u[idx(2, 0, 0)]));
        // Tile 1, (j=0, i=1): east face = v_3[0][N-1-0] = v_3[0][1]; north of (1, 0) = v_4[0][0].
        assert_eq!(rx[idx(1, 0, 1)], 0.5 * (u[idx(1, 0, 1)] + v[idx(3, 0, 1)]));
        assert_eq!(ry[idx(1, 1, 0)], 0.5 * (v[idx(1, 1, 0)] + v[idx(4, 0, 0)]));
        // Unlinked tile 5: the outside faces are 0; interior faces are averaged.
        assert_eq!(rx[idx(5, 0, 1)], 0.5 * u[idx(5, 0, 1)]);
        assert_eq!(rx[idx(5, 0, 0)], 0.5 * (u[idx(5, 0, 0)] + u[idx(5, 0, 1)]));
        assert_eq!(ry[idx(5, 1, 0)], 0.5 * v[idx(5, 1, 0)]);
    }

    #[test]
    fn rotation_and_its_inverse() {
        let n = 1;
        let angle: Vec<f64> = (0..13).map(|t| t as f64 * 0.5).collect();
        let r = VectorRotation::new(
            n,
            angle.iter().map(|a| a.cos()).collect(),
            angle.iter().map(|a| a.sin()).collect(),
            |_, _| None,
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
        let r = VectorRotation::new(1, vec![0.0; 13], vec![-1.0; 13], |_, _| None).unwrap();
        let (e, nn) = r.rotate(&[3.0; 13], &[5.0; 13]).unwrap();
        assert_eq!((e[0], nn[0]), (5.0, -3.0));
    }

    #[test]
    fn unsupported_links_and_bad_lengths_are_errors() {
        let err = VectorRotation::new(1, vec![1.0; 13], vec![0.0; 13], |_, e| {
            (e == TileEdge::East).then_some(EdgeLink { tile: 1, edge: TileEdge::North, reversed: false })
        })
        .unwrap_err();
        assert!(err.to_string().contains("tile 0 (East edge)"), "{err}");
        assert!(VectorRotation::new(1, vec![1.0; 12], vec![0.0; 13], |_, _| None).is_err());
        let r = VectorRotation::new(1, vec![1.0; 13], vec![0.0; 13], |_, _| None).unwrap();
        assert!(r.east_north_3d(&[0.0f64; 20], &[0.0; 20], VectorLocation::Faces).is_err());
    }
}
