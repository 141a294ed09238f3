//! Where the lat-lon regridding weights of a grid come from: the task's
//! `ecco_mapping_factors_loc`, a cache directory, or a fresh build (`docs/regridding.md` 2).
//!
//! Weights are our own NetCDF files in the SCRIP/ESMF layout of [`edp_regrid::store`], named
//! after what determines them:
//!
//! ```text
//! edp_weights_<grid>_<resolution>[_<spec>].nc      e.g. edp_weights_12701e5889dcca9b_0p50deg.nc
//! ```
//!
//! `<grid>` is the first 16 hex digits of the source grid's SHA-256
//! ([`SourceGrid::checksum`]: coordinates, every wet mask, cell sizes), `<resolution>` the
//! target cell size (`0p50deg`), and `<spec>` 8 hex digits of the target specification when
//! it is not a global grid with the V4r4 radius rule. The file itself records the full
//! checksum and specification, and both are checked on every load, so a wrong file is an
//! error, never silently used.
//!
//! Resolution of a factors location (`locate_or_build`):
//!
//! | factors location | read | written after a build |
//! |---|---|---|
//! | an existing file | that file (it must be our weights file for this grid; a mismatch is an error) | - |
//! | a `*.nc` path that does not exist | - | that path |
//! | an existing directory with our file | `<dir>/<name>` | - |
//! | an EDP factors directory (`sparse/`, `land_mask/`, `latlon_grid/` or `3D/`) without our file | - | the cache directory (EDP's pickles are not read, docs/edp-compatibility.md 7.15) |
//! | another directory without our file, or a path that does not exist | - | `<dir>/<name>` (created) |
//! | none / empty | - | the cache directory |
//!
//! Before building, `<cache_dir>/<name>` is tried too. A file named by the convention that
//! cannot be read or does not match (corrupt, older format) is rebuilt and replaced. When a
//! write fails (read-only location) the next destination is tried, ending with the cache
//! directory; when even that fails the weights are used from memory and a warning is logged.
//! Writes are atomic (temporary file + rename), so concurrent processes never see a partial
//! file.
//!
//! [`prefetch`] reads the likely file before the grid (hence the name) is known, so that the
//! read overlaps loading the grid; [`locate_or_build_prefetched`] uses it only where the rules
//! above would read that very file, and checks it against the grid like any file it reads.

use std::path::{Path, PathBuf};

use edp_conventions::ProductionConfig;
use edp_regrid::{LatLonSpec, SourceGrid, TargetRadius, Weights};
use sha2::{Digest, Sha256};

use crate::error::Result;

/// The lat-lon target grid of a production configuration (`latlon_grid_resolution`,
/// `latlon_grid_area_extent`, `latlon_effective_grid_radius`; V4r4: 0.5 deg global,
/// `r_p = sqrt(A/pi)`).
pub fn latlon_spec(config: &ProductionConfig) -> LatLonSpec {
    let extent = &config.latlon_grid_area_extent;
    LatLonSpec {
        resolution_deg: config.latlon_grid_resolution,
        lon_min: extent.lon_min,
        lon_max: extent.lon_max,
        lat_min: extent.lat_min,
        lat_max: extent.lat_max,
        radius: match config.latlon_effective_grid_radius_m {
            Some(metres) => TargetRadius::Fixed(metres),
            None => TargetRadius::AreaEquivalent,
        },
    }
}

/// The file name of the weights of a source grid with checksum `source_checksum` for `spec`
/// (see the module docs).
pub fn weights_file_name(source_checksum: &str, spec: &LatLonSpec) -> String {
    let grid: String = source_checksum.chars().take(GRID_DIGITS).collect();
    format!("{NAME_PREFIX}{grid}{}", name_suffix(spec))
}

/// Every weights file name starts with this, then [`GRID_DIGITS`] hex digits of the grid.
const NAME_PREFIX: &str = "edp_weights_";
const GRID_DIGITS: usize = 16;

/// What follows the grid digits in the name of the weights for `spec`: `_<resolution>.nc` or
/// `_<resolution>_<spec>.nc`.
fn name_suffix(spec: &LatLonSpec) -> String {
    // 0.5 -> "0p50deg" (as the granule names' grid label), 0.25 -> "0p25deg", 1 -> "1p00deg".
    let resolution = format!("{:.2}deg", spec.resolution_deg).replace('.', "p");
    let standard = LatLonSpec {
        resolution_deg: spec.resolution_deg,
        ..LatLonSpec::v4r4()
    };
    if *spec == standard {
        format!("_{resolution}.nc")
    } else {
        let digest = Sha256::digest(format!("{spec:?}").as_bytes());
        format!("_{resolution}_{}.nc", hex::encode(&digest[..4]))
    }
}

/// True when `dir` looks like an EDP mapping-factors directory (`docs/regridding.md` 2.7).
pub fn is_edp_factors_dir(dir: &Path) -> bool {
    ["sparse", "land_mask", "latlon_grid", "3D"]
        .iter()
        .any(|sub| dir.join(sub).is_dir())
}

/// How the weights of [`locate_or_build`] were obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightsOrigin {
    /// Read from this file.
    Loaded(PathBuf),
    /// Built, and written to this file (`None`: no location was writable, used from memory).
    Built(Option<PathBuf>),
}

/// The weights of `source` for `spec`, from the factors location `factors`, the cache
/// directory `cache_dir`, or a build (see the module docs for the rules).
pub fn locate_or_build(
    source: &SourceGrid,
    spec: &LatLonSpec,
    factors: Option<&Path>,
    cache_dir: &Path,
) -> Result<(Weights, WeightsOrigin)> {
    locate_or_build_prefetched(source, spec, factors, cache_dir, None)
}

/// A weights file read before the grid was known ([`prefetch`]).
#[derive(Debug)]
pub struct Prefetched {
    /// The file read.
    pub path: PathBuf,
    /// Its weights (consistent in themselves; not yet checked against any grid).
    pub weights: Weights,
}

/// The one weights file for `spec` that [`locate_or_build`] could read, found and read
/// without the grid, so that reading it overlaps loading the grid (reading the LLC90 weights
/// takes about 30 ms on one core, during which the other cores used to wait).
///
/// The candidate is the explicit factors file, else the only file named for `spec` (any grid)
/// in the first of the factors directory and the cache directory that holds such files.
/// `None` when there is no such file, several (which one the grid needs is not known yet), or
/// it cannot be read: [`locate_or_build_prefetched`] then finds or builds the weights as
/// usual. Reading is the only cost of a wrong guess.
pub fn prefetch(spec: &LatLonSpec, factors: Option<&Path>, cache_dir: &Path) -> Option<Prefetched> {
    let path = prefetch_candidate(spec, factors, cache_dir)?;
    // Any thread may prefetch: no "HDF5-DIAG" traces from netCDF-C's attribute probes.
    edp_h5chunks::quiet_error_traces();
    match Weights::read(&path) {
        Ok(weights) => Some(Prefetched { path, weights }),
        Err(err) => {
            tracing::debug!(path = %path.display(), "weights not prefetched: {err}");
            None
        }
    }
}

fn prefetch_candidate(
    spec: &LatLonSpec,
    factors: Option<&Path>,
    cache_dir: &Path,
) -> Option<PathBuf> {
    let factors = factors.filter(|p| !p.as_os_str().is_empty());
    if let Some(file) = factors.filter(|p| p.is_file()) {
        return Some(file.to_path_buf());
    }
    let suffix = name_suffix(spec);
    let named = |name: &str| {
        name.len() == NAME_PREFIX.len() + GRID_DIGITS + suffix.len()
            && name.starts_with(NAME_PREFIX)
            && name.ends_with(&suffix)
    };
    let dirs = factors
        .filter(|p| p.is_dir())
        .into_iter()
        .chain([cache_dir]);
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let found: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| named(&e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .collect();
        match found.as_slice() {
            [] => continue,
            [only] => return Some(only.clone()),
            _ => return None,
        }
    }
    None
}

/// [`locate_or_build`], using `prefetched` in place of reading its file again when that file
/// is the one the rules choose (and it matches the grid, as any file read must).
pub fn locate_or_build_prefetched(
    source: &SourceGrid,
    spec: &LatLonSpec,
    factors: Option<&Path>,
    cache_dir: &Path,
    prefetched: Option<Prefetched>,
) -> Result<(Weights, WeightsOrigin)> {
    match locate_or_build_unwritten(source, spec, factors, cache_dir, prefetched)? {
        Located::Found { weights, path } => Ok((weights, WeightsOrigin::Loaded(path))),
        Located::Built(weights, unwritten) => {
            let origin = unwritten.write(&weights);
            Ok((weights, origin))
        }
    }
}

/// Weights found, or built and still to be written.
#[derive(Debug)]
pub enum Located {
    /// Read from `path` (or prefetched from it).
    Found {
        /// The weights.
        weights: Weights,
        /// The file they come from.
        path: PathBuf,
    },
    /// Built; [`Unwritten::write`] caches them.
    Built(Weights, Unwritten),
}

/// Where built weights are to be written, in order of preference.
#[derive(Debug)]
pub struct Unwritten {
    destinations: Vec<PathBuf>,
}

impl Unwritten {
    /// Writes `weights` to the first destination that takes them (a warning for each that
    /// does not); [`WeightsOrigin::Built`] with that destination, `None` when none did.
    pub fn write(self, weights: &Weights) -> WeightsOrigin {
        let started = std::time::Instant::now();
        for path in self.destinations {
            match weights.write(&path) {
                Ok(()) => {
                    tracing::debug!(
                        path = %path.display(),
                        seconds = started.elapsed().as_secs_f64(),
                        "lat-lon weights written"
                    );
                    return WeightsOrigin::Built(Some(path));
                }
                Err(err) => tracing::warn!(
                    path = %path.display(),
                    "cannot cache the lat-lon weights here: {err}"
                ),
            }
        }
        tracing::warn!("lat-lon weights are used from memory only (no writable location)");
        WeightsOrigin::Built(None)
    }
}

/// [`locate_or_build_prefetched`] without the write after a build: the caller writes them
/// when it suits it ([`crate::ResourceCache`] does so on a thread of its own, so that writing
/// the file does not hold up the granules waiting for the weights).
pub fn locate_or_build_unwritten(
    source: &SourceGrid,
    spec: &LatLonSpec,
    factors: Option<&Path>,
    cache_dir: &Path,
    prefetched: Option<Prefetched>,
) -> Result<Located> {
    let checksum = source.checksum();
    let name = weights_file_name(&checksum, spec);
    let factors = factors.filter(|p| !p.as_os_str().is_empty());
    let mut prefetched = prefetched;
    // The weights of `path`: the prefetched ones when they were read from it.
    let mut read = |path: &Path| -> Result<Weights> {
        match prefetched.take() {
            Some(p) if p.path == path => Ok(p.weights),
            other => {
                prefetched = other;
                Ok(Weights::read(path)?)
            }
        }
    };

    // An explicit file must be ours and match: the caller named it.
    if let Some(file) = factors.filter(|p| p.is_file()) {
        let weights = read(file)?;
        weights.check_matches(file, &checksum, spec)?;
        return Ok(Located::Found {
            weights,
            path: file.to_path_buf(),
        });
    }

    let mut readable: Vec<PathBuf> = Vec::new();
    let mut writable: Vec<PathBuf> = Vec::new();
    if let Some(location) = factors {
        if location.is_dir() {
            readable.push(location.join(&name));
            if !is_edp_factors_dir(location) {
                writable.push(location.join(&name));
            }
        } else if location.extension().is_some_and(|e| e == "nc") {
            writable.push(location.to_path_buf());
        } else {
            writable.push(location.join(&name));
        }
    }
    let cached = cache_dir.join(&name);
    readable.push(cached.clone());
    writable.push(cached);

    for path in readable.iter().filter(|p| p.is_file()) {
        match read(path).and_then(|w| {
            w.check_matches(path, &checksum, spec)?;
            Ok(w)
        }) {
            Ok(weights) => {
                return Ok(Located::Found {
                    weights,
                    path: path.clone(),
                });
            }
            Err(err) => tracing::warn!(
                path = %path.display(),
                "ignoring unusable weights file (it will be rebuilt and replaced): {err}"
            ),
        }
    }

    let started = std::time::Instant::now();
    let weights = Weights::build(source, spec)?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        levels = weights.n_levels(),
        "built lat-lon weights"
    );
    Ok(Located::Built(
        weights,
        Unwritten {
            destinations: writable,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_tell_grid_and_resolution() {
        let sum = "12701e5889dcca9b6e1e08dece6113f9b6b810d6d23ce973758c577f922ec451";
        assert_eq!(
            weights_file_name(sum, &LatLonSpec::v4r4()),
            "edp_weights_12701e5889dcca9b_0p50deg.nc"
        );
        assert_eq!(
            weights_file_name(sum, &LatLonSpec::global(0.25)),
            "edp_weights_12701e5889dcca9b_0p25deg.nc"
        );
        let fixed = LatLonSpec {
            radius: TargetRadius::Fixed(55_000.0),
            ..LatLonSpec::v4r4()
        };
        let name = weights_file_name(sum, &fixed);
        assert!(
            name.starts_with("edp_weights_12701e5889dcca9b_0p50deg_") && name.ends_with(".nc"),
            "{name}"
        );
        assert_ne!(name, weights_file_name(sum, &LatLonSpec::v4r4()));
    }

    #[test]
    fn v4r4_configuration_gives_the_v4r4_target_grid() {
        assert_eq!(latlon_spec(&ProductionConfig::v4r4()), LatLonSpec::v4r4());
    }

    #[test]
    fn edp_factors_directories_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_edp_factors_dir(dir.path()));
        std::fs::create_dir(dir.path().join("sparse")).unwrap();
        assert!(is_edp_factors_dir(dir.path()));
    }
}
