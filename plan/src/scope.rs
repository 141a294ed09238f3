//! Event-scoped planning: the granules that the objects of one S3 event may complete, checked
//! with requests that grow with the event, not with the archive.
//!
//! ```text
//! event keys -> (variable, period token, step) that arrived      (no request; unmapped keys reported)
//!   -> jobs whose grouping reads that series, restricted to those steps
//!   -> every input of those granules: one HEAD per .data/.meta at its place in EDP's layout
//!   -> tasks of the complete granules (the builder's completeness rule)
//!   -> done marker GET + granule HEAD per task, claims (plan_with_inventory, StateReads::PerTask)
//! ```
//!
//! A granule is planned in the event that brings its last input: earlier events find it
//! incomplete (reported, not planned); the one that completes it plans it; redelivered or
//! later events find it claimed by a live run or done. Inputs are looked up where EDP's layout
//! puts them (`<root>/<freq_dir>/<VAR>_<period>/<VAR>_<period>.<ts10>.<ext>`); an input stored
//! elsewhere below its search prefix is seen by full plans only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use edp_conventions::naming::{MdsFileName, PeriodToken, input_period_tokens, input_search_prefix};
use edp_conventions::{Catalog, ProductionConfig};
use edp_store::{Location, Store};
use edp_task_schemas::{Job, TimeSteps};

use crate::builder::{BuildError, job_dataset};
use crate::inventory::{Inventory, InventoryOptions, ListingCost};
use crate::planner::{PlanError, PlanOutcome, PlanRequest, StateReads, plan_with_inventory};
use crate::roots::Root;

/// One model-output file named by an event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arrival {
    /// Diagnostic name.
    pub variable: String,
    /// Period token.
    pub period: PeriodToken,
    /// Model time step.
    pub step: u64,
}

/// Why an event key leads to no planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnmappedReason {
    /// Not below the source root.
    OutsideRoot,
    /// The file name is not `<VAR>_<period>.<ts10>.<data|meta>`.
    NotMds,
    /// Not below `<freq_dir>/<VAR>_<period>` of the source root (EDP's search prefix).
    OutsideSearchSpace,
    /// No job reads this variable with this period at this step.
    NoJob,
}

impl fmt::Display for UnmappedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnmappedReason::OutsideRoot => "not below the source root",
            UnmappedReason::NotMds => "not an MDS file name <VAR>_<period>.<ts10>.<data|meta>",
            UnmappedReason::OutsideSearchSpace => {
                "not below <freq_dir>/<VAR>_<period> of the source root"
            }
            UnmappedReason::NoJob => "no job reads this variable, period and step",
        })
    }
}

/// An event key that maps to no granule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmappedKey {
    /// The object.
    pub location: String,
    /// Why.
    pub reason: UnmappedReason,
}

/// The files an event announced, and the keys that announced nothing plannable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventArrivals {
    /// Distinct (variable, period, step) that arrived, with the keys of each.
    pub arrivals: BTreeMap<Arrival, Vec<String>>,
    /// Keys that map to nothing.
    pub unmapped: Vec<UnmappedKey>,
}

/// Maps event object locations to the series and steps they belong to (no request).
pub fn arrivals(root: &Root, objects: &[Location]) -> EventArrivals {
    let mut out = EventArrivals::default();
    for location in objects {
        let unmapped = |reason| UnmappedKey {
            location: location.to_string(),
            reason,
        };
        let Some(relative) = location.relative_to(root.location()) else {
            out.unmapped.push(unmapped(UnmappedReason::OutsideRoot));
            continue;
        };
        let Some(parsed) = MdsFileName::parse_location(&relative) else {
            out.unmapped.push(unmapped(UnmappedReason::NotMds));
            continue;
        };
        let search_prefix = input_search_prefix(&parsed.variable, parsed.period);
        if root.is_s3() && !relative.starts_with(&search_prefix) {
            out.unmapped
                .push(unmapped(UnmappedReason::OutsideSearchSpace));
            continue;
        }
        out.arrivals
            .entry(Arrival {
                variable: parsed.variable,
                period: parsed.period,
                step: parsed.step,
            })
            .or_default()
            .push(location.to_string());
    }
    out
}

/// The jobs an event concerns and the input files their granules need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventScope {
    /// The jobs, each restricted to the steps that arrived (explicit step lists).
    pub jobs: Vec<Job>,
    /// Every input file series and step those granules may read (`.data` and `.meta` each).
    pub inputs: BTreeSet<(String, PeriodToken, u64)>,
    /// Arrivals no job reads (reported with their keys as [`UnmappedReason::NoJob`]).
    pub unused: Vec<UnmappedKey>,
}

/// Restricts `jobs` to the granules that `arrivals` may complete: a job is kept when its
/// grouping reads an arrived series with one of its frequency's period tokens, at the steps
/// that arrived (and that the job asks for).
pub fn scope_jobs(
    jobs: &[Job],
    catalog: &Catalog,
    config: &ProductionConfig,
    arrivals: &EventArrivals,
) -> Result<EventScope, BuildError> {
    let mut scope = EventScope::default();
    let mut used: BTreeSet<&Arrival> = BTreeSet::new();
    for job in jobs {
        let dataset = job_dataset(job, catalog)?;
        let tokens = input_period_tokens(job.frequency, config.snap_instants);
        let inputs: BTreeSet<&str> = dataset
            .variables
            .iter()
            .flat_map(|v| v.inputs.iter().map(|i| i.name.as_str()))
            .collect();
        // A time-invariant job has one granule (inputs at step 0) whatever steps it lists.
        let wanted = |step: u64| match &job.time_steps {
            _ if job.frequency.is_time_invariant() => true,
            TimeSteps::All => true,
            TimeSteps::Steps(steps) => steps.contains(&step),
        };
        let mut steps = BTreeSet::new();
        for arrival in arrivals.arrivals.keys() {
            if inputs.contains(arrival.variable.as_str())
                && tokens.contains(&arrival.period)
                && wanted(arrival.step)
            {
                steps.insert(arrival.step);
                used.insert(arrival);
            }
        }
        if steps.is_empty() {
            continue;
        }
        for step in &steps {
            for input in &inputs {
                for token in tokens {
                    scope.inputs.insert(((*input).to_string(), *token, *step));
                }
            }
        }
        scope.jobs.push(Job {
            time_steps: TimeSteps::Steps(steps.into_iter().collect()),
            ..job.clone()
        });
    }
    for (arrival, keys) in &arrivals.arrivals {
        if !used.contains(arrival) {
            scope.unused.extend(keys.iter().map(|key| UnmappedKey {
                location: key.clone(),
                reason: UnmappedReason::NoJob,
            }));
        }
    }
    Ok(scope)
}

/// What an event-scoped plan did.
#[derive(Debug, Clone)]
pub struct EventPlan {
    /// The plan, `None` when no key of the event concerns any job (nothing was read).
    pub outcome: Option<PlanOutcome>,
    /// Keys that map to no granule, in event order.
    pub unmapped: Vec<UnmappedKey>,
    /// Distinct (variable, period, step) the event announced.
    pub arrivals: usize,
    /// Requests made to find the inputs.
    pub cost: ListingCost,
}

/// Plans the granules that the objects `keys` of an event may complete (see the module
/// documentation). `request.jobs` are all the jobs of the deployment; `source_store` reads
/// the source root, `dest_store` the destination's state. `request.state_reads` is set to
/// [`StateReads::PerTask`].
pub async fn plan_event(
    source_store: &Store,
    dest_store: &Store,
    catalog: &Catalog,
    config: &ProductionConfig,
    request: &PlanRequest,
    keys: &[Location],
) -> Result<EventPlan, PlanError> {
    let announced = arrivals(&request.source_root, keys);
    let scope = scope_jobs(&request.jobs, catalog, config, &announced)?;
    let mut unmapped = announced.unmapped;
    unmapped.extend(scope.unused);
    for key in &unmapped {
        tracing::info!(key = %key.location, reason = %key.reason, "event key ignored");
    }
    let arrivals = announced.arrivals.len();
    if scope.jobs.is_empty() {
        return Ok(EventPlan {
            outcome: None,
            unmapped,
            arrivals,
            cost: ListingCost::default(),
        });
    }
    let (inventory, cost) = Inventory::from_heads(
        source_store,
        &request.source_root,
        &InventoryOptions::for_config(config),
        &scope.inputs,
    )
    .await?;
    let mut scoped = request.clone();
    scoped.jobs = scope.jobs;
    scoped.state_reads = StateReads::PerTask;
    let outcome = plan_with_inventory(dest_store, catalog, config, &inventory, &scoped).await?;
    Ok(EventPlan {
        outcome: Some(outcome),
        unmapped,
        arrivals,
        cost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_arrivals_or_to_a_reason() {
        let root = Root::parse("s3://src/V4r4").unwrap();
        let keys: Vec<Location> = [
            "s3://src/V4r4/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data",
            "s3://src/V4r4/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.meta",
            "s3://src/V4r4/diags_monthly/ETAN_mon_mean/ETAN_mon_mean.0000001428.data",
            "s3://src/other/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data",
            "s3://src/V4r4/diags_monthly/README.txt",
            "s3://src/V4r4/diags_daily/SSH_mon_mean/SSH_mon_mean.0000000732.data",
        ]
        .iter()
        .map(|k| Location::parse(k).unwrap())
        .collect();
        let found = arrivals(&root, &keys);
        let arrived: Vec<(&str, u64, usize)> = found
            .arrivals
            .iter()
            .map(|(a, keys)| (a.variable.as_str(), a.step, keys.len()))
            .collect();
        assert_eq!(arrived, [("ETAN", 1428, 1), ("SSH", 732, 2)]);
        let reasons: Vec<UnmappedReason> = found.unmapped.iter().map(|u| u.reason).collect();
        assert_eq!(
            reasons,
            [
                UnmappedReason::OutsideRoot,
                UnmappedReason::NotMds,
                UnmappedReason::OutsideSearchSpace
            ]
        );
    }
}
