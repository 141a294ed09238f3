//! Loading the real LLC90 grid (shared test data) straight from the MDS files with edp-mds,
//! and the independent definitions the tests compare against.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use edp_mds::{ByteOrder, FieldSelector, Llc, MdsFile, Precision, decode_values};
use edp_regrid::SourceGrid;
use std::path::Path;

pub const N: usize = 90;

/// The real LLC90 grid, in tile order.
#[derive(Debug)]
pub struct Llc90 {
    pub xc: Vec<f64>,
    pub yc: Vec<f64>,
    pub cs: Vec<f64>,
    pub sn: Vec<f64>,
    pub depth: Vec<f64>,
    pub dxg: Vec<f64>,
    pub dyg: Vec<f64>,
    pub rf: Vec<f64>,
}

fn tiles(dir: &Path, name: &str) -> Vec<f64> {
    MdsFile::open(dir.join(name), ByteOrder::Big)
        .unwrap()
        .read_tiles::<f64>(&FieldSelector::Record(0))
        .unwrap()
        .data
}

/// A float32 big-endian compact `.bin` (no .meta) in tile order.
pub fn bin_tiles(dir: &Path, name: &str) -> Vec<f32> {
    let bytes = std::fs::read(dir.join(name)).unwrap();
    let compact = decode_values::<f32>(&bytes, Precision::F32, ByteOrder::Big);
    Llc::new(N).compact_to_tiles(&compact).unwrap()
}

impl Llc90 {
    pub fn load() -> Option<Llc90> {
        let dir = edp_testkit::llc90_grid_dir()?;
        let rf = MdsFile::open(dir.join("RF"), ByteOrder::Big)
            .unwrap()
            .read_all::<f64>()
            .unwrap();
        Some(Llc90 {
            xc: tiles(&dir, "XC"),
            yc: tiles(&dir, "YC"),
            cs: tiles(&dir, "AngleCS"),
            sn: tiles(&dir, "AngleSN"),
            depth: tiles(&dir, "Depth"),
            dxg: tiles(&dir, "DXG"),
            dyg: tiles(&dir, "DYG"),
            rf,
        })
    }

    /// `hFacC[k] > 0` <=> `Depth + RF[k] > 0` (docs/mds-llc.md 4.2: hFacC = clamp((Depth+RF[k])/DRF[k], 0, 1)).
    pub fn wet(&self, k: usize) -> Vec<bool> {
        self.depth.iter().map(|&d| d + self.rf[k] > 0.0).collect()
    }

    pub fn source(&self, n_levels: usize) -> SourceGrid {
        let min_l = self
            .dxg
            .iter()
            .chain(&self.dyg)
            .copied()
            .fold(f64::INFINITY, f64::min);
        let max_l = self
            .dxg
            .iter()
            .chain(&self.dyg)
            .copied()
            .fold(0.0, f64::max);
        SourceGrid::new(
            vec![13, N, N],
            self.xc.clone(),
            self.yc.clone(),
            (0..n_levels).map(|k| self.wet(k)).collect(),
            min_l,
            max_l,
        )
        .unwrap()
    }
}

/// The real grid with all 50 levels and its V4r4 weights, built once per test binary.
pub fn llc90_weights() -> Option<&'static (Llc90, SourceGrid, edp_regrid::Weights)> {
    static CELL: std::sync::OnceLock<Option<(Llc90, SourceGrid, edp_regrid::Weights)>> =
        std::sync::OnceLock::new();
    CELL.get_or_init(|| {
        let grid = Llc90::load()?;
        let source = grid.source(50);
        let weights = edp_regrid::Weights::build(&source, &edp_regrid::LatLonSpec::v4r4()).unwrap();
        Some((grid, source, weights))
    })
    .as_ref()
}
