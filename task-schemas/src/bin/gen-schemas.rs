//! Writes the generated JSON Schemas and `exit-codes.json` into `task-schemas/schemas/`.
//!
//! Usage: `cargo run -p edp-task-schemas --bin gen-schemas [-- <output dir>]`
//! (default: the `schemas/` folder of this crate). Files are written only when their content
//! changed, and stale `*.json` files that are no longer generated are reported.

use std::path::PathBuf;
use std::process::ExitCode;

use edp_task_schemas::schema_files::generated_files;

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas"));
    if let Err(err) = std::fs::create_dir_all(&dir) {
        eprintln!("gen-schemas: cannot create {}: {err}", dir.display());
        return ExitCode::from(1);
    }
    let files = generated_files();
    let mut written = 0usize;
    for file in &files {
        let path = dir.join(file.name);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(file.contents.as_str()) {
            continue;
        }
        if let Err(err) = std::fs::write(&path, &file.contents) {
            eprintln!("gen-schemas: cannot write {}: {err}", path.display());
            return ExitCode::from(1);
        }
        eprintln!("gen-schemas: wrote {}", path.display());
        written += 1;
    }
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !files.iter().any(|f| f.name == name) {
                eprintln!(
                    "gen-schemas: {} is not generated any more; delete it",
                    entry.path().display()
                );
            }
        }
    }
    eprintln!(
        "gen-schemas: {} files up to date in {} ({written} written)",
        files.len(),
        dir.display()
    );
    ExitCode::SUCCESS
}
