//! MDS grid directories as MITgcm writes them: 2-D float64 fields `XC YC XG YG AngleCS
//! AngleSN DXG DYG DXC DYC RAC RAS RAW RAZ Depth`, vertical `RC RF DRF DRC`, optional 3-D
//! `hFacC hFacW hFacS` and optional `tile00[1-5].mitgrid` (for exact corner points).

use crate::corners::Corners;
use crate::error::{GridError, Result};
use crate::mitgrid::{self, facet_dims, facet_position};
use crate::{Grid, HFacs};
use edp_mds::{ByteOrder, FieldSelector, Llc, MdsFile, Meta, Precision, write_mds};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// The 2-D MDS grid files, in the order they are read and written.
pub const FIELDS_2D: [&str; 15] = [
    "XC", "YC", "XG", "YG", "AngleCS", "AngleSN", "DXG", "DYG", "DXC", "DYC", "RAC", "RAS", "RAW",
    "RAZ", "Depth",
];

/// The vertical MDS grid files.
pub const FIELDS_1D: [&str; 4] = ["RC", "RF", "DRF", "DRC"];

/// The optional 3-D MDS grid files.
pub const FIELDS_3D: [&str; 3] = ["hFacC", "hFacW", "hFacS"];

/// True for the names (relative to a grid directory) that [`Grid::from_mds_dir`] reads: the
/// `.meta`/`.data` of [`FIELDS_2D`], [`FIELDS_1D`] and [`FIELDS_3D`], and the five
/// `tileNNN.mitgrid` files. A worker mirroring a remote grid directory fetches only these (a
/// grid directory also holds masks, basins and other model files the granules never read).
pub fn is_grid_file(name: &str) -> bool {
    if (1..=5).any(|facet| name == mitgrid::file_name(facet)) {
        return true;
    }
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    matches!(ext, "meta" | "data")
        && FIELDS_2D
            .iter()
            .chain(FIELDS_1D.iter())
            .chain(FIELDS_3D.iter())
            .any(|field| *field == stem)
}

/// What [`Grid::write_mds_dir`] writes besides the 2-D and vertical fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdsDirOptions {
    /// Also write `hFacC`, `hFacW`, `hFacS` (3-D float64; 42 MB each for LLC90 x 50).
    pub hfac: bool,
    /// Also write `tile001..005.mitgrid` so that reloading gives exact corner points. Only
    /// the `XG`/`YG` records are complete; the other records hold the cell values in their
    /// interior and 0 in the extra row/column.
    pub mitgrid: bool,
}

impl Default for MdsDirOptions {
    fn default() -> Self {
        MdsDirOptions {
            hfac: false,
            mitgrid: true,
        }
    }
}

fn stem(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

fn data_path(dir: &Path, name: &str) -> PathBuf {
    PathBuf::from(format!("{}.data", stem(dir, name).display()))
}

fn require(dir: &Path, name: &str, why: &str) -> Result<MdsFile> {
    let path = stem(dir, name);
    let meta = PathBuf::from(format!("{}.meta", path.display()));
    let data = PathBuf::from(format!("{}.data", path.display()));
    for p in [&meta, &data] {
        if !p.is_file() {
            return Err(GridError::MissingFile {
                path: p.clone(),
                why: why.to_owned(),
            });
        }
    }
    Ok(MdsFile::open(&path, ByteOrder::Big)?)
}

fn read_2d(dir: &Path, name: &str, n: usize) -> Result<Vec<f64>> {
    let file = require(dir, name, "required 2-D grid field")?;
    if file.meta.llc() != Some(Llc::new(n)) || file.meta.nz() != 1 || file.meta.n_records != 1 {
        return Err(GridError::Shape {
            path: file.meta_path.clone(),
            what: name.to_owned(),
            expected: format!("one 2-D LLC({n}) record (dimList {n} x {})", 13 * n),
            found: file.meta.shape_description(),
        });
    }
    let values = file.read_tiles::<f64>(&FieldSelector::Record(0))?.data;
    check_range(&data_path(dir, name), name, &values)?;
    Ok(values)
}

/// Slack for values computed in floating point at the edge of their range (a cosine of
/// 1.0000000000000002, a longitude of 180.00000000000003).
const RANGE_SLACK: f64 = 1e-6;

/// The range every value of a grid field must lie in, or `None` for "any finite value".
fn valid_range(name: &str) -> Option<(f64, f64)> {
    match name {
        "XC" | "XG" => Some((-180.0, 360.0)),
        "YC" | "YG" => Some((-90.0, 90.0)),
        "AngleCS" | "AngleSN" => Some((-1.0, 1.0)),
        "DXG" | "DYG" | "DXC" | "DYC" | "RAC" | "RAS" | "RAW" | "RAZ" | "Depth" => {
            Some((0.0, f64::MAX))
        }
        _ => None,
    }
}

/// Grid fields are checked on load: a NaN or ±Inf coordinate, metric or angle, or a value
/// outside its physical range (longitudes, latitudes, cosines, lengths and areas), would
/// silently spread into every granule made with the grid. The first offending value is
/// reported with its index.
pub(crate) fn check_range(path: &Path, name: &str, values: &[f64]) -> Result<()> {
    let (low, high) = valid_range(name).unwrap_or((f64::MIN, f64::MAX));
    let bad = values
        .iter()
        .position(|v| !v.is_finite() || *v < low - RANGE_SLACK || *v > high + RANGE_SLACK);
    match bad {
        None => Ok(()),
        Some(index) => Err(GridError::Invalid {
            what: format!("grid field {name} of {}", path.display()),
            expected: if low == f64::MIN {
                "finite values".to_string()
            } else if high == f64::MAX {
                format!("finite values >= {low}")
            } else {
                format!("finite values in [{low}, {high}]")
            },
            found: format!(
                "{} at value index {index} ({} bad values in all)",
                values[index],
                values
                    .iter()
                    .filter(|v| !v.is_finite()
                        || **v < low - RANGE_SLACK
                        || **v > high + RANGE_SLACK)
                    .count()
            ),
        }),
    }
}

fn read_1d(dir: &Path, name: &str, len: Option<usize>) -> Result<Vec<f64>> {
    let file = require(dir, name, "required vertical grid field")?;
    let values = file.read_all::<f64>()?;
    if let Some(len) = len
        && values.len() != len
    {
        return Err(GridError::Shape {
            path: file.meta_path.clone(),
            what: name.to_owned(),
            expected: format!("{len} values"),
            found: format!("{} values", values.len()),
        });
    }
    check_range(&data_path(dir, name), name, &values)?;
    Ok(values)
}

fn read_3d_optional(dir: &Path, name: &str, n: usize, nz: usize) -> Result<Option<Vec<f64>>> {
    let path = stem(dir, name);
    if !PathBuf::from(format!("{}.meta", path.display())).is_file() {
        return Ok(None);
    }
    let file = MdsFile::open(&path, ByteOrder::Big)?;
    if file.meta.llc() != Some(Llc::new(n)) || file.meta.nz() != nz {
        return Err(GridError::Shape {
            path: file.meta_path.clone(),
            what: name.to_owned(),
            expected: format!("LLC({n}) with {nz} levels"),
            found: file.meta.shape_description(),
        });
    }
    Ok(Some(
        file.read_tiles::<f64>(&FieldSelector::Record(0))?.data,
    ))
}

/// The native grid-geometry NetCDF file of an MDS grid directory
/// (`GRID_GEOMETRY_*native*.nc`, e.g. `GRID_GEOMETRY_ECCO_V4r4_native_llc0090.nc`), if any;
/// several are an error (which one holds the grid is not clear).
pub fn geometry_file(dir: &Path) -> Result<Option<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|source| GridError::Io {
        path: dir.to_path_buf(),
        action: "list the grid directory",
        source,
    })?;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("GRID_GEOMETRY") && name.contains("native") && name.ends_with(".nc") {
            found.push(entry.path());
        }
    }
    found.sort();
    match found.len() {
        0 | 1 => Ok(found.pop()),
        _ => Err(GridError::Shape {
            path: dir.to_path_buf(),
            what: "native grid-geometry files (GRID_GEOMETRY_*native*.nc)".into(),
            expected: "at most one".into(),
            found: found
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

impl Grid {
    /// Loads an MDS grid directory (big-endian, as MITgcm writes it). `hFacC/W/S` are read
    /// when present and otherwise derived from `Depth` (docs/mds-llc.md §4.2); corner points
    /// beyond the tiles come from the connectivity rule, then `tile00[1-5].mitgrid`, then
    /// extrapolation (see [`Corners::extend`]).
    pub fn from_mds_dir(dir: impl AsRef<Path>) -> Result<Grid> {
        let dir = dir.as_ref();
        let xc_meta = require(dir, "XC", "it defines the grid size")?.meta;
        let n = xc_meta.llc().map(|l| l.n).ok_or_else(|| GridError::Shape {
            path: dir.join("XC.meta"),
            what: "XC".into(),
            expected: "an LLC compact field (ny = 13 nx)".into(),
            found: format!("nx = {}, ny = {}", xc_meta.nx(), xc_meta.ny()),
        })?;

        let mut fields: Vec<Vec<f64>> = FIELDS_2D
            .par_iter()
            .map(|name| read_2d(dir, name, n))
            .collect::<Result<Vec<_>>>()?;
        let rc = read_1d(dir, "RC", None)?;
        let nz = rc.len();
        let rf = read_1d(dir, "RF", Some(nz + 1))?;
        let drf = read_1d(dir, "DRF", Some(nz))?;
        let drc = read_1d(dir, "DRC", Some(nz))?;
        let loaded = HFacs {
            c: read_3d_optional(dir, "hFacC", n, nz)?,
            w: read_3d_optional(dir, "hFacW", n, nz)?,
            s: read_3d_optional(dir, "hFacS", n, nz)?,
        };
        let mitgrids = mitgrid::read_dir(dir, n)?;

        // FIELDS_2D order; pop from the back.
        let mut next = || fields.pop().unwrap_or_default();
        let (depth, raz, raw, ras, rac, dyc, dxc, dyg, dxg, sn, cs, yg, xg, yc, xc) = (
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
            next(),
        );
        // Exact corners: ECCO's own grid-geometry file when the directory has one (as EDP's
        // grid directories do), else the neighbour rule and the .mitgrid files, and only then
        // extrapolation (`Corners::provenance` says which).
        let geometry = geometry_file(dir)?;
        let corners = match &geometry {
            Some(path) => crate::netcdf_io::read_corners(path, n)?,
            None => Corners::extend(n, &xg, &yg, &mitgrids),
        };
        // The ice-shelf draft is in no MDS grid file (MITgcm reads it from the shelf-ice
        // topography input): only ECCO's grid-geometry file gives it.
        let ice_shelf_draft = match &geometry {
            Some(path) => crate::netcdf_io::read_ice_shelf_draft(path, n)?,
            None => None,
        };
        let mut grid = Grid {
            n,
            nz,
            xc,
            yc,
            xg,
            yg,
            cs,
            sn,
            dxg,
            dyg,
            dxc,
            dyc,
            rac,
            raw,
            ras,
            raz,
            depth,
            rc,
            rf,
            drf,
            drc,
            hfac_c: Vec::new(),
            hfac_w: Vec::new(),
            hfac_s: Vec::new(),
            mask_c: Vec::new(),
            mask_w: Vec::new(),
            mask_s: Vec::new(),
            corners,
            ice_shelf_draft,
        };
        grid.derive_hfacs(loaded);
        Ok(grid)
    }

    /// The 2-D array behind an MDS grid file name of [`FIELDS_2D`].
    pub fn field_2d(&self, name: &str) -> Option<&[f64]> {
        Some(match name {
            "XC" => &self.xc,
            "YC" => &self.yc,
            "XG" => &self.xg,
            "YG" => &self.yg,
            "AngleCS" => &self.cs,
            "AngleSN" => &self.sn,
            "DXG" => &self.dxg,
            "DYG" => &self.dyg,
            "DXC" => &self.dxc,
            "DYC" => &self.dyc,
            "RAC" => &self.rac,
            "RAS" => &self.ras,
            "RAW" => &self.raw,
            "RAZ" => &self.raz,
            "Depth" => &self.depth,
            _ => return None,
        })
    }

    /// Writes the grid as an MDS grid directory (big-endian float64, MITgcm layout) that
    /// [`Grid::from_mds_dir`] reads back identically.
    pub fn write_mds_dir(&self, dir: impl AsRef<Path>, options: &MdsDirOptions) -> Result<()> {
        let dir = dir.as_ref();
        self.check_consistent()?;
        std::fs::create_dir_all(dir).map_err(|source| GridError::Io {
            action: "create directory",
            path: dir.to_path_buf(),
            source,
        })?;
        let llc = self.llc();
        for name in FIELDS_2D {
            let tiles = self.field_2d(name).unwrap_or_default();
            let compact = llc.tiles_to_compact(tiles)?;
            let meta = Meta::new_llc(format!("{name}.meta"), self.n, 1, Precision::F64, 1);
            write_mds(stem(dir, name), &meta, &compact, ByteOrder::Big)?;
        }
        for (name, values) in [
            ("RC", &self.rc),
            ("RF", &self.rf),
            ("DRF", &self.drf),
            ("DRC", &self.drc),
        ] {
            let meta = Meta::new_vertical(format!("{name}.meta"), values.len(), Precision::F64);
            write_mds(stem(dir, name), &meta, values, ByteOrder::Big)?;
        }
        if options.hfac {
            for (name, values) in [
                ("hFacC", &self.hfac_c),
                ("hFacW", &self.hfac_w),
                ("hFacS", &self.hfac_s),
            ] {
                let meta =
                    Meta::new_llc(format!("{name}.meta"), self.n, self.nz, Precision::F64, 1);
                // Held as f32 (see `Grid::hfac_c`); written as MITgcm's f64, exactly.
                let wide: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
                write_mds(
                    stem(dir, name),
                    &meta,
                    &llc.tiles_to_compact(&wide)?,
                    ByteOrder::Big,
                )?;
            }
        }
        if options.mitgrid {
            for facet in 1..=5 {
                mitgrid::write(
                    &dir.join(mitgrid::file_name(facet)),
                    self.n,
                    facet,
                    &self.mitgrid_records(facet),
                )?;
            }
        }
        Ok(())
    }

    /// The 16 `.mitgrid` records of `facet`: exact `XG`/`YG` on all `(ny+1) x (nx+1)` points,
    /// cell values in the interior of the others (see [`MdsDirOptions::mitgrid`]).
    fn mitgrid_records(&self, facet: usize) -> Vec<Vec<f64>> {
        let n = self.n;
        let (nx, ny) = facet_dims(n, facet);
        let width = nx + 1;
        let mut records = vec![vec![0.0; (nx + 1) * (ny + 1)]; 16];
        // Record sources (XG and YG, 5 and 6, come from the corners).
        let cell: [Option<&[f64]>; 16] = [
            Some(&self.xc),
            Some(&self.yc),
            Some(&self.dxg),
            Some(&self.dyg),
            Some(&self.rac),
            None,
            None,
            Some(&self.dxc),
            Some(&self.dyc),
            Some(&self.raz),
            Some(&self.dxc),
            Some(&self.dyc),
            Some(&self.raw),
            Some(&self.ras),
            Some(&self.dxg),
            Some(&self.dyg),
        ];
        for t in (0..13).filter(|t| facet_position(n, *t, 0, 0).0 == facet) {
            for jg in 0..=n {
                for ig in 0..=n {
                    let (_, y, x) = facet_position(n, t, jg, ig);
                    let at = y * width + x;
                    let (lon, lat) = self.corners.get(t, jg, ig);
                    records[5][at] = lon;
                    records[6][at] = lat;
                    if jg < n && ig < n {
                        for (r, src) in cell.iter().enumerate() {
                            if let Some(src) = src {
                                records[r][at] = src[self.index(t, jg, ig)];
                            }
                        }
                    }
                }
            }
        }
        records
    }
}
