//! EDP job files (`docs/edp-compatibility.md` 1): one job per line, a Python list (or tuple) literal
//! `[<grouping id>, <product type>, <frequency>, <time steps>]`.
//!
//! Accepted grammar (a strict subset of Python literals, `docs/edp-compatibility.md` 1.3):
//!
//! ```text
//! line      := ws ( job ws comment? | comment? ) EOL
//! job       := "[" ws int ws "," ws str ws "," ws str ws "," ws steps ws ","? ws "]"
//!            | the same between "(" and ")"
//! steps     := str | "[" ws ( int ( ws "," ws int )* ws ","? )? ws "]"
//! str       := "'" chars "'" | '"' chars '"'
//! comment   := "#" anything
//! ```
//!
//! * Blank and comment-only lines are skipped; any other line that does not parse is an error
//!   naming the file, the line number and the text (EDP skips such lines silently, bug 7.7).
//!   With [`ParseOptions::skip_invalid_lines`] bad lines become warnings instead.
//! * Product type: `native` / `latlon`, any case, normalised to lower case; `1D` is rejected as
//!   unsupported. Frequency: `AVG_MON`, `AVG_DAY`, `SNAP`, `TI` (or `TIME-INVARIANT`: one granule
//!   per dataset, its steps ignored), any case.
//! * Steps: `'all'` in any case, a non-empty list of non-negative ints, or (Gen B) a string
//!   holding such a list, `'[732, 1428]'`.
//! * Repeated identical jobs are dropped with a warning.
//!
//! Grouping ids are checked against the catalog by [`validate`], because the number of
//! groupings per product type comes from the metadata directory.
//!
//! ```
//! use edp_plan::jobfile::{GroupingCounts, ParseOptions, parse_job_file, validate};
//!
//! let text = "# native groupings:\n[0,'native','AVG_MON','all']    # sea surface height\n";
//! let parsed = parse_job_file("jobs.txt", text, &ParseOptions::default())?;
//! assert_eq!(parsed.jobs[0].line, 2);
//! let jobs = validate("jobs.txt", &parsed.jobs, &GroupingCounts { native: 21, latlon: 13 })?;
//! assert_eq!(jobs[0].grouping_id, 0);
//! # Ok::<(), edp_plan::jobfile::JobFileError>(())
//! ```

use std::collections::HashMap;
use std::fmt;

use edp_task_schemas::{Frequency, Job, ProductType, TimeSteps};
use thiserror::Error;

/// One job as written on a line of a job file; the grouping id is not range-checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLine {
    /// 1-based line number.
    pub line: usize,
    /// The line as written (without the line ending).
    pub text: String,
    /// Grouping id as written (may be negative or too large until [`validate`]).
    pub grouping_id: i64,
    /// Product type, normalised.
    pub product_type: ProductType,
    /// Frequency, normalised.
    pub frequency: Frequency,
    /// Time steps.
    pub time_steps: TimeSteps,
}

/// Parser options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Skip lines that do not parse (recording a warning each) instead of failing.
    pub skip_invalid_lines: bool,
}

/// Something worth telling the user that does not stop the parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFileWarning {
    /// File name as given to the parser.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// The line as written.
    pub text: String,
    /// What happened.
    pub message: String,
}

impl fmt::Display for JobFileWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.message, self.text
        )
    }
}

/// The jobs of a file and the warnings produced while reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedJobFile {
    /// Jobs in file order, duplicates removed.
    pub jobs: Vec<JobLine>,
    /// Skipped lines and duplicates.
    pub warnings: Vec<JobFileWarning>,
}

/// One rejected line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// The line as written.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Formats a list of line errors, one per line, each naming the file.
fn list_lines(file: &str, errors: &[LineError]) -> String {
    errors
        .iter()
        .map(|e| format!("\n  {file}:{}: {}: {}", e.line, e.reason, e.text))
        .collect()
}

/// Why a job file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JobFileError {
    /// Lines that are neither blank, comments nor valid jobs (all of them are listed).
    #[error(
        "{file}: {} invalid job line(s), expected [<grouping id>, '<native|latlon>', \
         '<AVG_MON|AVG_DAY|SNAP|TI>', <'all' | [steps]>]:{}",
        errors.len(),
        list_lines(file, errors)
    )]
    InvalidLines {
        /// File name as given.
        file: String,
        /// Every bad line.
        errors: Vec<LineError>,
    },
    /// The file holds no job at all.
    #[error(
        "{file}: no jobs found, expected at least one line like [0, 'native', 'AVG_MON', 'all']"
    )]
    NoJobs {
        /// File name as given.
        file: String,
    },
    /// Grouping ids outside the catalog (all of them are listed).
    #[error("{file}: {} job(s) with an invalid grouping id:{}", errors.len(), list_lines(file, errors))]
    InvalidGroupingIds {
        /// File name as given.
        file: String,
        /// Every bad job.
        errors: Vec<LineError>,
    },
}

/// Number of groupings per product type in the metadata catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupingCounts {
    /// Entries of `*_groupings_for_native_datasets.json`.
    pub native: usize,
    /// Entries of `*_groupings_for_latlon_datasets.json`.
    pub latlon: usize,
}

impl GroupingCounts {
    /// The count for a product type.
    pub fn of(&self, product_type: ProductType) -> usize {
        match product_type {
            ProductType::Native => self.native,
            ProductType::Latlon => self.latlon,
        }
    }
}

/// A job line before normalisation of the id: what [`parse_job_line`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawJob {
    /// Grouping id as written.
    pub grouping_id: i64,
    /// Product type.
    pub product_type: ProductType,
    /// Frequency.
    pub frequency: Frequency,
    /// Time steps.
    pub time_steps: TimeSteps,
}

/// Parses the text of a job file. `file` is only used in messages.
pub fn parse_job_file(
    file: &str,
    text: &str,
    options: &ParseOptions,
) -> Result<ParsedJobFile, JobFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut jobs: Vec<JobLine> = Vec::new();
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    // Key of a job -> line of its first occurrence, to drop exact repeats.
    let mut seen: HashMap<RawJob, usize> = HashMap::new();

    for (index, raw_line) in text.split('\n').enumerate() {
        let line = index + 1;
        let line_text = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        match parse_job_line(line_text) {
            Ok(None) => {}
            Ok(Some(job)) => {
                if let Some(first) = seen.get(&job) {
                    warnings.push(JobFileWarning {
                        file: file.to_string(),
                        line,
                        text: line_text.to_string(),
                        message: format!("duplicate of line {first}, ignored"),
                    });
                    continue;
                }
                seen.insert(job.clone(), line);
                jobs.push(JobLine {
                    line,
                    text: line_text.to_string(),
                    grouping_id: job.grouping_id,
                    product_type: job.product_type,
                    frequency: job.frequency,
                    time_steps: job.time_steps,
                });
            }
            Err(reason) if options.skip_invalid_lines => warnings.push(JobFileWarning {
                file: file.to_string(),
                line,
                text: line_text.to_string(),
                message: format!("skipped invalid line ({reason})"),
            }),
            Err(reason) => errors.push(LineError {
                line,
                text: line_text.to_string(),
                reason,
            }),
        }
    }

    if !errors.is_empty() {
        return Err(JobFileError::InvalidLines {
            file: file.to_string(),
            errors,
        });
    }
    if jobs.is_empty() {
        return Err(JobFileError::NoJobs {
            file: file.to_string(),
        });
    }
    Ok(ParsedJobFile { jobs, warnings })
}

/// Checks the grouping ids against the catalog (non-negative and below the number of
/// groupings of the product type) and returns the jobs. Every bad id is reported.
pub fn validate(
    file: &str,
    jobs: &[JobLine],
    counts: &GroupingCounts,
) -> Result<Vec<Job>, JobFileError> {
    let mut out = Vec::with_capacity(jobs.len());
    let mut errors = Vec::new();
    for job in jobs {
        let count = counts.of(job.product_type);
        let id = u32::try_from(job.grouping_id)
            .ok()
            .filter(|id| usize::try_from(*id).is_ok_and(|id| id < count));
        match id {
            Some(grouping_id) => out.push(Job {
                grouping_id,
                product_type: job.product_type,
                frequency: job.frequency,
                time_steps: job.time_steps.clone(),
            }),
            None => errors.push(LineError {
                line: job.line,
                text: job.text.clone(),
                reason: if job.grouping_id < 0 {
                    format!(
                        "grouping id {} is negative (EDP would count from the end of the list)",
                        job.grouping_id
                    )
                } else {
                    format!(
                        "grouping id {} is out of range: {} has {count} groupings (0..={})",
                        job.grouping_id,
                        job.product_type,
                        count.saturating_sub(1)
                    )
                },
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(JobFileError::InvalidGroupingIds {
            file: file.to_string(),
            errors,
        })
    }
}

/// Parses one line: `Ok(None)` for a blank or comment-only line, the job otherwise, or the
/// reason the line is invalid.
pub fn parse_job_line(line: &str) -> Result<Option<RawJob>, String> {
    let mut cursor = Cursor::new(line);
    cursor.skip_ws();
    match cursor.peek() {
        None | Some('#') => return Ok(None),
        _ => {}
    }
    let close = match cursor.next() {
        Some('[') => ']',
        Some('(') => ')',
        Some(other) => {
            return Err(format!(
                "expected '[' or '(' at column 1 of the job, found {other:?}"
            ));
        }
        None => return Ok(None),
    };

    cursor.skip_ws();
    let grouping_id = cursor.int().map_err(|e| format!("grouping id: {e}"))?;
    cursor.separator("after the grouping id")?;
    let product_text = cursor.string().map_err(|e| format!("product type: {e}"))?;
    let product_type: ProductType = product_text.parse().map_err(|e| format!("{e}"))?;
    cursor.separator("after the product type")?;
    let frequency_text = cursor.string().map_err(|e| format!("frequency: {e}"))?;
    let frequency: Frequency = frequency_text.parse().map_err(|e| format!("{e}"))?;
    cursor.separator("after the frequency")?;
    let time_steps = cursor.steps()?;
    cursor.skip_ws();
    if cursor.peek() == Some(',') {
        cursor.next();
        cursor.skip_ws();
    }
    match cursor.next() {
        Some(c) if c == close => {}
        Some('\'' | '"' | '[' | '-' | '0'..='9') => {
            return Err("expected exactly 4 elements, found more".to_string());
        }
        Some(other) => {
            return Err(format!(
                "expected {close:?} to close the job, found {other:?}"
            ));
        }
        None => return Err(format!("missing {close:?} at the end of the job")),
    }
    cursor.skip_ws();
    match cursor.peek() {
        None | Some('#') => Ok(Some(RawJob {
            grouping_id,
            product_type,
            frequency,
            time_steps,
        })),
        Some(_) => Err(format!(
            "unexpected text after the job: {:?}",
            cursor.rest()
        )),
    }
}

/// Parses the content of a Gen B step string (`'[732, 1428]'`) or any step list text.
fn parse_step_list_text(text: &str) -> Result<Vec<u64>, String> {
    let mut cursor = Cursor::new(text);
    cursor.skip_ws();
    let steps = cursor.step_list()?;
    cursor.skip_ws();
    if cursor.peek().is_some() {
        return Err(format!(
            "unexpected text after the step list: {:?}",
            cursor.rest()
        ));
    }
    Ok(steps)
}

/// A character cursor over one line.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Spaces and tabs (Python's tokenizer ignores both between tokens).
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\x0c')) {
            self.next();
        }
    }

    /// `ws "," ws`, or an error saying where the comma was expected.
    fn separator(&mut self, context: &str) -> Result<(), String> {
        self.skip_ws();
        match self.next() {
            Some(',') => {
                self.skip_ws();
                Ok(())
            }
            Some(']') | Some(')') => Err(format!(
                "expected exactly 4 elements, the job ends {context}"
            )),
            Some(other) => Err(format!("expected ',' {context}, found {other:?}")),
            None => Err(format!("expected ',' {context}, found the end of the line")),
        }
    }

    /// A Python integer literal: optional sign, decimal digits, `_` between digits.
    fn int(&mut self) -> Result<i64, String> {
        let start = self.pos;
        let negative = match self.peek() {
            Some('-') => {
                self.next();
                true
            }
            Some('+') => {
                self.next();
                false
            }
            _ => false,
        };
        let mut digits = String::new();
        let mut last_was_digit = false;
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() {
                digits.push(c);
                last_was_digit = true;
            } else if c == '_' && last_was_digit {
                last_was_digit = false;
            } else {
                break;
            }
            self.next();
        }
        if digits.is_empty() || !last_was_digit {
            let found = &self.text[start..];
            return Err(format!(
                "expected an integer, found {:?}",
                found.chars().take(12).collect::<String>()
            ));
        }
        let value: i64 = digits
            .parse()
            .map_err(|_| format!("integer {digits} is too large"))?;
        Ok(if negative { -value } else { value })
    }

    /// A quoted string without escape sequences.
    fn string(&mut self) -> Result<String, String> {
        let quote = match self.next() {
            Some(q @ ('\'' | '"')) => q,
            Some(other) => return Err(format!("expected a quoted string, found {other:?}")),
            None => return Err("expected a quoted string, found the end of the line".into()),
        };
        let mut value = String::new();
        loop {
            match self.next() {
                Some(c) if c == quote => return Ok(value),
                Some('\\') => {
                    return Err("backslash escapes are not supported in job files".into());
                }
                Some(c) => value.push(c),
                None => return Err(format!("unterminated string (missing {quote})")),
            }
        }
    }

    /// `'all'`, a list of steps, or a string holding a list of steps.
    fn steps(&mut self) -> Result<TimeSteps, String> {
        match self.peek() {
            Some('\'' | '"') => {
                let text = self.string().map_err(|e| format!("time steps: {e}"))?;
                if text.eq_ignore_ascii_case("all") {
                    Ok(TimeSteps::All)
                } else {
                    parse_step_list_text(&text)
                        .map(TimeSteps::Steps)
                        .map_err(|e| {
                            format!(
                                "time steps {text:?} are neither 'all' nor a list of steps ({e})"
                            )
                        })
                }
            }
            Some('[') => self.step_list().map(TimeSteps::Steps),
            Some(other) => Err(format!(
                "time steps: expected 'all' or a list of steps, found {other:?}"
            )),
            None => Err("time steps: missing".into()),
        }
    }

    /// `"[" ws ( int ( ws "," ws int )* ws ","? )? ws "]"`, non-empty, non-negative.
    fn step_list(&mut self) -> Result<Vec<u64>, String> {
        match self.next() {
            Some('[') => {}
            Some(other) => return Err(format!("expected '[', found {other:?}")),
            None => return Err("expected '[', found the end of the text".into()),
        }
        let mut steps = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(']') {
                self.next();
                break;
            }
            let step = self.int().map_err(|e| format!("time step: {e}"))?;
            let step = u64::try_from(step).map_err(|_| format!("time step {step} is negative"))?;
            steps.push(step);
            self.skip_ws();
            match self.next() {
                Some(',') => {}
                Some(']') => break,
                Some(other) => {
                    return Err(format!(
                        "expected ',' or ']' in the time-step list, found {other:?}"
                    ));
                }
                None => return Err("unterminated time-step list (missing ']')".into()),
            }
        }
        if steps.is_empty() {
            return Err("empty time-step list (use 'all' or list at least one step)".into());
        }
        Ok(steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(line: &str) -> RawJob {
        match parse_job_line(line) {
            Ok(Some(job)) => job,
            other => panic!("{line:?} -> {other:?}"),
        }
    }

    fn reason(line: &str) -> String {
        match parse_job_line(line) {
            Err(reason) => reason,
            other => panic!("{line:?} should be invalid, got {other:?}"),
        }
    }

    #[test]
    fn blank_and_comment_lines_are_not_jobs() {
        for line in [
            "",
            "   ",
            "\t",
            "# native groupings:",
            "   # indented comment",
        ] {
            assert_eq!(parse_job_line(line), Ok(None), "{line:?}");
        }
    }

    #[test]
    fn lists_tuples_quotes_and_trailing_commas() {
        let expected = RawJob {
            grouping_id: 0,
            product_type: ProductType::Native,
            frequency: Frequency::AvgMon,
            time_steps: TimeSteps::All,
        };
        for line in [
            "[0,'native','AVG_MON','all']",
            "[0, 'native', 'AVG_MON', 'all']",
            "(0, \"native\", \"AVG_MON\", \"all\")",
            "[0,'native','AVG_MON','all',]",
            "  [ 0 , 'Native' , 'avg_mon' , 'ALL' ]    # dynamic sea surface height",
            "[0,'native','AVG_MON','All']#comment",
        ] {
            assert_eq!(job(line), expected, "{line:?}");
        }
    }

    #[test]
    fn explicit_and_gen_b_string_steps() {
        assert_eq!(
            job("[17,'native','AVG_DAY',[12, 36,]]").time_steps,
            TimeSteps::Steps(vec![12, 36])
        );
        assert_eq!(
            job("[11,'latlon','AVG_MON','[732, 1428]']").time_steps,
            TimeSteps::Steps(vec![732, 1428])
        );
        assert_eq!(
            job("[1,'native','SNAP',[1_000]]").time_steps,
            TimeSteps::Steps(vec![1000])
        );
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(reason("[0,'native','AVG_MON']").contains("4 elements"));
        assert!(reason("[0,'native','AVG_MON','all',5]").contains("4 elements"));
        assert!(reason("[0,'1D','AVG_MON','all']").contains("unsupported"));
        assert!(reason("[0,'grid','AVG_MON','all']").contains("product type"));
        assert!(reason("[0,'native','AVG_YEAR','all']").contains("frequency"));
        assert!(reason("[0,'native','AVG_MON',[]]").contains("empty"));
        assert!(reason("[0,'native','AVG_MON','[]']").contains("empty"));
        assert!(reason("[0,'native','AVG_MON',[-12]]").contains("negative"));
        assert!(reason("[0,'native','AVG_MON','some']").contains("neither"));
        assert!(reason("['0','native','AVG_MON','all']").contains("grouping id"));
        assert!(reason("[0,'native','AVG_MON','all'] extra").contains("after the job"));
        assert!(reason("[0,'native','AVG_MON','all'").contains("missing"));
        assert!(reason("[0 'native','AVG_MON','all']").contains("expected ','"));
        assert!(reason("[0,'native,'AVG_MON','all']").contains("product type"));
        assert!(reason("[0,'native','AVG_MON','all')").contains("close"));
        assert!(reason("0,latlon,AVG_MON,all").contains("'['"));
    }

    #[test]
    fn negative_ids_parse_and_fail_validation() {
        let parsed = parse_job_file(
            "j.txt",
            "[-1,'native','AVG_MON','all']",
            &ParseOptions::default(),
        )
        .unwrap();
        assert_eq!(parsed.jobs[0].grouping_id, -1);
        let err = validate(
            "j.txt",
            &parsed.jobs,
            &GroupingCounts {
                native: 21,
                latlon: 13,
            },
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("j.txt:1:") && text.contains("negative"),
            "{text}"
        );
    }
}
