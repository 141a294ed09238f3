//! MITgcm `.mitgrid` files (`tile001.mitgrid` .. `tile005.mitgrid`, one per facet): 16
//! big-endian float64 records of `(ny+1) x (nx+1)` values (x fastest) in the order
//! `XC YC DXF DYF RA XG YG DXV DYU RAZ DXC DYC RAW RAS DXG DYG` (docs/mds-llc.md §5.3). Their
//! extra row/column holds the corner points on the outer facet edges, the only exact source
//! of the corners the connectivity rule cannot resolve.

use crate::error::{GridError, Result};
use edp_mds::{ByteOrder, Precision, decode_values, encode_values};
use std::path::Path;

/// Record names in file order.
pub const RECORDS: [&str; 16] = [
    "XC", "YC", "DXF", "DYF", "RA", "XG", "YG", "DXV", "DYU", "RAZ", "DXC", "DYC", "RAW", "RAS",
    "DXG", "DYG",
];
const XG_RECORD: usize = 5;
const YG_RECORD: usize = 6;

/// File name of facet `facet` (1..=5): `tile00<facet>.mitgrid`.
pub fn file_name(facet: usize) -> String {
    format!("tile{facet:03}.mitgrid")
}

/// `(nx, ny)` of facet `facet` (1..=5) of LLC(`n`): facets 1, 2 are `n x 3n`, the cap `n x n`,
/// facets 4, 5 `3n x n`.
pub fn facet_dims(n: usize, facet: usize) -> (usize, usize) {
    match facet {
        1 | 2 => (n, 3 * n),
        3 => (n, n),
        _ => (3 * n, n),
    }
}

/// Facet (1..=5) and facet position `(y, x)` of corner `(jg, ig)` of tile `t`.
pub fn facet_position(n: usize, t: usize, jg: usize, ig: usize) -> (usize, usize, usize) {
    match t {
        0..=2 => (1, t * n + jg, ig),
        3..=5 => (2, (t - 3) * n + jg, ig),
        6 => (3, jg, ig),
        7..=9 => (4, jg, (t - 7) * n + ig),
        _ => (5, jg, (t - 10) * n + ig),
    }
}

/// The corner records (`XG`, `YG`) of one `.mitgrid` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Mitgrid {
    /// Facet number 1..=5.
    pub facet: usize,
    /// Cells in x.
    pub nx: usize,
    /// Cells in y.
    pub ny: usize,
    /// `XG`, `(ny+1) x (nx+1)`, x fastest.
    pub xg: Vec<f64>,
    /// `YG`, same shape.
    pub yg: Vec<f64>,
}

impl Mitgrid {
    /// Reads facet `facet` of an LLC(`n`) grid from `path`, checking the file size.
    pub fn read(path: &Path, n: usize, facet: usize) -> Result<Mitgrid> {
        let (nx, ny) = facet_dims(n, facet);
        let rec = (nx + 1) * (ny + 1);
        let bytes = std::fs::read(path).map_err(|source| GridError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        let expected = 16 * rec * 8;
        if bytes.len() != expected {
            return Err(GridError::Shape {
                path: path.to_path_buf(),
                what: format!("facet {facet} of LLC({n})"),
                expected: format!(
                    "{expected} bytes (16 records of {}x{} float64)",
                    ny + 1,
                    nx + 1
                ),
                found: format!("{} bytes", bytes.len()),
            });
        }
        let record = |r: usize| {
            decode_values::<f64>(
                &bytes[r * rec * 8..(r + 1) * rec * 8],
                Precision::F64,
                ByteOrder::Big,
            )
        };
        Ok(Mitgrid {
            facet,
            nx,
            ny,
            xg: record(XG_RECORD),
            yg: record(YG_RECORD),
        })
    }

    /// `(XG, YG)` at facet position `(y, x)` (`y <= ny`, `x <= nx`).
    pub fn corner(&self, y: usize, x: usize) -> (f64, f64) {
        let idx = y * (self.nx + 1) + x;
        (self.xg[idx], self.yg[idx])
    }
}

/// The five facets' corner records, any of which may be absent.
pub type Mitgrids = [Option<Mitgrid>; 5];

/// Reads every `tile00<f>.mitgrid` present in `dir` (absent files give `None`; present
/// files of the wrong size are errors).
pub fn read_dir(dir: &Path, n: usize) -> Result<Mitgrids> {
    let mut out: Mitgrids = Default::default();
    for (f, slot) in out.iter_mut().enumerate() {
        let path = dir.join(file_name(f + 1));
        if path.is_file() {
            *slot = Some(Mitgrid::read(&path, n, f + 1)?);
        }
    }
    Ok(out)
}

/// Writes one `.mitgrid` file from 16 records of `(ny+1) x (nx+1)` values.
pub fn write(path: &Path, n: usize, facet: usize, records: &[Vec<f64>]) -> Result<()> {
    let (nx, ny) = facet_dims(n, facet);
    let rec = (nx + 1) * (ny + 1);
    if records.len() != 16 || records.iter().any(|r| r.len() != rec) {
        return Err(GridError::Invalid {
            what: format!("records for {}", path.display()),
            expected: format!("16 records of {rec} values"),
            found: format!(
                "{} records of sizes {:?}",
                records.len(),
                records.iter().map(Vec::len).collect::<Vec<_>>()
            ),
        });
    }
    let mut bytes = Vec::with_capacity(16 * rec * 8);
    for r in records {
        bytes.extend(encode_values(r, Precision::F64, ByteOrder::Big));
    }
    std::fs::write(path, bytes).map_err(|source| GridError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}
