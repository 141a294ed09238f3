//! The vertical grid: level centres `RC`, interfaces `RF`, thicknesses `DRF` and centre
//! spacings `DRC` (MITgcm names; metres, `RC`/`RF` negative down), and a stretched profile for
//! synthetic grids.

/// The V4r4 level thicknesses `delR` (docs/mds-llc.md §4.1, `drF`): 10 m at the top, 456.5 m at
/// the bottom, 50 levels summing to 6134.5 m.
pub const V4R4_DRF: [f64; 50] = [
    10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.01, 10.03, 10.11, 10.32, 10.8, 11.76, 13.42,
    16.04, 19.82, 24.85, 31.1, 38.42, 46.5, 55.0, 63.5, 71.58, 78.9, 85.15, 90.18, 93.96, 96.58,
    98.25, 99.25, 100.01, 101.33, 104.56, 111.33, 122.83, 139.09, 158.94, 180.83, 203.55, 226.5,
    249.5, 272.5, 295.5, 318.5, 341.5, 364.5, 387.5, 410.5, 433.5, 456.5,
];

/// A vertical grid with `nz` levels, consistent by construction.
#[derive(Debug, Clone, PartialEq)]
pub struct Vertical {
    /// Level centres (`nz`), negative down: midpoints of consecutive `rf`.
    pub rc: Vec<f64>,
    /// Interfaces (`nz + 1`), `rf[0] = 0`, negative down.
    pub rf: Vec<f64>,
    /// Thicknesses (`nz`), `rf[k] - rf[k+1]`.
    pub drf: Vec<f64>,
    /// Centre spacings (`nz`): `drc[0] = -rc[0]` (surface to first centre),
    /// `drc[k] = rc[k-1] - rc[k]`.
    pub drc: Vec<f64>,
}

impl Vertical {
    /// Builds `rf`, `rc` and `drc` from thicknesses, as MITgcm does.
    pub fn from_thicknesses(drf: &[f64]) -> Vertical {
        let mut rf = Vec::with_capacity(drf.len() + 1);
        rf.push(0.0);
        for d in drf {
            let last = rf.last().copied().unwrap_or(0.0);
            rf.push(last - d);
        }
        let rc: Vec<f64> = rf.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
        let drc = rc
            .iter()
            .enumerate()
            .map(|(k, c)| if k == 0 { -c } else { rc[k - 1] - c })
            .collect();
        Vertical {
            rc,
            rf,
            drf: drf.to_vec(),
            drc,
        }
    }

    /// The first `nz` levels of the V4r4 profile; beyond 50 levels the last thickness
    /// (456.5 m) repeats.
    pub fn stretched(nz: usize) -> Vertical {
        let last = V4R4_DRF[V4R4_DRF.len() - 1];
        let drf: Vec<f64> = (0..nz)
            .map(|k| V4R4_DRF.get(k).copied().unwrap_or(last))
            .collect();
        Vertical::from_thicknesses(&drf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4r4_profile_matches_the_documented_values() {
        let v = Vertical::stretched(50);
        assert!((v.drf.iter().sum::<f64>() - 6134.5).abs() < 1e-9);
        assert_eq!(v.rc[0], -5.0);
        assert!((v.rc[49] + 5906.25).abs() < 1e-9);
        assert!((v.rf[50] + 6134.5).abs() < 1e-9);
        assert_eq!(v.drc[0], 5.0);
        assert!((v.drc[49] - 445.0).abs() < 1e-9);
    }

    #[test]
    fn any_level_count() {
        let v = Vertical::stretched(53);
        assert_eq!(
            (v.rc.len(), v.rf.len(), v.drf.len(), v.drc.len()),
            (53, 54, 53, 53)
        );
        assert_eq!(v.drf[52], 456.5);
        assert_eq!(Vertical::stretched(1).rf, vec![0.0, -10.0]);
    }
}
