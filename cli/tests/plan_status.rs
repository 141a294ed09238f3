//! `edp plan` and `edp status` run as real binaries on a small results tree (file names only:
//! planning never reads file contents) with the real V4r4 metadata catalog.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn edp(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edp"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run edp")
}

fn ok(output: &Output) -> (String, String) {
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert!(output.status.success(), "edp failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// `V4r4/diags_monthly/<VAR>_mon_mean/<VAR>_mon_mean.<ts>.{data,meta}` for the native SSH
/// grouping at 1992-01 and 1992-02, and `jobs.txt`.
/// `edp plan` of `jobs.txt` over `V4r4/` into `out/`, plus `extra`.
fn plan(dir: &Path, metadata: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "plan",
        "--jobfile",
        "jobs.txt",
        "--source",
        "V4r4",
        "--dest",
        "out",
        "--metadata",
        metadata,
    ];
    args.extend_from_slice(extra);
    edp(dir, &args)
}

/// [`plan`] with `--dry-run`.
fn dry_run(dir: &Path, metadata: &str, extra: &[&str]) -> Output {
    plan(dir, metadata, &[&["--dry-run"], extra].concat())
}

fn tree(dir: &Path) {
    for variable in ["SSH", "SSHIBC", "SSHNOIBC", "ETAN"] {
        let folder = dir.join(format!("V4r4/diags_monthly/{variable}_mon_mean"));
        std::fs::create_dir_all(&folder).unwrap();
        for step in ["0000000732", "0000001428"] {
            for (ext, size) in [("data", 40), ("meta", 8)] {
                let name = format!("{variable}_mon_mean.{step}.{ext}");
                std::fs::write(folder.join(name), vec![0u8; size]).unwrap();
            }
        }
    }
    std::fs::write(
        dir.join("jobs.txt"),
        "[0,'native','AVG_MON','all']    # sea surface height\n",
    )
    .unwrap();
}

#[test]
fn plan_with_edp_option_spellings_then_status() {
    let Some(metadata) = edp_testkit::v4r4_metadata_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let metadata = metadata.to_str().unwrap();
    let args = [
        "plan",
        "--jobfile",
        "jobs.txt",
        "--ecco_source_root",
        "V4r4",
        "--ecco_destination_root",
        "./out",
        "--ecco_metadata_loc",
        metadata,
        "--ecco_grid_loc",
        "grid",
        "--ecco_mapping_factors_loc",
        "factors",
        "--outfile",
        "tasks.json",
        "-l",
        "INFO",
    ];
    let (stdout, _) = ok(&edp(dir.path(), &args));
    assert!(stdout.contains("2 task(s) planned"), "{stdout}");

    let text = std::fs::read_to_string(dir.path().join("tasks.json")).unwrap();
    let tasks: Value = serde_json::from_str(&text).unwrap();
    let granules: Vec<&str> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["granule"].as_str().unwrap())
        .collect();
    assert_eq!(
        granules,
        [
            "./out/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc",
            "./out/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/SEA_SURFACE_HEIGHT_mon_mean_1992-02_ECCO_V4r4_native_llc0090.nc",
        ]
    );
    assert_eq!(
        tasks[0]["variables"]["ETAN"][0][1],
        "V4r4/diags_monthly/ETAN_mon_mean/ETAN_mon_mean.0000000732.meta"
    );
    assert_eq!(tasks[0]["ecco_grid_loc"], "grid");
    assert_eq!(tasks[0]["ecco_metadata_loc"], metadata);
    // EDP's json.dump(indent=4) layout.
    assert!(text.starts_with("[\n    {\n        \"granule\": "));

    let (status, _) = ok(&edp(dir.path(), &["status", "--dest", "out", "--json"]));
    let report: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(report["counts"]["planned"], 2);
    assert_eq!(report["complete"], false);
    let run_id = report["run_id"].as_str().unwrap().to_string();

    // Planning again finds both granules claimed by the first run and writes no new run.
    let (again, _) = ok(&edp(dir.path(), &args));
    assert!(again.contains("0 task(s) planned"), "{again}");
    assert!(again.contains("2 claimed by other runs"), "{again}");
    let (text_status, _) = ok(&edp(dir.path(), &["status", "--dest", "out"]));
    assert!(
        text_status.starts_with(&format!("run {run_id} ")),
        "{text_status}"
    );
    assert!(text_status.contains("2 planned"), "{text_status}");
}

#[test]
fn dry_run_reports_missing_inputs_and_writes_nothing() {
    let Some(metadata) = edp_testkit::v4r4_metadata_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    std::fs::remove_file(
        dir.path()
            .join("V4r4/diags_monthly/SSHIBC_mon_mean/SSHIBC_mon_mean.0000001428.meta"),
    )
    .unwrap();
    let out = dry_run(dir.path(), metadata.to_str().unwrap(), &[]);
    let (stdout, _) = ok(&out);
    assert!(stdout.starts_with("dry run "), "{stdout}");
    assert!(stdout.contains("1 task(s) planned"), "{stdout}");
    assert!(stdout.contains("native_2d"), "{stdout}");
    assert!(
        stdout
            .contains("missing V4r4/diags_monthly/SSHIBC_mon_mean/SSHIBC_mon_mean.0000001428.meta"),
        "{stdout}"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn without_outfile_the_task_list_goes_to_stdout_and_the_summary_to_stderr() {
    let Some(metadata) = edp_testkit::v4r4_metadata_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let out = plan(dir.path(), metadata.to_str().unwrap(), &["--strip-edp"]);
    let (stdout, stderr) = ok(&out);
    let tasks: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(tasks.as_array().unwrap().len(), 2);
    assert!(tasks[0].get("edp").is_none());
    assert!(stderr.contains("2 task(s) planned"), "{stderr}");
}

/// Granules that exist but are older than their inputs (inputs re-uploaded after the granule
/// was written) are listed with the inputs that changed and left alone, unless
/// `--replan-changed-inputs` plans them again.
#[test]
fn granules_older_than_their_inputs_are_listed_and_replanned_only_on_request() {
    let Some(metadata) = edp_testkit::v4r4_metadata_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let folder = dir
        .path()
        .join("out/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT");
    std::fs::create_dir_all(&folder).unwrap();
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for month in ["01", "02"] {
        let granule = folder.join(format!(
            "SEA_SURFACE_HEIGHT_mon_mean_1992-{month}_ECCO_V4r4_native_llc0090.nc"
        ));
        let file = std::fs::File::create(&granule).unwrap();
        file.set_modified(an_hour_ago).unwrap();
    }
    let metadata = metadata.to_str().unwrap();
    let dry = |extra: &[&str]| ok(&dry_run(dir.path(), metadata, extra)).0;

    let left = dry(&[]);
    assert!(left.contains("0 task(s) planned"), "{left}");
    assert!(
        left.contains("inputs changed after the granule was written: 2 granule(s), 0 planned again (the others are left: --replan-changed-inputs plans them)"),
        "{left}"
    );
    assert!(
        left.contains(
            "SEA_SURFACE_HEIGHT_mon_mean_1992-02_ECCO_V4r4_native_llc0090.nc: \
             V4r4/diags_monthly/ETAN_mon_mean/ETAN_mon_mean.0000001428.data"
        ),
        "{left}"
    );

    let replanned = dry(&["--replan-changed-inputs"]);
    assert!(replanned.contains("2 task(s) planned"), "{replanned}");
    assert!(
        replanned.contains("2 granule(s), 2 planned again\n"),
        "{replanned}"
    );
    assert!(
        replanned.contains("1992-01_ECCO_V4r4_native_llc0090.nc (planned again): "),
        "{replanned}"
    );
}
