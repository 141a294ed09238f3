//! Cost model: estimated core-seconds per task, used to balance shards and to estimate the
//! price of a run.
//!
//! `cost = fixed(kind) + per_input(kind) x sum over input components (x vector_factor for the
//! components of a vector variable)`
//!
//! Default figures ([`CostModel::default`]) are first estimates for LLC90 (13 x 90 x 90 cells,
//! 50 levels) on one modern x86 core, to be calibrated by the runner from the `seconds` of
//! ledger records ([`CostModel`] is serde so a calibrated model can be loaded):
//!
//! | kind | fixed | per input | reasoning |
//! |---|---|---|---|
//! | `native_2d` | 0.5 s | 0.05 s | 0.4 MB field: fetch, decode, mask, deflate; fixed part = coordinates and attributes |
//! | `latlon_2d` | 1.0 s | 0.10 s | plus a sparse product onto 720 x 360 and the target coordinates |
//! | `native_3d` | 1.0 s | 1.50 s | 21 MB float32 per field, deflate level 5 dominates (~20-30 MB/s) |
//! | `latlon_3d` | 2.0 s | 3.00 s | 50 sparse products and 52 MB of deflate per field |
//!
//! Vector variables (lat-lon `EVEL` ...) read two components and interpolate and rotate them:
//! each of their components costs `vector_factor` (1.25) times a direct input.
//!
//! For comparison, EDP Gen C reports about 18-35 s per granule (`docs/edp-compatibility.md` 9).
//!
//! Cloud cost: [`estimate_cloud_cost_usd`] multiplies core-hours by a price per vCPU-hour.
//! [`FARGATE_SPOT_VCPU_HOUR_USD`] is the default: AWS Fargate Spot, Linux/x86, us-east-1,
//! $0.01334058 per vCPU-hour plus 2 GB of memory per vCPU at $0.00146489 per GB-hour
//! (published prices at the time of writing; Spot prices move, pass the current price).

use edp_conventions::naming::GranuleName;
use edp_task_schemas::{ProductKind, Task};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Fargate Spot vCPU-hour price in us-east-1 (Linux/x86), USD.
pub const FARGATE_SPOT_VCPU_USD: f64 = 0.013_340_58;
/// Fargate Spot GB-hour price in us-east-1 (Linux/x86), USD.
pub const FARGATE_SPOT_GB_USD: f64 = 0.001_464_89;
/// Memory provisioned per vCPU assumed by the default price.
pub const DEFAULT_GB_PER_VCPU: f64 = 2.0;
/// Default price of one vCPU-hour including its memory: Fargate Spot, 2 GB per vCPU.
pub const FARGATE_SPOT_VCPU_HOUR_USD: f64 =
    FARGATE_SPOT_VCPU_USD + DEFAULT_GB_PER_VCPU * FARGATE_SPOT_GB_USD;

/// Costs of one product kind, in core-seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KindCost {
    /// Per granule, independent of the number of inputs.
    pub fixed: f64,
    /// Per input component (one `[data, meta]` pair).
    pub per_input: f64,
}

/// The cost model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostModel {
    /// Native 2-D granules.
    pub native_2d: KindCost,
    /// Native 3-D granules.
    pub native_3d: KindCost,
    /// Lat-lon 2-D granules.
    pub latlon_2d: KindCost,
    /// Lat-lon 3-D granules.
    pub latlon_3d: KindCost,
    /// Multiplier of the per-input cost for components of vector variables.
    pub vector_factor: f64,
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel {
            native_2d: KindCost {
                fixed: 0.5,
                per_input: 0.05,
            },
            native_3d: KindCost {
                fixed: 1.0,
                per_input: 1.5,
            },
            latlon_2d: KindCost {
                fixed: 1.0,
                per_input: 0.1,
            },
            latlon_3d: KindCost {
                fixed: 2.0,
                per_input: 3.0,
            },
            vector_factor: 1.25,
        }
    }
}

/// The kind of a task could not be determined.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("task {granule}: cannot tell native from latlon: {reason}")]
pub struct CostError {
    /// The task's granule.
    pub granule: String,
    /// Why.
    pub reason: String,
}

impl CostModel {
    /// Costs of one kind.
    pub fn kind(&self, kind: ProductKind) -> KindCost {
        match kind {
            ProductKind::Native2d => self.native_2d,
            ProductKind::Native3d => self.native_3d,
            ProductKind::Latlon2d => self.latlon_2d,
            ProductKind::Latlon3d => self.latlon_3d,
        }
    }

    /// Estimate for a granule of `kind` with `direct_inputs` components of direct variables
    /// and `vector_inputs` components of vector variables.
    pub fn estimate_parts(
        &self,
        kind: ProductKind,
        direct_inputs: usize,
        vector_inputs: usize,
    ) -> f64 {
        let cost = self.kind(kind);
        cost.fixed
            + cost.per_input * (direct_inputs as f64 + self.vector_factor * vector_inputs as f64)
    }

    /// Estimate for a task from its content (ignores `edp.cost_core_seconds`).
    pub fn estimate(&self, task: &Task) -> Result<f64, CostError> {
        let kind = task_kind(task)?;
        let mut direct = 0usize;
        let mut vector = 0usize;
        for (name, pairs) in &task.variables {
            if task.vector_components(name).is_some() {
                vector += pairs.len();
            } else {
                direct += pairs.len();
            }
        }
        Ok(self.estimate_parts(kind, direct, vector))
    }

    /// The planner's estimate stored in the task when present, else [`CostModel::estimate`].
    pub fn task_cost(&self, task: &Task) -> Result<f64, CostError> {
        match &task.edp {
            Some(edp) => Ok(edp.cost_core_seconds),
            None => self.estimate(task),
        }
    }
}

/// Product kind of a task: from `edp.product_kind` when present, else from the product type
/// in the granule file name (`..._ECCO_V4r4_latlon_0p50deg.nc`) and `dynamic_metadata.dimension`.
pub fn task_kind(task: &Task) -> Result<ProductKind, CostError> {
    if let Some(edp) = &task.edp {
        return Ok(edp.product_kind);
    }
    let name = task.granule.rsplit('/').next().unwrap_or(&task.granule);
    let parsed = GranuleName::parse(name).map_err(|err| CostError {
        granule: task.granule.clone(),
        reason: err.to_string(),
    })?;
    Ok(ProductKind::new(
        parsed.product,
        task.dynamic_metadata.dimension,
    ))
}

/// Price in USD of `core_seconds` at `vcpu_hour_usd` per vCPU-hour (memory included in the
/// price, see [`FARGATE_SPOT_VCPU_HOUR_USD`]).
pub fn estimate_cloud_cost_usd(core_seconds: f64, vcpu_hour_usd: f64) -> f64 {
    core_seconds / 3600.0 * vcpu_hour_usd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_d_latlon_is_the_most_expensive_kind() {
        let model = CostModel::default();
        let costs: Vec<f64> = ProductKind::ALL
            .iter()
            .map(|kind| model.estimate_parts(*kind, 3, 0))
            .collect();
        // ProductKind::ALL is ordered cheapest first.
        assert!(costs.windows(2).all(|w| w[0] < w[1]), "{costs:?}");
    }

    #[test]
    fn vector_components_cost_more_than_direct_ones() {
        let model = CostModel::default();
        let direct = model.estimate_parts(ProductKind::Latlon3d, 2, 0);
        let vector = model.estimate_parts(ProductKind::Latlon3d, 0, 2);
        assert!((vector - direct - 2.0 * 3.0 * 0.25).abs() < 1e-12);
    }

    #[test]
    fn cloud_cost_is_core_hours_times_price() {
        // 3600 core-seconds = one vCPU-hour.
        assert!((estimate_cloud_cost_usd(3600.0, 0.05) - 0.05).abs() < 1e-15);
        let expected = 0.01334058 + 2.0 * 0.00146489;
        assert!((FARGATE_SPOT_VCPU_HOUR_USD - expected).abs() < 1e-15);
    }
}
