//! Splitting a task list into shards balanced by estimated cost.
//!
//! Algorithm (LPT, "longest processing time first"): sort the tasks by estimated cost,
//! largest first, ties by task id; give each task to the shard with the smallest load so far,
//! ties to the shard with fewer tasks, then to the lowest index. The result is deterministic
//! for a given task list and model, and its largest shard is at most 4/3 of the optimum
//! (Graham's bound). The number of shards is capped by the number of tasks, so no shard is
//! ever empty: while an empty shard exists it has the smallest (load, count) pair. An empty
//! task list gives no shards.
//!
//! Tasks inside a shard keep the LPT order (most expensive first), which is also a good order
//! for the worker's thread pool.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use edp_task_schemas::{Shard, ShardSizing, Task};
use thiserror::Error;

use crate::cost::{CostError, CostModel};
use crate::task_id::task_id;

/// Why shards could not be planned.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ShardError {
    /// Zero shards asked for.
    #[error("shard count must be at least 1, found 0")]
    ZeroShards,
    /// The upper bound on shards is zero.
    #[error("maximum shard count must be at least 1, found 0")]
    ZeroMaxShards,
    /// The target is not a positive number.
    #[error("target seconds per shard must be a positive number, found {0}")]
    InvalidTarget(f64),
    /// A task's cost estimate is negative or not finite.
    #[error(
        "task {index} ({granule}): cost estimate must be a finite non-negative number, found {cost}"
    )]
    InvalidCost {
        /// Index of the task.
        index: usize,
        /// Its granule.
        granule: String,
        /// The estimate found.
        cost: f64,
    },
    /// A task's cost could not be estimated.
    #[error("task {index}: {source}")]
    Cost {
        /// Index of the task.
        index: usize,
        /// Cost model error.
        #[source]
        source: CostError,
    },
}

/// Number of shards for `sizing`: the requested count, or `ceil(total / target)`; at least 1,
/// at most `max_shards` and at most `task_count` (0 when there are no tasks).
pub fn shard_count(
    sizing: ShardSizing,
    total_cost: f64,
    task_count: usize,
    max_shards: u32,
) -> Result<usize, ShardError> {
    if max_shards == 0 {
        return Err(ShardError::ZeroMaxShards);
    }
    let wanted = match sizing {
        ShardSizing::Count(0) => return Err(ShardError::ZeroShards),
        ShardSizing::Count(count) => count as usize,
        ShardSizing::TargetSeconds(target) => {
            if !(target.is_finite() && target > 0.0) {
                return Err(ShardError::InvalidTarget(target));
            }
            // Saturating float-to-int conversion: huge ratios are capped below anyway.
            ((total_cost / target).ceil() as usize).max(1)
        }
    };
    Ok(wanted.min(max_shards as usize).min(task_count))
}

/// Assigns items with `(cost, key)` to `shards` bins by LPT; returns the item indices of each
/// bin. Costs must be finite and non-negative (checked by the callers). `shards` is capped by
/// the number of items.
pub fn balance(items: &[(f64, &str)], shards: usize) -> Vec<Vec<usize>> {
    let shards = shards.min(items.len());
    if shards == 0 {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        items[b]
            .0
            .total_cmp(&items[a].0)
            .then_with(|| items[a].1.cmp(items[b].1))
            .then_with(|| a.cmp(&b))
    });

    let mut bins: Vec<Vec<usize>> = vec![Vec::new(); shards];
    let mut heap: BinaryHeap<Reverse<Slot>> = (0..shards)
        .map(|index| {
            Reverse(Slot {
                load: 0.0,
                count: 0,
                index,
            })
        })
        .collect();
    for item in order {
        // The heap holds one slot per bin at all times, so it is never empty here.
        let Some(Reverse(mut slot)) = heap.pop() else {
            break;
        };
        bins[slot.index].push(item);
        slot.load += items[item].0;
        slot.count += 1;
        heap.push(Reverse(slot));
    }
    bins
}

/// A bin in the LPT heap, ordered by (load, count, index).
#[derive(Debug, Clone, Copy)]
struct Slot {
    load: f64,
    count: usize,
    index: usize,
}

impl PartialEq for Slot {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Slot {}

impl PartialOrd for Slot {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Slot {
    fn cmp(&self, other: &Self) -> Ordering {
        self.load
            .total_cmp(&other.load)
            .then_with(|| self.count.cmp(&other.count))
            .then_with(|| self.index.cmp(&other.index))
    }
}

/// Splits `tasks` into shards of run `run_id`, balanced by estimated cost.
///
/// A task's cost is `edp.cost_core_seconds` when present, else the model's estimate; its
/// tie-break key is `edp.task_id`, else [`task_id`] with an empty config hash.
pub fn split_into_shards(
    run_id: &str,
    tasks: Vec<Task>,
    sizing: ShardSizing,
    max_shards: u32,
    model: &CostModel,
) -> Result<Vec<Shard>, ShardError> {
    let mut costs = Vec::with_capacity(tasks.len());
    let mut keys = Vec::with_capacity(tasks.len());
    for (index, task) in tasks.iter().enumerate() {
        let cost = model
            .task_cost(task)
            .map_err(|source| ShardError::Cost { index, source })?;
        if !(cost.is_finite() && cost >= 0.0) {
            return Err(ShardError::InvalidCost {
                index,
                granule: task.granule.clone(),
                cost,
            });
        }
        costs.push(cost);
        keys.push(match &task.edp {
            Some(edp) => edp.task_id.clone(),
            None => task_id(task, ""),
        });
    }
    let total: f64 = costs.iter().sum();
    let count = shard_count(sizing, total, tasks.len(), max_shards)?;
    let items: Vec<(f64, &str)> = costs
        .iter()
        .zip(&keys)
        .map(|(cost, key)| (*cost, key.as_str()))
        .collect();
    let bins = balance(&items, count);

    let mut slots: Vec<Option<Task>> = tasks.into_iter().map(Some).collect();
    let shard_total = bins.len();
    let shards = bins
        .into_iter()
        .enumerate()
        .map(|(index, bin)| Shard {
            run_id: run_id.to_string(),
            // Both fit: the count is capped by `max_shards: u32`.
            index: u32::try_from(index).unwrap_or(u32::MAX),
            count: u32::try_from(shard_total).unwrap_or(u32::MAX),
            tasks: bin
                .into_iter()
                .filter_map(|item| slots.get_mut(item).and_then(Option::take))
                .collect(),
        })
        .collect();
    Ok(shards)
}

/// Estimated core-seconds of a shard (sum of its task costs).
pub fn shard_cost(shard: &Shard, model: &CostModel) -> Result<f64, CostError> {
    shard.tasks.iter().map(|task| model.task_cost(task)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_is_lpt_with_deterministic_ties() {
        let items = [
            (5.0, "a"),
            (3.0, "b"),
            (3.0, "c"),
            (2.0, "d"),
            (2.0, "e"),
            (1.0, "f"),
        ];
        let bins = balance(&items, 2);
        // LPT by hand: 5->0; 3(b)->1; 3(c)->1 (load 3 < 5); 2(d)->0 (5 < 6);
        // 2(e)->1 (6 < 7); 1(f)->0 (7 < 8). Loads 8 and 8.
        assert_eq!(bins, vec![vec![0, 3, 5], vec![1, 2, 4]]);
    }

    #[test]
    fn zero_costs_still_fill_every_shard() {
        let items = [(0.0, "a"), (0.0, "b"), (0.0, "c")];
        let bins = balance(&items, 3);
        assert!(bins.iter().all(|bin| bin.len() == 1), "{bins:?}");
    }

    #[test]
    fn shard_count_caps_and_rounds_up() {
        assert_eq!(shard_count(ShardSizing::Count(10), 0.0, 4, 100), Ok(4));
        assert_eq!(shard_count(ShardSizing::Count(10), 0.0, 40, 3), Ok(3));
        assert_eq!(
            shard_count(ShardSizing::TargetSeconds(10.0), 25.0, 40, 100),
            Ok(3)
        );
        assert_eq!(
            shard_count(ShardSizing::TargetSeconds(10.0), 0.0, 40, 100),
            Ok(1)
        );
        assert_eq!(
            shard_count(ShardSizing::TargetSeconds(10.0), 0.0, 0, 100),
            Ok(0)
        );
        assert_eq!(
            shard_count(ShardSizing::Count(0), 1.0, 4, 100),
            Err(ShardError::ZeroShards)
        );
        assert!(shard_count(ShardSizing::TargetSeconds(f64::NAN), 1.0, 4, 100).is_err());
        assert!(shard_count(ShardSizing::Count(2), 1.0, 4, 0).is_err());
    }
}
