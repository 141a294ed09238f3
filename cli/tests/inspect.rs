//! `edp inspect` run as a real binary on synthetic MDS pairs, a synthetic grid directory and
//! the real LLC90 grid directory, in text and JSON form.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::edp;
use edp_grid::{Grid, MdsDirOptions, SyntheticLand, SyntheticSpec};
use edp_mds::{ByteOrder, Llc, Meta, Precision, write_mds};
use serde_json::Value;
use std::path::Path;

fn ok_stdout(args: &[&str]) -> String {
    let out = edp(args);
    assert!(
        out.status.success(),
        "edp {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok_stdout(args)).expect("valid JSON")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Writes a 2-D float32 SSH field on LLC4 whose compact value v is `v/10 - 5`.
fn write_ssh(dir: &Path) -> (std::path::PathBuf, Vec<f32>) {
    let stem = dir.join("SSH_mon_mean.0000000732");
    let mut meta = Meta::new_llc("SSH.meta", 4, 1, Precision::F32, 1);
    meta.time_step = Some(732);
    meta.missing_value = Some(-999.0);
    meta.fields = vec!["SSH".into()];
    let values: Vec<f32> = (0..meta.n_values())
        .map(|v| v as f32 / 10.0 - 5.0)
        .collect();
    write_mds(&stem, &meta, &values, ByteOrder::Big).unwrap();
    (stem, values)
}

#[test]
fn field_summary_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let (stem, values) = write_ssh(dir.path());
    let text = ok_stdout(&["inspect", s(&stem)]);
    for want in [
        "SSH",
        "float32",
        "1992-02-01T00:00:00",
        "732",
        "all points",
        "LLC4",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }

    // Either half of the pair works, and JSON carries the same facts.
    for path in [format!("{}.data", s(&stem)), format!("{}.meta", s(&stem))] {
        let j = json(&["inspect", &path, "--json"]);
        assert_eq!(j["kind"], "field");
        assert_eq!(j["names"], serde_json::json!(["SSH"]));
        assert_eq!(j["dims"], serde_json::json!([4, 52]));
        assert_eq!(j["llc_n"], 4);
        assert_eq!(j["dtype"], "float32");
        assert_eq!(j["records"], 1);
        assert_eq!(j["time_step"], 732);
        assert_eq!(j["date"], "1992-02-01T00:00:00");
        assert_eq!(j["missing_value"], -999.0);
        let st = &j["stats"][0]["all_levels"];
        assert_eq!(st["count"], 208);
        let min = values.iter().copied().fold(f32::INFINITY, f32::min) as f64;
        let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        let mean = values.iter().map(|v| *v as f64).sum::<f64>() / values.len() as f64;
        // serde_json's default float parsing may be off by one ulp.
        assert!((st["min"].as_f64().unwrap() - min).abs() < 1e-12);
        assert!((st["max"].as_f64().unwrap() - max).abs() < 1e-12);
        assert!((st["mean"].as_f64().unwrap() - mean).abs() < 1e-9);
        assert!(j["stats"][0].get("levels").is_none());
    }
}

#[test]
fn name_and_step_come_from_the_file_name_without_fldlist() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("ETAN_day_inst.0000000012");
    let meta = Meta::new_llc("ETAN.meta", 2, 1, Precision::F64, 1);
    write_mds(
        &stem,
        &meta,
        &vec![1.5f64; meta.n_values()],
        ByteOrder::Little,
    )
    .unwrap();
    let j = json(&["inspect", s(&stem), "--json", "--byte-order", "little"]);
    assert_eq!(j["names"], serde_json::json!(["ETAN_day_inst"]));
    assert_eq!(j["dtype"], "float64");
    assert_eq!(j["time_step"], 12);
    assert_eq!(j["date"], "1992-01-02T00:00:00");
    assert_eq!(j["stats"][0]["all_levels"]["mean"], 1.5);
}

#[test]
fn three_d_multi_record_statistics_over_wet_points_per_level() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::synthetic(&SyntheticSpec {
        n: 4,
        nz: 3,
        land: SyntheticLand::Analytic,
    })
    .unwrap();
    let grid_dir = dir.path().join("grid");
    grid.write_mds_dir(&grid_dir, &MdsDirOptions::default())
        .unwrap();

    // Two records (THETA, SALT) of 3 levels in tile order; land holds 0 as in V4r4 output.
    let cells = grid.cells();
    let tiles: Vec<f64> = (0..2 * 3 * cells)
        .map(|x| {
            let (r, kc) = (x / (3 * cells), x % (3 * cells));
            if grid.mask_c[kc] {
                10.0 * r as f64 + (kc % 97) as f64 * 0.5
            } else {
                0.0
            }
        })
        .collect();
    let llc = Llc::new(4);
    let compact: Vec<f64> = tiles
        .chunks(3 * cells)
        .flat_map(|rec| llc.tiles_to_compact(rec).unwrap())
        .collect();
    let stem = dir.path().join("TS_mon_mean.0000001428");
    let mut meta = Meta::new_llc("TS.meta", 4, 3, Precision::F32, 2);
    meta.fields = vec!["THETA".into(), "SALT".into()];
    meta.time_step = Some(1428);
    write_mds(&stem, &meta, &compact, ByteOrder::Big).unwrap();

    let j = json(&["inspect", s(&stem), "--grid", s(&grid_dir), "--json"]);
    assert_eq!(j["names"], serde_json::json!(["THETA", "SALT"]));
    assert_eq!(j["levels"], 3);
    assert_eq!(j["date"], "1992-03-01T00:00:00");
    assert!(j["stats_over"].as_str().unwrap().starts_with("wet points"));
    let wet_per_level = grid.wet_cells_per_level();
    for r in 0..2 {
        let rec = &j["stats"][r];
        assert_eq!(rec["name"], ["THETA", "SALT"][r]);
        for k in 0..3 {
            let level = &rec["levels"][k];
            assert_eq!(level["count"], wet_per_level[k]);
            let wet: Vec<f64> = (0..cells)
                .filter(|c| grid.mask_c[k * cells + c])
                .map(|c| tiles[(r * 3 + k) * cells + c] as f32 as f64)
                .collect();
            let min = wet.iter().copied().fold(f64::INFINITY, f64::min);
            let mean = wet.iter().sum::<f64>() / wet.len() as f64;
            assert!(
                (level["min"].as_f64().unwrap() - min).abs() < 1e-12,
                "record {r} level {k}"
            );
            assert!((level["mean"].as_f64().unwrap() - mean).abs() < 1e-9);
            // Land zeros are excluded: the wet minimum of record 1 is at least 10.
            if r == 1 {
                assert!(min >= 10.0);
            }
        }
        assert_eq!(rec["all_levels"]["count"], grid.wet_cells());
    }

    // The text form lists every level.
    let text = ok_stdout(&["inspect", s(&stem), "--grid", s(&grid_dir)]);
    assert!(
        text.contains("record 1 SALT") && text.contains("level   2"),
        "{text}"
    );

    // A field on another grid is refused with a clear message.
    let other = dir.path().join("grid2");
    Grid::synthetic(&SyntheticSpec {
        n: 2,
        nz: 3,
        land: SyntheticLand::AllOcean,
    })
    .unwrap()
    .write_mds_dir(&other, &MdsDirOptions::default())
    .unwrap();
    let out = edp(&["inspect", s(&stem), "--grid", s(&other)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("expected an LLC2 compact field"), "{err}");
}

#[test]
fn synthetic_grid_directory_summary() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::synthetic(&SyntheticSpec {
        n: 6,
        nz: 4,
        land: SyntheticLand::Analytic,
    })
    .unwrap();
    grid.write_mds_dir(dir.path(), &MdsDirOptions::default())
        .unwrap();
    let j = json(&["inspect", s(dir.path()), "--json"]);
    assert_eq!(j["kind"], "grid");
    assert_eq!(
        (j["n"].as_u64(), j["tiles"].as_u64(), j["levels"].as_u64()),
        (Some(6), Some(13), Some(4))
    );
    assert_eq!(j["wet_columns"], grid.wet_columns());
    assert_eq!(j["wet_cells"], grid.wet_cells());
    assert_eq!(j["corners_exact"], true);
    let text = ok_stdout(&["inspect", s(dir.path())]);
    assert!(
        text.contains("wet columns") && text.contains("N            6"),
        "{text}"
    );
}

#[test]
fn real_llc90_grid_directory() {
    let Some(grid_dir) = edp_testkit::llc90_grid_dir() else {
        return;
    };
    let j = json(&["inspect", s(&grid_dir), "--json"]);
    assert_eq!(j["n"], 90);
    assert_eq!(j["tiles"], 13);
    assert_eq!(j["levels"], 50);
    assert_eq!(j["wet_columns"], 60_646);
    assert_eq!(j["wet_cells"], 2_406_992);
    assert_eq!(j["wet_cells_per_level"][49], 818);
    // data/README.md: XC -179.989 .. 179.987, YC -89.873 .. 89.739.
    let lat = j["lat_range"].as_array().unwrap();
    let lon = j["lon_range"].as_array().unwrap();
    assert!(
        (lat[0].as_f64().unwrap() + 89.873).abs() < 1e-3
            && (lat[1].as_f64().unwrap() - 89.739).abs() < 1e-3
    );
    assert!(
        (lon[0].as_f64().unwrap() + 179.989).abs() < 1e-3
            && (lon[1].as_f64().unwrap() - 179.987).abs() < 1e-3
    );

    // A real 2-D field of the grid directory, with the grid's wet mask: Depth > 0 exactly
    // on the 60 646 wet columns.
    let j = json(&[
        "inspect",
        s(&grid_dir.join("Depth.data")),
        "--grid",
        s(&grid_dir),
        "--json",
    ]);
    assert_eq!(j["names"], serde_json::json!(["Depth"]));
    assert_eq!(j["stats"][0]["all_levels"]["count"], 60_646);
    assert!((j["stats"][0]["all_levels"]["min"].as_f64().unwrap() - 19.99).abs() < 0.01);
    assert!((j["stats"][0]["all_levels"]["mean"].as_f64().unwrap() - 3371.35).abs() < 0.01);
}

#[test]
fn missing_input_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = edp(&["inspect", s(&dir.path().join("NOPE.0000000732"))]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NOPE.0000000732.meta"), "{err}");
}
