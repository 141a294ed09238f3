//! Bad requests and bad inputs fail with errors that name the problem, are classified as
//! permanent, and leave no file under the final name (and no temporary file).

use std::path::Path;

use edp_conventions::naming::PeriodToken;
use edp_conventions::{Frequency, ProductType};
use edp_granule::{
    ErrorClass, GranuleError, GranuleRequest, InputRef, LocalFiles, MemoryInputs, RequestVariable,
    produce_granule,
};
use edp_task_schemas::ErrorKind;

use crate::native::support::*;

const SSH_NAME: &str = "SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc";

/// Runs `request` against `inputs` into `dir/name` and checks that it fails leaving `dir`
/// empty; returns the error.
fn fails_cleanly(
    fx: &Fixture,
    request: &GranuleRequest,
    inputs: &dyn edp_granule::InputSource,
    dir: &Path,
) -> GranuleError {
    let out = dir.join(&request.granule_name);
    let err = produce_granule(request, &fx.resources, inputs, &out).unwrap_err();
    assert!(!out.exists(), "{} exists after: {err}", out.display());
    assert_eq!(file_names(dir), Vec::<String>::new(), "after: {err}");
    err
}

fn ssh_request(fx: &Fixture, variables: Vec<RequestVariable>) -> GranuleRequest {
    let r = &fx.resources;
    GranuleRequest::new(
        &r.catalog,
        &r.config,
        ProductType::Native,
        0,
        Frequency::AvgMon,
        732,
        variables,
    )
    .unwrap()
}

fn var(name: &str, data: &str) -> RequestVariable {
    RequestVariable {
        name: name.into(),
        inputs: vec![InputRef::new(data, data.replace(".data", ".meta"))],
    }
}

/// A V4r4-style `.meta` of an SSH input with `nz` levels.
fn ssh_meta_text(name: &str, nz: usize) -> Vec<u8> {
    let mut meta = edp_mds::Meta::new_llc(name, N, nz, edp_mds::Precision::F32, 1);
    meta.time_step = Some(732);
    meta.fields = vec!["SSH".into()];
    meta.to_meta_text().into_bytes()
}

/// An in-memory SSH input with a meta of `nz` levels and `data_len` bytes of data.
fn memory_ssh(name: &str, nz: usize, data_len: usize) -> MemoryInputs {
    let mut inputs = MemoryInputs::new();
    inputs.insert(format!("{name}.meta"), ssh_meta_text(name, nz));
    inputs.insert(format!("{name}.data"), vec![0u8; data_len]);
    inputs
}

#[test]
fn missing_input_file_is_a_permanent_error_without_output() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let request = ssh_request(
        fx,
        vec![var(
            "SSH",
            "s3://bucket/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data",
        )],
    );
    let err = fails_cleanly(fx, &request, &MemoryInputs::new(), tmp.path());
    assert!(
        err.to_string().contains(
            "input s3://bucket/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.meta not found"
        ),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::BadInput);
    assert_eq!(err.kind(), ErrorKind::Permanent);

    // The .meta exists but the .data does not.
    let name = "d/SSH_mon_mean.0000000732";
    let mut inputs = MemoryInputs::new();
    inputs.insert(format!("{name}.meta"), ssh_meta_text(name, 1));
    let request = ssh_request(fx, vec![var("SSH", &format!("{name}.data"))]);
    let err = fails_cleanly(fx, &request, &inputs, tmp.path());
    assert!(
        err.to_string().contains(&format!("{name}.data not found")),
        "{err}"
    );
}

#[test]
fn wrong_shapes_are_rejected_with_expected_and_found() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let name = "d/SSH_mon_mean.0000000732";
    let request = ssh_request(fx, vec![var("SSH", &format!("{name}.data"))]);

    // A 3-D field for a 2-D variable.
    let err = fails_cleanly(
        fx,
        &request,
        &memory_ssh(name, 50, 50 * 421_200),
        tmp.path(),
    );
    let text = err.to_string();
    assert!(matches!(err, GranuleError::InputMismatch { .. }), "{err:?}");
    assert!(text.contains("expected a 2-D field"), "{text}");
    assert!(text.contains("found nDims = 3"), "{text}");
    assert_eq!(err.kind(), ErrorKind::Permanent);

    // A truncated .data.
    let err = fails_cleanly(fx, &request, &memory_ssh(name, 1, 4096), tmp.path());
    let text = err.to_string();
    assert!(
        text.contains("truncated data file d/SSH_mon_mean.0000000732.data"),
        "{text}"
    );
    assert!(text.contains("expected 421200 bytes"), "{text}");
    assert_eq!(err.class(), ErrorClass::BadInput);

    // A 3-D tracer with the wrong number of levels.
    let r = &fx.resources;
    let theta = "d/THETA_mon_mean.0000000732";
    let mut meta = edp_mds::Meta::new_llc(theta, N, 10, edp_mds::Precision::F32, 1);
    meta.fields = vec!["THETA".into()];
    let mut inputs = MemoryInputs::new();
    inputs.insert(format!("{theta}.meta"), meta.to_meta_text().into_bytes());
    inputs.insert(format!("{theta}.data"), vec![0; 10 * 421_200]);
    let request = GranuleRequest::new(
        &r.catalog,
        &r.config,
        ProductType::Native,
        15,
        Frequency::AvgMon,
        732,
        vec![var("THETA", &format!("{theta}.data"))],
    )
    .unwrap();
    let err = fails_cleanly(fx, &request, &inputs, tmp.path());
    let text = err.to_string();
    assert!(text.contains("a 3-D field with 50 levels"), "{text}");
    assert!(
        text.contains("found nDims = 3, 1 record of 90x1170x10 float32"),
        "{text}"
    );

    // A file of another diagnostic given for SSH.
    let etan = "d/ETAN_mon_mean.0000000732";
    let request = ssh_request(fx, vec![var("SSH", &format!("{etan}.data"))]);
    let err = fails_cleanly(fx, &request, &memory_ssh(etan, 1, 421_200), tmp.path());
    assert!(
        err.to_string().contains("a file of diagnostic SSH"),
        "{err}"
    );
}

#[test]
fn unknown_grouping_variable_and_component_count_are_rejected() {
    let Some(fx) = fixture() else { return };
    let r = &fx.resources;
    let err = GranuleRequest::new(
        &r.catalog,
        &r.config,
        ProductType::Native,
        99,
        Frequency::AvgMon,
        732,
        Vec::new(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("unknown native grouping id 99"),
        "{err}"
    );
    assert!(err.is_permanent());

    // The same through produce_granule (a task with a bad `edp.grouping_id`).
    let tmp = tempfile::tempdir().unwrap();
    let mut request = ssh_request(fx, vec![var("SSH", "d/SSH_mon_mean.0000000732.data")]);
    request.grouping_id = 99;
    let err = fails_cleanly(fx, &request, &MemoryInputs::new(), tmp.path());
    assert!(
        err.to_string().contains("unknown native grouping id 99"),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::BadInput);

    let ok_input = "d/SSH_mon_mean.0000000732";
    let inputs = memory_ssh(ok_input, 1, 421_200);
    let request = ssh_request(
        fx,
        vec![
            var("SSH", &format!("{ok_input}.data")),
            var("THETA", "d/THETA_mon_mean.0000000732.data"),
        ],
    );
    let err = fails_cleanly(fx, &request, &inputs, tmp.path());
    assert!(
        matches!(err, GranuleError::UnknownVariable { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("which has SSH, SSHIBC, SSHNOIBC, ETAN"),
        "{err}"
    );

    let mut two = var("SSH", &format!("{ok_input}.data"));
    two.inputs.push(two.inputs[0].clone());
    let err = fails_cleanly(fx, &ssh_request(fx, vec![two]), &inputs, tmp.path());
    assert!(
        err.to_string().contains("expects 1 input component(s)"),
        "{err}"
    );

    let err = fails_cleanly(fx, &ssh_request(fx, Vec::new()), &inputs, tmp.path());
    assert!(err.to_string().contains("no variables"), "{err}");

    // A grouping without SNAP asked for SNAP.
    let err = GranuleRequest::new(
        &r.catalog,
        &r.config,
        ProductType::Native,
        6,
        Frequency::Snap,
        12,
        vec![var("EXFtaux", "d/EXFtaux_day_inst.0000000012.data")],
    )
    .map(|req| fails_cleanly(fx, &req, &inputs, tmp.path()))
    .unwrap_or_else(|e| e);
    assert!(err.is_permanent(), "{err}");
}

#[test]
fn latlon_from_resources_without_weights_is_a_typed_permanent_error() {
    let Some(fx) = fixture() else { return };
    let r = &fx.resources;
    let tmp = tempfile::tempdir().unwrap();
    let request = GranuleRequest::new(
        &r.catalog,
        &r.config,
        ProductType::Latlon,
        0,
        Frequency::AvgMon,
        732,
        vec![var("SSH", "d/SSH_mon_mean.0000000732.data")],
    )
    .unwrap();
    // The native fixture has no lat-lon weights (see the lat-lon tests for granules).
    let err = fails_cleanly(fx, &request, &MemoryInputs::new(), tmp.path());
    assert!(matches!(err, GranuleError::NoWeights { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::BadInput);
    assert_eq!(err.kind(), ErrorKind::Permanent);
}

#[test]
fn a_failed_rewrite_leaves_the_previous_granule_untouched() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join(SSH_NAME);
    std::fs::write(&out, b"previous granule").unwrap();
    let request = ssh_request(fx, vec![var("SSH", "d/SSH_mon_mean.0000000732.data")]);
    let err = produce_granule(&request, &fx.resources, &MemoryInputs::new(), &out).unwrap_err();
    assert!(err.is_permanent());
    assert_eq!(std::fs::read(&out).unwrap(), b"previous granule");
    assert_eq!(file_names(tmp.path()), [SSH_NAME]);
}

#[test]
fn local_tree_with_a_corrupt_meta_fails_cleanly() {
    let Some(fx) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("src");
    let ssh = real_2d(fx, "SSH.bin");
    let (data, meta) = write_diagnostic(
        &root,
        "diags_monthly",
        "SSH",
        PeriodToken::MonMean,
        732,
        &ssh,
        1,
    );
    std::fs::write(&meta, "nDims = [ 2 ];\n dimList = [ 90, 1, 90 ];\n").unwrap();
    let out_dir = tmp.path().join("out");
    let request = ssh_request(
        fx,
        vec![RequestVariable {
            name: "SSH".into(),
            inputs: vec![InputRef::new(
                data.display().to_string(),
                meta.display().to_string(),
            )],
        }],
    );
    let out = out_dir.join(SSH_NAME);
    let err = produce_granule(&request, &fx.resources, &LocalFiles::new(), &out).unwrap_err();
    assert!(
        err.to_string().contains(&meta.display().to_string()),
        "{err}"
    );
    assert!(err.is_permanent());
    assert!(!out.exists());
    assert_eq!(file_names(&out_dir), Vec::<String>::new());
}

/// The environment variable that turns [`killed_writer_child`] into the writer to kill.
const KILL_TEST_OUT: &str = "EDP_KILL_TEST_OUT";

/// Child half of [`a_killed_writer_leaves_no_file_under_the_final_name`]: writes the 3-D
/// temperature/salinity granule to the path in `EDP_KILL_TEST_OUT` (inputs in `inputs/` beside
/// its directory). Does nothing in a normal test run.
#[test]
fn killed_writer_child() {
    let Some(out) = std::env::var_os(KILL_TEST_OUT) else {
        return;
    };
    let Some(fx) = fixture() else { return };
    let out = std::path::PathBuf::from(out);
    let root = out.parent().unwrap().parent().unwrap().join("inputs");
    produce(fx, &root, 15, Frequency::AvgMon, 732, &out).unwrap();
}

/// A writer killed (SIGKILL, no chance to clean up) while it writes a granule leaves at most
/// its temporary file: never a file under the granule's final name. The kill lands at several
/// moments after the temporary file appears (definition, compression, chunk writes).
#[test]
fn a_killed_writer_leaves_no_file_under_the_final_name() {
    let Some(_) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let cells = 13 * 90 * 90;
    let field: Vec<f32> = (0..50 * cells).map(|n| (n % 9973) as f32 * 0.01).collect();
    for var in ["THETA", "SALT"] {
        write_diagnostic(
            &tmp.path().join("inputs"),
            "diags_monthly",
            var,
            PeriodToken::MonMean,
            732,
            &field,
            50,
        );
    }
    let name = "OCEAN_TEMPERATURE_SALINITY_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc";
    let mut killed_mid_write = 0;
    for (attempt, delay_ms) in [0u64, 40, 150, 400].into_iter().enumerate() {
        let dir = tmp.path().join(format!("out{attempt}"));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join(name);
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "native::errors::killed_writer_child",
                "--exact",
                "--nocapture",
            ])
            .env(KILL_TEST_OUT, &out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait for the temporary file, then let the writer run for `delay_ms`.
        let started = std::time::Instant::now();
        let temp_seen = loop {
            let writing = file_names(&dir).iter().any(|n| n.contains(".tmp-"));
            if writing || started.elapsed() > std::time::Duration::from_secs(120) {
                break writing;
            }
            if child.try_wait().unwrap().is_some() {
                break false;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        };
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished_first = child.try_wait().unwrap().is_some();
        child.kill().unwrap();
        child.wait().unwrap();
        if !temp_seen || finished_first {
            // The writer finished before the kill: nothing to learn from this attempt.
            continue;
        }
        // The writer can still finish between the check above and the kill: then the final
        // name holds the complete granule (renamed into place only once written), which must
        // read back whole, and the attempt teaches nothing about a killed writer.
        if out.exists() {
            let file = netcdf::open(&out).unwrap();
            for var in ["THETA", "SALT"] {
                let values: Vec<f32> = file.variable(var).unwrap().get_values(..).unwrap();
                assert_eq!(values.len(), 50 * cells, "{var} of {}", out.display());
                // Every value is one the input holds ((n % 9973) * 0.01, in the granule's own
                // cell order), or fill on land; the ocean holds input values.
                let is_input = |v: f32| {
                    let m = (f64::from(v) / 0.01).round();
                    (0.0..9973.0).contains(&m) && (m as f32) * 0.01 == v
                };
                let fill = |v: f32| !v.is_finite() || v.abs() > 1e30;
                assert!(
                    values.iter().all(|&v| is_input(v) || fill(v)),
                    "{var} of {} holds values the input does not",
                    out.display()
                );
                assert!(values.iter().any(|&v| is_input(v)), "{var}: no input value");
            }
            continue;
        }
        killed_mid_write += 1;
        let names = file_names(&dir);
        assert!(
            names.iter().all(|n| n.starts_with(&format!("{name}.tmp-"))),
            "{names:?}"
        );
    }
    assert!(
        killed_mid_write > 0,
        "no kill landed while the granule was written"
    );
}
