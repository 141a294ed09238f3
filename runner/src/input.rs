//! What a worker is given: a shard file of a planned run, or a whole task list written by EDP
//! (Gen B or C) or by us, optionally one slice of it.

use edp_plan::roots::Root;
use edp_plan::tasklist::{ReadOptions, parse_task_list};
use edp_store::{Location, Store};
use edp_task_schemas::{Shard, Task};

use crate::error::WorkerError;

/// Parses a location given on the command line or in the environment.
pub fn parse_location(what: &'static str, given: &str) -> Result<Location, WorkerError> {
    Location::parse(given).map_err(|source| WorkerError::Location {
        what,
        given: given.to_string(),
        source,
    })
}

/// Reads and checks a shard file (`shard-NNNNN.json`).
pub async fn load_shard(store: &Store, location: &Location) -> Result<Shard, WorkerError> {
    let bytes = store
        .get(location)
        .await
        .map_err(|source| WorkerError::Read {
            what: "shard",
            source,
        })?;
    let shard: Shard = serde_json::from_slice(&bytes).map_err(|e| WorkerError::InvalidShard {
        location: location.to_string(),
        reason: e.to_string(),
    })?;
    shard.check().map_err(|e| WorkerError::InvalidShard {
        location: location.to_string(),
        reason: e.to_string(),
    })?;
    Ok(shard)
}

/// Reads and validates a task list (EDP Gen B or C, or ours). Every task is validated before
/// any work (`docs/edp-compatibility.md` 2.3); `options.default_cfg_loc` fills in Gen B tasks.
pub async fn load_task_list(
    store: &Store,
    location: &Location,
    options: &ReadOptions,
) -> Result<Vec<Task>, WorkerError> {
    let bytes = store
        .get(location)
        .await
        .map_err(|source| WorkerError::Read {
            what: "task list",
            source,
        })?;
    let text = String::from_utf8_lossy(&bytes);
    let parsed = parse_task_list(&location.to_string(), &text, options)?;
    for key in &parsed.unknown_keys {
        tracing::debug!(task = key.task, key = %key.key, "ignored unknown task-list key");
    }
    Ok(parsed.tasks)
}

/// The destination root of tasks whose granules follow the EDP layout
/// `<dest>/<ecco_version>/<native|latlon>/<period>/<GROUPING>/<file>.nc`: the part before the
/// last five segments, the same for every task (`.` when the paths start with the version).
pub fn infer_dest_root(tasks: &[Task]) -> Result<Root, WorkerError> {
    let mut found: Option<String> = None;
    for task in tasks {
        let segments: Vec<&str> = task.granule.split('/').collect();
        // The layout part must be plain names; `.` and `..` may only lead the root (`./out`,
        // `../out`), never climb back out of it (`out/V4r4/../../../x`).
        let climbs = |parts: &[&str]| {
            parts
                .iter()
                .skip_while(|s| **s == ".." || **s == ".")
                .any(|s| *s == ".." || *s == ".")
        };
        if segments.len() < 5
            || segments[segments.len() - 5..]
                .iter()
                .any(|s| s.is_empty() || *s == "." || *s == "..")
            || climbs(&segments[..segments.len() - 5])
        {
            return Err(WorkerError::Destination {
                reason: format!(
                    "granule {} is not <dest>/<version>/<type>/<period>/<GROUPING>/<file>",
                    task.granule
                ),
            });
        }
        let prefix = segments[..segments.len() - 5].join("/");
        let prefix = if prefix.is_empty() {
            ".".to_string()
        } else {
            prefix
        };
        match &found {
            None => found = Some(prefix),
            Some(first) if *first != prefix => {
                return Err(WorkerError::Destination {
                    reason: format!("tasks write below both {first} and {prefix}"),
                });
            }
            Some(_) => {}
        }
    }
    let given = found.ok_or_else(|| WorkerError::Destination {
        reason: "the task list is empty".to_string(),
    })?;
    Root::parse(&given).map_err(|source| WorkerError::Location {
        what: "destination",
        given,
        source,
    })
}

/// Slice `index` of `of` contiguous slices of `tasks` (the first slices get one task more
/// when the count does not divide), like EDP's `split_task_json.py`.
pub fn slice(tasks: Vec<Task>, index: usize, of: usize) -> Result<Vec<Task>, WorkerError> {
    if of == 0 || index >= of {
        return Err(WorkerError::Slice { index, of });
    }
    let base = tasks.len() / of;
    let extra = tasks.len() % of;
    let start = index * base + index.min(extra);
    let len = base + usize::from(index < extra);
    Ok(tasks.into_iter().skip(start).take(len).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(granule: &str) -> Task {
        serde_json::from_value(serde_json::json!({
            "granule": granule,
            "variables": {"SSH": [["SSH_mon_mean.0000000732.data", "SSH_mon_mean.0000000732.meta"]]},
            "ecco_grid_loc": null, "ecco_mapping_factors_loc": null, "ecco_metadata_loc": null,
            "dynamic_metadata": {
                "name": "n", "dimension": "2D",
                "time_coverage_start": "1992-01-01T12:00:00", "time_coverage_end": "1992-02-01T00:00:00",
                "time_coverage_center": "1992-01-16T18:00:00", "time_long_name": "t",
                "time_coverage_duration": "P1M", "time_coverage_resolution": "P1M", "summary": "s"
            }
        }))
        .unwrap()
    }

    const NAME: &str = "SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc";

    #[test]
    fn destination_is_the_prefix_before_the_edp_layout() {
        let tasks = vec![
            task(&format!(
                "./out/V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/{NAME}"
            )),
            task(&format!(
                "./out/V4r4/native/day_mean/SEA_SURFACE_HEIGHT/{NAME}"
            )),
        ];
        let root = infer_dest_root(&tasks).unwrap();
        assert_eq!(root.written(), "./out");
        let s3 = vec![task(&format!("s3://b/p/V4r4/latlon/mon_mean/X/{NAME}"))];
        assert_eq!(infer_dest_root(&s3).unwrap().written(), "s3://b/p");
        let bare = vec![task(&format!("V4r4/native/mon_mean/X/{NAME}"))];
        assert_eq!(infer_dest_root(&bare).unwrap().written(), ".");
    }

    #[test]
    fn mixed_or_short_granule_paths_need_an_explicit_destination() {
        let mixed = vec![
            task(&format!("a/V4r4/native/mon_mean/X/{NAME}")),
            task(&format!("b/V4r4/native/mon_mean/X/{NAME}")),
        ];
        let err = infer_dest_root(&mixed).unwrap_err();
        assert!(err.to_string().contains("both a and b"), "{err}");
        assert!(infer_dest_root(&[task(NAME)]).is_err());
        // Paths that climb out of their own prefix have no destination to infer.
        for climbing in [
            format!("out/V4r4/native/mon_mean/X/../../../../../../x/V4r4/native/m/X/{NAME}"),
            format!("out/../../x/V4r4/native/mon_mean/X/{NAME}"),
            format!("out/V4r4/native/../mon_mean/X/{NAME}"),
        ] {
            assert!(infer_dest_root(&[task(&climbing)]).is_err(), "{climbing}");
        }
        assert_eq!(
            infer_dest_root(&[task(&format!("../../out/V4r4/native/mon_mean/X/{NAME}"))])
                .unwrap()
                .written(),
            "../../out"
        );
        assert!(infer_dest_root(&[]).is_err());
    }

    #[test]
    fn slices_cover_the_list_once_in_order() {
        let tasks: Vec<Task> = (0..7).map(|i| task(&format!("g{i}.nc"))).collect();
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        for index in 0..3 {
            let part = slice(tasks.clone(), index, 3).unwrap();
            sizes.push(part.len());
            seen.extend(part.into_iter().map(|t| t.granule));
        }
        assert_eq!(sizes, [3, 2, 2]);
        let all: Vec<String> = tasks.into_iter().map(|t| t.granule).collect();
        assert_eq!(seen, all);
        assert!(slice(Vec::new(), 3, 3).is_err());
        assert!(slice(Vec::new(), 0, 0).is_err());
    }
}
