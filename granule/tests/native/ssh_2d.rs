//! The native SEA_SURFACE_HEIGHT granule from the real `SSH.bin` on the real LLC90 grid:
//! values, masks, coordinates, attributes and encodings, each compared with an independent
//! computation from the raw files.

use edp_conventions::Frequency;
use edp_conventions::naming::PeriodToken;
use sha2::{Digest, Sha256};

use crate::native::support::*;

/// The four SSH-grouping inputs, derived from the real field by exact float32 operations.
fn ssh_inputs(fx: &Fixture) -> [(&'static str, Vec<f32>); 4] {
    let ssh = real_2d(fx, "SSH.bin");
    let scaled = |f: f32| ssh.iter().map(|v| v * f).collect::<Vec<f32>>();
    [
        ("SSH", ssh.clone()),
        ("SSHIBC", scaled(0.5)),
        ("SSHNOIBC", scaled(-2.0)),
        ("ETAN", ssh.iter().map(|v| v + 1.0).collect()),
    ]
}

#[test]
fn ssh_monthly_granule_matches_inputs_grid_and_metadata() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ecco_results");
    let inputs = ssh_inputs(fx);
    for (var, values) in &inputs {
        write_diagnostic(
            &root,
            "diags_monthly",
            var,
            PeriodToken::MonMean,
            732,
            values,
            1,
        );
    }
    let out_dir = tmp.path().join("out");
    let out = out_dir.join("SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc");
    let report = produce(fx, &root, 0, Frequency::AvgMon, 732, &out).unwrap();
    assert_eq!(report.path, out);
    assert_eq!(report.bytes, std::fs::metadata(&out).unwrap().len());
    // Only the granule, no temporary file left behind.
    assert_eq!(
        file_names(&out_dir),
        ["SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc"]
    );

    let file = open_nc(&out);

    // Dimensions and variables in the order of the reference header.
    let dims: Vec<(String, usize)> = file.dimensions().map(|d| (d.name(), d.len())).collect();
    let want: Vec<(String, usize)> = [
        ("i", 90),
        ("i_g", 90),
        ("j", 90),
        ("j_g", 90),
        ("tile", 13),
        ("time", 1),
        ("nv", 2),
        ("nb", 4),
    ]
    .iter()
    .map(|(n, l)| (n.to_string(), *l))
    .collect();
    assert_eq!(dims, want);
    let vars: Vec<String> = file.variables().map(|v| v.name()).collect();
    assert_eq!(
        vars,
        [
            "i",
            "i_g",
            "j",
            "j_g",
            "tile",
            "time",
            "XC",
            "YC",
            "XG",
            "YG",
            "SSH",
            "time_bnds",
            "SSHIBC",
            "SSHNOIBC",
            "ETAN",
            "XC_bnds",
            "YC_bnds"
        ]
    );
    // 13 coordinates (docs/netcdf-layout.md 3): everything but the four data variables.
    assert_eq!(vars.len() - 4, 13);

    // Data: wet values exactly the input, land (Depth == 0) fill.
    let depth = to_tiles(&read_f64_be(&fx.grid_dir.join("Depth.data")));
    let wet: Vec<bool> = depth.iter().map(|d| *d > 0.0).collect();
    assert_eq!(wet.iter().filter(|w| **w).count(), 60_646);
    for (var, compact) in &inputs {
        let expected = to_tiles(compact);
        let got = values_f32(&file, var);
        assert_eq!(got.len(), CELLS);
        let mut min = f32::INFINITY;
        let mut max = f32::NEG_INFINITY;
        for idx in 0..CELLS {
            if wet[idx] {
                assert_eq!(got[idx].to_bits(), expected[idx].to_bits(), "{var}[{idx}]");
                min = min.min(expected[idx]);
                max = max.max(expected[idx]);
            } else {
                assert_eq!(got[idx], FILL, "{var}[{idx}] on land");
            }
        }
        assert_eq!(var_f32(&file, var, "valid_min"), min, "{var}");
        assert_eq!(var_f32(&file, var, "valid_max"), max, "{var}");
        let r = report.variables.iter().find(|r| r.name == *var).unwrap();
        assert_eq!((r.valid_values, r.fill_values), (60_646, CELLS - 60_646));
        assert_eq!(var_f32(&file, var, "_FillValue"), FILL);
        assert_eq!(dims_of(&file, var), ["time", "tile", "j", "i"]);
        assert_eq!(var_text(&file, var, "coordinates"), "XC YC time");
        assert_eq!(
            file.variable(var).unwrap().chunking().unwrap(),
            Some(vec![1, 13, 90, 90])
        );
    }
    // Land in the input is 0, so the real SSH field is not trivially all wet.
    let ssh_tiles = to_tiles(&inputs[0].1);
    assert!((0..CELLS).any(|i| !wet[i] && ssh_tiles[i] == 0.0));

    // Coordinates equal the raw grid files (as float32) and the documented index values.
    for name in ["XC", "YC", "XG", "YG"] {
        let raw = to_tiles(&read_f64_be(&fx.grid_dir.join(format!("{name}.data"))));
        let got = values_f32(&file, name);
        let want: Vec<f32> = raw.iter().map(|v| *v as f32).collect();
        assert_eq!(got, want, "{name}");
        assert!(var_attr(&file, name, "_FillValue").is_none(), "{name}");
        assert_eq!(file.variable(name).unwrap().chunking().unwrap(), None);
    }
    assert_eq!(dims_of(&file, "XG"), ["tile", "j_g", "i_g"]);
    for (name, len) in [("i", 90), ("i_g", 90), ("j", 90), ("j_g", 90), ("tile", 13)] {
        assert_eq!(values_i32(&file, name), (0..len).collect::<Vec<i32>>());
        // Index coordinates are not longitude/latitude axes (CF 1.8 §4; see native.rs).
        assert!(var_attr(&file, name, "axis").is_none(), "{name}");
        assert_eq!(var_text(&file, name, "coverage_content_type"), "coordinate");
    }
    // XC_bnds of tile 0, cell (0, 0): the documented corners (docs/mds-llc.md 4.2), and the SW
    // corner of every cell is XG of that cell.
    let xb = values_f32(&file, "XC_bnds");
    let yb = values_f32(&file, "YC_bnds");
    for (got, want) in xb[..4].iter().zip([-115.0, -115.0, -107.92, -108.47]) {
        assert!((got - want).abs() < 0.01, "XC_bnds {:?}", &xb[..4]);
    }
    for (got, want) in yb[..4].iter().zip([-88.18, -88.32, -88.30, -88.16]) {
        assert!((got - want).abs() < 0.01, "YC_bnds {:?}", &yb[..4]);
    }
    let xg = values_f32(&file, "XG");
    let yg = values_f32(&file, "YG");
    for idx in (0..CELLS).step_by(97) {
        assert_eq!(xb[4 * idx], xg[idx]);
        assert_eq!(yb[4 * idx], yg[idx]);
    }
    // The NE corner of cell (t, j, i) is the SW corner of cell (t, j+1, i+1) inside a tile.
    for (t, j, i) in [(1, 10, 20), (5, 88, 0), (11, 44, 45)] {
        assert_eq!(
            xb[4 * tile_index(t, j, i) + 2],
            xg[tile_index(t, j + 1, i + 1)]
        );
        assert_eq!(
            yb[4 * tile_index(t, j, i) + 2],
            yg[tile_index(t, j + 1, i + 1)]
        );
    }

    // Time: 1992-01 monthly mean, hours since 1992-01-01 12:00 (docs/time-axis.md 4).
    assert_eq!(values_i32(&file, "time"), [366]);
    assert_eq!(values_i32(&file, "time_bnds"), [0, 732]);
    assert_eq!(
        var_text(&file, "time", "units"),
        "hours since 1992-01-01 12:00:00"
    );
    assert_eq!(var_text(&file, "time", "calendar"), "proleptic_gregorian");
    assert_eq!(var_text(&file, "time", "bounds"), "time_bnds");
    assert_eq!(
        var_text(&file, "time", "long_name"),
        "center time of averaging period"
    );

    // Attributes: 57 ECCO globals + `coordinates` + our 4 provenance attributes (no task id).
    let names: Vec<String> = file.attributes().map(|a| a.name().to_string()).collect();
    let ecco: Vec<&String> = names.iter().filter(|n| !n.starts_with("edp_")).collect();
    assert_eq!(ecco.len(), 58, "{names:?}");
    assert_eq!(ecco.last().unwrap().as_str(), "coordinates");
    assert_eq!(
        names.iter().filter(|n| n.starts_with("edp_")).count(),
        4,
        "{names:?}"
    );
    for absent in [
        "coordinates_note",
        "project_summary",
        "identifier_product_doi",
        "geospatial_vertical_min",
        "edp_task_id",
    ] {
        assert!(!names.iter().any(|n| n == absent), "{absent}");
    }
    assert_eq!(
        global_text(&file, "coordinates"),
        "XC_bnds XG YC_bnds YG time_bnds"
    );
    assert_eq!(global_text(&file, "id"), "10.5067/ECL5M-SSH44");
    assert_eq!(
        global_text(&file, "title"),
        "ECCO Sea Surface Height - Monthly Mean llc90 Grid (Version 4 Release 4)"
    );
    assert_eq!(
        global_text(&file, "product_name"),
        "SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc"
    );
    assert_eq!(
        global_text(&file, "time_coverage_start"),
        "1992-01-01T12:00:00"
    );
    assert_eq!(
        global_text(&file, "time_coverage_end"),
        "1992-02-01T00:00:00"
    );
    assert_eq!(global_text(&file, "Conventions"), "CF-1.8, ACDD-1.3");
    let summary = global_text(&file, "summary");
    assert!(summary.starts_with(
        "This dataset contains monthly-averaged dynamic sea surface height and model sea level \
         anomaly on the native Lat-Lon-Cap 90 (LLC90) model grid"
    ));
    assert!(summary.contains(". Estimating the Circulation and Climate of the Ocean (ECCO)"));
    assert!(!summary.ends_with(' '));
    assert_eq!(global_text(&file, "uuid"), report.uuid);
    assert_eq!(
        uuid::Uuid::parse_str(&report.uuid)
            .unwrap()
            .get_version_num(),
        4
    );
    let created = global_text(&file, "date_created");
    assert!(chrono::NaiveDateTime::parse_from_str(&created, "%Y-%m-%dT%H:%M:%S").is_ok());
    assert_eq!(var_text(&file, "SSH", "units"), "m");
    assert_eq!(
        var_text(&file, "SSH", "long_name"),
        "Dynamic sea surface height anomaly"
    );
    assert_eq!(var_text(&file, "XC", "units"), "degrees_east");
    assert_eq!(var_text(&file, "YC", "bounds"), "YC_bnds");

    // Provenance: every input file with its SHA-256, computed here from the files.
    let files = match global_attr(&file, "edp_input_files").unwrap() {
        netcdf::AttributeValue::Strs(v) => v,
        other => panic!("edp_input_files is {other:?}"),
    };
    let sums = match global_attr(&file, "edp_input_sha256").unwrap() {
        netcdf::AttributeValue::Strs(v) => v,
        other => panic!("edp_input_sha256 is {other:?}"),
    };
    assert_eq!(files.len(), 8);
    assert_eq!(sums.len(), 8);
    for (f, sum) in files.iter().zip(&sums) {
        assert_eq!(
            *sum,
            hex::encode(Sha256::digest(std::fs::read(f).unwrap())),
            "{f}"
        );
    }
    assert!(files[0].ends_with("diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data"));
    assert_eq!(
        global_text(&file, "edp_config_hash"),
        edp_conventions::ProductionConfig::v4r4().config_hash()
    );

    // Encodings (ncdump -hs): deflate 5 + shuffle on data, nothing on coordinates.
    if let Some(dump) = ncdump_hs(&out) {
        for var in ["SSH", "ETAN"] {
            let special = special_attrs(&dump, var);
            for want in [
                "_Storage = \"chunked\"",
                "_ChunkSizes = 1, 13, 90, 90",
                "_Shuffle = \"true\"",
                "_DeflateLevel = 5",
            ] {
                assert!(
                    special.iter().any(|s| s.ends_with(want)),
                    "{var}: {want} not in {special:?}"
                );
            }
        }
        for coord in ["XC", "XC_bnds", "i", "time", "time_bnds"] {
            let special = special_attrs(&dump, coord);
            assert!(
                special
                    .iter()
                    .any(|s| s.ends_with("_Storage = \"contiguous\"")),
                "{coord}: {special:?}"
            );
            assert!(
                !special.iter().any(|s| s.contains("_DeflateLevel")),
                "{coord}"
            );
        }
        // Types as in the reference header.
        for line in [
            "\tint i(i) ;",
            "\tint time(time) ;",
            "\tint time_bnds(time, nv) ;",
            "\tfloat XC(tile, j, i) ;",
            "\tfloat XC_bnds(tile, j, i, nb) ;",
            "\tfloat SSH(time, tile, j, i) ;",
        ] {
            assert!(dump.lines().any(|l| l == line), "missing `{line}`");
        }
    }
}

#[test]
fn snapshot_granule_has_no_time_bounds() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ecco_results");
    let ssh = real_2d(fx, "SSH.bin");
    write_diagnostic(
        &root,
        "diags_inst",
        "SSH",
        PeriodToken::DayInst,
        12,
        &ssh,
        1,
    );
    let out = tmp
        .path()
        .join("SEA_SURFACE_HEIGHT_snap_1992-01-02T000000_ECCO_V4r4_native_llc0090.nc");
    // A partial granule: only SSH of the four variables exists.
    let report = produce(fx, &root, 0, Frequency::Snap, 12, &out).unwrap();
    assert_eq!(report.variables.len(), 1);
    let file = open_nc(&out);
    assert!(file.variable("time_bnds").is_none());
    assert!(file.dimension("nv").is_none());
    assert!(var_attr(&file, "time", "bounds").is_none());
    assert_eq!(var_text(&file, "time", "long_name"), "snapshot time");
    assert_eq!(values_i32(&file, "time"), [12]);
    assert_eq!(
        global_text(&file, "time_coverage_start"),
        "1992-01-02T00:00:00"
    );
    assert_eq!(
        global_text(&file, "time_coverage_end"),
        "1992-01-02T00:00:00"
    );
    assert_eq!(global_text(&file, "coordinates"), "XC_bnds XG YC_bnds YG");
    assert_eq!(global_text(&file, "id"), "10.5067/ECL5S-SSH44");
    assert!(file.variable("SSHIBC").is_none());
}
