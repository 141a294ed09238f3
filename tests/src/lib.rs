//! End-to-end tests live in `tests/`; this library is empty on purpose.
//!
//! How the tests find the `edp` binary: Cargo builds binaries only for the package under
//! test (`CARGO_BIN_EXE_<name>` exists only there), and `edp` belongs to `edp-cli`. The
//! tests therefore run `cargo build -p edp-cli --bin edp` once per test binary (a no-op when
//! `cargo test --workspace` has just built it) and use `target/<profile>/edp` beside their own
//! executable (`target/<profile>/deps/<test>`). Set `EDP_BIN` to test another build instead,
//! e.g. `EDP_BIN=target/release/edp cargo test -p edp-tests`.
