//! Produces native and lat-lon 2-D and 3-D granules on the real LLC90 grid and runs
//! `tests/python/check_granules.py` on them (netCDF4, xarray `decode_cf`, IOOS
//! compliance-checker `cf:1.8` + `acdd:1.3`; high-priority failures fail the test), then
//! produces each again through netCDF-C's own compression and runs
//! `tests/python/compare_write_paths.py`: values read back by netCDF4, xarray and h5py
//! bit-identical, `ncdump -hs` headers equal, and the chunk index equal to h5py's view.
//!
//! The Python comes from `EDP_PYTHON`, else `/work/main/.venv/bin/python` style
//! `<repo>/.venv/bin/python` when present. In CI (`CI` set) a missing Python environment is a
//! failure; elsewhere the test is skipped with a message.

use crate::latlon::support as latlon_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use edp_conventions::naming::{MdsFileKind, PeriodToken, mds_file_name, mds_prefix};
use edp_conventions::{Catalog, Frequency, LoadOptions, ProductType, ProductionConfig};
use edp_granule::{GranuleRequest, LocalFiles, Resources, WritePath, local, produce_granule};
use edp_grid::Grid;
use edp_mds::{ByteOrder, Meta, Precision};

/// Held by each test for its whole run. HDF5 locks files with `flock`, and a child process
/// inherits the HDF5 descriptors open in the parent when it is spawned: a compliance check
/// started while the other test writes a granule would keep that granule locked for its
/// whole run. The two tests therefore run one after the other.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The Python interpreter with netCDF4, xarray and compliance-checker, or `None` (skip).
fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("EDP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| edp_testkit::repo_root().join(".venv/bin/python"));
    let usable = Command::new(&candidate)
        .args(["-c", "import netCDF4, xarray, compliance_checker"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if usable {
        return Some(candidate);
    }
    let why = format!(
        "no Python with netCDF4, xarray and compliance-checker at {} (set EDP_PYTHON or create \
         <repo>/.venv)",
        candidate.display()
    );
    assert!(std::env::var_os("CI").is_none(), "CI: {why}");
    eprintln!("SKIPPED: {why}");
    None
}

/// Writes `<root>/<dir>/<VAR>_<token>/<VAR>_<token>.<ts10>.{data,meta}` (float32, big-endian).
fn write_input(
    root: &Path,
    dir: &str,
    var: &str,
    token: PeriodToken,
    step: u64,
    compact: &[f32],
    nz: usize,
) {
    let sub = root.join(dir).join(mds_prefix(var, token));
    std::fs::create_dir_all(&sub).unwrap();
    let data = sub.join(mds_file_name(var, token, step, MdsFileKind::Data));
    let stem = data.with_extension("");
    let mut meta = Meta::new_llc(stem.display().to_string(), 90, nz, Precision::F32, 1);
    meta.time_step = Some(step);
    meta.fields = vec![var.to_string()];
    edp_mds::write_mds(&stem, &meta, compact, ByteOrder::Big).unwrap();
}

fn produce(
    twins: &mut Vec<[PathBuf; 3]>,
    resources: &Resources,
    root: &Path,
    id: usize,
    freq: Frequency,
    step: u64,
    out_dir: &Path,
) -> PathBuf {
    let dataset = resources
        .catalog
        .dataset(ProductType::Native, id as i64)
        .unwrap();
    let found = local::find_inputs(root, &dataset, freq, step, resources.config.snap_instants);
    assert!(found.missing.is_empty(), "{:?}", found.missing);
    let request = GranuleRequest::new(
        &resources.catalog,
        &resources.config,
        ProductType::Native,
        id,
        freq,
        step,
        found.variables,
    )
    .unwrap();
    let out = PathBuf::from(request.edp_path(out_dir.to_str().unwrap()).unwrap());
    produce_granule(&request, resources, &LocalFiles::new(), &out).unwrap();
    twins.push(twin(&request, resources, &out));
    out
}

/// Produces `request` again through netCDF-C's own compression (in a `netcdf-c` folder beside
/// `direct`) and writes the chunk index of `direct` as JSON: the triple that
/// compare_write_paths.py takes.
fn twin(request: &GranuleRequest, resources: &Resources, direct: &Path) -> [PathBuf; 3] {
    let reference = direct
        .parent()
        .unwrap()
        .join("netcdf-c")
        .join(direct.file_name().unwrap());
    let netcdf_c = resources.clone().with_write_path(WritePath::NetCdf);
    produce_granule(request, &netcdf_c, &LocalFiles::new(), &reference).unwrap();
    let index = edp_h5chunks::chunk_index(direct).unwrap();
    assert!(!index.variables.is_empty());
    let json = direct.with_extension("index.json");
    std::fs::write(&json, serde_json::to_vec_pretty(&index).unwrap()).unwrap();
    [direct.to_path_buf(), reference, json]
}

/// Runs compare_write_paths.py on the triples and asserts that nothing differs.
fn compare_write_paths(python: &Path, twins: &[[PathBuf; 3]]) {
    let script = edp_testkit::repo_root().join("tests/python/compare_write_paths.py");
    let output = Command::new(python)
        .arg(&script)
        .args(twins.iter().flatten())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "compare_write_paths.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let n = twins.len();
    assert!(
        stdout.contains(&format!("{n} granule pair(s) compared, 0 difference(s)")),
        "{stdout}"
    );
}

#[test]
fn native_granules_pass_netcdf4_xarray_and_compliance_checker() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let Some(grid_dir) = edp_testkit::llc90_grid_dir() else {
        return;
    };
    let Some(metadata) = edp_testkit::v4r4_metadata_dir() else {
        return;
    };
    let Some(python) = python() else { return };
    let resources = Resources::new(
        Arc::new(Grid::from_mds_dir(&grid_dir).unwrap()),
        Arc::new(Catalog::load(&metadata, &LoadOptions::default()).unwrap()),
        Arc::new(ProductionConfig::v4r4()),
    )
    .with_write_path(WritePath::DirectChunks);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("src");
    let out_dir = tmp.path().join("out");

    // 2-D: the SSH grouping from the real SSH.bin; surface stress with u/v faces (TauX/TauY).
    let read = |name: &str| -> Vec<f32> {
        std::fs::read(grid_dir.join(name))
            .unwrap()
            .chunks_exact(4)
            .map(|b| f32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    let ssh = read("SSH.bin");
    for var in ["SSH", "SSHIBC", "SSHNOIBC", "ETAN"] {
        write_input(
            &root,
            "diags_monthly",
            var,
            PeriodToken::MonMean,
            732,
            &ssh,
            1,
        );
    }
    let (taux, tauy) = (read("TauX.bin"), read("TauY.bin"));
    for (var, v) in [
        ("EXFtaux", &taux),
        ("EXFtauy", &tauy),
        ("oceTAUX", &taux),
        ("oceTAUY", &tauy),
    ] {
        write_input(&root, "diags_monthly", var, PeriodToken::MonMean, 732, v, 1);
    }
    // 3-D: temperature/salinity and velocity (u/v faces, w levels), smooth synthetic values.
    let cells = 13 * 90 * 90;
    let field = |base: f32, scale: f32| -> Vec<f32> {
        (0..50 * cells)
            .map(|n| {
                base + scale * (((n / cells) as f32) * 0.1 + ((n % cells) as f32 * 1e-3).sin())
            })
            .collect()
    };
    write_input(
        &root,
        "diags_monthly",
        "THETA",
        PeriodToken::MonMean,
        732,
        &field(10.0, 1.0),
        50,
    );
    write_input(
        &root,
        "diags_monthly",
        "SALT",
        PeriodToken::MonMean,
        732,
        &field(34.0, 0.1),
        50,
    );
    write_input(
        &root,
        "diags_monthly",
        "UVEL",
        PeriodToken::MonMean,
        732,
        &field(0.0, 0.01),
        50,
    );
    write_input(
        &root,
        "diags_monthly",
        "VVEL",
        PeriodToken::MonMean,
        732,
        &field(0.0, 0.01),
        50,
    );
    write_input(
        &root,
        "diags_monthly",
        "WVELMASS",
        PeriodToken::MonMean,
        732,
        &field(0.0, 1e-5),
        50,
    );

    let mut twins = Vec::new();
    let granules: Vec<PathBuf> = [0, 6, 15, 17]
        .into_iter()
        .map(|id| {
            produce(
                &mut twins,
                &resources,
                &root,
                id,
                Frequency::AvgMon,
                732,
                &out_dir,
            )
        })
        .collect();

    let script = edp_testkit::repo_root().join("tests/python/check_granules.py");
    let output = Command::new(&python)
        .arg(&script)
        .args(&granules)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "check_granules.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("4 of 4 granules passed"), "{stdout}");
    compare_write_paths(&python, &twins);
}

/// Runs check_granules.py on `granules` and asserts that all pass.
fn check(python: &Path, granules: &[PathBuf]) {
    let script = edp_testkit::repo_root().join("tests/python/check_granules.py");
    let output = Command::new(python)
        .arg(&script)
        .args(granules)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "check_granules.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let n = granules.len();
    assert!(
        stdout.contains(&format!("{n} of {n} granules passed")),
        "{stdout}"
    );
}

#[test]
fn latlon_granules_pass_netcdf4_xarray_and_compliance_checker() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let Some(fx) = latlon_support::fixture() else {
        return;
    };
    let Some(python) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("src");
    let out_dir = tmp.path().join("out");
    let grid_dir = &fx.grid_dir;
    let read = |name: &str| latlon_support::read_f32_be(&grid_dir.join(name));

    // 2-D: SSH from the real SSH.bin; surface stress vectors from TauX/TauY (faces and centres).
    let ssh = read("SSH.bin");
    for var in ["SSH", "SSHIBC", "SSHNOIBC"] {
        write_input(
            &root,
            "diags_monthly",
            var,
            PeriodToken::MonMean,
            732,
            &ssh,
            1,
        );
    }
    let (taux, tauy) = (read("TauX.bin"), read("TauY.bin"));
    for (var, v) in [
        ("EXFtaux", &taux),
        ("EXFtauy", &tauy),
        ("oceTAUX", &taux),
        ("oceTAUY", &tauy),
    ] {
        write_input(&root, "diags_monthly", var, PeriodToken::MonMean, 732, v, 1);
    }
    // 3-D: smooth synthetic tracers and velocities on all 50 levels.
    let cells = 13 * 90 * 90;
    let field = |base: f32, scale: f32| -> Vec<f32> {
        (0..50 * cells)
            .map(|n| {
                base + scale * (((n / cells) as f32) * 0.1 + ((n % cells) as f32 * 1e-3).sin())
            })
            .collect()
    };
    for (var, base, scale) in [
        ("THETA", 10.0, 1.0),
        ("SALT", 34.0, 0.1),
        ("UVEL", 0.0, 0.01),
        ("VVEL", 0.0, 0.01),
        ("WVELMASS", 0.0, 1e-5),
    ] {
        write_input(
            &root,
            "diags_monthly",
            var,
            PeriodToken::MonMean,
            732,
            &field(base, scale),
            50,
        );
    }

    let resources = fx
        .resources
        .clone()
        .with_write_path(WritePath::DirectChunks);
    let mut twins = Vec::new();
    let granules: Vec<PathBuf> = [0, 6, 9, 11]
        .into_iter()
        .map(|id| {
            let request = latlon_support::request(fx, &root, id, Frequency::AvgMon, 732);
            let out = PathBuf::from(request.edp_path(out_dir.to_str().unwrap()).unwrap());
            produce_granule(&request, &resources, &LocalFiles::new(), &out).unwrap();
            twins.push(twin(&request, &resources, &out));
            out
        })
        .collect();
    check(&python, &granules);
    compare_write_paths(&python, &twins);
}
