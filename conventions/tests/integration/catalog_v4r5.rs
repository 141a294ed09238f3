//! The catalog on the real V4r5 metadata directory (renamed files, one invalid JSON file).

use edp_conventions::catalog::{CatalogError, GlobalScope, GroupingFrequency, StaggeringSource};
use edp_conventions::staggering::{Horizontal, Staggering, Vertical};
use edp_conventions::{Catalog, Dimension, LoadOptions, ProductType};

use super::v4r5_dir;

const INVALID: &str = "global_metadata_for_all_datasets.json";

#[test]
fn the_invalid_global_metadata_file_is_an_error_naming_file_and_line() {
    let Some(dir) = v4r5_dir() else { return };
    let err = Catalog::load(&dir, &LoadOptions::default()).unwrap_err();
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
        ..LoadOptions::default()
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
        ..LoadOptions::default()
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
