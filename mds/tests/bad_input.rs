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

/// The two headers of the hostile-input report: `3 * nDims` and the size product used to
/// wrap around. Both are refused with the numbers as read, without panicking.
#[test]
fn huge_header_numbers_are_refused_with_the_numbers_as_read() {
    let n_dims = " nDims = [ 6148914691236517206 ];\n dimList = [ 4, 1, 4, 52, 1, 52 ];\n dataprec = [ 'float32' ];\n nrecords = [ 1 ];\n";
    let err = Meta::parse(n_dims, "x.meta").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, MdsError::BadValue { .. }), "{msg}");
    assert!(
        msg.contains("x.meta")
            && msg.contains("3 x nDims = 3 x 6148914691236517206")
            && msg.contains("found 6 integers"),
        "{msg}"
    );

    // 4 * 52 * 1152921504606846977 * 4 wraps to 832 in 64-bit arithmetic.
    let records = GOOD_2D.replace("nrecords = [     1 ]", "nrecords = [ 1152921504606846977 ]");
    let records = records.replace("nFlds = [ 1 ];\n fldList = {\n 'SSH     '\n };\n", "");
    let err = Meta::parse(&records, "y.meta").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("y.meta")
            && msg.contains("`nrecords`")
            && msg.contains("nrecords 1152921504606846977 x 4 x 52"),
        "{msg}"
    );
}

/// A tiny deterministic generator (xorshift64*), so the fuzz cases are the same on every run
/// and a failure can be replayed from its case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Numbers that stress arithmetic: small, boundary and huge.
    fn number(&mut self) -> String {
        const SPECIAL: [&str; 10] = [
            "0",
            "1",
            "-1",
            "4294967296",
            "6148914691236517206",
            "1152921504606846977",
            "18446744073709551615",
            "18446744073709551616",
            "9223372036854775807",
            "1e308",
        ];
        match self.below(3) {
            0 => SPECIAL[self.below(SPECIAL.len())].to_string(),
            1 => (self.next() % 200).to_string(),
            _ => self.next().to_string(),
        }
    }
}

/// Fuzz harness of the `.meta` parser (runs in a fraction of a second as part of
/// `cargo test`): every mutated header either parses into a `Meta` whose derived sizes are
/// consistent, or is refused with an error naming the file; nothing panics.
#[test]
fn fuzzed_meta_headers_never_panic() {
    const CASES: u64 = 20_000;
    let tokens = [
        "nDims",
        "dimList",
        "dataprec",
        "nrecords",
        "timeStepNumber",
        "timeInterval",
        "missingValue",
        "nFlds",
        "fldList",
        "=",
        ";",
        ",",
        "[",
        "]",
        "{",
        "}",
        "'",
        "'float32'",
        "'float64'",
        "\n",
        " ",
    ];
    for case in 0..CASES {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (case + 1));
        let mut text = GOOD_2D.to_string();
        for _ in 0..=rng.below(4) {
            match rng.below(4) {
                // Replace a number with a stressing one.
                0 => {
                    let digits: Vec<(usize, usize)> = number_spans(&text);
                    if !digits.is_empty() {
                        let (start, end) = digits[rng.below(digits.len())];
                        text.replace_range(start..end, &rng.number());
                    }
                }
                // Insert a grammar token somewhere.
                1 => {
                    let at = char_boundary(&text, rng.below(text.len() + 1));
                    text.insert_str(at, tokens[rng.below(tokens.len())]);
                }
                // Cut the text.
                2 => {
                    let at = char_boundary(&text, rng.below(text.len() + 1));
                    text.truncate(at);
                }
                // Flip one byte to another ASCII character.
                _ => {
                    if !text.is_empty() {
                        let at = char_boundary(&text, rng.below(text.len()));
                        let end = char_boundary(&text, at + 1).max(at + 1).min(text.len());
                        let c = (b' ' + (rng.below(95) as u8)) as char;
                        text.replace_range(at..end, &c.to_string());
                    }
                }
            }
        }
        let result = std::panic::catch_unwind(|| Meta::parse(&text, "fuzz.meta"));
        match result {
            Err(_) => panic!("case {case}: Meta::parse panicked on {text:?}"),
            Ok(Ok(meta)) => {
                // Parsed headers have sizes that are consistent and did not wrap.
                let bytes = meta.expected_data_bytes();
                let recomputed = meta
                    .dims
                    .iter()
                    .try_fold(meta.n_records as u128, |acc, &d| acc.checked_mul(d as u128))
                    .map(|v| v * meta.precision.size() as u128);
                assert_eq!(Some(bytes as u128), recomputed, "case {case}: {text:?}");
                let _ = meta.llc();
                let _ = meta.shape_description();
            }
            Ok(Err(err)) => {
                assert!(err.to_string().contains("fuzz.meta"), "case {case}: {err}");
            }
        }
    }
}

fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

fn char_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}
