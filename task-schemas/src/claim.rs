//! Claims: `_edp/claims/<task_id>.json`, created with put-if-absent by the planner so that two
//! concurrent runs never plan the same granule.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A planner's claim on a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Claim {
    /// Content hash of the claimed task.
    pub task_id: String,
    /// Output location of the granule.
    pub granule: String,
    /// Run that claimed it.
    pub run_id: String,
    /// RFC 3339 UTC time of the claim.
    pub claimed_at: String,
    /// After this many seconds a claim of an unfinished run is considered dead
    /// (`EDP_CLAIM_TTL_SECONDS`).
    pub ttl_seconds: u64,
    /// Who claimed it (Lambda request id, host name ...), for operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
}
