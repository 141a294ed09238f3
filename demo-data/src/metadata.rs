//! The demo ECCO metadata directory: the file set and JSON structures of the published ECCO
//! metadata (`docs/metadata.md` 1-2), describing only the demo groupings, written in our
//! own words. Names, units and CF standard names are the ECCO facts.

use std::path::Path;

use edp_conventions::ProductType;
use edp_conventions::catalog::{DEFAULT_PODAAC_FILENAME, DIAGNOSTICS_LOG_FILENAME};
use serde_json::{Map, Value, json};

use crate::DemoSpec;
use crate::error::{DemoError, create_dir, write_file, write_json};
use crate::variables::{DIAGNOSTICS, DemoGrouping, LATLON_VARIABLES, VARIABLES, VariableText};

/// Prefix of the demo metadata file names (the catalog matches `*<identifier>.json`).
const PREFIX: &str = "EDPdemo_";

/// Writes every metadata file into `dir`.
pub(crate) fn write(dir: &Path, spec: &DemoSpec) -> Result<(), DemoError> {
    create_dir(dir)?;
    let file = |name: &str| dir.join(format!("{PREFIX}{name}.json"));
    for product in ProductType::ALL {
        write_json(
            &file(&format!("groupings_for_{product}_datasets")),
            &groupings(product),
        )?;
        write_json(
            &file(&format!("coordinate_metadata_for_{product}_datasets")),
            &coordinates(product),
        )?;
        write_json(
            &file(&format!("global_metadata_for_{product}_datasets")),
            &product_globals(product, spec),
        )?;
    }
    write_json(&file("variable_metadata"), &variables(VARIABLES))?;
    write_json(
        &file("variable_metadata_for_latlon_datasets"),
        &variables(LATLON_VARIABLES),
    )?;
    write_json(&file("global_metadata_for_all_datasets"), &all_globals())?;
    // The time coordinate file has no prefix in the published set either.
    write_json(
        &dir.join("time_coordinate_metadata.json"),
        &time_coordinates(),
    )?;
    write_file(&dir.join(DEFAULT_PODAAC_FILENAME), podaac_table(spec))?;
    write_file(&dir.join(DIAGNOSTICS_LOG_FILENAME), diagnostics_log(spec))?;
    Ok(())
}

fn groupings(product: ProductType) -> Value {
    let list: Vec<Value> = DemoGrouping::all(product)
        .map(|g| {
            let mut o = Map::new();
            o.insert("name".into(), json!(g.name));
            o.insert("fields".into(), json!(g.fields.join(", ")));
            if let Some(comment) = g.comment {
                o.insert("comment".into(), json!(comment));
            }
            if !g.vectors.is_empty() {
                let components: Map<String, Value> = g
                    .vectors
                    .iter()
                    .map(|v| (v.name.to_string(), json!({"x": v.x, "y": v.y})))
                    .collect();
                let orientations: Map<String, Value> = g
                    .vectors
                    .iter()
                    .map(|v| (v.name.to_string(), json!(v.orientation)))
                    .collect();
                o.insert("field_components".into(), Value::Object(components));
                o.insert("field_orientations".into(), Value::Object(orientations));
            }
            o.insert("product".into(), json!(product.as_str()));
            if let Some((old, new)) = g.rename {
                o.insert("variable_rename".into(), json!(format!("{old}:{new}")));
            }
            o.insert("filename".into(), json!(g.filename));
            o.insert("dimension".into(), json!(g.dimension));
            o.insert("frequency".into(), json!("AVG_DAY, AVG_MON"));
            Value::Object(o)
        })
        .collect();
    Value::Array(list)
}

fn variables(list: &[VariableText]) -> Value {
    Value::Array(
        list.iter()
            .map(|v| {
                let mut o = Map::new();
                o.insert("name".into(), json!(v.name));
                o.insert("long_name".into(), json!(v.long_name));
                o.insert("units".into(), json!(v.units));
                if let Some(sn) = v.standard_name {
                    o.insert("standard_name".into(), json!(sn));
                }
                o.insert("comments_1".into(), json!(v.comments_1));
                o.insert("comments_2".into(), json!(v.comments_2));
                if let Some(d) = v.direction {
                    o.insert("direction".into(), json!(d));
                }
                o.insert("GCMD_keywords".into(), json!(v.gcmd));
                o.insert("grid_dimension".into(), json!(v.grid_dimension));
                if let Some(loc) = v.grid_location {
                    o.insert("grid_location".into(), json!(loc));
                }
                o.insert("coverage_content_type".into(), json!("modelResult"));
                Value::Object(o)
            })
            .collect(),
    )
}

/// One coordinate entry; `extra` holds the optional keys in order.
fn coordinate(name: &str, long_name: &str, dims: &str, extra: &[(&str, &str)]) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), json!(name));
    o.insert("long_name".into(), json!(long_name));
    for (k, v) in extra {
        o.insert((*k).into(), json!(v));
    }
    o.insert("grid_dimension".into(), json!(dims));
    o.insert("coverage_content_type".into(), json!("coordinate"));
    Value::Object(o)
}

const TIME_UNITS: &str = "hours since 1992-01-01 12:00:00";

fn time_entries() -> Vec<Value> {
    vec![
        coordinate(
            "time",
            "center time of averaging period or snapshot time",
            "1D 2D 3D",
            &[
                ("standard_name", "time"),
                ("units", TIME_UNITS),
                ("axis", "T"),
                ("bounds", "time_bnds"),
            ],
        ),
        coordinate(
            "time_bnds",
            "time bounds of averaging period",
            "1D 2D 3D",
            &[
                ("comment", "Start and end of the averaging period."),
                ("units", TIME_UNITS),
            ],
        ),
    ]
}

fn coordinates(product: ProductType) -> Value {
    let mut list = time_entries();
    let depth = |name: &str, long: &str, comment: &str, bounds: Option<&str>| {
        let mut extra = vec![
            ("standard_name", "depth"),
            ("comment", comment),
            ("units", "m"),
            ("positive", "up"),
        ];
        if let Some(b) = bounds {
            extra.push(("bounds", b));
        }
        coordinate(name, long, "3D", &extra)
    };
    match product {
        ProductType::Native => {
            let index = |name: &str, long: &str, axis: Option<&str>, dims: &str| {
                let extra: Vec<(&str, &str)> = axis.map(|a| ("axis", a)).into_iter().collect();
                coordinate(name, long, dims, &extra)
            };
            list.extend([
                index(
                    "i",
                    "grid index in x of tracer and 'v' points",
                    Some("X"),
                    "2D 3D",
                ),
                index(
                    "i_g",
                    "grid index in x of 'u' and corner points",
                    None,
                    "2D 3D",
                ),
                index(
                    "j",
                    "grid index in y of tracer and 'u' points",
                    Some("Y"),
                    "2D 3D",
                ),
                index(
                    "j_g",
                    "grid index in y of 'v' and corner points",
                    None,
                    "2D 3D",
                ),
                index("k", "grid index in z of tracer points", Some("Z"), "3D"),
                index(
                    "k_l",
                    "grid index in z of the top faces of tracer cells",
                    None,
                    "3D",
                ),
                index(
                    "k_u",
                    "grid index in z of the bottom faces of tracer cells",
                    None,
                    "3D",
                ),
                index(
                    "k_p1",
                    "grid index in z of all tracer cell faces",
                    None,
                    "3D",
                ),
                index("tile", "lat-lon-cap tile index", None, "2D 3D"),
                coordinate(
                    "XC",
                    "longitude of tracer cell center",
                    "2D 3D",
                    &[
                        ("standard_name", "longitude"),
                        ("units", "degrees_east"),
                        ("bounds", "XC_bnds"),
                    ],
                ),
                coordinate(
                    "YC",
                    "latitude of tracer cell center",
                    "2D 3D",
                    &[
                        ("standard_name", "latitude"),
                        ("units", "degrees_north"),
                        ("bounds", "YC_bnds"),
                    ],
                ),
                coordinate("XC_bnds", "longitudes of tracer cell corners", "2D 3D", &[]),
                coordinate("YC_bnds", "latitudes of tracer cell corners", "2D 3D", &[]),
                coordinate(
                    "XG",
                    "longitude of the 'southwest' corner of the tracer cell",
                    "2D 3D",
                    &[("standard_name", "longitude"), ("units", "degrees_east")],
                ),
                coordinate(
                    "YG",
                    "latitude of the 'southwest' corner of the tracer cell",
                    "2D 3D",
                    &[("standard_name", "latitude"), ("units", "degrees_north")],
                ),
                depth(
                    "Z",
                    "depth of tracer cell center",
                    "Levels are not evenly spaced.",
                    Some("Z_bnds"),
                ),
                coordinate(
                    "Z_bnds",
                    "depths of the top and bottom faces of tracer cells",
                    "3D",
                    &[("units", "m"), ("positive", "up")],
                ),
                depth(
                    "Zp1",
                    "depth of tracer cell faces",
                    "One more value than levels.",
                    None,
                ),
                depth(
                    "Zu",
                    "depth of the bottom face of tracer cells",
                    "Bottom faces.",
                    None,
                ),
                depth(
                    "Zl",
                    "depth of the top face of tracer cells",
                    "Top faces; the first is 0 m.",
                    None,
                ),
            ]);
        }
        ProductType::Latlon => {
            list.extend([
                coordinate(
                    "latitude",
                    "latitude of grid cell center",
                    "2D 3D",
                    &[
                        ("units", "degrees_north"),
                        ("standard_name", "latitude"),
                        ("axis", "Y"),
                        ("bounds", "latitude_bnds"),
                    ],
                ),
                coordinate(
                    "latitude_bnds",
                    "latitudes of grid cell edges",
                    "2D 3D",
                    &[("units", "degrees_north")],
                ),
                coordinate(
                    "longitude",
                    "longitude of grid cell center",
                    "2D 3D",
                    &[
                        ("units", "degrees_east"),
                        ("standard_name", "longitude"),
                        ("axis", "X"),
                        ("bounds", "longitude_bnds"),
                    ],
                ),
                coordinate(
                    "longitude_bnds",
                    "longitudes of grid cell edges",
                    "2D 3D",
                    &[("units", "degrees_east")],
                ),
                depth(
                    "Z",
                    "depth of grid cell center",
                    "Levels are not evenly spaced.",
                    Some("Z_bnds"),
                ),
                depth(
                    "Zp1",
                    "depth of grid cell faces",
                    "One more value than levels.",
                    None,
                ),
                coordinate(
                    "Z_bnds",
                    "depths of grid cell upper and lower faces",
                    "3D",
                    &[("units", "m"), ("positive", "up")],
                ),
            ]);
        }
    }
    Value::Array(list)
}

fn time_coordinates() -> Value {
    let mut list = time_entries();
    list.push(coordinate(
        "time_step",
        "model time step at the end of the averaging period or at the snapshot",
        "1D 2D 3D",
        &[("units", "hours")],
    ));
    Value::Array(list)
}

/// One global attribute entry; `dims` limits it to 2D or 3D granules.
fn global(name: &str, kind: &str, value: Value, dims: Option<&str>) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), json!(name));
    o.insert("type".into(), json!(kind));
    o.insert("value".into(), value);
    if let Some(d) = dims {
        o.insert("grid_dimension".into(), json!(d));
    }
    Value::Object(o)
}

fn all_globals() -> Value {
    let s = |name: &str, value: &str| global(name, "s", json!(value), None);
    let tbd = |name: &str| global(name, "s", json!("TBD_DATASET"), None);
    let both = Some("2D 3D");
    Value::Array(vec![
        s(
            "acknowledgement",
            "Synthetic data generated by the edp demo; not a scientific product.",
        ),
        s("author", "edp demo generator"),
        s("cdm_data_type", "Grid"),
        s("Conventions", "CF-1.8, ACDD-1.3"),
        s("creator_name", "edp demo"),
        s("creator_type", "group"),
        tbd("date_created"),
        tbd("date_issued"),
        tbd("date_metadata_modified"),
        global("geospatial_lat_max", "f", json!("90"), both),
        global("geospatial_lat_min", "f", json!("-90"), both),
        global("geospatial_lat_units", "s", json!("degrees_north"), both),
        global("geospatial_lon_max", "f", json!("180"), both),
        global("geospatial_lon_min", "f", json!("-180"), both),
        global("geospatial_lon_units", "s", json!("degrees_east"), both),
        global("geospatial_bounds_crs", "s", json!("EPSG:4326"), both),
        global("geospatial_vertical_max", "f", json!("0"), Some("3D")),
        global("geospatial_vertical_positive", "s", json!("up"), Some("3D")),
        global(
            "geospatial_vertical_resolution",
            "s",
            json!("variable"),
            Some("3D"),
        ),
        global("geospatial_vertical_units", "s", json!("meter"), Some("3D")),
        s("history", "Demo release"),
        global("id", "s", json!("TBD_DOI"), None),
        s("institution", "edp demo"),
        s(
            "keywords",
            "EARTH SCIENCE SERVICES > MODELS > EARTH SCIENCE REANALYSES/ASSIMILATION MODELS",
        ),
        s(
            "keywords_vocabulary",
            "NASA Global Change Master Directory (GCMD) Science Keywords",
        ),
        s("license", "Public Domain"),
        tbd("metadata_link"),
        s("naming_authority", "invalid.example.edp-demo"),
        s("processing_level", "L4"),
        global("product_name", "s", json!("TBD_FILENAME"), None),
        s("product_time_coverage_end", "2018-01-01T00:00:00"),
        s("product_time_coverage_start", "1992-01-01T12:00:00"),
        s("product_version", "Demo"),
        s("project", "edp demonstration dataset"),
        s("references", "edp architecture and format notes"),
        s("source", "Analytic fields on a synthetic lat-lon-cap grid"),
        s(
            "standard_name_vocabulary",
            "NetCDF Climate and Forecast (CF) Metadata Convention",
        ),
        s(
            "summary",
            "Synthetic ocean fields for demonstrating the edp pipeline.",
        ),
        tbd("time_coverage_end"),
        tbd("time_coverage_start"),
        tbd("title"),
        tbd("uuid"),
    ])
}

fn product_globals(product: ProductType, spec: &DemoSpec) -> Value {
    let both = Some("2D 3D");
    match product {
        ProductType::Native => Value::Array(vec![
            global(
                "comment",
                "s",
                json!(format!(
                    "Fields on the native curvilinear lat-lon-cap {} grid of the demo, 13 tiles.",
                    spec.n
                )),
                None,
            ),
            global("geospatial_lat_resolution", "s", json!("variable"), both),
            global("geospatial_lon_resolution", "s", json!("variable"), both),
        ]),
        ProductType::Latlon => Value::Array(vec![
            global(
                "comment",
                "s",
                json!("Fields interpolated to a regular latitude-longitude grid."),
                None,
            ),
            global(
                "geospatial_lat_resolution",
                "f",
                json!(spec.latlon_resolution.to_string()),
                both,
            ),
            global(
                "geospatial_lon_resolution",
                "f",
                json!(spec.latlon_resolution.to_string()),
                both,
            ),
        ]),
    }
}

/// The PO.DAAC-style dataset table: one row per grouping, product type and period, with the
/// example file name of the first granule (matched on its head and tail, `docs/metadata.md`
/// 5).
fn podaac_table(spec: &DemoSpec) -> String {
    let mut out = String::from(
        "concept-id,DATASET.LONG_NAME,DATASET.SHORT_NAME,DATASET.FILENAME,DATASET.PERSISTENT_ID\n",
    );
    let mut row = 0;
    for grouping in crate::variables::DEMO_GROUPINGS {
        for (period, date, word, letter) in [
            ("mon_mean", "1992-01", "Monthly Mean", "M"),
            ("day_mean", "1992-01-01", "Daily Mean", "D"),
        ] {
            row += 1;
            let (grid_word, grid_letter) = match grouping.product {
                ProductType::Native => ("Native Grid", "N"),
                ProductType::Latlon => ("Lat-Lon Grid", "L"),
            };
            let label = spec.grid_label(grouping.product);
            let filename = format!(
                "{}_{period}_{date}_ECCO_{}_{}_{label}.nc",
                grouping.filename,
                crate::DEMO_ECCO_VERSION,
                grouping.product
            );
            let title = format!("EDP demo {} - {word} {grid_word}", grouping.name);
            let short = format!(
                "EDP_DEMO_{}_{}_{}",
                grouping.tag,
                grouping.product.as_str().to_ascii_uppercase(),
                word.split(' ').next().unwrap_or(word).to_ascii_uppercase()
            );
            let persistent = format!("PODAAC-EDPD{letter}{grid_letter}-{}", grouping.tag);
            out.push_str(&format!(
                "C{row:08}-DEMO,\"{title}\",{short},{filename},{persistent}\n"
            ));
        }
    }
    out
}

/// An `available_diagnostics.log` listing the demo diagnostics (Levs = the demo's levels).
fn diagnostics_log(spec: &DemoSpec) -> String {
    let rule = "-".repeat(84);
    let mut out = format!(
        " Total Nb of available Diagnostics: ndiagt= {:>5}\n{rule}\n  Num  |<-Name->|Levs|  mate |<- code ->|<--  Units   -->|<- Tile (max=80c)\n{rule}\n",
        DIAGNOSTICS.len()
    );
    let number = |name: &str| {
        DIAGNOSTICS
            .iter()
            .position(|d| d.name == name)
            .map(|p| p + 1)
    };
    for (index, d) in DIAGNOSTICS.iter().enumerate() {
        let levels = if d.location.is_3d() { spec.nz } else { 1 };
        // UVEL and VVEL are each other's vector mate.
        let mate = match d.name {
            "UVEL" => number("VVEL"),
            "VVEL" => number("UVEL"),
            _ => None,
        }
        .map(|m| format!("{m:>6} "))
        .unwrap_or_else(|| "       ".to_string());
        out.push_str(&format!(
            "{:>6} |{:<8}|{:>3} |{mate}|{}|{:<16}|{}\n",
            index + 1,
            d.name,
            levels,
            d.code,
            d.log_units,
            d.title
        ));
    }
    out
}
