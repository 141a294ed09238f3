//! Claims: `_edp/claims/<task_id>.json`, so that concurrent planners (redelivered S3 events,
//! two Lambdas, a CLI and a Lambda) never plan a granule twice.
//!
//! Claiming ([`claim_task`]):
//!
//! 1. create the claim with put-if-absent (`If-None-Match: *`); success = ours;
//! 2. on "already exists", read the claim (its ETag first, then its body):
//!    * it names our run: ours. An SDK retry of a create whose first attempt succeeded but
//!      whose answer was lost reports "already exists" for our own object (see
//!      [`edp_store::Store::put_if_absent`]); the run id in the body tells the cases apart;
//!    * its run is finished (`runs/<run>/report.json` exists) or it is older than its
//!      `ttl_seconds` (or unreadable and its object older than our TTL): dead; replace it with
//!      put-if-match on the ETag read, so that of two planners taking over the same dead claim
//!      exactly one wins;
//!    * otherwise it is held by a live run: skip the task.
//!
//! Claims are never deleted by planning; [`release_claim`] drops the claims of a run that
//! failed before it was recorded.

use chrono::{DateTime, Utc};
use edp_store::{ErrorKind, PutOutcome, Store};
use edp_task_schemas::Claim;

use super::runs::{check_run_id, report_exists};
use super::{Layout, StateError, check_task_id, encode_json};

/// Result of [`claim_task`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// We created the claim.
    Created,
    /// The claim already named our run (e.g. a retried create).
    Ours,
    /// We replaced a dead claim of another run.
    TakenOver {
        /// The run that held it.
        previous_run: String,
        /// Why it was dead.
        reason: &'static str,
    },
    /// A live run holds the task.
    Held {
        /// That run.
        run_id: String,
        /// When it claimed the task.
        claimed_at: String,
    },
}

impl ClaimOutcome {
    /// True when the task now belongs to our run.
    pub fn is_ours(&self) -> bool {
        !matches!(self, ClaimOutcome::Held { .. })
    }
}

/// What is known about the current claim of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExistingClaim {
    /// No claim.
    Absent,
    /// Claimed by our run.
    Ours,
    /// Claimed by a live run.
    Live {
        /// That run.
        run_id: String,
        /// When.
        claimed_at: String,
    },
    /// Claimed by a finished or expired run; may be taken over.
    Dead {
        /// That run (`?` when the claim is unreadable).
        run_id: String,
        /// Why it is dead.
        reason: &'static str,
        /// ETag of the claim object read, for the conditional replacement.
        etag: Option<String>,
    },
}

/// How often a claim is re-examined when concurrent writers keep changing it.
const CLAIM_ATTEMPTS: u32 = 4;

/// Claims the task of `claim` for `claim.run_id` (see the module documentation). `now` is the
/// time against which claim ages are measured.
pub async fn claim_task(
    store: &Store,
    layout: &Layout,
    claim: &Claim,
    now: DateTime<Utc>,
) -> Result<ClaimOutcome, StateError> {
    check_task_id(&claim.task_id)?;
    check_run_id(&claim.run_id)?;
    let location = layout.claim(&claim.task_id);
    let body = encode_json(claim, &location, "claim")?;
    for _ in 0..CLAIM_ATTEMPTS {
        if store.put_if_absent(&location, body.clone()).await? == PutOutcome::Created {
            return Ok(ClaimOutcome::Created);
        }
        match inspect_claim(
            store,
            layout,
            &claim.task_id,
            &claim.run_id,
            claim.ttl_seconds,
            now,
        )
        .await?
        {
            // Deleted between our create and our read: create again.
            ExistingClaim::Absent => continue,
            ExistingClaim::Ours => return Ok(ClaimOutcome::Ours),
            ExistingClaim::Live { run_id, claimed_at } => {
                return Ok(ClaimOutcome::Held { run_id, claimed_at });
            }
            ExistingClaim::Dead {
                run_id,
                reason,
                etag,
            } => {
                let Some(etag) = etag else {
                    // Without an ETag a safe replacement is impossible; leave the task to
                    // the next planner rather than risk a double claim.
                    return Ok(ClaimOutcome::Held {
                        run_id,
                        claimed_at: String::new(),
                    });
                };
                match store.put_if_match(&location, body.clone(), &etag).await {
                    Ok(_) => {
                        return Ok(ClaimOutcome::TakenOver {
                            previous_run: run_id,
                            reason,
                        });
                    }
                    // Someone else replaced or removed it first: look again.
                    Err(err)
                        if matches!(
                            err.kind(),
                            ErrorKind::PreconditionFailed | ErrorKind::NotFound
                        ) =>
                    {
                        continue;
                    }
                    Err(err) => return Err(err.into()),
                }
            }
        }
    }
    // Still contended after several rounds: whoever keeps winning holds it.
    match inspect_claim(
        store,
        layout,
        &claim.task_id,
        &claim.run_id,
        claim.ttl_seconds,
        now,
    )
    .await?
    {
        ExistingClaim::Ours => Ok(ClaimOutcome::Ours),
        ExistingClaim::Live { run_id, claimed_at } => Ok(ClaimOutcome::Held { run_id, claimed_at }),
        ExistingClaim::Dead { run_id, .. } => Ok(ClaimOutcome::Held {
            run_id,
            claimed_at: String::new(),
        }),
        ExistingClaim::Absent => Err(StateError::Contention {
            location: location.to_string(),
            attempts: CLAIM_ATTEMPTS,
        }),
    }
}

/// Reads the claim of `task_id` without changing anything (dry runs use this). `ttl_seconds`
/// ages an unreadable claim by its object time.
pub async fn inspect_claim(
    store: &Store,
    layout: &Layout,
    task_id: &str,
    our_run: &str,
    ttl_seconds: u64,
    now: DateTime<Utc>,
) -> Result<ExistingClaim, StateError> {
    check_task_id(task_id)?;
    let location = layout.claim(task_id);
    // The ETag first: if the claim changes before the body is read, the replacement below
    // fails its precondition instead of overwriting a claim we never looked at.
    let Some(meta) = store.head(&location).await? else {
        return Ok(ExistingClaim::Absent);
    };
    let bytes = match store.get(&location).await {
        Ok(bytes) => bytes,
        Err(err) if err.is_not_found() => return Ok(ExistingClaim::Absent),
        Err(err) => return Err(err.into()),
    };
    let Ok(existing) = serde_json::from_slice::<Claim>(&bytes) else {
        let modified = meta.last_modified.map(DateTime::<Utc>::from);
        let old = modified.is_some_and(|t| age_seconds(t, now) > ttl_seconds as i64);
        return Ok(if old {
            ExistingClaim::Dead {
                run_id: "?".to_string(),
                reason: "unreadable claim older than the TTL",
                etag: meta.etag,
            }
        } else {
            ExistingClaim::Live {
                run_id: "?".to_string(),
                claimed_at: modified.map(|t| t.to_rfc3339()).unwrap_or_default(),
            }
        });
    };
    if existing.run_id == our_run {
        return Ok(ExistingClaim::Ours);
    }
    let expired = DateTime::parse_from_rfc3339(&existing.claimed_at)
        .map(|t| age_seconds(t.with_timezone(&Utc), now) > existing.ttl_seconds as i64)
        // An unparsable time cannot prove the claim alive; fall back to the object time.
        .unwrap_or_else(|_| {
            meta.last_modified
                .map(DateTime::<Utc>::from)
                .is_some_and(|t| age_seconds(t, now) > existing.ttl_seconds as i64)
        });
    if expired {
        return Ok(ExistingClaim::Dead {
            run_id: existing.run_id,
            reason: "claim older than its TTL",
            etag: meta.etag,
        });
    }
    let finished = super::runs::is_valid_run_id(&existing.run_id)
        && report_exists(store, layout, &existing.run_id).await?;
    if finished {
        return Ok(ExistingClaim::Dead {
            run_id: existing.run_id,
            reason: "its run has finished (report exists)",
            etag: meta.etag,
        });
    }
    Ok(ExistingClaim::Live {
        run_id: existing.run_id,
        claimed_at: existing.claimed_at,
    })
}

/// Deletes the claim of `task_id` if it names `run_id` (a run that failed before it was
/// recorded gives its tasks back). Returns whether a claim was deleted.
///
/// Not atomic (read, then delete): only call it for claims of a run that is not finished and
/// younger than its TTL, which no other planner may take over.
pub async fn release_claim(
    store: &Store,
    layout: &Layout,
    task_id: &str,
    run_id: &str,
) -> Result<bool, StateError> {
    check_task_id(task_id)?;
    let location = layout.claim(task_id);
    let bytes = match store.get(&location).await {
        Ok(bytes) => bytes,
        Err(err) if err.is_not_found() => return Ok(false),
        Err(err) => return Err(err.into()),
    };
    match serde_json::from_slice::<Claim>(&bytes) {
        Ok(claim) if claim.run_id == run_id => {
            store.delete(&location).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

fn age_seconds(then: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - then).num_seconds()
}
