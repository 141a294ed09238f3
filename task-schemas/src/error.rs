//! Errors of this crate: parsing vocabulary values from text and checking payload invariants
//! that a JSON Schema cannot express.

use thiserror::Error;

/// A vocabulary value (product type, frequency, dimension ...) could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseValueError {
    /// Not one of the known spellings.
    #[error("unknown {what} {found:?}: expected {expected}")]
    Unknown {
        /// What was parsed, e.g. `product type`.
        what: &'static str,
        /// The accepted spellings.
        expected: &'static str,
        /// The text found.
        found: String,
    },
    /// A known value that edp does not support.
    #[error("unsupported {what} {found:?}: {reason}")]
    Unsupported {
        /// What was parsed.
        what: &'static str,
        /// The text found.
        found: String,
        /// Why it is not supported.
        reason: &'static str,
    },
}

/// A payload is well-formed JSON of the right shape but its fields contradict each other.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PayloadError {
    /// Two fields that exclude each other are both set.
    #[error("{payload}: fields `{first}` and `{second}` exclude each other, found both")]
    Conflict {
        /// Payload type, e.g. `manual trigger`.
        payload: &'static str,
        /// First field.
        first: &'static str,
        /// Second field.
        second: &'static str,
    },
    /// A field has a value outside its range.
    #[error("{payload}: field `{field}` must be {expected}, found {found}")]
    OutOfRange {
        /// Payload type.
        payload: &'static str,
        /// Field name.
        field: &'static str,
        /// The accepted range.
        expected: &'static str,
        /// The value found.
        found: String,
    },
}
