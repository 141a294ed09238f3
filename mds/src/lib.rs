//! MITgcm MDS files (`.meta` text + raw `.data`) and the LLC compact layout.
//!
//! Byte order and precision are data: they come from the `.meta` (`dataprec`) and from an
//! explicit [`ByteOrder`] option (big-endian by default, as MITgcm writes), never from
//! assumptions.
//!
//! * [`Meta`] parses every key MITgcm writes (`nDims`, `dimList`, `dataprec`, `nrecords`,
//!   `timeStepNumber`, `timeInterval`, `missingValue`, `nFlds`, `fldList`, `simulation`;
//!   unknown keys are ignored) and writes `.meta` text back in MITgcm's layout.
//! * [`decode`] turns `.data` bytes **held in memory** into `f32`/`f64` values, in file order
//!   or straight into LLC tile order `[k][t][j][i]` (decode + byte swap + reorder in one
//!   parallel pass). Sizes are checked against the `.meta` first.
//! * [`Llc`] is the compact <-> tiles geometry for any tile size `N` (docs/mds-llc.md §3).
//! * [`MdsFile`], [`read_meta`], [`read_field_tiles`] and [`write_mds`] are thin file helpers.
//!
//! Every failure is an [`MdsError`] naming the file and saying what was expected and found.
//!
//! ```no_run
//! use edp_mds::{ByteOrder, FieldSelector, MdsFile};
//!
//! # fn main() -> Result<(), edp_mds::MdsError> {
//! let file = MdsFile::open("diags/THETA_mon_mean.0000000732", ByteOrder::Big)?;
//! let theta = file.read_tiles::<f32>(&FieldSelector::Name("THETA".into()))?;
//! println!("N = {}, levels = {}, T(k=0, tile 1, j=10, i=20) = {}",
//!          theta.n, theta.nz, theta.get(0, 1, 10, 20));
//!
//! // The same from bytes already in memory (e.g. fetched from S3):
//! let bytes = file.read_bytes()?;
//! let same = edp_mds::decode::decode_record_tiles::<f32>(
//!     &bytes, &file.meta, &FieldSelector::Record(0), ByteOrder::Big, "s3://bucket/THETA...")?;
//! assert_eq!(same, theta);
//! # Ok(()) }
//! ```

pub mod decode;
mod error;
mod file;
mod llc;
mod meta;
mod sample;

pub use decode::{decode_all, decode_record, decode_record_tiles, decode_record_tiles_into};
pub use error::{MdsError, Result};
pub use file::{MdsFile, mds_paths, read_field_tiles, read_meta, write_mds};
pub use llc::{Llc, LlcField, TILES};
pub use meta::{FieldSelector, Meta};
pub use sample::{ByteOrder, Precision, Sample, decode_values, encode_values};
