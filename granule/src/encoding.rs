//! Encoding choices shared by the native and lat-lon writers (`docs/netcdf-layout.md` 1, 2):
//! the fill value, NaN handling with the per-granule valid range, and netCDF-C's default
//! chunk sizes reproduced explicitly.

use rayon::prelude::*;

/// The `_FillValue` of data variables: `netCDF4.default_fillvals['f4']`, netCDF-C's
/// `NC_FILL_FLOAT` (9.969209968386869e36 = 2^122 · 1.875, bit pattern `0x7cf00000`).
pub const FILL_F32: f32 = f32::from_bits(0x7cf0_0000);

/// netCDF-C's target chunk size in bytes (`DEFAULT_CHUNK_SIZE`).
const DEFAULT_CHUNK_BYTES: f64 = 4_194_304.0;

/// netCDF-C's default chunk sizes for a variable of `shape` with `item_size`-byte values
/// (`nc4_find_default_chunksizes2`, fixed dims only; `docs/netcdf-layout.md` 2):
///
/// ```text
/// c_d = trunc(len_d · (4194304 / total)^(1/ndims) − 0.5), clamped to [1, len_d]
/// n_d = ceil(len_d / c_d);  c_d = c_d − (n_d·c_d − len_d) div n_d
/// ```
///
/// Neither EDP nor the released granules set chunks explicitly; writing them explicitly makes
/// our files independent of the library version. Native 3-D `(1, 50, 13, 90, 90)` float32 →
/// `(1, 25, 7, 45, 45)`; native 2-D `(1, 13, 90, 90)` → the whole variable.
pub fn default_chunk_sizes(shape: &[usize], item_size: usize) -> Vec<usize> {
    if shape.is_empty() {
        return Vec::new();
    }
    let total = shape.iter().map(|&l| l as f64).product::<f64>() * item_size as f64;
    let factor = if total > 0.0 {
        (DEFAULT_CHUNK_BYTES / total).powf(1.0 / shape.len() as f64)
    } else {
        1.0
    };
    shape
        .iter()
        .map(|&len| {
            if len == 0 {
                return 1;
            }
            let first = (len as f64 * factor - 0.5).trunc();
            let c = if first < 1.0 {
                1
            } else {
                (first as usize).min(len)
            };
            // Spread the remainder: chunks of nearly equal size covering `len`.
            let n = len.div_ceil(c);
            c - (n * c - len) / n
        })
        .collect()
}

/// Minimum, maximum and counts of the values of one variable (NaN-ignoring).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ValueStats {
    /// Smallest valid value (`None` when there is none).
    pub min: Option<f32>,
    /// Largest valid value.
    pub max: Option<f32>,
    /// Values written as data.
    pub valid: usize,
    /// Values written as fill (masked land, NaN and ±Inf).
    pub filled: usize,
    /// Of the values kept by the mask, those that were ±Inf (written as fill and counted
    /// here, so that the report can say so: a model field should never hold them).
    pub infinite: usize,
}

impl ValueStats {
    /// Adds one valid value.
    #[inline]
    fn push(&mut self, v: f32) {
        self.min = Some(self.min.map_or(v, |m| m.min(v)));
        self.max = Some(self.max.map_or(v, |m| m.max(v)));
        self.valid += 1;
    }

    /// Combines the statistics of two parts.
    pub fn merge(self, other: ValueStats) -> ValueStats {
        let pick = |a: Option<f32>, b: Option<f32>, f: fn(f32, f32) -> f32| match (a, b) {
            (Some(a), Some(b)) => Some(f(a, b)),
            (a, b) => a.or(b),
        };
        ValueStats {
            min: pick(self.min, other.min, f32::min),
            max: pick(self.max, other.max, f32::max),
            valid: self.valid + other.valid,
            filled: self.filled + other.filled,
            infinite: self.infinite + other.infinite,
        }
    }
}

/// Replaces masked values (`keep(i) == false`), NaN and ±Inf by [`FILL_F32`] and returns the
/// statistics of the remaining values, in one parallel pass. `values` are processed in blocks
/// of `block` values; `keep(block_index, index_in_block)` decides which values are data.
///
/// The valid range is taken before fill replacement and ignores NaN (EDP's per-granule
/// `valid_min`/`valid_max`, `docs/netcdf-layout.md` 1) and ±Inf: an infinite value is no
/// measurement, so it is written as fill like NaN (never as `valid_max = inf`) and counted in
/// [`ValueStats::infinite`].
pub fn mask_and_fill<K>(values: &mut [f32], block: usize, keep: K) -> ValueStats
where
    K: Fn(usize, usize) -> bool + Sync,
{
    let block = block.max(1);
    values
        .par_chunks_mut(block)
        .enumerate()
        .map(|(b, chunk)| {
            let mut stats = ValueStats::default();
            for (i, v) in chunk.iter_mut().enumerate() {
                let kept = keep(b, i);
                if kept && v.is_finite() {
                    stats.push(*v);
                } else {
                    if kept && v.is_infinite() {
                        stats.infinite += 1;
                    }
                    *v = FILL_F32;
                    stats.filled += 1;
                }
            }
            stats
        })
        .reduce(ValueStats::default, ValueStats::merge)
}

/// [`mask_and_fill`] without a mask: only NaN becomes fill (lat-lon values arrive with NaN on
/// land).
pub fn fill_nan(values: &mut [f32]) -> ValueStats {
    mask_and_fill(values, 1 << 16, |_, _| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_match_the_released_granules() {
        // docs/netcdf-layout.md 2 table.
        assert_eq!(
            default_chunk_sizes(&[1, 50, 13, 90, 90], 4),
            [1, 25, 7, 45, 45]
        );
        assert_eq!(default_chunk_sizes(&[1, 13, 90, 90], 4), [1, 13, 90, 90]);
        assert_eq!(default_chunk_sizes(&[50, 13, 90, 90], 4), [25, 7, 45, 45]);
        assert_eq!(
            default_chunk_sizes(&[1, 50, 360, 720], 4),
            [1, 25, 180, 360]
        );
        assert_eq!(default_chunk_sizes(&[1, 360, 720], 4), [1, 360, 720]);
    }

    #[test]
    fn fill_value_is_netcdf_default_float_fill() {
        assert_eq!(FILL_F32, 9.969_209_968_386_869e36_f64 as f32);
        assert_eq!(FILL_F32.to_bits(), 0x7cf0_0000);
    }

    #[test]
    fn mask_and_fill_ignores_nan_and_masked_values() {
        let mut v = vec![1.0, f32::NAN, -3.0, 100.0, 7.0, 2.0];
        // Blocks of 3; the 4th value (block 1, index 0) is masked.
        let stats = mask_and_fill(&mut v, 3, |b, i| !(b == 1 && i == 0));
        assert_eq!(stats.min, Some(-3.0));
        assert_eq!(stats.max, Some(7.0));
        assert_eq!((stats.valid, stats.filled), (4, 2));
        assert_eq!(v, [1.0, FILL_F32, -3.0, FILL_F32, 7.0, 2.0]);
    }

    #[test]
    fn infinities_are_fill_and_counted_but_masked_ones_are_not_counted() {
        let mut v = vec![
            1.0,
            f32::INFINITY,
            -2.0,
            f32::NEG_INFINITY,
            f32::INFINITY,
            5.0,
        ];
        // Block 1, index 1 (the second +Inf) is land: fill, but not an infinite *value*.
        let stats = mask_and_fill(&mut v, 3, |b, i| !(b == 1 && i == 1));
        assert_eq!((stats.min, stats.max), (Some(-2.0), Some(5.0)));
        assert_eq!((stats.valid, stats.filled, stats.infinite), (3, 3, 2));
        assert_eq!(v, [1.0, FILL_F32, -2.0, FILL_F32, FILL_F32, 5.0]);
    }

    #[test]
    fn all_masked_has_no_range() {
        let mut v = vec![f32::NAN; 4];
        let stats = fill_nan(&mut v);
        assert_eq!((stats.min, stats.max, stats.valid), (None, None, 0));
        assert!(v.iter().all(|x| *x == FILL_F32));
    }
}
