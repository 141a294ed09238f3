//! The generated demo tree is complete and self-consistent: the catalog, configuration and
//! job-file readers accept it, the MDS inputs decode to the documented fields with land = 0,
//! and the granule names follow the naming rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edp_conventions::catalog::LoadOptions;
use edp_conventions::staggering::{Horizontal, Vertical};
use edp_conventions::{Catalog, Frequency, ProductType, ProductionConfig};
use edp_demo_data::{DEMO_GROUPINGS, DemoError, DemoSpec, generate};
use edp_grid::Grid;
use edp_mds::{ByteOrder, FieldSelector, MdsFile};

fn small() -> (tempfile::TempDir, edp_demo_data::DemoLayout) {
    let dir = tempfile::tempdir().unwrap();
    let layout = generate(dir.path().join("demo"), &DemoSpec::small()).unwrap();
    (dir, layout)
}

#[test]
fn catalog_accepts_the_metadata_and_resolves_every_grouping() {
    let (_dir, layout) = small();
    let catalog = Catalog::load(&layout.metadata_dir, &LoadOptions::default()).unwrap();
    assert!(catalog.diagnostics().is_some(), "diagnostics log is loaded");
    for product in ProductType::ALL {
        let groupings = catalog.groupings(product).unwrap();
        let demo: Vec<_> = DEMO_GROUPINGS
            .iter()
            .filter(|g| g.product == product)
            .collect();
        assert_eq!(groupings.len(), demo.len());
        for g in demo {
            let dataset = catalog.dataset(product, g.id as i64).unwrap();
            assert_eq!(dataset.filename, g.filename);
            assert_eq!(dataset.output_names(), g.output_variables());
            assert_eq!(dataset.input_names(), g.input_diagnostics());
            for input in dataset.variables.iter().flat_map(|v| &v.inputs) {
                // Staggering and levels come from our diagnostics log.
                let levels = if input.location.is_3d() { 4 } else { 1 };
                assert_eq!(input.levels, Some(levels), "{}", input.name);
            }
        }
    }
    let velocity = catalog.dataset(ProductType::Native, 2).unwrap();
    assert_eq!(velocity.output_names(), ["UVEL", "VVEL", "WVEL"]);
    let wvel = velocity.variable("WVEL").unwrap();
    assert_eq!(wvel.inputs[0].location.vertical, Vertical::KL);
    assert_eq!(
        velocity.variable("UVEL").unwrap().inputs[0]
            .location
            .horizontal,
        Horizontal::UFace
    );
    let latlon_velocity = catalog.dataset(ProductType::Latlon, 2).unwrap();
    assert!(latlon_velocity.variable("EVEL").unwrap().is_vector());
    // Variable attributes exist for every output name, including the renamed WVEL.
    for name in [
        "SSH", "SSHIBC", "SSHNOIBC", "ETAN", "THETA", "SALT", "UVEL", "VVEL", "WVEL",
    ] {
        assert!(
            catalog.native_variable_entry(name).unwrap().is_some(),
            "{name}"
        );
    }
    for name in ["EVEL", "NVEL", "WVEL"] {
        assert!(
            catalog
                .latlon_variable_metadata()
                .unwrap()
                .find(name)
                .is_some(),
            "{name}"
        );
    }
}

#[test]
fn podaac_table_matches_every_demo_granule_name() {
    let (_dir, mut layout) = small();
    let catalog = Catalog::load(&layout.metadata_dir, &LoadOptions::default()).unwrap();
    layout.jobs = [ProductType::Native, ProductType::Latlon]
        .into_iter()
        .flat_map(|product| {
            DEMO_GROUPINGS
                .iter()
                .filter(move |g| g.product == product)
                .flat_map(move |g| {
                    [Frequency::AvgMon, Frequency::AvgDay].map(|frequency| edp_demo_data::DemoJob {
                        grouping_id: g.id,
                        product,
                        frequency,
                    })
                })
        })
        .collect();
    let granules = layout.expected_granules("").unwrap();
    // 6 groupings x (2 monthly + 1 daily steps).
    assert_eq!(granules.len(), 18);
    for path in granules {
        let name = path.rsplit('/').next().unwrap();
        let ids = catalog
            .podaac()
            .unwrap()
            .ids(name, "https://example.invalid/")
            .unwrap();
        assert!(ids.id.starts_with("10.5067/EDPD"), "{name}: {}", ids.id);
    }
}

#[test]
fn configuration_and_job_file_are_accepted() {
    let (_dir, layout) = small();
    let config = ProductionConfig::from_yaml_file(&layout.config_file).unwrap();
    assert_eq!(config.grid_label(ProductType::Native), "llc0006");
    assert_eq!(config.grid_label(ProductType::Latlon), "10p00deg");
    assert_eq!(config.num_vertical_levels, 4);
    // The V4r4 clock's start and step; the run ends with the demo's last record.
    let v4r4 = edp_conventions::ModelClock::v4r4();
    let spec = DemoSpec::small();
    let last = spec
        .monthly_steps
        .iter()
        .chain(&spec.daily_steps)
        .max()
        .copied()
        .unwrap();
    assert_eq!(
        (config.clock.start(), config.clock.step()),
        (v4r4.start(), v4r4.step())
    );
    assert_eq!(config.clock.end(), v4r4.step_to_datetime(last).unwrap());
    assert!(config.clock.end() < v4r4.end());

    let text = std::fs::read_to_string(&layout.jobfile).unwrap();
    let parsed =
        edp_plan::jobfile::parse_job_file("demo_jobs.txt", &text, &Default::default()).unwrap();
    let counts = edp_plan::jobfile::GroupingCounts {
        native: 3,
        latlon: 3,
    };
    let jobs = edp_plan::jobfile::validate("demo_jobs.txt", &parsed.jobs, &counts).unwrap();
    // Native monthly x 3 groupings + native daily SSH; no lat-lon jobs by default.
    assert_eq!(jobs.len(), 4);
    assert_eq!(layout.jobs.len(), 4);
    assert!(
        jobs.iter()
            .all(|j| j.product_type == edp_task_schemas::ProductType::Native)
    );
    assert!(text.contains("# [0,'latlon','AVG_MON','all']"));

    let with_latlon = DemoSpec {
        latlon_jobs: true,
        ..DemoSpec::small()
    };
    let dir = tempfile::tempdir().unwrap();
    let layout = generate(dir.path(), &with_latlon).unwrap();
    let text = std::fs::read_to_string(&layout.jobfile).unwrap();
    let parsed = edp_plan::jobfile::parse_job_file("jobs", &text, &Default::default()).unwrap();
    assert_eq!(parsed.jobs.len(), 7);
}

#[test]
fn grid_directory_reloads_as_the_synthetic_grid() {
    let (_dir, layout) = small();
    let grid = Grid::from_mds_dir(&layout.grid_dir).unwrap();
    let synthetic = Grid::synthetic(&edp_grid::SyntheticSpec {
        n: 6,
        nz: 4,
        land: edp_grid::SyntheticLand::Analytic,
    })
    .unwrap();
    assert_eq!((grid.n, grid.nz), (6, 4));
    assert_eq!(grid.wet_columns(), synthetic.wet_columns());
    assert!(grid.wet_columns() > 0 && grid.wet_columns() < grid.cells());
    assert_eq!(grid.mask_c, synthetic.mask_c);
}

/// Reads one input of the layout in tile order.
fn read(layout: &edp_demo_data::DemoLayout, var: &str, freq: Frequency, step: u64) -> Vec<f32> {
    let input = layout.input(var, freq, step).unwrap();
    let file = MdsFile::open(&input.meta, ByteOrder::Big).unwrap();
    assert_eq!(file.meta.time_step, Some(step));
    assert_eq!(file.meta.fields, [var]);
    file.read_tiles::<f32>(&FieldSelector::Record(0))
        .unwrap()
        .data
}

#[test]
fn inputs_hold_zero_on_land_and_smooth_values_at_sea() {
    let (_dir, layout) = small();
    let grid = Grid::from_mds_dir(&layout.grid_dir).unwrap();
    let cells = grid.cells();
    for (var, mask, levels) in [
        ("SSH", &grid.mask_c, 1),
        ("THETA", &grid.mask_c, 4),
        ("UVEL", &grid.mask_w, 4),
        ("VVEL", &grid.mask_s, 4),
    ] {
        let values = read(&layout, var, Frequency::AvgMon, 732);
        assert_eq!(values.len(), levels * cells, "{var}");
        for (i, v) in values.iter().enumerate() {
            if !mask[i] {
                assert_eq!(*v, 0.0, "{var} at dry point {i}");
            }
        }
        let wet_nonzero = values
            .iter()
            .zip(mask.iter())
            .filter(|(v, m)| **m && **v != 0.0)
            .count();
        assert!(wet_nonzero > 0, "{var} has values at sea");
    }
    // Surface potential temperature stays in a physical range.
    let theta = read(&layout, "THETA", Frequency::AvgMon, 1428);
    for (v, wet) in theta[..cells].iter().zip(grid.surface_mask()) {
        if *wet {
            assert!((1.0..=29.0).contains(v), "THETA {v}");
        }
    }
    // The sea-level variables are consistent: SSHNOIBC = SSH + SSHIBC.
    for step in [732, 1428] {
        let ssh = read(&layout, "SSH", Frequency::AvgMon, step);
        let ibc = read(&layout, "SSHIBC", Frequency::AvgMon, step);
        let noibc = read(&layout, "SSHNOIBC", Frequency::AvgMon, step);
        for i in 0..cells {
            assert!((noibc[i] - (ssh[i] + ibc[i])).abs() < 1e-6);
        }
    }
    // Daily inputs exist for the SSH grouping only.
    assert!(layout.input("SSH", Frequency::AvgDay, 12).is_some());
    assert!(layout.input("THETA", Frequency::AvgDay, 12).is_none());
}

#[test]
fn velocities_rotate_back_to_the_documented_geographic_flow() {
    let (_dir, layout) = small();
    let grid = Grid::from_mds_dir(&layout.grid_dir).unwrap();
    let (u, v) = (
        read(&layout, "UVEL", Frequency::AvgMon, 732),
        read(&layout, "VVEL", Frequency::AvgMon, 732),
    );
    let phase = 2.0 * std::f64::consts::PI * 732.0 / 8766.0;
    let mut checked = 0;
    for c in 0..grid.cells() {
        if !(grid.mask_w[c] && grid.mask_s[c]) {
            continue;
        }
        // east = u CS - v SN, north = u SN + v CS (docs/regridding.md 1).
        let (uc, vc) = (f64::from(u[c]), f64::from(v[c]));
        let east = uc * grid.cs[c] - vc * grid.sn[c];
        let north = uc * grid.sn[c] + vc * grid.cs[c];
        let decay = (grid.rc[0] / 1000.0).exp();
        let lat = grid.yc[c].to_radians();
        let lon = grid.xc[c].to_radians();
        let want_east = 0.3 * lat.cos() * decay * (1.0 + 0.2 * phase.sin());
        let want_north = 0.1 * (2.0 * lon).sin() * lat.cos() * decay;
        assert!(
            (east - want_east).abs() < 1e-5,
            "cell {c}: east {east} vs {want_east}"
        );
        assert!((north - want_north).abs() < 1e-5, "cell {c}: north {north}");
        checked += 1;
    }
    assert!(checked > 100, "checked {checked} cells");
}

#[test]
fn expected_granules_follow_the_naming_rules() {
    let (_dir, layout) = small();
    let granules = layout.expected_granules("/out").unwrap();
    // Native: SSH monthly (2) + daily (1), TS monthly (2), velocity monthly (2).
    assert_eq!(granules.len(), 7);
    assert_eq!(
        granules[0],
        "/out/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/\
         SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0006.nc"
    );
    assert!(
        granules.contains(
            &"/out/V4r4/native/day_mean/SEA_SURFACE_HEIGHT/\
          SEA_SURFACE_HEIGHT_day_mean_1992-01-01_ECCO_V4r4_native_llc0006.nc"
                .to_string()
        )
    );
    assert!(
        granules.contains(
            &"/out/V4r4/native/mon_mean/OCEAN_VELOCITY/\
          OCEAN_VELOCITY_mon_mean_1992-02_ECCO_V4r4_native_llc0006.nc"
                .to_string()
        )
    );
}

#[test]
fn invalid_specs_are_rejected_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("never");
    for (spec, needle) in [
        (
            DemoSpec {
                monthly_steps: vec![733],
                ..DemoSpec::small()
            },
            "733",
        ),
        (
            DemoSpec {
                daily_steps: vec![13],
                ..DemoSpec::small()
            },
            "13",
        ),
        (
            DemoSpec {
                nz: 60,
                ..DemoSpec::small()
            },
            "nz",
        ),
    ] {
        let err = generate(&target, &spec).unwrap_err();
        assert!(matches!(err, DemoError::InvalidSpec { .. }), "{err}");
        assert!(err.to_string().contains(needle), "{err}");
    }
    assert!(!target.exists());
}

#[test]
fn an_existing_demo_folder_of_the_same_spec_is_reused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let spec = DemoSpec::small();
    let (first, reused) = edp_demo_data::generate_or_reuse(dir.path(), &spec).unwrap();
    assert!(!reused);
    let data = &first.inputs[0].data;
    let written = std::fs::metadata(data).unwrap().modified().unwrap();

    let latlon = DemoSpec {
        latlon_jobs: true,
        ..spec.clone()
    };
    let (second, reused) = edp_demo_data::generate_or_reuse(dir.path(), &latlon).unwrap();
    assert!(reused);
    assert_eq!(second.inputs, first.inputs);
    assert_eq!(
        std::fs::metadata(data).unwrap().modified().unwrap(),
        written
    );
    // Only the job file follows the new choice.
    let text = std::fs::read_to_string(&second.jobfile).unwrap();
    assert!(text.contains("\n[0,'latlon','AVG_MON','all']"), "{text}");

    // Other data, or a missing input, means generating again.
    std::fs::remove_file(data).unwrap();
    let (_, reused) = edp_demo_data::generate_or_reuse(dir.path(), &spec).unwrap();
    assert!(!reused);
    assert!(data.is_file());
    let other = DemoSpec {
        monthly_steps: vec![732],
        ..spec
    };
    let (third, reused) = edp_demo_data::generate_or_reuse(dir.path(), &other).unwrap();
    assert!(!reused);
    assert_eq!(third.inputs.len(), 9 + 4);
}
