//! Memory model: the working memory one granule needs while it is produced, and the choice of
//! the next task to start under a memory budget.
//!
//! `working MB = fixed(kind) + per_input(kind) x distinct input files`
//!
//! Working memory is what a granule holds beyond the resources every granule of a process
//! shares (grid, metadata catalogue, lat-lon weights): its inputs in memory, the slabs in
//! flight and its compressed chunks until the file is closed. Default figures
//! ([`MemoryModel::default`]) are for LLC90 (13 x 90 x 90 cells, 50 levels), from the
//! `write_path` benchmark (peak resident memory of one process per kind, less the process
//! that produces nothing of that kind):
//!
//! | kind | fixed | per input | reasoning |
//! |---|---|---|---|
//! | `native_2d` | 8 MB | 2 MB | 0.4 MB field, compressed copy, coordinates |
//! | `native_3d` | 16 MB | 32 MB | 21 MB float32 input plus its compressed chunks |
//! | `latlon_2d` | 8 MB | 4 MB | 1 MB lat-lon slab per field |
//! | `latlon_3d` | 56 MB | 48 MB | two 26 MB slabs in flight; per field 21 MB input and ~25 MB of compressed 52 MB |
//!
//! With two 3-D lat-lon granules at once a process needs about 150 MB more than with one,
//! which is what [`next_within_budget`] avoids when the budget is tight: it starts the first
//! task (in the given order, longest first) whose estimate fits next to those in flight, and
//! always one task when nothing is in flight, so a task larger than the budget runs alone
//! instead of never.

use std::collections::HashSet;

use edp_task_schemas::{ProductKind, Task};
use serde::{Deserialize, Serialize};

use crate::cost::{CostError, task_kind};

/// Working memory of one product kind, in MB.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KindMemory {
    /// Per granule, independent of the number of inputs.
    pub fixed_mb: f64,
    /// Per distinct input file (one `[data, meta]` pair, however many variables read it).
    pub per_input_mb: f64,
}

/// The memory model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MemoryModel {
    /// Native 2-D granules.
    pub native_2d: KindMemory,
    /// Native 3-D granules.
    pub native_3d: KindMemory,
    /// Lat-lon 2-D granules.
    pub latlon_2d: KindMemory,
    /// Lat-lon 3-D granules.
    pub latlon_3d: KindMemory,
}

impl Default for MemoryModel {
    fn default() -> Self {
        let kind = |fixed_mb, per_input_mb| KindMemory {
            fixed_mb,
            per_input_mb,
        };
        MemoryModel {
            native_2d: kind(8.0, 2.0),
            native_3d: kind(16.0, 32.0),
            latlon_2d: kind(8.0, 4.0),
            latlon_3d: kind(56.0, 48.0),
        }
    }
}

impl MemoryModel {
    /// Figures of one kind.
    pub fn kind(&self, kind: ProductKind) -> KindMemory {
        match kind {
            ProductKind::Native2d => self.native_2d,
            ProductKind::Native3d => self.native_3d,
            ProductKind::Latlon2d => self.latlon_2d,
            ProductKind::Latlon3d => self.latlon_3d,
        }
    }

    /// Working MB of a granule of `kind` with `inputs` distinct input files.
    pub fn estimate_parts(&self, kind: ProductKind, inputs: usize) -> f64 {
        let figures = self.kind(kind);
        figures.fixed_mb + figures.per_input_mb * inputs as f64
    }

    /// Working MB of a task, from its kind and its distinct input files (the two vector
    /// variables `EVEL` and `NVEL` read the same `UVEL` and `VVEL`, held once).
    pub fn estimate(&self, task: &Task) -> Result<f64, CostError> {
        let kind = task_kind(task)?;
        let inputs: HashSet<&str> = task
            .variables
            .values()
            .flatten()
            .map(|pair| pair.data.as_str())
            .collect();
        Ok(self.estimate_parts(kind, inputs.len()))
    }
}

/// The position in `waiting` (estimates in MB, in start order) of the task to start next when
/// `in_flight_mb` is taken by the tasks running and `budget_mb` may be: the first that fits,
/// or the first at all when nothing runs (`running == 0`). `None`: wait for a task to finish.
pub fn next_within_budget(
    waiting: &[f64],
    running: usize,
    in_flight_mb: f64,
    budget_mb: Option<f64>,
) -> Option<usize> {
    if waiting.is_empty() {
        return None;
    }
    let Some(budget) = budget_mb else {
        return Some(0);
    };
    if running == 0 {
        return Some(0);
    }
    waiting
        .iter()
        .position(|&estimate| in_flight_mb + estimate <= budget)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_grow_with_kind_and_inputs() {
        let model = MemoryModel::default();
        let ts_latlon = model.estimate_parts(ProductKind::Latlon3d, 2);
        let velocity_latlon = model.estimate_parts(ProductKind::Latlon3d, 3);
        let ts_native = model.estimate_parts(ProductKind::Native3d, 2);
        let ssh = model.estimate_parts(ProductKind::Native2d, 1);
        assert_eq!(ts_latlon, 56.0 + 2.0 * 48.0);
        assert!(velocity_latlon > ts_latlon);
        assert!(ts_latlon > ts_native);
        assert!(ts_native > ssh);
    }

    #[test]
    fn an_input_read_by_two_vector_variables_counts_once() {
        let pair = |name: &str| serde_json::json!([format!("{name}.data"), format!("{name}.meta")]);
        let task: Task = serde_json::from_value(serde_json::json!({
            "granule": "out/OCEAN_VELOCITY_mon_mean_1992-01_ECCO_V4r4_latlon_0p50deg.nc",
            "variables": {
                "EVEL": [pair("UVEL"), pair("VVEL")],
                "NVEL": [pair("UVEL"), pair("VVEL")],
                "WVEL": [pair("WVEL")]
            },
            "ecco_grid_loc": null, "ecco_mapping_factors_loc": null, "ecco_metadata_loc": null,
            "dynamic_metadata": {
                "name": "n", "dimension": "3D",
                "time_coverage_start": "1992-01-01T12:00:00", "time_coverage_end": "1992-02-01T00:00:00",
                "time_coverage_center": "1992-01-16T18:00:00", "time_long_name": "t",
                "time_coverage_duration": "P1M", "time_coverage_resolution": "P1M", "summary": "s"
            }
        }))
        .unwrap();
        let model = MemoryModel::default();
        assert_eq!(
            model.estimate(&task).unwrap(),
            model.estimate_parts(ProductKind::Latlon3d, 3)
        );
    }

    #[test]
    fn without_a_budget_the_first_task_starts() {
        assert_eq!(next_within_budget(&[500.0, 1.0], 3, 900.0, None), Some(0));
        assert_eq!(next_within_budget(&[], 0, 0.0, None), None);
        assert_eq!(next_within_budget(&[], 0, 0.0, Some(10.0)), None);
    }

    #[test]
    fn the_first_task_that_fits_starts_and_a_large_one_waits() {
        // 152 MB in flight, 250 MB budget: the 200 MB task waits, the 70 MB one starts.
        let waiting = [200.0, 70.0, 10.0];
        assert_eq!(next_within_budget(&waiting, 1, 152.0, Some(250.0)), Some(1));
        // Nothing fits: wait.
        assert_eq!(next_within_budget(&waiting, 2, 245.0, Some(250.0)), None);
        // Exactly at the budget fits.
        assert_eq!(next_within_budget(&[98.0], 1, 152.0, Some(250.0)), Some(0));
    }

    #[test]
    fn a_task_larger_than_the_budget_runs_alone() {
        assert_eq!(
            next_within_budget(&[900.0, 5.0], 0, 0.0, Some(100.0)),
            Some(0)
        );
        assert_eq!(next_within_budget(&[900.0], 1, 5.0, Some(100.0)), None);
    }
}
