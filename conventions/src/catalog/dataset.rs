//! Resolving a grouping id into a dataset: its output variables, the input diagnostics each
//! one is read from, and where each input lives on the grid.
//!
//! Staggering comes from `available_diagnostics.log` when the metadata directory has one and
//! otherwise from the built-in table of `docs/mds-llc.md` 2.2; when both know a variable they
//! must agree. The `grid_location`/`grid_dimension` of the variable metadata JSON are only
//! cross-checked, and their known errors (2.3) are reported as corrections.

use std::fmt;

use super::error::CatalogError;
use super::groupings::{GroupingFrequency, Orientation, XyComponents};
use super::{Catalog, Slot};
use crate::staggering::{Staggering, Vertical, builtin_staggering};
use crate::time::Frequency;
use crate::vocab::{Dimension, ProductType};

/// Where a variable's location was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaggeringSource {
    /// `available_diagnostics.log` of the metadata directory.
    DiagnosticsLog,
    /// The built-in V4r4 table (`docs/mds-llc.md` 2.2).
    BuiltinTable,
}

impl fmt::Display for StaggeringSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StaggeringSource::DiagnosticsLog => "diagnostics log",
            StaggeringSource::BuiltinTable => "built-in V4r4 table",
        })
    }
}

/// One MDS input of an output variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputComponent {
    /// Diagnostic name: the MDS file prefix (`WVELMASS` for the output `WVEL`).
    pub name: String,
    /// Where the diagnostic lives.
    pub location: Staggering,
    /// `Levs` of the diagnostics log (for the cross-check against the `.meta`), `None` when
    /// the location came from the built-in table.
    pub levels: Option<u32>,
    /// Where the location was found.
    pub source: StaggeringSource,
}

/// How an output variable is built from its inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableKind {
    /// Read from one diagnostic (possibly renamed).
    Direct,
    /// Lat-lon east/north component computed from model x/y components (`docs/regridding.md` 1).
    Vector {
        /// Input along model x.
        x: String,
        /// Input along model y.
        y: String,
        /// Which rotated component to keep.
        orientation: Orientation,
    },
}

/// One output variable of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputVariable {
    /// Name in the granule (and for the attribute lookup): `WVEL`, `EVEL`, `THETA`.
    pub output_name: String,
    /// Inputs: one for a direct variable, x then y for a vector variable.
    pub inputs: Vec<InputComponent>,
    /// Direct or vector.
    pub kind: VariableKind,
}

impl OutputVariable {
    /// True for lat-lon vector variables.
    pub fn is_vector(&self) -> bool {
        matches!(self.kind, VariableKind::Vector { .. })
    }

    /// The location of the (first) input.
    pub fn location(&self) -> Option<Staggering> {
        self.inputs.first().map(|i| i.location)
    }
}

/// What a metadata correction is about (`docs/mds-llc.md` 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorrectionKind {
    /// `grid_location` names the wrong horizontal point (EXFtaux `u`, data at centres).
    HorizontalLocation,
    /// `grid_location` is absent (ADVy_SLT, EXFqnet, ...).
    MissingLocation,
    /// `grid_location` is `c` without the vertical location `k_l`/`k_u` (WVELMASS, ...).
    VerticalLocation,
    /// `grid_dimension` is wrong (ADVxHEFF `3D`, oceSPtnd `2D`, ...).
    Dimension,
}

/// A disagreement between the variable metadata JSON and the staggering source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataCorrection {
    /// Input variable name.
    pub variable: String,
    /// What is corrected.
    pub kind: CorrectionKind,
    /// The metadata value (`absent` when missing).
    pub metadata: String,
    /// The value used instead.
    pub corrected: String,
    /// Where the corrected value comes from.
    pub source: StaggeringSource,
}

impl fmt::Display for MetadataCorrection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match self.kind {
            CorrectionKind::Dimension => "grid_dimension",
            _ => "grid_location",
        };
        write!(
            f,
            "{}: variable metadata {key} '{}' corrected to '{}' ({})",
            self.variable, self.metadata, self.corrected, self.source
        )
    }
}

/// A grouping resolved into output variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Grouping id (position in the groupings file).
    pub grouping_id: usize,
    /// Product type.
    pub product: ProductType,
    /// Grouping `name`.
    pub name: String,
    /// Grouping `filename`: granule prefix and directory.
    pub filename: String,
    /// Grouping `dimension`.
    pub dimension: Dimension,
    /// Grouping `frequency` list.
    pub frequencies: Vec<GroupingFrequency>,
    /// Grouping `comment`.
    pub comment: Option<String>,
    /// Grouping `dataset_description`.
    pub dataset_description: Option<String>,
    /// Output variables in EDP order: the `fields` order, with renamed variables moved to the
    /// end (`docs/edp-compatibility.md` 4.5).
    pub variables: Vec<OutputVariable>,
    /// `field_components` of the grouping, verbatim (for the task's dynamic metadata).
    pub field_components: Vec<(String, XyComponents)>,
    /// `field_orientations` of the grouping, verbatim.
    pub field_orientations: Vec<(String, Orientation)>,
    /// Known errors of the variable metadata that the staggering source corrects.
    pub corrections: Vec<MetadataCorrection>,
    /// Known defects of the grouping repaired by a rule of [`super::RepairKind`] (granule
    /// prefix or frequencies from the PO.DAAC table, variable attributes from the
    /// diagnostics log); empty when `LoadOptions::repair` is off.
    pub repairs: Vec<super::MetadataRepair>,
}

impl Dataset {
    /// True when the grouping lists `frequency`.
    pub fn supports(&self, frequency: Frequency) -> bool {
        self.frequencies
            .iter()
            .any(|f| f.job_frequency() == frequency)
    }

    /// True for time-invariant groupings (`TI`), which are not produced from jobs.
    pub fn is_time_invariant(&self) -> bool {
        self.frequencies.contains(&GroupingFrequency::TimeInvariant)
    }

    /// Output variable names, in order.
    pub fn output_names(&self) -> Vec<&str> {
        self.variables
            .iter()
            .map(|v| v.output_name.as_str())
            .collect()
    }

    /// The output variable called `name`.
    pub fn variable(&self, name: &str) -> Option<&OutputVariable> {
        self.variables.iter().find(|v| v.output_name == name)
    }

    /// Every input diagnostic once, in first-use order.
    pub fn input_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for input in self.variables.iter().flat_map(|v| &v.inputs) {
            if !names.contains(&input.name.as_str()) {
                names.push(&input.name);
            }
        }
        names
    }

    /// True when at least one output variable is a vector variable.
    pub fn has_vectors(&self) -> bool {
        self.variables.iter().any(OutputVariable::is_vector)
    }
}

impl Catalog {
    /// Where diagnostic `variable` lives: from the diagnostics log when it lists the variable
    /// (cross-checked against the built-in table), else from the built-in table.
    pub fn locate(&self, variable: &str) -> Result<InputComponent, CatalogError> {
        let builtin = builtin_staggering(variable);
        if let Some((path, table)) = self.diagnostics()
            && let Some(entry) = table.get(variable)
        {
            let location = entry.staggering().map_err(|source| CatalogError::BadCode {
                path: path.to_path_buf(),
                source,
            })?;
            if let Some(builtin) = builtin
                && builtin != location
            {
                return Err(CatalogError::StaggeringConflict {
                    variable: variable.to_string(),
                    log: location,
                    builtin,
                    path: path.to_path_buf(),
                });
            }
            return Ok(InputComponent {
                name: variable.to_string(),
                location,
                levels: Some(entry.levels),
                source: StaggeringSource::DiagnosticsLog,
            });
        }
        match builtin {
            Some(location) => Ok(InputComponent {
                name: variable.to_string(),
                location,
                levels: None,
                source: StaggeringSource::BuiltinTable,
            }),
            None => Err(CatalogError::UnknownStaggering {
                variable: variable.to_string(),
                searched: match self.diagnostics() {
                    Some((path, _)) => {
                        format!("not in {} nor in the built-in V4r4 table", path.display())
                    }
                    None => format!(
                        "{} has no {} and the built-in V4r4 table does not list it",
                        self.dir.display(),
                        super::DIAGNOSTICS_LOG_FILENAME
                    ),
                },
            }),
        }
    }

    /// Resolves grouping `id` of `product` into a dataset.
    pub fn dataset(&self, product: ProductType, id: i64) -> Result<Dataset, CatalogError> {
        let grouping = self.grouping(product, id)?;
        let fail = |reason: String| -> CatalogError {
            CatalogError::InvalidGrouping {
                product,
                id: grouping.id,
                filename: grouping.filename.clone(),
                path: self
                    .groupings_path(product)
                    .map(|p| p.to_path_buf())
                    .unwrap_or_default(),
                reason,
            }
        };
        let dimension = Dimension::parse(&grouping.dimension).ok_or_else(|| {
            fail(format!(
                "dimension '{}' cannot be produced, expected '2D' or '3D'",
                grouping.dimension
            ))
        })?;
        for (old, _) in &grouping.variable_rename {
            if !grouping.fields.contains(old) {
                return Err(fail(format!(
                    "variable_rename names '{old}', which is not in fields"
                )));
            }
        }
        for (var, _) in &grouping.field_orientations {
            if !grouping.field_components.iter().any(|(v, _)| v == var) {
                return Err(fail(format!(
                    "field_orientations names '{var}', which has no field_components"
                )));
            }
        }

        let mut direct = Vec::new();
        let mut renamed = Vec::new();
        let mut corrections = Vec::new();
        for field in &grouping.fields {
            let components = grouping.field_components.iter().find(|(v, _)| v == field);
            let variable = match components {
                Some((_, xy)) => {
                    let orientation = grouping
                        .field_orientations
                        .iter()
                        .find(|(v, _)| v == field)
                        .map(|(_, o)| *o)
                        .ok_or_else(|| {
                            fail(format!(
                                "vector field '{field}' has no field_orientations entry"
                            ))
                        })?;
                    OutputVariable {
                        output_name: field.clone(),
                        inputs: vec![self.locate(&xy.x)?, self.locate(&xy.y)?],
                        kind: VariableKind::Vector {
                            x: xy.x.clone(),
                            y: xy.y.clone(),
                            orientation,
                        },
                    }
                }
                None => OutputVariable {
                    output_name: grouping.output_name(field).to_string(),
                    inputs: vec![self.locate(field)?],
                    kind: VariableKind::Direct,
                },
            };
            for input in &variable.inputs {
                if input.location.dimension() != dimension {
                    return Err(fail(format!(
                        "grouping is {dimension} but {} lives at {} ({}, {})",
                        input.name,
                        input.location,
                        input.location.dimension(),
                        input.source
                    )));
                }
                if !corrections
                    .iter()
                    .any(|c: &MetadataCorrection| c.variable == input.name)
                {
                    corrections.extend(self.cross_check(input)?);
                }
            }
            if variable.output_name != *field && components.is_none() {
                renamed.push(variable);
            } else {
                direct.push(variable);
            }
        }
        direct.extend(renamed);
        for (i, v) in direct.iter().enumerate() {
            if direct[..i].iter().any(|w| w.output_name == v.output_name) {
                return Err(fail(format!(
                    "output variable '{}' appears twice",
                    v.output_name
                )));
            }
        }
        let groupings_path = self.groupings_path(product)?.to_path_buf();
        let (filename, frequencies, mut repairs) = match self.podaac.loaded() {
            Some(table) if self.repair => {
                let resolved = super::repair::resolve_with_podaac(
                    table,
                    product,
                    grouping.id,
                    &grouping.filename,
                    &grouping.frequencies,
                    &groupings_path,
                );
                (resolved.filename, resolved.frequencies, resolved.repairs)
            }
            _ => (
                grouping.filename.clone(),
                grouping.frequencies.clone(),
                Vec::new(),
            ),
        };
        if self.repair {
            for variable in &direct {
                if let Some(repair) =
                    self.variable_metadata_repair(product, &variable.output_name)?
                {
                    repairs.push(repair);
                }
            }
        }
        Ok(Dataset {
            grouping_id: grouping.id,
            product,
            name: grouping.name.clone(),
            filename,
            dimension,
            frequencies,
            comment: grouping.comment.clone(),
            dataset_description: grouping.dataset_description.clone(),
            variables: direct,
            field_components: grouping.field_components.clone(),
            field_orientations: grouping.field_orientations.clone(),
            corrections,
            repairs,
        })
    }

    /// The granule prefix of grouping `id`: its `filename`, or the PO.DAAC table's name of the
    /// dataset ([`super::RepairKind::FilenameFromPodaac`]).
    pub fn granule_prefix(&self, product: ProductType, id: usize) -> Result<String, CatalogError> {
        let grouping = self.grouping(product, id as i64)?;
        match self.podaac.loaded() {
            Some(table) if self.repair => Ok(super::repair::resolve_with_podaac(
                table,
                product,
                grouping.id,
                &grouping.filename,
                &grouping.frequencies,
                self.groupings_path(product)?,
            )
            .filename),
            _ => Ok(grouping.filename.clone()),
        }
    }

    /// [`super::RepairKind::GroupingFromPodaac`]: appends to the groupings of a product a copy
    /// of each scalar grouping of the other product whose dataset the PO.DAAC table lists for
    /// this product although no grouping of it produces it (V4r5: lat-lon ICE_SHELF_FLUX and
    /// ICE_FRONT_FLUX). The copies get the next ids; their frequencies come from the table.
    pub(super) fn add_podaac_only_groupings(&mut self) -> Result<(), CatalogError> {
        let Some(table) = self.podaac.loaded().cloned() else {
            return Ok(());
        };
        for (product, other) in [
            (ProductType::Latlon, ProductType::Native),
            (ProductType::Native, ProductType::Latlon),
        ] {
            let (Ok(own_path), Ok(other_list)) =
                (self.groupings_path(product), self.groupings(other))
            else {
                continue;
            };
            let own_path = own_path.to_path_buf();
            let other_path = self.groupings_path(other)?.to_path_buf();
            let own_prefixes: Vec<String> = (0..self.groupings(product)?.len())
                .map(|id| self.granule_prefix(product, id))
                .collect::<Result<_, _>>()?;
            let mut added = Vec::new();
            for g in other_list {
                if !g.field_components.is_empty() {
                    continue;
                }
                let prefix = super::repair::resolve_with_podaac(
                    &table,
                    other,
                    g.id,
                    &g.filename,
                    &g.frequencies,
                    &other_path,
                )
                .filename;
                let listed = super::repair::podaac_frequencies(&table, &prefix, product);
                if listed.is_empty() || own_prefixes.contains(&prefix) {
                    continue;
                }
                let mut copy = g.clone();
                copy.filename = prefix.clone();
                copy.product = Some(product.as_str().to_string());
                copy.frequencies = Vec::new();
                added.push((copy, g.id, prefix));
            }
            let mut repairs = Vec::new();
            if let Slot::Loaded((_, list)) = self.groupings_component_mut(product) {
                for (mut copy, from, prefix) in added {
                    copy.id = list.len();
                    repairs.push(super::MetadataRepair {
                        kind: super::RepairKind::GroupingFromPodaac,
                        path: own_path.clone(),
                        detail: format!(
                            "{} lists {product} datasets {prefix} but no {product} grouping \
                             produces them; {product} grouping {} is {other} grouping {from}'s \
                             fields",
                            table.path.display(),
                            copy.id
                        ),
                    });
                    list.push(copy);
                }
            }
            self.repairs.extend(repairs);
        }
        Ok(())
    }

    /// The grouping variables without variable metadata that the diagnostics log describes.
    pub(super) fn find_log_described(&self) -> std::collections::BTreeSet<(ProductType, String)> {
        let mut found = std::collections::BTreeSet::new();
        let Some((_, table)) = self.diagnostics() else {
            return found;
        };
        for product in [ProductType::Native, ProductType::Latlon] {
            for g in self.groupings(product).unwrap_or_default() {
                for field in &g.fields {
                    let name = g.output_name(field);
                    if table.get(name).is_some()
                        && !self.has_variable_metadata(product, name).unwrap_or(true)
                    {
                        found.insert((product, name.to_string()));
                    }
                }
            }
        }
        found
    }

    /// The attributes of a variable that has no variable metadata entry, from the
    /// diagnostics log ([`super::RepairKind::VariableMetadataFromLog`]): `long_name` (the
    /// log's title) and `units`. `None` when the variable has metadata, repairs are off, or the
    /// log does not list it.
    pub fn log_variable_keys(
        &self,
        product: ProductType,
        name: &str,
    ) -> Result<Option<Vec<(String, serde_json::Value)>>, CatalogError> {
        if !self.log_described.contains(&(product, name.to_string())) {
            return Ok(None);
        }
        let Some((_, table)) = self.diagnostics() else {
            return Ok(None);
        };
        let Some(entry) = table.get(name) else {
            return Ok(None);
        };
        let mut keys = vec![(
            "long_name".to_string(),
            serde_json::Value::String(entry.title.clone()),
        )];
        if !entry.units.is_empty() {
            keys.push((
                "units".to_string(),
                serde_json::Value::String(entry.units.clone()),
            ));
        }
        keys.push((
            "coverage_content_type".to_string(),
            serde_json::Value::String("modelResult".to_string()),
        ));
        Ok(Some(keys))
    }

    /// True when the variable metadata (native list, plus the lat-lon list for lat-lon) has an
    /// entry called `name`.
    pub fn has_variable_metadata(
        &self,
        product: ProductType,
        name: &str,
    ) -> Result<bool, CatalogError> {
        if self.native_variable_entry(name)?.is_some() {
            return Ok(true);
        }
        Ok(product == ProductType::Latlon && self.latlon_variable_metadata()?.find(name).is_some())
    }

    fn variable_metadata_repair(
        &self,
        product: ProductType,
        name: &str,
    ) -> Result<Option<super::MetadataRepair>, CatalogError> {
        let Some(keys) = self.log_variable_keys(product, name)? else {
            return Ok(None);
        };
        let shown: Vec<String> = keys.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        Ok(Some(super::MetadataRepair {
            kind: super::RepairKind::VariableMetadataFromLog,
            path: self.variable_metadata()?.path.clone(),
            detail: format!(
                "no {product} variable metadata for '{name}'; attributes from the diagnostics \
                 log: {}",
                shown.join(", ")
            ),
        }))
    }

    /// Compares the variable metadata of an input with its staggering (`docs/mds-llc.md` 2.3).
    fn cross_check(&self, input: &InputComponent) -> Result<Vec<MetadataCorrection>, CatalogError> {
        let Some(entry) = self.variable_metadata()?.find(&input.name) else {
            return Ok(Vec::new());
        };
        let correction = |kind, metadata: &str, corrected: String| MetadataCorrection {
            variable: input.name.clone(),
            kind,
            metadata: metadata.to_string(),
            corrected,
            source: input.source,
        };
        let horizontal = input.location.horizontal.letter();
        let mut found = Vec::new();
        match entry.get_str("grid_location") {
            None => found.push(correction(
                CorrectionKind::MissingLocation,
                "absent",
                horizontal.to_string(),
            )),
            Some(meta) if meta.trim() != horizontal => found.push(correction(
                CorrectionKind::HorizontalLocation,
                meta,
                horizontal.to_string(),
            )),
            Some(meta) => {
                if let Some(z) = input.location.vertical.native_dim()
                    && input.location.vertical != Vertical::K
                {
                    found.push(correction(
                        CorrectionKind::VerticalLocation,
                        meta,
                        format!("{horizontal}, {z}"),
                    ));
                }
            }
        }
        let dimension = input.location.dimension().as_str();
        if let Some(meta) = entry.get_str("grid_dimension")
            && meta.trim() != dimension
        {
            found.push(correction(
                CorrectionKind::Dimension,
                meta,
                dimension.to_string(),
            ));
        }
        Ok(found)
    }
}
