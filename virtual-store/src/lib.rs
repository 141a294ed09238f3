//! Virtual stores: one lazily-openable Zarr view per dataset (version x product x period x
//! grouping), pointing at the chunks of the dataset's NetCDF-4 granules where they are.
//!
//! The stores are built only from the chunk index that the granule writer records in each
//! granule's done record ([`edp_task_schemas::ChunkIndex`], `LedgerRecord::chunk_index`):
//! no granule is opened or read, so this crate has no NetCDF/HDF5 dependency and runs in the
//! reporter Lambda.
//!
//! Layout, below `<dest_root>/_edp/virtual/<ecco_version>/<native|latlon>/<period>/<GROUPING>/`:
//!
//! ```text
//! state.json        the builder's state: the dataset's variable layout, and per granule its
//!                   path, size, ETag, SHA-256, time coverage and the chunk refs of every
//!                   time-dependent variable, in time order. The source of truth; updated with
//!                   conditional writes only.
//! refs.json         kerchunk references (format version 1) with `s3://` (or local path) URLs,
//!                   rendered from state.json
//! refs.https.json   the same with an `https://` base URL, when one is configured
//! refs.parq/        the same references in fsspec's Parquet layout ([`parquet_refs`]):
//!                   `.zmetadata` and `<variable>/refs.<k>.parq`, read record by record
//! refs.https.parq/  the same with the `https://` base URL
//! icechunk/         an Icechunk repository (Zarr v3, virtual chunk references, one commit
//!                   per update: snapshots and time travel; [`icechunk_repo`])
//! icechunk.https/   the same with the `https://` base URL
//! ```
//!
//! Updates ([`update`]) merge done records into `state.json` (new granules appended, earlier
//! times inserted in order, reprocessed granules replaced after checking the object's size and
//! ETag), write it with a conditional write (`If-Match` / `If-None-Match`) and retry on
//! conflict, so concurrent runs of one dataset never lose an append. The reference files are a
//! pure function of the state; a writer re-renders until the state it rendered is still the
//! current one after its write, so the last reference file written matches the last state.
//! An update that changes nothing writes nothing.

pub mod error;
pub mod icechunk_repo;
pub mod kerchunk;
pub mod layout;
pub mod model;
pub mod parquet_refs;
pub mod update;

pub use error::{Incompatibility, VirtualError};
pub use layout::{VIRTUAL_DIR, VirtualLocations, dataset_of};
pub use model::{ChunkRef, GranuleRefs, VariableLayout, VirtualState};
pub use update::{
    DatasetOutcome, Scope, UpdateOptions, VirtualReport, list_virtual_stores, update,
};
