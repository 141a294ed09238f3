//! Task ids: a content hash that changes exactly when the granule a task would produce may
//! change.
//!
//! `task_id = lower-case hex SHA-256 of canonical_bytes(task, config_hash)`, where the
//! canonical serialisation (version `edp-task-id/v1`) is the concatenation of records
//!
//! ```text
//! <name> "=" <byte length> ":" <bytes> "\n"     a present value
//! <name> "!" "\n"                               an absent value
//! ```
//!
//! in this order:
//!
//! 1. `version` = `edp-task-id/v1`;
//! 2. `granule`;
//! 3. for every output variable in task order: `variable` = name, then for each component in
//!    order: `data` = path, `data_size`, `data_etag`, `meta` = path, `meta_size`, `meta_etag`
//!    (size in decimal; size and ETag from `edp.inputs` of the task, absent when unknown);
//! 4. `ecco_cfg_loc`, `ecco_grid_loc`, `ecco_mapping_factors_loc`, `ecco_metadata_loc`;
//! 5. `dynamic_metadata` = its compact JSON in Gen C key order (so Gen B and Gen C spellings of
//!    the same task hash alike);
//! 6. `config_hash` = the hash of the production configuration (e.g.
//!    `edp_conventions::config::ProductionConfig::config_hash`), empty when unknown.
//!
//! Length prefixes make the encoding unambiguous without escaping. Not part of the id: the
//! rest of the `edp` bookkeeping (cost estimate, software version, kind ...), so that a new
//! software release or a recalibrated cost model does not redo finished granules, and
//! `input_netcdf`/`strip_attributes` (unsupported tasks). Because ETags are part of the id, a
//! task planned from an inventory (ETags known) and the same task read from an EDP task list
//! (no ETags) have different ids.

use std::collections::HashMap;

use edp_task_schemas::{InputObject, Task};
use sha2::{Digest, Sha256};

/// Version tag of the canonical serialisation; changing the format changes this tag.
pub const TASK_ID_VERSION: &str = "edp-task-id/v1";

/// The task id of `task` (64 lower-case hex digits).
pub fn task_id(task: &Task, config_hash: &str) -> String {
    hex::encode(Sha256::digest(canonical_bytes(task, config_hash)))
}

/// True for a well-formed task id (64 lower-case hex digits).
pub fn is_task_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The canonical serialisation hashed by [`task_id`] (documented in the module header).
pub fn canonical_bytes(task: &Task, config_hash: &str) -> Vec<u8> {
    let known: HashMap<&str, &InputObject> = task
        .edp
        .iter()
        .flat_map(|edp| edp.inputs.iter())
        .map(|input| (input.location.as_str(), input))
        .collect();

    let mut out = Vec::new();
    field(&mut out, "version", Some(TASK_ID_VERSION));
    field(&mut out, "granule", Some(&task.granule));
    for (name, pairs) in &task.variables {
        field(&mut out, "variable", Some(name));
        for pair in pairs {
            for (prefix, location) in [("data", &pair.data), ("meta", &pair.meta)] {
                let input = known.get(location.as_str());
                field(&mut out, prefix, Some(location));
                let size = input.and_then(|i| i.size).map(|s| s.to_string());
                field(&mut out, &format!("{prefix}_size"), size.as_deref());
                let etag = input.and_then(|i| i.etag.as_deref());
                field(&mut out, &format!("{prefix}_etag"), etag);
            }
        }
    }
    field(&mut out, "ecco_cfg_loc", task.ecco_cfg_loc.as_deref());
    field(&mut out, "ecco_grid_loc", task.ecco_grid_loc.as_deref());
    field(
        &mut out,
        "ecco_mapping_factors_loc",
        task.ecco_mapping_factors_loc.as_deref(),
    );
    field(
        &mut out,
        "ecco_metadata_loc",
        task.ecco_metadata_loc.as_deref(),
    );
    // Serialising plain strings and maps of strings cannot fail; an empty record would still
    // be deterministic if it ever did.
    let metadata = serde_json::to_string(&task.dynamic_metadata).unwrap_or_default();
    field(&mut out, "dynamic_metadata", Some(&metadata));
    field(&mut out, "config_hash", Some(config_hash));
    out
}

fn field(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    out.extend_from_slice(name.as_bytes());
    match value {
        Some(value) => {
            out.extend_from_slice(format!("={}:", value.len()).as_bytes());
            out.extend_from_slice(value.as_bytes());
        }
        None => out.push(b'!'),
    }
    out.push(b'\n');
}
