//! Where the virtual store of a dataset lives.

use edp_plan::state::STATE_DIR;
use edp_store::Location;

/// Folder of the virtual stores below `<dest_root>/_edp/`.
pub const VIRTUAL_DIR: &str = "virtual";

/// File names inside one dataset's virtual store folder.
const STATE_FILE: &str = "state.json";
const REFS_FILE: &str = "refs.json";
const HTTPS_REFS_FILE: &str = "refs.https.json";
const PARQUET_REFS_DIR: &str = "refs.parq";
const HTTPS_PARQUET_REFS_DIR: &str = "refs.https.parq";
const ICECHUNK_DIR: &str = "icechunk";
const HTTPS_ICECHUNK_DIR: &str = "icechunk.https";

/// The locations of one dataset's virtual store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualLocations {
    /// `<dest>/_edp/virtual/<dataset>`.
    pub dir: Location,
    /// `state.json` (source of truth, conditional writes).
    pub state: Location,
    /// `refs.json` (kerchunk, storage URLs).
    pub refs: Location,
    /// `refs.https.json` (kerchunk, `https://` URLs).
    pub https_refs: Location,
    /// `refs.parq/` (fsspec's Parquet references, storage URLs).
    pub parquet_refs: Location,
    /// `refs.https.parq/` (the same with `https://` URLs).
    pub https_parquet_refs: Location,
    /// `icechunk/` (Icechunk repository, virtual chunks at storage URLs).
    pub icechunk: Location,
    /// `icechunk.https/` (the same with `https://` URLs).
    pub https_icechunk: Location,
}

impl VirtualLocations {
    /// The store of `dataset` (`<ecco_version>/<type>/<period>/<GROUPING>`) below `dest`.
    pub fn new(dest: &Location, dataset: &str) -> VirtualLocations {
        let dir = root(dest).join(dataset);
        VirtualLocations {
            state: dir.join(STATE_FILE),
            refs: dir.join(REFS_FILE),
            https_refs: dir.join(HTTPS_REFS_FILE),
            parquet_refs: dir.join(PARQUET_REFS_DIR),
            https_parquet_refs: dir.join(HTTPS_PARQUET_REFS_DIR),
            icechunk: dir.join(ICECHUNK_DIR),
            https_icechunk: dir.join(HTTPS_ICECHUNK_DIR),
            dir,
        }
    }
}

/// `<dest>/_edp/virtual`.
pub fn root(dest: &Location) -> Location {
    dest.join(STATE_DIR).join(VIRTUAL_DIR)
}

/// True when `location` is the `state.json` of a virtual store.
pub(crate) fn is_state_file(location: &Location) -> bool {
    location.file_name() == Some(STATE_FILE)
}

/// The dataset (`<ecco_version>/<type>/<period>/<GROUPING>`) of a granule path relative to
/// the destination root, `None` when the path does not have that form.
pub fn dataset_of(relative: &str) -> Option<String> {
    let parts: Vec<&str> = relative.split('/').collect();
    if parts.len() != 5
        || parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return None;
    }
    Some(parts[..4].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_is_the_four_leading_segments() {
        assert_eq!(
            dataset_of("V4r4/native/mon_mean/SSH/SSH_mon_mean_1992-01.nc").as_deref(),
            Some("V4r4/native/mon_mean/SSH")
        );
        assert_eq!(dataset_of("V4r4/native/SSH.nc"), None);
        assert_eq!(dataset_of("V4r4//mon_mean/SSH/x.nc"), None);
    }

    #[test]
    fn store_files_sit_below_the_state_dir() {
        let dest = Location::parse("s3://bucket/products").unwrap_or_else(|e| panic!("{e}"));
        let at = VirtualLocations::new(&dest, "V4r4/native/mon_mean/SSH");
        assert_eq!(
            at.refs.to_string(),
            "s3://bucket/products/_edp/virtual/V4r4/native/mon_mean/SSH/refs.json"
        );
        assert!(is_state_file(&at.state));
        assert!(!is_state_file(&at.refs));
    }
}
