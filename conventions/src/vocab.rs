//! Small vocabulary shared by every module: product type and granule dimension.
//!
//! The spellings are the EDP ones (`native`, `latlon`, `2D`, `3D`). `edp-task-schemas` has
//! wire types with the same names and spellings; this crate keeps its own (it must not
//! depend on the task formats), and the planner maps one onto the other.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Output grid of a product (EDP `product_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProductType {
    /// The 13 LLC90 tiles.
    Native,
    /// The regular 0.5-degree latitude-longitude grid.
    Latlon,
}

impl ProductType {
    /// Both product types, in catalog order.
    pub const ALL: [ProductType; 2] = [ProductType::Native, ProductType::Latlon];

    /// `native` or `latlon`: the output directory name and the file-name token.
    pub fn as_str(self) -> &'static str {
        match self {
            ProductType::Native => "native",
            ProductType::Latlon => "latlon",
        }
    }
}

impl fmt::Display for ProductType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A product type string that is neither `native` nor `latlon`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown product type '{found}': expected 'native' or 'latlon'")]
pub struct ParseProductTypeError {
    /// The rejected text.
    pub found: String,
}

impl FromStr for ProductType {
    type Err = ParseProductTypeError;

    /// Case-insensitive, like the job-file parser.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "native" => Ok(ProductType::Native),
            "latlon" => Ok(ProductType::Latlon),
            _ => Err(ParseProductTypeError {
                found: s.to_string(),
            }),
        }
    }
}

/// Spatial dimension of a granule (grouping `dimension`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Dimension {
    /// Surface (single-level) fields.
    #[serde(rename = "2D")]
    TwoD,
    /// Fields with 50 vertical levels.
    #[serde(rename = "3D")]
    ThreeD,
}

impl Dimension {
    /// `2D` or `3D`, as written in groupings, task lists and `grid_dimension` filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::TwoD => "2D",
            Dimension::ThreeD => "3D",
        }
    }

    /// Parses the exact spelling used by the metadata (`2D`, `3D`).
    pub fn parse(s: &str) -> Option<Dimension> {
        match s.trim() {
            "2D" => Some(Dimension::TwoD),
            "3D" => Some(Dimension::ThreeD),
            _ => None,
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_type_parses_any_case() {
        assert_eq!("Native".parse::<ProductType>(), Ok(ProductType::Native));
        assert_eq!("LATLON".parse::<ProductType>(), Ok(ProductType::Latlon));
        let err = "1D".parse::<ProductType>().unwrap_err();
        assert!(err.to_string().contains("'1D'"));
    }

    #[test]
    fn dimension_round_trips_its_spelling() {
        for d in [Dimension::TwoD, Dimension::ThreeD] {
            assert_eq!(Dimension::parse(d.as_str()), Some(d));
        }
        assert_eq!(Dimension::parse("1D"), None);
    }
}
