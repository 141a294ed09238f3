//! The dataset state machine: one table of allowed transitions. Every change of
//! [`DatasetStatus::state`] goes through [`transition`], which refuses anything not in the
//! table and appends the change to the history.
//!
//! ```text
//!            (run)                 (check ok)          (mapfile)            (publish)
//!  (new) --> incomplete <--> produced --> validated --> publishable --> published --+
//!              |   ^            |   ^        |              |            ^   |      |
//!              |   |            v   |        v              v            +---+------+ re-publish
//!              |   +--------- failed <-------+--------------+----------------+ (check fails)
//!              +--(check)-------^   (repair: a run produces granules again -> produced/incomplete)
//! ```

use edp_task_schemas::{DatasetState, DatasetStatus, Transition};

use crate::DatasetError;

use DatasetState::{Failed, Incomplete, Produced, Publishable, Published, Validated};

/// Why a transition exists: what makes it happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// State before (`None`: the dataset's first status).
    pub from: Option<DatasetState>,
    /// State after.
    pub to: DatasetState,
    /// What causes it.
    pub cause: &'static str,
}

const fn rule(from: Option<DatasetState>, to: DatasetState, cause: &'static str) -> Rule {
    Rule { from, to, cause }
}

/// Every allowed transition. Anything else is an error.
pub const TRANSITIONS: &[Rule] = &[
    rule(
        None,
        Incomplete,
        "a run produced some granules; others are missing or failed",
    ),
    rule(None, Produced, "a run produced every expected granule"),
    rule(
        Some(Incomplete),
        Produced,
        "a run produced the missing or failed granules",
    ),
    rule(Some(Incomplete), Failed, "the series check found problems"),
    rule(
        Some(Produced),
        Incomplete,
        "a run failed a granule or the expected range grew",
    ),
    rule(Some(Produced), Validated, "the series check passed"),
    rule(Some(Produced), Failed, "the series check found problems"),
    rule(Some(Validated), Publishable, "the mapfile was written"),
    rule(Some(Validated), Failed, "the series check found problems"),
    rule(
        Some(Validated),
        Produced,
        "a run changed granules: check again",
    ),
    rule(
        Some(Validated),
        Incomplete,
        "a run changed granules and some are missing or failed",
    ),
    rule(Some(Publishable), Published, "the dataset was published"),
    rule(Some(Publishable), Failed, "the series check found problems"),
    rule(
        Some(Publishable),
        Produced,
        "a run changed granules: check again",
    ),
    rule(
        Some(Publishable),
        Incomplete,
        "a run changed granules and some are missing or failed",
    ),
    rule(
        Some(Published),
        Published,
        "published again (a new version replaces the previous one)",
    ),
    rule(
        Some(Published),
        Failed,
        "the series check of the published dataset found problems",
    ),
    rule(
        Some(Published),
        Produced,
        "repair: a run produced granules again; check and publish again",
    ),
    rule(
        Some(Published),
        Incomplete,
        "repair: a run changed granules and some are missing or failed",
    ),
    rule(
        Some(Failed),
        Produced,
        "repair: a run produced granules again",
    ),
    rule(
        Some(Failed),
        Incomplete,
        "repair: a run produced granules again; some are missing or failed",
    ),
    rule(
        Some(Failed),
        Validated,
        "the series check passed after a repair",
    ),
    rule(
        Some(Failed),
        Failed,
        "the series check found problems again",
    ),
];

/// The rule allowing `from -> to`, if any.
pub fn rule_for(from: Option<DatasetState>, to: DatasetState) -> Option<&'static Rule> {
    TRANSITIONS.iter().find(|r| r.from == from && r.to == to)
}

/// Who made a change and in which run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Command or component (`edp run`, `edp check`, `reporter`).
    pub by: String,
    /// The run, when there is one.
    pub run_id: Option<String>,
}

impl Actor {
    /// An actor without a run.
    pub fn new(by: impl Into<String>) -> Actor {
        Actor {
            by: by.into(),
            run_id: None,
        }
    }

    /// An actor acting for a run.
    pub fn in_run(by: impl Into<String>, run_id: impl Into<String>) -> Actor {
        Actor {
            by: by.into(),
            run_id: Some(run_id.into()),
        }
    }
}

/// Moves `status` to `to` (recorded in its history with `reason`), or fails when the table
/// has no such transition. Staying in the same state is a no-op unless the table lists it
/// (`published -> published`, `failed -> failed`), which is then recorded.
pub fn transition(
    status: &mut DatasetStatus,
    to: DatasetState,
    actor: &Actor,
    reason: &str,
    at: &str,
) -> Result<(), DatasetError> {
    let from = status.state;
    if from == to && rule_for(Some(from), to).is_none() {
        return Ok(());
    }
    if rule_for(Some(from), to).is_none() {
        return Err(DatasetError::IllegalTransition {
            dataset: status.dataset.clone(),
            from: from.as_str(),
            to: to.as_str(),
            allowed: allowed_from(Some(from)),
        });
    }
    status.state = to;
    status.history.push(Transition {
        from: Some(from),
        to,
        at: at.to_string(),
        by: actor.by.clone(),
        run_id: actor.run_id.clone(),
        reason: reason.to_string(),
    });
    Ok(())
}

/// The first transition of a new status (`None -> to`).
pub fn creation(
    dataset: &str,
    to: DatasetState,
    actor: &Actor,
    reason: &str,
    at: &str,
) -> Result<Transition, DatasetError> {
    if rule_for(None, to).is_none() {
        return Err(DatasetError::IllegalTransition {
            dataset: dataset.to_string(),
            from: "(none)",
            to: to.as_str(),
            allowed: allowed_from(None),
        });
    }
    Ok(Transition {
        from: None,
        to,
        at: at.to_string(),
        by: actor.by.clone(),
        run_id: actor.run_id.clone(),
        reason: reason.to_string(),
    })
}

/// The states reachable from `from`, for error messages.
fn allowed_from(from: Option<DatasetState>) -> String {
    let targets: Vec<&str> = TRANSITIONS
        .iter()
        .filter(|r| r.from == from)
        .map(|r| r.to.as_str())
        .collect();
    targets.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use edp_task_schemas::{Coverage, ExpectedSteps};

    fn status(state: DatasetState) -> DatasetStatus {
        DatasetStatus {
            dataset: "V4r4/native/mon_mean/SSH".into(),
            state,
            expected: ExpectedSteps {
                first: "1992-01".into(),
                last: "1992-01".into(),
                count: 1,
                source: "test".into(),
            },
            coverage: Coverage::default(),
            last_check: None,
            publication: None,
            history: Vec::new(),
            updated_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn the_happy_path_follows_the_table_and_is_recorded() {
        let actor = Actor::in_run("edp check", "r1");
        let mut s = status(Produced);
        for to in [
            Validated,
            Publishable,
            Published,
            Produced,
            Validated,
            Publishable,
            Published,
        ] {
            transition(&mut s, to, &actor, "test", "t").unwrap();
        }
        assert_eq!(s.state, Published);
        assert_eq!(s.history.len(), 7);
        assert_eq!(s.history[0].from, Some(Produced));
        assert_eq!(s.history[0].run_id.as_deref(), Some("r1"));
    }

    #[test]
    fn skipping_validation_is_refused_and_leaves_the_status_unchanged() {
        let actor = Actor::new("edp publish");
        for from in [Incomplete, Produced, Validated, Failed] {
            let mut s = status(from);
            let err = transition(&mut s, Published, &actor, "test", "t").unwrap_err();
            assert!(err.to_string().contains("published"), "{err}");
            assert_eq!(s.state, from);
            assert!(s.history.is_empty());
        }
        let mut s = status(Incomplete);
        assert!(transition(&mut s, Validated, &actor, "t", "t").is_err());
        assert!(creation("x", Validated, &actor, "t", "t").is_err());
        assert!(creation("x", Produced, &actor, "t", "t").is_ok());
    }

    #[test]
    fn every_state_is_reachable_and_can_be_left() {
        for state in DatasetState::ALL {
            assert!(
                TRANSITIONS.iter().any(|r| r.to == state),
                "{state:?} unreachable"
            );
            assert!(
                TRANSITIONS
                    .iter()
                    .any(|r| r.from == Some(state) && r.to != state),
                "{state:?} is a dead end"
            );
        }
        // No duplicate rows.
        for (i, a) in TRANSITIONS.iter().enumerate() {
            for b in &TRANSITIONS[i + 1..] {
                assert!(!(a.from == b.from && a.to == b.to), "{a:?} twice");
            }
        }
    }
}
