//! Coverage of the released datasets: for V4r4 and V4r5, every native and lat-lon grouping of
//! the published metadata (as published, known defects repaired by the catalog's rules) at
//! every frequency it is produced at, from inputs generated for each diagnostic at the location
//! the release's own `available_diagnostics.log` gives, on a small synthetic LLC grid (the same
//! code path as LLC90: catalog, local input search, request, writer). Each granule must open
//! with its grouping's variables and the dimensions of their locations, and match one row of
//! the release's PO.DAAC table; so must the GRID_GEOMETRY and mixing-coefficient granules,
//! native and lat-lon (from synthetic parameter fields), and the 1-D granules (from synthetic
//! series files in ECCO's scalar time-series layout). Prints `coverage V4r4: P/79, V4r5: Q/N` (PO.DAAC datasets with
//! a granule / all PO.DAAC datasets).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edp_conventions::catalog::OutputVariable;
use edp_conventions::staggering::{Horizontal, Vertical};
use edp_conventions::{Catalog, Frequency, LoadOptions, ProductType, ProductionConfig};
use edp_granule::{GranuleRequest, LocalFiles, Resources, local, produce_granule};
use edp_grid::{Grid, SyntheticLand, SyntheticSpec};
use edp_regrid::SourceGrid;

use crate::native::support::open_nc;

/// Tile size and levels of the synthetic grid: small, so that ~170 granules take seconds.
const N: usize = 6;
const NZ: usize = 4;
/// Lat-lon resolution of the synthetic run (degrees); the file names keep the release label.
const RESOLUTION: f64 = 15.0;

/// One release: its metadata directory and configuration.
struct Release {
    name: &'static str,
    metadata: PathBuf,
    config: ProductionConfig,
}

/// What a release's run produced.
struct Outcome {
    /// `DATASET.FILENAME` of each PO.DAAC row with a granule.
    produced: BTreeSet<String>,
    /// Every PO.DAAC row.
    rows: Vec<String>,
    /// Groupings or granules that failed, with the reason.
    failures: Vec<String>,
}

/// The dimensions of a native variable at its input location, from `ecco-format.md` 5
/// (written out here, independently of the writer).
fn native_dims(v: &OutputVariable) -> Vec<&'static str> {
    let location = v.inputs[0].location;
    let mut dims = vec!["time"];
    match location.vertical {
        Vertical::Surface => {}
        Vertical::K => dims.push("k"),
        Vertical::KL => dims.push("k_l"),
        Vertical::KU => dims.push("k_u"),
    }
    dims.push("tile");
    dims.extend(match location.horizontal {
        Horizontal::Centre => ["j", "i"],
        Horizontal::UFace => ["j", "i_g"],
        Horizontal::VFace => ["j_g", "i"],
        Horizontal::Corner => ["j_g", "i_g"],
    });
    dims
}

/// The dimensions of a lat-lon variable: `(time, [Z,] latitude, longitude)`.
fn latlon_dims(v: &OutputVariable) -> Vec<&'static str> {
    let mut dims = vec!["time"];
    if v.inputs[0].location.is_3d() {
        dims.push("Z");
    }
    dims.extend(["latitude", "longitude"]);
    dims
}

/// The first record of a frequency: day 1 ends 12 h after the 12:00 start, month 1 at 732 h.
fn first_step(frequency: Frequency) -> u64 {
    match frequency {
        Frequency::AvgMon => 732,
        Frequency::AvgDay | Frequency::Snap => 12,
        Frequency::TimeInvariant => 0,
    }
}

fn run(release: &Release, work: &Path) -> Outcome {
    let mut config = release.config.clone();
    config.latlon_grid_resolution = RESOLUTION;
    config.num_vertical_levels = NZ as u32;
    let catalog = Catalog::load(
        &release.metadata,
        &LoadOptions {
            podaac_filename: config.podaac_metadata_filename.clone(),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    let mut grid = Grid::synthetic(&SyntheticSpec {
        n: N,
        nz: NZ,
        land: SyntheticLand::Analytic,
    })
    .unwrap();
    // A release whose geometry has ice shelves (V4r5) gets a grid with one, as ECCO's
    // grid-geometry file would give it: 10 m of ice over the wet cells of tile 0.
    let shelves = catalog
        .geometry_metadata(ProductType::Native)
        .unwrap()
        .find("ice_shelf_draft")
        .is_some();
    if shelves {
        let draft = (0..grid.cells())
            .map(|c| {
                if c < N * N && grid.depth[c] > 0.0 {
                    10.0
                } else {
                    0.0
                }
            })
            .collect();
        grid.ice_shelf_draft = Some(draft);
    }
    let source = SourceGrid::from_grid(&grid).unwrap();
    let (weights, _) = edp_granule::weights::locate_or_build(
        &source,
        &edp_granule::weights::latlon_spec(&config),
        None,
        &work.join("weights"),
    )
    .unwrap();
    let inputs_root = work.join("inputs");
    let out_root = work.join("out");
    let mut written: BTreeMap<(String, Frequency), ()> = BTreeMap::new();
    let rows: Vec<String> = catalog
        .podaac()
        .unwrap()
        .rows
        .iter()
        .map(|r| r.filename.clone())
        .collect();
    let resources = Resources::new(Arc::new(grid), Arc::new(catalog), Arc::new(config))
        .with_weights(Arc::new(weights));
    let (catalog, config, grid) = (&resources.catalog, &resources.config, &resources.grid);
    let mut outcome = Outcome {
        produced: BTreeSet::new(),
        rows,
        failures: Vec::new(),
    };
    for product in [ProductType::Native, ProductType::Latlon] {
        for g in catalog.groupings(product).unwrap() {
            let dataset = match catalog.dataset(product, g.id as i64) {
                Ok(d) => d,
                Err(e) => {
                    outcome.failures.push(format!("{product} {}: {e}", g.id));
                    continue;
                }
            };
            // Time-invariant groupings: `check_time_invariant`, from parameter fields.
            let frequencies = dataset.frequencies.iter().map(|f| f.job_frequency());
            for frequency in frequencies.filter(|f| !f.is_time_invariant()) {
                let step = first_step(frequency);
                for variable in &dataset.variables {
                    for input in &variable.inputs {
                        if written
                            .insert((input.name.clone(), frequency), ())
                            .is_none()
                        {
                            edp_demo_data::write_diagnostic_input(
                                &inputs_root,
                                grid,
                                &config.clock,
                                &input.name,
                                input.location,
                                frequency,
                                step,
                                config.snap_instants,
                            )
                            .unwrap();
                        }
                    }
                }
                let what = format!("{product} {} ({}) {frequency}", g.id, dataset.filename);
                let found = local::find_inputs(
                    &inputs_root,
                    &dataset,
                    frequency,
                    step,
                    config.snap_instants,
                );
                assert!(found.missing.is_empty(), "{what}: {:?}", found.missing);
                let request = match GranuleRequest::new(
                    catalog,
                    config,
                    product,
                    g.id,
                    frequency,
                    step,
                    found.variables,
                ) {
                    Ok(r) => r,
                    Err(e) => {
                        outcome.failures.push(format!("{what}: {e}"));
                        continue;
                    }
                };
                let path = out_root.join(&request.granule_name);
                if let Err(e) = produce_granule(&request, &resources, &LocalFiles::new(), &path) {
                    outcome.failures.push(format!("{what}: {e}"));
                    continue;
                }
                let file = open_nc(&path);
                for v in &dataset.variables {
                    let expected = match product {
                        ProductType::Native => native_dims(v),
                        ProductType::Latlon => latlon_dims(v),
                    };
                    let var = file.variable(&v.output_name);
                    let dims: Option<Vec<String>> =
                        var.map(|x| x.dimensions().iter().map(|d| d.name()).collect());
                    assert_eq!(
                        dims,
                        Some(expected.iter().map(|s| s.to_string()).collect()),
                        "{what}: variable {}",
                        v.output_name
                    );
                }
                let row = catalog
                    .podaac()
                    .unwrap()
                    .lookup(&request.granule_name)
                    .unwrap();
                assert!(
                    outcome.produced.insert(row.filename.clone()),
                    "{what}: PO.DAAC row {} produced twice",
                    row.filename
                );
            }
        }
    }
    check_native_geometry(&resources, &out_root, &mut outcome);
    check_time_invariant(&resources, &work.join("params"), &out_root, &mut outcome);
    check_one_d(&resources, &work.join("series"), &out_root, &mut outcome);
    outcome
}

/// Writes the parameter fields of the time-invariant groupings: a positive coefficient per
/// level and field, the same on every cell of a level, so that the regridded values are known.
fn write_params(resources: &Resources, params: &Path) -> Vec<(String, Vec<f32>)> {
    let grid = &resources.grid;
    std::fs::create_dir_all(params).unwrap();
    let mut written: Vec<(String, Vec<f32>)> = Vec::new();
    for product in [ProductType::Native, ProductType::Latlon] {
        for dataset in edp_granule::mixing::time_invariant_groupings(resources, product).unwrap() {
            for v in &dataset.variables {
                if written.iter().any(|(n, _)| *n == v.output_name) {
                    continue;
                }
                let k = written.len();
                let per_level: Vec<f32> = (0..grid.nz).map(|l| (k * 100 + l + 1) as f32).collect();
                let tiles: Vec<f32> = per_level
                    .iter()
                    .flat_map(|x| std::iter::repeat_n(*x, grid.cells()))
                    .collect();
                let mut meta = edp_mds::Meta::new_llc(
                    v.output_name.clone(),
                    grid.n,
                    grid.nz,
                    edp_mds::Precision::F32,
                    1,
                );
                meta.fields = vec![v.output_name.clone()];
                edp_mds::write_mds(
                    params.join(&v.output_name),
                    &meta,
                    &grid.llc().tiles_to_compact(&tiles).unwrap(),
                    edp_mds::ByteOrder::Big,
                )
                .unwrap();
                written.push((v.output_name.clone(), per_level));
            }
        }
    }
    written
}

/// Writes every time-invariant grouping (mixing coefficients), native and lat-lon, from
/// synthetic parameter fields, and the lat-lon GRID_GEOMETRY; checks the values: the
/// per-level constant on wet cells (native) or wet targets (lat-lon: a bin average of equal
/// values), fill elsewhere; one PO.DAAC row each.
fn check_time_invariant(resources: &Resources, params: &Path, out: &Path, outcome: &mut Outcome) {
    let grid = &resources.grid;
    let per_level = write_params(resources, params);
    let level_value =
        |name: &str, level: usize| per_level.iter().find(|(n, _)| n == name).unwrap().1[level];
    for product in [ProductType::Native, ProductType::Latlon] {
        let datasets = edp_granule::mixing::time_invariant_groupings(resources, product).unwrap();
        assert!(!datasets.is_empty(), "no time-invariant {product} grouping");
        for dataset in datasets {
            let written = edp_granule::write_from_parameters(resources, &dataset, params, out)
                .map(|r| (r.path, r.granule_name));
            let (path, name) = match written {
                Ok(w) => w,
                Err(e) => {
                    outcome
                        .failures
                        .push(format!("{product} TI {}: {e}", dataset.grouping_id));
                    continue;
                }
            };
            let file = open_nc(&path);
            let weights = resources.weights.as_ref().unwrap();
            for v in &dataset.variables {
                let var = file.variable(&v.output_name).unwrap();
                let dims: Vec<String> = var.dimensions().iter().map(|d| d.name()).collect();
                let values: Vec<f32> = var.get_values(..).unwrap();
                match product {
                    ProductType::Native => {
                        assert_eq!(dims, ["k", "tile", "j", "i"], "{}", v.output_name);
                        for (c, value) in values.iter().enumerate() {
                            let expected = if grid.mask_c[c] {
                                level_value(&v.output_name, c / grid.cells())
                            } else {
                                edp_granule::FILL_F32
                            };
                            assert_eq!(*value, expected, "{} at {c}", v.output_name);
                        }
                    }
                    ProductType::Latlon => {
                        assert_eq!(dims, ["Z", "latitude", "longitude"], "{}", v.output_name);
                        let nb = weights.n_target();
                        for (p, value) in values.iter().enumerate() {
                            let wet = weights.target_wet_mask(p / nb).unwrap()[p % nb];
                            if wet {
                                let expected = level_value(&v.output_name, p / nb);
                                assert!(
                                    (value - expected).abs() <= 1e-5 * expected,
                                    "{} at {p}",
                                    v.output_name
                                );
                            } else {
                                assert_eq!(
                                    *value,
                                    edp_granule::FILL_F32,
                                    "{} at {p}",
                                    v.output_name
                                );
                            }
                        }
                    }
                }
            }
            let row = catalog_row(resources, &name);
            assert!(outcome.produced.insert(row), "{name}");
        }
    }
    match edp_granule::latlon_invariant::write_latlon_geometry(resources, out) {
        Ok(report) => {
            let file = open_nc(&report.path);
            let geometry = resources
                .catalog
                .geometry_metadata(ProductType::Latlon)
                .unwrap();
            for entry in &geometry.entries {
                assert!(
                    file.variable(&entry.name).is_some(),
                    "lat-lon geometry lacks {}",
                    entry.name
                );
            }
            // The cell areas add up to the sphere.
            let area: Vec<f32> = file.variable("area").unwrap().get_values(..).unwrap();
            let total: f64 = area.iter().map(|a| f64::from(*a)).sum();
            let sphere = 4.0 * std::f64::consts::PI * 6_371_000.0f64.powi(2);
            assert!((total / sphere - 1.0).abs() < 1e-5, "{total} vs {sphere}");
            let row = catalog_row(resources, &report.granule_name);
            assert!(outcome.produced.insert(row));
        }
        Err(e) => outcome.failures.push(format!("lat-lon GRID_GEOMETRY: {e}")),
    }
}

/// The PO.DAAC `DATASET.FILENAME` matching a granule name.
fn catalog_row(resources: &Resources, granule: &str) -> String {
    resources
        .catalog
        .podaac()
        .unwrap()
        .lookup(granule)
        .unwrap()
        .filename
        .clone()
}

/// Writes a synthetic series file of ECCO's scalar time-series layout: `time` in hours since
/// the start and one smooth series per field.
fn write_series(path: &Path, fields: &[String], records: usize) {
    let mut file = netcdf::create(path).unwrap();
    file.add_dimension("time", records).unwrap();
    let mut time = file.add_variable::<f64>("time", &["time"]).unwrap();
    time.put_attribute("units", "hours since 1992-01-01 12:00:00")
        .unwrap();
    let hours: Vec<f64> = (0..records).map(|t| t as f64).collect();
    time.put_values(&hours, ..).unwrap();
    for (k, field) in fields.iter().enumerate() {
        let mut var = file.add_variable::<f64>(field, &["time"]).unwrap();
        let values: Vec<f64> = (0..records)
            .map(|t| (k as f64 + 1.0) * (t as f64 / 5.0).sin())
            .collect();
        var.put_values(&values, ..).unwrap();
    }
}

/// Writes every 1-D dataset at each of its frequencies from synthetic series and checks the
/// granules: every field over `time`, and one PO.DAAC row each.
fn check_one_d(resources: &Resources, series: &Path, out: &Path, outcome: &mut Outcome) {
    let catalog = &resources.catalog;
    let Ok(groupings) = catalog.groupings_1d() else {
        outcome.failures.push("no 1D groupings file".into());
        return;
    };
    std::fs::create_dir_all(series).unwrap();
    const RECORDS: usize = 30;
    for g in groupings {
        let dataset = catalog.dataset_1d(g.id).unwrap();
        assert!(
            !dataset.frequencies.is_empty(),
            "1D {} has no frequency",
            g.id
        );
        for &frequency in &dataset.frequencies {
            let input = series.join(edp_granule::one_d::input_file_name(
                &dataset.filename,
                frequency,
            ));
            write_series(&input, &dataset.fields, RECORDS);
            let report = match edp_granule::write_one_d(
                catalog,
                &resources.config,
                &dataset,
                frequency,
                series,
                out,
            ) {
                Ok(r) => r,
                Err(e) => {
                    outcome
                        .failures
                        .push(format!("1D {} {frequency}: {e}", g.id));
                    continue;
                }
            };
            let file = open_nc(&report.path);
            for field in &dataset.fields {
                let dims: Vec<String> = file
                    .variable(field)
                    .unwrap_or_else(|| panic!("{} lacks {field}", report.granule_name))
                    .dimensions()
                    .iter()
                    .map(|d| d.name())
                    .collect();
                assert_eq!(dims, ["time"], "{field}");
            }
            assert_eq!(file.dimension_len("time"), Some(RECORDS));
            let row = catalog
                .podaac()
                .unwrap()
                .lookup(&report.granule_name)
                .unwrap();
            assert!(
                outcome.produced.insert(row.filename.clone()),
                "{}",
                row.filename
            );
        }
    }
}

/// Writes the native GRID_GEOMETRY granule and checks it against the release's geometry
/// metadata and PO.DAAC table, and the grid.
fn check_native_geometry(resources: &Resources, out: &Path, outcome: &mut Outcome) {
    let report = match edp_granule::write_native_geometry(resources, out) {
        Ok(r) => r,
        Err(e) => {
            outcome.failures.push(format!("native GRID_GEOMETRY: {e}"));
            return;
        }
    };
    let catalog = &resources.catalog;
    let file = open_nc(&report.path);
    let geometry = catalog.geometry_metadata(ProductType::Native).unwrap();
    for entry in &geometry.entries {
        let var = file
            .variable(&entry.name)
            .unwrap_or_else(|| panic!("GRID_GEOMETRY lacks {}", entry.name));
        let long_name = var
            .attributes()
            .find(|a| a.name() == "long_name")
            .map(|a| a.value().unwrap());
        assert_eq!(
            long_name,
            entry
                .get_str("long_name")
                .map(|s| netcdf::AttributeValue::Str(s.to_string())),
            "{}",
            entry.name
        );
    }
    // V4r5: the ocean column thickness is MITgcm's `Depth`; the seafloor `Depth` lies the
    // ice-shelf draft below it.
    if let Some(draft) = &resources.grid.ice_shelf_draft {
        let f32s = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<f32>>();
        let read =
            |name: &str| -> Vec<f32> { file.variable(name).unwrap().get_values(..).unwrap() };
        let depth = &resources.grid.depth;
        assert_eq!(read("ocean_column_thickness"), f32s(depth));
        assert_eq!(read("ice_shelf_draft"), f32s(draft));
        let seafloor: Vec<f64> = depth.iter().zip(draft).map(|(d, s)| d + s).collect();
        assert_eq!(read("Depth"), f32s(&seafloor));
        assert!(draft.iter().any(|d| *d > 0.0));
    }
    // The cell bounds are the grid's corners (float32).
    let xb: Vec<f32> = file.variable("XC_bnds").unwrap().get_values(..).unwrap();
    let expected: Vec<f32> = resources.grid.xc_bnds().iter().map(|v| *v as f32).collect();
    assert_eq!(xb, expected);
    let row = catalog
        .podaac()
        .unwrap()
        .lookup(&report.granule_name)
        .unwrap();
    let id = file
        .attributes()
        .find(|a| a.name() == "id")
        .map(|a| a.value().unwrap());
    assert_eq!(
        id,
        Some(netcdf::AttributeValue::Str(
            row.persistent_id.replacen("PODAAC-", "10.5067/", 1)
        ))
    );
    assert!(outcome.produced.insert(row.filename.clone()));
}

/// Every PO.DAAC row: each dataset of the release must have its granule.
fn produced_rows(rows: &[String]) -> BTreeSet<String> {
    rows.iter().cloned().collect()
}

#[test]
fn every_podaac_dataset_of_v4r4_and_v4r5_is_produced() {
    let Some(data) = edp_testkit::shared_data() else {
        return;
    };
    let v4r5 = data.join("ecco-v4r5-metadata");
    let releases = [
        Release {
            name: "V4r4",
            metadata: data.join("ecco-v4r4-metadata"),
            config: ProductionConfig::v4r4(),
        },
        Release {
            name: "V4r5",
            config: ProductionConfig::from_yaml_file(v4r5.join("product_generation_config.yaml"))
                .unwrap(),
            metadata: v4r5,
        },
    ];
    let mut figures = Vec::new();
    for release in &releases {
        let work = tempfile::tempdir().unwrap();
        let outcome = run(release, work.path());
        assert!(
            outcome.failures.is_empty(),
            "{}: {} failure(s):\n{}",
            release.name,
            outcome.failures.len(),
            outcome.failures.join("\n")
        );
        assert_eq!(
            outcome.produced,
            produced_rows(&outcome.rows),
            "{}: datasets produced vs time-variable rows of the PO.DAAC table",
            release.name
        );
        figures.push(format!(
            "{}: {}/{}",
            release.name,
            outcome.produced.len(),
            outcome.rows.len()
        ));
    }
    println!("coverage {}", figures.join(", "));
}
