//! The ECCO grid-geometry NetCDF layout (`GRID_GEOMETRY_ECCO_V4r4_native_llc0090.nc`,
//! docs/mds-llc.md §4.3): loading, and writing the same structure (dimensions, coordinates and
//! data variables, without the CF/ACDD metadata, which the granule writer adds).
//!
//! NetCDF name -> [`Grid`] field: `XC YC XG YG` -> `xc yc xg yg`, `CS SN` -> `cs sn`,
//! `rA rAw rAs rAz` -> `rac raw ras raz`, `dxG dyG dxC dyC` -> `dxg dyg dxc dyc`, `Depth`,
//! `Z` -> `rc`, `Zp1` -> `rf`, `drF` -> `drf`, `drC` (`k_p1`) -> `drc` (first `nz`),
//! `hFacC/W/S` -> `hfac_c/w/s`, `XC_bnds/YC_bnds` -> `corners`.

use crate::corners::Corners;
use crate::error::{GridError, Result};
use crate::{Grid, HFacs};
use std::path::Path;

/// Gravity used for `PHrefC`/`PHrefF` (V4r4 `gravity = 9.81`).
const GRAVITY: f64 = 9.81;

struct Reader<'a> {
    file: netcdf::File,
    path: &'a Path,
}

impl Reader<'_> {
    fn dim(&self, name: &str) -> Result<usize> {
        self.file
            .dimension_len(name)
            .ok_or_else(|| GridError::MissingVariable {
                path: self.path.to_path_buf(),
                what: format!("dimension {name}"),
            })
    }

    fn optional(&self, name: &str, len: usize) -> Result<Option<Vec<f64>>> {
        let Some(var) = self.file.variable(name) else {
            return Ok(None);
        };
        let values = var
            .get_values::<f64, _>(..)
            .map_err(|source| GridError::NetCdf {
                path: self.path.to_path_buf(),
                what: format!("read variable {name}"),
                source,
            })?;
        if values.len() != len {
            let dims: Vec<String> = var
                .dimensions()
                .iter()
                .map(|d| format!("{}={}", d.name(), d.len()))
                .collect();
            return Err(GridError::Shape {
                path: self.path.to_path_buf(),
                what: format!("variable {name}"),
                expected: format!("{len} values"),
                found: format!("{} values ({})", values.len(), dims.join(", ")),
            });
        }
        Ok(Some(values))
    }

    fn required(&self, name: &str, len: usize) -> Result<Vec<f64>> {
        self.optional(name, len)?
            .ok_or_else(|| GridError::MissingVariable {
                path: self.path.to_path_buf(),
                what: format!("variable {name}"),
            })
    }
}

/// `XC_bnds`/`YC_bnds` of a grid-geometry NetCDF file as corners of an LLC(`n`) grid. An
/// error when the file cannot be read, has no bounds or bounds of another grid size.
pub(crate) fn read_corners(path: &Path, n: usize) -> Result<Corners> {
    let file = netcdf::open(path).map_err(|source| GridError::NetCdf {
        path: path.to_path_buf(),
        what: "open".into(),
        source,
    })?;
    let r = Reader { file, path };
    let file_n = r.dim("i")?;
    if file_n != n {
        return Err(GridError::Shape {
            path: path.to_path_buf(),
            what: "dimension i (tile size)".into(),
            expected: format!("{n}, the tile size of the MDS grid files"),
            found: file_n.to_string(),
        });
    }
    let len = 4 * 13 * n * n;
    let xb = r.required("XC_bnds", len)?;
    let yb = r.required("YC_bnds", len)?;
    Ok(Corners::from_bounds(n, &xb, &yb))
}

/// `ice_shelf_draft` of a grid-geometry NetCDF file of an LLC(`n`) grid (V4r5), `None` when
/// the file has none (V4r4). Called after [`read_corners`], which checks the tile size.
pub(crate) fn read_ice_shelf_draft(path: &Path, n: usize) -> Result<Option<Vec<f64>>> {
    let file = netcdf::open(path).map_err(|source| GridError::NetCdf {
        path: path.to_path_buf(),
        what: "open".into(),
        source,
    })?;
    Reader { file, path }.optional(ICE_SHELF_DRAFT, 13 * n * n)
}

/// The V4r5 geometry variables of the ice shelves.
const ICE_SHELF_DRAFT: &str = "ice_shelf_draft";
const OCEAN_COLUMN_THICKNESS: &str = "ocean_column_thickness";

impl Grid {
    /// Loads a grid-geometry NetCDF file in the ECCO layout. `hFacC/W/S` are read when
    /// present (else derived from `Depth`); corners come from `XC_bnds`/`YC_bnds` when
    /// present (else the connectivity rule with extrapolation, see [`Corners::extend`]).
    pub fn from_netcdf(path: impl AsRef<Path>) -> Result<Grid> {
        let path = path.as_ref();
        let file = netcdf::open(path).map_err(|source| GridError::NetCdf {
            path: path.to_path_buf(),
            what: "open".into(),
            source,
        })?;
        let r = Reader { file, path };
        let n = r.dim("i")?;
        let tiles = r.dim("tile")?;
        if tiles != 13 {
            return Err(GridError::Shape {
                path: path.to_path_buf(),
                what: "dimension tile".into(),
                expected: "13".into(),
                found: tiles.to_string(),
            });
        }
        let nz = r.dim("k")?;
        let cells = 13 * n * n;
        let two_d = |name: &str| r.required(name, cells);
        // `depth` is the ocean column thickness (MITgcm's `Depth`); a V4r5 file's `Depth` is
        // the seafloor, below the ice-shelf draft.
        let ice_shelf_draft = r.optional(ICE_SHELF_DRAFT, cells)?;
        let depth = match (r.optional(OCEAN_COLUMN_THICKNESS, cells)?, &ice_shelf_draft) {
            (Some(thickness), _) => thickness,
            (None, Some(draft)) => two_d("Depth")?
                .iter()
                .zip(draft)
                .map(|(seafloor, draft)| seafloor - draft)
                .collect(),
            (None, None) => two_d("Depth")?,
        };
        let xg = two_d("XG")?;
        let yg = two_d("YG")?;
        let corners = match (
            r.optional("XC_bnds", 4 * cells)?,
            r.optional("YC_bnds", 4 * cells)?,
        ) {
            (Some(xb), Some(yb)) => Corners::from_bounds(n, &xb, &yb),
            _ => Corners::extend(n, &xg, &yg, &Default::default()),
        };
        let mut drc = r.required("drC", nz + 1)?;
        drc.truncate(nz);
        let loaded = HFacs {
            c: r.optional("hFacC", nz * cells)?,
            w: r.optional("hFacW", nz * cells)?,
            s: r.optional("hFacS", nz * cells)?,
        };
        let mut grid = Grid {
            n,
            nz,
            xc: two_d("XC")?,
            yc: two_d("YC")?,
            xg,
            yg,
            cs: two_d("CS")?,
            sn: two_d("SN")?,
            dxg: two_d("dxG")?,
            dyg: two_d("dyG")?,
            dxc: two_d("dxC")?,
            dyc: two_d("dyC")?,
            rac: two_d("rA")?,
            raw: two_d("rAw")?,
            ras: two_d("rAs")?,
            raz: two_d("rAz")?,
            depth,
            rc: r.required("Z", nz)?,
            rf: r.required("Zp1", nz + 1)?,
            drf: r.required("drF", nz)?,
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

    /// Writes the grid in the ECCO grid-geometry layout: dims `i i_g j j_g k k_u k_l k_p1
    /// tile nb nv`; int32 index coordinates; float32 `XC YC XG YG Z Zp1 Zu Zl XC_bnds
    /// YC_bnds Z_bnds`; float32 data `CS SN rA dxG dyG Depth rAz dxC dyC rAw rAs drC drF
    /// PHrefC PHrefF hFacC hFacW hFacS` (deflate 5 + shuffle) and `maskC/W/S` as bytes with
    /// `dtype = "bool"` (what xarray writes for bool). No other attributes.
    pub fn write_netcdf(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.check_consistent()?;
        let nc_err = |what: String| {
            move |source| GridError::NetCdf {
                path: path.to_path_buf(),
                what,
                source,
            }
        };
        let mut file = netcdf::create(path).map_err(nc_err("create".into()))?;
        let (n, nz) = (self.n, self.nz);
        for (name, len) in [
            ("i", n),
            ("i_g", n),
            ("j", n),
            ("j_g", n),
            ("k", nz),
            ("k_u", nz),
            ("k_l", nz),
            ("k_p1", nz + 1),
            ("tile", 13),
            ("nb", 4),
            ("nv", 2),
        ] {
            file.add_dimension(name, len)
                .map_err(nc_err(format!("add dimension {name}")))?;
            let index: Vec<i32> = (0..len as i32).collect();
            if !matches!(name, "nb" | "nv") {
                let mut var = file
                    .add_variable::<i32>(name, &[name])
                    .map_err(nc_err(format!("add variable {name}")))?;
                var.put_values(&index, ..)
                    .map_err(nc_err(format!("write variable {name}")))?;
            }
        }
        let f32s = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<f32>>();
        let z_bnds: Vec<f64> = self.rf.windows(2).flat_map(|w| [w[0], w[1]]).collect();
        let mut drc = self.drc.clone();
        drc.push(self.drf.last().copied().unwrap_or(0.0) / 2.0);
        let ph_c: Vec<f64> = self.rc.iter().map(|z| GRAVITY * z.abs()).collect();
        let ph_f: Vec<f64> = self.rf.iter().map(|z| GRAVITY * z.abs()).collect();
        let (xc_bnds, yc_bnds) = (self.corners.xc_bnds(), self.corners.yc_bnds());

        let c = ["tile", "j", "i"];
        let u = ["tile", "j", "i_g"];
        let v = ["tile", "j_g", "i"];
        let g = ["tile", "j_g", "i_g"];
        let coords: [(&str, &[&str], &[f64]); 11] = [
            ("XC", &c, &self.xc),
            ("YC", &c, &self.yc),
            ("XG", &g, &self.xg),
            ("YG", &g, &self.yg),
            ("Z", &["k"], &self.rc),
            ("Zp1", &["k_p1"], &self.rf),
            ("Zu", &["k_u"], &self.rf[1..]),
            ("Zl", &["k_l"], &self.rf[..nz]),
            ("XC_bnds", &["tile", "j", "i", "nb"], &xc_bnds),
            ("YC_bnds", &["tile", "j", "i", "nb"], &yc_bnds),
            ("Z_bnds", &["k", "nv"], &z_bnds),
        ];
        for (name, dims, values) in coords {
            let mut var = file
                .add_variable::<f32>(name, dims)
                .map_err(nc_err(format!("add variable {name}")))?;
            var.put_values(&f32s(values), ..)
                .map_err(nc_err(format!("write variable {name}")))?;
        }
        let k3 = |h: [&'static str; 3]| -> [&'static str; 4] { ["k", h[0], h[1], h[2]] };
        let (kc, ku, kv) = (k3(c), k3(u), k3(v));
        let seafloor = self.seafloor_depth();
        let mut data: Vec<(&str, &[&str], &[f64])> = vec![
            ("CS", &c, &self.cs),
            ("SN", &c, &self.sn),
            ("rA", &c, &self.rac),
            ("dxG", &v, &self.dxg),
            ("dyG", &u, &self.dyg),
            ("Depth", &c, &seafloor),
            ("rAz", &g, &self.raz),
            ("dxC", &u, &self.dxc),
            ("dyC", &v, &self.dyc),
            ("rAw", &u, &self.raw),
            ("rAs", &v, &self.ras),
            ("drC", &["k_p1"], &drc),
            ("drF", &["k"], &self.drf),
            ("PHrefC", &["k"], &ph_c),
            ("PHrefF", &["k_p1"], &ph_f),
        ];
        if let Some(draft) = &self.ice_shelf_draft {
            data.push((ICE_SHELF_DRAFT, &c, draft));
            data.push((OCEAN_COLUMN_THICKNESS, &c, &self.depth));
        }
        let hfacs: [(&str, &[&str], &[f32]); 3] = [
            ("hFacC", &kc, &self.hfac_c),
            ("hFacW", &ku, &self.hfac_w),
            ("hFacS", &kv, &self.hfac_s),
        ];
        let data = data
            .into_iter()
            .map(|(name, dims, values)| (name, dims, std::borrow::Cow::Owned(f32s(values))))
            .chain(
                hfacs
                    .into_iter()
                    .map(|(name, dims, values)| (name, dims, std::borrow::Cow::Borrowed(values))),
            );
        for (name, dims, values) in data {
            let mut var = file
                .add_variable::<f32>(name, dims)
                .map_err(nc_err(format!("add variable {name}")))?;
            var.set_compression(5, true)
                .map_err(nc_err(format!("compress variable {name}")))?;
            var.put_values(&values, ..)
                .map_err(nc_err(format!("write variable {name}")))?;
        }
        for (name, dims, mask) in [
            ("maskC", &kc, &self.mask_c),
            ("maskW", &ku, &self.mask_w),
            ("maskS", &kv, &self.mask_s),
        ] {
            let mut var = file
                .add_variable::<i8>(name, dims)
                .map_err(nc_err(format!("add variable {name}")))?;
            var.set_compression(5, true)
                .map_err(nc_err(format!("compress variable {name}")))?;
            var.put_attribute("dtype", "bool")
                .map_err(nc_err(format!("attribute of {name}")))?;
            let bytes: Vec<i8> = mask.iter().map(|m| i8::from(*m)).collect();
            var.put_values(&bytes, ..)
                .map_err(nc_err(format!("write variable {name}")))?;
        }
        file.close().map_err(nc_err("close".into()))
    }
}
