//! The worker's exit codes and the AWS Batch retry rules built from them: the single source of
//! truth behind `task-schemas/schemas/exit-codes.json`, which Terraform reads with
//! `jsondecode` to build `retry_strategy.evaluate_on_exit`.
//!
//! | code | kind | Batch action |
//! |---|---|---|
//! | 0 | success | - |
//! | 2 | usage | EXIT |
//! | 3 | permanent | EXIT |
//! | 4 | retryable | RETRY |
//! | 137 | killed by the OS (OOM, signal) | RETRY |
//!
//! Retrying exit code 4 is safe because finished granules are skipped through their done
//! markers, so a retried shard redoes only what failed.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Exit code of the OS killing the container (128 + SIGKILL), e.g. out of memory.
pub const KILLED_EXIT_CODE: i32 = 137;

/// AWS Batch accepts at most this many `evaluate_on_exit` rules per retry strategy.
pub const MAX_BATCH_RULES: usize = 5;

/// How a worker process ends.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum ExitKind {
    /// Every task of the shard is done or was already done.
    Success = 0,
    /// Invalid arguments, configuration, shard or task list.
    Usage = 2,
    /// A granule failed permanently and none failed transiently.
    Permanent = 3,
    /// A granule failed transiently.
    Retryable = 4,
}

impl ExitKind {
    /// Every kind, by code.
    pub const ALL: [ExitKind; 4] = [
        ExitKind::Success,
        ExitKind::Usage,
        ExitKind::Permanent,
        ExitKind::Retryable,
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The kind with this exit code, if it is one of ours.
    pub fn from_code(code: i32) -> Option<ExitKind> {
        ExitKind::ALL
            .into_iter()
            .find(|kind| i32::from(kind.code()) == code)
    }

    /// The JSON spelling (`success`, `usage`, `permanent`, `retryable`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExitKind::Success => "success",
            ExitKind::Usage => "usage",
            ExitKind::Permanent => "permanent",
            ExitKind::Retryable => "retryable",
        }
    }

    /// What AWS Batch does when a child exits with this code.
    pub fn batch_action(self) -> BatchAction {
        match self {
            ExitKind::Success => BatchAction::None,
            ExitKind::Usage | ExitKind::Permanent => BatchAction::Exit,
            ExitKind::Retryable => BatchAction::Retry,
        }
    }

    /// One-line meaning, as written to `exit-codes.json`.
    pub fn description(self) -> &'static str {
        match self {
            ExitKind::Success => "every task of the shard is done or was already done",
            ExitKind::Usage => "invalid arguments, configuration, shard or task list",
            ExitKind::Permanent => {
                "a granule failed for a reason a retry cannot fix (bad input), none failed transiently"
            }
            ExitKind::Retryable => {
                "a granule failed transiently (storage throttling, network, timeout)"
            }
        }
    }

    /// The exit kind of a shard whose tasks ended in `self` and `other`: usage errors win
    /// (nothing can run), then retryable failures (a retry may fix them and skips finished
    /// granules), then permanent failures, then success.
    pub fn combine(self, other: ExitKind) -> ExitKind {
        fn rank(kind: ExitKind) -> u8 {
            match kind {
                ExitKind::Success => 0,
                ExitKind::Permanent => 1,
                ExitKind::Retryable => 2,
                ExitKind::Usage => 3,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for ExitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.as_str(), self.code())
    }
}

impl From<ExitKind> for std::process::ExitCode {
    fn from(kind: ExitKind) -> std::process::ExitCode {
        std::process::ExitCode::from(kind.code())
    }
}

/// An AWS Batch `evaluate_on_exit` action (`none` marks success in the code table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum BatchAction {
    /// Nothing to do (success).
    #[serde(rename = "none")]
    None,
    /// Fail the child without retrying.
    #[serde(rename = "EXIT")]
    Exit,
    /// Retry the child (up to the job definition's attempts).
    #[serde(rename = "RETRY")]
    Retry,
}

/// One AWS Batch `evaluate_on_exit` rule. A rule matches when every condition it has matches;
/// Batch applies the first matching rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EvaluateOnExit {
    /// Glob on the decimal exit code (digits, optionally ending in `*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_exit_code: Option<String>,
    /// Glob on the status reason (optionally ending in `*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_status_reason: Option<String>,
    /// `RETRY` or `EXIT`.
    pub action: BatchAction,
}

/// One row of the exit-code table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExitCodeEntry {
    /// Process exit code.
    pub code: u8,
    /// Kind name.
    pub kind: ExitKind,
    /// What Batch does.
    pub batch_action: BatchAction,
    /// Meaning.
    pub description: String,
}

/// The content of `exit-codes.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExitCodesDocument {
    /// Our exit codes.
    pub codes: Vec<ExitCodeEntry>,
    /// The Batch retry rules, in evaluation order.
    pub batch_evaluate_on_exit: Vec<EvaluateOnExit>,
}

/// The Batch retry rules: retry our retryable code, OOM/signal kills and lost EC2 hosts
/// (Spot reclaims), fail everything else.
pub fn evaluate_on_exit_rules() -> Vec<EvaluateOnExit> {
    let retry_code = |code: String| EvaluateOnExit {
        on_exit_code: Some(code),
        on_status_reason: None,
        action: BatchAction::Retry,
    };
    let mut rules: Vec<EvaluateOnExit> = ExitKind::ALL
        .into_iter()
        .filter(|kind| kind.batch_action() == BatchAction::Retry)
        .map(|kind| retry_code(kind.code().to_string()))
        .collect();
    rules.push(retry_code(KILLED_EXIT_CODE.to_string()));
    rules.push(EvaluateOnExit {
        on_exit_code: None,
        on_status_reason: Some("Host EC2*".to_string()),
        action: BatchAction::Retry,
    });
    rules.push(EvaluateOnExit {
        on_exit_code: Some("*".to_string()),
        on_status_reason: None,
        action: BatchAction::Exit,
    });
    rules
}

/// The whole table.
pub fn exit_codes_document() -> ExitCodesDocument {
    ExitCodesDocument {
        codes: ExitKind::ALL
            .into_iter()
            .map(|kind| ExitCodeEntry {
                code: kind.code(),
                kind,
                batch_action: kind.batch_action(),
                description: kind.description().to_string(),
            })
            .collect(),
        batch_evaluate_on_exit: evaluate_on_exit_rules(),
    }
}

/// What Batch does with a failed child, evaluating `rules` as Batch documents it: the first
/// rule whose conditions all match wins; a condition on a value that is absent does not
/// match; when no rule matches, Batch retries.
pub fn batch_action_for(
    rules: &[EvaluateOnExit],
    exit_code: Option<i32>,
    status_reason: Option<&str>,
) -> BatchAction {
    let code_text = exit_code.map(|code| code.to_string());
    for rule in rules {
        let code_ok = match (&rule.on_exit_code, &code_text) {
            (None, _) => true,
            (Some(pattern), Some(code)) => glob_matches(pattern, code),
            (Some(_), None) => false,
        };
        let reason_ok = match (&rule.on_status_reason, status_reason) {
            (None, _) => true,
            (Some(pattern), Some(reason)) => glob_matches(pattern, reason),
            (Some(_), None) => false,
        };
        if code_ok && reason_ok {
            return rule.action;
        }
    }
    BatchAction::Retry
}

/// Batch globs: exact match, or prefix match when the pattern ends with `*`.
fn glob_matches(pattern: &str, text: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => text.starts_with(prefix),
        None => pattern == text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_architecture_table() {
        let pairs: Vec<(u8, &str)> = ExitKind::ALL
            .into_iter()
            .map(|kind| (kind.code(), kind.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                (0, "success"),
                (2, "usage"),
                (3, "permanent"),
                (4, "retryable")
            ]
        );
        for kind in ExitKind::ALL {
            assert_eq!(ExitKind::from_code(i32::from(kind.code())), Some(kind));
        }
        assert_eq!(ExitKind::from_code(1), None);
    }

    #[test]
    fn batch_rules_retry_transient_failures_only() {
        let rules = evaluate_on_exit_rules();
        assert!(rules.len() <= MAX_BATCH_RULES);
        assert_eq!(batch_action_for(&rules, Some(4), None), BatchAction::Retry);
        assert_eq!(
            batch_action_for(&rules, Some(137), None),
            BatchAction::Retry
        );
        assert_eq!(batch_action_for(&rules, Some(3), None), BatchAction::Exit);
        assert_eq!(batch_action_for(&rules, Some(2), None), BatchAction::Exit);
        assert_eq!(batch_action_for(&rules, Some(1), None), BatchAction::Exit);
        assert_eq!(
            batch_action_for(&rules, None, Some("Host EC2 (instance i-0123) terminated.")),
            BatchAction::Retry
        );
        // No exit code and an unrelated reason: no rule matches, Batch's default is to retry.
        assert_eq!(
            batch_action_for(&rules, None, Some("Essential container exited")),
            BatchAction::Retry
        );
    }

    #[test]
    fn combine_prefers_usage_then_retryable_then_permanent() {
        use ExitKind::*;
        assert_eq!(Success.combine(Permanent), Permanent);
        assert_eq!(Permanent.combine(Retryable), Retryable);
        assert_eq!(Retryable.combine(Permanent), Retryable);
        assert_eq!(Retryable.combine(Usage), Usage);
        assert_eq!(Success.combine(Success), Success);
    }
}
