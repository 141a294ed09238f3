//! How the executor runs: destination, run id, parallelism, skip rule, caches, default
//! locations and metrics output.

use std::path::PathBuf;

use edp_plan::builder::TaskLocations;
use edp_plan::roots::Root;
use edp_store::Store;

/// Where the per-granule CloudWatch EMF lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetricsOutput {
    /// No metric lines (`edp run` on a terminal).
    #[default]
    Off,
    /// One JSON line per finished granule on stdout (the Batch container; see [`crate::emf`]).
    Stdout,
}

/// Options of [`crate::run_shard`] and friends.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Destination root: granule paths of the tasks resolve below it, run state goes to
    /// `<dest_root>/_edp/`.
    pub dest_root: Root,
    /// Run id under which ledger records are written.
    pub run_id: String,
    /// Granules produced at the same time; 0 means one per available core. Each granule also
    /// decodes on all cores (rayon), so more than the core count only adds memory; fewer
    /// leaves the cores idle while a granule waits for NetCDF's global lock or for S3.
    pub concurrency: usize,
    /// Produce granules even when they are already done (done marker and granule present).
    pub force: bool,
    /// Local folder for downloaded resources (grid and metadata from `s3://`) and for
    /// granules on their way to an `s3://` destination.
    pub cache_dir: PathBuf,
    /// Locations used when a task has none (`ecco_grid_loc`, `ecco_metadata_loc`,
    /// `ecco_cfg_loc` null or absent, as in Gen B task lists with `--cfgfile`).
    pub defaults: TaskLocations,
    /// Per-granule metric lines.
    pub metrics: MetricsOutput,
    /// Store for reading task inputs (the model output) when set, e.g. signed with
    /// cross-account source credentials. The store passed to [`crate::run_shard`] is used for
    /// everything else: shards, grid, metadata, configuration and factors, outputs, ledger
    /// and done markers. `None` reads inputs through that store too (`edp run`, `edp worker`).
    pub source_store: Option<Store>,
    /// Load metadata directories with `LoadOptions::skip_invalid` (`--skip-invalid-metadata`,
    /// SSM `settings/skip_invalid_metadata`).
    pub skip_invalid_metadata: bool,
    /// Source root the inputs must stay below (symbolic links resolved for local inputs), or
    /// `None` to accept inputs anywhere the store can read (a task list run without
    /// `--source`; the cloud worker reads with credentials limited to the source bucket).
    pub source_root: Option<Root>,
    /// Working memory the granules in flight may take together, in MB, by the estimates of
    /// [`edp_plan::memory::MemoryModel`] (beyond the grid, metadata and weights they share).
    /// `None`: derived from the container's memory limit when there is one
    /// ([`WorkerOptions::effective_memory_budget_mb`]), else no limit but the concurrency.
    pub memory_budget_mb: Option<u64>,
}

/// Memory a process keeps for what its granules share (grid and masks, metadata catalogue,
/// the 50 levels of lat-lon weights, the allocator's slack) when the working budget is derived
/// from a container limit: about 300 MB measured on LLC90, rounded up.
pub const SHARED_MEMORY_RESERVE_MB: u64 = 512;

impl WorkerOptions {
    /// Options with the defaults: all cores, skip done granules, cache in the system
    /// temporary folder, no default locations, no metric lines, inputs read through the
    /// main store.
    pub fn new(dest_root: Root, run_id: impl Into<String>) -> WorkerOptions {
        WorkerOptions {
            dest_root,
            run_id: run_id.into(),
            concurrency: 0,
            force: false,
            cache_dir: std::env::temp_dir().join("edp-cache"),
            defaults: TaskLocations::default(),
            metrics: MetricsOutput::Off,
            source_store: None,
            skip_invalid_metadata: false,
            source_root: None,
            memory_budget_mb: None,
        }
    }

    /// The working-memory budget in MB: the one set, else the container's limit less
    /// [`SHARED_MEMORY_RESERVE_MB`] (at least a quarter of the limit), else none.
    pub fn effective_memory_budget_mb(&self) -> Option<u64> {
        self.memory_budget_mb.or_else(|| {
            let limit_mb = crate::process::container_memory_limit_bytes()? >> 20;
            Some(derived_budget_mb(limit_mb))
        })
    }

    /// The effective number of granules in flight.
    pub fn effective_concurrency(&self) -> usize {
        if self.concurrency == 0 {
            crate::process::available_cores()
        } else {
            self.concurrency
        }
    }
}

/// The working budget of a container limited to `limit_mb`.
fn derived_budget_mb(limit_mb: u64) -> u64 {
    limit_mb
        .saturating_sub(SHARED_MEMORY_RESERVE_MB)
        .max(limit_mb / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_limit_leaves_room_for_the_shared_resources() {
        assert_eq!(derived_budget_mb(4096), 4096 - SHARED_MEMORY_RESERVE_MB);
        // A small container keeps a quarter for granules rather than nothing.
        assert_eq!(derived_budget_mb(600), 150);
        assert_eq!(derived_budget_mb(0), 0);
    }

    #[test]
    fn an_explicit_budget_wins() {
        let mut options = WorkerOptions::new(Root::parse("/tmp/x").unwrap(), "run");
        options.memory_budget_mb = Some(123);
        assert_eq!(options.effective_memory_budget_mb(), Some(123));
    }
}
