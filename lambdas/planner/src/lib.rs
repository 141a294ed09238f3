//! The planner Lambda's handler and its typed configuration.
