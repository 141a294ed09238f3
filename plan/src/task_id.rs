//! Task ids: a content hash that changes exactly when the granule a task would produce may
//! change.
//!
//! `task_id = lower-case hex SHA-256 of canonical_bytes(task, config_hash)`, where the
//! canonical serialisation (version `edp-task-id/v2`) is the concatenation of records
//!
//! ```text
//! <name> "=" <byte length> ":" <bytes> "\n"     a present value
//! <name> "!" "\n"                               an absent value
//! ```
//!
//! in this order:
//!
//! 1. `version` = `edp-task-id/v2`;
//! 2. `granule` = the final location of the granule;
//! 3. for every output variable in task order: `variable` = name, then for each component in
//!    order: `data` = location, `data_size`, `data_etag`, `meta` = location, `meta_size`,
//!    `meta_etag` (size in decimal; size and ETag from `edp.inputs` of the task, absent when
//!    unknown);
//! 4. `ecco_cfg_loc`, `ecco_grid_loc`, `ecco_metadata_loc` (locations), and
//!    `ecco_mapping_factors_loc` for lat-lon granules only (native granules do not use the
//!    factors: where they are is incidental);
//! 5. `dynamic_metadata` = its compact JSON in Gen C key order (so Gen B and Gen C spellings of
//!    the same task hash alike);
//! 6. `config_hash` = the hash of the production configuration (e.g.
//!    `edp_conventions::config::ProductionConfig::config_hash`), empty when unknown.
//!
//! Every location is hashed in its normalised form ([`edp_store::Location`]: relative paths
//! resolved against the current directory, `.`/`..`/doubled `/` removed, `s3://` URLs
//! normalised), so `./out/V4r4/...`, `out/V4r4/...` and `/abs/out/V4r4/...` name the same
//! granule and give the same id; a string that is not a location is hashed as written.
//!
//! Length prefixes make the encoding unambiguous without escaping. Not part of the id: the
//! rest of the `edp` bookkeeping (cost estimate, software version, kind ...), so that a new
//! software release or a recalibrated cost model does not redo finished granules (the skip
//! rule checks the version recorded in the done marker for compatibility instead), and
//! `input_netcdf`/`strip_attributes` (unsupported tasks). Because ETags are part of the id, a
//! task planned from an inventory (ETags known) and the same task read from an EDP task list
//! (no ETags) have different ids.
//!
//! [`legacy_task_id`] is the id of the previous serialisation (`edp-task-id/v1`, locations as
//! written, factors always), still honoured by the skip rule so that upgrading does not redo
//! granules finished by an older release.

use std::collections::HashMap;

use edp_task_schemas::{InputObject, Task};
use sha2::{Digest, Sha256};

/// Version tag of the canonical serialisation; changing the format changes this tag.
pub const TASK_ID_VERSION: &str = "edp-task-id/v2";

/// Version tag of the serialisation of [`legacy_task_id`].
pub const LEGACY_TASK_ID_VERSION: &str = "edp-task-id/v1";

/// The task id of `task` (64 lower-case hex digits).
pub fn task_id(task: &Task, config_hash: &str) -> String {
    hex::encode(Sha256::digest(canonical_bytes(task, config_hash)))
}

/// The id an older release (`edp-task-id/v1`) gave `task`: locations hashed as written and
/// the factors location always included.
pub fn legacy_task_id(task: &Task, config_hash: &str) -> String {
    hex::encode(Sha256::digest(encode(task, config_hash, Spelling::Legacy)))
}

/// How locations enter the serialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spelling {
    /// `edp-task-id/v2`: normalised, factors only for lat-lon granules.
    Normalised,
    /// `edp-task-id/v1`: as written, factors always.
    Legacy,
}

/// `location` in normalised form, or as written when it is not a location.
fn normalised(location: &str) -> String {
    edp_store::Location::parse(location)
        .map(|l| l.to_string())
        .unwrap_or_else(|_| location.to_string())
}

/// True for a well-formed task id (64 lower-case hex digits).
pub fn is_task_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The canonical serialisation hashed by [`task_id`] (documented in the module header).
pub fn canonical_bytes(task: &Task, config_hash: &str) -> Vec<u8> {
    encode(task, config_hash, Spelling::Normalised)
}

fn encode(task: &Task, config_hash: &str, spelling: Spelling) -> Vec<u8> {
    let spell = |location: &str| match spelling {
        Spelling::Normalised => normalised(location),
        Spelling::Legacy => location.to_string(),
    };
    let spell_opt = |location: &Option<String>| location.as_deref().map(spell);
    let version = match spelling {
        Spelling::Normalised => TASK_ID_VERSION,
        Spelling::Legacy => LEGACY_TASK_ID_VERSION,
    };
    let known: HashMap<&str, &InputObject> = task
        .edp
        .iter()
        .flat_map(|edp| edp.inputs.iter())
        .map(|input| (input.location.as_str(), input))
        .collect();

    let mut out = Vec::new();
    field(&mut out, "version", Some(version));
    field(&mut out, "granule", Some(&spell(&task.granule)));
    for (name, pairs) in &task.variables {
        field(&mut out, "variable", Some(name));
        for pair in pairs {
            for (prefix, location) in [("data", &pair.data), ("meta", &pair.meta)] {
                let input = known.get(location.as_str());
                field(&mut out, prefix, Some(&spell(location)));
                let size = input.and_then(|i| i.size).map(|s| s.to_string());
                field(&mut out, &format!("{prefix}_size"), size.as_deref());
                let etag = input.and_then(|i| i.etag.as_deref());
                field(&mut out, &format!("{prefix}_etag"), etag);
            }
        }
    }
    field(
        &mut out,
        "ecco_cfg_loc",
        spell_opt(&task.ecco_cfg_loc).as_deref(),
    );
    field(
        &mut out,
        "ecco_grid_loc",
        spell_opt(&task.ecco_grid_loc).as_deref(),
    );
    let uses_factors = spelling == Spelling::Legacy || is_latlon(task);
    if uses_factors {
        field(
            &mut out,
            "ecco_mapping_factors_loc",
            spell_opt(&task.ecco_mapping_factors_loc).as_deref(),
        );
    }
    field(
        &mut out,
        "ecco_metadata_loc",
        spell_opt(&task.ecco_metadata_loc).as_deref(),
    );
    // Serialising plain strings and maps of strings cannot fail; an empty record would still
    // be deterministic if it ever did.
    let metadata = serde_json::to_string(&task.dynamic_metadata).unwrap_or_default();
    field(&mut out, "dynamic_metadata", Some(&metadata));
    field(&mut out, "config_hash", Some(config_hash));
    out
}

/// True for lat-lon granules (the only ones that read the mapping factors). A task whose kind
/// cannot be told keeps the factors in its identity (the safe side: never a false "done").
fn is_latlon(task: &Task) -> bool {
    match crate::cost::task_kind(task) {
        Ok(kind) => kind.product_type() == edp_task_schemas::ProductType::Latlon,
        Err(_) => true,
    }
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
