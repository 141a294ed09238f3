//! Streaming output of task lists in EDP's format (`json.dump(task_list, fp, indent=4)`,
//! `docs/edp-compatibility.md` 2.4), one task at a time.
//!
//! [`crate::tasklist::to_python_json`] builds the whole list as one string, which for a large
//! run (100,000 tasks, about 600 MB of text) would triple the planner's memory. The writers
//! here format each task on its own (through the same formatter) and indent it one level, which
//! gives byte-identical output: a Python `indent=4` array is `[`, newline, each element
//! formatted at depth 1 (every line prefixed by 4 spaces) joined by `,` + newline, newline,
//! `]`; `[]` when empty. JSON strings never contain a raw newline (it is escaped), so lines can
//! be indented by splitting on `\n`.

use std::io::{BufWriter, Write};

use edp_store::{Location, Store, StoreError};
use edp_task_schemas::Task;
use thiserror::Error;

use crate::tasklist::EdpKey;
use crate::tasklist::python_json::to_string_indent4;

/// Why a task list could not be written.
#[derive(Debug, Error)]
pub enum TaskOutputError {
    /// A task could not be turned into JSON.
    #[error("task {index} ({granule}): cannot serialise: {source}")]
    Serialize {
        /// Index in the list.
        index: usize,
        /// Its granule.
        granule: String,
        /// The serialiser error.
        #[source]
        source: serde_json::Error,
    },
    /// Writing the text failed.
    #[error("cannot write task list {target}: {source}")]
    Io {
        /// Where it was going.
        target: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Uploading it failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes `tasks` to `out` exactly as [`crate::tasklist::to_python_json`] formats them.
/// `target` names the destination in errors.
pub fn write_python_task_list<'a, W: Write>(
    tasks: impl IntoIterator<Item = &'a Task>,
    edp: EdpKey,
    out: &mut W,
    target: &str,
) -> Result<(), TaskOutputError> {
    let io = |source| TaskOutputError::Io {
        target: target.to_string(),
        source,
    };
    let mut empty = true;
    for (index, task) in tasks.into_iter().enumerate() {
        let mut value =
            serde_json::to_value(task).map_err(|source| TaskOutputError::Serialize {
                index,
                granule: task.granule.clone(),
                source,
            })?;
        if edp == EdpKey::Strip
            && let Some(fields) = value.as_object_mut()
        {
            fields.shift_remove("edp");
        }
        out.write_all(if empty { b"[\n" } else { b",\n" })
            .map_err(io)?;
        empty = false;
        let text = to_string_indent4(&value);
        for (line_index, line) in text.split('\n').enumerate() {
            if line_index > 0 {
                out.write_all(b"\n").map_err(io)?;
            }
            out.write_all(b"    ").map_err(io)?;
            out.write_all(line.as_bytes()).map_err(io)?;
        }
    }
    out.write_all(if empty { b"[]" } else { b"\n]" })
        .map_err(io)?;
    Ok(())
}

/// Writes the task list to `location` (local or `s3://`) without holding its text in memory:
/// formatted into a temporary file, then uploaded with [`Store::put_file`] (atomic; multipart
/// on S3 for large lists). Returns the number of bytes written.
///
/// The temporary file lives in the system temporary directory (`TMPDIR`; on Lambda `/tmp`,
/// whose ephemeral storage must hold the list: about 6 kB per task).
pub async fn put_task_list(
    store: &Store,
    location: &Location,
    tasks: &[Task],
    edp: EdpKey,
) -> Result<u64, TaskOutputError> {
    let target = location.to_string();
    let io = |source| TaskOutputError::Io {
        target: target.clone(),
        source,
    };
    let file = tempfile::NamedTempFile::new().map_err(io)?;
    {
        // Formatting is CPU-bound and the file is local: fine on the async thread for the
        // seconds it takes, and it keeps the borrow of `tasks` simple.
        let mut writer = BufWriter::with_capacity(1 << 20, file.as_file());
        write_python_task_list(tasks, edp, &mut writer, &target)?;
        writer.flush().map_err(io)?;
    }
    let bytes = file.as_file().metadata().map_err(io)?.len();
    store.put_file(location, file.path()).await?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasklist::to_python_json;

    const GEN_C_VECTOR: &str = include_str!("../tests/fixtures/edp_gen_c_vector_task.json");

    fn written(tasks: &[Task], edp: EdpKey) -> String {
        let mut out = Vec::new();
        write_python_task_list(tasks, edp, &mut out, "memory").unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn streamed_lists_equal_the_one_shot_formatter() {
        let tasks: Vec<Task> = serde_json::from_str(GEN_C_VECTOR).unwrap();
        let mut three = tasks.clone();
        three.extend(tasks.iter().cloned());
        three.extend(tasks.iter().cloned());
        for list in [&[][..], &tasks[..], &three[..]] {
            for edp in [EdpKey::Keep, EdpKey::Strip] {
                assert_eq!(written(list, edp), to_python_json(list, edp).unwrap());
            }
        }
        assert_eq!(written(&tasks, EdpKey::Strip), GEN_C_VECTOR);
    }
}
