//! The native grid's land masks, for the fill-on-land check of `edp check --grid`.
//!
//! A native granule holds fill exactly where its variable's horizontal location is land
//! (docs/netcdf-layout.md 6): `maskC` for `(j, i)`, `maskW` for `(j, i_g)`, `maskS` for
//! `(j_g, i)`, level `l` of a `k`, `k_l` or `k_u` variable with mask level `l`, 2-D variables
//! with level 0. [`GridMasks::for_variable`] picks that mask from a variable's dimensions.

/// The three open-cell masks of a native grid, `[k][tile][j][i]`, `true` = ocean.
#[derive(Debug, Clone, PartialEq)]
pub struct GridMasks {
    cells_per_level: usize,
    levels: usize,
    centre: Vec<bool>,
    west: Vec<bool>,
    south: Vec<bool>,
}

/// The mask of one variable: which of its values (flattened, time first) lie on ocean.
#[derive(Debug, Clone, Copy)]
pub struct VariableMask<'a> {
    mask: &'a [bool],
    cells_per_level: usize,
    levels: usize,
}

impl VariableMask<'_> {
    /// Whether the value at `index` of the variable's flattened values is on ocean.
    pub fn is_ocean(&self, index: usize) -> bool {
        let cell = index % self.cells_per_level;
        let level = (index / self.cells_per_level) % self.levels;
        self.mask
            .get(level * self.cells_per_level + cell)
            .copied()
            .unwrap_or(false)
    }
}

impl GridMasks {
    /// Masks of `levels` levels of `cells_per_level` cells (13 tiles of `N x N`) each.
    pub fn new(
        cells_per_level: usize,
        levels: usize,
        centre: Vec<bool>,
        west: Vec<bool>,
        south: Vec<bool>,
    ) -> Result<GridMasks, String> {
        let expected = cells_per_level * levels;
        for (name, mask) in [("maskC", &centre), ("maskW", &west), ("maskS", &south)] {
            if mask.len() != expected || expected == 0 {
                return Err(format!(
                    "{name} has {} values, expected {levels} levels x {cells_per_level} cells",
                    mask.len()
                ));
            }
        }
        Ok(GridMasks {
            cells_per_level,
            levels,
            centre,
            west,
            south,
        })
    }

    /// The mask of a variable with dimensions `dims` (name, length; `time` first): `Ok(None)`
    /// when the variable is not on the native grid or has no mask of its own (lat-lon
    /// granules, corner points, `k_p1` levels), an error when its size does not fit the grid.
    pub fn for_variable(
        &self,
        dims: &[(String, usize)],
    ) -> Result<Option<VariableMask<'_>>, String> {
        let has = |name: &str| dims.iter().any(|(d, _)| d == name);
        if !has("tile") || (has("i_g") && has("j_g")) || has("k_p1") {
            return Ok(None);
        }
        let mask = if has("i_g") {
            &self.west
        } else if has("j_g") {
            &self.south
        } else {
            &self.centre
        };
        let horizontal: usize = dims
            .iter()
            .filter(|(d, _)| matches!(d.as_str(), "tile" | "j" | "i" | "j_g" | "i_g"))
            .map(|(_, len)| *len)
            .product();
        if horizontal != self.cells_per_level {
            return Err(format!(
                "{horizontal} horizontal points per level, the grid has {}",
                self.cells_per_level
            ));
        }
        let levels = dims
            .iter()
            .find(|(d, _)| matches!(d.as_str(), "k" | "k_l" | "k_u"))
            .map_or(1, |(_, len)| *len);
        if levels > self.levels {
            return Err(format!("{levels} levels, the grid has {}", self.levels));
        }
        Ok(Some(VariableMask {
            mask,
            cells_per_level: self.cells_per_level,
            levels: levels.max(1),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(list: &[(&str, usize)]) -> Vec<(String, usize)> {
        list.iter().map(|(d, n)| (d.to_string(), *n)).collect()
    }

    /// Two levels of 2 cells; C: ocean at cell 0 of both levels, W: cell 1 of level 0 only.
    fn masks() -> GridMasks {
        GridMasks::new(
            2,
            2,
            vec![true, false, true, false],
            vec![false, true, false, false],
            vec![true, true, true, true],
        )
        .unwrap()
    }

    #[test]
    fn each_variable_gets_the_mask_of_its_location_and_levels() {
        let m = masks();
        let c3 = m
            .for_variable(&dims(&[
                ("time", 1),
                ("k", 2),
                ("tile", 1),
                ("j", 1),
                ("i", 2),
            ]))
            .unwrap()
            .unwrap();
        assert_eq!(
            (0..4).map(|i| c3.is_ocean(i)).collect::<Vec<_>>(),
            [true, false, true, false]
        );
        let w2 = m
            .for_variable(&dims(&[("time", 1), ("tile", 1), ("j", 1), ("i_g", 2)]))
            .unwrap()
            .unwrap();
        assert_eq!(
            (0..2).map(|i| w2.is_ocean(i)).collect::<Vec<_>>(),
            [false, true]
        );
        // Lat-lon and corner variables have no mask; a size that is not the grid's is an error.
        let latlon = dims(&[("time", 1), ("latitude", 2), ("longitude", 2)]);
        assert!(m.for_variable(&latlon).unwrap().is_none());
        let corner = dims(&[("time", 1), ("tile", 1), ("j_g", 1), ("i_g", 2)]);
        assert!(m.for_variable(&corner).unwrap().is_none());
        let wrong = dims(&[("time", 1), ("tile", 1), ("j", 3), ("i", 3)]);
        assert!(
            m.for_variable(&wrong)
                .unwrap_err()
                .contains("9 horizontal points")
        );
        let deep = dims(&[("time", 1), ("k", 5), ("tile", 1), ("j", 1), ("i", 2)]);
        assert!(m.for_variable(&deep).unwrap_err().contains("5 levels"));
    }

    #[test]
    fn masks_of_the_wrong_size_are_refused() {
        let err = GridMasks::new(2, 2, vec![true; 4], vec![true; 3], vec![true; 4]).unwrap_err();
        assert!(err.contains("maskW has 3 values"), "{err}");
    }
}
