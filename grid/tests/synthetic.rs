//! The synthetic Mercator-LLC(N) grid (docs/mds-llc.md §6): structure, consistency of the
//! derived quantities, round trips through MDS directories and grid-geometry NetCDF, and
//! typed errors for broken grid directories.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edp_grid::connectivity::{Edge, neighbour};
use edp_grid::geometry::{EARTH_RADIUS_M, distance_m, wrap_lon};
use edp_grid::{CornerSource, Grid, GridError, MdsDirOptions, SyntheticLand, SyntheticSpec};

fn synthetic(n: usize, nz: usize, land: SyntheticLand) -> Grid {
    Grid::synthetic(&SyntheticSpec { n, nz, land }).unwrap()
}

#[test]
fn layout_orientation_and_ranges_for_several_sizes() {
    for n in [2, 4, 12, 90] {
        let g = synthetic(n, 3, SyntheticLand::Analytic);
        assert_eq!(g.xc.len(), 13 * n * n);
        assert!(
            g.xc.iter()
                .chain(&g.xg)
                .all(|x| (-180.0..180.0).contains(x)),
            "N={n}"
        );
        assert!(g.yc.iter().all(|y| y.abs() < 90.0), "N={n}");
        for t in 0..13 {
            for k in t * n * n..(t + 1) * n * n {
                let (c, s) = (g.cs[k], g.sn[k]);
                assert!((c * c + s * s - 1.0).abs() < 1e-12);
                match t {
                    0..=5 => assert_eq!((c, s), (1.0, 0.0)),
                    7..=12 => assert_eq!((c, s), (0.0, -1.0)),
                    _ => {}
                }
            }
        }
        // Tiles 0-5: i east, j north; tiles 7-12: i south, j east.
        let east_of = |a: usize, b: usize| wrap_lon(g.xc[a] - g.xc[b]) > 0.0;
        let (a, b, c) = (g.index(1, 1, 1), g.index(1, 1, 0), g.index(1, 0, 1));
        assert!(east_of(a, b) && g.yc[a] > g.yc[c], "N={n}");
        let (a, b, c) = (g.index(8, 1, 1), g.index(8, 1, 0), g.index(8, 0, 1));
        assert!(g.yc[a] < g.yc[b] && east_of(a, c), "N={n}");
    }
}

#[test]
fn documented_llc90_values() {
    let g = synthetic(90, 1, SyntheticLand::AllOcean);
    let centre = g.index(6, 45, 45);
    assert_eq!(g.xc[centre], -128.0);
    assert!((g.yc[centre] - 89.76).abs() < 0.005, "{}", g.yc[centre]);
    // Southern end of the lat-lon facets at -84.71 degrees.
    let south = g.yg.iter().copied().fold(f64::INFINITY, f64::min);
    assert!((south + 84.71).abs() < 0.005, "{south}");
    // Facet west edges: tile 0 starts at -38, tile 3 at 52, tile 7 at 142, tile 10 at -128.
    for (t, lon) in [(0, -38.0), (3, 52.0), (7, 142.0), (10, -128.0)] {
        assert!((g.xg[g.index(t, 0, 0)] - lon).abs() < 1e-9, "tile {t}");
    }
}

#[test]
fn facet_edges_coincide_as_the_connectivity_table_says() {
    // Every corner point on a linked edge is the same point seen from both tiles.
    for n in [2, 5, 12] {
        let g = synthetic(n, 1, SyntheticLand::AllOcean);
        let c = &g.corners;
        for t in 0..13 {
            for edge in Edge::ALL {
                let Some(l) = neighbour(t, edge) else {
                    continue;
                };
                for s in 0..=n {
                    let mine = match edge {
                        Edge::East => (s, n),
                        Edge::West => (s, 0),
                        Edge::North => (n, s),
                        Edge::South => (0, s),
                    };
                    let along = if l.reversed { n - s } else { s };
                    let theirs = match l.edge {
                        Edge::East => (along, n),
                        Edge::West => (along, 0),
                        Edge::North => (n, along),
                        Edge::South => (0, along),
                    };
                    let (a, b) = (c.get(t, mine.0, mine.1), c.get(l.tile, theirs.0, theirs.1));
                    assert!(
                        distance_m(a, b) < 1e-3,
                        "N={n} tile {t} {edge:?} s={s}: {a:?} vs {b:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn metrics_are_positive_and_areas_cover_the_sphere() {
    let g = synthetic(12, 1, SyntheticLand::AllOcean);
    for v in [
        &g.dxg, &g.dyg, &g.dxc, &g.dyc, &g.rac, &g.raw, &g.ras, &g.raz,
    ] {
        assert!(v.iter().all(|x| *x > 0.0 && x.is_finite()));
    }
    // Everything but the polar cap south of -84.71 degrees.
    let south =
        g.yg.iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .to_radians();
    let covered =
        2.0 * std::f64::consts::PI * EARTH_RADIUS_M * EARTH_RADIUS_M * (2.0 - (1.0 + south.sin()));
    let total: f64 = g.rac.iter().sum();
    assert!(
        (total / covered - 1.0).abs() < 2e-3,
        "{total:e} vs {covered:e}"
    );
}

#[test]
fn analytic_land_and_partial_cells_are_consistent() {
    let g = synthetic(12, 20, SyntheticLand::Analytic);
    let cells = g.cells();
    // The grid keeps hFacC as float32 (memory): it is the f64 derivation, rounded.
    let hfac_c = edp_grid::derive::hfac_c_from_depth(&g.depth, &g.rf, &g.drf);
    assert!(hfac_c.iter().zip(&g.hfac_c).all(|(h, g)| *h as f32 == *g));
    assert!(
        g.wet_columns() > cells / 2 && g.wet_columns() < cells,
        "{}",
        g.wet_columns()
    );
    for c in 0..cells {
        if g.yc[c] < -78.0 {
            assert_eq!(g.depth[c], 0.0);
        }
        let column: f64 = (0..g.nz).map(|k| hfac_c[k * cells + c] * g.drf[k]).sum();
        assert!((column - g.depth[c]).abs() < 1e-9);
    }
    for k in 0..g.nz {
        let min_size = 0.2f64.max((5.0 / g.drf[k]).min(1.0));
        assert!(
            hfac_c[k * cells..(k + 1) * cells]
                .iter()
                .all(|h| *h == 0.0 || *h >= min_size - 1e-9)
        );
    }
    let per_level = g.wet_cells_per_level();
    assert!(per_level.windows(2).all(|w| w[0] >= w[1]), "{per_level:?}");
    assert!(per_level[19] < per_level[0], "{per_level:?}");
    // Land exists on every facet, so face masks differ from the centre mask somewhere.
    assert_ne!(g.mask_w, g.mask_c);
    assert_ne!(g.mask_s, g.mask_c);

    let ocean = synthetic(4, 3, SyntheticLand::AllOcean);
    assert_eq!(ocean.wet_cells(), 13 * 16 * 3);
    assert_eq!(ocean.depth[0], 30.0);
}

#[test]
fn set_depth_recomputes_the_masks() {
    let mut g = synthetic(4, 3, SyntheticLand::AllOcean);
    let mut depth = g.depth.clone();
    depth[g.index(1, 2, 2)] = 0.0;
    depth[g.index(1, 2, 1)] = 15.0;
    g.set_depth(depth).unwrap();
    let cells = g.cells();
    assert_eq!(g.wet_columns(), 13 * 16 - 1);
    assert!(!g.mask_w[g.index(1, 2, 2)] && !g.mask_s[g.index(1, 2, 2)]);
    assert_eq!(g.hfac_c[cells + g.index(1, 2, 1)], 0.5);
    assert_eq!(g.hfac_w[cells + g.index(1, 2, 1)], 0.5);
    let err = g.set_depth(vec![0.0; 5]).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected 208 values (13 x 4 x 4), found 5 values"),
        "{err}"
    );
}

#[test]
fn mds_directory_round_trip_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let g = synthetic(6, 4, SyntheticLand::Analytic);
    g.write_mds_dir(dir.path(), &MdsDirOptions::default())
        .unwrap();
    for f in [
        "XC.meta",
        "XC.data",
        "Depth.data",
        "RF.meta",
        "DRC.data",
        "tile003.mitgrid",
        "tile005.mitgrid",
    ] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    assert!(!dir.path().join("hFacC.data").exists());
    let back = Grid::from_mds_dir(dir.path()).unwrap();
    // Corner values are the same; their provenance says how the loader found them.
    assert_eq!(back.corners.lon, g.corners.lon);
    assert_eq!(back.corners.lat, g.corners.lat);
    assert_eq!(back.corners.count(CornerSource::Extrapolated), 0);
    let mut without_sources = back.clone();
    without_sources.corners.source = g.corners.source.clone();
    assert_eq!(without_sources, g);

    // With hFac files and without .mitgrid files.
    let dir2 = tempfile::tempdir().unwrap();
    g.write_mds_dir(
        dir2.path(),
        &MdsDirOptions {
            hfac: true,
            mitgrid: false,
        },
    )
    .unwrap();
    assert!(
        dir2.path().join("hFacW.data").is_file() && !dir2.path().join("tile001.mitgrid").exists()
    );
    let back2 = Grid::from_mds_dir(dir2.path()).unwrap();
    assert_eq!(back2.hfac_w, g.hfac_w);
    // Without .mitgrid files the 2N + 5 points the rule cannot resolve are extrapolated.
    assert_eq!(back2.corners.count(CornerSource::Extrapolated), 2 * 6 + 5);
}

#[test]
fn a_grid_geometry_file_in_the_mds_directory_gives_the_corners() {
    // Without .mitgrid files the loader extrapolates the outer corners it cannot resolve...
    let n = 6;
    let g = synthetic(n, 4, SyntheticLand::Analytic);
    let dir = tempfile::tempdir().unwrap();
    let options = MdsDirOptions {
        hfac: false,
        mitgrid: false,
    };
    g.write_mds_dir(dir.path(), &options).unwrap();
    let extrapolated = Grid::from_mds_dir(dir.path()).unwrap();
    assert_eq!(
        extrapolated.corners.count(CornerSource::Extrapolated),
        2 * n + 5
    );
    let said = extrapolated.corners.provenance();
    assert!(said.starts_with("extrapolated: 17 of "), "{said}");
    assert!(extrapolated.corners.lon != g.corners.lon);

    // ...unless ECCO's grid-geometry file is there: then every corner is its XC_bnds/YC_bnds
    // (float32 in the file), extrapolated ones included.
    let file = dir.path().join("GRID_GEOMETRY_ECCO_V4r4_native_llc0006.nc");
    g.write_netcdf(&file).unwrap();
    assert_eq!(
        edp_grid::geometry_file(dir.path()).unwrap(),
        Some(file.clone())
    );
    let exact = Grid::from_mds_dir(dir.path()).unwrap();
    let f32s = |v: &[f64]| v.iter().map(|x| *x as f32 as f64).collect::<Vec<_>>();
    assert_eq!(exact.corners.lon, f32s(&g.corners.lon));
    assert_eq!(exact.corners.lat, f32s(&g.corners.lat));
    assert_eq!(exact.xc_bnds(), f32s(&g.xc_bnds()));
    assert_eq!(
        exact.corners.count(CornerSource::File),
        13 * (n + 1) * (n + 1)
    );
    assert_eq!(
        exact.corners.provenance(),
        "grid-geometry file (XC_bnds, YC_bnds)"
    );
    // The MDS fields still come from the MDS files (float64, not the file's float32).
    assert_eq!(exact.xc, g.xc);

    // A geometry file of another grid size is an error naming it.
    let other = tempfile::tempdir().unwrap();
    g.write_mds_dir(other.path(), &options).unwrap();
    synthetic(5, 4, SyntheticLand::Analytic)
        .write_netcdf(other.path().join("GRID_GEOMETRY_x_native.nc"))
        .unwrap();
    let err = Grid::from_mds_dir(other.path()).unwrap_err().to_string();
    assert!(
        err.contains("GRID_GEOMETRY_x_native.nc") && err.contains("found 5"),
        "{err}"
    );
}

#[test]
fn netcdf_round_trip_keeps_float32_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("GRID_GEOMETRY.nc");
    let g = synthetic(5, 4, SyntheticLand::Analytic);
    g.write_netcdf(&path).unwrap();
    let back = Grid::from_netcdf(&path).unwrap();
    let f32s = |v: &[f64]| v.iter().map(|x| *x as f32 as f64).collect::<Vec<_>>();
    assert_eq!((back.n, back.nz), (5, 4));
    assert_eq!(back.xc, f32s(&g.xc));
    assert_eq!(back.dyc, f32s(&g.dyc));
    assert_eq!(back.rf, f32s(&g.rf));
    assert_eq!(back.drc, f32s(&g.drc));
    assert_eq!(
        back.hfac_s, g.hfac_s,
        "hFac are float32 in the grid already"
    );
    assert_eq!(back.mask_c, g.mask_c);
    assert_eq!(back.corners.lon, f32s(&g.corners.lon));
    assert_eq!(back.corners.count(CornerSource::File), 13 * 36);
    let file = netcdf::open(&path).unwrap();
    let drc: Vec<f64> = file.variable("drC").unwrap().get_values(..).unwrap();
    assert_eq!(drc.len(), 5);
    assert_eq!(drc[4], f64::from((g.drf[3] / 2.0) as f32));
    assert_eq!(
        file.variable("maskW")
            .unwrap()
            .dimensions()
            .iter()
            .map(|d| d.name())
            .collect::<Vec<_>>(),
        ["k", "tile", "j", "i_g"]
    );
}

#[test]
fn broken_grid_directories_give_typed_errors() {
    let g = synthetic(4, 2, SyntheticLand::AllOcean);
    let dir = tempfile::tempdir().unwrap();
    g.write_mds_dir(dir.path(), &MdsDirOptions::default())
        .unwrap();
    std::fs::remove_file(dir.path().join("RAZ.data")).unwrap();
    let err = Grid::from_mds_dir(dir.path()).unwrap_err();
    assert!(matches!(err, GridError::MissingFile { .. }), "{err}");
    assert!(
        err.to_string().contains("RAZ.data") && err.to_string().contains("required 2-D grid field"),
        "{err}"
    );

    // A YC of another size than XC.
    let other = synthetic(5, 2, SyntheticLand::AllOcean);
    let dir2 = tempfile::tempdir().unwrap();
    g.write_mds_dir(dir2.path(), &MdsDirOptions::default())
        .unwrap();
    let dir3 = tempfile::tempdir().unwrap();
    other
        .write_mds_dir(dir3.path(), &MdsDirOptions::default())
        .unwrap();
    for ext in ["meta", "data"] {
        std::fs::copy(
            dir3.path().join(format!("YC.{ext}")),
            dir2.path().join(format!("YC.{ext}")),
        )
        .unwrap();
    }
    let err = Grid::from_mds_dir(dir2.path()).unwrap_err();
    assert!(
        err.to_string().contains("expected one 2-D LLC(4) record")
            && err.to_string().contains("found 1 record of 5x65 float64"),
        "{err}"
    );

    // DRF with the wrong number of levels.
    let dir4 = tempfile::tempdir().unwrap();
    g.write_mds_dir(dir4.path(), &MdsDirOptions::default())
        .unwrap();
    let three = synthetic(4, 3, SyntheticLand::AllOcean);
    let dir5 = tempfile::tempdir().unwrap();
    three
        .write_mds_dir(dir5.path(), &MdsDirOptions::default())
        .unwrap();
    for ext in ["meta", "data"] {
        std::fs::copy(
            dir5.path().join(format!("DRF.{ext}")),
            dir4.path().join(format!("DRF.{ext}")),
        )
        .unwrap();
    }
    let err = Grid::from_mds_dir(dir4.path()).unwrap_err();
    assert!(
        err.to_string().contains("DRF")
            && err
                .to_string()
                .contains("expected 2 values, found 3 values"),
        "{err}"
    );

    // A truncated .mitgrid.
    std::fs::write(dir.path().join("tile002.mitgrid"), [0u8; 16]).unwrap();
    g.write_mds_dir(
        dir.path(),
        &MdsDirOptions {
            hfac: false,
            mitgrid: false,
        },
    )
    .unwrap();
    let err = Grid::from_mds_dir(dir.path()).unwrap_err();
    assert!(
        err.to_string().contains("tile002.mitgrid") && err.to_string().contains("found 16 bytes"),
        "{err}"
    );

    let err = Grid::synthetic(&SyntheticSpec {
        n: 0,
        nz: 1,
        land: SyntheticLand::Analytic,
    })
    .unwrap_err();
    assert!(err.to_string().contains("found n = 0"), "{err}");
    let err = Grid::from_mds_dir(dir.path().join("nowhere")).unwrap_err();
    assert!(err.to_string().contains("XC.meta"), "{err}");
    let err = Grid::from_netcdf(dir.path().join("nowhere.nc")).unwrap_err();
    assert!(err.to_string().contains("nowhere.nc"), "{err}");
}

#[test]
fn writers_refuse_an_inconsistent_grid() {
    let mut g = synthetic(3, 2, SyntheticLand::AllOcean);
    g.check_consistent().unwrap();
    g.rf.pop();
    let dir = tempfile::tempdir().unwrap();
    let err = g.write_netcdf(dir.path().join("g.nc")).unwrap_err();
    assert!(
        err.to_string()
            .contains("grid array rf of LLC(3) with 2 levels: expected 3 values, found 2 values"),
        "{err}"
    );
    assert!(
        g.write_mds_dir(dir.path(), &MdsDirOptions::default())
            .is_err()
    );
}

#[test]
fn an_ice_shelf_draft_from_the_geometry_file_separates_seafloor_and_column_thickness() {
    let n = 6;
    let mut g = synthetic(n, 4, SyntheticLand::Analytic);
    assert_eq!(g.ice_shelf_draft, None);
    assert_eq!(g.seafloor_depth(), g.depth);
    // A shelf over the wet cells of tile 0: 10 m of ice above the water column.
    let cells = 13 * n * n;
    let draft: Vec<f64> = (0..cells)
        .map(|c| {
            if c < n * n && g.depth[c] > 0.0 {
                10.0
            } else {
                0.0
            }
        })
        .collect();
    assert!(draft.iter().any(|d| *d > 0.0));
    g.ice_shelf_draft = Some(draft.clone());
    let seafloor = g.seafloor_depth();
    assert!((0..cells).all(|c| seafloor[c] == g.depth[c] + draft[c]));

    // ECCO's layout: Depth is the seafloor, beside ice_shelf_draft and ocean_column_thickness.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("GRID_GEOMETRY_ECCO_V4r5_native_llc0006.nc");
    g.write_netcdf(&path).unwrap();
    let file = netcdf::open(&path).unwrap();
    let read = |name: &str| -> Vec<f64> { file.variable(name).unwrap().get_values(..).unwrap() };
    let f32s = |v: &[f64]| v.iter().map(|x| *x as f32 as f64).collect::<Vec<_>>();
    assert_eq!(read("Depth"), f32s(&seafloor));
    assert_eq!(read("ice_shelf_draft"), f32s(&draft));
    assert_eq!(read("ocean_column_thickness"), f32s(&g.depth));
    let back = Grid::from_netcdf(&path).unwrap();
    assert_eq!(back.depth, f32s(&g.depth));
    assert_eq!(back.ice_shelf_draft, Some(f32s(&draft)));

    // An MDS grid directory holding that file takes the draft from it; without the file
    // there is none (no MDS grid file holds it).
    let mds = tempfile::tempdir().unwrap();
    g.write_mds_dir(mds.path(), &MdsDirOptions::default())
        .unwrap();
    assert_eq!(
        Grid::from_mds_dir(mds.path()).unwrap().ice_shelf_draft,
        None
    );
    std::fs::copy(
        &path,
        mds.path().join("GRID_GEOMETRY_ECCO_V4r5_native_llc0006.nc"),
    )
    .unwrap();
    let loaded = Grid::from_mds_dir(mds.path()).unwrap();
    assert_eq!(loaded.ice_shelf_draft, Some(f32s(&draft)));
    assert_eq!(
        loaded.depth, g.depth,
        "the column thickness stays MITgcm's Depth.data"
    );
}
