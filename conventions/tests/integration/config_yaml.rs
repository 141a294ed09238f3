//! Loading production configurations from YAML.

use chrono::TimeDelta;
use edp_conventions::config::{ArrayPrecision, ConfigError};
use edp_conventions::naming::SnapInstants;
use edp_conventions::time::format_time;
use edp_conventions::{ProductType, ProductionConfig};

/// A Gen C `config_V4r4.yaml` written from the values of `docs/edp-compatibility.md` 6 (plus texts of the
/// reference granules), with a few keys our loader ignores.
const GEN_C_V4R4: &str = r#"
ecco_version: 'V4r4'
product_version: 'Version 4, Release 4'
ecco_production_filestr_grid_label:
    latlon: '0p50deg'
    native: 'llc0090'
array_precision: 'float32'
model_start_time: '1992-01-01T12:00:00'
model_end_time: '2017-12-31T12:00:00'
model_timestep_units: 'h'
model_timestep: 1
num_vertical_levels: 50
geospatial_vertical_min: -6134.5
latlon_grid_resolution: 0.5
latlon_grid_area_extent: [-180.0, 90.0, 180.0, -90.0]
latlon_effective_grid_radius: null
custom_grid_and_factors: false
podaac_metadata_filename: 'PODAAC_datasets-revised_20210226.5.csv'
history: 'Inaugural release of an ECCO Central Estimate solution to PO.DAAC'
references: 'ECCO Consortium, Fukumori, I., Wang, O., Fenty, I., Forget, G., Heimbach, P., & Ponte, R. M. 2020. Synopsis of the ECCO Central Production Global Ocean and Sea-Ice State Estimate (Version 4 Release 4). doi:10.5281/zenodo.3765928'
source: 'The ECCO V4r4 state estimate was produced by fitting a free-running solution of the MITgcm (checkpoint 66g) to satellite and in situ observational data in a least squares sense using the adjoint method.'
netcdf4_compression_encodings:
    zlib        : True
    complevel   : 5
    shuffle     : True
variable_coordinates_as_encoded_attributes: ['latitude','longitude','tile','time','XC','XG','YC','YG','Z','Zp1','Zl','Zu']
doi_authority: 'org.doi'
doi_prefix: '10.5067'
metadata_link_root: 'https://cmr.earthdata.nasa.gov/search/collections.umm_json?ShortName='
dataset_description_tail_1D: ''
dataset_description_tail_latlon: ' interpolated to a regular 0.5-degree grid from the ECCO Version 4 revision 4 (V4r4) ocean and sea-ice state estimate.'
dataset_description_tail_native: ' on the native Lat-Lon-Cap 90 (LLC90) model grid from the ECCO Version 4 revision 4 (V4r4) ocean and sea-ice state estimate.'
"#;

#[test]
fn a_gen_c_v4r4_file_gives_the_builtin_configuration() {
    let c = ProductionConfig::from_yaml_str(GEN_C_V4R4, "config_V4r4.yaml").unwrap();
    assert_eq!(c, ProductionConfig::v4r4());
    assert_eq!(c.config_hash(), ProductionConfig::v4r4().config_hash());
}

#[test]
fn a_file_on_disk_loads_and_errors_name_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, GEN_C_V4R4.replace("history:", "# history:")).unwrap();
    let err = ProductionConfig::from_yaml_file(&path).unwrap_err();
    assert!(
        matches!(err, ConfigError::MissingKey { key: "history", .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("'history'") && msg.contains(&path.display().to_string()),
        "{msg}"
    );

    std::fs::write(&path, GEN_C_V4R4).unwrap();
    assert_eq!(
        ProductionConfig::from_yaml_file(&path).unwrap(),
        ProductionConfig::v4r4()
    );
    let err = ProductionConfig::from_yaml_file(dir.path().join("absent.yaml")).unwrap_err();
    assert!(err.to_string().contains("absent.yaml"));
}

#[test]
fn every_required_key_is_reported_by_name() {
    for key in [
        "ecco_version",
        "product_version",
        "model_start_time",
        "model_end_time",
        "geospatial_vertical_min",
        "podaac_metadata_filename",
        "references",
        "source",
        "dataset_description_tail_native",
        "dataset_description_tail_latlon",
    ] {
        let text: String = GEN_C_V4R4
            .lines()
            .filter(|l| !l.starts_with(&format!("{key}:")))
            .collect::<Vec<_>>()
            .join("\n");
        let err = ProductionConfig::from_yaml_str(&text, "x.yaml").unwrap_err();
        assert!(
            matches!(err, ConfigError::MissingKey { key: k, .. } if k == key),
            "{key}: {err}"
        );
    }
    // Without any grid label form.
    let text = GEN_C_V4R4.replace("ecco_production_filestr_grid_label:", "other_label:");
    let err = ProductionConfig::from_yaml_str(&text, "x.yaml").unwrap_err();
    assert!(
        err.to_string()
            .contains("ecco_production_filestr_grid_label"),
        "{err}"
    );
}

#[test]
fn values_are_typed_and_converted() {
    let with = |from: &str, to: &str| {
        assert!(GEN_C_V4R4.contains(from), "{from}");
        ProductionConfig::from_yaml_str(&GEN_C_V4R4.replace(from, to), "x.yaml")
    };
    // km → m.
    let c = with(
        "latlon_effective_grid_radius: null",
        "latlon_effective_grid_radius: 78.5",
    )
    .unwrap();
    assert_eq!(c.latlon_effective_grid_radius_m, Some(78_500.0));
    let c = with("array_precision: 'float32'", "array_precision: 'float64'").unwrap();
    assert_eq!(c.array_precision, ArrayPrecision::Float64);
    let c = with(
        "model_timestep_units: 'h'",
        "model_timestep_units: 's'\nmodel_timestep_x: 1",
    )
    .unwrap();
    assert_eq!(c.clock.step(), TimeDelta::seconds(1));
    let c = with(
        "dataset_description_tail_1D: ''",
        "snap_instant_period: monthly\nproduct_time_coverage_end: '2017-12-31T12:00:00'",
    )
    .unwrap();
    assert_eq!(c.snap_instants, SnapInstants::Monthly);
    assert_eq!(
        c.product_time_coverage_end.as_deref(),
        Some("2017-12-31T12:00:00")
    );

    let bad = [
        (
            "array_precision: 'float32'",
            "array_precision: 'float16'",
            "array_precision",
        ),
        (
            "model_start_time: '1992-01-01T12:00:00'",
            "model_start_time: 'Jan 1992'",
            "model_start_time",
        ),
        (
            "model_end_time: '2017-12-31T12:00:00'",
            "model_end_time: '1990-01-01T00:00:00'",
            "not after",
        ),
        ("model_timestep: 1", "model_timestep: 0", "model_timestep"),
        (
            "num_vertical_levels: 50",
            "num_vertical_levels: -5",
            "num_vertical_levels",
        ),
        (
            "latlon_grid_area_extent: [-180.0, 90.0, 180.0, -90.0]",
            "latlon_grid_area_extent: [180.0, 90.0, -180.0, -90.0]",
            "latlon_grid_area_extent",
        ),
        (
            "latlon_effective_grid_radius: null",
            "latlon_effective_grid_radius: -1",
            "latlon_effective_grid_radius",
        ),
        (
            "history: 'Inaugural",
            "history: 17\nx: 'Inaugural",
            "'history' must be a string",
        ),
        (
            "    complevel   : 5",
            "    complevel   : 12",
            "netcdf4_compression_encodings",
        ),
    ];
    for (from, to, needle) in bad {
        let err = with(from, to).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(needle) && msg.contains("x.yaml"),
            "{to}: {msg}"
        );
    }
    let err = ProductionConfig::from_yaml_str("- a\n- b\n", "x.yaml").unwrap_err();
    assert!(matches!(err, ConfigError::NotAMapping { .. }));
    let err = ProductionConfig::from_yaml_str("a: [1,\n", "x.yaml").unwrap_err();
    assert!(matches!(err, ConfigError::Yaml { .. }) && err.to_string().contains("x.yaml"));
}

#[test]
fn the_shared_v4r5_config_files_load() {
    let Some(data) = edp_testkit::shared_data() else {
        return;
    };
    let dir = data.join("ecco-v4r5-metadata");

    // Gen A/B layout: grid labels from filename_tail_*, project text under project_summary
    // (ignored), no model_timestep (1 h default).
    let c = ProductionConfig::from_yaml_file(dir.join("product_generation_config.yaml")).unwrap();
    assert_eq!(c.ecco_version, "V4r5");
    assert_eq!(c.grid_label(ProductType::Native), "llc0090");
    assert_eq!(c.grid_label(ProductType::Latlon), "0p50deg");
    assert_eq!(format_time(c.clock.end()), "2020-01-01T00:00:00");
    assert_eq!(c.clock.step(), TimeDelta::hours(1));
    assert_eq!(
        c.podaac_metadata_filename,
        "PODAAC_dataset_table_V4r5_20230103.csv"
    );
    assert_eq!(c.summary, "");
    assert_eq!(c.latlon_effective_grid_radius_m, None);
    assert!(c.dataset_description_tail_native.contains("(V4r5)"));

    // Gen B/C layout with most keys commented out: defaults fill the version-neutral ones.
    let c = ProductionConfig::from_yaml_file(dir.join("product_generation_config_updated.yaml"))
        .unwrap();
    assert_eq!(c.grid_label(ProductType::Native), "llc0090");
    assert_eq!(c.num_vertical_levels, 50);
    assert_eq!(c.latlon_grid_resolution, 0.5);
    assert!(c.summary.starts_with("ECCO V4r5 is a dynamically"));
    assert_eq!(
        c.dataset_description_tail_native,
        " on the native Lat-Lon-Cap 90 (LLC90) model grid."
    );
    assert_eq!(
        c.ecco_native_grid_filename.as_deref(),
        Some("GRID_GEOMETRY_ECCO_V4r5_native_llc0090.nc")
    );
    assert_ne!(c.config_hash(), ProductionConfig::v4r4().config_hash());
}
