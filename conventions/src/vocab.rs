//! Small vocabulary shared by every module: product type and granule dimension.
//!
//! One definition of each lives in the leaf crate `edp-task-schemas` (the spellings are the
//! EDP ones: `native`, `latlon`, `2D`, `3D`); this module re-exports them so that code
//! working with the metadata does not have to know where the wire types live.

pub use edp_task_schemas::{Dimension, ParseValueError, ProductType};
