//! The attribute merge algorithm of `docs/metadata.md` 3, as plain data: variable,
//! coordinate, time and global attributes, the `coordinates` attributes of 9.5, and the
//! dynamic metadata a task carries.
//!
//! Where the reference granules (EDP Gen C output) differ we follow `docs/metadata.md` and
//! the released V4r4 granules: `coordinates_comment` (not Gen C's `coordinates_note`), no
//! `project_summary` and no `identifier_product_doi*`, `id` = `10.5067/...` DOI (not the short
//! name), CMR `metadata_link`, `geospatial_vertical_min` on 3-D granules only, the per-variable
//! `coordinates` including `time`.

mod coords;
mod dynamic;
mod global;
mod one_d;
mod variable;

pub use crate::attr_value::{AttrValue, Attrs, get_attr, set_attr};
pub use coords::{
    coordinate_attributes, global_coordinates, time_attributes, time_bnds_attributes,
    variable_coordinates,
};
pub use dynamic::{
    DynamicMetadata, dynamic_metadata, granule_name_and_metadata, run_coverage_metadata,
    task_summary, time_invariant_dynamic_metadata, time_invariant_summary,
};
pub use global::{COORDINATES_COMMENT, GranuleContext, global_attributes, sort_casefold};
pub use one_d::{global_attributes_1d, time_attributes_1d, variable_attributes_1d};
pub use variable::{gcmd_keywords, geometry_attributes, join_comments, variable_attributes};

use crate::catalog::CatalogError;
use crate::vocab::ProductType;

/// Errors of building attributes.
#[derive(Debug, thiserror::Error)]
pub enum AttrError {
    /// A catalog lookup failed (file unavailable, PO.DAAC lookup, ...).
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// No variable metadata entry for an output variable.
    #[error("no {product} variable metadata for '{name}' in {searched}")]
    VariableMetadataMissing {
        /// Output variable name.
        name: String,
        /// Product type.
        product: ProductType,
        /// The files searched.
        searched: String,
    },
    /// No coordinate metadata entry for a coordinate.
    #[error("no {product} coordinate metadata for '{name}' in {file}")]
    CoordinateMetadataMissing {
        /// Coordinate name.
        name: String,
        /// Product type.
        product: ProductType,
        /// The file searched.
        file: String,
    },
    /// A global attribute still holds a `TBD_*` placeholder after the dynamic step.
    #[error(
        "global attribute '{name}' still holds the placeholder '{value}' (no dynamic value defined)"
    )]
    UnresolvedPlaceholder {
        /// Attribute name.
        name: String,
        /// The placeholder.
        value: String,
    },
}
