//! `edp time-invariant` as a real binary on a synthetic grid with the V4r4 metadata: the
//! GRID_GEOMETRY and mixing-coefficient granules land in the dataset layout
//! `<out>/<version>/<type>/time_invariant/<PREFIX>/`, the same place `edp run` puts a `TI` job's
//! granule; a parameter field of another grid is refused, naming the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use crate::edp;
use edp_grid::{Grid, MdsDirOptions, SyntheticLand, SyntheticSpec};
use edp_mds::{ByteOrder, Meta, Precision, write_mds};

const N: usize = 6;
const NZ: usize = 3;

/// A configuration for the synthetic grid: V4r4's names and labels, 3 levels, 30 degrees.
const CONFIG: &str = r#"ecco_version: "V4r4"
product_version: "Test"
ecco_production_filestr_grid_label: {native: "llc0090", latlon: "0p50deg"}
array_precision: "float32"
model_start_time: "1992-01-01T12:00:00"
model_end_time: "2018-01-01T00:00:00"
model_timestep: 1
model_timestep_units: "h"
num_vertical_levels: 3
geospatial_vertical_min: -300
latlon_grid_resolution: 30
latlon_grid_area_extent: [-180.0, 90.0, 180.0, -90.0]
podaac_metadata_filename: "PODAAC_datasets-revised_20210226.5.csv"
history: "test"
references: "test"
source: "test"
summary: "test"
dataset_description_tail_native: " on a synthetic grid."
dataset_description_tail_latlon: " on a synthetic grid."
netcdf4_compression_encodings: {zlib: true, complevel: 5, shuffle: true}
"#;

fn write_params(dir: &Path, n: usize) {
    for field in ["DIFFKR", "KAPGM", "KAPREDI"] {
        let mut meta = Meta::new_llc(field.to_string(), n, NZ, Precision::F32, 1);
        meta.fields = vec![field.to_string()];
        let values = vec![1.5f32; meta.n_values()];
        std::fs::create_dir_all(dir).unwrap();
        write_mds(dir.join(field), &meta, &values, ByteOrder::Big).unwrap();
    }
}

#[test]
fn time_invariant_writes_the_dataset_layout_and_refuses_fields_of_another_grid() {
    let Some(metadata) = edp_testkit::v4r4_metadata_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let grid = tmp.path().join("grid");
    Grid::synthetic(&SyntheticSpec {
        n: N,
        nz: NZ,
        land: SyntheticLand::Analytic,
    })
    .unwrap()
    .write_mds_dir(&grid, &MdsDirOptions::default())
    .unwrap();
    let config = tmp.path().join("config.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    let params = tmp.path().join("params");
    write_params(&params, N);
    let out = tmp.path().join("out");
    let path = |p: &Path| p.display().to_string();
    let args = |params: &Path| {
        vec![
            "time-invariant".to_string(),
            "--metadata".into(),
            path(&metadata),
            "--grid".into(),
            path(&grid),
            "--params".into(),
            path(params),
            "--config".into(),
            path(&config),
            "--out".into(),
            path(&out),
        ]
    };
    let run = |args: Vec<String>| edp(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let output = run(args(&params));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (product, label) in [("native", "llc0090"), ("latlon", "0p50deg")] {
        for prefix in ["GRID_GEOMETRY", "OCEAN_3D_MIXING_COEFFS"] {
            let granule = out.join(format!(
                "V4r4/{product}/time_invariant/{prefix}/{prefix}_ECCO_V4r4_{product}_{label}.nc"
            ));
            assert!(
                granule.is_file(),
                "{} missing:\n{stdout}",
                granule.display()
            );
            assert!(stdout.contains(&path(&granule)), "{stdout}");
        }
    }
    assert!(stdout.contains("DIFFKR, KAPGM, KAPREDI"), "{stdout}");

    // Fields of an LLC4 grid: refused, naming the field's .meta and both sizes.
    let small = tmp.path().join("small");
    write_params(&small, 4);
    let refused = run(args(&small));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("small/DIFFKR.meta"), "{stderr}");
    assert!(
        stderr.contains("LLC4") && stderr.contains("LLC6"),
        "{stderr}"
    );
}
