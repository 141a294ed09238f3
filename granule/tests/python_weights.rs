//! Produces the lat-lon SEA_SURFACE_HEIGHT granule from the real `SSH.bin` and runs
//! `tests/python/check_weights.py`: the weights file opened with netCDF4 and applied with
//! scipy.sparse to the input must give the granule's values (land where `mask_b` is 0).
//!
//! The Python comes from `EDP_PYTHON`, else `<repo>/.venv/bin/python`. In CI (`CI` set) a
//! missing Python environment is a failure; elsewhere the test is skipped with a message.

use std::path::PathBuf;
use std::process::Command;

use crate::latlon::support::*;
use edp_conventions::Frequency;
use edp_conventions::naming::PeriodToken;

/// The Python interpreter with netCDF4, numpy and scipy, or `None` (skip).
fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("EDP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| edp_testkit::repo_root().join(".venv/bin/python"));
    let usable = Command::new(&candidate)
        .args(["-c", "import netCDF4, numpy, scipy.sparse"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if usable {
        return Some(candidate);
    }
    let why = format!(
        "no Python with netCDF4, numpy and scipy at {} (set EDP_PYTHON or create <repo>/.venv)",
        candidate.display()
    );
    assert!(std::env::var_os("CI").is_none(), "CI: {why}");
    eprintln!("SKIPPED: {why}");
    None
}

#[test]
fn scipy_applying_the_weights_file_reproduces_the_latlon_granule() {
    let Some(fx) = fixture() else { return };
    let Some(python) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("src");
    let ssh = real_2d(fx, "SSH.bin");
    write_diagnostic(
        &root,
        "diags_monthly",
        "SSH",
        PeriodToken::MonMean,
        732,
        &ssh,
        1,
    );
    let out = tmp
        .path()
        .join("SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_latlon_0p50deg.nc");
    produce(fx, &root, 0, Frequency::AvgMon, 732, &out).unwrap();

    // The input in tile order (the weights' source order), little-endian, next to the granule.
    let input = tmp.path().join("SSH_tiles.f32");
    let bytes: Vec<u8> = to_tiles(&ssh)
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(&input, bytes).unwrap();

    let script = edp_testkit::repo_root().join("tests/python/check_weights.py");
    let run = |input: &std::path::Path| {
        Command::new(&python)
            .arg(&script)
            .arg(&fx.weights_file)
            .arg(&out)
            .arg(input)
            .arg("SSH")
            .output()
            .unwrap()
    };
    // The check itself must notice a difference: a slightly different input fails it.
    let perturbed = tmp.path().join("SSH_tiles_perturbed.f32");
    let bytes: Vec<u8> = to_tiles(&ssh)
        .iter()
        .flat_map(|v| (v * 1.001).to_le_bytes())
        .collect();
    std::fs::write(&perturbed, bytes).unwrap();
    let output = run(&perturbed);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a perturbed input must fail the check: {}",
        String::from_utf8_lossy(&output.stdout)
    );

    let output = run(&input);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "check_weights.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("SSH: 169137 wet and 90063 land targets of 720x360"),
        "{stdout}"
    );
    assert!(stdout.contains("weights check passed"), "{stdout}");
}
