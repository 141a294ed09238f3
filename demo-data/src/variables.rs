//! The demo's diagnostics and groupings: names, locations, units and CF standard names (facts
//! that carry over from ECCO V4r4) with descriptions in our own words.

use edp_conventions::ProductType;
use edp_conventions::staggering::{Horizontal, Staggering, Vertical};

use crate::error::DemoError;

/// One model diagnostic written by the demo.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Diagnostic {
    /// MITgcm name.
    pub name: &'static str,
    /// Where it lives on the C grid.
    pub location: Staggering,
    /// The 10-character code of `available_diagnostics.log` (char 2: horizontal location,
    /// char 9: vertical location, char 10: `1` single level or `R` multi-level).
    pub code: &'static str,
    /// Units as the diagnostics log writes them.
    pub log_units: &'static str,
    /// Title column of the diagnostics log.
    pub title: &'static str,
    /// Whether the demo also writes daily means of it.
    pub daily: bool,
}

const fn at(horizontal: Horizontal, vertical: Vertical) -> Staggering {
    Staggering::new(horizontal, vertical)
}

/// Every diagnostic of the demo model output.
pub(crate) const DIAGNOSTICS: &[Diagnostic] = &[
    Diagnostic {
        name: "ETAN",
        location: at(Horizontal::Centre, Vertical::Surface),
        code: "SM      M1",
        log_units: "m",
        title: "Free-surface elevation anomaly",
        daily: true,
    },
    Diagnostic {
        name: "SSH",
        location: at(Horizontal::Centre, Vertical::Surface),
        code: "SM      M1",
        log_units: "m",
        title: "Dynamic sea surface height anomaly",
        daily: true,
    },
    Diagnostic {
        name: "SSHIBC",
        location: at(Horizontal::Centre, Vertical::Surface),
        code: "SM      M1",
        log_units: "m",
        title: "Inverted-barometer part of sea level",
        daily: true,
    },
    Diagnostic {
        name: "SSHNOIBC",
        location: at(Horizontal::Centre, Vertical::Surface),
        code: "SM      M1",
        log_units: "m",
        title: "Sea level without inverted-barometer correction",
        daily: true,
    },
    Diagnostic {
        name: "THETA",
        location: at(Horizontal::Centre, Vertical::K),
        code: "SMR     MR",
        log_units: "degC",
        title: "Potential temperature",
        daily: false,
    },
    Diagnostic {
        name: "SALT",
        location: at(Horizontal::Centre, Vertical::K),
        code: "SMR     MR",
        log_units: "psu",
        title: "Salinity",
        daily: false,
    },
    Diagnostic {
        name: "UVEL",
        location: at(Horizontal::UFace, Vertical::K),
        code: "UUR     MR",
        log_units: "m/s",
        title: "Velocity along the local grid x axis",
        daily: false,
    },
    Diagnostic {
        name: "VVEL",
        location: at(Horizontal::VFace, Vertical::K),
        code: "VVR     MR",
        log_units: "m/s",
        title: "Velocity along the local grid y axis",
        daily: false,
    },
    Diagnostic {
        name: "WVELMASS",
        location: at(Horizontal::Centre, Vertical::KL),
        code: "WM      LR",
        log_units: "m/s",
        title: "Vertical velocity at the top face of tracer cells",
        daily: false,
    },
];

/// One entry of the variable metadata JSON.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VariableText {
    pub name: &'static str,
    pub long_name: &'static str,
    pub units: &'static str,
    pub standard_name: Option<&'static str>,
    pub comments_1: &'static str,
    pub comments_2: &'static str,
    pub direction: Option<&'static str>,
    pub gcmd: &'static str,
    pub grid_dimension: &'static str,
    pub grid_location: Option<&'static str>,
}

const GCMD_SEA_LEVEL: &str = "EARTH SCIENCE > OCEANS > SEA SURFACE TOPOGRAPHY > SEA SURFACE HEIGHT";
const GCMD_CURRENTS: &str = "EARTH SCIENCE > OCEANS > OCEAN CIRCULATION, EARTH SCIENCE > OCEANS > OCEAN CIRCULATION > OCEAN CURRENTS";

/// `*_variable_metadata.json` of the demo (native names, plus `WVEL`, the new name of the
/// renamed `WVELMASS`).
pub(crate) const VARIABLES: &[VariableText] = &[
    VariableText {
        name: "SSH",
        long_name: "Dynamic sea surface height anomaly",
        units: "m",
        standard_name: Some("sea_surface_height_above_geoid"),
        comments_1: "Sea surface height above the geoid after the inverted-barometer correction",
        comments_2: "Synthetic demo field: a smooth function of latitude, longitude and time.",
        direction: None,
        gcmd: GCMD_SEA_LEVEL,
        grid_dimension: "2D",
        grid_location: Some("c"),
    },
    VariableText {
        name: "SSHIBC",
        long_name: "Inverted-barometer correction of sea surface height",
        units: "m",
        standard_name: None,
        comments_1: "Sea level response to atmospheric pressure loading",
        comments_2: "SSH = SSHNOIBC - SSHIBC.",
        direction: None,
        gcmd: GCMD_SEA_LEVEL,
        grid_dimension: "2D",
        grid_location: Some("c"),
    },
    VariableText {
        name: "SSHNOIBC",
        long_name: "Sea surface height anomaly without inverted-barometer correction",
        units: "m",
        standard_name: Some("sea_surface_height_above_geoid"),
        comments_1: "Sea surface height above the geoid including the atmospheric pressure effect.",
        comments_2: "Synthetic demo field.",
        direction: None,
        gcmd: GCMD_SEA_LEVEL,
        grid_dimension: "2D",
        grid_location: Some("c"),
    },
    VariableText {
        name: "ETAN",
        long_name: "Model free-surface anomaly",
        units: "m",
        standard_name: None,
        comments_1: "Free-surface height of the model without any correction",
        comments_2: "Not comparable with altimetry; use SSH for that.",
        direction: None,
        gcmd: GCMD_SEA_LEVEL,
        grid_dimension: "2D",
        grid_location: Some("c"),
    },
    VariableText {
        name: "THETA",
        long_name: "Potential temperature",
        units: "degree_C",
        standard_name: Some("sea_water_potential_temperature"),
        comments_1: "Temperature of a sea water parcel brought adiabatically to the surface.",
        comments_2: "Synthetic demo field: warm at the surface near the equator, cold at depth.",
        direction: None,
        gcmd: "EARTH SCIENCE > OCEANS > OCEAN TEMPERATURE > POTENTIAL TEMPERATURE",
        grid_dimension: "3D",
        grid_location: Some("c"),
    },
    VariableText {
        name: "SALT",
        long_name: "Salinity",
        units: "1e-3",
        standard_name: Some("sea_water_salinity"),
        comments_1: "Practical salinity of sea water",
        comments_2: "Synthetic demo field.",
        direction: None,
        gcmd: "EARTH SCIENCE > OCEANS > SALINITY/DENSITY > SALINITY",
        grid_dimension: "3D",
        grid_location: Some("c"),
    },
    VariableText {
        name: "UVEL",
        long_name: "Velocity along the model +x direction",
        units: "m s-1",
        standard_name: Some("sea_water_x_velocity"),
        comments_1: "Velocity through the 'u' face of the tracer cell, along the local grid x axis.",
        comments_2: "The model x axis is not east in general; see EVEL and NVEL for geographic components.",
        direction: Some(">0 increases volume"),
        gcmd: GCMD_CURRENTS,
        grid_dimension: "3D",
        grid_location: Some("u"),
    },
    VariableText {
        name: "VVEL",
        long_name: "Velocity along the model +y direction",
        units: "m s-1",
        standard_name: Some("sea_water_y_velocity"),
        comments_1: "Velocity through the 'v' face of the tracer cell, along the local grid y axis.",
        comments_2: "The model y axis is not north in general; see EVEL and NVEL for geographic components.",
        direction: Some(">0 increases volume"),
        gcmd: GCMD_CURRENTS,
        grid_dimension: "3D",
        grid_location: Some("v"),
    },
    VariableText {
        name: "WVELMASS",
        long_name: "Vertical velocity at the top face of the tracer cell",
        units: "m s-1",
        standard_name: Some("upward_sea_water_velocity"),
        comments_1: "Upward velocity through the top 'w' face of the tracer cell.",
        comments_2: "Zero at the sea surface in this demo.",
        direction: Some(">0 decreases volume"),
        gcmd: GCMD_CURRENTS,
        grid_dimension: "3D",
        grid_location: Some("c"),
    },
    VariableText {
        name: "WVEL",
        long_name: "Vertical velocity",
        units: "m s-1",
        standard_name: Some("upward_sea_water_velocity"),
        comments_1: "Upward velocity through the top 'w' face of the tracer cell.",
        comments_2: "Same values as WVELMASS, under the name used by the velocity datasets.",
        direction: Some(">0 decreases volume"),
        gcmd: GCMD_CURRENTS,
        grid_dimension: "3D",
        grid_location: Some("c"),
    },
];

/// `*_variable_metadata_for_latlon_datasets.json` of the demo (geographic components).
pub(crate) const LATLON_VARIABLES: &[VariableText] = &[
    VariableText {
        name: "EVEL",
        long_name: "Eastward velocity",
        units: "m s-1",
        standard_name: Some("eastward_sea_water_velocity"),
        comments_1: "East-west component of the ocean velocity",
        comments_2: "Computed from UVEL and VVEL moved to cell centres and rotated to geographic axes.",
        direction: None,
        gcmd: GCMD_CURRENTS,
        grid_dimension: "3D",
        grid_location: None,
    },
    VariableText {
        name: "NVEL",
        long_name: "Northward velocity",
        units: "m s-1",
        standard_name: Some("northward_sea_water_velocity"),
        comments_1: "North-south component of the ocean velocity",
        comments_2: "Computed from UVEL and VVEL moved to cell centres and rotated to geographic axes.",
        direction: None,
        gcmd: GCMD_CURRENTS,
        grid_dimension: "3D",
        grid_location: None,
    },
    VariableText {
        name: "WVEL",
        long_name: "Vertical velocity",
        units: "m s-1",
        standard_name: Some("upward_sea_water_velocity"),
        comments_1: "Upward velocity at the top face of the grid cell",
        comments_2: "Interpolated from the native top-face values.",
        direction: Some(">0 decreases volume"),
        gcmd: GCMD_CURRENTS,
        grid_dimension: "3D",
        grid_location: Some("c"),
    },
];

/// A vector output variable of a lat-lon grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoVector {
    /// Output name (`EVEL`).
    pub name: &'static str,
    /// x input (`UVEL`).
    pub x: &'static str,
    /// y input (`VVEL`).
    pub y: &'static str,
    /// `zonal` or `meridional`.
    pub orientation: &'static str,
}

/// One grouping of the demo metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoGrouping {
    /// Output grid.
    pub product: ProductType,
    /// Grouping id (position in the list of its product type).
    pub id: usize,
    /// Grouping `name`.
    pub name: &'static str,
    /// Grouping `filename` (dataset directory and file-name prefix).
    pub filename: &'static str,
    /// Output variables (`fields`) in order.
    pub fields: &'static [&'static str],
    /// `2D` or `3D`.
    pub dimension: &'static str,
    /// `variable_rename` (`OLD:NEW`), if any.
    pub rename: Option<(&'static str, &'static str)>,
    /// Vector variables (lat-lon only).
    pub vectors: &'static [DemoVector],
    /// Grouping `comment`, if any.
    pub comment: Option<&'static str>,
    /// Short dataset tag used in the PO.DAAC-style table (`SSH`, `TS`, `VEL`).
    pub tag: &'static str,
}

const SSH_COMMENT: &str = "SSH (dynamic sea surface height) equals SSHNOIBC minus SSHIBC, the \
    inverted-barometer correction. ETAN is the raw model free surface and is not meant for \
    comparison with altimetry.";

const VELOCITY_VECTORS: &[DemoVector] = &[
    DemoVector {
        name: "EVEL",
        x: "UVEL",
        y: "VVEL",
        orientation: "zonal",
    },
    DemoVector {
        name: "NVEL",
        x: "UVEL",
        y: "VVEL",
        orientation: "meridional",
    },
];

/// The groupings of the demo metadata: three native and three lat-lon, in id order.
pub const DEMO_GROUPINGS: &[DemoGrouping] = &[
    DemoGrouping {
        product: ProductType::Native,
        id: 0,
        name: "dynamic sea surface height and model sea level anomaly",
        filename: "SEA_SURFACE_HEIGHT",
        fields: &["SSH", "SSHIBC", "SSHNOIBC", "ETAN"],
        dimension: "2D",
        rename: None,
        vectors: &[],
        comment: Some(SSH_COMMENT),
        tag: "SSH",
    },
    DemoGrouping {
        product: ProductType::Native,
        id: 1,
        name: "ocean potential temperature and salinity",
        filename: "OCEAN_TEMPERATURE_SALINITY",
        fields: &["THETA", "SALT"],
        dimension: "3D",
        rename: None,
        vectors: &[],
        comment: None,
        tag: "TS",
    },
    DemoGrouping {
        product: ProductType::Native,
        id: 2,
        name: "ocean velocity",
        filename: "OCEAN_VELOCITY",
        fields: &["UVEL", "VVEL", "WVELMASS"],
        dimension: "3D",
        rename: Some(("WVELMASS", "WVEL")),
        vectors: &[],
        comment: None,
        tag: "VEL",
    },
    DemoGrouping {
        product: ProductType::Latlon,
        id: 0,
        name: "dynamic sea surface height",
        filename: "SEA_SURFACE_HEIGHT",
        fields: &["SSH", "SSHIBC", "SSHNOIBC"],
        dimension: "2D",
        rename: None,
        vectors: &[],
        comment: Some(SSH_COMMENT),
        tag: "SSH",
    },
    DemoGrouping {
        product: ProductType::Latlon,
        id: 1,
        name: "ocean potential temperature and salinity",
        filename: "OCEAN_TEMPERATURE_SALINITY",
        fields: &["THETA", "SALT"],
        dimension: "3D",
        rename: None,
        vectors: &[],
        comment: None,
        tag: "TS",
    },
    DemoGrouping {
        product: ProductType::Latlon,
        id: 2,
        name: "ocean velocity",
        filename: "OCEAN_VELOCITY",
        fields: &["EVEL", "NVEL", "WVELMASS"],
        dimension: "3D",
        rename: Some(("WVELMASS", "WVEL")),
        vectors: VELOCITY_VECTORS,
        comment: None,
        tag: "VEL",
    },
];

impl DemoGrouping {
    /// The demo grouping `id` of `product`.
    pub fn of(product: ProductType, id: usize) -> Result<&'static DemoGrouping, DemoError> {
        let of_product = || DEMO_GROUPINGS.iter().filter(move |g| g.product == product);
        of_product()
            .find(|g| g.id == id)
            .ok_or_else(|| DemoError::UnknownGrouping {
                product,
                id,
                count: of_product().count(),
            })
    }

    /// The groupings of one product type, in id order.
    pub fn all(product: ProductType) -> impl Iterator<Item = &'static DemoGrouping> {
        DEMO_GROUPINGS.iter().filter(move |g| g.product == product)
    }

    /// The variable names of the granule (renamed, vectors by their output names).
    pub fn output_variables(&self) -> Vec<&'static str> {
        self.fields
            .iter()
            .map(|f| match self.rename {
                Some((old, new)) if old == *f => new,
                _ => f,
            })
            .collect()
    }

    /// The diagnostics read by this grouping (vector components expanded), without repeats.
    pub fn input_diagnostics(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for field in self.fields {
            let inputs = match self.vectors.iter().find(|v| v.name == *field) {
                Some(v) => vec![v.x, v.y],
                None => vec![*field],
            };
            for input in inputs {
                if !out.contains(&input) {
                    out.push(input);
                }
            }
        }
        out
    }
}
