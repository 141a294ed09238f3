//! Element types: on-disk precision, byte order, and the in-memory sample types (`f32`, `f64`)
//! with the byte-level decode/encode loops every other module uses.
//!
//! The loops work on `[u8; 4]`/`[u8; 8]` chunks (`as_chunks`) zipped with the output, so the
//! compiler sees no per-element bounds checks and vectorises the byte swap.

use std::fmt;

/// Element type of a `.data` file, from the `.meta` key `dataprec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// `'float32'`: IEEE-754 single precision, 4 bytes.
    F32,
    /// `'float64'`: IEEE-754 double precision, 8 bytes.
    F64,
}

impl Precision {
    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F64 => 8,
        }
    }

    /// The `dataprec` spelling (`float32` / `float64`).
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::F32 => "float32",
            Precision::F64 => "float64",
        }
    }

    /// Parses a `dataprec` value (case-insensitive, surrounding blanks ignored).
    pub fn from_dataprec(text: &str) -> Option<Precision> {
        match text.trim().to_ascii_lowercase().as_str() {
            "float32" => Some(Precision::F32),
            "float64" => Some(Precision::F64),
            _ => None,
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Byte order of a `.data` file. MITgcm writes big-endian; little-endian is an explicit option
/// for files produced by other tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ByteOrder {
    /// Most significant byte first (MITgcm default, `>f4`/`>f8`).
    #[default]
    Big,
    /// Least significant byte first (`<f4`/`<f8`).
    Little,
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// An in-memory sample type: `f32` or `f64`. Decoding converts from the file's precision
/// (`f64 -> f32` rounds to nearest, `f32 -> f64` is exact).
pub trait Sample:
    sealed::Sealed + bytemuck::Pod + Default + Send + Sync + PartialOrd + std::fmt::Debug + 'static
{
    /// The precision this type has on disk when written without conversion.
    const PRECISION: Precision;
    /// Reinterprets a value whose bytes were copied verbatim from a file written in `order`
    /// (a byte swap when `order` differs from the host's, else nothing).
    fn decode_file_bits(self, order: ByteOrder) -> Self;
    /// Converts from an `f32` read from a file.
    fn from_f32(v: f32) -> Self;
    /// Converts from an `f64` read from a file.
    fn from_f64(v: f64) -> Self;
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
}

impl Sample for f32 {
    const PRECISION: Precision = Precision::F32;
    #[inline(always)]
    fn decode_file_bits(self, order: ByteOrder) -> Self {
        match order {
            ByteOrder::Big => f32::from_bits(u32::from_be(self.to_bits())),
            ByteOrder::Little => f32::from_bits(u32::from_le(self.to_bits())),
        }
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Sample for f64 {
    const PRECISION: Precision = Precision::F64;
    #[inline(always)]
    fn decode_file_bits(self, order: ByteOrder) -> Self {
        match order {
            ByteOrder::Big => f64::from_bits(u64::from_be(self.to_bits())),
            ByteOrder::Little => f64::from_bits(u64::from_le(self.to_bits())),
        }
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        f64::from(v)
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

/// Decodes `dst.len()` values from the start of `src` (which must hold at least
/// `dst.len() * precision.size()` bytes; extra bytes are ignored, missing ones leave the
/// tail of `dst` untouched). Callers check sizes beforehand and report typed errors.
#[inline]
pub(crate) fn decode_run<T: Sample>(
    src: &[u8],
    dst: &mut [T],
    precision: Precision,
    order: ByteOrder,
) {
    match precision {
        Precision::F32 => {
            let (chunks, _) = src.as_chunks::<4>();
            match order {
                ByteOrder::Big => {
                    for (d, c) in dst.iter_mut().zip(chunks) {
                        *d = T::from_f32(f32::from_be_bytes(*c));
                    }
                }
                ByteOrder::Little => {
                    for (d, c) in dst.iter_mut().zip(chunks) {
                        *d = T::from_f32(f32::from_le_bytes(*c));
                    }
                }
            }
        }
        Precision::F64 => {
            let (chunks, _) = src.as_chunks::<8>();
            match order {
                ByteOrder::Big => {
                    for (d, c) in dst.iter_mut().zip(chunks) {
                        *d = T::from_f64(f64::from_be_bytes(*c));
                    }
                }
                ByteOrder::Little => {
                    for (d, c) in dst.iter_mut().zip(chunks) {
                        *d = T::from_f64(f64::from_le_bytes(*c));
                    }
                }
            }
        }
    }
}

/// Decodes a whole byte slice of `precision` values into a new vector. A trailing partial
/// value (fewer than `precision.size()` bytes) is ignored; use the `.meta`-aware functions in
/// [`crate::decode`] to get size validation.
pub fn decode_values<T: Sample>(bytes: &[u8], precision: Precision, order: ByteOrder) -> Vec<T> {
    let mut out = vec![T::default(); bytes.len() / precision.size()];
    decode_run(bytes, &mut out, precision, order);
    out
}

/// Encodes values as `precision` in `order` (converting `f64 -> f32` by rounding when asked).
pub fn encode_values<T: Sample>(values: &[T], precision: Precision, order: ByteOrder) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * precision.size());
    match (precision, order) {
        (Precision::F32, ByteOrder::Big) => {
            for v in values {
                out.extend_from_slice(&(v.to_f64() as f32).to_be_bytes());
            }
        }
        (Precision::F32, ByteOrder::Little) => {
            for v in values {
                out.extend_from_slice(&(v.to_f64() as f32).to_le_bytes());
            }
        }
        (Precision::F64, ByteOrder::Big) => {
            for v in values {
                out.extend_from_slice(&v.to_f64().to_be_bytes());
            }
        }
        (Precision::F64, ByteOrder::Little) => {
            for v in values {
                out.extend_from_slice(&v.to_f64().to_le_bytes());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_known_big_endian_patterns() {
        // 1.0f32 = 0x3F800000, -2.5f64 = 0xC004000000000000.
        let f: Vec<f32> = decode_values(&[0x3F, 0x80, 0, 0], Precision::F32, ByteOrder::Big);
        assert_eq!(f, vec![1.0]);
        let d: Vec<f64> = decode_values(
            &[0xC0, 0x04, 0, 0, 0, 0, 0, 0],
            Precision::F64,
            ByteOrder::Big,
        );
        assert_eq!(d, vec![-2.5]);
        let le: Vec<f32> = decode_values(&[0, 0, 0x80, 0x3F], Precision::F32, ByteOrder::Little);
        assert_eq!(le, vec![1.0]);
    }

    #[test]
    fn reading_big_endian_as_little_gives_other_values() {
        let bytes = encode_values(&[0.5f32, 1.25], Precision::F32, ByteOrder::Big);
        let wrong: Vec<f32> = decode_values(&bytes, Precision::F32, ByteOrder::Little);
        assert_ne!(wrong, vec![0.5, 1.25]);
    }

    #[test]
    fn encode_then_decode_all_combinations() {
        let values = [0.0f64, -1.5, 3.25e10, f64::MIN_POSITIVE, 1.0 / 3.0];
        for order in [ByteOrder::Big, ByteOrder::Little] {
            let b64 = encode_values(&values, Precision::F64, order);
            assert_eq!(b64.len(), 40);
            let back: Vec<f64> = decode_values(&b64, Precision::F64, order);
            assert_eq!(back, values);
            let b32 = encode_values(&values, Precision::F32, order);
            assert_eq!(b32.len(), 20);
            let back32: Vec<f32> = decode_values(&b32, Precision::F32, order);
            let expect: Vec<f32> = values.iter().map(|v| *v as f32).collect();
            assert_eq!(back32, expect);
        }
    }

    #[test]
    fn dataprec_spellings() {
        assert_eq!(Precision::from_dataprec(" float32 "), Some(Precision::F32));
        assert_eq!(Precision::from_dataprec("FLOAT64"), Some(Precision::F64));
        assert_eq!(Precision::from_dataprec("int32"), None);
    }
}
