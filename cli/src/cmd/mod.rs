//! One module per subcommand: its arguments (documented where defined) and its `run`.

pub mod factors;
pub mod inspect;
pub mod plan;
pub mod status;
