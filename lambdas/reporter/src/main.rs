//! Reporter Lambda entrypoint.

fn main() {}
