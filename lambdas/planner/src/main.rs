//! Planner Lambda entrypoint.

fn main() {}
