//! The lat-lon SEA_SURFACE_HEIGHT granule from the real `SSH.bin`: values against the
//! definition of docs/regridding.md 2.3-2.5 computed here by brute force, coordinates, attributes and
//! encodings against the format document and the reference header.

use edp_conventions::Frequency;
use edp_conventions::naming::PeriodToken;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::latlon::support::*;

const NAME: &str = "SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_latlon_0p50deg.nc";

/// The three lat-lon SSH-grouping inputs, derived from the real field by exact float32
/// operations (ETAN is not in the lat-lon grouping).
fn ssh_inputs(fx: &Fixture) -> [(&'static str, Vec<f32>); 3] {
    let ssh = real_2d(fx, "SSH.bin");
    let scaled = |f: f32| ssh.iter().map(|v| v * f).collect::<Vec<f32>>();
    [
        ("SSH", ssh.clone()),
        ("SSHIBC", scaled(0.5)),
        ("SSHNOIBC", scaled(-2.0)),
    ]
}

#[test]
fn ssh_latlon_granule_follows_the_mapping_definition_and_the_reference_layout() {
    let Some(fx) = fixture() else { return };
    let raw = RawGrid::load(fx);
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
    let out = out_dir.join(NAME);
    let report = produce(fx, &root, 0, Frequency::AvgMon, 732, &out).unwrap();
    assert_eq!(report.path, out);
    assert_eq!(report.bytes, std::fs::metadata(&out).unwrap().len());
    assert_eq!(file_names(&out_dir), [NAME]);
    let file = open_nc(&out);

    // Layout of the reference header.
    let dims: Vec<(String, usize)> = file.dimensions().map(|d| (d.name(), d.len())).collect();
    let want: Vec<(String, usize)> = [
        ("time", 1),
        ("latitude", 360),
        ("longitude", 720),
        ("nv", 2),
    ]
    .iter()
    .map(|(n, l)| (n.to_string(), *l))
    .collect();
    assert_eq!(dims, want);
    let vars: Vec<String> = file.variables().map(|v| v.name()).collect();
    assert_eq!(
        vars,
        [
            "time",
            "latitude",
            "longitude",
            "SSH",
            "SSHIBC",
            "SSHNOIBC",
            "time_bnds",
            "latitude_bnds",
            "longitude_bnds"
        ]
    );

    // Values. Level 0 is wet where Depth > 0 (read here from the raw file).
    let wet = raw.wet(0);
    let samples = sample_targets(61);
    let mappings: Vec<Mapping> = samples
        .par_iter()
        .map(|&p| brute_force_mapping(raw, &wet, p))
        .collect();
    let (mut means, mut nearest, mut land) = (0, 0, 0);
    for m in &mappings {
        match m {
            Mapping::Land => land += 1,
            Mapping::Mean(_) => means += 1,
            Mapping::Nearest(_) => nearest += 1,
        }
    }
    // The sample covers all three cases (the whole grid: 70,984 / 98,153 / 90,063).
    assert!(
        means > 500 && nearest > 500 && land > 500,
        "{means} {nearest} {land}"
    );
    for (var, compact) in &inputs {
        let field: Vec<f64> = to_tiles(compact).iter().map(|&v| f64::from(v)).collect();
        let scale = field.iter().fold(0.0f64, |m, v| m.max(v.abs())) as f32;
        let got = values_f32(&file, var);
        assert_eq!(got.len(), TARGETS);
        for (&p, mapping) in samples.iter().zip(&mappings) {
            let want = mapped_value(mapping, &field);
            assert!(
                same_value(got[p], want, scale),
                "{var} at target {p} {:?} ({mapping:?}): granule {}, definition {want}",
                target_centre(p),
                got[p]
            );
        }
        // Every target: the weights applied to the input (wiring: order of targets, fill).
        let via_weights = fx
            .resources
            .weights
            .as_ref()
            .unwrap()
            .apply_level(0, &to_tiles(compact))
            .unwrap();
        for p in 0..TARGETS {
            if via_weights[p].is_nan() {
                assert_eq!(got[p], FILL, "{var}[{p}] is land");
            } else {
                assert_eq!(got[p].to_bits(), via_weights[p].to_bits(), "{var}[{p}]");
            }
        }
        // Valid range: the data without fill.
        let data: Vec<f32> = got.iter().copied().filter(|v| *v != FILL).collect();
        assert_eq!(
            data.len(),
            169_137,
            "wet targets of level 0 (docs/regridding.md 2.5)"
        );
        let min = data.iter().copied().fold(f32::INFINITY, f32::min);
        let max = data.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        assert_eq!(var_f32(&file, var, "valid_min"), min, "{var}");
        assert_eq!(var_f32(&file, var, "valid_max"), max, "{var}");
        let r = report.variables.iter().find(|r| r.name == *var).unwrap();
        assert_eq!(
            (r.valid_values, r.fill_values),
            (169_137, TARGETS - 169_137)
        );
        assert_eq!(r.diagnostics, [var.to_string()]);
        assert_eq!(var_f32(&file, var, "_FillValue"), FILL);
        assert_eq!(dims_of(&file, var), ["time", "latitude", "longitude"]);
        assert_eq!(var_text(&file, var, "coordinates"), "time");
        assert_eq!(
            file.variable(var).unwrap().chunking().unwrap(),
            Some(vec![1, 360, 720])
        );
    }
    // The reference header (EDP, from the same SSH.bin) prints SSH:valid_min = -1.887951f and
    // valid_max = 1.136362f (7 significant digits).
    assert!((var_f32(&file, "SSH", "valid_min") + 1.887_951).abs() < 1e-6);
    assert!((var_f32(&file, "SSH", "valid_max") - 1.136_362).abs() < 1e-6);
    // SSHIBC is half of SSH at every target (exact: halving commutes with the mean).
    let (ssh, ibc) = (values_f32(&file, "SSH"), values_f32(&file, "SSHIBC"));
    assert!(
        ssh.iter()
            .zip(&ibc)
            .all(|(a, b)| (*a == FILL && *b == FILL) || *a * 0.5 == *b)
    );

    // Coordinates: exact 0.5 deg centres and bounds, south first.
    let lat = values_f32(&file, "latitude");
    let lon = values_f32(&file, "longitude");
    assert_eq!(
        lat,
        (0..360)
            .map(|iy| -89.75 + 0.5 * iy as f32)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        lon,
        (0..720)
            .map(|ix| -179.75 + 0.5 * ix as f32)
            .collect::<Vec<_>>()
    );
    let lat_bnds = values_f32(&file, "latitude_bnds");
    let lon_bnds = values_f32(&file, "longitude_bnds");
    for iy in 0..360 {
        assert_eq!(
            lat_bnds[2 * iy..2 * iy + 2],
            [lat[iy] - 0.25, lat[iy] + 0.25]
        );
    }
    for ix in 0..720 {
        assert_eq!(
            lon_bnds[2 * ix..2 * ix + 2],
            [lon[ix] - 0.25, lon[ix] + 0.25]
        );
    }
    assert_eq!((lat_bnds[0], lat_bnds[719]), (-90.0, 90.0));
    assert_eq!((lon_bnds[0], lon_bnds[1439]), (-180.0, 180.0));
    assert_eq!(dims_of(&file, "latitude_bnds"), ["latitude", "nv"]);
    for name in [
        "latitude",
        "longitude",
        "latitude_bnds",
        "longitude_bnds",
        "time",
        "time_bnds",
    ] {
        assert!(var_attr(&file, name, "_FillValue").is_none(), "{name}");
        assert_eq!(
            file.variable(name).unwrap().chunking().unwrap(),
            None,
            "{name}"
        );
    }
    assert_eq!(var_text(&file, "latitude", "units"), "degrees_north");
    assert_eq!(var_text(&file, "latitude", "axis"), "Y");
    assert_eq!(var_text(&file, "latitude", "bounds"), "latitude_bnds");
    assert_eq!(var_text(&file, "longitude", "standard_name"), "longitude");
    assert_eq!(
        var_text(&file, "longitude", "comment"),
        "uniform grid spacing from -179.75 to 179.75 by 0.5"
    );
    assert_eq!(
        var_text(&file, "latitude_bnds", "long_name"),
        "latitudes of grid cell edges"
    );

    // Time: 1992-01 monthly mean (docs/time-axis.md 4).
    assert_eq!(values_i32(&file, "time"), [366]);
    assert_eq!(values_i32(&file, "time_bnds"), [0, 732]);
    assert_eq!(
        var_text(&file, "time", "units"),
        "hours since 1992-01-01 12:00:00"
    );
    assert_eq!(var_text(&file, "time", "bounds"), "time_bnds");
    assert!(var_attr(&file, "time", "comment").is_none());

    // Global attributes: 57 ECCO + `coordinates` + 4 provenance (docs/metadata.md 4).
    let names: Vec<String> = file.attributes().map(|a| a.name().to_string()).collect();
    let ecco: Vec<&String> = names.iter().filter(|n| !n.starts_with("edp_")).collect();
    assert_eq!(ecco.len(), 58, "{names:?}");
    assert_eq!(ecco.last().unwrap().as_str(), "coordinates");
    assert_eq!(names.iter().filter(|n| n.starts_with("edp_")).count(), 4);
    for absent in [
        "coordinates_note",
        "project_summary",
        "identifier_product_doi",
        "identifier_product_doi_authority",
        "geospatial_vertical_min",
        "geospatial_vertical_max",
    ] {
        assert!(!names.iter().any(|n| n == absent), "{absent}");
    }
    assert_eq!(
        global_text(&file, "coordinates"),
        "latitude_bnds longitude_bnds time_bnds"
    );
    assert_eq!(global_text(&file, "id"), "10.5067/ECG5M-SSH44");
    assert_eq!(
        global_text(&file, "title"),
        "ECCO Sea Surface Height - Monthly Mean 0.5 Degree (Version 4 Release 4)"
    );
    assert_eq!(global_text(&file, "product_name"), NAME);
    assert_eq!(global_text(&file, "uuid"), report.uuid);
    assert!(
        global_text(&file, "comment").starts_with("Fields provided on a regular lat-lon grid.")
    );
    assert!(global_text(&file, "summary").starts_with(
        "This dataset contains monthly-averaged dynamic sea surface height interpolated to a \
         regular 0.5-degree grid"
    ));
    assert!(matches!(
        global_attr(&file, "geospatial_lat_resolution"),
        Some(netcdf::AttributeValue::Double(v)) if v == 0.5
    ));
    assert_eq!(var_text(&file, "SSH", "units"), "m");
    assert_eq!(
        var_text(&file, "SSH", "standard_name"),
        "sea_surface_height_above_geoid"
    );
    assert!(var_text(&file, "SSHIBC", "comment").starts_with("Not an SSH itself"));

    // Provenance: each input once, with the SHA-256 computed here.
    let files = match global_attr(&file, "edp_input_files").unwrap() {
        netcdf::AttributeValue::Strs(v) => v,
        other => panic!("edp_input_files is {other:?}"),
    };
    let sums = match global_attr(&file, "edp_input_sha256").unwrap() {
        netcdf::AttributeValue::Strs(v) => v,
        other => panic!("edp_input_sha256 is {other:?}"),
    };
    assert_eq!(files.len(), 6);
    for (f, sum) in files.iter().zip(&sums) {
        assert_eq!(
            *sum,
            hex::encode(Sha256::digest(std::fs::read(f).unwrap())),
            "{f}"
        );
    }

    // Encodings and types (ncdump -hs).
    if let Some(dump) = ncdump_hs(&out) {
        for var in ["SSH", "SSHIBC", "SSHNOIBC"] {
            let special = special_attrs(&dump, var);
            for want in [
                "_Storage = \"chunked\"",
                "_ChunkSizes = 1, 360, 720",
                "_Shuffle = \"true\"",
                "_DeflateLevel = 5",
            ] {
                assert!(
                    special.iter().any(|s| s.ends_with(want)),
                    "{var}: {want} not in {special:?}"
                );
            }
        }
        for coord in [
            "latitude",
            "longitude",
            "latitude_bnds",
            "time",
            "time_bnds",
        ] {
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
        for line in [
            "\tint time(time) ;",
            "\tfloat latitude(latitude) ;",
            "\tfloat longitude(longitude) ;",
            "\tfloat SSH(time, latitude, longitude) ;",
            "\tint time_bnds(time, nv) ;",
            "\tfloat latitude_bnds(latitude, nv) ;",
            "\tfloat longitude_bnds(longitude, nv) ;",
        ] {
            assert!(dump.lines().any(|l| l == line), "missing `{line}`");
        }
        assert!(dump.contains("SSH:_FillValue = 9.96921e+36f ;"), "{dump}");
    }
}

#[test]
fn daily_partial_latlon_granule_has_one_day_of_time_bounds() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ecco_results");
    let ssh = real_2d(fx, "SSH.bin");
    write_diagnostic(
        &root,
        "diags_daily",
        "SSH",
        PeriodToken::DayMean,
        48,
        &ssh,
        1,
    );
    let request = request(fx, &root, 0, Frequency::AvgDay, 48);
    // A partial granule: only SSH of the three variables exists.
    assert_eq!(request.variables.len(), 1);
    let out = tmp.path().join(&request.granule_name);
    assert!(
        request.granule_name.contains("_day_mean_1992-01-"),
        "{}",
        request.granule_name
    );
    let report = edp_granule::produce_granule(
        &request,
        &fx.resources,
        &edp_granule::LocalFiles::new(),
        &out,
    )
    .unwrap();
    assert_eq!(report.variables.len(), 1);
    let file = open_nc(&out);
    let bounds = values_i32(&file, "time_bnds");
    assert_eq!(bounds, [24, 48], "the day ending at step 48");
    assert_eq!(values_i32(&file, "time"), [36]);
    assert_eq!(global_text(&file, "time_coverage_duration"), "P1D");
    assert!(file.variable("SSHIBC").is_none());
    assert_eq!(
        global_text(&file, "coordinates"),
        "latitude_bnds longitude_bnds time_bnds"
    );
}
