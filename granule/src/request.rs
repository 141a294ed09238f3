//! A task resolved against the metadata catalog: everything the writers need to know about one
//! granule, independent of the task-list wire format.
//!
//! Build it from a task ([`GranuleRequest::from_task`], EDP Gen B/C task lists with or without
//! our `edp` key) or from explicit values ([`GranuleRequest::new`], used by `edp granule`, the
//! tests and the benchmark).

use edp_conventions::attrs::{DynamicMetadata, granule_name_and_metadata};
use edp_conventions::naming::{GranuleName, MdsFileName, granule_path};
use edp_conventions::{Catalog, Frequency, ProductType, ProductionConfig};
use edp_task_schemas::Task;

use crate::error::{GranuleError, Result};

/// One input component: a `.data` location and its `.meta` location.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InputRef {
    /// The `.data` location (path or `s3://` URI).
    pub data: String,
    /// The `.meta` location.
    pub meta: String,
}

impl InputRef {
    /// A pair of locations.
    pub fn new(data: impl Into<String>, meta: impl Into<String>) -> InputRef {
        InputRef {
            data: data.into(),
            meta: meta.into(),
        }
    }
}

/// One output variable of the request and its inputs (one pair for direct variables, x then
/// y for lat-lon vector variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestVariable {
    /// Output variable name (`WVEL`, not `WVELMASS`).
    pub name: String,
    /// Input components.
    pub inputs: Vec<InputRef>,
}

/// Everything needed to produce one granule.
#[derive(Debug, Clone, PartialEq)]
pub struct GranuleRequest {
    /// Output grid.
    pub product: ProductType,
    /// Grouping id within the groupings of `product`.
    pub grouping_id: usize,
    /// Output frequency.
    pub frequency: Frequency,
    /// Model time step of the inputs.
    pub step: u64,
    /// Granule file name (`product_name`; PO.DAAC lookup key).
    pub granule_name: String,
    /// Output variables present in this granule, in task order (the writer orders them as
    /// the grouping does). A partial granule lists only some of the grouping's variables.
    pub variables: Vec<RequestVariable>,
    /// Per-granule metadata (authoritative for coverage times, comment and summary).
    pub dynamic: DynamicMetadata,
    /// Task id (`edp.task_id`) when known; written as `edp_task_id`.
    pub task_id: Option<String>,
}

impl GranuleRequest {
    /// A request from explicit values: the file name and the dynamic metadata are computed
    /// from the catalog and the configuration, as the planner would.
    pub fn new(
        catalog: &Catalog,
        config: &ProductionConfig,
        product: ProductType,
        grouping_id: usize,
        frequency: Frequency,
        step: u64,
        variables: Vec<RequestVariable>,
    ) -> Result<GranuleRequest> {
        let dataset = catalog.dataset(product, grouping_id as i64)?;
        let (granule_name, dynamic) = granule_name_and_metadata(&dataset, config, frequency, step)?;
        Ok(GranuleRequest {
            product,
            grouping_id,
            frequency,
            step,
            granule_name,
            variables,
            dynamic,
            task_id: None,
        })
    }

    /// Resolves a task. With our `edp` key the product, grouping, frequency and step come
    /// from it (and must agree with the granule name); without it (task lists written by EDP)
    /// they are derived from the granule name (`docs/naming.md` 1), the grouping whose
    /// `filename` it starts with, and the 10-digit step of the input file names.
    pub fn from_task(task: &Task, catalog: &Catalog) -> Result<GranuleRequest> {
        let granule_name = base_name(&task.granule).to_string();
        let invalid = |reason: String| GranuleError::InvalidTask {
            granule: task.granule.clone(),
            reason,
        };
        let parsed = GranuleName::parse(&granule_name)?;
        let variables: Vec<RequestVariable> = task
            .variables
            .iter()
            .map(|(name, pairs)| RequestVariable {
                name: name.clone(),
                inputs: pairs
                    .iter()
                    .map(|p| InputRef::new(&p.data, &p.meta))
                    .collect(),
            })
            .collect();

        let (product, frequency, grouping_id, step) = match &task.edp {
            Some(info) => {
                let (product, frequency) = (info.product_type, info.frequency);
                if parsed.product != product || parsed.period.frequency() != frequency {
                    return Err(invalid(format!(
                        "edp.product_type/frequency say {product}/{frequency}, the granule name \
                         says {}/{}",
                        parsed.product,
                        parsed.period.frequency()
                    )));
                }
                (
                    product,
                    frequency,
                    info.grouping_id as usize,
                    info.time_step,
                )
            }
            None => {
                let id = find_grouping(catalog, &parsed, &variables).map_err(&invalid)?;
                let step = input_step(&variables).map_err(&invalid)?;
                (parsed.product, parsed.period.frequency(), id, step)
            }
        };

        let dynamic = task.dynamic_metadata.clone();
        for (name, orientation) in dynamic.field_orientations.iter().flatten() {
            if !matches!(orientation.as_str(), "zonal" | "meridional") {
                return Err(invalid(format!(
                    "field_orientations[{name}]: expected 'zonal' or 'meridional', found \
                     '{orientation}'"
                )));
            }
        }
        Ok(GranuleRequest {
            product,
            grouping_id,
            frequency,
            step,
            granule_name,
            variables,
            dynamic,
            task_id: task.edp.as_ref().map(|e| e.task_id.clone()),
        })
    }

    /// The granule location in the EDP layout below `dest_root`
    /// (`<dest_root>/<ecco_version>/<native|latlon>/<period>/<GROUPING>/<name>`).
    pub fn edp_path(&self, dest_root: &str) -> Result<String> {
        let name = GranuleName::parse(&self.granule_name)?;
        Ok(granule_path(
            dest_root,
            &name.ecco_version,
            self.product,
            self.frequency,
            &name.prefix,
            &self.granule_name,
        ))
    }

    /// Every input location (data then meta of each component), in variable order.
    pub fn input_locations(&self) -> Vec<&str> {
        self.variables
            .iter()
            .flat_map(|v| &v.inputs)
            .flat_map(|i| [i.data.as_str(), i.meta.as_str()])
            .collect()
    }
}

/// The last `/`-separated part of a path or URI.
pub(crate) fn base_name(location: &str) -> &str {
    location.rsplit('/').next().unwrap_or(location)
}

/// The grouping of `parsed.product` whose `filename` is the granule-name prefix; when several
/// share it, the one whose output variables include all of the task's.
fn find_grouping(
    catalog: &Catalog,
    parsed: &GranuleName,
    variables: &[RequestVariable],
) -> std::result::Result<usize, String> {
    let groupings = catalog
        .groupings(parsed.product)
        .map_err(|e| e.to_string())?;
    let candidates: Vec<usize> = groupings
        .iter()
        .filter(|g| {
            // The prefix may be the PO.DAAC table's name of the dataset (a repaired grouping
            // filename, e.g. V4r5 OCEAN_3D_VOLUME_FLUX -> OCEAN_VOLUME_FLUX).
            g.filename == parsed.prefix
                || catalog
                    .granule_prefix(parsed.product, g.id)
                    .is_ok_and(|p| p == parsed.prefix)
        })
        .map(|g| g.id)
        .collect();
    let fits = |id: usize| {
        catalog
            .dataset(parsed.product, id as i64)
            .map(|d| variables.iter().all(|v| d.variable(&v.name).is_some()))
            .unwrap_or(false)
    };
    match candidates.as_slice() {
        [] => Err(format!(
            "no {} grouping has filename '{}' (from the granule name)",
            parsed.product, parsed.prefix
        )),
        [one] => Ok(*one),
        many => {
            let fitting: Vec<usize> = many.iter().copied().filter(|id| fits(*id)).collect();
            match fitting.as_slice() {
                [one] => Ok(*one),
                _ => Err(format!(
                    "{} {} groupings have filename '{}' (ids {:?}); expected exactly one \
                     holding the task's variables, found {}",
                    many.len(),
                    parsed.product,
                    parsed.prefix,
                    many,
                    fitting.len()
                )),
            }
        }
    }
}

/// The common time step of the input `.data` file names (`<VAR>_<period>.<ts10>.data`).
fn input_step(variables: &[RequestVariable]) -> std::result::Result<u64, String> {
    let mut step = None;
    for input in variables.iter().flat_map(|v| &v.inputs) {
        let Some(name) = MdsFileName::parse_location(&input.data) else {
            return Err(format!(
                "input {} is not named <VAR>_<period>.<ts10>.data, so the time step is unknown \
                 (tasks without the 'edp' key need EDP file names)",
                input.data
            ));
        };
        match step {
            None => step = Some(name.step),
            Some(s) if s != name.step => {
                return Err(format!(
                    "inputs have different time steps: {s} and {} ({})",
                    name.step, input.data
                ));
            }
            Some(_) => {}
        }
    }
    step.ok_or_else(|| "the task has no input files".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_name_works_for_paths_and_uris() {
        assert_eq!(base_name("s3://b/x/y.nc"), "y.nc");
        assert_eq!(base_name("y.nc"), "y.nc");
        assert_eq!(base_name("./a/b/y.nc"), "y.nc");
    }

    #[test]
    fn input_step_requires_one_common_step() {
        let var = |data: &str| RequestVariable {
            name: "X".into(),
            inputs: vec![InputRef::new(data, data.replace(".data", ".meta"))],
        };
        assert_eq!(
            input_step(&[var("d/SSH_mon_mean.0000000732.data")]),
            Ok(732)
        );
        let err = input_step(&[
            var("SSH_mon_mean.0000000732.data"),
            var("ETAN_mon_mean.0000001428.data"),
        ])
        .unwrap_err();
        assert!(err.contains("732 and 1428"), "{err}");
        assert!(input_step(&[var("ssh.bin")]).is_err());
        assert!(input_step(&[]).is_err());
    }
}
