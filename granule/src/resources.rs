//! Shared, read-only resources of a granule (grid, metadata catalog, configuration) and a
//! cache that loads each of them once per location.
//!
//! EDP loads grid, factors and metadata from the first task and silently uses them for every
//! other task of the list (edp-compat bug 13). A [`ResourceCache`] keys every resource by its
//! location, so a task list mixing grids or metadata directories gets the right one for each
//! task, and each is loaded once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use edp_conventions::{Catalog, LoadOptions, ProductionConfig};
use edp_grid::Grid;

use crate::error::Result;

/// What a writer reads besides the inputs. Cheap to clone (shared pointers).
///
/// Build it with [`Resources::new`]; more resources (the lat-lon weights) will be added with
/// builder methods, which is why the struct cannot be built literally outside this crate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Resources {
    /// The native grid (coordinates, masks).
    pub grid: Arc<Grid>,
    /// The ECCO metadata catalog.
    pub catalog: Arc<Catalog>,
    /// The production configuration.
    pub config: Arc<ProductionConfig>,
}

impl Resources {
    /// Resources from already loaded parts.
    pub fn new(grid: Arc<Grid>, catalog: Arc<Catalog>, config: Arc<ProductionConfig>) -> Self {
        Resources {
            grid,
            catalog,
            config,
        }
    }
}

type Slot<T> = Mutex<HashMap<String, Arc<T>>>;

/// Loads grids, catalogs and configurations once per location and hands out shared copies.
/// Thread-safe; a resource is loaded while its map is locked, so concurrent requests for the
/// same location wait for one load instead of loading twice.
#[derive(Debug, Default)]
pub struct ResourceCache {
    grids: Slot<Grid>,
    catalogs: Slot<Catalog>,
    configs: Slot<ProductionConfig>,
}

/// Key of the built-in configuration (no configuration file).
const BUILTIN_CONFIG: &str = "<built-in V4r4>";

impl ResourceCache {
    /// An empty cache.
    pub fn new() -> ResourceCache {
        ResourceCache::default()
    }

    /// The value of `key` in `slot`, loading it with `load` the first time.
    fn get_or_load<T>(
        slot: &Slot<T>,
        key: &str,
        load: impl FnOnce() -> Result<T>,
    ) -> Result<Arc<T>> {
        // A poisoned lock only means another thread panicked while loading; the map itself
        // holds complete entries only, so keep using it.
        let mut map = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = map.get(key) {
            return Ok(Arc::clone(found));
        }
        let value = Arc::new(load()?);
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

    /// The catalog of local metadata directory `dir`.
    pub fn catalog(&self, dir: &Path) -> Result<Arc<Catalog>> {
        self.catalog_with(&key_of(dir), || {
            Ok(Catalog::load(dir, &LoadOptions::default())?)
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

    /// The resources of one task from local locations (each loaded once).
    pub fn resources(
        &self,
        grid_dir: &Path,
        metadata_dir: &Path,
        config_file: Option<&Path>,
    ) -> Result<Resources> {
        Ok(Resources::new(
            self.grid(grid_dir)?,
            self.catalog(metadata_dir)?,
            self.config(config_file)?,
        ))
    }

    /// Numbers of grids, catalogs and configurations loaded so far.
    pub fn loaded(&self) -> (usize, usize, usize) {
        fn len<T>(slot: &Slot<T>) -> usize {
            slot.lock().map(|m| m.len()).unwrap_or(0)
        }
        (len(&self.grids), len(&self.catalogs), len(&self.configs))
    }
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
