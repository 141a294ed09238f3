//! The catalog on the real V4r4 metadata directory.

use edp_conventions::catalog::{
    CatalogError, CorrectionKind, GroupingFrequency, Orientation, StaggeringSource, VariableKind,
};
use edp_conventions::staggering::{Horizontal, Staggering, Vertical};
use edp_conventions::{Catalog, Dimension, Frequency, LoadOptions, ProductType};

use super::{overlay, v4r4, v4r4_dir};

use Horizontal::{Centre as C, UFace as U, VFace as V};
use Vertical::{K, KL, Surface as S};

/// `docs/mds-llc.md` 2.2, typed in: every native grouping variable with its location.
#[rustfmt::skip]
const TABLE_2_2: &[(&str, Horizontal, Vertical)] = &[
    ("SSH", C, S), ("SSHIBC", C, S), ("SSHNOIBC", C, S), ("ETAN", C, S), ("OBP", C, S),
    ("OBPGMAP", C, S), ("PHIBOT", C, S), ("EXFpreci", C, S), ("EXFevap", C, S),
    ("EXFroff", C, S), ("SIsnPrcp", C, S), ("EXFempmr", C, S), ("oceFWflx", C, S),
    ("SIatmFW", C, S), ("SFLUX", C, S), ("SIacSubl", C, S), ("SIrsSubl", C, S),
    ("SIfwThru", C, S), ("EXFhl", C, S), ("EXFhs", C, S), ("EXFlwdn", C, S), ("EXFswdn", C, S),
    ("EXFqnet", C, S), ("oceQnet", C, S), ("SIatmQnt", C, S), ("TFLUX", C, S),
    ("EXFswnet", C, S), ("EXFlwnet", C, S), ("oceQsw", C, S), ("SIaaflux", C, S),
    ("EXFatemp", C, S), ("EXFaqh", C, S), ("EXFuwind", C, S), ("EXFvwind", C, S),
    ("EXFwspee", C, S), ("EXFpress", C, S), ("MXLDEPTH", C, S), ("EXFtaux", C, S),
    ("EXFtauy", C, S), ("SIarea", C, S), ("SIheff", C, S), ("SIhsnow", C, S),
    ("sIceLoad", C, S), ("oceSPflx", C, S), ("oceSPDep", C, S),
    ("oceTAUX", U, S), ("SIuice", U, S), ("ADVxHEFF", U, S), ("ADVxSNOW", U, S),
    ("DFxESNOW", U, S), ("DFxEHEFF", U, S),
    ("oceTAUY", V, S), ("SIvice", V, S), ("ADVyHEFF", V, S), ("ADVySNOW", V, S),
    ("DFyEHEFF", V, S), ("DFyESNOW", V, S),
    ("THETA", C, K), ("SALT", C, K), ("RHOAnoma", C, K), ("PHIHYD", C, K), ("PHIHYDcR", C, K),
    ("oceSPtnd", C, K),
    ("WVELMASS", C, KL), ("WVELSTAR", C, KL), ("ADVr_TH", C, KL), ("DFrE_TH", C, KL),
    ("DFrI_TH", C, KL), ("ADVr_SLT", C, KL), ("DFrE_SLT", C, KL), ("DFrI_SLT", C, KL),
    ("DRHODR", C, KL),
    ("UVEL", U, K), ("UVELSTAR", U, K), ("UVELMASS", U, K), ("ADVx_TH", U, K),
    ("DFxE_TH", U, K), ("ADVx_SLT", U, K), ("DFxE_SLT", U, K), ("Um_dPHdx", U, K),
    ("VVEL", V, K), ("VVELSTAR", V, K), ("VVELMASS", V, K), ("ADVy_TH", V, K),
    ("DFyE_TH", V, K), ("ADVy_SLT", V, K), ("DFyE_SLT", V, K), ("Vm_dPHdy", V, K),
    ("GM_PsiX", U, KL), ("GM_PsiY", V, KL),
    ("DIFFKR", C, K), ("KAPGM", C, K), ("KAPREDI", C, K),
];

fn expected(name: &str) -> Staggering {
    let (_, h, v) = TABLE_2_2
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("{name} not in table 2.2"));
    Staggering::new(*h, *v)
}

#[test]
fn loads_every_v4r4_file() {
    let Some(c) = v4r4() else { return };
    assert!(c.skipped().is_empty());
    assert_eq!(c.groupings(ProductType::Native).unwrap().len(), 21);
    // 13 in the file, and the lat-lon mixing coefficients of the PO.DAAC table, which no
    // lat-lon grouping produces, as grouping 13 (the native grouping 20's fields).
    assert_eq!(c.groupings(ProductType::Latlon).unwrap().len(), 14);
    let added = c.grouping(ProductType::Latlon, 13).unwrap();
    assert_eq!(added.filename, "OCEAN_3D_MIXING_COEFFS");
    assert_eq!(
        added.fields,
        c.grouping(ProductType::Native, 20).unwrap().fields
    );
    let repairs: Vec<_> = c
        .repairs()
        .iter()
        .filter(|r| r.kind == edp_conventions::catalog::RepairKind::GroupingFromPodaac)
        .collect();
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    assert_eq!(c.groupings_1d().unwrap().len(), 3);
    assert_eq!(c.variable_metadata().unwrap().entries.len(), 94);
    assert_eq!(c.latlon_variable_metadata().unwrap().entries.len(), 14);
    assert_eq!(
        c.coordinate_metadata(ProductType::Native)
            .unwrap()
            .entries
            .len(),
        23
    );
    assert_eq!(
        c.coordinate_metadata(ProductType::Latlon)
            .unwrap()
            .entries
            .len(),
        10
    );
    assert_eq!(
        c.global_metadata(edp_conventions::catalog::GlobalScope::All)
            .unwrap()
            .len(),
        55
    );
    assert_eq!(c.podaac().unwrap().rows.len(), 79);
    assert_eq!(c.dataset_summaries().unwrap().len(), 79);
    let summary = c.dataset_summary("ECL5M-SSH44").unwrap().unwrap();
    assert!(
        summary
            .summary
            .starts_with("This dataset provides monthly-averaged")
    );
    let (_, log) = c.diagnostics().unwrap();
    assert_eq!(log.len(), 320);
}

#[test]
fn grouping_fields_are_trimmed_and_ids_checked() {
    let Some(c) = v4r4() else { return };
    let g = c.grouping(ProductType::Native, 9).unwrap();
    assert_eq!(g.fields[2], "ADVxSNOW");
    assert_eq!(g.fields.len(), 8);
    let g = c.grouping(ProductType::Latlon, 11).unwrap();
    assert_eq!(
        g.variable_rename,
        [("WVELMASS".to_string(), "WVEL".to_string())]
    );
    for (product, id, count) in [
        (ProductType::Native, 21, 21),
        (ProductType::Native, -1, 21),
        (ProductType::Latlon, 14, 14),
    ] {
        let err = c.dataset(product, id).unwrap_err();
        assert!(
            matches!(err, CatalogError::UnknownGrouping { id: i, count: n, .. } if i == id && n == count),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("id {id}")) && msg.contains("groupings_for_"),
            "{msg}"
        );
    }
}

#[test]
fn every_native_variable_has_the_location_of_table_2_2() {
    let Some(c) = v4r4() else { return };
    let mut seen = 0;
    for id in 0..21 {
        let d = c.dataset(ProductType::Native, id).unwrap();
        for v in &d.variables {
            assert_eq!(v.inputs.len(), 1);
            let input = &v.inputs[0];
            assert_eq!(input.location, expected(&input.name), "{}", input.name);
            assert_eq!(input.location.dimension(), d.dimension, "{}", input.name);
            seen += 1;
        }
    }
    // Groupings 0-9 and 14 (2-D): 4+3+11+12+6+1+4+4+2+8+2; 10-13 and 15-20 (3-D):
    // 2+3+7+8+2+4+3+3+2+3 (docs/edp-compatibility.md 5).
    assert_eq!(seen, 57 + 37);
}

#[test]
fn sources_log_for_diagnostics_builtin_for_mixing_coefficients() {
    let Some(c) = v4r4() else { return };
    let theta = c.locate("THETA").unwrap();
    assert_eq!(
        (theta.source, theta.levels),
        (StaggeringSource::DiagnosticsLog, Some(50))
    );
    let ssh = c.locate("SSH").unwrap();
    assert_eq!(
        (ssh.source, ssh.levels),
        (StaggeringSource::DiagnosticsLog, Some(1))
    );
    // DIFFKR/KAPGM/KAPREDI are not in the log: the TI grouping still resolves.
    let d = c.dataset(ProductType::Native, 20).unwrap();
    assert_eq!(d.frequencies, [GroupingFrequency::TimeInvariant]);
    assert!(d.is_time_invariant());
    assert!(!Frequency::TIME_VARYING.iter().any(|f| d.supports(*f)));
    for v in &d.variables {
        assert_eq!(v.inputs[0].source, StaggeringSource::BuiltinTable);
        assert_eq!(v.inputs[0].levels, None);
        assert_eq!(v.inputs[0].location, Staggering::new(C, K));
    }
    let err = c.locate("NOSUCHVAR").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("NOSUCHVAR") && msg.contains("available_diagnostics.log"),
        "{msg}"
    );
}

#[test]
fn renamed_variables_keep_the_input_name_and_move_last() {
    let Some(c) = v4r4() else { return };
    let d = c.dataset(ProductType::Native, 17).unwrap();
    assert_eq!(d.output_names(), ["UVEL", "VVEL", "WVEL"]);
    let wvel = d.variable("WVEL").unwrap();
    assert_eq!(wvel.inputs[0].name, "WVELMASS");
    assert_eq!(wvel.inputs[0].location, Staggering::new(C, KL));
    assert_eq!(wvel.kind, VariableKind::Direct);
    assert_eq!(d.input_names(), ["UVEL", "VVEL", "WVELMASS"]);
    assert_eq!(d.dimension, Dimension::ThreeD);
    assert!(d.supports(Frequency::AvgMon) && !d.supports(Frequency::Snap));
}

#[test]
fn latlon_vectors_expose_components_and_orientation() {
    let Some(c) = v4r4() else { return };
    let d = c.dataset(ProductType::Latlon, 11).unwrap();
    assert_eq!(d.output_names(), ["EVEL", "NVEL", "WVEL"]);
    let evel = d.variable("EVEL").unwrap();
    assert_eq!(
        evel.kind,
        VariableKind::Vector {
            x: "UVEL".into(),
            y: "VVEL".into(),
            orientation: Orientation::Zonal
        }
    );
    let names: Vec<&str> = evel.inputs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["UVEL", "VVEL"]);
    assert_eq!(evel.inputs[0].location, Staggering::new(U, K));
    assert_eq!(evel.inputs[1].location, Staggering::new(V, K));
    assert!(matches!(
        d.variable("NVEL").unwrap().kind,
        VariableKind::Vector {
            orientation: Orientation::Meridional,
            ..
        }
    ));
    assert_eq!(d.input_names(), ["UVEL", "VVEL", "WVELMASS"]);
    assert_eq!(d.field_components.len(), 2);
    assert!(d.has_vectors());

    // Wind stress: EXFtaux/EXFtauy at centres, oceTAUX/oceTAUY on faces.
    let d = c.dataset(ProductType::Latlon, 6).unwrap();
    let locations: Vec<(&str, Staggering)> = d
        .variables
        .iter()
        .flat_map(|v| v.inputs.iter().map(|i| (i.name.as_str(), i.location)))
        .collect();
    assert_eq!(locations[0], ("EXFtaux", Staggering::new(C, S)));
    assert_eq!(locations[1], ("EXFtauy", Staggering::new(C, S)));
    assert_eq!(locations[4], ("oceTAUX", Staggering::new(U, S)));
    assert_eq!(locations[5], ("oceTAUY", Staggering::new(V, S)));

    // Every lat-lon grouping resolves; scalars keep their native location.
    for id in 0..13 {
        let d = c.dataset(ProductType::Latlon, id).unwrap();
        assert!(d.supports(Frequency::AvgDay) && !d.supports(Frequency::Snap));
        for input in d.variables.iter().flat_map(|v| &v.inputs) {
            assert_eq!(input.location, expected(&input.name), "{}", input.name);
        }
    }
}

#[test]
fn known_metadata_errors_of_section_2_3_are_reported_as_corrections() {
    let Some(c) = v4r4() else { return };
    let mut all = Vec::new();
    for id in 0..21 {
        all.extend(c.dataset(ProductType::Native, id).unwrap().corrections);
    }
    let has = |var: &str, kind: CorrectionKind, meta: &str, corrected: &str| {
        all.iter().any(|x| {
            x.variable == var && x.kind == kind && x.metadata == meta && x.corrected == corrected
        })
    };
    for var in ["EXFtaux", "EXFuwind"] {
        assert!(
            has(var, CorrectionKind::HorizontalLocation, "u", "c"),
            "{var}"
        );
    }
    for var in ["EXFtauy", "EXFvwind"] {
        assert!(
            has(var, CorrectionKind::HorizontalLocation, "v", "c"),
            "{var}"
        );
    }
    for var in [
        "WVELMASS", "WVELSTAR", "ADVr_TH", "DFrE_TH", "DFrI_TH", "ADVr_SLT", "DFrE_SLT",
        "DFrI_SLT", "DRHODR",
    ] {
        assert!(
            has(var, CorrectionKind::VerticalLocation, "c", "c, k_l"),
            "{var}"
        );
    }
    assert!(has(
        "ADVy_SLT",
        CorrectionKind::MissingLocation,
        "absent",
        "v"
    ));
    for var in ["EXFqnet", "EXFswdn", "SIarea", "SIatmQnt"] {
        assert!(
            has(var, CorrectionKind::MissingLocation, "absent", "c"),
            "{var}"
        );
    }
    for var in [
        "ADVxHEFF", "ADVyHEFF", "ADVxSNOW", "ADVySNOW", "DFxESNOW", "DFyEHEFF", "DFxEHEFF",
        "DFyESNOW",
    ] {
        assert!(has(var, CorrectionKind::Dimension, "3D", "2D"), "{var}");
    }
    assert!(has("oceSPtnd", CorrectionKind::Dimension, "2D", "3D"));
    // Correct metadata produces no correction.
    assert!(
        !all.iter()
            .any(|x| ["THETA", "SSH", "UVEL", "oceTAUX"].contains(&x.variable.as_str()))
    );
    let text = all
        .iter()
        .find(|x| x.variable == "EXFtaux")
        .unwrap()
        .to_string();
    assert!(
        text.contains("grid_location 'u' corrected to 'c'"),
        "{text}"
    );
}

#[test]
fn without_the_log_the_builtin_table_gives_the_same_locations() {
    let Some(dir) = v4r4_dir() else { return };
    let tmp = overlay(&dir, &["available_diagnostics.log"], &[]);
    let c = Catalog::load(tmp.path(), &LoadOptions::default()).unwrap();
    assert!(c.diagnostics().is_none());
    for id in 0..21 {
        for input in c
            .dataset(ProductType::Native, id)
            .unwrap()
            .variables
            .iter()
            .flat_map(|v| &v.inputs)
        {
            assert_eq!(input.source, StaggeringSource::BuiltinTable);
            assert_eq!(input.location, expected(&input.name), "{}", input.name);
        }
    }
    let err = c.locate("TOTUTEND").unwrap_err();
    assert!(
        err.to_string().contains("has no available_diagnostics.log"),
        "{err}"
    );
}

#[test]
fn a_log_that_contradicts_the_builtin_table_is_an_error() {
    let Some(dir) = v4r4_dir() else { return };
    let log = "  Num  |<-Name->|Levs|  mate |<- code ->|<--  Units   -->|<- Tile\n\
               \x20   29 |THETA   | 50 |       |SUR     MR|degC            |Potential Temperature\n\
               \x20   24 |SSH     |  1 |       |SM      M1|m               |SSH\n";
    let tmp = overlay(&dir, &[], &[("available_diagnostics.log", log)]);
    let c = Catalog::load(tmp.path(), &LoadOptions::default()).unwrap();
    let err = c.dataset(ProductType::Native, 15).unwrap_err();
    assert!(
        matches!(err, CatalogError::StaggeringConflict { ref variable, .. } if variable == "THETA"),
        "{err}"
    );
    assert!(err.to_string().contains("available_diagnostics.log"));
    // A variable missing from a present log falls back to the table.
    assert_eq!(
        c.locate("SALT").unwrap().source,
        StaggeringSource::BuiltinTable
    );
    assert_eq!(
        c.locate("SSH").unwrap().source,
        StaggeringSource::DiagnosticsLog
    );
}

#[test]
fn missing_and_ambiguous_files_are_errors() {
    let Some(dir) = v4r4_dir() else { return };
    let tmp = overlay(&dir, &["ECCOv4r4_groupings_for_latlon_datasets.json"], &[]);
    let err = Catalog::load(tmp.path(), &LoadOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, CatalogError::MissingFile { .. }), "{msg}");
    assert!(msg.contains("*groupings_for_latlon_datasets.json"), "{msg}");

    let tmp = overlay(&dir, &[], &[("old_variable_metadata.json", "[]")]);
    let err = Catalog::load(tmp.path(), &LoadOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, CatalogError::AmbiguousFile { .. }), "{msg}");
    assert!(
        msg.contains("ECCOv4r4_variable_metadata.json")
            && msg.contains("old_variable_metadata.json"),
        "{msg}"
    );

    // Optional files may be absent.
    let tmp = overlay(
        &dir,
        &[
            "ECCOv4r4_dataset_summary.json",
            "ECCOv4r4_geometry_metadata_for_native_datasets.json",
        ],
        &[],
    );
    let c = Catalog::load(tmp.path(), &LoadOptions::default()).unwrap();
    let err = c.dataset_summaries().unwrap_err();
    assert!(err.to_string().contains("*dataset_summary.json"), "{err}");

    let options = LoadOptions {
        podaac_filename: "nope.csv".into(),
        ..LoadOptions::default()
    };
    let err = Catalog::load(&dir, &options).unwrap_err();
    assert!(err.to_string().contains("nope.csv"), "{err}");
}

#[test]
fn a_grouping_with_an_unresolvable_rename_is_an_error() {
    let Some(dir) = v4r4_dir() else { return };
    let groupings = r#"[
      {"name": "a", "fields": "SSH", "filename": "A", "dimension": "2D", "frequency": "AVG_MON",
       "variable_rename": "ETAN:ETA"},
      {"name": "b", "fields": "SSH, THETA", "filename": "B", "dimension": "2D", "frequency": "AVG_MON"},
      {"name": "c", "fields": "EVEL", "filename": "C", "dimension": "3D", "frequency": "AVG_MON",
       "field_components": {"EVEL": {"x": "UVEL", "y": "VVEL"}}}
    ]"#;
    let tmp = overlay(
        &dir,
        &[],
        &[("ECCOv4r4_groupings_for_latlon_datasets.json", groupings)],
    );
    let c = Catalog::load(tmp.path(), &LoadOptions::default()).unwrap();
    let cases = [
        (0, "'ETAN', which is not in fields"),
        (1, "grouping is 2D but THETA"),
        (2, "no field_orientations"),
    ];
    for (id, needle) in cases {
        let err = c.dataset(ProductType::Latlon, id).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(needle) && msg.contains("groupings_for_latlon"),
            "{msg}"
        );
    }
}

#[test]
fn a_catalog_loads_from_files_in_memory() {
    let Some(dir) = v4r4_dir() else { return };
    let options = LoadOptions::default();
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .filter(|(name, _)| edp_conventions::catalog::is_catalog_file(name, &options))
        .collect();
    assert_eq!(files.len(), 17 + 2);
    let remote = Catalog::from_files("s3://bucket/metadata", files.clone(), &options).unwrap();
    let local = Catalog::load(&dir, &options).unwrap();
    for id in [0, 11, 17] {
        assert_eq!(
            remote.dataset(ProductType::Native, id).unwrap(),
            local.dataset(ProductType::Native, id).unwrap()
        );
    }
    assert_eq!(
        remote
            .groupings_path(ProductType::Native)
            .unwrap()
            .display()
            .to_string(),
        "s3://bucket/metadata/ECCOv4r4_groupings_for_native_datasets.json"
    );
    // Errors name the remote location.
    for (name, bytes) in &mut files {
        if name == "time_coordinate_metadata.json" {
            *bytes = b"[{\"name\": 1}]".to_vec();
        }
    }
    let err = Catalog::from_files("s3://bucket/metadata", files, &options).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("s3://bucket/metadata/time_coordinate_metadata.json"),
        "{msg}"
    );
}
