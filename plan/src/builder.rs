//! Jobs + metadata catalog + configuration + inventory -> tasks, one per output granule,
//! exactly as EDP Gen C writes them (`docs/edp-compatibility.md` 2, 4.5, 4.6), plus our `edp` bookkeeping.
//!
//! For each job (grouping id, product type, frequency, steps):
//!
//! 1. the grouping is resolved by the catalog into output variables in EDP order (`fields`
//!    order, renamed variables moved to the end) and their input diagnostics (one for a direct
//!    variable, x then y for a lat-lon vector variable);
//! 2. each input diagnostic is looked up with the period token of the job frequency (for SNAP
//!    the first of `day_inst`/`day_snap`/`snap` or `mon_inst`/`mon_snap`/`snap` that has files,
//!    per the configuration's `snap_instants`);
//! 3. candidate steps: `'all'` = every step at which any input of the grouping has a file;
//!    an explicit list = exactly those steps (for local and S3 roots alike; EDP crashes on
//!    explicit steps with a local root, bug 7.2);
//! 4. **completeness**: a granule is planned only when every input it needs exists (every
//!    variable, both components of a vector variable, `.data` and `.meta`). Otherwise it is
//!    reported as [`Incomplete`] with the list of what is missing. With
//!    [`BuildOptions::allow_partial`] (EDP's behaviour, 4.5) a granule with at least one
//!    complete variable is planned with the complete variables only, and still reported;
//! 5. the task: granule path from `conventions::naming::granule_path` with the destination root
//!    as written, `[data, meta]` paths as written below the source root, the four locations
//!    copied, `dynamic_metadata` from `conventions::attrs::dynamic_metadata`, and `edp` with the
//!    task id ([`crate::task_id`]), kind, grouping, frequency, step, input sizes and ETags and
//!    the cost estimate ([`crate::cost`]).
//!
//! Warnings (never errors): a frequency the grouping does not list, a job that yields no task
//! (naming the directories searched), a step outside the model clock, granules planned twice
//! by repeated jobs (de-duplicated by granule path). Output order is by granule path.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use edp_conventions::attrs::granule_name_and_metadata;
use edp_conventions::catalog::CatalogError;
use edp_conventions::naming::{MdsFileKind, PeriodToken, granule_path, input_period_tokens};
use edp_conventions::{Catalog, Dataset, ProductionConfig};
use edp_task_schemas::{
    DynamicMetadata, EdpTaskInfo, Frequency, InputObject, InputPair, Job, ProductKind, Task,
    TimeSteps,
};
use indexmap::IndexMap;
use thiserror::Error;

use crate::cost::CostModel;
use crate::inventory::{FileInfo, Inventory};
use crate::task_id::task_id;

/// Version of the planner written into tasks and run records.
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The locations copied into every task (declared once, in `edp-task-schemas`).
pub use edp_task_schemas::TaskLocations;

/// How to build tasks.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Destination root as written in task lists (`./out`, `s3://bucket/products`).
    pub dest_root: String,
    /// Locations copied into the tasks.
    pub locations: TaskLocations,
    /// Plan granules with missing inputs from their complete variables (EDP's behaviour).
    pub allow_partial: bool,
    /// Cost model of the estimates.
    pub cost_model: CostModel,
    /// Hash of the production configuration (part of the task id).
    pub config_hash: String,
}

/// One input a granule needs and the inventory does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingInput {
    /// Output variable that needs it.
    pub variable: String,
    /// Input diagnostic (`UVEL` for `EVEL`).
    pub input: String,
    /// `.data` or `.meta`.
    pub kind: MdsFileKind,
    /// Where it was expected: beside its partner when the partner exists, else in EDP's
    /// layout `<root>/<freq_dir>/<VAR>_<period>/...`.
    pub path: String,
}

impl fmt::Display for MissingInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (for {})", self.path, self.variable)
    }
}

/// A granule whose inputs are not all there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incomplete {
    /// The granule path it would have.
    pub granule: String,
    /// The job that asked for it.
    pub job: Job,
    /// Model time step.
    pub step: u64,
    /// Everything missing.
    pub missing: Vec<MissingInput>,
    /// True when it was planned anyway from its complete variables ([`BuildOptions::allow_partial`]).
    pub planned_partial: bool,
}

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}: missing {}",
            self.granule,
            if self.planned_partial {
                " (planned partial)"
            } else {
                ""
            },
            self.missing
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Something the user should know that does not stop planning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildWarning {
    /// The grouping's `frequency` list does not contain the job's frequency.
    UnsupportedFrequency {
        /// The job, as a job-file line.
        job: String,
        /// Grouping `filename`.
        grouping: String,
        /// The frequencies the grouping lists.
        listed: String,
    },
    /// The job gave no task.
    NoTasks {
        /// The job, as a job-file line.
        job: String,
        /// The directories searched for its inputs.
        searched: Vec<String>,
        /// Granules found incomplete for it.
        incomplete: usize,
    },
    /// A step that is not a record of the model clock (e.g. after `model_end_time`).
    InvalidStep {
        /// The job, as a job-file line.
        job: String,
        /// The step.
        step: u64,
        /// Why.
        reason: String,
    },
    /// Granules of this job were already planned by an earlier job (duplicate job lines).
    DuplicateGranules {
        /// The job, as a job-file line.
        job: String,
        /// How many.
        count: usize,
        /// One of them.
        example: String,
    },
}

impl fmt::Display for BuildWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildWarning::UnsupportedFrequency {
                job,
                grouping,
                listed,
            } => write!(
                f,
                "job {job}: grouping {grouping} lists frequencies [{listed}], not the job's; \
                 the job usually finds no inputs"
            ),
            BuildWarning::NoTasks {
                job,
                searched,
                incomplete,
            } => write!(
                f,
                "job {job}: no granule to plan ({incomplete} incomplete); searched {}",
                searched.join(", ")
            ),
            BuildWarning::InvalidStep { job, step, reason } => {
                write!(f, "job {job}: step {step} skipped: {reason}")
            }
            BuildWarning::DuplicateGranules {
                job,
                count,
                example,
            } => write!(
                f,
                "job {job}: {count} granule(s) already planned by an earlier job (e.g. {example}), \
                 planned once"
            ),
        }
    }
}

/// Tasks, incomplete granules and warnings of a set of jobs.
#[derive(Debug, Clone, Default)]
pub struct BuildOutcome {
    /// One task per granule, sorted by granule path.
    pub tasks: Vec<Task>,
    /// Granules with missing inputs, sorted by granule path.
    pub incomplete: Vec<Incomplete>,
    /// Warnings, in job order.
    pub warnings: Vec<BuildWarning>,
}

/// Why tasks could not be built.
#[derive(Debug, Error)]
pub enum BuildError {
    /// The grouping of a job cannot be resolved by the catalog.
    #[error("job {job}: {source}")]
    Dataset {
        /// The job, as a job-file line.
        job: String,
        /// The catalog error (boxed: it is large and errors are rare).
        #[source]
        source: Box<CatalogError>,
    },
}

/// A job as an EDP job-file line, for messages: `[0, 'native', 'AVG_MON', 'all']`.
pub fn job_text(job: &Job) -> String {
    let steps = match &job.time_steps {
        TimeSteps::All => "'all'".to_string(),
        TimeSteps::Steps(steps) => format!(
            "[{}]",
            steps
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "[{}, '{}', '{}', {steps}]",
        job.grouping_id, job.product_type, job.frequency
    )
}

/// Builds the tasks of `jobs` from `inventory`.
pub fn build_tasks(
    jobs: &[Job],
    catalog: &Catalog,
    config: &ProductionConfig,
    inventory: &Inventory,
    options: &BuildOptions,
) -> Result<BuildOutcome, BuildError> {
    let mut tasks: BTreeMap<String, Task> = BTreeMap::new();
    let mut incomplete: BTreeMap<String, Incomplete> = BTreeMap::new();
    let mut warnings = Vec::new();
    for job in jobs {
        let text = job_text(job);
        let dataset = catalog
            .dataset(job.product_type, i64::from(job.grouping_id))
            .map_err(|source| BuildError::Dataset {
                job: text.clone(),
                source: Box::new(source),
            })?;
        let builder = JobBuilder::new(job, text, &dataset, config, inventory, options);
        builder.build(&mut tasks, &mut incomplete, &mut warnings);
    }
    Ok(BuildOutcome {
        tasks: tasks.into_values().collect(),
        incomplete: incomplete.into_values().collect(),
        warnings,
    })
}

/// Every `(input diagnostic, period token)` series the jobs may read: what a planner of these
/// jobs has to list ([`crate::inventory::Inventory::from_prefixes`]).
pub fn job_searches(
    jobs: &[Job],
    catalog: &Catalog,
    config: &ProductionConfig,
) -> Result<BTreeSet<(String, PeriodToken)>, BuildError> {
    let mut searches = BTreeSet::new();
    for job in jobs {
        let dataset = job_dataset(job, catalog)?;
        let tokens = input_period_tokens(job.frequency, config.snap_instants);
        for input in dataset.variables.iter().flat_map(|v| v.inputs.iter()) {
            for token in tokens {
                searches.insert((input.name.clone(), *token));
            }
        }
    }
    Ok(searches)
}

/// The dataset a job produces.
pub fn job_dataset(job: &Job, catalog: &Catalog) -> Result<Dataset, BuildError> {
    catalog
        .dataset(job.product_type, i64::from(job.grouping_id))
        .map_err(|source| BuildError::Dataset {
            job: job_text(job),
            source: Box::new(source),
        })
}

/// One input diagnostic of the dataset with the period token it is read with.
#[derive(Debug, Clone)]
struct ResolvedInput {
    name: String,
    period: PeriodToken,
}

/// The tasks of one job.
struct JobBuilder<'a> {
    job: &'a Job,
    text: String,
    dataset: &'a Dataset,
    config: &'a ProductionConfig,
    inventory: &'a Inventory,
    options: &'a BuildOptions,
    frequency: Frequency,
    /// Per output variable, its inputs.
    inputs: Vec<Vec<ResolvedInput>>,
    kind: ProductKind,
}

/// A granule being assembled.
#[derive(Default)]
struct Assembly {
    variables: IndexMap<String, Vec<InputPair>>,
    inputs: Vec<InputObject>,
    direct_components: usize,
    vector_components: usize,
    vector: bool,
    missing: Vec<MissingInput>,
}

impl<'a> JobBuilder<'a> {
    fn new(
        job: &'a Job,
        text: String,
        dataset: &'a Dataset,
        config: &'a ProductionConfig,
        inventory: &'a Inventory,
        options: &'a BuildOptions,
    ) -> JobBuilder<'a> {
        let frequency = job.frequency;
        let tokens = input_period_tokens(frequency, config.snap_instants);
        let inputs = dataset
            .variables
            .iter()
            .map(|variable| {
                variable
                    .inputs
                    .iter()
                    .map(|input| {
                        // The first accepted token with files; the first token when none has
                        // any (it then names the expected paths of the missing inputs).
                        let period = tokens
                            .iter()
                            .copied()
                            .find(|t| !inventory.steps(&input.name, *t).is_empty())
                            .or_else(|| tokens.first().copied())
                            .unwrap_or(PeriodToken::MonMean);
                        ResolvedInput {
                            name: input.name.clone(),
                            period,
                        }
                    })
                    .collect()
            })
            .collect();
        JobBuilder {
            job,
            text,
            dataset,
            config,
            inventory,
            options,
            frequency,
            inputs,
            kind: ProductKind::new(job.product_type, dataset.dimension),
        }
    }

    fn build(
        &self,
        tasks: &mut BTreeMap<String, Task>,
        incomplete: &mut BTreeMap<String, Incomplete>,
        warnings: &mut Vec<BuildWarning>,
    ) {
        if !self.dataset.supports(self.frequency) {
            warnings.push(BuildWarning::UnsupportedFrequency {
                job: self.text.clone(),
                grouping: self.dataset.filename.clone(),
                listed: self
                    .dataset
                    .frequencies
                    .iter()
                    .map(|f| f.job_frequency().as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let steps: BTreeSet<u64> = match &self.job.time_steps {
            // One granule, from the step-less inputs (step 0), whatever steps the job lists.
            _ if self.frequency.is_time_invariant() => BTreeSet::from([0]),
            TimeSteps::All => self
                .inputs
                .iter()
                .flatten()
                .flat_map(|input| self.inventory.steps(&input.name, input.period))
                .copied()
                .collect(),
            TimeSteps::Steps(list) => list.iter().copied().collect(),
        };

        let mut planned = 0usize;
        let mut incomplete_count = 0usize;
        let mut duplicates = 0usize;
        let mut example = None;
        for step in steps {
            let named = granule_name_and_metadata(self.dataset, self.config, self.frequency, step);
            let (name, metadata) = match named {
                Ok(named) => named,
                Err(err) => {
                    warnings.push(BuildWarning::InvalidStep {
                        job: self.text.clone(),
                        step,
                        reason: err.to_string(),
                    });
                    continue;
                }
            };
            let product = self.dataset.product;
            let granule = granule_path(
                &self.options.dest_root,
                &self.config.ecco_version,
                product,
                self.frequency,
                &self.dataset.filename,
                &name,
            );
            if tasks.contains_key(&granule) || incomplete.contains_key(&granule) {
                duplicates += 1;
                example.get_or_insert_with(|| granule.clone());
                continue;
            }

            let assembly = self.assemble(step);
            if !assembly.missing.is_empty() {
                let partial = self.options.allow_partial && !assembly.variables.is_empty();
                incomplete_count += 1;
                incomplete.insert(
                    granule.clone(),
                    Incomplete {
                        granule: granule.clone(),
                        job: self.job.clone(),
                        step,
                        missing: assembly.missing.clone(),
                        planned_partial: partial,
                    },
                );
                if !partial {
                    continue;
                }
            }
            let task = self.task(granule.clone(), step, assembly, metadata);
            tasks.insert(granule, task);
            planned += 1;
        }
        if duplicates > 0 {
            warnings.push(BuildWarning::DuplicateGranules {
                job: self.text.clone(),
                count: duplicates,
                example: example.unwrap_or_default(),
            });
        }
        if planned == 0 && duplicates == 0 {
            let mut searched: Vec<String> = self
                .inputs
                .iter()
                .flatten()
                .map(|input| self.inventory.search_dir(&input.name, input.period))
                .collect();
            searched.dedup();
            warnings.push(BuildWarning::NoTasks {
                job: self.text.clone(),
                searched,
                incomplete: incomplete_count,
            });
        }
    }

    /// Collects the inputs of every variable at `step`; variables with a missing input are
    /// left out and their missing files recorded.
    fn assemble(&self, step: u64) -> Assembly {
        let mut assembly = Assembly::default();
        for (variable, inputs) in self.dataset.variables.iter().zip(&self.inputs) {
            let mut pairs = Vec::with_capacity(inputs.len());
            let mut objects: Vec<FileInfo<'_>> = Vec::with_capacity(2 * inputs.len());
            let mut missing = Vec::new();
            for input in inputs {
                let files = self.inventory.at(&input.name, input.period, step);
                let data = files.and_then(|f| f.data).map(|id| self.inventory.file(id));
                let meta = files.and_then(|f| f.meta).map(|id| self.inventory.file(id));
                for (kind, found, partner) in [
                    (MdsFileKind::Data, &data, &meta),
                    (MdsFileKind::Meta, &meta, &data),
                ] {
                    if found.is_none() {
                        let path = match partner {
                            Some(partner) => partner.with_kind(kind).path(),
                            None => {
                                self.inventory
                                    .expected_path(&input.name, input.period, step, kind)
                            }
                        };
                        missing.push(MissingInput {
                            variable: variable.output_name.clone(),
                            input: input.name.clone(),
                            kind,
                            path,
                        });
                    }
                }
                if let (Some(data), Some(meta)) = (data, meta) {
                    pairs.push(InputPair::new(data.path(), meta.path()));
                    objects.push(data);
                    objects.push(meta);
                }
            }
            if !missing.is_empty() {
                assembly.missing.extend(missing);
                continue;
            }
            if variable.is_vector() {
                assembly.vector = true;
                assembly.vector_components += pairs.len();
            } else {
                assembly.direct_components += pairs.len();
            }
            for (object, location) in objects
                .iter()
                .zip(pairs.iter().flat_map(|p| [&p.data, &p.meta]))
            {
                if !assembly.inputs.iter().any(|i| &i.location == location) {
                    assembly.inputs.push(InputObject {
                        location: location.clone(),
                        size: Some(object.size),
                        etag: object.etag.map(str::to_string),
                    });
                }
            }
            assembly
                .variables
                .insert(variable.output_name.clone(), pairs);
        }
        assembly
    }

    fn task(
        &self,
        granule: String,
        step: u64,
        assembly: Assembly,
        dynamic_metadata: DynamicMetadata,
    ) -> Task {
        let locations = &self.options.locations;
        let cost = self.options.cost_model.estimate_parts(
            self.kind,
            assembly.direct_components,
            assembly.vector_components,
        );
        let mut task = Task {
            granule,
            variables: assembly.variables,
            ecco_cfg_loc: locations.cfg_loc.clone(),
            ecco_grid_loc: locations.grid_loc.clone(),
            ecco_mapping_factors_loc: locations.factors_loc.clone(),
            ecco_metadata_loc: locations.metadata_loc.clone(),
            dynamic_metadata,
            input_netcdf: None,
            strip_attributes: None,
            edp: Some(EdpTaskInfo {
                task_id: String::new(),
                product_kind: self.kind,
                vector: assembly.vector,
                grouping_id: self.job.grouping_id,
                product_type: self.job.product_type,
                frequency: self.job.frequency,
                time_step: step,
                inputs: assembly.inputs,
                cost_core_seconds: cost,
                config_hash: self.options.config_hash.clone(),
                software_version: SOFTWARE_VERSION.to_string(),
            }),
        };
        // The id hashes the content including the input sizes and ETags of `edp.inputs`.
        let id = task_id(&task, &self.options.config_hash);
        if let Some(edp) = task.edp.as_mut() {
            edp.task_id = id;
        }
        shrink(&mut task);
        task
    }
}

/// Drops the spare capacity of a task's collections and strings: a large plan holds about
/// 100,000 tasks of a few kilobytes each, and growth by doubling would waste a third of it.
fn shrink(task: &mut Task) {
    task.granule.shrink_to_fit();
    task.variables.shrink_to_fit();
    let metadata = &mut task.dynamic_metadata;
    for text in [
        &mut metadata.time_coverage_start,
        &mut metadata.time_coverage_end,
        &mut metadata.time_coverage_center,
        &mut metadata.summary,
    ] {
        text.shrink_to_fit();
    }
    if let Some(edp) = task.edp.as_mut() {
        edp.inputs.shrink_to_fit();
    }
}

/// Sum of the input sizes of a task (from `edp.inputs`; 0 when unknown).
pub fn task_input_bytes(task: &Task) -> u64 {
    task.edp
        .iter()
        .flat_map(|edp| edp.inputs.iter())
        .filter_map(|input| input.size)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use edp_task_schemas::ProductType;

    #[test]
    fn job_text_is_a_job_file_line() {
        let job = Job {
            grouping_id: 11,
            product_type: ProductType::Latlon,
            frequency: Frequency::AvgDay,
            time_steps: TimeSteps::Steps(vec![12, 36]),
        };
        assert_eq!(job_text(&job), "[11, 'latlon', 'AVG_DAY', [12, 36]]");
    }
}
