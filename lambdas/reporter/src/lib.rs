//! The reporter Lambda's handler.
