//! The shared resources of the tasks (grid, metadata catalog, production configuration),
//! loaded once per location for the whole process, from local folders or `s3://`.
//!
//! Remote grid directories are downloaded into the cache folder first (the grid reader works
//! on files); remote metadata directories and configurations are read into memory. A failed
//! load is remembered too, so that a shard whose grid is missing fails every task at once
//! instead of downloading again for each.
//!
//! The lat-lon weights (`ecco_mapping_factors_loc`) join here when the lat-lon writer lands.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edp_conventions::catalog::LoadOptions;
use edp_conventions::{Catalog, ProductionConfig};
use edp_granule::{ResourceCache, Resources};
use edp_grid::Grid;
use edp_plan::builder::TaskLocations;
use edp_plan::sources::{load_catalog, load_config};
use edp_store::{Location, Store};
use edp_task_schemas::Task;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::failure::Failure;

type Memo<T> = Mutex<HashMap<String, Result<Arc<T>, Failure>>>;

/// Loads and caches the resources of tasks (cheap to share between concurrent tasks).
#[derive(Debug)]
pub struct WorkerResources {
    store: Store,
    cache_dir: PathBuf,
    defaults: TaskLocations,
    grids: Arc<ResourceCache>,
    grid_dirs: Mutex<HashMap<String, Result<PathBuf, Failure>>>,
    catalogs: Memo<Catalog>,
    configs: Memo<ProductionConfig>,
}

/// The locations a task's resources come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceLocations {
    /// Grid directory (or grid-geometry `.nc`).
    pub grid: String,
    /// Metadata directory.
    pub metadata: String,
    /// Configuration YAML; `None` for the built-in V4r4 configuration.
    pub config: Option<String>,
}

impl WorkerResources {
    /// A cache using `store` for remote locations and `cache_dir` for downloads; `defaults`
    /// fill in locations the tasks do not carry.
    pub fn new(store: Store, cache_dir: PathBuf, defaults: TaskLocations) -> WorkerResources {
        WorkerResources {
            store,
            cache_dir,
            defaults,
            grids: Arc::new(ResourceCache::new()),
            grid_dirs: Mutex::new(HashMap::new()),
            catalogs: Mutex::new(HashMap::new()),
            configs: Mutex::new(HashMap::new()),
        }
    }

    /// The resource locations of `task`: its own, else the defaults. A task without a grid
    /// or metadata location (and no default) is a permanent failure.
    pub fn locations(&self, task: &Task) -> Result<ResourceLocations, Failure> {
        let pick = |own: &Option<String>, default: &Option<String>, what: &str, flag: &str| {
            own.clone()
                .filter(|s| !s.is_empty())
                .or_else(|| default.clone())
                .ok_or_else(|| {
                    Failure::permanent(format!(
                        "task {} has no {what} and no default was given ({flag})",
                        task.granule
                    ))
                })
        };
        Ok(ResourceLocations {
            grid: pick(
                &task.ecco_grid_loc,
                &self.defaults.grid_loc,
                "ecco_grid_loc",
                "--grid",
            )?,
            metadata: pick(
                &task.ecco_metadata_loc,
                &self.defaults.metadata_loc,
                "ecco_metadata_loc",
                "--metadata",
            )?,
            config: task
                .ecco_cfg_loc
                .clone()
                .filter(|s| !s.is_empty())
                .or_else(|| self.defaults.cfg_loc.clone()),
        })
    }

    /// The resources of `task`, loading what is not cached yet.
    pub async fn for_task(&self, task: &Task) -> Result<(Resources, ResourceLocations), Failure> {
        let locations = self.locations(task)?;
        let config = self.config(locations.config.as_deref()).await?;
        let catalog = self
            .catalog(&locations.metadata, &config.podaac_metadata_filename)
            .await?;
        let grid = self.grid(&locations.grid).await?;
        Ok((Resources::new(grid, catalog, config), locations))
    }

    /// The production configuration at `given` (built-in V4r4 for `None`).
    pub async fn config(&self, given: Option<&str>) -> Result<Arc<ProductionConfig>, Failure> {
        let key = given.unwrap_or("<built-in V4r4>").to_string();
        let mut map = self.configs.lock().await;
        if let Some(found) = map.get(&key) {
            return found.clone();
        }
        let loaded = load_config(&self.store, given)
            .await
            .map(Arc::new)
            .map_err(|e| source_failure(&e, "configuration", &key));
        map.insert(key, loaded.clone());
        loaded
    }

    /// The metadata catalog at `given` (a local directory or an `s3://` prefix).
    pub async fn catalog(
        &self,
        given: &str,
        podaac_filename: &str,
    ) -> Result<Arc<Catalog>, Failure> {
        let key = format!("{given}\u{0}{podaac_filename}");
        let mut map = self.catalogs.lock().await;
        if let Some(found) = map.get(&key) {
            return found.clone();
        }
        let options = LoadOptions {
            podaac_filename: podaac_filename.to_string(),
            ..LoadOptions::default()
        };
        let loaded = load_catalog(&self.store, given, &options)
            .await
            .map(Arc::new)
            .map_err(|e| source_failure(&e, "metadata", given));
        map.insert(key, loaded.clone());
        loaded
    }

    /// The grid at `given`: a local MDS directory or grid-geometry `.nc` file, or the same on
    /// `s3://` (downloaded into the cache folder first).
    pub async fn grid(&self, given: &str) -> Result<Arc<Grid>, Failure> {
        let dir = self.grid_dir(given).await?;
        let cache = Arc::clone(&self.grids);
        // Reading and deriving the grid is blocking work; the cache loads each path once
        // (concurrent callers of the same path wait for that load).
        let context = format!("grid {given}");
        tokio::task::spawn_blocking(move || {
            cache
                .grid(&dir)
                .map_err(|e| Failure::from(&e).context(context))
        })
        .await?
    }

    /// The local path of grid location `given`, downloading a remote one once.
    async fn grid_dir(&self, given: &str) -> Result<PathBuf, Failure> {
        let location = Location::parse(given)
            .map_err(|e| Failure::permanent(format!("grid location {given:?}: {e}")))?;
        if let Some(path) = location.as_local_path() {
            return Ok(path.to_path_buf());
        }
        let mut map = self.grid_dirs.lock().await;
        if let Some(found) = map.get(given) {
            return found.clone();
        }
        let target = self.cache_dir.join("grids").join(short_hash(given));
        let fetched = download_prefix(&self.store, &location, &target)
            .await
            .map(|()| {
                // A single remote file (grid-geometry NetCDF) lands as its own name.
                match location.file_name() {
                    Some(name) if name.ends_with(".nc") => target.join(name),
                    _ => target.clone(),
                }
            })
            .map_err(|f| f.context(format!("downloading grid {given}")));
        map.insert(given.to_string(), fetched.clone());
        fetched
    }
}

/// A stable, short, path-safe name for a location.
fn short_hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// Downloads every object below `prefix` (or the single object `prefix`) into `target`,
/// keeping relative paths.
async fn download_prefix(store: &Store, prefix: &Location, target: &Path) -> Result<(), Failure> {
    let objects = store.list(prefix).await?;
    if objects.is_empty() {
        // Not a folder: maybe a single object (a grid-geometry `.nc`).
        if store.head(prefix).await?.is_some() {
            let name = prefix.file_name().unwrap_or("grid.nc");
            store.download_to(prefix, &target.join(name)).await?;
            return Ok(());
        }
        return Err(Failure::permanent(format!(
            "{prefix} holds no object (expected an MDS grid directory or a grid-geometry .nc)"
        )));
    }
    for object in objects {
        let Some(relative) = object.location.relative_to(prefix) else {
            continue;
        };
        let dest = relative
            .split('/')
            .fold(target.to_path_buf(), |path, part| path.join(part));
        store.download_to(&object.location, &dest).await?;
    }
    Ok(())
}

/// A failure of loading a planning source (configuration, catalog): store errors keep their
/// classification, invalid content is permanent.
fn source_failure(err: &edp_plan::sources::SourceError, what: &str, given: &str) -> Failure {
    let failure = match err {
        edp_plan::sources::SourceError::Store(store) => Failure::from(store),
        other => Failure::permanent(other.to_string()),
    };
    failure.context(format!("{what} {given}"))
}
