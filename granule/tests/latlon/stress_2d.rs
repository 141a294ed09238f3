//! Lat-lon OCEAN_AND_ICE_SURFACE_STRESS from the real `TauX.bin`/`TauY.bin`: `EXFtaux/y` at
//! cell centres and `oceTAUX/Y` on u/v faces become `EXFtaue/n` and `oceTAUE/N` (docs/regridding.md
//! 1), compared with the rotation and the mapping definition computed here from the raw grid.

use edp_conventions::Frequency;
use edp_conventions::naming::PeriodToken;
use rayon::prelude::*;

use crate::latlon::support::*;

#[test]
fn surface_stress_vectors_are_rotated_to_east_north_and_regridded() {
    let Some(fx) = fixture() else { return };
    let raw = RawGrid::load(fx);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("src");
    let taux = real_2d(fx, "TauX.bin");
    let tauy = real_2d(fx, "TauY.bin");
    for (var, values) in [
        ("EXFtaux", &taux),
        ("EXFtauy", &tauy),
        ("oceTAUX", &taux),
        ("oceTAUY", &tauy),
    ] {
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
    let out = tmp
        .path()
        .join("OCEAN_AND_ICE_SURFACE_STRESS_mon_mean_1992-01_ECCO_V4r4_latlon_0p50deg.nc");
    let report = produce(fx, &root, 6, Frequency::AvgMon, 732, &out).unwrap();
    let file = open_nc(&out);
    let vars: Vec<String> = file.variables().map(|v| v.name()).collect();
    assert_eq!(
        vars,
        [
            "time",
            "latitude",
            "longitude",
            "EXFtaue",
            "EXFtaun",
            "oceTAUE",
            "oceTAUN",
            "time_bnds",
            "latitude_bnds",
            "longitude_bnds"
        ]
    );
    assert_eq!(report.variables[0].diagnostics, ["EXFtaux", "EXFtauy"]);
    assert_eq!(report.variables[3].diagnostics, ["oceTAUX", "oceTAUY"]);

    // East/north at the sources, from the raw AngleCS/AngleSN: at the centres directly
    // (EXF), and for the faces (oce) where the east and north faces are inside the tile,
    // Rx = (u[i] + u[i+1]) / 2, Ry = (v[j] + v[j+1]) / 2; `None` at the last column or row,
    // whose faces belong to a neighbour tile.
    let (x, y) = (to_tiles(&taux), to_tiles(&tauy));
    let rotate = |rx: f64, ry: f64, c: usize| {
        (
            raw.cs[c] * rx - raw.sn[c] * ry,
            raw.sn[c] * rx + raw.cs[c] * ry,
        )
    };
    let (exf_e, exf_n): (Vec<f64>, Vec<f64>) = (0..CELLS)
        .map(|c| rotate(f64::from(x[c]), f64::from(y[c]), c))
        .unzip();
    let interior: Vec<Option<(f64, f64)>> = (0..CELLS)
        .map(|c| {
            let (j, i) = ((c / N) % N, c % N);
            (i + 1 < N && j + 1 < N).then(|| {
                let rx = 0.5 * (f64::from(x[c]) + f64::from(x[c + 1]));
                let ry = 0.5 * (f64::from(y[c]) + f64::from(y[c + N]));
                rotate(rx, ry, c)
            })
        })
        .collect();
    let scale = taux.iter().chain(&tauy).fold(0.0f32, |m, v| m.max(v.abs()));

    let wet = raw.wet(0);
    let samples = sample_targets(97);
    let mappings: Vec<Mapping> = samples
        .par_iter()
        .map(|&p| brute_force_mapping(raw, &wet, p))
        .collect();
    let got = |var: &str| values_f32(&file, var);
    let (exf_taue, exf_taun, oce_taue, oce_taun) = (
        got("EXFtaue"),
        got("EXFtaun"),
        got("oceTAUE"),
        got("oceTAUN"),
    );
    let mut interior_checked = 0;
    for (&p, mapping) in samples.iter().zip(&mappings) {
        for (name, granule, field) in [
            ("EXFtaue", &exf_taue, &exf_e),
            ("EXFtaun", &exf_taun, &exf_n),
        ] {
            let want = mapped_value(mapping, field);
            assert!(
                same_value(granule[p], want, scale),
                "{name} target {p} ({mapping:?}): granule {}, definition {want}",
                granule[p]
            );
        }
        let sources: &[usize] = match mapping {
            Mapping::Land => {
                assert_eq!((oce_taue[p], oce_taun[p]), (FILL, FILL), "target {p}");
                continue;
            }
            Mapping::Mean(s) => s,
            Mapping::Nearest(s) => std::slice::from_ref(s),
        };
        if sources.iter().all(|&s| interior[s].is_some()) {
            let values = |pick: fn((f64, f64)) -> f64| -> Vec<f64> {
                sources
                    .iter()
                    .map(|&s| interior[s].map_or(f64::NAN, pick))
                    .collect()
            };
            for (name, granule, pick) in [
                (
                    "oceTAUE",
                    &oce_taue,
                    (|v: (f64, f64)| v.0) as fn((f64, f64)) -> f64,
                ),
                ("oceTAUN", &oce_taun, |v: (f64, f64)| v.1),
            ] {
                let vals = values(pick);
                let want = (vals.iter().sum::<f64>() / vals.len() as f64) as f32;
                assert!(
                    same_value(granule[p], want, scale),
                    "{name} target {p} ({mapping:?}): granule {}, definition {want}",
                    granule[p]
                );
            }
            interior_checked += 1;
        }
    }
    assert!(
        interior_checked > 1000,
        "{interior_checked} targets checked"
    );

    // Wet targets and valid ranges.
    for (var, values) in [
        ("EXFtaue", &exf_taue),
        ("EXFtaun", &exf_taun),
        ("oceTAUE", &oce_taue),
        ("oceTAUN", &oce_taun),
    ] {
        let data: Vec<f32> = values.iter().copied().filter(|v| *v != FILL).collect();
        assert_eq!(data.len(), 169_137, "{var}");
        let min = data.iter().copied().fold(f32::INFINITY, f32::min);
        assert_eq!(var_f32(&file, var, "valid_min"), min, "{var}");
        assert_eq!(var_text(&file, var, "units"), "N m-2");
        assert_eq!(var_text(&file, var, "coordinates"), "time");
    }
    assert_eq!(
        var_text(&file, "EXFtaue", "long_name"),
        "Zonal (east-west) wind stress"
    );
    assert_eq!(
        var_text(&file, "EXFtaue", "standard_name"),
        "surface_downward_eastward_stress"
    );
    assert_eq!(
        var_text(&file, "oceTAUN", "long_name"),
        "Meridional (north-south) ocean surface stress"
    );
    assert_eq!(
        var_text(&file, "oceTAUN", "standard_name"),
        "surface_downward_northward_stress"
    );
    assert_eq!(
        var_text(&file, "oceTAUN", "direction"),
        " >0 increases northward velocity (NVEL)"
    );
    assert_eq!(global_text(&file, "id"), "10.5067/ECG5M-STR44");
    let files = match global_attr(&file, "edp_input_files").unwrap() {
        netcdf::AttributeValue::Strs(v) => v,
        other => panic!("edp_input_files is {other:?}"),
    };
    assert_eq!(files.len(), 8, "each of the four inputs once: {files:?}");
}
