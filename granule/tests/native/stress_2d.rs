//! OCEAN_AND_ICE_SURFACE_STRESS from the real `TauX.bin`/`TauY.bin`: `EXFtaux`/`EXFtauy` live
//! at cell centres (maskC), `oceTAUX` on u faces `(j, i_g)` (maskW) and `oceTAUY` on v faces
//! `(j_g, i)` (maskS), as in the released granules (docs/mds-llc.md 2.2, docs/netcdf-layout.md 6).

use edp_conventions::Frequency;
use edp_conventions::naming::PeriodToken;

use crate::native::support::*;

#[test]
fn face_variables_get_face_dims_and_face_masks() {
    let Some(fx) = fixture() else { return };
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
            1428,
            values,
            1,
        );
    }
    let out = tmp
        .path()
        .join("OCEAN_AND_ICE_SURFACE_STRESS_mon_mean_1992-02_ECCO_V4r4_native_llc0090.nc");
    produce(fx, &root, 6, Frequency::AvgMon, 1428, &out).unwrap();
    let file = open_nc(&out);

    assert_eq!(dims_of(&file, "EXFtaux"), ["time", "tile", "j", "i"]);
    assert_eq!(dims_of(&file, "EXFtauy"), ["time", "tile", "j", "i"]);
    assert_eq!(dims_of(&file, "oceTAUX"), ["time", "tile", "j", "i_g"]);
    assert_eq!(dims_of(&file, "oceTAUY"), ["time", "tile", "j_g", "i"]);
    assert_eq!(var_text(&file, "EXFtaux", "coordinates"), "XC YC time");
    assert_eq!(var_text(&file, "oceTAUX", "coordinates"), "time");
    assert_eq!(
        global_text(&file, "coordinates"),
        "XC_bnds XG YC_bnds YG time_bnds"
    );
    assert_eq!(values_i32(&file, "time_bnds"), [732, 1428]);
    assert_eq!(values_i32(&file, "time"), [1080]);

    // Independent wet tests at the surface: a centre is wet when Depth > 0; a u face when
    // both cells beside it are (MITgcm hFacW = min(hFacC(i), hFacC(i-1))), a v face likewise
    // with j-1. Faces on a tile's first column/row need the neighbour tile: those are
    // compared with the grid's own masks instead.
    let depth = to_tiles(&read_f64_be(&fx.grid_dir.join("Depth.data")));
    let wet = |t: usize, j: usize, i: usize| depth[tile_index(t, j, i)] > 0.0;
    let grid = &fx.resources.grid;
    let x = to_tiles(&taux);
    let y = to_tiles(&tauy);
    let exftaux = values_f32(&file, "EXFtaux");
    let ocetaux = values_f32(&file, "oceTAUX");
    let ocetauy = values_f32(&file, "oceTAUY");
    let (mut wet_u, mut wet_v) = (0usize, 0usize);
    for t in 0..13 {
        for j in 0..N {
            for i in 0..N {
                let idx = tile_index(t, j, i);
                let centre = wet(t, j, i);
                let u = if i > 0 {
                    centre && wet(t, j, i - 1)
                } else {
                    grid.mask_w[idx]
                };
                let v = if j > 0 {
                    centre && wet(t, j - 1, i)
                } else {
                    grid.mask_s[idx]
                };
                assert_eq!(grid.mask_w[idx], u, "maskW ({t},{j},{i})");
                assert_eq!(grid.mask_s[idx], v, "maskS ({t},{j},{i})");
                let check = |got: f32, want: f32, keep: bool, what: &str| {
                    if keep {
                        assert_eq!(got.to_bits(), want.to_bits(), "{what} ({t},{j},{i})");
                    } else {
                        assert_eq!(got, FILL, "{what} ({t},{j},{i})");
                    }
                };
                check(exftaux[idx], x[idx], centre, "EXFtaux");
                check(ocetaux[idx], x[idx], u, "oceTAUX");
                check(ocetauy[idx], y[idx], v, "oceTAUY");
                wet_u += usize::from(u);
                wet_v += usize::from(v);
            }
        }
    }
    // Face masks differ from the centre mask (otherwise the test above proves nothing).
    assert!(wet_u < 60_646 && wet_v < 60_646, "{wet_u} {wet_v}");
    assert!(
        (0..CELLS).any(|idx| exftaux[idx] != FILL && ocetaux[idx] == FILL),
        "some wet centres have a dry west face"
    );
}
