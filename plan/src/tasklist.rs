//! Task lists compatible with the Python EDP (`docs/edp-compatibility.md` 2): reading Gen B and Gen C
//! lists with validation of every task before any work, and writing Gen C lists
//! byte-compatible with EDP's `json.dump(task_list, fp, indent=4)`.
//!
//! Reading ([`parse_task_list`]):
//!
//! * the text must be a JSON array; each element is decoded on its own, so one malformed task
//!   does not hide the others: **all** invalid tasks are reported together, each with its index,
//!   its granule (when readable) and every problem found;
//! * a task is valid when its `granule` file name parses (`docs/naming.md` 1, through
//!   `edp_conventions::naming::GranuleName`), it has at least one variable, every component is a
//!   `[data, meta]` pair whose paths end in `.data`/`.meta` and share the same stem, a vector
//!   variable (one listed in `dynamic_metadata.field_components`) has exactly two components
//!   whose MDS variable names are the x and y components in that order, a direct variable has
//!   exactly one component, `dimension` is `2D` or `3D`, and the three times parse as
//!   `%Y-%m-%dT%H:%M:%S` with start <= center <= end;
//! * unknown keys are ignored, logged at debug level and returned in
//!   [`ParsedTaskList::unknown_keys`];
//! * a Gen B task has no `ecco_cfg_loc`: [`ReadOptions::default_cfg_loc`] fills it in (EDP
//!   Gen B's `--cfgfile`), and [`ReadOptions::require_cfg_loc`] makes a task without any
//!   configuration invalid.
//!
//! Writing ([`to_python_json`]) produces the Gen C key order of [`Task`] with Python's
//! formatting (see [`python_json`]).

pub mod python_json;

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDateTime;
use edp_conventions::naming::{GranuleName, MdsFileName};
use edp_task_schemas::{Task, TaskGeneration};
use serde_json::Value;
use thiserror::Error;

/// The time format of `dynamic_metadata` (`docs/time-axis.md` 2).
pub const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// Top-level task keys we understand (EDP Gen B/C plus `edp`).
const TASK_KEYS: &[&str] = &[
    "granule",
    "variables",
    "ecco_cfg_loc",
    "ecco_grid_loc",
    "ecco_mapping_factors_loc",
    "ecco_metadata_loc",
    "dynamic_metadata",
    "input_netcdf",
    "strip_attributes",
    "edp",
];

/// `dynamic_metadata` keys we understand.
const DYNAMIC_METADATA_KEYS: &[&str] = &[
    "name",
    "dimension",
    "time_coverage_start",
    "time_coverage_end",
    "time_coverage_center",
    "time_long_name",
    "time_coverage_duration",
    "time_coverage_resolution",
    "comment",
    "field_components",
    "field_orientations",
    "summary",
];

/// How to read a task list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Configuration location for tasks without `ecco_cfg_loc` (Gen B `--cfgfile`).
    pub default_cfg_loc: Option<String>,
    /// Make a task invalid when it has no `ecco_cfg_loc` and no default is given.
    pub require_cfg_loc: bool,
}

/// A key the reader ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// Index of the task in the list.
    pub task: usize,
    /// Dotted key path, e.g. `dynamic_metadata.extra`.
    pub key: String,
}

/// Two tasks writing the same granule (EDP produces these for repeated job lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateGranule {
    /// Index of the first task.
    pub first: usize,
    /// Index of the later task.
    pub duplicate: usize,
    /// The granule both write.
    pub granule: String,
}

/// A task list that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedTaskList {
    /// The tasks, in file order.
    pub tasks: Vec<Task>,
    /// `C` when every task carried `ecco_cfg_loc` in the file, `B` when none did; `None` for
    /// an empty or mixed list.
    pub generation: Option<TaskGeneration>,
    /// Keys that were ignored.
    pub unknown_keys: Vec<UnknownKey>,
    /// Tasks that write the same granule as an earlier one (kept; the caller decides).
    pub duplicate_granules: Vec<DuplicateGranule>,
}

/// One invalid task and everything wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTask {
    /// Index of the task in the list (0-based).
    pub index: usize,
    /// The task's `granule`, when it could be read.
    pub granule: Option<String>,
    /// Every problem found.
    pub problems: Vec<String>,
}

impl fmt::Display for InvalidTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.index)?;
        if let Some(granule) = &self.granule {
            write!(f, " ({granule})")?;
        }
        write!(f, ": {}", self.problems.join("; "))
    }
}

fn list_invalid(invalid: &[InvalidTask]) -> String {
    invalid.iter().map(|task| format!("\n  {task}")).collect()
}

/// Why a task list was rejected or could not be written.
#[derive(Debug, Error)]
pub enum TaskListError {
    /// Not JSON at all.
    #[error("{file}: not valid JSON: {source}")]
    Json {
        /// File name as given.
        file: String,
        /// Parser error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// JSON, but not an array.
    #[error("{file}: expected a JSON array of tasks, found {found}")]
    NotAnArray {
        /// File name as given.
        file: String,
        /// JSON type found.
        found: &'static str,
    },
    /// Some tasks are invalid; all of them are listed.
    #[error("{file}: {} of {total} task(s) invalid, nothing was processed:{}", invalid.len(), list_invalid(invalid))]
    InvalidTasks {
        /// File name as given.
        file: String,
        /// Number of tasks in the list.
        total: usize,
        /// Every invalid task.
        invalid: Vec<InvalidTask>,
    },
    /// A task could not be turned into JSON (not expected with these types).
    #[error("task {index} ({granule}): cannot serialise: {source}")]
    Serialize {
        /// Index of the task.
        index: usize,
        /// Its granule.
        granule: String,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads and validates a task list (Gen B or Gen C). `file` is only used in messages.
pub fn parse_task_list(
    file: &str,
    text: &str,
    options: &ReadOptions,
) -> Result<ParsedTaskList, TaskListError> {
    let value: Value = serde_json::from_str(text).map_err(|source| TaskListError::Json {
        file: file.to_string(),
        source,
    })?;
    let Value::Array(elements) = value else {
        return Err(TaskListError::NotAnArray {
            file: file.to_string(),
            found: json_type(&value),
        });
    };

    let total = elements.len();
    let mut tasks = Vec::with_capacity(total);
    let mut invalid = Vec::new();
    let mut unknown_keys = Vec::new();
    let mut with_cfg = 0usize;

    for (index, element) in elements.into_iter().enumerate() {
        collect_unknown_keys(index, &element, &mut unknown_keys);
        let granule = element
            .get("granule")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut task: Task = match serde_json::from_value(element) {
            Ok(task) => task,
            Err(err) => {
                invalid.push(InvalidTask {
                    index,
                    granule,
                    problems: vec![format!("not a valid task: {err}")],
                });
                continue;
            }
        };
        if task.ecco_cfg_loc.is_some() {
            with_cfg += 1;
        } else if let Some(default) = &options.default_cfg_loc {
            task.ecco_cfg_loc = Some(default.clone());
        }
        let mut problems = validate_task(&task);
        if options.require_cfg_loc && task.ecco_cfg_loc.is_none() {
            problems.push(
                "no ecco_cfg_loc and no configuration given (Gen B task lists need \
                 --cfgfile / --ecco_cfg_loc)"
                    .to_string(),
            );
        }
        if problems.is_empty() {
            tasks.push(task);
        } else {
            invalid.push(InvalidTask {
                index,
                granule: Some(task.granule),
                problems,
            });
        }
    }

    if !invalid.is_empty() {
        return Err(TaskListError::InvalidTasks {
            file: file.to_string(),
            total,
            invalid,
        });
    }
    for unknown in &unknown_keys {
        tracing::debug!(file, task = unknown.task, key = %unknown.key, "ignoring unknown task key");
    }
    let generation = match (with_cfg, total) {
        (_, 0) => None,
        (0, _) => Some(TaskGeneration::B),
        (n, t) if n == t => Some(TaskGeneration::C),
        _ => None,
    };
    let duplicate_granules = find_duplicate_granules(&tasks);
    Ok(ParsedTaskList {
        tasks,
        generation,
        unknown_keys,
        duplicate_granules,
    })
}

fn collect_unknown_keys(index: usize, element: &Value, out: &mut Vec<UnknownKey>) {
    let Some(fields) = element.as_object() else {
        return;
    };
    for key in fields.keys() {
        if !TASK_KEYS.contains(&key.as_str()) {
            out.push(UnknownKey {
                task: index,
                key: key.clone(),
            });
        }
    }
    if let Some(metadata) = fields.get("dynamic_metadata").and_then(Value::as_object) {
        for key in metadata.keys() {
            if !DYNAMIC_METADATA_KEYS.contains(&key.as_str()) {
                out.push(UnknownKey {
                    task: index,
                    key: format!("dynamic_metadata.{key}"),
                });
            }
        }
    }
}

fn find_duplicate_granules(tasks: &[Task]) -> Vec<DuplicateGranule> {
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    let mut duplicates = Vec::new();
    for (index, task) in tasks.iter().enumerate() {
        match first_of.get(task.granule.as_str()) {
            Some(&first) => duplicates.push(DuplicateGranule {
                first,
                duplicate: index,
                granule: task.granule.clone(),
            }),
            None => {
                first_of.insert(task.granule.as_str(), index);
            }
        }
    }
    duplicates
}

/// The last path component of a local path or `s3://` URI.
fn file_name(location: &str) -> &str {
    location.rsplit('/').next().unwrap_or(location)
}

/// Every problem of one task (empty when valid). Does not look at `ecco_cfg_loc`.
pub fn validate_task(task: &Task) -> Vec<String> {
    let mut problems = Vec::new();

    if let Err(err) = GranuleName::parse(file_name(&task.granule)) {
        problems.push(format!("granule: {err}"));
    }

    if task.variables.is_empty() {
        problems.push("variables: empty, expected at least one output variable".to_string());
    }
    for (name, pairs) in &task.variables {
        for (i, pair) in pairs.iter().enumerate() {
            let data_stem = pair.data.strip_suffix(".data");
            let meta_stem = pair.meta.strip_suffix(".meta");
            match (data_stem, meta_stem) {
                (None, _) => problems.push(format!(
                    "variable {name} component {i}: first path must end in '.data', found {:?}",
                    pair.data
                )),
                (_, None) => problems.push(format!(
                    "variable {name} component {i}: second path must end in '.meta', found {:?}",
                    pair.meta
                )),
                (Some(data), Some(meta)) if data != meta => problems.push(format!(
                    "variable {name} component {i}: .data and .meta stems differ ({:?} vs {:?})",
                    pair.data, pair.meta
                )),
                _ => {}
            }
        }
        match task.vector_components(name) {
            Some(xy) => {
                if pairs.len() != 2 {
                    problems.push(format!(
                        "vector variable {name}: expected 2 components (x = {}, y = {}), found {}",
                        xy.x,
                        xy.y,
                        pairs.len()
                    ));
                } else {
                    for (pair, (axis, expected)) in pairs.iter().zip([("x", &xy.x), ("y", &xy.y)]) {
                        // Only MDS diagnostic names carry a variable name; other names were
                        // already checked for their suffixes above.
                        if let Some(parsed) = MdsFileName::parse(file_name(&pair.data))
                            && &parsed.variable != expected
                        {
                            problems.push(format!(
                                "vector variable {name}: {axis} component must be {expected} \
                                 (field_components), found {} in {:?}",
                                parsed.variable, pair.data
                            ));
                        }
                    }
                }
            }
            None => {
                if pairs.len() != 1 {
                    problems.push(format!(
                        "variable {name}: expected 1 [data, meta] component (not listed in \
                         field_components), found {}",
                        pairs.len()
                    ));
                }
            }
        }
    }

    let metadata = &task.dynamic_metadata;
    let mut times = Vec::new();
    for (key, text) in [
        ("time_coverage_start", &metadata.time_coverage_start),
        ("time_coverage_center", &metadata.time_coverage_center),
        ("time_coverage_end", &metadata.time_coverage_end),
    ] {
        match NaiveDateTime::parse_from_str(text, TIME_FORMAT) {
            Ok(time) => times.push(time),
            Err(err) => problems.push(format!(
                "dynamic_metadata.{key}: expected YYYY-MM-DDThh:mm:ss, found {text:?} ({err})"
            )),
        }
    }
    if let [start, center, end] = times[..]
        && !(start <= center && center <= end)
    {
        problems.push(format!(
            "dynamic_metadata: expected time_coverage_start <= center <= end, found {} / {} / {}",
            metadata.time_coverage_start, metadata.time_coverage_center, metadata.time_coverage_end
        ));
    }
    problems
}

/// Validates tasks already in memory; every invalid task is reported.
pub fn validate_task_list(file: &str, tasks: &[Task]) -> Result<(), TaskListError> {
    let invalid: Vec<InvalidTask> = tasks
        .iter()
        .enumerate()
        .filter_map(|(index, task)| {
            let problems = validate_task(task);
            (!problems.is_empty()).then(|| InvalidTask {
                index,
                granule: Some(task.granule.clone()),
                problems,
            })
        })
        .collect();
    if invalid.is_empty() {
        Ok(())
    } else {
        Err(TaskListError::InvalidTasks {
            file: file.to_string(),
            total: tasks.len(),
            invalid,
        })
    }
}

/// Why a valid task cannot be produced by edp, if it cannot: the Gen C time-invariant
/// re-attribution tasks (`input_netcdf`, `strip_attributes`) are accepted but unsupported.
pub fn unsupported_reason(task: &Task) -> Option<String> {
    if let Some(input) = &task.input_netcdf {
        return Some(format!(
            "time-invariant re-attribution task (input_netcdf {input:?}) is not supported"
        ));
    }
    if task.strip_attributes.is_some() {
        return Some("time-invariant task (strip_attributes) is not supported".to_string());
    }
    None
}

/// Whether [`to_python_json`] writes our `edp` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdpKey {
    /// Write `edp` where present (EDP ignores it).
    Keep,
    /// Leave it out: the output is exactly what EDP itself would write.
    Strip,
}

/// The task list as Python's `json.dump(task_list, fp, indent=4)` writes it: 4-space
/// indentation, Gen C key order, ASCII escapes, no trailing newline, `[]` when empty.
pub fn to_python_json(tasks: &[Task], edp: EdpKey) -> Result<String, TaskListError> {
    let mut values = Vec::with_capacity(tasks.len());
    for (index, task) in tasks.iter().enumerate() {
        let mut value = serde_json::to_value(task).map_err(|source| TaskListError::Serialize {
            index,
            granule: task.granule.clone(),
            source,
        })?;
        if edp == EdpKey::Strip
            && let Some(fields) = value.as_object_mut()
        {
            fields.shift_remove("edp");
        }
        values.push(value);
    }
    Ok(python_json::to_string_indent4(&Value::Array(values)))
}
