//! Bad input gets a typed error that names the file and says what was expected and found;
//! nothing panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edp_mds::{ByteOrder, FieldSelector, MdsError, MdsFile, Meta, Precision, decode};
use std::path::Path;

const GOOD_2D: &str = " nDims = [   2 ];\n dimList = [\n     4,    1,    4,\n    52,    1,   52\n ];\n dataprec = [ 'float32' ];\n nrecords = [     1 ];\n nFlds = [ 1 ];\n fldList = {\n 'SSH     '\n };\n";

fn write_pair(dir: &Path, stem: &str, meta: &str, data_len: usize) -> std::path::PathBuf {
    let stem = dir.join(stem);
    std::fs::write(format!("{}.meta", stem.display()), meta).unwrap();
    std::fs::write(format!("{}.data", stem.display()), vec![0u8; data_len]).unwrap();
    stem
}

#[test]
fn truncated_data_names_file_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let stem = write_pair(dir.path(), "SSH.0000000732", GOOD_2D, 4096);
    let err = MdsFile::open(&stem, ByteOrder::Big).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            MdsError::OversizedData {
                expected: 832,
                found: 4096,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("SSH.0000000732.data")
            && msg.contains("expected 832 bytes")
            && msg.contains("found 4096"),
        "{msg}"
    );

    let stem = write_pair(dir.path(), "SSH.0000001428", GOOD_2D, 100);
    let err = MdsFile::open(&stem, ByteOrder::Big).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            MdsError::TruncatedData {
                expected: 832,
                found: 100,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.starts_with("truncated data file") && msg.contains("SSH.0000001428.data"),
        "{msg}"
    );
    assert!(msg.contains("1 record of 4x52 float32"), "{msg}");
}

#[test]
fn in_memory_size_mismatch_names_the_source() {
    let meta = Meta::parse(GOOD_2D, "s3://b/SSH.meta").unwrap();
    let err = decode::decode_record_tiles::<f32>(
        &[0u8; 10],
        &meta,
        &FieldSelector::Record(0),
        ByteOrder::Big,
        "s3://b/SSH.data",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("s3://b/SSH.data: expected 832 bytes"),
        "{err}"
    );
    let err = decode::decode_all::<f64>(&[0u8; 836], &meta, ByteOrder::Big, "s3://b/SSH.data")
        .unwrap_err();
    assert!(
        matches!(err, MdsError::OversizedData { found: 836, .. }),
        "{err}"
    );
}

#[test]
fn meta_dims_that_disagree_with_the_data_size() {
    // The .meta says 3-D with 5 levels, the data holds one level.
    let dir = tempfile::tempdir().unwrap();
    let meta = GOOD_2D
        .replace("nDims = [   2 ]", "nDims = [ 3 ]")
        .replace("52,    1,   52\n", "52,    1,   52,\n 5, 1, 5\n");
    let stem = write_pair(dir.path(), "THETA", &meta, 832);
    let err = MdsFile::open(&stem, ByteOrder::Big).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected 4160 bytes (1 record of 4x52x5 float32), found 832"),
        "{err}"
    );
}

#[test]
fn unknown_dataprec() {
    let err = Meta::parse(&GOOD_2D.replace("float32", "int16"), "X.meta").unwrap_err();
    assert!(
        matches!(&err, MdsError::UnknownPrecision { found, .. } if found == "int16"),
        "{err}"
    );
    assert!(
        err.to_string().contains("X.meta") && err.to_string().contains("'int16'"),
        "{err}"
    );
}

#[test]
fn missing_meta_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("SSH.0000000732.data");
    std::fs::write(&data, [0u8; 832]).unwrap();
    let err = MdsFile::open(&data, ByteOrder::Big).unwrap_err();
    assert!(matches!(err, MdsError::MissingMeta { .. }), "{err}");
    assert!(err.to_string().contains("SSH.0000000732.meta"), "{err}");
}

#[test]
fn missing_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("SSH");
    std::fs::write(format!("{}.meta", stem.display()), GOOD_2D).unwrap();
    let err = MdsFile::open(&stem, ByteOrder::Big).unwrap_err();
    assert!(
        matches!(err, MdsError::Io { .. }) && err.to_string().contains("SSH.data"),
        "{err}"
    );
}

#[test]
fn non_numeric_values() {
    let err = Meta::parse(
        &GOOD_2D.replace("nrecords = [     1 ]", "nrecords = [ one ]"),
        "X.meta",
    )
    .unwrap_err();
    assert!(
        matches!(&err, MdsError::BadValue { key, .. } if key == "nrecords"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("expected non-negative integers, found 'one'"),
        "{err}"
    );

    let err = Meta::parse(&format!("{GOOD_2D} missingValue = [ abc ];"), "X.meta").unwrap_err();
    assert!(
        err.to_string()
            .contains("`missingValue` expected real numbers, found 'abc'"),
        "{err}"
    );

    let err = Meta::parse(&GOOD_2D.replace("    52,", "   5.2,"), "X.meta").unwrap_err();
    assert!(
        err.to_string().contains("`dimList`") && err.to_string().contains("'5.2'"),
        "{err}"
    );
}

#[test]
fn field_name_not_in_fldlist() {
    let meta = Meta::parse(GOOD_2D, "SSH.meta").unwrap();
    let err = meta
        .record_of(&FieldSelector::Name("THETA".into()))
        .unwrap_err();
    assert!(
        matches!(&err, MdsError::FieldNotFound { name, .. } if name == "THETA"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("'THETA' not found in SSH.meta: fldList has 'SSH'"),
        "{err}"
    );
    let err = meta.record_of(&FieldSelector::Record(1)).unwrap_err();
    assert!(
        err.to_string()
            .contains("record 1 out of range in SSH.meta: expected 0..1"),
        "{err}"
    );
}

#[test]
fn missing_required_keys() {
    for (key, line) in [
        ("nDims", " nDims = [   2 ];\n"),
        ("dataprec", " dataprec = [ 'float32' ];\n"),
        ("nrecords", " nrecords = [     1 ];\n"),
    ] {
        let err = Meta::parse(&GOOD_2D.replace(line, ""), "X.meta").unwrap_err();
        assert!(
            matches!(&err, MdsError::MissingKey { key: k, .. } if *k == key),
            "{key}: {err}"
        );
        assert!(
            err.to_string()
                .contains(&format!("required key `{key}` is missing")),
            "{err}"
        );
    }
    let no_dimlist = " nDims = [ 2 ]; dataprec = [ 'float32' ]; nrecords = [ 1 ];";
    let err = Meta::parse(no_dimlist, "X.meta").unwrap_err();
    assert!(
        matches!(err, MdsError::MissingKey { key: "dimList", .. }),
        "{err}"
    );
}

#[test]
fn dimlist_length_must_match_ndims() {
    let err = Meta::parse(
        &GOOD_2D.replace("nDims = [   2 ]", "nDims = [ 3 ]"),
        "X.meta",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("expected 9 integers (3 x nDims = 3 x 3), found 6 integers"),
        "{err}"
    );
}

#[test]
fn tiled_files_are_rejected() {
    let tiled = GOOD_2D.replace("    52,    1,   52", "    52,   14,   26");
    let err = Meta::parse(&tiled, "SSH.0000000732.001.001.meta").unwrap_err();
    assert!(
        matches!(
            err,
            MdsError::TiledFile {
                dim: 1,
                start: 14,
                end: 26,
                global: 52,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("expected start 1 and end 52, found start 14 and end 26"),
        "{err}"
    );
}

#[test]
fn syntax_errors_say_where() {
    let err = Meta::parse(" nDims = [ 2 ;\n", "X.meta").unwrap_err();
    assert!(matches!(err, MdsError::MetaSyntax { line: 1, .. }), "{err}");
    let err = Meta::parse(" nDims = [ 2 ];\n dimList 4 ", "X.meta").unwrap_err();
    assert!(
        err.to_string()
            .contains("(line 2): expected '=' after key `dimList`, found '4'"),
        "{err}"
    );
    let err = Meta::parse(" fldList = { 'SSH  };", "X.meta").unwrap_err();
    assert!(
        err.to_string().contains("expected a closing quote"),
        "{err}"
    );
}

#[test]
fn nflds_must_match_fldlist_and_records() {
    let err =
        Meta::parse(&GOOD_2D.replace("nFlds = [ 1 ]", "nFlds = [ 2 ]"), "X.meta").unwrap_err();
    assert!(
        err.to_string()
            .contains("expected 2 names (nFlds), found 1 names"),
        "{err}"
    );
    let two = GOOD_2D
        .replace("nFlds = [ 1 ]", "nFlds = [ 2 ]")
        .replace("'SSH     '", "'SSH' 'ETAN'");
    let err = Meta::parse(&two, "X.meta").unwrap_err();
    assert!(
        err.to_string().contains("`nrecords` expected at least 2"),
        "{err}"
    );
}

#[test]
fn tiles_of_a_non_llc_field() {
    let meta = Meta::new("RC.meta", vec![1, 1, 50], Precision::F64, 1);
    let err = decode::decode_record_tiles::<f64>(
        &[0u8; 400],
        &meta,
        &FieldSelector::Record(0),
        ByteOrder::Big,
        "RC.data",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains(
            "RC.data is not an LLC compact field: expected ny = 13*nx, found nx = 1, ny = 1"
        ),
        "{err}"
    );
}

#[test]
fn write_with_wrong_value_count() {
    let dir = tempfile::tempdir().unwrap();
    let meta = Meta::new_llc("SSH.meta", 4, 1, Precision::F32, 1);
    let err = edp_mds::write_mds(dir.path().join("SSH"), &meta, &[0.0f32; 10], ByteOrder::Big)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("expected 208 (1 record of 4x52 float32), found 10"),
        "{err}"
    );
}
