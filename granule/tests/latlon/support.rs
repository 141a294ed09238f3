//! Shared fixtures of the lat-lon tests: the real LLC90 grid and V4r4 metadata with the V4r4
//! weights (read from, or built once into, a cache below Cargo's target directory through the
//! crate's own `weights::locate_or_build`), granule production from a local MDS tree, and the
//! **independent** reference of `docs/regridding.md` 2.1-2.5: target centres, radii, chord
//! distances, land mask and bin average with nearest fallback, computed here by brute force
//! from the raw grid files.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use edp_conventions::{Catalog, Frequency, LoadOptions, ProductType, ProductionConfig};
use edp_granule::{GranuleReport, GranuleRequest, LocalFiles, Resources, local, produce_granule};
use edp_grid::Grid;
use edp_regrid::{LatLonSpec, SourceGrid};

pub use crate::native::support::{
    CELLS, FILL, N, NZ, compact_offset, dims_of, file_names, global_attr, global_text, ncdump_hs,
    open_nc, read_f32_be, read_f64_be, special_attrs, to_tiles, values_f32, values_i32, var_attr,
    var_f32, var_text, write_diagnostic,
};

/// Target grid size (0.5 deg).
pub const NX: usize = 720;
pub const NY: usize = 360;
pub const TARGETS: usize = NX * NY;

/// The real grid, metadata and weights.
pub struct Fixture {
    pub grid_dir: PathBuf,
    pub resources: Resources,
    /// The weights file the fixture's weights were read from or written to.
    pub weights_file: PathBuf,
}

/// Where the tests keep the V4r4 weights between runs (built once, about 10 s).
pub fn weights_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("edp-granule-weights")
}

/// The fixture, or `None` when the shared data is absent (test skipped, see edp_testkit).
pub fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let grid_dir = edp_testkit::llc90_grid_dir()?;
            let metadata = edp_testkit::v4r4_metadata_dir()?;
            let grid = Grid::from_mds_dir(&grid_dir).unwrap();
            let catalog = Catalog::load(&metadata, &LoadOptions::default()).unwrap();
            let source = SourceGrid::from_grid(&grid).unwrap();
            let cache = weights_cache_dir();
            let (weights, origin) =
                edp_granule::weights::locate_or_build(&source, &LatLonSpec::v4r4(), None, &cache)
                    .unwrap();
            let weights_file = match origin {
                edp_granule::WeightsOrigin::Loaded(path) => path,
                edp_granule::WeightsOrigin::Built(path) => path.unwrap(),
            };
            Some(Fixture {
                grid_dir,
                resources: Resources::new(
                    Arc::new(grid),
                    Arc::new(catalog),
                    Arc::new(ProductionConfig::v4r4()),
                )
                .with_weights(Arc::new(weights)),
                weights_file,
            })
        })
        .as_ref()
}

/// The request of lat-lon grouping `id` at `step` with the inputs found below `root`.
pub fn request(
    fx: &Fixture,
    root: &Path,
    id: usize,
    frequency: Frequency,
    step: u64,
) -> GranuleRequest {
    let r = &fx.resources;
    let dataset = r.catalog.dataset(ProductType::Latlon, id as i64).unwrap();
    let found = local::find_inputs(root, &dataset, frequency, step, r.config.snap_instants);
    GranuleRequest::new(
        &r.catalog,
        &r.config,
        ProductType::Latlon,
        id,
        frequency,
        step,
        found.variables,
    )
    .unwrap()
}

/// Produces lat-lon grouping `id` at `step` from the tree at `root` into `out`.
pub fn produce(
    fx: &Fixture,
    root: &Path,
    id: usize,
    frequency: Frequency,
    step: u64,
    out: &Path,
) -> Result<GranuleReport, edp_granule::GranuleError> {
    let request = request(fx, root, id, frequency, step);
    produce_granule(&request, &fx.resources, &LocalFiles::new(), out)
}

/// A real 2-D float32 field of the shared data (`SSH.bin`, `TauX.bin`, ...) in compact order.
pub fn real_2d(fx: &Fixture, name: &str) -> Vec<f32> {
    let v = read_f32_be(&fx.grid_dir.join(name));
    assert_eq!(v.len(), CELLS);
    v
}

/// The raw grid in tile order, read here from the MDS files (not through edp-grid).
pub struct RawGrid {
    pub cs: Vec<f64>,
    pub sn: Vec<f64>,
    pub depth: Vec<f64>,
    pub rc: Vec<f64>,
    pub rf: Vec<f64>,
    /// `floor(max(DXG, DYG))`: the nearest-neighbour cap (7.2).
    pub max_l: f64,
    /// Cartesian positions of the centres on the chord sphere.
    pub xyz: Vec<[f64; 3]>,
}

impl RawGrid {
    pub fn load(fx: &Fixture) -> &'static RawGrid {
        static RAW: OnceLock<RawGrid> = OnceLock::new();
        RAW.get_or_init(|| {
            let tiles =
                |name: &str| to_tiles(&read_f64_be(&fx.grid_dir.join(format!("{name}.data"))));
            let dxg = tiles("DXG");
            let dyg = tiles("DYG");
            let max_l = dxg.iter().chain(&dyg).copied().fold(0.0, f64::max).floor();
            let (xc, yc) = (tiles("XC"), tiles("YC"));
            RawGrid {
                xyz: xc.iter().zip(&yc).map(|(&x, &y)| xyz(x, y)).collect(),
                cs: tiles("AngleCS"),
                sn: tiles("AngleSN"),
                depth: tiles("Depth"),
                rc: read_f64_be(&fx.grid_dir.join("RC.data")),
                rf: read_f64_be(&fx.grid_dir.join("RF.data")),
                max_l,
            }
        })
    }

    /// `hFacC[k] > 0` (docs/mds-llc.md 4.2: `clamp((Depth + RF[k]) / DRF[k], 0, 1)`).
    pub fn wet(&self, k: usize) -> Vec<bool> {
        self.depth.iter().map(|d| d + self.rf[k] > 0.0).collect()
    }
}

/// Chord-distance sphere radius (pyresample), authalic radius (cell areas), search cap for
/// the bin average (floor of the largest r_p): docs/regridding.md 2.1, 2.2.
const RK: f64 = 6_370_997.0;
const RA: f64 = 6_371_008.8;
const WITHIN_CAP: f64 = 31_367.0;

fn xyz(lon: f64, lat: f64) -> [f64; 3] {
    let (l, f) = (lon.to_radians(), lat.to_radians());
    [RK * f.cos() * l.cos(), RK * f.cos() * l.sin(), RK * f.sin()]
}

/// Centre `(lon, lat)` of target `p = iy * 720 + ix` (row 0 southernmost).
pub fn target_centre(p: usize) -> (f64, f64) {
    (
        -179.75 + 0.5 * (p % NX) as f64,
        -89.75 + 0.5 * (p / NX) as f64,
    )
}

/// `r_p = sqrt(A / pi)` with `A = (sin(lat + 0.25) - sin(lat - 0.25)) * 0.5 deg * Ra^2`.
pub fn target_radius(p: usize) -> f64 {
    let lat = target_centre(p).1;
    let area = ((lat + 0.25).to_radians().sin() - (lat - 0.25).to_radians().sin())
        * 0.5f64.to_radians()
        * RA
        * RA;
    (area / std::f64::consts::PI).sqrt()
}

/// How one target is mapped by the definition.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapping {
    /// Land (nearest cell dry, or nothing within max_L).
    Land,
    /// Equal-weight mean over these wet sources within r_p.
    Mean(Vec<usize>),
    /// The nearest wet source.
    Nearest(usize),
}

/// The mapping of target `p` at a level with wet mask `wet`, by brute force over every
/// source (ties broken by the smaller source index).
pub fn brute_force_mapping(raw: &RawGrid, wet: &[bool], p: usize) -> Mapping {
    let (lon, lat) = target_centre(p);
    let t = xyz(lon, lat);
    let r_p = target_radius(p);
    let mut nearest_all = (f64::INFINITY, usize::MAX);
    let mut nearest_wet = (f64::INFINITY, usize::MAX);
    let mut within = Vec::new();
    for (s, q) in raw.xyz.iter().enumerate() {
        let d = ((t[0] - q[0]).powi(2) + (t[1] - q[1]).powi(2) + (t[2] - q[2]).powi(2)).sqrt();
        if d < nearest_all.0 {
            nearest_all = (d, s);
        }
        if wet[s] {
            if d < nearest_wet.0 {
                nearest_wet = (d, s);
            }
            if d <= r_p && d <= WITHIN_CAP {
                within.push(s);
            }
        }
    }
    if nearest_all.0 > raw.max_l || !wet[nearest_all.1] {
        return Mapping::Land;
    }
    if within.is_empty() {
        Mapping::Nearest(nearest_wet.1)
    } else {
        Mapping::Mean(within)
    }
}

/// The value of a mapping for field `f` (f64 arithmetic, f32 result; NaN on land).
pub fn mapped_value(mapping: &Mapping, f: &[f64]) -> f32 {
    match mapping {
        Mapping::Land => f32::NAN,
        Mapping::Mean(sources) => {
            (sources.iter().map(|&s| f[s]).sum::<f64>() / sources.len() as f64) as f32
        }
        Mapping::Nearest(s) => f[*s] as f32,
    }
}

/// A spread of targets for brute-force checks: every `step`-th target plus rows near both
/// poles, the equator and the date line.
pub fn sample_targets(step: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..TARGETS).step_by(step).collect();
    for iy in [0, 1, 2, 179, 180, 300, 340, 357, 358, 359] {
        for ix in [0, 1, 359, 360, 718, 719] {
            p.push(iy * NX + ix);
        }
    }
    p.sort_unstable();
    p.dedup();
    p
}

/// True when `got` (from the granule) equals the reference `want` within float32 rounding of
/// differently ordered f64 sums of values up to `scale` in magnitude (or both are land).
pub fn same_value(got: f32, want: f32, scale: f32) -> bool {
    if want.is_nan() {
        return got == FILL;
    }
    (got - want).abs() <= 2.0 * f32::EPSILON * scale.max(want.abs())
}

/// Tile-order values (`[k][t][j][i]`) to the compact order of MDS files (docs/mds-llc.md 3.2).
pub fn to_compact(tiles: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; tiles.len()];
    for (k, level) in tiles.chunks(CELLS).enumerate() {
        for t in 0..13 {
            for j in 0..N {
                for i in 0..N {
                    out[k * CELLS + compact_offset(t, j, i)] = level[(t * N + j) * N + i];
                }
            }
        }
    }
    out
}
