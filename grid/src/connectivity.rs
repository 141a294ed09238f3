//! Tile connectivity of the LLC grid (docs/mds-llc.md §5): the edge table, ghost-cell lookups
//! for cell centres, and the face lookups that vector interpolation needs (§6).
//!
//! Edges are in index space: [`Edge::East`] lies beyond `i = N-1`, [`Edge::West`] before
//! `i = 0`, [`Edge::North`] beyond `j = N-1`, [`Edge::South`] before `j = 0`. A
//! [`Link`] says which edge of which tile is on the other side and whether the along-edge
//! index runs backwards (`s -> N-1-s`).
//!
//! ```
//! use edp_grid::connectivity::{Edge, Link, neighbour, ghost_cell};
//! // Tile 2's north edge is tile 6's west edge, reversed.
//! assert_eq!(neighbour(2, Edge::North), Some(Link { tile: 6, edge: Edge::West, reversed: true }));
//! // So the cell just north of tile 2's (89, 10) is tile 6's (N-1-10, 0) = (79, 0).
//! assert_eq!(ghost_cell(90, 2, 90, 10), Some((6, 79, 0)));
//! ```

/// An edge of a tile in index space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edge {
    /// Beyond `i = N-1`.
    East,
    /// Before `i = 0`.
    West,
    /// Beyond `j = N-1`.
    North,
    /// Before `j = 0`.
    South,
}

impl Edge {
    /// All four edges, in table order (E, W, N, S).
    pub const ALL: [Edge; 4] = [Edge::East, Edge::West, Edge::North, Edge::South];

    fn index(self) -> usize {
        match self {
            Edge::East => 0,
            Edge::West => 1,
            Edge::North => 2,
            Edge::South => 3,
        }
    }
}

/// The other side of a tile edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Link {
    /// Neighbour tile (0-based).
    pub tile: usize,
    /// The neighbour's edge that touches ours.
    pub edge: Edge,
    /// The along-edge index is reversed (`s -> N-1-s`).
    pub reversed: bool,
}

const fn link(tile: usize, edge: Edge, reversed: bool) -> Option<Link> {
    Some(Link {
        tile,
        edge,
        reversed,
    })
}

use Edge::{East as E, North as N, South as S, West as W};

/// The edge table of docs/mds-llc.md §5.1, `[tile][E, W, N, S]`. `None` is the domain boundary
/// near the South Pole (Antarctic land).
pub const EDGE_TABLE: [[Option<Link>; 4]; 13] = [
    [
        link(3, W, false),
        link(12, N, true),
        link(1, S, false),
        None,
    ],
    [
        link(4, W, false),
        link(11, N, true),
        link(2, S, false),
        link(0, N, false),
    ],
    [
        link(5, W, false),
        link(10, N, true),
        link(6, W, true),
        link(1, N, false),
    ],
    [link(9, S, true), link(0, E, false), link(4, S, false), None],
    [
        link(8, S, true),
        link(1, E, false),
        link(5, S, false),
        link(3, N, false),
    ],
    [
        link(7, S, true),
        link(2, E, false),
        link(6, S, false),
        link(4, N, false),
    ],
    [
        link(7, W, false),
        link(2, N, true),
        link(10, W, true),
        link(5, N, false),
    ],
    [
        link(8, W, false),
        link(6, E, false),
        link(10, S, false),
        link(5, E, true),
    ],
    [
        link(9, W, false),
        link(7, E, false),
        link(11, S, false),
        link(4, E, true),
    ],
    [
        None,
        link(8, E, false),
        link(12, S, false),
        link(3, E, true),
    ],
    [
        link(11, W, false),
        link(6, N, true),
        link(2, W, true),
        link(7, N, false),
    ],
    [
        link(12, W, false),
        link(10, E, false),
        link(1, W, true),
        link(8, N, false),
    ],
    [
        None,
        link(11, E, false),
        link(0, W, true),
        link(9, N, false),
    ],
];

/// What lies beyond `edge` of `tile` (`None` for the domain boundary or `tile >= 13`).
pub fn neighbour(tile: usize, edge: Edge) -> Option<Link> {
    EDGE_TABLE.get(tile).and_then(|row| row[edge.index()])
}

/// The real cell `(tile, j, i)` that sits at the (possibly out-of-tile) position `(j, i)`
/// of `tile` in an LLC(`n`) grid (docs/mds-llc.md §5.2).
///
/// Positions inside the tile map to themselves. Positions with exactly one index outside
/// `[0, n)` (by at most `n`) map to the neighbour across that edge; `d = 0` is the first
/// ghost row/column. Returns `None` across a boundary edge, for diagonal (corner) ghosts and
/// for positions further out.
pub fn ghost_cell(n: usize, tile: usize, j: isize, i: isize) -> Option<(usize, usize, usize)> {
    let ni = n as isize;
    let inside = |v: isize| (0..ni).contains(&v);
    if tile >= EDGE_TABLE.len() {
        return None;
    }
    if inside(j) && inside(i) {
        return Some((tile, j as usize, i as usize));
    }
    // (edge crossed, along-edge index s, depth d beyond the edge)
    let (edge, s, d) = if inside(j) && i >= ni && i < 2 * ni {
        (Edge::East, j, i - ni)
    } else if inside(j) && i < 0 && i >= -ni {
        (Edge::West, j, -1 - i)
    } else if inside(i) && j >= ni && j < 2 * ni {
        (Edge::North, i, j - ni)
    } else if inside(i) && j < 0 && j >= -ni {
        (Edge::South, i, -1 - j)
    } else {
        return None;
    };
    let link = neighbour(tile, edge)?;
    let (s, d) = (s as usize, d as usize);
    let along = if link.reversed { n - 1 - s } else { s };
    // Position in B: `d` cells in from B's edge, at along-edge index `along`.
    let (bj, bi) = match link.edge {
        Edge::West => (along, d),
        Edge::East => (along, n - 1 - d),
        Edge::South => (d, along),
        Edge::North => (n - 1 - d, along),
    };
    Some((link.tile, bj, bi))
}

/// Where a face value of a staggered vector field comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceValue {
    /// `u[tile][j][i]` (x-component at the west face of cell `(j, i)`).
    U {
        /// Tile.
        tile: usize,
        /// Row.
        j: usize,
        /// Column (`i_g`).
        i: usize,
    },
    /// `v[tile][j][i]` (y-component at the south face of cell `(j, i)`).
    V {
        /// Tile.
        tile: usize,
        /// Row (`j_g`).
        j: usize,
        /// Column.
        i: usize,
    },
    /// Beyond the domain boundary: the value is 0 (xgcm `boundary='fill'`).
    Zero,
}

/// The x-face value `u[tile][j][ig]` for `ig` in `0..=n` (`ig = n` is the east face of the
/// tile's last column, taken from the neighbour, docs/regridding.md §1): E link to B's W gives
/// `u_B[j][0]`; E link to B's S (reversed) gives `v_B[0][n-1-j]` (normal components keep
/// their sign); no link gives [`FaceValue::Zero`].
pub fn u_face(n: usize, tile: usize, j: usize, ig: usize) -> FaceValue {
    if ig < n {
        return FaceValue::U { tile, j, i: ig };
    }
    match neighbour(tile, Edge::East) {
        Some(Link {
            tile: b,
            edge: Edge::West,
            ..
        }) => FaceValue::U { tile: b, j, i: 0 },
        Some(Link {
            tile: b,
            edge: Edge::South,
            ..
        }) => FaceValue::V {
            tile: b,
            j: 0,
            i: n - 1 - j,
        },
        _ => FaceValue::Zero,
    }
}

/// The y-face value `v[tile][jg][i]` for `jg` in `0..=n` (`jg = n` is the north face of the
/// tile's last row): N link to B's S gives `v_B[0][i]`; N link to B's W (reversed) gives
/// `u_B[n-1-i][0]`; no link gives [`FaceValue::Zero`].
pub fn v_face(n: usize, tile: usize, jg: usize, i: usize) -> FaceValue {
    if jg < n {
        return FaceValue::V { tile, j: jg, i };
    }
    match neighbour(tile, Edge::North) {
        Some(Link {
            tile: b,
            edge: Edge::South,
            ..
        }) => FaceValue::V { tile: b, j: 0, i },
        Some(Link {
            tile: b,
            edge: Edge::West,
            ..
        }) => FaceValue::U {
            tile: b,
            j: n - 1 - i,
            i: 0,
        },
        _ => FaceValue::Zero,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_is_mutual_with_the_same_orientation() {
        for t in 0..13 {
            for e in Edge::ALL {
                if let Some(l) = neighbour(t, e) {
                    let back = neighbour(l.tile, l.edge).expect("link back");
                    assert_eq!(
                        back,
                        Link {
                            tile: t,
                            edge: e,
                            reversed: l.reversed
                        },
                        "tile {t} {e:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn only_the_four_south_polar_edges_are_open() {
        let open: Vec<(usize, Edge)> = (0..13)
            .flat_map(|t| Edge::ALL.into_iter().map(move |e| (t, e)))
            .filter(|(t, e)| neighbour(*t, *e).is_none())
            .collect();
        assert_eq!(
            open,
            vec![
                (0, Edge::South),
                (3, Edge::South),
                (9, Edge::East),
                (12, Edge::East)
            ]
        );
    }

    #[test]
    fn ghost_cells_follow_the_table_of_section_5_2() {
        let n = 90;
        // E -> B's W: (j, N+d) -> (j, d)
        assert_eq!(ghost_cell(n, 0, 7, 91), Some((3, 7, 1)));
        // E -> B's S rev: (j, N+d) -> (d, N-1-j)
        assert_eq!(ghost_cell(n, 3, 7, 90), Some((9, 0, 82)));
        // N -> B's S: (N+d, i) -> (d, i)
        assert_eq!(ghost_cell(n, 0, 90, 5), Some((1, 0, 5)));
        // N -> B's W rev: (N+d, i) -> (N-1-i, d)
        assert_eq!(ghost_cell(n, 6, 91, 5), Some((10, 84, 1)));
        // W -> B's E: (j, -1-d) -> (j, N-1-d)
        assert_eq!(ghost_cell(n, 7, 4, -2), Some((6, 4, 88)));
        // W -> B's N rev: (j, -1-d) -> (N-1-d, N-1-j)
        assert_eq!(ghost_cell(n, 0, 4, -1), Some((12, 89, 85)));
        // S -> B's N: (-1-d, i) -> (N-1-d, i)
        assert_eq!(ghost_cell(n, 1, -1, 5), Some((0, 89, 5)));
        // S -> B's E rev: (-1-d, i) -> (N-1-i, N-1-d)
        assert_eq!(ghost_cell(n, 7, -2, 5), Some((5, 84, 88)));
        // Boundaries, diagonals, out of reach.
        assert_eq!(ghost_cell(n, 0, -1, 5), None);
        assert_eq!(ghost_cell(n, 9, 5, 90), None);
        assert_eq!(ghost_cell(n, 1, -1, -1), None);
        assert_eq!(ghost_cell(n, 1, 5, 180), None);
        assert_eq!(ghost_cell(n, 1, 5, 5), Some((1, 5, 5)));
    }

    #[test]
    fn ghost_of_a_ghost_returns_home() {
        // Stepping out across an edge and back in across the matching edge is the identity.
        let n = 7;
        for t in 0..13 {
            for s in 0..n as isize {
                for (j, i, back) in [
                    (s, n as isize, Edge::East),
                    (s, -1, Edge::West),
                    (n as isize, s, Edge::North),
                    (-1, s, Edge::South),
                ] {
                    let Some((b, bj, bi)) = ghost_cell(n, t, j, i) else {
                        continue;
                    };
                    let link = neighbour(t, back).unwrap();
                    // One more step from B out across B's edge lands on the original cell.
                    let (oj, oi) = match link.edge {
                        Edge::West => (bj as isize, bi as isize - 1),
                        Edge::East => (bj as isize, bi as isize + 1),
                        Edge::South => (bj as isize - 1, bi as isize),
                        Edge::North => (bj as isize + 1, bi as isize),
                    };
                    let home = ghost_cell(n, b, oj, oi).unwrap();
                    let expect_in = match back {
                        Edge::East => (t, s as usize, n - 1),
                        Edge::West => (t, s as usize, 0),
                        Edge::North => (t, n - 1, s as usize),
                        Edge::South => (t, 0, s as usize),
                    };
                    assert_eq!(home, expect_in, "tile {t} {back:?} s={s}");
                }
            }
        }
    }

    #[test]
    fn face_lookups_of_section_6() {
        let n = 90;
        assert_eq!(
            u_face(n, 1, 3, 10),
            FaceValue::U {
                tile: 1,
                j: 3,
                i: 10
            }
        );
        assert_eq!(
            u_face(n, 1, 3, 90),
            FaceValue::U {
                tile: 4,
                j: 3,
                i: 0
            }
        );
        assert_eq!(
            u_face(n, 5, 3, 90),
            FaceValue::V {
                tile: 7,
                j: 0,
                i: 86
            }
        );
        assert_eq!(u_face(n, 12, 3, 90), FaceValue::Zero);
        assert_eq!(
            v_face(n, 1, 90, 4),
            FaceValue::V {
                tile: 2,
                j: 0,
                i: 4
            }
        );
        assert_eq!(
            v_face(n, 2, 90, 4),
            FaceValue::U {
                tile: 6,
                j: 85,
                i: 0
            }
        );
        assert_eq!(
            v_face(n, 7, 12, 4),
            FaceValue::V {
                tile: 7,
                j: 12,
                i: 4
            }
        );
    }
}
