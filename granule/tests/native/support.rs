//! Shared fixtures: the real LLC90 grid and V4r4 metadata (loaded once per test binary), MDS
//! results trees written in a temporary directory, independent readers of the raw grid
//! files, and NetCDF read-back helpers.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use edp_conventions::naming::{MdsFileKind, PeriodToken, mds_file_name, mds_prefix};
use edp_conventions::{Catalog, Frequency, LoadOptions, ProductType, ProductionConfig};
use edp_granule::{GranuleReport, GranuleRequest, LocalFiles, Resources, local, produce_granule};
use edp_grid::Grid;
use edp_mds::{ByteOrder, Meta, Precision};

/// LLC90 tile size.
pub const N: usize = 90;
/// Values per level.
pub const CELLS: usize = 13 * N * N;
/// Levels of the V4r4 grid.
pub const NZ: usize = 50;
/// `NC_FILL_FLOAT`, written out independently of the crate's constant.
pub const FILL: f32 = 9.969_209_968_386_869e36_f64 as f32;

/// The real grid and metadata.
pub struct Fixture {
    pub grid_dir: PathBuf,
    pub resources: Resources,
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
            Some(Fixture {
                grid_dir,
                resources: Resources::new(
                    Arc::new(grid),
                    Arc::new(catalog),
                    Arc::new(ProductionConfig::v4r4()),
                ),
            })
        })
        .as_ref()
}

/// Compact offset of tile value `(t, j, i)` within one level (docs/mds-llc.md 3.2), written out
/// here independently of `edp_mds::Llc`.
pub fn compact_offset(t: usize, j: usize, i: usize) -> usize {
    match t {
        0..=6 => (t * N + j) * N + i,
        7..=9 => 7 * N * N + j * 3 * N + (t - 7) * N + i,
        _ => 10 * N * N + j * 3 * N + (t - 10) * N + i,
    }
}

/// Index of `(t, j, i)` in a tile-ordered level.
pub fn tile_index(t: usize, j: usize, i: usize) -> usize {
    (t * N + j) * N + i
}

/// Compact values (`[k][13N][N]`) to tile order `[k][t][j][i]`.
pub fn to_tiles<T: Copy>(compact: &[T]) -> Vec<T> {
    let nz = compact.len() / CELLS;
    let mut out = Vec::with_capacity(compact.len());
    for k in 0..nz {
        for t in 0..13 {
            for j in 0..N {
                for i in 0..N {
                    out.push(compact[k * CELLS + compact_offset(t, j, i)]);
                }
            }
        }
    }
    out
}

/// Big-endian float32 file (no `.meta`).
pub fn read_f32_be(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Big-endian float64 file.
pub fn read_f64_be(path: &Path) -> Vec<f64> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(8)
        .map(|b| f64::from_be_bytes(b.try_into().unwrap()))
        .collect()
}

/// A real 2-D float32 field of the shared data (`SSH.bin`, `TauX.bin`, ...) in compact order.
pub fn real_2d(fx: &Fixture, name: &str) -> Vec<f32> {
    let v = read_f32_be(&fx.grid_dir.join(name));
    assert_eq!(v.len(), CELLS);
    v
}

/// The open fraction of tracer cells computed from the raw `Depth`, `RF`, `DRF` files
/// (docs/mds-llc.md 4.2), tile order `[k][t][j][i]`.
pub fn hfac_c(fx: &Fixture) -> Vec<f64> {
    let depth = to_tiles(&read_f64_be(&fx.grid_dir.join("Depth.data")));
    let rf = read_f64_be(&fx.grid_dir.join("RF.data"));
    let drf = read_f64_be(&fx.grid_dir.join("DRF.data"));
    let mut out = Vec::with_capacity(NZ * CELLS);
    for k in 0..NZ {
        for d in &depth {
            out.push(((d + rf[k]) / drf[k]).clamp(0.0, 1.0));
        }
    }
    out
}

/// Writes one MDS diagnostic `<root>/<dir>/<VAR>_<token>/<VAR>_<token>.<ts10>.{data,meta}` with
/// a V4r4-style `.meta` (float32, big-endian); `compact` holds `nz` compact levels.
pub fn write_diagnostic(
    root: &Path,
    dir: &str,
    var: &str,
    token: PeriodToken,
    step: u64,
    compact: &[f32],
    nz: usize,
) -> (PathBuf, PathBuf) {
    let sub = root.join(dir).join(mds_prefix(var, token));
    std::fs::create_dir_all(&sub).unwrap();
    let stem = sub.join(mds_file_name(var, token, step, MdsFileKind::Data));
    let stem = stem.with_extension("");
    let mut meta = Meta::new_llc(stem.display().to_string(), N, nz, Precision::F32, 1);
    meta.time_step = Some(step);
    meta.time_interval = vec![0.0, step as f64 * 3600.0];
    meta.missing_value = Some(-999.0);
    meta.fields = vec![var.to_string()];
    edp_mds::write_mds(&stem, &meta, compact, ByteOrder::Big).unwrap();
    let (meta_path, data_path) = edp_mds::mds_paths(&stem);
    assert!(data_path.is_file() && meta_path.is_file());
    (data_path, meta_path)
}

/// Produces grouping `id` at `step` from the tree at `root` into `out` with local files.
pub fn produce(
    fx: &Fixture,
    root: &Path,
    id: usize,
    frequency: Frequency,
    step: u64,
    out: &Path,
) -> Result<GranuleReport, edp_granule::GranuleError> {
    let r = &fx.resources;
    let dataset = r.catalog.dataset(ProductType::Native, id as i64).unwrap();
    let found = local::find_inputs(root, &dataset, frequency, step, r.config.snap_instants);
    let request = GranuleRequest::new(
        &r.catalog,
        &r.config,
        ProductType::Native,
        id,
        frequency,
        step,
        found.variables,
    )?;
    produce_granule(&request, r, &LocalFiles::new(), out)
}

/// Opens a granule for reading. HDF5 locks files with `flock`, and a child process spawned
/// by a concurrent test (`ncdump`) inherits the HDF5 descriptors open at that moment, with
/// their locks, until it exits; so an open can fail for a moment with "unable to lock file".
/// Retry for a while instead of failing the test.
pub fn open_nc(path: &Path) -> netcdf::File {
    let started = std::time::Instant::now();
    loop {
        match netcdf::open(path) {
            Ok(file) => return file,
            Err(_) if started.elapsed() < std::time::Duration::from_secs(30) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("cannot open {}: {e}", path.display()),
        }
    }
}

/// Float values of variable `name`.
pub fn values_f32(file: &netcdf::File, name: &str) -> Vec<f32> {
    file.variable(name)
        .unwrap_or_else(|| panic!("no variable {name}"))
        .get_values::<f32, _>(..)
        .unwrap()
}

/// Int values of variable `name`.
pub fn values_i32(file: &netcdf::File, name: &str) -> Vec<i32> {
    file.variable(name)
        .unwrap_or_else(|| panic!("no variable {name}"))
        .get_values::<i32, _>(..)
        .unwrap()
}

/// A variable attribute. Looked up by iterating, because asking HDF5 for an absent
/// attribute prints HDF5-DIAG noise on stderr.
pub fn var_attr(file: &netcdf::File, var: &str, name: &str) -> Option<netcdf::AttributeValue> {
    file.variable(var)?
        .attributes()
        .find(|a| a.name() == name)
        .map(|a| a.value().unwrap())
}

/// A global attribute (looked up by iterating, see [`var_attr`]).
pub fn global_attr(file: &netcdf::File, name: &str) -> Option<netcdf::AttributeValue> {
    file.attributes()
        .find(|a| a.name() == name)
        .map(|a| a.value().unwrap())
}

/// A text variable attribute.
pub fn var_text(file: &netcdf::File, var: &str, name: &str) -> String {
    match var_attr(file, var, name) {
        Some(netcdf::AttributeValue::Str(s)) => s,
        other => panic!("{var}:{name} is {other:?}, expected text"),
    }
}

/// A float variable attribute.
pub fn var_f32(file: &netcdf::File, var: &str, name: &str) -> f32 {
    match var_attr(file, var, name) {
        Some(netcdf::AttributeValue::Float(v)) => v,
        other => panic!("{var}:{name} is {other:?}, expected NC_FLOAT"),
    }
}

/// A text global attribute.
pub fn global_text(file: &netcdf::File, name: &str) -> String {
    match global_attr(file, name) {
        Some(netcdf::AttributeValue::Str(s)) => s,
        other => panic!("global {name} is {other:?}, expected text"),
    }
}

/// Names of the dimensions of variable `var`.
pub fn dims_of(file: &netcdf::File, var: &str) -> Vec<String> {
    file.variable(var)
        .unwrap_or_else(|| panic!("no variable {var}"))
        .dimensions()
        .iter()
        .map(|d| d.name())
        .collect()
}

/// `ncdump -hs` of a file (special attributes: chunking, filters), or `None` when ncdump
/// is not installed (outside CI the encoding checks that need it are skipped with a note).
pub fn ncdump_hs(path: &Path) -> Option<String> {
    // Retried like `open_nc` (a concurrent test's child may hold a lock on the file).
    let started = std::time::Instant::now();
    loop {
        match std::process::Command::new("ncdump")
            .arg("-hs")
            .arg(path)
            .output()
        {
            Ok(out) if out.status.success() => return Some(String::from_utf8(out.stdout).unwrap()),
            Ok(_) if started.elapsed() < std::time::Duration::from_secs(30) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Ok(out) => panic!(
                "ncdump -hs {} failed: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "ncdump not available in CI: {e}"
                );
                eprintln!("SKIPPED encoding checks that need ncdump: {e}");
                return None;
            }
        }
    }
}

/// The special attributes `ncdump -hs` prints for `var` (e.g. `_DeflateLevel = 5`).
pub fn special_attrs(dump: &str, var: &str) -> Vec<String> {
    let prefix = format!("\t\t{var}:_");
    dump.lines()
        .filter(|l| l.starts_with(&prefix))
        .map(|l| l.trim().trim_end_matches(" ;").to_string())
        .collect()
}

/// Files in `dir` (names), sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|it| {
            it.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
