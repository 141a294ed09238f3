//! One module per subcommand: its arguments (documented where defined) and its `run`.

pub mod check;
pub mod datasets;
pub mod demo;
pub mod factors;
pub mod granule;
pub mod inspect;
pub mod invariant;
pub mod plan;
pub mod publish;
pub mod run;
pub mod series;
pub mod shared;
pub mod status;
pub mod submit;
pub mod verify;
pub mod virtual_store;
pub mod worker;
