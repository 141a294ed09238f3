//! 3-D native granules on the real LLC90 grid (50 levels) with synthetic values: tracers at
//! cell centres, velocities on u/v faces and `WVELMASS` → `WVEL` on the top faces `k_l`,
//! each masked level by level (docs/netcdf-layout.md 3, 6).

use edp_conventions::Frequency;
use edp_conventions::naming::PeriodToken;

use crate::native::support::*;

/// A synthetic 3-D field in compact order: distinct, never NaN, never 0.
fn synthetic(seed: f32) -> Vec<f32> {
    (0..NZ * CELLS)
        .map(|n| {
            let (k, c) = (n / CELLS, n % CELLS);
            seed + k as f32 * 100.0 + (c % 997) as f32 * 0.01
        })
        .collect()
}

#[test]
fn temperature_salinity_granule_has_the_3d_layout_and_level_masks() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("src");
    let theta = synthetic(-1.5);
    let salt = synthetic(33.0);
    write_diagnostic(
        &root,
        "diags_monthly",
        "THETA",
        PeriodToken::MonMean,
        732,
        &theta,
        NZ,
    );
    write_diagnostic(
        &root,
        "diags_monthly",
        "SALT",
        PeriodToken::MonMean,
        732,
        &salt,
        NZ,
    );
    let out = tmp
        .path()
        .join("OCEAN_TEMPERATURE_SALINITY_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc");
    let report = produce(fx, &root, 15, Frequency::AvgMon, 732, &out).unwrap();
    let file = open_nc(&out);

    let dims: Vec<(String, usize)> = file.dimensions().map(|d| (d.name(), d.len())).collect();
    let want: Vec<(String, usize)> = [
        ("i", 90),
        ("i_g", 90),
        ("j", 90),
        ("j_g", 90),
        ("k", 50),
        ("k_u", 50),
        ("k_l", 50),
        ("k_p1", 51),
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
            "k",
            "k_u",
            "k_l",
            "k_p1",
            "tile",
            "time",
            "XC",
            "YC",
            "XG",
            "YG",
            "Z",
            "Zp1",
            "Zu",
            "Zl",
            "THETA",
            "time_bnds",
            "SALT",
            "XC_bnds",
            "YC_bnds",
            "Z_bnds"
        ]
    );
    assert_eq!(vars.len() - 2, 22, "22 coordinates");

    // Vertical coordinates from the raw RC/RF files.
    let rc = read_f64_be(&fx.grid_dir.join("RC.data"));
    let rf = read_f64_be(&fx.grid_dir.join("RF.data"));
    let f32s = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<f32>>();
    assert_eq!(values_f32(&file, "Z"), f32s(&rc));
    assert_eq!(values_f32(&file, "Zp1"), f32s(&rf));
    assert_eq!(values_f32(&file, "Zu"), f32s(&rf[1..]));
    assert_eq!(values_f32(&file, "Zl"), f32s(&rf[..50]));
    assert_eq!(values_f32(&file, "Zl")[0], 0.0);
    assert_eq!(values_f32(&file, "Zu")[0], -10.0);
    let z_bnds = values_f32(&file, "Z_bnds");
    assert_eq!(&z_bnds[..4], &[0.0, -10.0, -10.0, -20.0]);
    assert_eq!(z_bnds[99], -6134.5);
    for (name, len) in [("k", 50), ("k_u", 50), ("k_l", 50), ("k_p1", 51)] {
        assert_eq!(values_i32(&file, name), (0..len).collect::<Vec<i32>>());
    }
    assert_eq!(dims_of(&file, "Z_bnds"), ["k", "nv"]);

    // Values: level k is wet where hFacC[k] > 0, computed here from Depth/RF/DRF.
    let hfac = hfac_c(fx);
    let wet_cells = hfac.iter().filter(|h| **h > 0.0).count();
    assert_eq!(wet_cells, 2_406_992, "wet cells of docs/mds-llc.md 4.2");
    for (var, compact) in [("THETA", &theta), ("SALT", &salt)] {
        assert_eq!(dims_of(&file, var), ["time", "k", "tile", "j", "i"]);
        assert_eq!(
            file.variable(var).unwrap().chunking().unwrap(),
            Some(vec![1, 25, 7, 45, 45])
        );
        assert_eq!(var_text(&file, var, "coordinates"), "XC YC Z time");
        let expected = to_tiles(compact);
        let got = values_f32(&file, var);
        let (mut min, mut max) = (f32::INFINITY, f32::NEG_INFINITY);
        for n in 0..NZ * CELLS {
            if hfac[n] > 0.0 {
                assert_eq!(got[n].to_bits(), expected[n].to_bits(), "{var}[{n}]");
                min = min.min(expected[n]);
                max = max.max(expected[n]);
            } else {
                assert_eq!(got[n], FILL, "{var}[{n}] is land");
            }
        }
        assert_eq!(var_f32(&file, var, "valid_min"), min);
        assert_eq!(var_f32(&file, var, "valid_max"), max);
        let r = report.variables.iter().find(|r| r.name == var).unwrap();
        assert_eq!(r.valid_values, wet_cells);
        assert_eq!(r.chunks, [1, 25, 7, 45, 45]);
    }

    // Global attributes: 62 ECCO + `coordinates` + provenance.
    let names: Vec<String> = file.attributes().map(|a| a.name().to_string()).collect();
    assert_eq!(names.iter().filter(|n| !n.starts_with("edp_")).count(), 63);
    assert_eq!(
        global_text(&file, "coordinates"),
        "XC_bnds XG YC_bnds YG Z_bnds Zl Zp1 Zu time_bnds"
    );
    match global_attr(&file, "geospatial_vertical_min") {
        Some(netcdf::AttributeValue::Double(v)) => assert_eq!(v, -6134.5),
        other => panic!("geospatial_vertical_min is {other:?}"),
    }
    assert_eq!(global_text(&file, "id"), "10.5067/ECL5M-OTS44");
    if let Some(dump) = ncdump_hs(&out) {
        let special = special_attrs(&dump, "THETA");
        assert!(
            special
                .iter()
                .any(|s| s.ends_with("_ChunkSizes = 1, 25, 7, 45, 45")),
            "{special:?}"
        );
        assert!(special.iter().any(|s| s.ends_with("_DeflateLevel = 5")));
        assert!(special.iter().any(|s| s.ends_with("_Shuffle = \"true\"")));
        assert!(dump.lines().any(|l| l == "\tfloat Z_bnds(k, nv) ;"));
    }
}

#[test]
fn velocity_granule_masks_faces_and_w_levels() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("src");
    let (u, v, w) = (synthetic(0.25), synthetic(-0.75), synthetic(0.5));
    write_diagnostic(
        &root,
        "diags_daily",
        "UVEL",
        PeriodToken::DayMean,
        36,
        &u,
        NZ,
    );
    write_diagnostic(
        &root,
        "diags_daily",
        "VVEL",
        PeriodToken::DayMean,
        36,
        &v,
        NZ,
    );
    write_diagnostic(
        &root,
        "diags_daily",
        "WVELMASS",
        PeriodToken::DayMean,
        36,
        &w,
        NZ,
    );
    let out = tmp
        .path()
        .join("OCEAN_VELOCITY_day_mean_1992-01-02_ECCO_V4r4_native_llc0090.nc");
    let report = produce(fx, &root, 17, Frequency::AvgDay, 36, &out).unwrap();
    let names: Vec<&str> = report.variables.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["UVEL", "VVEL", "WVEL"]);
    let file = open_nc(&out);
    assert!(file.variable("WVELMASS").is_none());
    assert_eq!(dims_of(&file, "UVEL"), ["time", "k", "tile", "j", "i_g"]);
    assert_eq!(dims_of(&file, "VVEL"), ["time", "k", "tile", "j_g", "i"]);
    assert_eq!(dims_of(&file, "WVEL"), ["time", "k_l", "tile", "j", "i"]);
    assert_eq!(var_text(&file, "UVEL", "coordinates"), "Z time");
    assert_eq!(var_text(&file, "VVEL", "coordinates"), "Z time");
    assert_eq!(var_text(&file, "WVEL", "coordinates"), "XC YC Zl time");
    assert_eq!(var_text(&file, "WVEL", "units"), "m s-1");
    assert_eq!(values_i32(&file, "time_bnds"), [12, 36]);
    assert_eq!(values_i32(&file, "time"), [24]);
    assert_eq!(
        global_text(&file, "coordinates"),
        "XC_bnds XG YC_bnds YG Z_bnds Zp1 Zu time_bnds"
    );

    let hfac = hfac_c(fx);
    let wet = |k: usize, t: usize, j: usize, i: usize| hfac[k * CELLS + tile_index(t, j, i)] > 0.0;
    let grid = &fx.resources.grid;
    let (eu, ev, ew) = (to_tiles(&u), to_tiles(&v), to_tiles(&w));
    let (gu, gv, gw) = (
        values_f32(&file, "UVEL"),
        values_f32(&file, "VVEL"),
        values_f32(&file, "WVEL"),
    );
    let mut differs_from_next_level = 0usize;
    for k in 0..NZ {
        for t in 0..13 {
            for j in 0..N {
                for i in 0..N {
                    let n = k * CELLS + tile_index(t, j, i);
                    let centre = wet(k, t, j, i);
                    // Faces beside another tile come from the grid's masks (connectivity).
                    let u_wet = if i > 0 {
                        centre && wet(k, t, j, i - 1)
                    } else {
                        grid.mask_w[n]
                    };
                    let v_wet = if j > 0 {
                        centre && wet(k, t, j - 1, i)
                    } else {
                        grid.mask_s[n]
                    };
                    let expect = |got: f32, want: f32, keep: bool, what: &str| {
                        if keep {
                            assert_eq!(got.to_bits(), want.to_bits(), "{what} k={k} ({t},{j},{i})");
                        } else {
                            assert_eq!(got, FILL, "{what} k={k} ({t},{j},{i})");
                        }
                    };
                    expect(gu[n], eu[n], u_wet, "UVEL");
                    expect(gv[n], ev[n], v_wet, "VVEL");
                    // WVEL level l (top face of cell l) uses mask level l.
                    expect(gw[n], ew[n], centre, "WVEL");
                    if k + 1 < NZ && centre && !wet(k + 1, t, j, i) {
                        differs_from_next_level += 1;
                    }
                }
            }
        }
    }
    // Using the mask of level l+1 (or l-1) would have failed on these cells.
    assert!(
        differs_from_next_level > 10_000,
        "{differs_from_next_level}"
    );
}
