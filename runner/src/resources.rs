//! The shared resources of the tasks (grid, metadata catalog, production configuration),
//! loaded once per location for the whole process, from local folders or `s3://`.
//!
//! Remote grid directories are downloaded into the cache folder first (the grid reader works
//! on files); remote metadata directories and configurations are read into memory. A failed
//! load is remembered too, so that a shard whose grid is missing fails every task at once
//! instead of downloading again for each.
//!
//! Lat-lon tasks also get the regridding weights of their grid for the configuration's target
//! grid, once per (grid, target, factors location): read from the task's
//! `ecco_mapping_factors_loc` (a local file or folder, or an `s3://` object or prefix mirrored
//! into the cache folder), else from the cache folder, else built (rules in
//! `edp_granule::weights`). Weights built for a remote factors location are uploaded there, so
//! the next worker reads them instead of building them again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edp_conventions::catalog::LoadOptions;
use edp_conventions::{Catalog, ProductionConfig};
use edp_granule::weights::latlon_spec;
use edp_granule::{ResourceCache, Resources};
use edp_grid::Grid;
use edp_plan::builder::TaskLocations;
use edp_plan::cost::task_kind;
use edp_plan::sources::{load_catalog, load_config};
use edp_regrid::Weights;
use edp_store::{Location, Store};
use edp_task_schemas::{ProductType, Task};
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
    weights: Memo<Weights>,
    skip_invalid_metadata: bool,
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
    /// Lat-lon mapping factors (weights); `None`: the cache folder or a build.
    pub factors: Option<String>,
}

impl WorkerResources {
    /// A cache using `store` for remote locations and `cache_dir` for downloads; `defaults`
    /// fill in locations the tasks do not carry.
    pub fn new(store: Store, cache_dir: PathBuf, defaults: TaskLocations) -> WorkerResources {
        // Built weights are cached here (and looked for before building).
        let weights_dir = cache_dir.join("weights");
        WorkerResources {
            store,
            cache_dir,
            defaults,
            grids: Arc::new(ResourceCache::new().with_cache_dir(weights_dir)),
            grid_dirs: Mutex::new(HashMap::new()),
            catalogs: Mutex::new(HashMap::new()),
            configs: Mutex::new(HashMap::new()),
            weights: Mutex::new(HashMap::new()),
            skip_invalid_metadata: false,
        }
    }

    /// Loads metadata directories with `LoadOptions::skip_invalid` when `skip` is true.
    pub fn with_skip_invalid_metadata(mut self, skip: bool) -> WorkerResources {
        self.skip_invalid_metadata = skip;
        self
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
            factors: task
                .ecco_mapping_factors_loc
                .clone()
                .filter(|s| !s.is_empty())
                .or_else(|| self.defaults.factors_loc.clone()),
        })
    }

    /// The resources of `task`, loading what is not cached yet.
    pub async fn for_task(&self, task: &Task) -> Result<(Resources, ResourceLocations), Failure> {
        let locations = self.locations(task)?;
        let config = self.config(locations.config.as_deref()).await?;
        let latlon = task_kind(task).is_ok_and(|k| k.product_type() == ProductType::Latlon);
        // The weights file is read while the catalog and the grid load.
        let (catalog, grid, ()) = tokio::join!(
            self.catalog(&locations.metadata, &config.podaac_metadata_filename),
            self.grid(&locations.grid),
            self.prefetch_weights(latlon, &locations, &config),
        );
        let catalog = catalog?;
        let mut resources = Resources::new(grid?, catalog, config);
        if latlon {
            let weights = self.weights(&locations, &resources).await?;
            resources = resources.with_weights(weights);
        }
        Ok((resources, locations))
    }

    /// For a lat-lon task whose weights are not loaded yet, reads the weights file they will
    /// most likely come from before the grid is known ([`ResourceCache::prefetch_weights`];
    /// for a local or no factors location only: a remote one is mirrored first, when the
    /// weights are loaded).
    async fn prefetch_weights(
        &self,
        latlon: bool,
        locations: &ResourceLocations,
        config: &ProductionConfig,
    ) {
        if !latlon {
            return;
        }
        let factors = match locations.factors.as_deref() {
            None | Some("") => None,
            Some(given) => match Location::parse(given)
                .ok()
                .and_then(|l| l.as_local_path().map(Path::to_path_buf))
            {
                Some(local) => Some(local),
                None => return,
            },
        };
        let cache = Arc::clone(&self.grids);
        let grid_key = locations.grid.clone();
        let spec = latlon_spec(config);
        // Best effort: a failed prefetch only means the weights are read when loaded.
        let _ = tokio::task::spawn_blocking(move || {
            cache.prefetch_weights(&grid_key, &spec, factors.as_deref())
        })
        .await;
    }

    /// The lat-lon weights of the resources' grid for their configuration's target grid.
    async fn weights(
        &self,
        locations: &ResourceLocations,
        resources: &Resources,
    ) -> Result<Arc<Weights>, Failure> {
        let spec = latlon_spec(&resources.config);
        let factors = locations.factors.clone().unwrap_or_default();
        let key = format!("{}\u{0}{spec:?}\u{0}{factors}", locations.grid);
        let mut map = self.weights.lock().await;
        if let Some(found) = map.get(&key) {
            return found.clone();
        }
        let loaded = self
            .load_weights(&locations.grid, &factors, resources, spec)
            .await
            .map_err(|f| f.context(format!("lat-lon weights of grid {}", locations.grid)));
        map.insert(key, loaded.clone());
        loaded
    }

    /// Reads or builds weights (blocking work on the blocking pool), mirroring a remote
    /// factors location.
    async fn load_weights(
        &self,
        grid_location: &str,
        factors: &str,
        resources: &Resources,
        spec: edp_regrid::LatLonSpec,
    ) -> Result<Arc<Weights>, Failure> {
        let mirror = match factors {
            "" => None,
            given => Some(self.mirror_factors(given).await?),
        };
        let local = mirror.as_ref().map(|m| m.local.clone());
        let cache = Arc::clone(&self.grids);
        let grid = Arc::clone(&resources.grid);
        let grid_key = grid_location.to_string();
        // Weights files are read through NetCDF: on its thread (see `nc_thread`).
        let weights = edp_granule::nc_thread::run(move || {
            cache
                .weights(&grid_key, &grid, &spec, local.as_deref())
                .map_err(|e| Failure::from(&e))
        })
        .await
        .map_err(|e| Failure::permanent(e.to_string()))??;
        if let Some(mirror) = mirror {
            // Built weights are written to the mirror in the background: wait for the file.
            self.wait_for_cache_writes().await;
            mirror.upload_new(&self.store).await;
        }
        Ok(weights)
    }

    /// Waits until the weights files being written in the background (after a build) are
    /// written; the executor calls it when a run's tasks are done.
    pub async fn wait_for_cache_writes(&self) {
        let cache = Arc::clone(&self.grids);
        if tokio::task::spawn_blocking(move || cache.wait_for_cache_writes())
            .await
            .is_err()
        {
            tracing::warn!("waiting for the lat-lon weights cache files failed");
        }
    }

    /// Mirrors a factors location: local ones are used in place; an `s3://` object or prefix
    /// is downloaded (our weights files only) into the cache folder.
    async fn mirror_factors(&self, given: &str) -> Result<FactorsMirror, Failure> {
        let location = Location::parse(given)
            .map_err(|e| Failure::permanent(format!("factors location {given:?}: {e}")))?;
        if let Some(path) = location.as_local_path() {
            return Ok(FactorsMirror {
                local: path.to_path_buf(),
                remote: None,
                existing: Vec::new(),
            });
        }
        let dir = self.cache_dir.join("factors").join(short_hash(given));
        let single = location.file_name().is_some_and(|n| n.ends_with(".nc"));
        let mut existing = Vec::new();
        if single {
            let name = location.file_name().unwrap_or("weights.nc").to_string();
            if self.store.head(&location).await?.is_some() {
                self.store.download_to(&location, &dir.join(&name)).await?;
                existing.push(name.clone());
            }
            return Ok(FactorsMirror {
                local: dir.join(name),
                remote: Some(location),
                existing,
            });
        }
        for object in self.store.list(&location).await? {
            let Some(relative) = object.location.relative_to(&location) else {
                continue;
            };
            if !relative.contains('/') && is_weights_file(&relative) {
                self.store
                    .download_to(&object.location, &dir.join(&relative))
                    .await?;
                existing.push(relative);
            }
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::retryable(format!("cannot create {}: {e}", dir.display())))?;
        Ok(FactorsMirror {
            local: dir,
            remote: Some(location),
            existing,
        })
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
            skip_invalid: self.skip_invalid_metadata,
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
        // Grid-geometry `.nc` files are read through NetCDF: on its thread (see `nc_thread`).
        edp_granule::nc_thread::run(move || {
            cache
                .grid(&dir)
                .map_err(|e| Failure::from(&e).context(context))
        })
        .await
        .map_err(|e| Failure::permanent(e.to_string()))?
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
        let fetched = download_prefix(&self.store, &location, &target, edp_grid::is_grid_file)
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

/// Our weights files (`edp_weights_<grid>_<resolution>[_<spec>].nc`).
fn is_weights_file(name: &str) -> bool {
    name.starts_with("edp_weights_") && name.ends_with(".nc")
}

/// A factors location as seen locally, and what to upload back after a build.
#[derive(Debug)]
struct FactorsMirror {
    /// The local file or folder given to the weights locator.
    local: PathBuf,
    /// The remote location mirrored (`None` for local factors).
    remote: Option<Location>,
    /// Weights files that were already there (not uploaded again).
    existing: Vec<String>,
}

impl FactorsMirror {
    /// Uploads weights built into the mirror to the remote factors location (best effort:
    /// the granule does not depend on it, the next worker just builds again).
    async fn upload_new(&self, store: &Store) {
        let Some(remote) = &self.remote else {
            return;
        };
        let files: Vec<(PathBuf, Location)> = if self.local.is_dir() {
            std::fs::read_dir(&self.local)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|entry| {
                    let name = entry.file_name().into_string().ok()?;
                    (is_weights_file(&name) && !self.existing.contains(&name))
                        .then(|| (entry.path(), remote.join(&name)))
                })
                .collect()
        } else if self.local.is_file() && self.existing.is_empty() {
            vec![(self.local.clone(), remote.clone())]
        } else {
            Vec::new()
        };
        for (path, target) in files {
            match store.put_file(&target, &path).await {
                Ok(()) => tracing::info!(weights = %target, "uploaded lat-lon weights"),
                Err(err) => tracing::warn!(weights = %target, error = %err,
                    "cannot upload lat-lon weights; the next worker builds them again"),
            }
        }
    }
}

/// A stable, short, path-safe name for a location.
fn short_hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// Downloads the objects directly below `prefix` whose names `wanted` accepts (or the single
/// object `prefix`) into `target`. Only what the reader needs is fetched (a grid directory
/// also holds masks, basins and model files the granules never read), once per process; the
/// bytes fetched are logged.
async fn download_prefix(
    store: &Store,
    prefix: &Location,
    target: &Path,
    wanted: fn(&str) -> bool,
) -> Result<(), Failure> {
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
    let (mut fetched, mut skipped) = (0u64, 0u64);
    for object in objects {
        let Some(relative) = object.location.relative_to(prefix) else {
            continue;
        };
        if relative.contains('/') || !wanted(&relative) {
            skipped += object.size;
            continue;
        }
        store
            .download_to(&object.location, &target.join(&relative))
            .await?;
        fetched += object.size;
    }
    tracing::info!(%prefix, fetched_bytes = fetched, skipped_bytes = skipped,
        "resource directory mirrored");
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
