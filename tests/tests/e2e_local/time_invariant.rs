//! Time-invariant datasets planned from a job file: `[20, 'native', 'TI', 'all']` and the
//! lat-lon `TIME-INVARIANT` grouping of the published V4r4 metadata, next to a monthly job, in
//! one `edp run` over the demo grid. The parameter fields sit at
//! `<source>/time_invariant/<FIELD>/<FIELD>.{data,meta}`. Checked: a missing field is reported
//! with its expected path; the granules' values against the fields and the grid's own mask
//! (counted independently from `hFacC`); idempotence; the dataset table, `edp check` (no
//! HDF5 traces) and `edp verify`; the virtual stores against the granules with xarray.

use std::path::{Path, PathBuf};

use super::support::{demo, edp, text};
use super::virtual_stores::{check, python};

/// The fields of the V4r4 mixing-coefficient grouping and the value of level 0 (level k holds
/// `base * (k + 1)` on every cell).
const FIELDS: [(&str, f32); 3] = [("DIFFKR", 1e-5), ("KAPGM", 500.0), ("KAPREDI", 1000.0)];

const FILL: f32 = 9.969_21e36;

/// Writes field `name` as one 3-D LLC record (big-endian float32, MITgcm `.meta`).
fn write_field(dir: &Path, name: &str, base: f32, n: usize, nz: usize) {
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let level = 13 * n * n;
    let mut data = Vec::with_capacity(4 * level * nz);
    for k in 0..nz {
        let value = base * (k + 1) as f32;
        for _ in 0..level {
            data.extend_from_slice(&value.to_be_bytes());
        }
    }
    std::fs::write(dir.join(format!("{name}.data")), data).unwrap();
    let meta = format!(
        " nDims = [   3 ];\n dimList = [\n {n:5}, 1, {n:5},\n {:5}, 1, {:5},\n {nz:5}, 1, {nz:5}\n ];\n \
         dataprec = [ 'float32' ];\n nrecords = [     1 ];\n fldList = {{\n '{name:<8}'\n }};\n",
        13 * n,
        13 * n
    );
    std::fs::write(dir.join(format!("{name}.meta")), meta).unwrap();
}

/// Wet cells per level of the grid directory's `hFacC` (big-endian float64, `[k][...]`).
fn wet_cells_per_level(grid: &Path, n: usize, nz: usize) -> Vec<usize> {
    let bytes = std::fs::read(grid.join("hFacC.data")).unwrap();
    let level = 13 * n * n;
    assert_eq!(bytes.len(), 8 * level * nz, "hFacC size");
    bytes
        .chunks_exact(8 * level)
        .map(|l| {
            l.chunks_exact(8)
                .filter(|b| f64::from_be_bytes((*b).try_into().unwrap()) > 0.0)
                .count()
        })
        .collect()
}

/// The values of `variable` in `path`, by level (its first dimension).
fn levels(path: &Path, variable: &str) -> Vec<Vec<f32>> {
    let file = netcdf::open(path).unwrap();
    let var = file.variable(variable).unwrap();
    let nz = var.dimensions()[0].len();
    let values: Vec<f32> = var.get_values(..).unwrap();
    let per_level = values.len() / nz;
    values.chunks(per_level).map(<[f32]>::to_vec).collect()
}

fn granule(dest: &Path, product: &str) -> PathBuf {
    let label = if product == "native" {
        "llc0090"
    } else {
        "0p50deg"
    };
    dest.join(format!(
        "V4r4/{product}/time_invariant/OCEAN_3D_MIXING_COEFFS/\
         OCEAN_3D_MIXING_COEFFS_ECCO_V4r4_{product}_{label}.nc"
    ))
}

#[test]
fn time_invariant_jobs_plan_run_check_and_publish_virtual_stores() {
    let Some(metadata) = edp_testkit::v4r4_metadata_dir() else {
        return;
    };
    let demo = demo();
    let (n, nz) = (demo.layout.spec.n, demo.layout.spec.nz);
    // The demo configuration with the release's grid labels, so that the granule names are
    // the PO.DAAC table's.
    let config = demo.dir.path().join("config.yaml");
    let text_config = std::fs::read_to_string(&demo.layout.config_file).unwrap();
    let labels = format!(
        "{{native: \"{}\", latlon: \"{}\"}}",
        demo.layout.spec.native_grid_label(),
        demo.layout.spec.latlon_grid_label()
    );
    assert!(text_config.contains(&labels), "{text_config}");
    std::fs::write(
        &config,
        text_config.replace(&labels, "{native: \"llc0090\", latlon: \"0p50deg\"}"),
    )
    .unwrap();
    let params = demo.layout.source_root.join("time_invariant");
    for (name, base) in FIELDS {
        write_field(&params, name, base, n, nz);
    }
    let jobs = demo.dir.path().join("jobs.txt");
    std::fs::write(
        &jobs,
        "[0,'native','AVG_MON','all']\n\
         [20,'native','TI','all']        # mixing coefficients\n\
         [13,'latlon','TIME-INVARIANT','all']\n",
    )
    .unwrap();
    let dest = demo.dest.clone();
    let run = || {
        let path = |p: &Path| p.display().to_string();
        edp(&[
            "run".to_string(),
            "--jobfile".into(),
            path(&jobs),
            "--source".into(),
            path(&demo.layout.source_root),
            "--dest".into(),
            path(&dest),
            "--metadata".into(),
            path(&metadata),
            "--grid".into(),
            path(&demo.layout.grid_dir),
            "--config".into(),
            path(&config),
            "--cache-dir".into(),
            path(&demo.dir.path().join("cache")),
            "--no-progress".into(),
        ])
    };

    // A missing field: the granules that need it are incomplete, named with the expected path.
    let meta = params.join("KAPGM/KAPGM.meta");
    let aside = params.join("KAPGM.meta.aside");
    std::fs::rename(&meta, &aside).unwrap();
    let output = run();
    let all = text(&output);
    assert!(all.contains("time_invariant/KAPGM/KAPGM.meta"), "{all}");
    assert!(!granule(&dest, "native").exists(), "{all}");
    std::fs::rename(&aside, &meta).unwrap();

    let output = run();
    assert!(output.status.success(), "{}", text(&output));
    let wet = wet_cells_per_level(&demo.layout.grid_dir, n, nz);
    for (name, base) in FIELDS {
        let native = levels(&granule(&dest, "native"), name);
        let latlon = levels(&granule(&dest, "latlon"), name);
        assert_eq!((native.len(), latlon.len()), (nz, nz), "{name}");
        for k in 0..nz {
            let expected = base * (k + 1) as f32;
            // Native: the field on every wet cell, fill on land.
            let values = &native[k];
            assert!(
                values.iter().all(|v| *v == expected || *v == FILL),
                "{name} k={k}"
            );
            let written = values.iter().filter(|v| **v == expected).count();
            assert_eq!(written, wet[k], "{name} wet cells at level {k}");
            // Lat-lon: a bin average of equal values where a wet source is near, else fill.
            let targets = &latlon[k];
            assert!(
                targets
                    .iter()
                    .all(|v| *v == FILL || (v - expected).abs() <= 1e-5 * expected),
                "{name} k={k}"
            );
            assert_eq!(
                targets.iter().any(|v| *v != FILL),
                wet[k] > 0,
                "{name} lat-lon level {k}"
            );
        }
    }
    let native = netcdf::open(granule(&dest, "native")).unwrap();
    assert!(native.dimension("time").is_none());
    let inputs = native
        .attribute("edp_input_files")
        .unwrap()
        .value()
        .unwrap();
    assert!(format!("{inputs:?}").contains("time_invariant/DIFFKR/DIFFKR.data"));

    // Idempotent.
    let again = run();
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("nothing to do"),
        "{}",
        text(&again)
    );

    // One granule of one each: complete, and the series check passes without HDF5 traces.
    let dest_text = dest.display().to_string();
    let table = edp(&["datasets", "--dest", dest_text.as_str()]);
    let table_text = String::from_utf8_lossy(&table.stdout).to_string();
    for product in ["native", "latlon"] {
        let line = table_text
            .lines()
            .find(|l| l.starts_with(&format!("V4r4/{product}/time_invariant/")))
            .unwrap_or_else(|| panic!("no {product} time-invariant dataset:\n{table_text}"));
        assert!(
            line.contains("time-invariant") && line.contains("1/1"),
            "{line}"
        );
    }
    let checked = edp(&["check", "--dest", dest_text.as_str()]);
    assert!(checked.status.success(), "{}", text(&checked));
    assert!(!text(&checked).contains("HDF5-DIAG"), "{}", text(&checked));
    assert_eq!(
        text(&checked).matches("PASSED").count(),
        3,
        "{}",
        text(&checked)
    );
    let verified = edp(&["verify", "--dest", dest_text.as_str()]);
    assert!(verified.status.success(), "{}", text(&verified));

    // The virtual store of each holds its one granule.
    if let Some(python) = python() {
        for product in ["native", "latlon"] {
            let refs = dest.join(format!(
                "_edp/virtual/V4r4/{product}/time_invariant/OCEAN_3D_MIXING_COEFFS/refs.json"
            ));
            let summary = check(
                &python,
                &refs.display().to_string(),
                &[granule(&dest, product)],
                &[],
            );
            assert_eq!(summary["times"], 0, "{summary}");
        }
    }
}
