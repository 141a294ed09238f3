//! Where lat-lon weights are read from, built and cached (`edp_granule::weights`), on a small
//! synthetic LLC grid and a 10-degree target grid so that every build takes milliseconds.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use edp_granule::weights::{
    locate_or_build, locate_or_build_prefetched, prefetch, weights_file_name,
};
use edp_granule::{ErrorClass, GranuleError, ResourceCache, WeightsOrigin};
use edp_grid::{Grid, SyntheticLand, SyntheticSpec};
use edp_regrid::{LatLonSpec, SourceGrid};

fn grid(land: SyntheticLand) -> Grid {
    Grid::synthetic(&SyntheticSpec { n: 6, nz: 2, land }).unwrap()
}

fn spec() -> LatLonSpec {
    LatLonSpec::global(10.0)
}

/// The conventional file name of the weights of `grid` for [`spec`].
fn name_of(grid: &Grid) -> String {
    weights_file_name(&SourceGrid::from_grid(grid).unwrap().checksum(), &spec())
}

fn names(dir: &Path) -> Vec<String> {
    crate::latlon::support::file_names(dir)
}

fn built_at(origin: WeightsOrigin) -> PathBuf {
    match origin {
        WeightsOrigin::Built(Some(path)) => path,
        other => panic!("expected a build written to a file, found {other:?}"),
    }
}

#[test]
fn without_a_factors_location_weights_are_built_into_the_cache_and_read_back_later() {
    let tmp = tempfile::tempdir().unwrap();
    let cache_dir = tmp.path().join("cache");
    let g = grid(SyntheticLand::Analytic);
    let source = SourceGrid::from_grid(&g).unwrap();
    let (built, origin) = locate_or_build(&source, &spec(), None, &cache_dir).unwrap();
    assert_eq!(built_at(origin), cache_dir.join(name_of(&g)));
    assert!(name_of(&g).starts_with("edp_weights_") && name_of(&g).contains("_10p00deg"));
    // A later process finds the file.
    let (loaded, origin) = locate_or_build(&source, &spec(), None, &cache_dir).unwrap();
    assert_eq!(origin, WeightsOrigin::Loaded(cache_dir.join(name_of(&g))));
    assert_eq!(loaded, built);
    // An empty location is the same as none.
    let (_, origin) = locate_or_build(&source, &spec(), Some(Path::new("")), &cache_dir).unwrap();
    assert!(matches!(origin, WeightsOrigin::Loaded(_)));
}

#[test]
fn a_factors_directory_receives_the_built_weights_unless_it_is_edp_s() {
    let tmp = tempfile::tempdir().unwrap();
    let cache_dir = tmp.path().join("cache");
    let g = grid(SyntheticLand::Analytic);
    let source = SourceGrid::from_grid(&g).unwrap();

    let ours = tmp.path().join("factors");
    std::fs::create_dir(&ours).unwrap();
    let (_, origin) = locate_or_build(&source, &spec(), Some(&ours), &cache_dir).unwrap();
    assert_eq!(built_at(origin), ours.join(name_of(&g)));
    assert!(!cache_dir.exists());
    let (_, origin) = locate_or_build(&source, &spec(), Some(&ours), &cache_dir).unwrap();
    assert_eq!(origin, WeightsOrigin::Loaded(ours.join(name_of(&g))));

    // A location that does not exist yet is created as a directory.
    let new_dir = tmp.path().join("new/factors");
    let (_, origin) = locate_or_build(&source, &spec(), Some(&new_dir), &cache_dir).unwrap();
    assert_eq!(built_at(origin), new_dir.join(name_of(&g)));

    // EDP's mapping factors (pickles and npz, not read): the build goes to the cache.
    let edp = tmp.path().join("edp_factors");
    std::fs::create_dir_all(edp.join("sparse")).unwrap();
    std::fs::write(edp.join("sparse/sparse_matrix_0.npz"), b"not read").unwrap();
    let (_, origin) = locate_or_build(&source, &spec(), Some(&edp), &cache_dir).unwrap();
    assert_eq!(built_at(origin), cache_dir.join(name_of(&g)));
    assert_eq!(names(&edp), ["sparse"]);
}

#[test]
fn a_factors_file_is_written_when_missing_and_must_match_when_present() {
    let tmp = tempfile::tempdir().unwrap();
    let cache_dir = tmp.path().join("cache");
    let g = grid(SyntheticLand::Analytic);
    let source = SourceGrid::from_grid(&g).unwrap();
    let file = tmp.path().join("llc6_10deg.nc");
    let (_, origin) = locate_or_build(&source, &spec(), Some(&file), &cache_dir).unwrap();
    assert_eq!(built_at(origin), file);
    let (_, origin) = locate_or_build(&source, &spec(), Some(&file), &cache_dir).unwrap();
    assert_eq!(origin, WeightsOrigin::Loaded(file.clone()));

    // The same file named for a grid with other land: an error, never silently used.
    let other = SourceGrid::from_grid(&grid(SyntheticLand::AllOcean)).unwrap();
    let err: GranuleError = locate_or_build(&other, &spec(), Some(&file), &cache_dir).unwrap_err();
    assert_eq!(err.class(), ErrorClass::BadInput, "{err}");
    assert!(err.to_string().contains("source grid checksum"), "{err}");
    // And for another target grid.
    let err =
        locate_or_build(&source, &LatLonSpec::global(20.0), Some(&file), &cache_dir).unwrap_err();
    assert!(err.to_string().contains("target specification"), "{err}");
}

#[test]
fn a_corrupt_cached_file_is_rebuilt_and_an_unwritable_location_falls_back_to_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let cache_dir = tmp.path().join("cache");
    let g = grid(SyntheticLand::Analytic);
    let source = SourceGrid::from_grid(&g).unwrap();
    std::fs::create_dir_all(&cache_dir).unwrap();
    let cached = cache_dir.join(name_of(&g));
    std::fs::write(&cached, b"truncated").unwrap();
    let (_, origin) = locate_or_build(&source, &spec(), None, &cache_dir).unwrap();
    assert_eq!(built_at(origin), cached);
    assert!(edp_regrid::Weights::read(&cached).is_ok());
    assert_eq!(names(&cache_dir), [name_of(&g)], "no temporary file left");

    // A file of the older format (version 1 stored every level's matrix) is rebuilt too.
    let mut old = netcdf::append(&cached).unwrap();
    old.add_attribute("edp_weights_format_version", 1i32)
        .unwrap();
    old.close().unwrap();
    assert!(edp_regrid::Weights::read(&cached).is_err());
    let (_, origin) = locate_or_build(&source, &spec(), None, &cache_dir).unwrap();
    assert_eq!(built_at(origin), cached);
    let (_, origin) = locate_or_build(&source, &spec(), None, &cache_dir).unwrap();
    assert!(matches!(origin, WeightsOrigin::Loaded(_)), "{origin:?}");

    // A directory below a regular file cannot be created: the cache takes the weights.
    let blocker = tmp.path().join("blocker");
    std::fs::write(&blocker, b"a file").unwrap();
    std::fs::remove_file(&cached).unwrap();
    let (_, origin) =
        locate_or_build(&source, &spec(), Some(&blocker.join("factors")), &cache_dir).unwrap();
    assert_eq!(built_at(origin), cached);
}

#[test]
fn prefetched_weights_are_used_only_when_they_are_the_file_the_rules_choose_and_match() {
    let tmp = tempfile::tempdir().unwrap();
    let cache_dir = tmp.path().join("cache");
    let land = grid(SyntheticLand::Analytic);
    let source = SourceGrid::from_grid(&land).unwrap();
    // Nothing to prefetch before anything was built.
    assert!(prefetch(&spec(), None, &cache_dir).is_none());
    let (built, _) = locate_or_build(&source, &spec(), None, &cache_dir).unwrap();
    let cached = cache_dir.join(name_of(&land));

    // The only weights file of the cache for this target grid is read without the grid.
    let early = prefetch(&spec(), None, &cache_dir).unwrap();
    assert_eq!(early.path, cached);
    // None for another target grid (the name says which one a file is for).
    assert!(prefetch(&LatLonSpec::global(20.0), None, &cache_dir).is_none());

    // What was prefetched is used instead of reading the file again: the file is spoilt
    // after prefetching, and the weights still come from it.
    let saved = std::fs::read(&cached).unwrap();
    std::fs::write(&cached, b"spoilt after prefetching").unwrap();
    let (weights, origin) =
        locate_or_build_prefetched(&source, &spec(), None, &cache_dir, Some(early)).unwrap();
    assert_eq!(origin, WeightsOrigin::Loaded(cached.clone()));
    assert_eq!(weights, built);
    // (Read now, the spoilt file is rebuilt.)
    let (_, origin) = locate_or_build(&source, &spec(), None, &cache_dir).unwrap();
    assert_eq!(built_at(origin), cached);
    std::fs::write(&cached, &saved).unwrap();

    // The cache's only file is another grid's: prefetched, then refused by its checksum,
    // and the weights of this grid are built.
    let ocean = grid(SyntheticLand::AllOcean);
    let ocean_source = SourceGrid::from_grid(&ocean).unwrap();
    let guess = prefetch(&spec(), None, &cache_dir).unwrap();
    assert_eq!(guess.path, cached);
    let (weights, origin) =
        locate_or_build_prefetched(&ocean_source, &spec(), None, &cache_dir, Some(guess)).unwrap();
    assert_eq!(built_at(origin), cache_dir.join(name_of(&ocean)));
    assert_eq!(weights.source_checksum(), ocean_source.checksum());
    assert_ne!(weights.source_checksum(), source.checksum());

    // Two grids' files: which one is needed is not known before the grid, so none is read.
    assert!(prefetch(&spec(), None, &cache_dir).is_none());
    // A factors directory comes first, as when reading; an explicit file is the candidate.
    let factors = tmp.path().join("factors");
    std::fs::create_dir(&factors).unwrap();
    std::fs::copy(&cached, factors.join(name_of(&land))).unwrap();
    let early = prefetch(&spec(), Some(&factors), &cache_dir).unwrap();
    assert_eq!(early.path, factors.join(name_of(&land)));
    let file = tmp.path().join("llc6_10deg.nc");
    std::fs::copy(&cached, &file).unwrap();
    assert_eq!(
        prefetch(&spec(), Some(&file), &cache_dir).unwrap().path,
        file
    );
    // A prefetched file that the rules do not choose is not used: with a factors directory
    // holding the weights, a cache's file (prefetched alone) is not where they are read from.
    let other_cache = tmp.path().join("other-cache");
    std::fs::create_dir(&other_cache).unwrap();
    std::fs::copy(&cached, other_cache.join(name_of(&land))).unwrap();
    let from_cache = prefetch(&spec(), None, &other_cache).unwrap();
    assert_eq!(from_cache.path, other_cache.join(name_of(&land)));
    let (_, origin) = locate_or_build_prefetched(
        &source,
        &spec(),
        Some(&factors),
        &other_cache,
        Some(from_cache),
    )
    .unwrap();
    assert_eq!(origin, WeightsOrigin::Loaded(factors.join(name_of(&land))));
}

#[test]
fn the_resource_cache_loads_prefetched_weights_and_prefetches_once() {
    let tmp = tempfile::tempdir().unwrap();
    let cache_dir = tmp.path().join("cache");
    let g = grid(SyntheticLand::Analytic);
    let source = SourceGrid::from_grid(&g).unwrap();
    let (built, _) = locate_or_build(&source, &spec(), None, &cache_dir).unwrap();
    let cached = cache_dir.join(name_of(&g));

    let cache = ResourceCache::new().with_cache_dir(&cache_dir);
    cache.prefetch_weights("grid-a", &spec(), None);
    // The load uses what was prefetched: the file is spoilt in between.
    let saved = std::fs::read(&cached).unwrap();
    std::fs::write(&cached, b"spoilt after prefetching").unwrap();
    // A second prefetch reads nothing (it would fail on the spoilt file, silently).
    cache.prefetch_weights("grid-a", &spec(), None);
    let loaded = cache.weights("grid-a", &g, &spec(), None).unwrap();
    assert_eq!(*loaded, built);
    assert_eq!(
        std::fs::read(&cached).unwrap(),
        b"spoilt after prefetching",
        "read from the prefetch, nothing rebuilt"
    );
    std::fs::write(&cached, &saved).unwrap();

    // Loads from several threads at once, one of them prefetching: one load, no deadlock.
    let cache = ResourceCache::new().with_cache_dir(&cache_dir);
    let loads: Vec<_> = std::thread::scope(|scope| {
        scope.spawn(|| cache.prefetch_weights("grid-b", &spec(), None));
        let handles: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| cache.weights("grid-b", &g, &spec(), None).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(loads.iter().all(|w| Arc::ptr_eq(w, &loads[0])));
    assert_eq!(cache.loaded_weights(), 1);
    // Loaded weights are not prefetched again.
    std::fs::write(&cached, b"spoilt").unwrap();
    cache.prefetch_weights("grid-b", &spec(), None);
    assert_eq!(*cache.weights("grid-b", &g, &spec(), None).unwrap(), built);
}

#[test]
fn weights_the_resource_cache_builds_are_written_behind_and_on_disk_once_it_is_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let cache_dir = tmp.path().join("cache");
    let g = grid(SyntheticLand::Analytic);
    let built = {
        let cache = ResourceCache::new().with_cache_dir(&cache_dir);
        cache.weights("grid-a", &g, &spec(), None).unwrap()
        // Dropping the cache waits for the file.
    };
    assert_eq!(
        names(&cache_dir),
        [name_of(&g)],
        "complete, no temporary file"
    );
    let read = edp_regrid::Weights::read(&cache_dir.join(name_of(&g))).unwrap();
    assert_eq!(read, *built);
    // The next process finds it before knowing the grid.
    let early = prefetch(&spec(), None, &cache_dir).unwrap();
    assert_eq!(early.path, cache_dir.join(name_of(&g)));
}

#[test]
fn the_resource_cache_loads_weights_once_per_grid_and_target_grid() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = ResourceCache::new().with_cache_dir(tmp.path().join("cache"));
    assert_eq!(cache.cache_dir(), tmp.path().join("cache"));
    let g = grid(SyntheticLand::Analytic);
    let a = cache.weights("grid-a", &g, &spec(), None).unwrap();
    let b = cache.weights("grid-a", &g, &spec(), None).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(cache.loaded_weights(), 1);
    let c = cache
        .weights("grid-a", &g, &LatLonSpec::global(20.0), None)
        .unwrap();
    assert_eq!(c.target().nx(), 18);
    assert_eq!(cache.loaded_weights(), 2);
    // Built weights are written to the cache directory in the background.
    cache.wait_for_cache_writes();
    assert_eq!(
        names(&tmp.path().join("cache")).len(),
        2,
        "both built weights are cached"
    );
    // A failure is not cached: the next call tries again.
    let bad = tmp.path().join("bad.nc");
    std::fs::write(&bad, b"not a weights file").unwrap();
    assert!(cache.weights("grid-b", &g, &spec(), Some(&bad)).is_err());
    assert_eq!(cache.loaded_weights(), 2);
}

#[test]
fn the_real_grid_weights_are_cached_under_their_conventional_name() {
    let Some(fx) = crate::latlon::support::fixture() else {
        return;
    };
    let source = SourceGrid::from_grid(&fx.resources.grid).unwrap();
    let name = weights_file_name(&source.checksum(), &LatLonSpec::v4r4());
    assert_eq!(
        fx.weights_file,
        crate::latlon::support::weights_cache_dir().join(&name)
    );
    assert!(
        name.starts_with("edp_weights_") && name.ends_with("_0p50deg.nc"),
        "{name}"
    );
    assert_eq!(name.len(), "edp_weights_".len() + 16 + "_0p50deg.nc".len());
    let weights = fx.resources.weights.as_ref().unwrap();
    assert_eq!(weights.source_checksum(), source.checksum());
    assert_eq!(weights.n_levels(), 50);
}
