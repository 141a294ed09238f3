//! Bad lat-lon requests and inputs fail with errors that name the problem, are classified,
//! and leave no file under the final name (and no temporary file).

use std::path::Path;
use std::sync::Arc;

use edp_conventions::catalog::Orientation;
use edp_conventions::{Frequency, ProductType, ProductionConfig};
use edp_granule::{
    ErrorClass, GranuleError, GranuleRequest, InputRef, MemoryInputs, RequestVariable, Resources,
    produce_granule,
};
use edp_mds::{ByteOrder, Meta, Precision};
use edp_task_schemas::ErrorKind;

use crate::latlon::support::*;

/// Runs `request` against `inputs` with `resources` into `dir/<name>` and checks that it fails
/// leaving `dir` empty; returns the error.
fn fails_cleanly(
    resources: &Resources,
    request: &GranuleRequest,
    inputs: &MemoryInputs,
    dir: &Path,
) -> GranuleError {
    let out = dir.join(&request.granule_name);
    let err = produce_granule(request, resources, inputs, &out).unwrap_err();
    assert!(!out.exists(), "{} exists after: {err}", out.display());
    assert_eq!(file_names(dir), Vec::<String>::new(), "after: {err}");
    err
}

/// A 2-D input `s3://b/<var>_mon_mean/<var>_mon_mean.0000000732` in memory.
fn add_input(inputs: &mut MemoryInputs, var: &str) -> InputRef {
    let stem = format!("s3://b/{var}_mon_mean/{var}_mon_mean.0000000732");
    let mut meta = Meta::new_llc(&stem, N, 1, Precision::F32, 1);
    meta.time_step = Some(732);
    meta.fields = vec![var.to_string()];
    let values: Vec<f32> = (0..CELLS).map(|c| (c % 7) as f32 * 0.01).collect();
    inputs.insert(format!("{stem}.meta"), meta.to_meta_text().into_bytes());
    inputs.insert(
        format!("{stem}.data"),
        edp_mds::encode_values(&values, Precision::F32, ByteOrder::Big),
    );
    InputRef::new(format!("{stem}.data"), format!("{stem}.meta"))
}

/// A SEA_ICE_VELOCITY (lat-lon grouping 8) request for SIeice with the given components.
fn ice_request(fx: &Fixture, components: Vec<InputRef>) -> GranuleRequest {
    let r = &fx.resources;
    GranuleRequest::new(
        &r.catalog,
        &r.config,
        ProductType::Latlon,
        8,
        Frequency::AvgMon,
        732,
        vec![RequestVariable {
            name: "SIeice".into(),
            inputs: components,
        }],
    )
    .unwrap()
}

#[test]
fn the_sea_ice_velocity_request_used_below_succeeds_when_complete() {
    // The baseline of the error cases: both components present, right order.
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut inputs = MemoryInputs::new();
    let u = add_input(&mut inputs, "SIuice");
    let v = add_input(&mut inputs, "SIvice");
    let request = ice_request(fx, vec![u, v]);
    let out = tmp.path().join(&request.granule_name);
    let report = produce_granule(&request, &fx.resources, &inputs, &out).unwrap();
    assert_eq!(report.variables[0].diagnostics, ["SIuice", "SIvice"]);
    assert_eq!(
        file_names(tmp.path()),
        std::slice::from_ref(&request.granule_name)
    );
}

#[test]
fn a_vector_variable_with_one_component_is_refused_before_writing() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut inputs = MemoryInputs::new();
    let u = add_input(&mut inputs, "SIuice");
    let request = ice_request(fx, vec![u]);
    let err = fails_cleanly(&fx.resources, &request, &inputs, tmp.path());
    assert!(
        matches!(&err, GranuleError::ComponentCount { variable, expected: 2, found: 1, .. } if variable == "SIeice"),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Permanent);
}

#[test]
fn a_missing_component_file_fails_after_the_file_was_started_and_leaves_nothing() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut inputs = MemoryInputs::new();
    let u = add_input(&mut inputs, "SIuice");
    let v = InputRef::new(
        "s3://b/SIvice_mon_mean/SIvice_mon_mean.0000000732.data",
        "s3://b/SIvice_mon_mean/SIvice_mon_mean.0000000732.meta",
    );
    let request = ice_request(fx, vec![u, v]);
    let err = fails_cleanly(&fx.resources, &request, &inputs, tmp.path());
    assert!(
        err.to_string()
            .contains("SIvice_mon_mean.0000000732.meta not found"),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::BadInput);
}

#[test]
fn swapped_components_are_detected_by_their_file_names() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut inputs = MemoryInputs::new();
    let u = add_input(&mut inputs, "SIuice");
    let v = add_input(&mut inputs, "SIvice");
    let request = ice_request(fx, vec![v, u]);
    let err = fails_cleanly(&fx.resources, &request, &inputs, tmp.path());
    assert!(matches!(err, GranuleError::InputMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("a file of diagnostic SIuice"),
        "{err}"
    );
}

#[test]
fn a_task_whose_orientation_disagrees_with_the_grouping_is_invalid() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut inputs = MemoryInputs::new();
    let u = add_input(&mut inputs, "SIuice");
    let v = add_input(&mut inputs, "SIvice");
    let mut request = ice_request(fx, vec![u, v]);
    let orientations = request.dynamic.field_orientations.as_mut().unwrap();
    let entry = orientations.get_mut("SIeice").unwrap();
    *entry = Orientation::Meridional.as_str().to_string();
    let err = fails_cleanly(&fx.resources, &request, &inputs, tmp.path());
    assert!(matches!(err, GranuleError::InvalidTask { .. }), "{err}");
    assert!(
        err.to_string().contains("field_orientations[SIeice]"),
        "{err}"
    );
}

#[test]
fn resources_without_weights_are_refused() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut inputs = MemoryInputs::new();
    let request = ice_request(
        fx,
        vec![
            add_input(&mut inputs, "SIuice"),
            add_input(&mut inputs, "SIvice"),
        ],
    );
    let r = &fx.resources;
    let bare = Resources::new(r.grid.clone(), r.catalog.clone(), r.config.clone());
    let err = fails_cleanly(&bare, &request, &inputs, tmp.path());
    assert!(matches!(err, GranuleError::NoWeights { .. }), "{err}");
    assert!(err.is_permanent());
}

#[test]
fn weights_for_another_target_grid_are_refused() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut inputs = MemoryInputs::new();
    let request = ice_request(
        fx,
        vec![
            add_input(&mut inputs, "SIuice"),
            add_input(&mut inputs, "SIvice"),
        ],
    );
    let r = &fx.resources;
    let mut config = ProductionConfig::v4r4();
    config.latlon_grid_resolution = 1.0;
    let one_degree = Resources::new(r.grid.clone(), r.catalog.clone(), Arc::new(config))
        .with_weights(r.weights.clone().unwrap());
    let err = fails_cleanly(&one_degree, &request, &inputs, tmp.path());
    assert!(matches!(err, GranuleError::GridMismatch { .. }), "{err}");
    assert!(err.to_string().contains("target grid"), "{err}");
}

#[test]
fn latlon_snapshots_are_not_a_v4r4_product() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut inputs = MemoryInputs::new();
    let r = &fx.resources;
    let request = GranuleRequest::new(
        &r.catalog,
        &r.config,
        ProductType::Latlon,
        0,
        Frequency::Snap,
        12,
        vec![RequestVariable {
            name: "SSH".into(),
            inputs: vec![add_input(&mut inputs, "SSH")],
        }],
    )
    .unwrap();
    let err = fails_cleanly(r, &request, &inputs, tmp.path());
    assert!(matches!(err, GranuleError::InvalidTask { .. }), "{err}");
    assert!(
        err.to_string().contains("not produced at frequency"),
        "{err}"
    );
}
