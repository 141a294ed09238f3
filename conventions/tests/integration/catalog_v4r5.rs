//! The catalog on the real V4r5 metadata directory (renamed files, one invalid JSON file).

use edp_conventions::catalog::{
    CatalogError, GlobalScope, GroupingFrequency, RepairKind, StaggeringSource,
};
use edp_conventions::staggering::{Horizontal, Staggering, Vertical};
use edp_conventions::{Catalog, Dimension, LoadOptions, ProductType};

use super::v4r5_dir;

const INVALID: &str = "global_metadata_for_all_datasets.json";

/// Options that treat every defect as an error (no repair rule).
fn strict() -> LoadOptions {
    LoadOptions {
        repair: false,
        ..LoadOptions::default()
    }
}

#[test]
fn without_repairs_the_invalid_global_metadata_file_is_an_error_naming_file_and_line() {
    let Some(dir) = v4r5_dir() else { return };
    let err = Catalog::load(&dir, &strict()).unwrap_err();
    let msg = err.to_string();
    match err {
        CatalogError::InvalidJson { ref path, line, .. } => {
            assert_eq!(path.file_name().unwrap(), INVALID);
            // Missing commas after the objects ending at lines 148 and 153.
            assert!((148..=154).contains(&line), "line {line}");
        }
        other => panic!("expected InvalidJson, got {other}"),
    }
    assert!(msg.contains(INVALID) && msg.contains("line 1"), "{msg}");
}

#[test]
fn skip_invalid_loads_the_rest_and_reports_the_file() {
    let Some(dir) = v4r5_dir() else { return };
    let options = LoadOptions {
        skip_invalid: true,
        ..strict()
    };
    let c = Catalog::load(&dir, &options).unwrap();
    assert_eq!(c.skipped().len(), 1);
    let skipped = &c.skipped()[0];
    assert_eq!(skipped.path.file_name().unwrap(), INVALID);
    assert!(matches!(skipped.error, CatalogError::InvalidJson { .. }));
    let err = c.global_metadata(GlobalScope::All).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, CatalogError::Unavailable { .. }) && msg.contains(INVALID),
        "{msg}"
    );
    // The rest is there, including the renamed spatial coordinate files.
    assert_eq!(c.global_metadata(GlobalScope::Native).unwrap().len(), 3);
    assert_eq!(c.groupings(ProductType::Native).unwrap().len(), 29);
    assert_eq!(c.groupings(ProductType::Latlon).unwrap().len(), 14);
    let coords = c.coordinate_metadata(ProductType::Native).unwrap();
    assert_eq!(
        coords.path.file_name().unwrap(),
        "spatial_coordinate_metadata_for_native_datasets.json"
    );
    assert!(coords.find("XC").is_some());
    assert!(c.time_coordinate_metadata().unwrap().find("time").is_some());
    // V4r5 has no 1D coordinate file: optional.
    assert!(c.coordinate_metadata_1d().is_err());
    assert_eq!(c.podaac().unwrap().rows.len(), 79);
}

#[test]
fn v4r5_groupings_resolve_with_the_v4r5_log() {
    let Some(dir) = v4r5_dir() else { return };
    let options = LoadOptions {
        skip_invalid: true,
        ..strict()
    };
    let c = Catalog::load(&dir, &options).unwrap();
    let d = c.dataset(ProductType::Native, 11).unwrap();
    assert_eq!(d.output_names(), ["UVEL", "VVEL", "WVEL"]);
    // TIME-INVARIANT mixing coefficients: built-in locations.
    let d = c.dataset(ProductType::Native, 13).unwrap();
    assert_eq!(d.frequencies, [GroupingFrequency::TimeInvariant]);
    assert!(
        d.variables
            .iter()
            .all(|v| v.inputs[0].source == StaggeringSource::BuiltinTable)
    );
    // V4r5-only diagnostics come from the V4r5 log: TOTUTEND is `UUR MR`, ICFfwFlx `SM MR`.
    let d = c.dataset(ProductType::Native, 20).unwrap();
    assert!(d.frequencies.is_empty());
    let tend = &d.variable("TOTUTEND").unwrap().inputs[0];
    assert_eq!(
        tend.location,
        Staggering::new(Horizontal::UFace, Vertical::K)
    );
    assert_eq!(tend.source, StaggeringSource::DiagnosticsLog);
    let d = c.dataset(ProductType::Native, 27).unwrap();
    assert_eq!(d.dimension, Dimension::ThreeD);
    assert_eq!(
        d.variable("ICFfwFlx").unwrap().inputs[0].location,
        Staggering::new(Horizontal::Centre, Vertical::K)
    );
    // Lat-lon vector groupings.
    let d = c.dataset(ProductType::Latlon, 4).unwrap();
    assert_eq!(
        d.output_names(),
        [
            "EXFatemp", "EXFaqh", "EXFpress", "EXFewind", "EXFnwind", "EXFwspee"
        ]
    );
}

/// The V4r5 PO.DAAC table (`podaac_metadata_filename` of the V4r5 configuration files).
const V4R5_TABLE: &str = "PODAAC_dataset_table_V4r5_20230103.csv";

/// The V4r5 catalog with the default options (known defects repaired) and the V4r5 table.
fn repaired() -> Option<Catalog> {
    let options = LoadOptions {
        podaac_filename: V4R5_TABLE.to_string(),
        ..LoadOptions::default()
    };
    v4r5_dir().map(|dir| Catalog::load(dir, &options).unwrap())
}

#[test]
fn the_missing_commas_are_repaired_and_reported_once() {
    let Some(c) = repaired() else { return };
    assert!(c.skipped().is_empty());
    let commas: Vec<_> = c
        .repairs()
        .iter()
        .filter(|r| r.kind == RepairKind::MissingComma)
        .collect();
    assert_eq!(commas.len(), 1, "{commas:?}");
    assert_eq!(commas[0].path.file_name().unwrap(), INVALID);
    // The objects ending at lines 148 and 153 (see the file) lacked their comma.
    assert!(commas[0].detail.contains("148, 153"), "{}", commas[0]);
    // Every object of the file is loaded: as many entries as `"name"` keys in the raw text.
    let raw = std::fs::read_to_string(v4r5_dir().unwrap().join(INVALID)).unwrap();
    let globals = c.global_metadata(GlobalScope::All).unwrap();
    assert_eq!(globals.len(), raw.matches("\"name\"").count());
    let doi = globals
        .iter()
        .find(|g| g.name == "identifier_product_doi_authority")
        .unwrap();
    assert_eq!(doi.value.as_str(), Some("org.doi"));
    // The DOI placeholder is reported once, at load.
    let placeholders: Vec<_> = c
        .repairs()
        .iter()
        .filter(|r| r.kind == RepairKind::PlaceholderFromPodaac)
        .collect();
    assert_eq!(placeholders.len(), 1, "{placeholders:?}");
    assert!(placeholders[0].detail.contains("TBD_DOI"));
}

#[test]
fn groupings_take_names_and_frequencies_from_the_podaac_table() {
    let Some(c) = repaired() else { return };
    use GroupingFrequency::{AvgDay, AvgMon};
    // File-name mismatch: the table names the dataset OCEAN_VOLUME_FLUX.
    let d = c.dataset(ProductType::Native, 16).unwrap();
    assert_eq!(d.filename, "OCEAN_VOLUME_FLUX");
    assert_eq!(d.frequencies, [AvgDay, AvgMon]);
    assert_eq!(d.repairs.len(), 1);
    assert_eq!(d.repairs[0].kind, RepairKind::FilenameFromPodaac);
    // No frequency and a file-name mismatch: both from the table.
    let d = c.dataset(ProductType::Native, 20).unwrap();
    assert_eq!(d.filename, "OCEAN_MOMENTUM_TEND_X");
    assert_eq!(d.frequencies, [AvgDay, AvgMon]);
    let kinds: Vec<RepairKind> = d.repairs.iter().map(|r| r.kind).collect();
    assert!(kinds.contains(&RepairKind::FilenameFromPodaac));
    assert!(kinds.contains(&RepairKind::FrequenciesFromPodaac));
    // ICE_SHELF_FLUX: no frequency, name as in the table.
    let d = c.dataset(ProductType::Native, 26).unwrap();
    assert_eq!(d.filename, "ICE_SHELF_FLUX");
    assert_eq!(d.frequencies, [AvgDay, AvgMon]);
    // The lat-lon mixing coefficients: OCEAN_3D_MIXING_COEFFS is OCEAN_MIXING_COEFFS.
    let d = c.dataset(ProductType::Latlon, 13).unwrap();
    assert_eq!(d.filename, "OCEAN_MIXING_COEFFS");
    assert_eq!(d.frequencies, [GroupingFrequency::TimeInvariant]);
    // A consistent grouping is not touched.
    let d = c.dataset(ProductType::Native, 0).unwrap();
    assert_eq!(d.filename, "SEA_SURFACE_HEIGHT");
    assert!(d.repairs.is_empty(), "{:?}", d.repairs);
}

#[test]
fn variables_without_metadata_get_log_attributes() {
    let Some(c) = repaired() else { return };
    let d = c.dataset(ProductType::Native, 1).unwrap();
    let repaired: Vec<&str> = d
        .repairs
        .iter()
        .filter(|r| r.kind == RepairKind::VariableMetadataFromLog)
        .map(|r| r.detail.as_str())
        .collect();
    assert_eq!(repaired.len(), 2, "{repaired:?}");
    assert!(repaired[0].contains("'OBPAnoma'"), "{}", repaired[0]);
    let attrs =
        edp_conventions::attrs::variable_attributes(&c, ProductType::Native, "OBPAnoma").unwrap();
    let get = |k: &str| {
        attrs
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.as_str().map(str::to_string))
    };
    // The V4r5 log row: `OBPAnoma|  1 |       |SM      M1|m               |Ocean Bottom Pressure Anomaly`.
    assert_eq!(
        get("long_name").as_deref(),
        Some("Ocean Bottom Pressure Anomaly")
    );
    assert_eq!(get("units").as_deref(), Some("m"));
    // Variables with metadata keep it.
    let obp = edp_conventions::attrs::variable_attributes(&c, ProductType::Native, "OBP").unwrap();
    assert!(obp.iter().any(|(n, _)| n == "comment"));
}

#[test]
fn every_v4r5_native_and_latlon_dataset_of_the_table_gets_complete_global_attributes() {
    use chrono::NaiveDate;
    use edp_conventions::attrs::{
        AttrValue, GranuleContext, dynamic_metadata, get_attr, global_attributes,
    };
    use edp_conventions::naming::granule_file_name;
    use edp_conventions::{Frequency, ProductionConfig};
    use std::collections::BTreeSet;

    let Some(c) = repaired() else { return };
    let dir = v4r5_dir().unwrap();
    let config =
        ProductionConfig::from_yaml_file(dir.join("product_generation_config.yaml")).unwrap();
    assert_eq!(config.podaac_metadata_filename, V4R5_TABLE);
    let table = c.podaac().unwrap();
    let mut matched = BTreeSet::new();
    for product in [ProductType::Native, ProductType::Latlon] {
        for g in c.groupings(product).unwrap() {
            let d = c.dataset(product, g.id as i64).unwrap();
            let time_varying = d.frequencies.iter().map(|f| f.job_frequency());
            for frequency in time_varying.filter(|f| !f.is_time_invariant()) {
                // The first record: day 1 ends 12 h after the 12:00 start, month 1 at 732 h.
                let step = if frequency == Frequency::AvgMon {
                    732
                } else {
                    12
                };
                let period = config.clock.period(frequency, step).unwrap();
                let name = granule_file_name(
                    &d.filename,
                    &period,
                    &config.ecco_version,
                    product,
                    config.grid_label(product),
                );
                let dynamic = dynamic_metadata(&d, &period, &config);
                let variables: Vec<String> =
                    d.output_names().iter().map(|s| s.to_string()).collect();
                let ctx = GranuleContext {
                    product,
                    frequency,
                    product_name: &name,
                    dynamic: &dynamic,
                    variables: &variables,
                    date_created: NaiveDate::from_ymd_opt(2026, 1, 2)
                        .unwrap()
                        .and_hms_opt(3, 4, 5)
                        .unwrap(),
                    uuid: "0b5e1a2c-1111-4222-8333-444455556666",
                };
                let attrs = global_attributes(&c, &config, &ctx)
                    .unwrap_or_else(|e| panic!("{product} {} {frequency}: {e}", g.id));
                let row = table.lookup(&name).unwrap();
                let doi = row.persistent_id.replacen("PODAAC-", "10.5067/", 1);
                let text = |k: &str| get_attr(&attrs, k).and_then(AttrValue::as_str);
                assert_eq!(text("id"), Some(doi.as_str()), "{name}");
                assert_eq!(text("identifier_product_doi"), Some(doi.as_str()), "{name}");
                assert_eq!(text("title"), Some(row.long_name.as_str()), "{name}");
                assert!(matched.insert(row.filename.clone()), "{name} matched twice");
            }
        }
    }
    // Every row of the table for a time-variable native or lat-lon dataset is produced by
    // exactly one grouping and frequency (the others are GEOMETRY, mixing and 1-D datasets).
    let expected: BTreeSet<String> = table
        .rows
        .iter()
        .map(|r| r.filename.clone())
        .filter(|f| {
            (f.contains("_native_") || f.contains("_latlon_"))
                && ["_day_mean_", "_mon_mean_", "_snap_"]
                    .iter()
                    .any(|t| f.contains(t))
        })
        .collect();
    assert_eq!(expected.len(), 91);
    assert_eq!(matched, expected);
}
