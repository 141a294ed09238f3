//! The files of `task-schemas/schemas/`: one JSON Schema per top-level type plus the
//! exit-code table, all generated from the types of this crate.
//!
//! `cargo run -p edp-task-schemas --bin gen-schemas` writes them; the test
//! `tests/schemas_up_to_date.rs` fails when the committed files differ.

use schemars::{JsonSchema, Schema, schema_for};
use serde_json::Value;

use crate::claim::Claim;
use crate::dataset::DatasetStatus;
use crate::exit::{ExitCodesDocument, exit_codes_document};
use crate::job_spec::JobSpec;
use crate::ledger::LedgerRecord;
use crate::manifest::DatasetManifest;
use crate::run::{RunRecord, RunReport};
use crate::shard::Shard;
use crate::task::{Task, TaskList};
use crate::trigger::ManualTrigger;

/// The command that regenerates the files.
pub const REGENERATE_COMMAND: &str = "cargo run -p edp-task-schemas --bin gen-schemas";

/// Name of the exit-code table (data, not a schema).
pub const EXIT_CODES_FILE: &str = "exit-codes.json";

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name inside `task-schemas/schemas/`.
    pub name: &'static str,
    /// Full content, ending with a newline.
    pub contents: String,
}

/// Every generated file, in a fixed order.
pub fn generated_files() -> Vec<GeneratedFile> {
    vec![
        schema_file::<JobSpec>("job-spec.schema.json"),
        schema_file::<Task>("task.schema.json"),
        titled(
            schema_file::<TaskList>("task-list.schema.json"),
            "TaskList",
            "A task list: one element per output granule (EDP Gen B/C compatible).",
        ),
        schema_file::<Shard>("shard.schema.json"),
        schema_file::<LedgerRecord>("ledger-record.schema.json"),
        schema_file::<RunRecord>("run-record.schema.json"),
        schema_file::<RunReport>("run-report.schema.json"),
        schema_file::<DatasetManifest>("dataset-manifest.schema.json"),
        schema_file::<DatasetStatus>("dataset-status.schema.json"),
        schema_file::<ManualTrigger>("manual-trigger.schema.json"),
        schema_file::<Claim>("claim.schema.json"),
        schema_file::<ExitCodesDocument>("exit-codes.schema.json"),
        GeneratedFile {
            name: EXIT_CODES_FILE,
            contents: render_exit_codes(&exit_codes_document()),
        },
    ]
}

fn schema_file<T: JsonSchema>(name: &'static str) -> GeneratedFile {
    let schema: Schema = schema_for!(T);
    GeneratedFile {
        name,
        contents: pretty(schema.as_value()),
    }
}

/// Replaces the generated title (`Array_of_Task` for a bare list) with a readable one.
fn titled(file: GeneratedFile, title: &str, description: &str) -> GeneratedFile {
    let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(&file.contents) else {
        return file;
    };
    fields.insert("title".into(), Value::String(title.into()));
    fields.insert("description".into(), Value::String(description.into()));
    GeneratedFile {
        name: file.name,
        contents: pretty(&Value::Object(fields)),
    }
}

fn pretty(value: &Value) -> String {
    // Serialising a `Value` into a `String` cannot fail (no I/O, keys are strings); fall
    // back to the compact form rather than panic if that ever changes.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

/// `exit-codes.json` in the layout the lead wrote by hand and Terraform reviewers read: the
/// two tables at top level, one row per line.
pub fn render_exit_codes(document: &ExitCodesDocument) -> String {
    // The document serialises to a two-level object of arrays of flat objects; anything else
    // would be a programming error caught by the tests, so render generic values.
    let value = serde_json::to_value(document).unwrap_or(Value::Null);
    let mut out = String::from("{\n");
    if let Value::Object(top) = &value {
        let sections: Vec<String> = top
            .iter()
            .map(|(key, rows)| {
                let rows_text = match rows {
                    Value::Array(rows) => {
                        let lines: Vec<String> = rows
                            .iter()
                            .map(|row| format!("    {}", one_line(row)))
                            .collect();
                        format!("[\n{}\n  ]", lines.join(",\n"))
                    }
                    other => one_line(other),
                };
                format!("  {}: {}", Value::String(key.clone()), rows_text)
            })
            .collect();
        out.push_str(&sections.join(",\n"));
    }
    out.push_str("\n}\n");
    out
}

/// A flat object as `{ "k": v, "k2": v2 }`; other values compact.
fn one_line(value: &Value) -> String {
    match value {
        Value::Object(fields) => {
            let parts: Vec<String> = fields
                .iter()
                .map(|(key, field)| format!("{}: {}", Value::String(key.clone()), field))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_unique_and_schemas_are_objects() {
        let files = generated_files();
        let mut names: Vec<_> = files.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), files.len());
        for file in &files {
            let value: Value = serde_json::from_str(&file.contents).unwrap();
            assert!(value.is_object(), "{} is not a JSON object", file.name);
            assert!(file.contents.ends_with('\n'));
        }
    }

    #[test]
    fn exit_codes_render_parses_back_to_the_document() {
        let document = exit_codes_document();
        let text = render_exit_codes(&document);
        let back: ExitCodesDocument = serde_json::from_str(&text).unwrap();
        assert_eq!(back, document);
    }
}
