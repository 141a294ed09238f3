//! Attributes built from the real V4r4 metadata, checked against `docs/metadata.md` 4, 5,
//! `docs/edp-compatibility.md` 2.2 and the reference granule headers.

use chrono::NaiveDate;
use edp_conventions::attrs::{
    AttrError, AttrValue, Attrs, DynamicMetadata, GranuleContext, coordinate_attributes,
    dynamic_metadata, gcmd_keywords, get_attr, global_attributes, time_attributes,
    time_bnds_attributes, variable_attributes, variable_coordinates,
};
use edp_conventions::catalog::CatalogError;
use edp_conventions::naming::granule_file_name;
use edp_conventions::{Catalog, Frequency, LoadOptions, ProductType, ProductionConfig};

use super::{overlay, v4r4, v4r4_dir};

/// The full sorted list of a native 3-D granule (`docs/metadata.md` 4).
#[rustfmt::skip]
const NATIVE_3D: &[&str] = &[
    "acknowledgement", "author", "cdm_data_type", "comment", "Conventions", "coordinates_comment",
    "creator_email", "creator_institution", "creator_name", "creator_type", "creator_url",
    "date_created", "date_issued", "date_metadata_modified", "date_modified",
    "geospatial_bounds_crs", "geospatial_lat_max", "geospatial_lat_min",
    "geospatial_lat_resolution", "geospatial_lat_units", "geospatial_lon_max",
    "geospatial_lon_min", "geospatial_lon_resolution", "geospatial_lon_units",
    "geospatial_vertical_max", "geospatial_vertical_min", "geospatial_vertical_positive",
    "geospatial_vertical_resolution", "geospatial_vertical_units", "history", "id",
    "institution", "instrument_vocabulary", "keywords", "keywords_vocabulary", "license",
    "metadata_link", "naming_authority", "platform", "platform_vocabulary", "processing_level",
    "product_name", "product_time_coverage_end", "product_time_coverage_start", "product_version",
    "program", "project", "publisher_email", "publisher_institution", "publisher_name",
    "publisher_type", "publisher_url", "references", "source", "standard_name_vocabulary",
    "summary", "time_coverage_duration", "time_coverage_end", "time_coverage_resolution",
    "time_coverage_start", "title", "uuid",
];

const CMR: &str = "https://cmr.earthdata.nasa.gov/search/collections.umm_json?ShortName=";

/// Global attributes of grouping `id` at step `ts`, as the writer would build them.
fn globals(
    c: &Catalog,
    config: &ProductionConfig,
    product: ProductType,
    id: i64,
    freq: Frequency,
    ts: u64,
) -> Result<(Attrs, DynamicMetadata), AttrError> {
    let dataset = c.dataset(product, id)?;
    let period = config.clock.period(freq, ts).unwrap();
    let dynamic = dynamic_metadata(&dataset, &period, config);
    let name = granule_file_name(
        &dataset.filename,
        &period,
        &config.ecco_version,
        product,
        config.grid_label(product),
    );
    let variables: Vec<String> = dataset
        .output_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let ctx = GranuleContext {
        product,
        frequency: freq,
        product_name: &name,
        dynamic: &dynamic,
        variables: &variables,
        date_created: NaiveDate::from_ymd_opt(2026, 1, 2)
            .unwrap()
            .and_hms_opt(3, 4, 5)
            .unwrap(),
        uuid: "0b5e1a2c-1111-4222-8333-444455556666",
    };
    Ok((global_attributes(c, config, &ctx)?, dynamic))
}

fn s<'a>(attrs: &'a Attrs, name: &str) -> &'a str {
    get_attr(attrs, name)
        .and_then(AttrValue::as_str)
        .unwrap_or_else(|| panic!("no string attribute {name}"))
}

fn names(attrs: &Attrs) -> Vec<&str> {
    attrs.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn native_3d_granule_has_the_62_attributes_of_10_4_in_order() {
    let Some(c) = v4r4() else { return };
    let config = ProductionConfig::v4r4();
    let (attrs, _) = globals(&c, &config, ProductType::Native, 15, Frequency::AvgMon, 732).unwrap();
    assert_eq!(attrs.len(), 62);
    assert_eq!(names(&attrs), NATIVE_3D);
    // Values that the reference granule header shows (and that we do not change).
    assert_eq!(
        s(&attrs, "title"),
        "ECCO Ocean Temperature and Salinity - Monthly Mean llc90 Grid (Version 4 Release 4)"
    );
    assert_eq!(
        s(&attrs, "keywords"),
        "EARTH SCIENCE > OCEANS > OCEAN TEMPERATURE > POTENTIAL TEMPERATURE, EARTH SCIENCE > \
         OCEANS > SALINITY/DENSITY > SALINITY, EARTH SCIENCE SERVICES > MODELS > EARTH SCIENCE \
         REANALYSES/ASSIMILATION MODELS"
    );
    assert_eq!(
        s(&attrs, "comment"),
        "Fields provided on the curvilinear lat-lon-cap 90 (llc90) native grid used in the ECCO model."
    );
    assert_eq!(
        get_attr(&attrs, "geospatial_vertical_min"),
        Some(&AttrValue::F64(-6134.5))
    );
    assert_eq!(
        get_attr(&attrs, "geospatial_vertical_max"),
        Some(&AttrValue::F64(0.0))
    );
    assert_eq!(
        get_attr(&attrs, "geospatial_lat_max"),
        Some(&AttrValue::F64(90.0))
    );
    assert_eq!(
        s(&attrs, "product_name"),
        "OCEAN_TEMPERATURE_SALINITY_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc"
    );
    assert_eq!(s(&attrs, "time_coverage_start"), "1992-01-01T12:00:00");
    assert_eq!(s(&attrs, "time_coverage_end"), "1992-02-01T00:00:00");
    assert_eq!(
        s(&attrs, "history"),
        "Inaugural release of an ECCO Central Estimate solution to PO.DAAC"
    );
    // Where we deliberately differ from the reference header (EDP Gen C bugs 7.10-7.12).
    assert_eq!(s(&attrs, "id"), "10.5067/ECL5M-OTS44");
    assert_eq!(
        s(&attrs, "metadata_link"),
        format!("{CMR}ECCO_L4_TEMP_SALINITY_LLC0090GRID_MONTHLY_V4R4")
    );
    assert_eq!(
        s(&attrs, "product_time_coverage_end"),
        "2018-01-01T00:00:00"
    );
    // The built-in V4r4 configuration has no project text, so the static `summary` of the
    // global metadata JSON follows the task summary (docs/edp-compatibility.md 7.11: Gen C lost it).
    assert_eq!(
        s(&attrs, "summary"),
        format!(
            "This dataset contains monthly-averaged ocean potential temperature and salinity on \
             the native Lat-Lon-Cap 90 (LLC90) model grid from the ECCO Version 4 revision 4 \
             (V4r4) ocean and sea-ice state estimate. {}",
            static_summary()
        )
    );
    for absent in [
        "project_summary",
        "identifier_product_doi",
        "coordinates_note",
        "coordinates",
    ] {
        assert!(get_attr(&attrs, absent).is_none(), "{absent}");
    }
    for date in [
        "date_created",
        "date_issued",
        "date_metadata_modified",
        "date_modified",
    ] {
        assert_eq!(s(&attrs, date), "2026-01-02T03:04:05");
    }
    assert_eq!(s(&attrs, "uuid"), "0b5e1a2c-1111-4222-8333-444455556666");
}

#[test]
fn native_2d_ssh_monthly_has_57_attributes() {
    let Some(c) = v4r4() else { return };
    let config = ProductionConfig::v4r4();
    let (attrs, dynamic) =
        globals(&c, &config, ProductType::Native, 0, Frequency::AvgMon, 732).unwrap();
    assert_eq!(attrs.len(), 57);
    let expected: Vec<&str> = NATIVE_3D
        .iter()
        .copied()
        .filter(|n| !n.starts_with("geospatial_vertical_"))
        .collect();
    assert_eq!(names(&attrs), expected);
    assert_eq!(s(&attrs, "id"), "10.5067/ECL5M-SSH44");
    assert_eq!(
        s(&attrs, "title"),
        "ECCO Sea Surface Height - Monthly Mean llc90 Grid (Version 4 Release 4)"
    );
    assert_eq!(
        s(&attrs, "comment"),
        format!(
            "Fields provided on the curvilinear lat-lon-cap 90 (llc90) native grid used in the ECCO model. {}",
            dynamic.comment.as_deref().unwrap()
        )
    );
    assert_eq!(
        s(&attrs, "summary"),
        format!("{} {}", dynamic.summary, static_summary())
    );
    assert!(!s(&attrs, "summary").ends_with(' '));
}

/// The `summary` entry of the V4r4 global metadata JSON, read directly from the file.
fn static_summary() -> String {
    let path = v4r4_dir()
        .unwrap()
        .join("ECCOv4r4_global_metadata_for_all_datasets.json");
    let entries: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let text = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "summary")
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.starts_with("Estimating the Circulation and Climate of the Ocean (ECCO)"));
    text
}

#[test]
fn latlon_2d_ssh_monthly_has_57_attributes() {
    let Some(c) = v4r4() else { return };
    let config = ProductionConfig::v4r4();
    let (attrs, _) = globals(&c, &config, ProductType::Latlon, 0, Frequency::AvgMon, 732).unwrap();
    assert_eq!(attrs.len(), 57);
    assert!(get_attr(&attrs, "geospatial_vertical_min").is_none());
    assert_eq!(
        get_attr(&attrs, "geospatial_lat_resolution"),
        Some(&AttrValue::F64(0.5))
    );
    // The reference lat-lon SSH header's title, comment and keywords.
    assert_eq!(
        s(&attrs, "title"),
        "ECCO Sea Surface Height - Monthly Mean 0.5 Degree (Version 4 Release 4)"
    );
    assert_eq!(
        s(&attrs, "comment"),
        "Fields provided on a regular lat-lon grid. They have been mapped to the regular lat-lon \
         grid from the original ECCO lat-lon-cap 90 (llc90) native model grid. SSH (dynamic sea \
         surface height) = SSHNOIBC (dynamic sea surface without the inverse barometer \
         correction) - SSHIBC (inverse barometer correction). The inverted barometer correction \
         accounts for variations in sea surface height due to atmospheric pressure variations."
    );
    assert_eq!(
        s(&attrs, "keywords"),
        "EARTH SCIENCE > OCEANS > SEA SURFACE TOPOGRAPHY > SEA SURFACE HEIGHT, EARTH SCIENCE \
         SERVICES > MODELS > EARTH SCIENCE REANALYSES/ASSIMILATION MODELS"
    );
    assert_eq!(s(&attrs, "id"), "10.5067/ECG5M-SSH44");
}

#[test]
fn latlon_velocity_keywords_and_title_match_the_reference_header() {
    let Some(c) = v4r4() else { return };
    let config = ProductionConfig::v4r4();
    let (attrs, _) = globals(
        &c,
        &config,
        ProductType::Latlon,
        11,
        Frequency::AvgMon,
        1428,
    )
    .unwrap();
    assert_eq!(attrs.len(), 62);
    assert_eq!(
        s(&attrs, "title"),
        "ECCO Ocean Velocity - Monthly Mean 0.5 Degree (Version 4 Release 4)"
    );
    assert_eq!(
        s(&attrs, "keywords"),
        "EARTH SCIENCE > OCEANS > OCEAN CIRCULATION, EARTH SCIENCE > OCEANS > OCEAN CIRCULATION \
         > OCEAN CURRENTS, EARTH SCIENCE SERVICES > MODELS > EARTH SCIENCE REANALYSES/ASSIMILATION \
         MODELS"
    );
    assert_eq!(
        s(&attrs, "comment"),
        "Fields provided on a regular lat-lon grid. They have been mapped to the regular lat-lon grid from the original ECCO lat-lon-cap 90 (llc90) native model grid."
    );
}

#[test]
fn configuration_texts_and_overrides_are_applied() {
    let Some(c) = v4r4() else { return };
    let mut config = ProductionConfig::v4r4();
    config.summary = "Project text.".into();
    config.product_time_coverage_end = Some("2017-12-31T12:00:00".into());
    config.history = "h".into();
    let (attrs, dynamic) =
        globals(&c, &config, ProductType::Native, 0, Frequency::AvgDay, 12).unwrap();
    assert_eq!(
        s(&attrs, "summary"),
        format!("{} Project text.", dynamic.summary)
    );
    assert_eq!(
        s(&attrs, "product_time_coverage_end"),
        "2017-12-31T12:00:00"
    );
    assert_eq!(s(&attrs, "history"), "h");
    assert_eq!(s(&attrs, "time_coverage_duration"), "P1D");
    assert_eq!(s(&attrs, "id"), "10.5067/ECL5D-SSH44");
    assert_eq!(
        s(&attrs, "product_name"),
        "SEA_SURFACE_HEIGHT_day_mean_1992-01-01_ECCO_V4r4_native_llc0090.nc"
    );
}

#[test]
fn snap_granules_carry_the_instant() {
    let Some(c) = v4r4() else { return };
    let config = ProductionConfig::v4r4();
    let (attrs, dynamic) =
        globals(&c, &config, ProductType::Native, 7, Frequency::Snap, 12).unwrap();
    assert_eq!(s(&attrs, "time_coverage_start"), "1992-01-02T00:00:00");
    assert_eq!(s(&attrs, "time_coverage_end"), "1992-01-02T00:00:00");
    assert_eq!(s(&attrs, "time_coverage_duration"), "PT0S");
    assert_eq!(s(&attrs, "id"), "10.5067/ECL5S-ICO44");
    assert!(
        dynamic
            .summary
            .starts_with("This dataset contains instantaneous sea-ice")
    );
    assert_eq!(attrs.len(), 57);
    // Lat-lon has no SNAP datasets in the PO.DAAC table.
    let err = globals(&c, &config, ProductType::Latlon, 0, Frequency::Snap, 12).unwrap_err();
    assert!(
        matches!(err, AttrError::Catalog(CatalogError::PodaacNoMatch { .. })),
        "{err}"
    );
}

#[test]
fn podaac_lookup_one_name_per_product_family() {
    let Some(c) = v4r4() else { return };
    let table = c.podaac().unwrap();
    let cases = [
        (
            "OCEAN_VELOCITY_mon_mean_2005-06_ECCO_V4r4_native_llc0090.nc",
            "10.5067/ECL5M-OVE44",
            "ECCO_L4_OCEAN_VEL_LLC0090GRID_MONTHLY_V4R4",
            "ECCO Ocean Velocity - Monthly Mean llc90 Grid (Version 4 Release 4)",
        ),
        (
            "OCEAN_VELOCITY_mon_mean_2005-06_ECCO_V4r4_latlon_0p50deg.nc",
            "10.5067/ECG5M-OVE44",
            "ECCO_L4_OCEAN_VEL_05DEG_MONTHLY_V4R4",
            "ECCO Ocean Velocity - Monthly Mean 0.5 Degree (Version 4 Release 4)",
        ),
        (
            "SEA_ICE_VELOCITY_day_mean_2017-12-30_ECCO_V4r4_native_llc0090.nc",
            "10.5067/ECL5D-SIV44",
            "ECCO_L4_SEA_ICE_VELOCITY_LLC0090GRID_DAILY_V4R4",
            "ECCO Sea-Ice Velocity - Daily Mean llc90 Grid (Version 4 Release 4)",
        ),
        (
            "OCEAN_MIXED_LAYER_DEPTH_day_mean_1992-01-01_ECCO_V4r4_latlon_0p50deg.nc",
            "10.5067/ECG5D-OML44",
            "ECCO_L4_MIXED_LAYER_DEPTH_05DEG_DAILY_V4R4",
            "ECCO Ocean Mixed Layer Depth - Daily Mean 0.5 Degree (Version 4 Release 4)",
        ),
        (
            "SEA_SURFACE_HEIGHT_snap_1992-01-02T000000_ECCO_V4r4_native_llc0090.nc",
            "10.5067/ECL5S-SSH44",
            "ECCO_L4_SSH_LLC0090GRID_SNAPSHOT_V4R4",
            "ECCO Sea Surface Height - Snapshot llc90 Grid (Version 4 Release 4)",
        ),
    ];
    for (name, id, short, title) in cases {
        let ids = table.ids(name, CMR).unwrap();
        assert_eq!(ids.id, id, "{name}");
        assert_eq!(ids.metadata_link, format!("{CMR}{short}"), "{name}");
        assert_eq!(ids.title, title, "{name}");
        assert!(
            c.dataset_summary(&ids.summary_key).unwrap().is_some(),
            "{name}"
        );
    }
    // SNAP rows exist only for the native SNAP groupings (0, 1, 7, 8, 15).
    for (id, ok) in [
        (0, true),
        (1, true),
        (7, true),
        (8, true),
        (15, true),
        (17, false),
        (6, false),
    ] {
        let d = c.dataset(ProductType::Native, id).unwrap();
        let name = format!(
            "{}_snap_1992-01-02T000000_ECCO_V4r4_native_llc0090.nc",
            d.filename
        );
        assert_eq!(table.lookup(&name).is_ok(), ok, "{name}");
        assert_eq!(d.supports(Frequency::Snap), ok, "{name}");
    }
    let err = table
        .lookup("SEA_SURFACE_HEIGHT_snap_1992-01-02T000000_ECCO_V4r4_latlon_0p50deg.nc")
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("SEA_SURFACE_HEIGHT_snap")
            && msg.contains("latlon_0p50deg.nc")
            && msg.contains("PODAAC_datasets"),
        "{msg}"
    );
}

#[test]
fn variable_attributes_follow_the_merge_rules() {
    let Some(c) = v4r4() else { return };
    let theta = variable_attributes(&c, ProductType::Native, "THETA").unwrap();
    assert_eq!(
        names(&theta),
        [
            "long_name",
            "units",
            "standard_name",
            "coverage_content_type",
            "comment"
        ]
    );
    assert_eq!(s(&theta, "long_name"), "Potential temperature ");
    assert_eq!(s(&theta, "units"), "degree_C");
    // Text of the reference header. The JSON writes `\rho`, which JSON decodes as a carriage
    // return followed by `ho` (EDP gets the same; ncdump shows it as `\rho`).
    assert_eq!(
        s(&theta, "comment"),
        "Sea water potential temperature is the temperature a parcel of sea water would have if \
         moved adiabatically to sea level pressure. Note: the equation of state is a modified \
         UNESCO formula by Jackett and McDougall (1995), which uses the model variable potential \
         temperature as input assuming a horizontally and temporally constant pressure of \
         $p_0=-g \rho_{0} z$."
    );
    let etan = variable_attributes(&c, ProductType::Native, "ETAN").unwrap();
    assert!(s(&etan, "comment").contains("snow  . Note: ETAN should"));
    let taux = variable_attributes(&c, ProductType::Native, "EXFtaux").unwrap();
    assert_eq!(
        s(&taux, "direction"),
        " >0 increases horizontal velocity in the +x direction (UVEL)"
    );
    assert!(get_attr(&taux, "grid_location").is_none());

    // Renamed: WVEL's own metadata, not WVELMASS's.
    let wvel = variable_attributes(&c, ProductType::Native, "WVEL").unwrap();
    assert_eq!(s(&wvel, "long_name"), "Vertical velocity");
    assert_eq!(s(&wvel, "direction"), ">0 decreases volume");
    assert!(get_attr(&wvel, "internal note").is_none());
    // Lat-lon: the lat-lon entry applied on top of the native one.
    let wvel = variable_attributes(&c, ProductType::Latlon, "WVEL").unwrap();
    assert!(s(&wvel, "comment").starts_with(
        "Vertical velocity in the +z direction at the top face of the grid cell. Note: in the Arakawa-C grid used in ECCO V4r4,"
    ));
    let evel = variable_attributes(&c, ProductType::Latlon, "EVEL").unwrap();
    assert_eq!(s(&evel, "standard_name"), "eastward_sea_water_velocity");
    let err = variable_attributes(&c, ProductType::Native, "EVEL").unwrap_err();
    assert!(
        matches!(err, AttrError::VariableMetadataMissing { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("ECCOv4r4_variable_metadata.json"));
    // Geometry variables are in the native lookup list.
    let depth = variable_attributes(&c, ProductType::Native, "Depth").unwrap();
    assert_eq!(s(&depth, "standard_name"), "sea_floor_depth_below_geoid");

    assert_eq!(
        gcmd_keywords(&c, ProductType::Native, "WVEL").unwrap(),
        [
            "EARTH SCIENCE > OCEANS > OCEAN CIRCULATION",
            "EARTH SCIENCE > OCEANS > OCEAN CIRCULATION > OCEAN CURRENTS"
        ]
    );
    assert_eq!(
        gcmd_keywords(&c, ProductType::Native, "Depth").unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn coordinate_and_time_attributes() {
    let Some(c) = v4r4() else { return };
    let xc = coordinate_attributes(&c, ProductType::Native, "XC").unwrap();
    assert_eq!(s(&xc, "long_name"), "longitude of tracer grid cell center");
    assert_eq!(s(&xc, "bounds"), "XC_bnds");
    assert!(get_attr(&xc, "grid_dimension").is_none());
    let lat = coordinate_attributes(&c, ProductType::Latlon, "latitude").unwrap();
    assert_eq!(s(&lat, "axis"), "Y");
    assert_eq!(
        s(&lat, "comment"),
        "uniform grid spacing from -89.75 to 89.75 by 0.5"
    );
    let err = coordinate_attributes(&c, ProductType::Latlon, "XC").unwrap_err();
    assert!(
        err.to_string()
            .contains("ECCOv4r4_coordinate_metadata_for_latlon_datasets.json"),
        "{err}"
    );

    let clock = edp_conventions::ModelClock::v4r4();
    let time = time_attributes(&c, &clock, Frequency::AvgMon).unwrap();
    assert_eq!(s(&time, "long_name"), "center time of averaging period");
    assert_eq!(s(&time, "bounds"), "time_bnds");
    assert_eq!(s(&time, "units"), "hours since 1992-01-01 12:00:00");
    assert_eq!(s(&time, "calendar"), "proleptic_gregorian");
    assert_eq!(s(&time, "axis"), "T");
    assert_eq!(s(&time, "standard_name"), "time");
    assert!(
        get_attr(&time, "comment").is_none(),
        "empty comment is not written"
    );
    let snap = time_attributes(&c, &clock, Frequency::Snap).unwrap();
    assert_eq!(s(&snap, "long_name"), "snapshot time");
    assert!(get_attr(&snap, "bounds").is_none());
    let bnds = time_bnds_attributes(&c).unwrap();
    assert_eq!(s(&bnds, "long_name"), "time bounds of averaging period");
    assert_eq!(
        s(&bnds, "comment"),
        "Start and End times of averaging period."
    );
    assert!(get_attr(&bnds, "units").is_none());
}

#[test]
fn variable_coordinates_of_real_datasets() {
    let Some(c) = v4r4() else { return };
    let d = c.dataset(ProductType::Native, 17).unwrap();
    let coords: Vec<String> = d
        .variables
        .iter()
        .map(|v| {
            variable_coordinates(ProductType::Native, &v.location().unwrap().native_dims()).unwrap()
        })
        .collect();
    assert_eq!(coords, ["Z time", "Z time", "XC YC Zl time"]);
}

#[test]
fn dynamic_metadata_matches_the_gen_c_example() {
    let Some(c) = v4r4() else { return };
    let config = ProductionConfig::v4r4();
    let d = c.dataset(ProductType::Native, 0).unwrap();
    let period = config.clock.period(Frequency::AvgMon, 732).unwrap();
    let dm = dynamic_metadata(&d, &period, &config);
    // docs/edp-compatibility.md 2.2, verbatim.
    let expected = serde_json::json!({
        "name": "dynamic sea surface height and model sea level anomaly",
        "dimension": "2D",
        "time_coverage_start": "1992-01-01T12:00:00",
        "time_coverage_end": "1992-02-01T00:00:00",
        "time_coverage_center": "1992-01-16T18:00:00",
        "time_long_name": "center time of averaging period",
        "time_coverage_duration": "P1M",
        "time_coverage_resolution": "P1M",
        "comment": "SSH (dynamic sea surface height) = SSHNOIBC (dynamic sea surface without the inverse barometer correction) - SSHIBC (inverse barometer correction). The inverted barometer correction accounts for variations in sea surface height due to atmospheric pressure variations. Note: ETAN is model sea level anomaly and should not be compared with satellite altimetery products, see SSH and ETAN for more details.",
        "summary": "This dataset contains monthly-averaged dynamic sea surface height and model sea level anomaly on the native Lat-Lon-Cap 90 (LLC90) model grid from the ECCO Version 4 revision 4 (V4r4) ocean and sea-ice state estimate."
    });
    // Same keys, same order, same values.
    assert_eq!(serde_json::to_string(&dm).unwrap(), expected.to_string());

    let d = c.dataset(ProductType::Latlon, 11).unwrap();
    let period = config.clock.period(Frequency::AvgMon, 1428).unwrap();
    let dm = serde_json::to_value(dynamic_metadata(&d, &period, &config)).unwrap();
    let keys: Vec<&String> = dm.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "name",
            "dimension",
            "time_coverage_start",
            "time_coverage_end",
            "time_coverage_center",
            "time_long_name",
            "time_coverage_duration",
            "time_coverage_resolution",
            "field_components",
            "field_orientations",
            "summary"
        ]
    );
    assert_eq!(
        dm["field_components"],
        serde_json::json!({"EVEL": {"x": "UVEL", "y": "VVEL"}, "NVEL": {"x": "UVEL", "y": "VVEL"}})
    );
    assert_eq!(
        dm["field_orientations"],
        serde_json::json!({"EVEL": "zonal", "NVEL": "meridional"})
    );
    assert!(dm["summary"].as_str().unwrap().ends_with(
        " interpolated to a regular 0.5-degree grid from the ECCO Version 4 revision 4 (V4r4) ocean and sea-ice state estimate."
    ));
}

#[test]
fn a_placeholder_without_a_dynamic_value_is_an_error() {
    let Some(dir) = v4r4_dir() else { return };
    let native = r#"[
      {"name": "comment", "type": "s", "value": "native"},
      {"name": "doi_extra", "type": "s", "value": "TBD_DOI"}
    ]"#;
    let tmp = overlay(
        &dir,
        &[],
        &[("ECCOv4r4_global_metadata_for_native_datasets.json", native)],
    );
    let c = Catalog::load(tmp.path(), &LoadOptions::default()).unwrap();
    let err = globals(
        &c,
        &ProductionConfig::v4r4(),
        ProductType::Native,
        0,
        Frequency::AvgMon,
        732,
    )
    .unwrap_err();
    assert!(
        matches!(err, AttrError::UnresolvedPlaceholder { ref name, .. } if name == "doi_extra"),
        "{err}"
    );
}
