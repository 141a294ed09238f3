//! Loading what planning needs from local folders or `s3://`: the metadata catalog, the
//! production configuration and job files or JSON job specs.
//!
//! Shared by the command line and the planner Lambda, so that both accept the same inputs.

use edp_conventions::catalog::{CatalogError, LoadOptions, is_catalog_file};
use edp_conventions::{Catalog, ConfigError, ProductionConfig};
use edp_store::{Location, LocationError, Store, StoreError};
use edp_task_schemas::{Job, JobSpec, PayloadError, ProductType};
use futures::stream::{self, StreamExt, TryStreamExt};
use thiserror::Error;

use crate::jobfile::{
    GroupingCounts, JobFileError, JobFileWarning, ParseOptions, parse_job_file, validate,
};
use crate::state::IO_CONCURRENCY;

/// Why an input of planning could not be loaded.
#[derive(Debug, Error)]
pub enum SourceError {
    /// A location that does not parse.
    #[error("invalid location {given:?}: {source}")]
    Location {
        /// As given.
        given: String,
        /// Why.
        #[source]
        source: LocationError,
    },
    /// Reading from the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The metadata catalog is invalid or incomplete.
    #[error("metadata {location}: {source}")]
    Catalog {
        /// The metadata location.
        location: String,
        /// The catalog error (boxed: it is large and errors are rare).
        #[source]
        source: Box<CatalogError>,
    },
    /// The metadata location holds no catalog file.
    #[error(
        "metadata location {location} holds no metadata file (*.json), expected a metadata directory"
    )]
    EmptyCatalog {
        /// The location.
        location: String,
    },
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A text file is not UTF-8.
    #[error("{location}: expected UTF-8 text, found invalid byte sequences")]
    NotUtf8 {
        /// The file.
        location: String,
    },
    /// The job file is invalid.
    #[error(transparent)]
    JobFile(#[from] JobFileError),
    /// The JSON job spec does not parse.
    #[error(
        "{file}: invalid job spec, expected {{\"jobs\": [{{\"grouping_id\": 0, \"product_type\": \"native\", \"frequency\": \"AVG_MON\", \"time_steps\": \"all\"}}], ...}}: {source}"
    )]
    JobSpec {
        /// The file.
        file: String,
        /// The parser error.
        #[source]
        source: serde_json::Error,
    },
    /// The job spec contradicts itself.
    #[error("{file}: {source}")]
    JobSpecContent {
        /// The file.
        file: String,
        /// The problem.
        #[source]
        source: PayloadError,
    },
    /// A job of a spec names a grouping the catalog does not have.
    #[error(
        "{file}: job {index} asks for {product} grouping {id}, but the catalog has {count} \
         (0..={last})"
    )]
    GroupingOutOfRange {
        /// The file.
        file: String,
        /// Job index.
        index: usize,
        /// Product type.
        product: ProductType,
        /// Grouping id asked for.
        id: u32,
        /// Groupings available.
        count: usize,
        /// Largest valid id.
        last: usize,
    },
}

/// Parses a location as given.
pub fn parse_location(given: &str) -> Result<Location, SourceError> {
    Location::parse(given).map_err(|source| SourceError::Location {
        given: given.to_string(),
        source,
    })
}

/// Reads a whole text object.
pub async fn read_text(store: &Store, location: &Location) -> Result<String, SourceError> {
    let bytes = store.get(location).await?;
    String::from_utf8(bytes.to_vec()).map_err(|_| SourceError::NotUtf8 {
        location: location.to_string(),
    })
}

/// Loads the metadata catalog at `given` (a local directory, or an `s3://` prefix whose files
/// are fetched: every object directly below it for which `is_catalog_file` is true).
pub async fn load_catalog(
    store: &Store,
    given: &str,
    options: &LoadOptions,
) -> Result<Catalog, SourceError> {
    let location = parse_location(given)?;
    let catalog_error = |source| SourceError::Catalog {
        location: given.to_string(),
        source: Box::new(source),
    };
    if let Some(path) = location.as_local_path() {
        return Catalog::load(path, options).map_err(catalog_error);
    }
    let objects: Vec<Location> = store
        .list(&location)
        .await?
        .into_iter()
        .filter_map(|o| {
            let relative = o.location.relative_to(&location)?;
            (!relative.contains('/') && is_catalog_file(&relative, options)).then_some(o.location)
        })
        .collect();
    if objects.is_empty() {
        return Err(SourceError::EmptyCatalog {
            location: location.to_string(),
        });
    }
    let files: Vec<(String, Vec<u8>)> =
        stream::iter(objects.into_iter().map(|object| async move {
            let bytes = store.get(&object).await?;
            let name = object.file_name().unwrap_or_default().to_string();
            Ok::<_, SourceError>((name, bytes.to_vec()))
        }))
        .buffer_unordered(IO_CONCURRENCY)
        .try_collect()
        .await?;
    Catalog::from_files(location.to_string(), files, options).map_err(catalog_error)
}

/// Loads the production configuration at `given`, or the built-in V4r4 one when `None`.
pub async fn load_config(
    store: &Store,
    given: Option<&str>,
) -> Result<ProductionConfig, SourceError> {
    let Some(given) = given else {
        return Ok(ProductionConfig::v4r4());
    };
    let location = parse_location(given)?;
    if let Some(path) = location.as_local_path() {
        return Ok(ProductionConfig::from_yaml_file(path)?);
    }
    let text = read_text(store, &location).await?;
    Ok(ProductionConfig::from_yaml_str(
        &text,
        &location.to_string(),
    )?)
}

/// Jobs read from a job file or a job spec.
#[derive(Debug, Clone)]
pub struct LoadedJobs {
    /// The jobs, validated against the catalog.
    pub jobs: Vec<Job>,
    /// Job-file warnings (skipped lines, duplicates).
    pub warnings: Vec<JobFileWarning>,
    /// The spec, when the text was a JSON job spec (its locations are defaults).
    pub spec: Option<JobSpec>,
}

/// The number of groupings per product type of a catalog.
pub fn grouping_counts(catalog: &Catalog) -> Result<GroupingCounts, CatalogError> {
    Ok(GroupingCounts {
        native: catalog.groupings(ProductType::Native)?.len(),
        latlon: catalog.groupings(ProductType::Latlon)?.len(),
    })
}

/// Parses jobs from text: a JSON job spec when the text starts with `{`, else an EDP job file.
/// Grouping ids are checked against `counts`. `file` names the text in messages.
pub fn parse_jobs(
    file: &str,
    text: &str,
    counts: &GroupingCounts,
    options: &ParseOptions,
) -> Result<LoadedJobs, SourceError> {
    if text.trim_start().starts_with('{') {
        let spec = parse_job_spec(file, text)?;
        check_grouping_ids(file, &spec.jobs, counts)?;
        return Ok(LoadedJobs {
            jobs: spec.jobs.clone(),
            warnings: Vec::new(),
            spec: Some(spec),
        });
    }
    let parsed = parse_job_file(file, text, options)?;
    let jobs = validate(file, &parsed.jobs, counts)?;
    Ok(LoadedJobs {
        jobs,
        warnings: parsed.warnings,
        spec: None,
    })
}

/// Parses and checks a JSON job spec.
pub fn parse_job_spec(file: &str, text: &str) -> Result<JobSpec, SourceError> {
    let spec: JobSpec = serde_json::from_str(text).map_err(|source| SourceError::JobSpec {
        file: file.to_string(),
        source,
    })?;
    spec.check().map_err(|source| SourceError::JobSpecContent {
        file: file.to_string(),
        source,
    })?;
    Ok(spec)
}

/// Checks the grouping ids of structured jobs against the catalog.
pub fn check_grouping_ids(
    file: &str,
    jobs: &[Job],
    counts: &GroupingCounts,
) -> Result<(), SourceError> {
    for (index, job) in jobs.iter().enumerate() {
        let count = counts.of(job.product_type);
        if job.grouping_id as usize >= count {
            return Err(SourceError::GroupingOutOfRange {
                file: file.to_string(),
                index,
                product: job.product_type,
                id: job.grouping_id,
                count,
                last: count.saturating_sub(1),
            });
        }
    }
    Ok(())
}
