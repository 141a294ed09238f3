//! Shared, read-only resources of a granule (grid, metadata catalog, configuration, lat-lon
//! weights) and a cache that loads each of them once per location.
//!
//! EDP loads grid, factors and metadata from the first task and silently uses them for every
//! other task of the list (docs/edp-compatibility.md bug 13). A [`ResourceCache`] keys every resource by its
//! location, so a task list mixing grids or metadata directories gets the right one for each
//! task, and each is loaded once. Lat-lon weights are keyed by the grid location and the
//! target specification (they are a function of both, checked by checksum on every load);
//! where they are read from, built and cached is described in [`crate::weights`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use edp_conventions::{Catalog, LoadOptions, ProductionConfig};
use edp_grid::Grid;
use edp_regrid::{LatLonSpec, SourceGrid, Weights};

use crate::error::Result;
use crate::weights::{
    Located, Prefetched, Unwritten, WeightsOrigin, latlon_spec, locate_or_build_unwritten, prefetch,
};

/// What a writer reads besides the inputs. Cheap to clone (shared pointers).
///
/// Build it with [`Resources::new`] and, for lat-lon granules, add the weights with
/// [`Resources::with_weights`]; the struct cannot be built literally outside this crate so
/// that more resources can be added later.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Resources {
    /// The native grid (coordinates, masks).
    pub grid: Arc<Grid>,
    /// The ECCO metadata catalog.
    pub catalog: Arc<Catalog>,
    /// The production configuration.
    pub config: Arc<ProductionConfig>,
    /// Lat-lon regridding weights of `grid` for the configuration's target grid (every level
    /// of the grid); required by lat-lon granules only.
    pub weights: Option<Arc<Weights>>,
    /// How the data chunks reach the file.
    pub write_path: WritePath,
}

/// How the writers put data variables into the file. The file (metadata, chunk sizes,
/// filters, values read back) is the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WritePath {
    /// Chunks compressed here on every core, written with `H5Dwrite_chunk` after netCDF-C
    /// has defined the file (the default).
    #[default]
    DirectChunks,
    /// Values handed to netCDF-C, which compresses inside the library on one thread behind
    /// its global lock: the reference path, for comparisons (`EDP_WRITE_PATH=netcdf`).
    NetCdf,
}

impl WritePath {
    /// The path chosen by the environment variable `EDP_WRITE_PATH` (`netcdf` or `direct`;
    /// unset or anything else: [`WritePath::DirectChunks`]).
    pub fn from_env() -> WritePath {
        match std::env::var("EDP_WRITE_PATH").as_deref() {
            Ok("netcdf") => WritePath::NetCdf,
            _ => WritePath::DirectChunks,
        }
    }
}

impl Resources {
    /// Resources from already loaded parts (no lat-lon weights).
    pub fn new(grid: Arc<Grid>, catalog: Arc<Catalog>, config: Arc<ProductionConfig>) -> Self {
        Resources {
            grid,
            catalog,
            config,
            weights: None,
            write_path: WritePath::from_env(),
        }
    }

    /// The same resources writing data through `path`.
    pub fn with_write_path(mut self, path: WritePath) -> Self {
        self.write_path = path;
        self
    }

    /// The same resources with lat-lon weights (the writer checks that they fit the grid and
    /// the configuration's target grid).
    pub fn with_weights(mut self, weights: Arc<Weights>) -> Self {
        self.weights = Some(weights);
        self
    }
}

type Slot<T> = Mutex<HashMap<String, Arc<T>>>;

/// Loads grids, catalogs and configurations once per location and hands out shared copies.
/// Thread-safe; a resource is loaded while its map is locked, so concurrent requests for the
/// same location wait for one load instead of loading twice.
///
/// Weights that have to be built are cached in a directory ([`ResourceCache::with_cache_dir`];
/// default `<temp dir>/edp-cache`) unless the factors location can hold them, by a thread of
/// their own ([`ResourceCache::wait_for_cache_writes`]; dropping the cache waits too). A
/// weights file can be read ahead while the grid loads ([`ResourceCache::prefetch_weights`]).
#[derive(Debug)]
pub struct ResourceCache {
    grids: Slot<Grid>,
    catalogs: Slot<Catalog>,
    configs: Slot<ProductionConfig>,
    weights: Slot<Weights>,
    /// Weights files read ahead of their grid, by weights key (one prefetch per key).
    prefetches: Mutex<HashMap<String, Arc<PrefetchSlot>>>,
    /// Threads writing built weights to the cache directory.
    cache_writes: Mutex<Vec<JoinHandle<()>>>,
    cache_dir: PathBuf,
}

impl Drop for ResourceCache {
    fn drop(&mut self) {
        self.wait_for_cache_writes();
    }
}

impl Default for ResourceCache {
    fn default() -> Self {
        ResourceCache {
            grids: Slot::default(),
            catalogs: Slot::default(),
            configs: Slot::default(),
            weights: Slot::default(),
            prefetches: Mutex::default(),
            cache_writes: Mutex::default(),
            cache_dir: std::env::temp_dir().join("edp-cache"),
        }
    }
}

/// A weights file being read ahead ([`ResourceCache::prefetch_weights`]): `None` while the
/// read runs, then what it gave (taken by the first loader).
#[derive(Debug, Default)]
struct PrefetchSlot {
    state: Mutex<Option<Option<Prefetched>>>,
    done: Condvar,
}

impl PrefetchSlot {
    fn complete(&self, read: Option<Prefetched>) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = Some(read);
        self.done.notify_all();
    }

    fn take(&self) -> Option<Prefetched> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while state.is_none() {
            state = self.done.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.as_mut().and_then(Option::take)
    }
}

/// The key of the weights of grid location `grid_key` for `spec`.
fn weights_key(grid_key: &str, spec: &LatLonSpec) -> String {
    format!("{grid_key}\u{0}{spec:?}")
}

/// Key of the built-in configuration (no configuration file).
const BUILTIN_CONFIG: &str = "<built-in V4r4>";

impl ResourceCache {
    /// An empty cache whose built weights go to `<temp dir>/edp-cache`.
    pub fn new() -> ResourceCache {
        ResourceCache::default()
    }

    /// The same cache with built weights going to `dir` (created when needed).
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> ResourceCache {
        self.cache_dir = dir.into();
        self
    }

    /// Where built weights are cached when the factors location cannot hold them.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// The value of `key` in `slot`, loading it with `load` the first time.
    fn get_or_load<T>(
        slot: &Slot<T>,
        key: &str,
        load: impl FnOnce() -> Result<T>,
    ) -> Result<Arc<T>> {
        Self::get_or_load_shared(slot, key, || load().map(Arc::new))
    }

    /// [`ResourceCache::get_or_load`] for a `load` that returns the shared value itself.
    fn get_or_load_shared<T>(
        slot: &Slot<T>,
        key: &str,
        load: impl FnOnce() -> Result<Arc<T>>,
    ) -> Result<Arc<T>> {
        // A poisoned lock only means another thread panicked while loading; the map itself
        // holds complete entries only, so keep using it.
        let mut map = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = map.get(key) {
            return Ok(Arc::clone(found));
        }
        let value = load()?;
        map.insert(key.to_string(), Arc::clone(&value));
        Ok(value)
    }

    /// The grid keyed by `key` (e.g. the `ecco_grid_loc` of a task), loaded by `load` once.
    pub fn grid_with(&self, key: &str, load: impl FnOnce() -> Result<Grid>) -> Result<Arc<Grid>> {
        Self::get_or_load(&self.grids, key, load)
    }

    /// The grid in local directory `dir` (MDS files) or file `dir` (grid-geometry `.nc`).
    pub fn grid(&self, dir: &Path) -> Result<Arc<Grid>> {
        self.grid_with(&key_of(dir), || {
            let grid = if dir.extension().is_some_and(|e| e == "nc") {
                Grid::from_netcdf(dir)?
            } else {
                Grid::from_mds_dir(dir)?
            };
            // Once per grid: native granules of such a grid carry inexact cell bounds.
            if !grid.corners.is_exact() {
                tracing::warn!(
                    grid = %dir.display(),
                    "cell corners {} (native granules say so in edp_grid_corners)",
                    grid.corners.provenance()
                );
            }
            Ok(grid)
        })
    }

    /// The catalog keyed by `key`, loaded by `load` once.
    pub fn catalog_with(
        &self,
        key: &str,
        load: impl FnOnce() -> Result<Catalog>,
    ) -> Result<Arc<Catalog>> {
        Self::get_or_load(&self.catalogs, key, load)
    }

    /// The catalog of local metadata directory `dir` with the default PO.DAAC table name
    /// (V4r4's); see [`ResourceCache::catalog_for`].
    pub fn catalog(&self, dir: &Path) -> Result<Arc<Catalog>> {
        self.catalog_for(dir, &LoadOptions::default().podaac_filename)
    }

    /// The catalog of local metadata directory `dir` with the PO.DAAC table `podaac_filename`
    /// (the configuration's `podaac_metadata_filename`: a V4r5 directory holds the V4r4
    /// table too).
    pub fn catalog_for(&self, dir: &Path, podaac_filename: &str) -> Result<Arc<Catalog>> {
        let key = format!("{}\u{0}{podaac_filename}", key_of(dir));
        self.catalog_with(&key, || {
            let options = LoadOptions {
                podaac_filename: podaac_filename.to_string(),
                ..LoadOptions::default()
            };
            Ok(Catalog::load(dir, &options)?)
        })
    }

    /// The configuration of local YAML file `path`, or the built-in V4r4 configuration.
    pub fn config(&self, path: Option<&Path>) -> Result<Arc<ProductionConfig>> {
        match path {
            None => Self::get_or_load(&self.configs, BUILTIN_CONFIG, || {
                Ok(ProductionConfig::v4r4())
            }),
            Some(path) => Self::get_or_load(&self.configs, &key_of(path), || {
                Ok(ProductionConfig::from_yaml_file(path)?)
            }),
        }
    }

    /// Reads the weights file that the weights of grid location `grid_key` for `spec` will
    /// most likely come from, before the grid is loaded ([`crate::weights::prefetch`]), for
    /// the [`ResourceCache::weights`] call that loads them (which waits for a prefetch in
    /// progress). Does nothing when they are loaded already or another caller is prefetching
    /// them. Call it on a thread of its own, beside loading the grid.
    pub fn prefetch_weights(&self, grid_key: &str, spec: &LatLonSpec, factors: Option<&Path>) {
        let key = weights_key(grid_key, spec);
        if self.weights_loaded(&key) {
            return;
        }
        // Registered before reading, and never holding the weights lock after this point: a
        // loader holding that lock may wait for this slot.
        let slot = {
            let mut slots = self.prefetches.lock().unwrap_or_else(|p| p.into_inner());
            if slots.contains_key(&key) {
                return;
            }
            let slot = Arc::new(PrefetchSlot::default());
            slots.insert(key.clone(), Arc::clone(&slot));
            slot
        };
        // A panic only loses the prefetch; the slot is completed either way.
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            prefetch(spec, factors, &self.cache_dir)
        }));
        slot.complete(read.ok().flatten());
        // Weights loaded meanwhile without it (their loader came first): nobody will take
        // what was read, so it is not kept.
        if self.weights_loaded(&key) {
            drop(slot.take());
        }
    }

    /// Whether the weights `key` are loaded.
    fn weights_loaded(&self, key: &str) -> bool {
        self.weights
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(key)
    }

    /// What a prefetch of the weights `key` read (waiting for one in progress), taken once.
    fn take_prefetched(&self, key: &str) -> Option<Prefetched> {
        let slot = self
            .prefetches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()?;
        slot.take()
    }

    /// The lat-lon weights of `grid` (loaded from grid location `grid_key`) for `spec`: read
    /// from the factors location `factors` or the cache directory, else built and cached
    /// (rules in [`crate::weights`]; what [`ResourceCache::prefetch_weights`] read is used
    /// where those rules read that file). Once per `(grid_key, spec)`; built weights are
    /// written to the cache in the background.
    pub fn weights(
        &self,
        grid_key: &str,
        grid: &Grid,
        spec: &LatLonSpec,
        factors: Option<&Path>,
    ) -> Result<Arc<Weights>> {
        let key = weights_key(grid_key, spec);
        Self::get_or_load_shared(&self.weights, &key, || {
            let source = SourceGrid::from_grid(grid)?;
            let prefetched = self.take_prefetched(&key);
            match locate_or_build_unwritten(&source, spec, factors, &self.cache_dir, prefetched)? {
                Located::Found { weights, path } => {
                    tracing::info!(grid = grid_key, path = %path.display(), "loaded lat-lon weights");
                    Ok(Arc::new(weights))
                }
                Located::Built(weights, unwritten) => {
                    let weights = Arc::new(weights);
                    self.write_in_background(grid_key, Arc::clone(&weights), unwritten);
                    Ok(weights)
                }
            }
        })
    }

    /// Writes built weights to their cache file on a thread of its own: the granules waiting
    /// for the weights start at once (writing the LLC90 file takes 0.1-0.2 s on one core).
    /// [`ResourceCache::wait_for_cache_writes`] (and dropping the cache) waits for it.
    fn write_in_background(&self, grid_key: &str, weights: Arc<Weights>, unwritten: Unwritten) {
        let grid = grid_key.to_string();
        let spawned = std::thread::Builder::new()
            .name("edp-weights-cache".into())
            .spawn(move || match unwritten.write(&weights) {
                WeightsOrigin::Built(Some(path)) => tracing::info!(
                    grid,
                    path = %path.display(),
                    "built and cached lat-lon weights"
                ),
                _ => tracing::info!(grid, "built lat-lon weights (not cached)"),
            });
        match spawned {
            Ok(handle) => self
                .cache_writes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(handle),
            Err(err) => tracing::warn!(
                grid = grid_key,
                "built lat-lon weights not cached (no thread to write them): {err}"
            ),
        }
    }

    /// Waits until every weights file this cache is writing is written (or has failed, with
    /// a warning). Call it before a weights file is needed elsewhere (uploads) and at the end
    /// of a run; dropping the cache calls it too.
    pub fn wait_for_cache_writes(&self) {
        let handles: Vec<_> = self
            .cache_writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for handle in handles {
            if handle.join().is_err() {
                tracing::warn!("writing a lat-lon weights cache file panicked");
            }
        }
    }

    /// The key of local grid location `dir` (as used by [`ResourceCache::grid`]).
    pub fn grid_key(dir: &Path) -> String {
        key_of(dir)
    }

    /// The resources of one lat-lon task from local locations: [`ResourceCache::resources`]
    /// plus the weights for the configuration's target grid, from `factors` (the task's
    /// `ecco_mapping_factors_loc`) or built (see [`crate::weights`]).
    pub fn latlon_resources(
        &self,
        grid_dir: &Path,
        metadata_dir: &Path,
        config_file: Option<&Path>,
        factors: Option<&Path>,
    ) -> Result<Resources> {
        let spec = latlon_spec(&*self.config(config_file)?);
        let grid_key = key_of(grid_dir);
        // The weights file is read while the grid loads (both take tens of milliseconds), on
        // a thread of its own: loading holds the cache's locks while it uses rayon, so it must
        // never run inside a rayon job (a worker blocked on such a lock can hold up the very
        // job the lock holder waits for).
        let resources = std::thread::scope(|scope| {
            scope.spawn(|| self.prefetch_weights(&grid_key, &spec, factors));
            self.resources(grid_dir, metadata_dir, config_file)
        })?;
        let weights = self.weights(&grid_key, &resources.grid, &spec, factors)?;
        Ok(resources.with_weights(weights))
    }

    /// The resources of one task from local locations (each loaded once).
    pub fn resources(
        &self,
        grid_dir: &Path,
        metadata_dir: &Path,
        config_file: Option<&Path>,
    ) -> Result<Resources> {
        let config = self.config(config_file)?;
        Ok(Resources::new(
            self.grid(grid_dir)?,
            self.catalog_for(metadata_dir, &config.podaac_metadata_filename)?,
            config,
        ))
    }

    /// Numbers of grids, catalogs and configurations loaded so far.
    pub fn loaded(&self) -> (usize, usize, usize) {
        (len(&self.grids), len(&self.catalogs), len(&self.configs))
    }

    /// Number of weights loaded or built so far.
    pub fn loaded_weights(&self) -> usize {
        len(&self.weights)
    }
}

fn len<T>(slot: &Slot<T>) -> usize {
    slot.lock().map(|m| m.len()).unwrap_or(0)
}

/// The cache key of a local path: canonical when it exists, so `./grid` and `grid/` are the
/// same resource.
fn key_of(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| PathBuf::from(path))
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use edp_grid::SyntheticSpec;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn each_key_is_loaded_once_and_different_keys_separately() {
        let cache = ResourceCache::new();
        let loads = AtomicUsize::new(0);
        let load = || {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok(Grid::synthetic(&SyntheticSpec {
                n: 2,
                nz: 2,
                ..SyntheticSpec::default()
            })?)
        };
        let a = cache.grid_with("s3://x/grid-a", load).unwrap();
        let b = cache.grid_with("s3://x/grid-a", load).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        cache.grid_with("s3://x/grid-b", load).unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        assert_eq!(cache.loaded(), (2, 0, 0));
        let c1 = cache.config(None).unwrap();
        let c2 = cache.config(None).unwrap();
        assert!(Arc::ptr_eq(&c1, &c2));
    }

    #[test]
    fn a_failed_load_is_not_cached() {
        let cache = ResourceCache::new();
        assert!(cache.grid(Path::new("/nonexistent/grid")).is_err());
        assert_eq!(cache.loaded(), (0, 0, 0));
    }
}
