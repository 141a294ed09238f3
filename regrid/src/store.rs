//! Weights files: NetCDF-4 in the SCRIP/ESMF sparse-matrix layout, plus all levels.
//!
//! # Layout
//!
//! Sources are numbered `s = 0..n_a` in the flat C order of the source shape (for LLC
//! `(tile, j, i)`: `s = t*N*N + j*N + i`), targets `p = iy*nx + ix` with `iy = 0` the
//! southernmost row. Indices in the file are 1-based (`row = p + 1`, `col = s + 1`), as in
//! every SCRIP/ESMF weights file.
//!
//! | variable | dims | content |
//! |---|---|---|
//! | `row`, `col`, `S` | `(n_s)` | **level 0** (surface, 2-D products): a plain ESMF matrix that xESMF (`Regridder(..., weights=path)`), `ncks --map` or scipy can use as is |
//! | `mask_b`, `frac_b` | `(n_b)` | level-0 target land mask: 1 wet, 0 land (fill with NaN) |
//! | `mask_a` | `(n_a)` | level-0 source wet mask |
//! | `within_count` | `(n_b)` | per target, how many sources (wet or dry) lie within its radius |
//! | `within` | `(n_within)` | those sources (1-based), target after target, each target's sorted by distance then index |
//! | `nearest` | `(n_b)` | per target, its nearest source (1-based), 0 when none lies within `nearest_search_cap_m` |
//! | `mask_a_lev` | `(n_level, n_a)` | per-level source wet mask (`hFacC > 0`) |
//! | `xc_a`, `yc_a` | `(n_a)` | source cell centres (degrees) |
//! | `xc_b`, `yc_b`, `xv_b`, `yv_b`, `area_b` | `(n_b)`, `(n_b, nv_b)` | target centres, corners (SW, SE, NE, NW) and areas (steradians) |
//! | `src_grid_dims`, `dst_grid_dims` | | `[n_a]` (the source is described as unstructured), `[nx, ny]` (longitude fastest) |
//!
//! Every level's matrix follows from the neighbourhood (`within_count`, `within`, `nearest`)
//! and that level's source mask, as the `algorithm` attribute states: target `p` is land at
//! level `k` when its nearest source is missing or dry there; otherwise its entries are the
//! wet sources of its `within` list (at most `neighbour_cap`, in list order) with equal
//! weights, or its nearest source with weight 1 when none of them is wet. Storing the
//! neighbourhood instead of 50 matrices makes the LLC90 file about a tenth as large to write and
//! to read, and lets a reader derive only the levels it uses. The level-0 matrix is stored too,
//! so that standard tools see a valid matrix; reading checks it against the derived one. Global
//! attributes record the algorithm, the target specification, the search limits and the
//! SHA-256 of the source grid ([`SourceGrid::checksum`]).
//!
//! Files are written to a temporary name beside the destination and renamed into place, so a
//! reader never sees a partial file.

use crate::error::{RegridError, Result};
use crate::geometry::{AUTHALIC_RADIUS_M, CHORD_SPHERE_RADIUS_M};
use crate::neighbours::{NONE, Neighbourhood, SearchLimits};
use crate::source::SourceGrid;
use crate::target::{LatLonGrid, LatLonSpec, TargetRadius};
use crate::weights::{BuildStats, LevelWeights, Weights};
use netcdf::AttributeValue;
use std::path::{Path, PathBuf};

/// Version of the file layout written by this crate (global attribute
/// `edp_weights_format_version`). Version 1 stored every level's matrix; such a file is
/// refused, and the weights cache rebuilds and replaces it.
pub const FORMAT_VERSION: i32 = 2;

/// Deflate level of the large arrays: level 1 already removes most of the redundancy of
/// sorted rows and repeated weights; higher levels cost write time for a few percent.
const DEFLATE: i32 = 1;

/// Whether [`Weights::load_or_build`] read the cache or had to build (and wrote the cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// The cache file existed and matched.
    Loaded,
    /// The cache file was missing; the weights were built and written to it.
    Built,
}

impl Weights {
    /// Reads the weights file at `cache_path` when it exists, else builds the weights from
    /// `source` and `spec` and writes them there.
    ///
    /// An existing file that was built for another grid or another specification is an
    /// error ([`RegridError::Mismatch`]) rather than silently replaced: the cache may be
    /// shared, and the caller decides whether to delete it.
    pub fn load_or_build(
        cache_path: &Path,
        source: &SourceGrid,
        spec: &LatLonSpec,
    ) -> Result<(Weights, CacheOutcome)> {
        if cache_path.exists() {
            let weights = Weights::read(cache_path)?;
            weights.check_matches(cache_path, &source.checksum(), spec)?;
            return Ok((weights, CacheOutcome::Loaded));
        }
        let weights = Weights::build(source, spec)?;
        weights.write(cache_path)?;
        Ok((weights, CacheOutcome::Built))
    }

    /// Fails with [`RegridError::Mismatch`] unless these weights were built for a source grid
    /// with checksum `source_checksum` and for `spec` (`path` only names the file in the error).
    pub fn check_matches(
        &self,
        path: &Path,
        source_checksum: &str,
        spec: &LatLonSpec,
    ) -> Result<()> {
        if self.source_checksum != source_checksum {
            return Err(RegridError::Mismatch {
                path: path.to_path_buf(),
                what: "source grid checksum (SHA-256)".into(),
                expected: source_checksum.into(),
                found: self.source_checksum.clone(),
            });
        }
        if self.target.spec() != spec {
            return Err(RegridError::Mismatch {
                path: path.to_path_buf(),
                what: "target specification".into(),
                expected: format!("{spec:?}"),
                found: format!("{:?}", self.target.spec()),
            });
        }
        Ok(())
    }

    /// Writes the weights file (see the module docs for the layout), atomically; creates the
    /// parent directory when needed.
    pub fn write(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| RegridError::Io {
                action: "create the directory".into(),
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let tmp = temporary_path(path);
        let result = write_file(self, &tmp).and_then(|()| {
            std::fs::rename(&tmp, path).map_err(|source| RegridError::Io {
                action: format!("rename {} to", tmp.display()),
                path: path.to_path_buf(),
                source,
            })
        });
        if result.is_err() {
            // Best effort: a leftover temporary file is harmless but untidy.
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Reads a weights file written by [`Weights::write`], checking its internal consistency
    /// (source checksum, level layout, masks).
    pub fn read(path: &Path) -> Result<Weights> {
        read_file(path)
    }
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

fn nc_err(path: &Path, action: impl Into<String>) -> impl FnOnce(netcdf::Error) -> RegridError {
    let path = path.to_path_buf();
    let action = action.into();
    move |source| RegridError::NetCdf {
        action,
        path,
        source,
    }
}

/// Variables whose unit is degrees.
const DEGREES: [&str; 6] = ["xc_a", "yc_a", "xc_b", "yc_b", "xv_b", "yv_b"];

/// One variable to write: name, dims, long_name, compressed or not.
fn put<T: netcdf::NcTypeDescriptor>(
    file: &mut netcdf::FileMut,
    path: &Path,
    name: &str,
    dims: &[&str],
    long_name: &str,
    values: &[T],
) -> Result<()> {
    let err = || nc_err(path, format!("write variable `{name}` of"));
    let mut var = file.add_variable::<T>(name, dims).map_err(err())?;
    if values.len() > 4096 {
        var.set_compression(DEFLATE, true).map_err(err())?;
    }
    var.put_attribute("long_name", long_name).map_err(err())?;
    if DEGREES.contains(&name) {
        var.put_attribute("units", "degrees").map_err(err())?;
    }
    // An empty dimension is unlimited in netCDF; there is nothing to write to it.
    if !values.is_empty() {
        var.put_values(values, ..).map_err(err())?;
    }
    Ok(())
}

fn index_1based(what: &str, i: usize) -> Result<i32> {
    i32::try_from(i + 1).map_err(|_| RegridError::Invalid {
        what: format!("{what} index for a SCRIP file"),
        expected: "< 2^31 - 1".into(),
        found: i.to_string(),
    })
}

/// `(row, col, S)` of one level, 1-based.
fn triplets(level: &LevelWeights) -> Result<(Vec<i32>, Vec<i32>, Vec<f64>)> {
    let mut rows = Vec::with_capacity(level.n_entries());
    for (r, &p) in level.rows().iter().enumerate() {
        let row = index_1based("target", p as usize)?;
        let len = (level.ptr()[r + 1] - level.ptr()[r]) as usize;
        rows.extend(std::iter::repeat_n(row, len));
    }
    let cols = level
        .cols()
        .iter()
        .map(|&s| index_1based("source", s as usize))
        .collect::<Result<Vec<i32>>>()?;
    Ok((rows, cols, level.weights().into_owned()))
}

fn write_file(w: &Weights, path: &Path) -> Result<()> {
    let (n_a, n_b, n_lev) = (w.n_source(), w.n_target(), w.n_levels());
    let target = w.target();
    let source = w.source();
    let mut file = netcdf::create(path).map_err(nc_err(path, "create"))?;
    let level0 = w.level(0)?;
    let hood = &w.hood;
    for (name, len) in [
        ("n_a", n_a),
        ("n_b", n_b),
        ("n_s", level0.n_entries()),
        ("n_within", hood.within.len()),
        ("n_level", n_lev),
        ("nv_b", 4),
        ("src_grid_rank", 1),
        ("dst_grid_rank", 2),
    ] {
        file.add_dimension(name, len)
            .map_err(nc_err(path, format!("add dimension `{name}` to")))?;
    }
    write_attributes(&mut file, path, w)?;

    // Level 0 as the plain ESMF matrix.
    let (row0, col0, s0) = triplets(level0)?;
    put(
        &mut file,
        path,
        "row",
        &["n_s"],
        "target index (1-based), level 0",
        &row0,
    )?;
    put(
        &mut file,
        path,
        "col",
        &["n_s"],
        "source index (1-based), level 0",
        &col0,
    )?;
    put(&mut file, path, "S", &["n_s"], "weight, level 0", &s0)?;
    drop((row0, col0, s0));
    let mask_b0: Vec<i32> = level0.wet_mask(n_b).iter().map(|&m| i32::from(m)).collect();
    let frac_b0: Vec<f64> = mask_b0.iter().map(|&m| f64::from(m)).collect();
    put(
        &mut file,
        path,
        "mask_b",
        &["n_b"],
        "target wet mask, level 0",
        &mask_b0,
    )?;
    put(
        &mut file,
        path,
        "frac_b",
        &["n_b"],
        "target wet fraction, level 0",
        &frac_b0,
    )?;
    drop((mask_b0, frac_b0));
    let mask_a0: Vec<i32> = source.wet(0)?.iter().map(|&m| i32::from(m)).collect();
    put(
        &mut file,
        path,
        "mask_a",
        &["n_a"],
        "source wet mask, level 0",
        &mask_a0,
    )?;
    drop(mask_a0);

    // The neighbourhood, from which every level follows.
    let within_count = hood
        .ptr
        .windows(2)
        .map(|w| {
            i32::try_from(w[1] - w[0]).map_err(|_| RegridError::Invalid {
                what: "sources within one target's radius".into(),
                expected: "< 2^31".into(),
                found: (w[1] - w[0]).to_string(),
            })
        })
        .collect::<Result<Vec<i32>>>()?;
    put(
        &mut file,
        path,
        "within_count",
        &["n_b"],
        "number of sources (wet or dry) within the target's radius",
        &within_count,
    )?;
    drop(within_count);
    let within = hood
        .within
        .iter()
        .map(|&s| index_1based("source", s as usize))
        .collect::<Result<Vec<i32>>>()?;
    put(
        &mut file,
        path,
        "within",
        &["n_within"],
        "sources within each target's radius (1-based), by distance then index",
        &within,
    )?;
    drop(within);
    let nearest = hood
        .nearest
        .iter()
        .map(|&s| {
            if s == NONE {
                Ok(0)
            } else {
                index_1based("source", s as usize)
            }
        })
        .collect::<Result<Vec<i32>>>()?;
    put(
        &mut file,
        path,
        "nearest",
        &["n_b"],
        "nearest source (1-based); 0: none within nearest_search_cap_m",
        &nearest,
    )?;
    drop(nearest);
    let mask_a_lev: Vec<i8> = source
        .wet_masks()
        .iter()
        .flat_map(|m| m.iter().map(|&v| i8::from(v)))
        .collect();
    put(
        &mut file,
        path,
        "mask_a_lev",
        &["n_level", "n_a"],
        "source wet mask per level",
        &mask_a_lev,
    )?;
    drop(mask_a_lev);

    // Grid descriptions.
    put(
        &mut file,
        path,
        "xc_a",
        &["n_a"],
        "source cell centre longitude",
        source.lon(),
    )?;
    put(
        &mut file,
        path,
        "yc_a",
        &["n_a"],
        "source cell centre latitude",
        source.lat(),
    )?;
    // The target grid's description, one array at a time: the cache file may be written
    // beside granule production, where every megabyte counts.
    let per_cell = |cell: &dyn Fn(usize, usize, &mut Vec<f64>)| {
        let mut out = Vec::with_capacity(n_b);
        for iy in 0..target.ny() {
            for ix in 0..target.nx() {
                cell(iy, ix, &mut out);
            }
        }
        out
    };
    put(
        &mut file,
        path,
        "xc_b",
        &["n_b"],
        "target cell centre longitude",
        &per_cell(&|_, ix, out| out.push(target.longitudes()[ix])),
    )?;
    put(
        &mut file,
        path,
        "yc_b",
        &["n_b"],
        "target cell centre latitude",
        &per_cell(&|iy, _, out| out.push(target.latitudes()[iy])),
    )?;
    put(
        &mut file,
        path,
        "xv_b",
        &["n_b", "nv_b"],
        "target cell corner longitudes",
        &per_cell(&|_, ix, out| {
            let [west, east] = target.lon_bounds(ix);
            out.extend([west, east, east, west]);
        }),
    )?;
    put(
        &mut file,
        path,
        "yv_b",
        &["n_b", "nv_b"],
        "target cell corner latitudes",
        &per_cell(&|iy, _, out| {
            let [south, north] = target.lat_bounds(iy);
            out.extend([south, south, north, north]);
        }),
    )?;
    put(
        &mut file,
        path,
        "area_b",
        &["n_b"],
        "target cell area (steradians)",
        &per_cell(&|iy, _, out| {
            out.push(target.row_area(iy) / (AUTHALIC_RADIUS_M * AUTHALIC_RADIUS_M));
        }),
    )?;
    let src_dims = vec![i32::try_from(n_a).unwrap_or(i32::MAX)];
    let dst_dims = [target.nx(), target.ny()].map(|d| i32::try_from(d).unwrap_or(i32::MAX));
    put(
        &mut file,
        path,
        "src_grid_dims",
        &["src_grid_rank"],
        "source grid dimensions",
        &src_dims,
    )?;
    put(
        &mut file,
        path,
        "dst_grid_dims",
        &["dst_grid_rank"],
        "target grid dimensions (lon, lat)",
        &dst_dims,
    )?;
    file.close().map_err(nc_err(path, "close"))?;
    Ok(())
}

fn write_attributes(file: &mut netcdf::FileMut, path: &Path, w: &Weights) -> Result<()> {
    let spec = w.target().spec();
    let limits = w.limits();
    let source = w.source();
    let radius_rule = match spec.radius {
        TargetRadius::AreaEquivalent => "sqrt(area/pi)",
        TargetRadius::Fixed(_) => "fixed",
    };
    let shape: Vec<i64> = source.shape().iter().map(|&d| d as i64).collect();
    let mut attrs: Vec<(&str, AttributeValue)> = vec![
        ("title", "ECCO V4r4 lat-lon regridding weights (edp-regrid)".into()),
        ("conventions", "NCAR-CSM".into()),
        ("map_method", "V4r4 bin average of wet sources within r_p, nearest wet source fallback".into()),
        ("normalization", "none".into()),
        (
            "algorithm",
            "ECCO V4r4 (ecco-format 7): chord distances on a sphere of radius chord_sphere_radius_m; \
             per target p the wet sources of level k within min(r_p, within_search_cap_m) (at most \
             neighbour_cap nearest) get equal weights 1/n; if there is none, the nearest wet source \
             (within nearest_search_cap_m) gets weight 1; the target is land at level k when the \
             nearest source cell of any kind is dry there or farther than nearest_search_cap_m; \
             distance ties go to the smaller source index"
                .into(),
        ),
        (
            "level_storage",
            "row/col/S: level 0 only (plain ESMF); level k follows from within_count/within/nearest \
             and mask_a_lev[k] by the algorithm above (sources in within-list order)"
                .into(),
        ),
        ("edp_weights_format_version", FORMAT_VERSION.into()),
        ("software", format!("edp-regrid {}", env!("CARGO_PKG_VERSION")).into()),
        ("source_grid_sha256", w.source_checksum().into()),
        ("source_shape", shape.into()),
        ("source_index_order", "flat C order of source_shape; LLC (tile, j, i): s = t*N*N + j*N + i".into()),
        ("source_min_cell_size_m", source.min_cell_size_m().into()),
        ("source_max_cell_size_m", source.max_cell_size_m().into()),
        ("target_index_order", "p = iy*nx + ix, iy = 0 is the southernmost row".into()),
        ("target_resolution_deg", spec.resolution_deg.into()),
        ("target_lon_min", spec.lon_min.into()),
        ("target_lon_max", spec.lon_max.into()),
        ("target_lat_min", spec.lat_min.into()),
        ("target_lat_max", spec.lat_max.into()),
        ("target_radius", radius_rule.into()),
        ("authalic_radius_m", AUTHALIC_RADIUS_M.into()),
        ("chord_sphere_radius_m", CHORD_SPHERE_RADIUS_M.into()),
        ("within_search_cap_m", limits.within_cap_m.into()),
        ("nearest_search_cap_m", limits.nearest_cap_m.into()),
        ("neighbour_cap", (limits.neighbour_cap as i64).into()),
        ("targets_with_source", (w.stats().targets_with_source as i64).into()),
        ("max_within_all", (w.stats().max_within_all as i64).into()),
    ];
    if let TargetRadius::Fixed(r) = spec.radius {
        attrs.push(("target_radius_m", r.into()));
    }
    for (name, value) in attrs {
        file.add_attribute(name, value)
            .map_err(nc_err(path, format!("write global attribute `{name}` of")))?;
    }
    Ok(())
}

/// Reading helpers bound to one open file.
struct Reader<'f> {
    file: &'f netcdf::File,
    path: &'f Path,
}

impl Reader<'_> {
    fn bad(
        &self,
        what: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> RegridError {
        RegridError::BadFile {
            path: self.path.to_path_buf(),
            what: what.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    fn attr(&self, name: &str) -> Result<AttributeValue> {
        let attr = self
            .file
            .attribute(name)
            .ok_or_else(|| self.bad(format!("global attribute `{name}`"), "present", "missing"))?;
        attr.value()
            .map_err(nc_err(self.path, format!("read attribute `{name}` of")))
    }

    fn attr_f64(&self, name: &str) -> Result<f64> {
        match self.attr(name)? {
            AttributeValue::Double(v) => Ok(v),
            other => Err(self.bad(
                format!("global attribute `{name}`"),
                "a double",
                format!("{other:?}"),
            )),
        }
    }

    fn attr_int(&self, name: &str) -> Result<i64> {
        match self.attr(name)? {
            AttributeValue::Int(v) => Ok(i64::from(v)),
            AttributeValue::Longlong(v) => Ok(v),
            other => Err(self.bad(
                format!("global attribute `{name}`"),
                "an integer",
                format!("{other:?}"),
            )),
        }
    }

    fn attr_usize(&self, name: &str) -> Result<usize> {
        let v = self.attr_int(name)?;
        usize::try_from(v)
            .map_err(|_| self.bad(format!("global attribute `{name}`"), ">= 0", v.to_string()))
    }

    fn attr_str(&self, name: &str) -> Result<String> {
        match self.attr(name)? {
            AttributeValue::Str(v) => Ok(v),
            other => Err(self.bad(
                format!("global attribute `{name}`"),
                "a string",
                format!("{other:?}"),
            )),
        }
    }

    fn dim(&self, name: &str) -> Result<usize> {
        self.file
            .dimension_len(name)
            .ok_or_else(|| self.bad(format!("dimension `{name}`"), "present", "missing"))
    }

    fn values<T: netcdf::NcTypeDescriptor + Copy>(&self, name: &str, len: usize) -> Result<Vec<T>> {
        let var = self
            .file
            .variable(name)
            .ok_or_else(|| self.bad(format!("variable `{name}`"), "present", "missing"))?;
        let values = var
            .get_values::<T, _>(..)
            .map_err(nc_err(self.path, format!("read variable `{name}` of")))?;
        if values.len() != len {
            return Err(self.bad(
                format!("variable `{name}`"),
                format!("{len} values"),
                values.len().to_string(),
            ));
        }
        Ok(values)
    }
}

/// Level weights from 1-based `(row, col, S)` triplets sorted by row.
fn level_from_triplets(
    r: &Reader<'_>,
    k: usize,
    rows1: &[i32],
    cols1: &[i32],
    s: &[f64],
    n_nearest: usize,
    (n_b, n_a): (usize, usize),
) -> Result<LevelWeights> {
    let mut rows = Vec::new();
    let mut ptr = vec![0u32];
    let mut cols = Vec::with_capacity(cols1.len());
    for (e, (&row, &col)) in rows1.iter().zip(cols1).enumerate() {
        let (Ok(p), Ok(c)) = (u32::try_from(row - 1), u32::try_from(col - 1)) else {
            return Err(r.bad(
                format!("entry {e} of level {k}"),
                "1-based indices >= 1",
                format!("row {row}, col {col}"),
            ));
        };
        if rows.last() != Some(&p) {
            if e > 0 {
                ptr.push(e as u32);
            }
            rows.push(p);
        }
        cols.push(c);
    }
    if !cols.is_empty() {
        ptr.push(cols.len() as u32);
    }
    LevelWeights::from_parts(rows, ptr, cols, s.to_vec(), n_nearest, n_b, n_a).map_err(|e| {
        r.bad(
            format!("weights of level {k}"),
            "consistent CSR rows",
            e.to_string(),
        )
    })
}

fn read_file(path: &Path) -> Result<Weights> {
    let file = netcdf::open(path).map_err(nc_err(path, "open"))?;
    let r = Reader { file: &file, path };
    let version = r.attr_int("edp_weights_format_version")?;
    if version != i64::from(FORMAT_VERSION) {
        return Err(r.bad(
            "edp_weights_format_version",
            FORMAT_VERSION.to_string(),
            version.to_string(),
        ));
    }
    let (n_a, n_b, n_lev) = (r.dim("n_a")?, r.dim("n_b")?, r.dim("n_level")?);

    // Source grid, with its checksum as the integrity check of what was read.
    let shape = match r.attr("source_shape")? {
        AttributeValue::Longlongs(v) => {
            v.iter().map(|&d| usize::try_from(d).unwrap_or(0)).collect()
        }
        AttributeValue::Longlong(v) => vec![usize::try_from(v).unwrap_or(0)],
        other => {
            return Err(r.bad(
                "global attribute `source_shape`",
                "int64 values",
                format!("{other:?}"),
            ));
        }
    };
    let lon = r.values::<f64>("xc_a", n_a)?;
    let lat = r.values::<f64>("yc_a", n_a)?;
    let mask_a_lev = r.values::<i8>("mask_a_lev", n_lev * n_a)?;
    let wet: Vec<Vec<bool>> = mask_a_lev
        .chunks(n_a.max(1))
        .map(|c| c.iter().map(|&m| m != 0).collect())
        .collect();
    let source = SourceGrid::new(
        shape,
        lon,
        lat,
        wet,
        r.attr_f64("source_min_cell_size_m")?,
        r.attr_f64("source_max_cell_size_m")?,
    )
    .map_err(|e| r.bad("source grid", "a valid source grid", e.to_string()))?;
    let checksum = r.attr_str("source_grid_sha256")?;
    if source.checksum() != checksum {
        return Err(r.bad(
            "source grid (xc_a, yc_a, mask_a_lev, cell sizes)",
            format!("SHA-256 {checksum}"),
            format!("SHA-256 {}", source.checksum()),
        ));
    }

    // Target grid and limits, rebuilt from the specification and compared.
    let radius = match r.attr_str("target_radius")?.as_str() {
        "sqrt(area/pi)" => TargetRadius::AreaEquivalent,
        "fixed" => TargetRadius::Fixed(r.attr_f64("target_radius_m")?),
        other => {
            return Err(r.bad(
                "global attribute `target_radius`",
                "\"sqrt(area/pi)\" or \"fixed\"",
                other,
            ));
        }
    };
    let spec = LatLonSpec {
        resolution_deg: r.attr_f64("target_resolution_deg")?,
        lon_min: r.attr_f64("target_lon_min")?,
        lon_max: r.attr_f64("target_lon_max")?,
        lat_min: r.attr_f64("target_lat_min")?,
        lat_max: r.attr_f64("target_lat_max")?,
        radius,
    };
    let target = LatLonGrid::new(spec).map_err(|e| {
        r.bad(
            "target specification",
            "a valid lat-lon grid",
            e.to_string(),
        )
    })?;
    if target.len() != n_b {
        return Err(r.bad(
            "dimension `n_b`",
            format!("{} cells of the target specification", target.len()),
            n_b.to_string(),
        ));
    }
    let limits = SearchLimits::new(&source, &target);
    let stored = SearchLimits {
        within_cap_m: r.attr_f64("within_search_cap_m")?,
        nearest_cap_m: r.attr_f64("nearest_search_cap_m")?,
        neighbour_cap: r.attr_usize("neighbour_cap")?,
    };
    if stored != limits {
        return Err(r.bad(
            "search limits",
            format!("{limits:?}"),
            format!("{stored:?}"),
        ));
    }

    // The neighbourhood, 1-based in the file.
    let within_count = r.values::<i32>("within_count", n_b)?;
    let n_within = r.dim("n_within")?;
    let mut ptr = Vec::with_capacity(n_b + 1);
    ptr.push(0usize);
    for (p, &count) in within_count.iter().enumerate() {
        let count = usize::try_from(count).map_err(|_| {
            r.bad(
                format!("within_count of target {p}"),
                ">= 0",
                count.to_string(),
            )
        })?;
        ptr.push(ptr[p] + count);
    }
    if ptr[n_b] != n_within {
        return Err(r.bad(
            "variable `within_count`",
            format!("counts summing to n_within = {n_within}"),
            ptr[n_b].to_string(),
        ));
    }
    let source_index = |what: &str, value: i32| -> Result<u32> {
        match u32::try_from(value) {
            Ok(s) if (1..=n_a).contains(&(s as usize)) => Ok(s - 1),
            _ => Err(r.bad(
                format!("variable `{what}`"),
                format!("1-based source indices 1 ..= {n_a}"),
                value.to_string(),
            )),
        }
    };
    let within = r
        .values::<i32>("within", n_within)?
        .into_iter()
        .map(|v| source_index("within", v))
        .collect::<Result<Vec<u32>>>()?;
    let nearest = r
        .values::<i32>("nearest", n_b)?
        .into_iter()
        .map(|v| {
            if v == 0 {
                Ok(NONE)
            } else {
                source_index("nearest", v)
            }
        })
        .collect::<Result<Vec<u32>>>()?;
    let hood = Neighbourhood {
        ptr,
        within,
        nearest,
    };
    let weights = Weights::from_neighbourhood(source, checksum, target, limits, hood)
        .map_err(|e| r.bad("neighbourhood", "one that fits the grids", e.to_string()))?;
    let stored = BuildStats {
        targets_with_source: r.attr_usize("targets_with_source")?,
        max_within_all: r.attr_usize("max_within_all")?,
    };
    if &stored != weights.stats() {
        return Err(r.bad(
            "global attributes `targets_with_source`, `max_within_all`",
            format!("{:?} (of the neighbourhood)", weights.stats()),
            format!("{stored:?}"),
        ));
    }

    // The plain level-0 matrix and mask must be what the neighbourhood gives.
    let level0 = weights.level(0)?;
    let n_s = r.dim("n_s")?;
    let plain = level_from_triplets(
        &r,
        0,
        &r.values::<i32>("row", n_s)?,
        &r.values::<i32>("col", n_s)?,
        &r.values::<f64>("S", n_s)?,
        level0.n_nearest(),
        (n_b, n_a),
    )?;
    if &plain != level0 {
        return Err(r.bad(
            "row/col/S",
            "the level-0 matrix of the neighbourhood",
            "a different matrix",
        ));
    }
    let mask_b = r.values::<i32>("mask_b", n_b)?;
    if level0
        .wet_mask(n_b)
        .iter()
        .zip(&mask_b)
        .any(|(&wet, &m)| wet != (m != 0))
    {
        return Err(r.bad(
            "mask_b",
            "1 exactly at the rows of the level-0 matrix",
            "a different mask",
        ));
    }
    Ok(weights)
}
