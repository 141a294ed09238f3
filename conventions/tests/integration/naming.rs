//! Input discovery names, granule names and output paths.

use edp_conventions::naming::{
    GranuleName, MdsFileKind, MdsFileName, OutputPeriod, PeriodToken, SnapInstants,
    granule_file_name, granule_path, input_freq_dir, input_period_tokens, match_mds_file_name,
    mds_file_name,
};
use edp_conventions::{Frequency, ModelClock, ProductType};

#[test]
fn frequency_directories_and_tokens() {
    assert_eq!(input_freq_dir(Frequency::AvgMon), "diags_monthly");
    assert_eq!(input_freq_dir(Frequency::AvgDay), "diags_daily");
    assert_eq!(input_freq_dir(Frequency::Snap), "diags_inst");
    let names = |f, s| -> Vec<&str> {
        input_period_tokens(f, s)
            .iter()
            .map(|t| t.as_str())
            .collect()
    };
    assert_eq!(names(Frequency::AvgMon, SnapInstants::Daily), ["mon_mean"]);
    assert_eq!(
        names(Frequency::AvgDay, SnapInstants::Monthly),
        ["day_mean"]
    );
    assert_eq!(
        names(Frequency::Snap, SnapInstants::Daily),
        ["day_inst", "day_snap", "snap"]
    );
    assert_eq!(
        names(Frequency::Snap, SnapInstants::Monthly),
        ["mon_inst", "mon_snap", "snap"]
    );
    assert_eq!(OutputPeriod::of(Frequency::Snap).as_str(), "snap");
}

#[test]
fn mds_names_split_on_the_period_token_not_the_first_underscore() {
    let cases = [
        (
            "SSH_mon_mean.0000000732.data",
            "SSH",
            PeriodToken::MonMean,
            732,
            MdsFileKind::Data,
        ),
        (
            "ADVx_TH_day_mean.0000000036.meta",
            "ADVx_TH",
            PeriodToken::DayMean,
            36,
            MdsFileKind::Meta,
        ),
        (
            "GM_PsiX_mon_mean.0000227904.data",
            "GM_PsiX",
            PeriodToken::MonMean,
            227_904,
            MdsFileKind::Data,
        ),
        (
            "THETA_day_inst.0000000012.data",
            "THETA",
            PeriodToken::DayInst,
            12,
            MdsFileKind::Data,
        ),
        (
            "THETA_mon_snap.0000000732.data",
            "THETA",
            PeriodToken::MonSnap,
            732,
            MdsFileKind::Data,
        ),
        (
            "THETA_snap.0000000012.meta",
            "THETA",
            PeriodToken::Snap,
            12,
            MdsFileKind::Meta,
        ),
        (
            "Um_dPHdx_mon_mean.0000001428.data",
            "Um_dPHdx",
            PeriodToken::MonMean,
            1428,
            MdsFileKind::Data,
        ),
    ];
    for (name, var, period, step, kind) in cases {
        let parsed = MdsFileName::parse(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(parsed.variable, var, "{name}");
        assert_eq!(
            (parsed.period, parsed.step, parsed.kind),
            (period, step, kind),
            "{name}"
        );
        assert_eq!(mds_file_name(var, period, step, kind), name);
        assert_eq!(
            match_mds_file_name(name, var, period),
            Some((step, kind)),
            "{name}"
        );
    }
}

#[test]
fn mds_names_are_matched_exactly() {
    for bad in [
        "SSH_mon_mean.732.data",
        "SSH_mon_mean.0000000732.dat",
        "SSH_mon_mean.0000000732.data.gz",
        "SSH_mon_mean.00000007320.data",
        "SSH_year_mean.0000000732.data",
        "_mon_mean.0000000732.data",
        "SSH_mon_mean.000000073x.data",
        "XC.data",
    ] {
        assert_eq!(MdsFileName::parse(bad), None, "{bad}");
    }
    // EDP's `.*` prefix match would accept these; an exact match does not.
    assert_eq!(
        match_mds_file_name("xSSH_mon_mean.0000000732.data", "SSH", PeriodToken::MonMean),
        None
    );
    assert_eq!(
        match_mds_file_name("SSH_mon_mean.0000000732.data", "SSH", PeriodToken::DayMean),
        None
    );
    assert_eq!(
        match_mds_file_name(
            "SSHIBC_mon_mean.0000000732.data",
            "SSH",
            PeriodToken::MonMean
        ),
        None
    );
    assert_eq!(
        match_mds_file_name("SSH_mon_mean.0000000732.data", "SSH", PeriodToken::MonMean),
        Some((732, MdsFileKind::Data))
    );
}

#[test]
fn granule_names_follow_the_format_doc_examples() {
    let clock = ModelClock::v4r4();
    let mon = clock.period(Frequency::AvgMon, 732).unwrap();
    assert_eq!(
        granule_file_name(
            "SEA_SURFACE_HEIGHT",
            &mon,
            "V4r4",
            ProductType::Latlon,
            "0p50deg"
        ),
        "SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_latlon_0p50deg.nc"
    );
    // Daily: date of the centre (1992-01-01T18:00), not of the end (EDP bug 7.4).
    let day = clock.period(Frequency::AvgDay, 12).unwrap();
    assert_eq!(
        granule_file_name(
            "OCEAN_TEMPERATURE_SALINITY",
            &day,
            "V4r4",
            ProductType::Native,
            "llc0090"
        ),
        "OCEAN_TEMPERATURE_SALINITY_day_mean_1992-01-01_ECCO_V4r4_native_llc0090.nc"
    );
    let snap = clock.period(Frequency::Snap, 12).unwrap();
    assert_eq!(
        granule_file_name(
            "SEA_SURFACE_HEIGHT",
            &snap,
            "V4r4",
            ProductType::Native,
            "llc0090"
        ),
        "SEA_SURFACE_HEIGHT_snap_1992-01-02T000000_ECCO_V4r4_native_llc0090.nc"
    );
}

#[test]
fn granule_names_parse_back() {
    let name = "OCEAN_3D_VOLUME_FLUX_day_mean_2017-12-30_ECCO_V4r4_native_llc0090.nc";
    let g = GranuleName::parse(name).unwrap();
    assert_eq!(g.prefix, "OCEAN_3D_VOLUME_FLUX");
    assert_eq!(g.period, OutputPeriod::DayMean);
    assert_eq!(g.date, "2017-12-30");
    assert_eq!(
        (g.ecco_version.as_str(), g.product, g.grid_label.as_str()),
        ("V4r4", ProductType::Native, "llc0090")
    );
    assert_eq!(g.to_string(), name);
    assert_eq!(g.podaac_head(), "OCEAN_3D_VOLUME_FLUX_day_mean");
    assert_eq!(g.podaac_tail(), "native_llc0090.nc");
    let s =
        GranuleName::parse("SEA_ICE_VELOCITY_snap_1992-01-02T000000_ECCO_V4r4_native_llc0090.nc")
            .unwrap();
    assert_eq!(
        (s.prefix.as_str(), s.period),
        ("SEA_ICE_VELOCITY", OutputPeriod::Snap)
    );
    assert_eq!(s.date_time().unwrap().to_string(), "1992-01-02 00:00:00");
}

#[test]
fn malformed_granule_names_are_errors_that_say_why() {
    let cases = [
        ("SSH_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc4", "'.nc'"),
        ("SSH_mon_mean_1992-01_V4r4_native_llc0090.nc", "_ECCO_"),
        ("SSH_mon_mean_1992-01_ECCO_V4r4_tiles_llc0090.nc", "native"),
        (
            "SSH_mon_mean_1992-01-01_ECCO_V4r4_native_llc0090.nc",
            "YYYY-MM",
        ),
        (
            "SSH_day_mean_1992-13-01_ECCO_V4r4_native_llc0090.nc",
            "YYYY-MM-DD",
        ),
        (
            "SSH_snap_1992-01-02T00:00:00_ECCO_V4r4_native_llc0090.nc",
            "hhmmss",
        ),
        ("SSH_year_mean_1992_ECCO_V4r4_native_llc0090.nc", "period"),
        ("mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc", "period"),
        ("SSH_mon_mean_1992-01_ECCO_V4r4_native.nc", "<version>"),
    ];
    for (name, needle) in cases {
        let err = GranuleName::parse(name).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(name) && msg.contains(needle), "{name}: {msg}");
    }
}

#[test]
fn output_paths_join_like_os_path_join() {
    let name = "SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc";
    let join = |root| {
        granule_path(
            root,
            "V4r4",
            ProductType::Native,
            Frequency::AvgMon,
            "SEA_SURFACE_HEIGHT",
            name,
        )
    };
    // The first granule of EDP's demos/native_latlon_local/tasks_V4r4.json.verif.
    assert_eq!(
        join("."),
        "./V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc"
    );
    assert_eq!(
        join("./out"),
        format!("./out/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/{name}")
    );
    assert_eq!(
        join("./out/"),
        format!("./out/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/{name}")
    );
    assert_eq!(
        join("s3://bucket/products"),
        format!("s3://bucket/products/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/{name}")
    );
    assert_eq!(
        join(""),
        format!("V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/{name}")
    );
    let snap = granule_path(
        "/data",
        "V4r4",
        ProductType::Latlon,
        Frequency::Snap,
        "X",
        "x.nc",
    );
    assert_eq!(snap, "/data/V4r4/latlon/snap/X/x.nc");
}
