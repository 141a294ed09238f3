//! EDP job files: the documented examples, files written by `edp_create_job_files`, error
//! reporting and grouping-id validation against the real V4r4 catalog.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edp_plan::jobfile::{GroupingCounts, JobFileError, ParseOptions, parse_job_file, validate};
use edp_task_schemas::{Frequency, Job, ProductType, TimeSteps};

/// `tests/SSH_native_latlon_local/SSH_native_latlon_mon_mean_jobs.txt` as shown in
/// `docs/edp-compatibility.md` 1.1.
const EDP_EXAMPLE: &str = "# native groupings:

[0,'native','AVG_MON','all']    # dynamic sea surface height and model sea level anomaly

# latlon groupings:

[0,'latlon','AVG_MON','all']    # dynamic sea surface height
";

const V4R4_COUNTS: GroupingCounts = GroupingCounts {
    native: 21,
    latlon: 13,
};

fn job(id: u32, product_type: ProductType, frequency: Frequency, steps: TimeSteps) -> Job {
    Job {
        grouping_id: id,
        product_type,
        frequency,
        time_steps: steps,
    }
}

#[test]
fn documented_example_gives_two_jobs_with_line_numbers() {
    let parsed = parse_job_file("jobs.txt", EDP_EXAMPLE, &ParseOptions::default()).unwrap();
    assert!(parsed.warnings.is_empty());
    let lines: Vec<usize> = parsed.jobs.iter().map(|j| j.line).collect();
    assert_eq!(lines, [3, 7]);
    let jobs = validate("jobs.txt", &parsed.jobs, &V4R4_COUNTS).unwrap();
    assert_eq!(
        jobs,
        [
            job(0, ProductType::Native, Frequency::AvgMon, TimeSteps::All),
            job(0, ProductType::Latlon, Frequency::AvgMon, TimeSteps::All),
        ]
    );
}

#[test]
fn time_invariant_lines_parse_in_both_spellings() {
    let text = "[20,'native','TI','all']\n[20, \"latlon\", \"time-invariant\", 'all']\n";
    let parsed = parse_job_file("jobs.txt", text, &ParseOptions::default()).unwrap();
    let jobs = validate("jobs.txt", &parsed.jobs, &V4R4_COUNTS).unwrap_err();
    // Latlon 20 is out of range for V4r4's 13 lat-lon groupings; the frequency parsed.
    assert!(jobs.to_string().contains("jobs.txt:2:"), "{jobs}");
    assert_eq!(
        parsed.jobs.iter().map(|j| j.frequency).collect::<Vec<_>>(),
        [Frequency::TimeInvariant, Frequency::TimeInvariant]
    );
    let bad = parse_job_file(
        "jobs.txt",
        "[20,'native','TIME_INVARIANT','all']\n",
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert!(bad.to_string().contains("TIME_INVARIANT"), "{bad}");
}

#[test]
fn files_written_by_edp_create_job_files_parse() {
    // Two lines: `# <name>:` and Python's repr of [id, 'grid_type', 'FREQ', 'all']
    // (repr([17, 'native', 'AVG_DAY', 'all']) in CPython).
    let text = "# OCEAN_VELOCITY:\n[17, 'native', 'AVG_DAY', 'all']\n";
    let parsed = parse_job_file(
        "OCEAN_VELOCITY_native_AVG_DAY_jobs.txt",
        text,
        &ParseOptions::default(),
    )
    .unwrap();
    let jobs = validate("f", &parsed.jobs, &V4R4_COUNTS).unwrap();
    assert_eq!(
        jobs,
        [job(
            17,
            ProductType::Native,
            Frequency::AvgDay,
            TimeSteps::All
        )]
    );
}

#[test]
fn gen_b_string_steps_crlf_and_bom_are_accepted() {
    let text =
        "\u{feff}[11,'latlon','avg_mon','[732, 1428]']\r\n[1, \"NATIVE\", \"snap\", [12, 36,]]\r\n";
    let parsed = parse_job_file("j.txt", text, &ParseOptions::default()).unwrap();
    let jobs = validate("j.txt", &parsed.jobs, &V4R4_COUNTS).unwrap();
    assert_eq!(
        jobs,
        [
            job(
                11,
                ProductType::Latlon,
                Frequency::AvgMon,
                TimeSteps::Steps(vec![732, 1428])
            ),
            job(
                1,
                ProductType::Native,
                Frequency::Snap,
                TimeSteps::Steps(vec![12, 36])
            ),
        ]
    );
    assert_eq!(parsed.jobs[0].text, "[11,'latlon','avg_mon','[732, 1428]']");
}

#[test]
fn all_bad_lines_are_reported_with_file_line_and_text() {
    let text = "[0,'native','AVG_MON','all']\n[0,'native','AVG_MON']\n# ok\n[3,'1D','AVG_MON','all']\n[5,'latlon','AVG_MON',[]]\n";
    let err = parse_job_file("my_jobs.txt", text, &ParseOptions::default()).unwrap_err();
    let JobFileError::InvalidLines { file, errors } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(file, "my_jobs.txt");
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 4, 5]);
    let message = err.to_string();
    assert!(message.contains("my_jobs.txt:2: "), "{message}");
    assert!(message.contains("[0,'native','AVG_MON']"), "{message}");
    assert!(
        message.contains("my_jobs.txt:4: unsupported product type \"1D\""),
        "{message}"
    );
    assert!(
        message.contains("my_jobs.txt:5: ") && message.contains("empty"),
        "{message}"
    );
}

#[test]
fn skip_option_turns_bad_lines_into_warnings() {
    let text = "[0,'native','AVG_MON','all']\nnot a job\n[2,'native','AVG_DAY',[12]]\n";
    let options = ParseOptions {
        skip_invalid_lines: true,
    };
    let parsed = parse_job_file("j.txt", text, &options).unwrap();
    assert_eq!(parsed.jobs.len(), 2);
    assert_eq!(parsed.warnings.len(), 1);
    assert_eq!(parsed.warnings[0].line, 2);
    assert!(
        parsed.warnings[0]
            .to_string()
            .starts_with("j.txt:2: skipped invalid line")
    );
}

#[test]
fn duplicate_jobs_are_dropped_with_a_warning() {
    let text = "[0,'native','AVG_MON','all']\n[0, 'Native', 'avg_mon', 'ALL']  # same job\n[0,'native','AVG_MON',[732]]\n";
    let parsed = parse_job_file("j.txt", text, &ParseOptions::default()).unwrap();
    assert_eq!(parsed.jobs.len(), 2);
    assert_eq!(parsed.jobs[1].line, 3);
    assert_eq!(parsed.warnings.len(), 1);
    assert_eq!(parsed.warnings[0].line, 2);
    assert!(parsed.warnings[0].message.contains("duplicate of line 1"));
}

#[test]
fn files_without_jobs_are_an_error() {
    for text in ["", "# only a comment\n\n", "\n\n"] {
        let err = parse_job_file("empty.txt", text, &ParseOptions::default()).unwrap_err();
        assert!(
            matches!(err, JobFileError::NoJobs { .. }),
            "{text:?}: {err:?}"
        );
        assert!(err.to_string().starts_with("empty.txt: no jobs"));
    }
    let options = ParseOptions {
        skip_invalid_lines: true,
    };
    let err = parse_job_file("bad.txt", "garbage\n", &options).unwrap_err();
    assert!(matches!(err, JobFileError::NoJobs { .. }));
}

#[test]
fn out_of_range_ids_are_listed_with_line_numbers() {
    let text = "[20,'native','AVG_MON','all']\n[21,'native','AVG_MON','all']\n[13,'latlon','AVG_DAY','all']\n[-1,'latlon','AVG_DAY','all']\n";
    let parsed = parse_job_file("j.txt", text, &ParseOptions::default()).unwrap();
    let err = validate("j.txt", &parsed.jobs, &V4R4_COUNTS).unwrap_err();
    let JobFileError::InvalidGroupingIds { errors, .. } = &err else {
        panic!("{err:?}");
    };
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 4]);
    let message = err.to_string();
    assert!(
        message
            .contains("j.txt:2: grouping id 21 is out of range: native has 21 groupings (0..=20)"),
        "{message}"
    );
    assert!(
        message.contains("j.txt:3: grouping id 13 is out of range: latlon has 13"),
        "{message}"
    );
    assert!(
        message.contains("j.txt:4: grouping id -1 is negative"),
        "{message}"
    );
}

/// The grouping counts of the real V4r4 metadata catalog, read independently of edp.
#[test]
fn validation_against_the_real_v4r4_catalog() {
    let Some(dir) = edp_testkit::v4r4_metadata_dir() else {
        return;
    };
    let count = |name: &str| {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        serde_json::from_str::<Vec<serde_json::Value>>(&text)
            .unwrap()
            .len()
    };
    let counts = GroupingCounts {
        native: count("ECCOv4r4_groupings_for_native_datasets.json"),
        latlon: count("ECCOv4r4_groupings_for_latlon_datasets.json"),
    };
    assert_eq!(
        counts, V4R4_COUNTS,
        "docs/edp-compatibility.md 5 lists 21 native and 13 latlon groupings"
    );
    // demos/native_latlon_local/jobs_V4r4.txt adds these to the documented example.
    let text =
        format!("{EDP_EXAMPLE}[17,'native','AVG_MON','all']\n[11,'latlon','AVG_MON','all']\n");
    let parsed = parse_job_file("jobs_V4r4.txt", &text, &ParseOptions::default()).unwrap();
    let jobs = validate("jobs_V4r4.txt", &parsed.jobs, &counts).unwrap();
    assert_eq!(jobs.len(), 4);
}

/// Fuzz harness of the job-file reader: hostile numbers (beyond u32/u64), grammar tokens and
/// cuts in the documented example never panic; accepted jobs have grouping ids that
/// `validate` checks against the catalog without panicking either.
#[test]
fn fuzzed_job_files_never_panic() {
    const NUMBERS: [&str; 8] = [
        "4294967296",
        "18446744073709551616",
        "-1",
        "99999999999999999999999",
        "0",
        "1e3",
        "227904",
        "9223372036854775807",
    ];
    const TOKENS: [&str; 10] = [
        "[",
        "]",
        ",",
        "'",
        "#",
        "'all'",
        "'AVG_DAY'",
        "'SNAPSHOT'",
        "\n",
        "'latlon'",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    };
    for case in 0..5_000 {
        let mut text = EDP_EXAMPLE.replace("'all'", "[1, 732, 1428]");
        for _ in 0..=next(3) {
            let at = next(text.len() + 1);
            match next(3) {
                0 => text.insert_str(at, NUMBERS[next(NUMBERS.len())]),
                1 => text.insert_str(at, TOKENS[next(TOKENS.len())]),
                _ => text.truncate(at),
            }
        }
        let outcome = std::panic::catch_unwind(|| {
            for skip_invalid_lines in [false, true] {
                let options = ParseOptions { skip_invalid_lines };
                if let Ok(parsed) = parse_job_file("fuzz.txt", &text, &options) {
                    let _ = validate("fuzz.txt", &parsed.jobs, &V4R4_COUNTS);
                } else if let Err(err) = parse_job_file("fuzz.txt", &text, &options) {
                    assert!(err.to_string().contains("fuzz.txt"), "{err}");
                }
            }
        });
        assert!(outcome.is_ok(), "case {case} panicked on {text:?}");
    }
}
