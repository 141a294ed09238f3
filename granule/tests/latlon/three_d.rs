//! 3-D lat-lon granules on the real LLC90 grid (50 levels): per-level land masks and
//! constants, the OCEAN_VELOCITY vectors from an analytic flow, and `WVELMASS` (top faces
//! `k_l`) mapped with the tracer masks and labelled `Z` (docs/regridding.md 1, 2.6, docs/netcdf-layout.md 4).

use edp_conventions::Frequency;
use edp_conventions::naming::PeriodToken;
use rayon::prelude::*;

use crate::latlon::support::*;

/// Brute-force land/wet of a sample of targets at level `k` against the fill pattern of
/// `values` (level `k` of a `(Z, latitude, longitude)` variable).
fn check_land_mask(raw: &RawGrid, values: &[f32], k: usize, step: usize, what: &str) {
    let wet = raw.wet(k);
    let level = &values[k * TARGETS..(k + 1) * TARGETS];
    let samples = sample_targets(step);
    let land: Vec<bool> = samples
        .par_iter()
        .map(|&p| brute_force_mapping(raw, &wet, p) == Mapping::Land)
        .collect();
    let mut wet_seen = 0;
    for (&p, &is_land) in samples.iter().zip(&land) {
        assert_eq!(
            level[p] == FILL,
            is_land,
            "{what} level {k} target {p} {:?}: granule {}",
            target_centre(p),
            level[p]
        );
        wet_seen += usize::from(!is_land);
    }
    assert!(
        wet_seen > 10,
        "{what} level {k}: only {wet_seen} wet samples"
    );
}

#[test]
fn constant_temperature_and_salinity_stay_constant_on_every_wet_target_and_level() {
    let Some(fx) = fixture() else { return };
    let raw = RawGrid::load(fx);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("src");
    // THETA: 3.5 on wet cells and 0 on land, as MITgcm writes it; SALT: 35 everywhere.
    let mut theta = Vec::with_capacity(NZ * CELLS);
    for k in 0..NZ {
        theta.extend(raw.wet(k).iter().map(|&w| if w { 3.5f32 } else { 0.0 }));
    }
    let salt = vec![35.0f32; NZ * CELLS];
    for (var, tiles) in [("THETA", &theta), ("SALT", &salt)] {
        let compact = to_compact(tiles);
        write_diagnostic(
            &root,
            "diags_monthly",
            var,
            PeriodToken::MonMean,
            732,
            &compact,
            NZ,
        );
    }
    let out = tmp
        .path()
        .join("OCEAN_TEMPERATURE_SALINITY_mon_mean_1992-01_ECCO_V4r4_latlon_0p50deg.nc");
    let report = produce(fx, &root, 9, Frequency::AvgMon, 732, &out).unwrap();
    let file = open_nc(&out);

    let dims: Vec<(String, usize)> = file.dimensions().map(|d| (d.name(), d.len())).collect();
    let want: Vec<(String, usize)> = [
        ("time", 1),
        ("Z", 50),
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
            "Z",
            "latitude",
            "longitude",
            "THETA",
            "SALT",
            "time_bnds",
            "latitude_bnds",
            "longitude_bnds",
            "Z_bnds"
        ]
    );
    let f32s = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<f32>>();
    assert_eq!(values_f32(&file, "Z"), f32s(&raw.rc));
    let z_bnds: Vec<f64> = raw.rf.windows(2).flat_map(|w| [w[0], w[1]]).collect();
    assert_eq!(values_f32(&file, "Z_bnds"), f32s(&z_bnds));
    assert_eq!(
        var_text(&file, "Z", "long_name"),
        "depth of grid cell center"
    );
    assert_eq!(var_text(&file, "Z", "bounds"), "Z_bnds");
    assert_eq!(dims_of(&file, "Z_bnds"), ["Z", "nv"]);

    let theta_ll = values_f32(&file, "THETA");
    let salt_ll = values_f32(&file, "SALT");
    let mut previous = usize::MAX;
    for k in 0..NZ {
        let level = k * TARGETS..(k + 1) * TARGETS;
        let mut wet = 0;
        for p in level {
            if theta_ll[p] == FILL {
                assert_eq!(salt_ll[p], FILL, "SALT level {k} target {p}: land as THETA");
            } else {
                assert_eq!(theta_ll[p], 3.5, "THETA level {k} target {p}");
                assert_eq!(salt_ll[p], 35.0, "SALT level {k} target {p}");
                wet += 1;
            }
        }
        if k == 0 {
            assert_eq!(
                wet, 169_137,
                "wet targets of level 0 (docs/regridding.md 2.5)"
            );
        }
        assert!(wet <= previous && wet > 0, "level {k}: {wet} wet targets");
        previous = wet;
    }
    for (k, step) in [(1, 211), (30, 211), (49, 53)] {
        check_land_mask(raw, &theta_ll, k, step, "THETA");
    }
    for var in ["THETA", "SALT"] {
        assert_eq!(dims_of(&file, var), ["time", "Z", "latitude", "longitude"]);
        assert_eq!(
            file.variable(var).unwrap().chunking().unwrap(),
            Some(vec![1, 25, 180, 360])
        );
        assert_eq!(var_text(&file, var, "coordinates"), "Z time");
    }
    assert_eq!(var_f32(&file, "THETA", "valid_min"), 3.5);
    assert_eq!(var_f32(&file, "SALT", "valid_max"), 35.0);
    assert_eq!(report.variables[0].chunks, [1, 25, 180, 360]);

    // 3-D globals: the vertical extent and Z_bnds among the auxiliary coordinates.
    let names: Vec<String> = file.attributes().map(|a| a.name().to_string()).collect();
    let ecco = names.iter().filter(|n| !n.starts_with("edp_")).count();
    assert_eq!(ecco, 63, "62 ECCO globals + coordinates: {names:?}");
    assert!(matches!(
        global_attr(&file, "geospatial_vertical_min"),
        Some(netcdf::AttributeValue::Double(v)) if v == -6134.5
    ));
    assert_eq!(
        global_text(&file, "coordinates"),
        "Z_bnds latitude_bnds longitude_bnds time_bnds"
    );
    assert_eq!(global_text(&file, "id"), "10.5067/ECG5M-OTS44");

    if let Some(dump) = ncdump_hs(&out) {
        let special = special_attrs(&dump, "THETA");
        for want in [
            "_ChunkSizes = 1, 25, 180, 360",
            "_Shuffle = \"true\"",
            "_DeflateLevel = 5",
        ] {
            assert!(
                special.iter().any(|s| s.ends_with(want)),
                "{want} not in {special:?}"
            );
        }
        for line in [
            "\tfloat Z(Z) ;",
            "\tfloat THETA(time, Z, latitude, longitude) ;",
            "\tfloat Z_bnds(Z, nv) ;",
        ] {
            assert!(dump.lines().any(|l| l == line), "missing `{line}`");
        }
        let special = special_attrs(&dump, "Z_bnds");
        assert!(
            special
                .iter()
                .any(|s| s.ends_with("_Storage = \"contiguous\""))
        );
    }
}

/// Speed of the analytic eastward flow at level `k` (level-dependent, so that a level
/// mix-up shows).
fn speed(k: usize) -> f64 {
    1.0 + 0.01 * k as f64
}

/// Tolerances of |EVEL/s - 1| and |NVEL/s| on wet targets by latitude band (|latitude| up to
/// the edge). The inputs are the documented check of docs/regridding.md 1: E/N turned into model
/// axes at the centres and placed unchanged on the faces, so a face carries its cell's
/// components although it sits between two cells whose axes differ by the local turning of
/// the grid; each cell is off by about half that turning. Where the LLC axes are east/north
/// (tiles 0-5, 7-12 south of about 45 N) that is exact; measured maxima: 1e-14 up to 45 deg,
/// 4.1e-3 up to 60 deg, 0.026 up to 85 deg (the cap, where the axes turn fastest). Within 5
/// degrees of the poles the cap cells turn by up to 45 degrees per cell and the construction
/// itself is meaningless there (errors up to 0.26), so those targets are not checked.
const FLOW_BANDS: [(f64, f32); 3] = [(45.0, 1e-6), (60.0, 5e-3), (85.0, 0.03)];

#[test]
fn velocity_granule_rotates_an_eastward_flow_and_maps_wvel_with_tracer_masks() {
    let Some(fx) = fixture() else { return };
    let raw = RawGrid::load(fx);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("src");
    // E = s_k, N = 0 turned into model axes at centres with the inverse rotation
    // (Rx = CS E + SN N, Ry = -SN E + CS N, from the raw AngleCS/AngleSN) and placed unchanged
    // on the faces, at every level; WVELMASS = 1e-5 (k + 1).
    let (mut u, mut v, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..NZ {
        let s = speed(k);
        u.extend(raw.cs.iter().map(|cs| (cs * s) as f32));
        v.extend(raw.sn.iter().map(|sn| (-sn * s) as f32));
        w.extend(std::iter::repeat_n(1e-5 * (k + 1) as f32, CELLS));
    }
    for (var, tiles) in [("UVEL", &u), ("VVEL", &v), ("WVELMASS", &w)] {
        let compact = to_compact(tiles);
        write_diagnostic(
            &root,
            "diags_monthly",
            var,
            PeriodToken::MonMean,
            732,
            &compact,
            NZ,
        );
    }
    drop((u, v, w));
    let out = tmp
        .path()
        .join("OCEAN_VELOCITY_mon_mean_1992-01_ECCO_V4r4_latlon_0p50deg.nc");
    let report = produce(fx, &root, 11, Frequency::AvgMon, 732, &out).unwrap();
    let file = open_nc(&out);
    let vars: Vec<String> = file.variables().map(|v| v.name()).collect();
    assert_eq!(
        vars,
        [
            "time",
            "Z",
            "latitude",
            "longitude",
            "EVEL",
            "NVEL",
            "WVEL",
            "time_bnds",
            "latitude_bnds",
            "longitude_bnds",
            "Z_bnds"
        ]
    );
    assert_eq!(report.variables[0].diagnostics, ["UVEL", "VVEL"]);
    assert_eq!(report.variables[2].diagnostics, ["WVELMASS"]);

    let evel = values_f32(&file, "EVEL");
    let nvel = values_f32(&file, "NVEL");
    let wvel = values_f32(&file, "WVEL");
    let mut worst = [(0.0f32, 0.0f32); FLOW_BANDS.len()];
    let mut checked = 0usize;
    for k in 0..NZ {
        let s = speed(k) as f32;
        let w_k = 1e-5 * (k + 1) as f32;
        for p in k * TARGETS..(k + 1) * TARGETS {
            let land = evel[p] == FILL;
            assert_eq!(
                nvel[p] == FILL,
                land,
                "NVEL level {k} target {p}: land as EVEL"
            );
            assert_eq!(
                wvel[p] == FILL,
                land,
                "WVEL level {k} target {p}: tracer mask"
            );
            if land {
                continue;
            }
            // A constant level maps to itself (mean of equal values or the nearest one).
            assert!(
                (wvel[p] - w_k).abs() <= w_k * 1e-6,
                "WVEL level {k}: {}",
                wvel[p]
            );
            let lat = target_centre(p % TARGETS).1;

            let Some(band) = FLOW_BANDS.iter().position(|(edge, _)| lat.abs() <= *edge) else {
                continue; // within 5 degrees of a pole
            };
            worst[band].0 = worst[band].0.max((evel[p] / s - 1.0).abs());
            worst[band].1 = worst[band].1.max((nvel[p] / s).abs());
            checked += 1;
        }
    }
    eprintln!(
        "uniform eastward flow on {checked} wet targets, max (|E/s - 1|, |N/s|) up to |latitude| \
         {:?}: {worst:?}",
        FLOW_BANDS.map(|(edge, _)| edge)
    );
    assert!(checked > 6_000_000, "{checked}");
    for ((edge, tolerance), (e, n)) in FLOW_BANDS.iter().zip(worst) {
        assert!(
            e <= *tolerance && n <= *tolerance,
            "|latitude| <= {edge}: |E/s - 1| = {e}, |N/s| = {n}, tolerance {tolerance}"
        );
    }
    // WVEL level 49 (the top face of the deepest level) uses the tracer mask of level 49.
    check_land_mask(raw, &wvel, 49, 53, "WVEL");
    check_land_mask(raw, &wvel, 0, 211, "WVEL");

    for (var, standard) in [
        ("EVEL", "eastward_sea_water_velocity"),
        ("NVEL", "northward_sea_water_velocity"),
        ("WVEL", "upward_sea_water_velocity"),
    ] {
        assert_eq!(var_text(&file, var, "standard_name"), standard);
        assert_eq!(var_text(&file, var, "units"), "m s-1");
        assert_eq!(var_text(&file, var, "coordinates"), "Z time");
        assert_eq!(dims_of(&file, var), ["time", "Z", "latitude", "longitude"]);
    }
    assert_eq!(
        var_text(&file, "EVEL", "long_name"),
        "Zonal (east-west) velocity"
    );
    assert!(var_text(&file, "NVEL", "comment").starts_with("Meridional (north-south) component"));
    assert_eq!(var_text(&file, "WVEL", "direction"), ">0 decreases volume");
    // Each input once in the provenance, although EVEL and NVEL both read UVEL and VVEL.
    let files = match global_attr(&file, "edp_input_files").unwrap() {
        netcdf::AttributeValue::Strs(v) => v,
        other => panic!("edp_input_files is {other:?}"),
    };
    assert_eq!(files.len(), 6, "{files:?}");
    assert!(files[0].ends_with("UVEL_mon_mean.0000000732.data"));
    assert!(files[2].ends_with("VVEL_mon_mean.0000000732.data"));
    assert!(files[4].ends_with("WVELMASS_mon_mean.0000000732.data"));
    assert_eq!(global_text(&file, "id"), "10.5067/ECG5M-OVE44");
}
