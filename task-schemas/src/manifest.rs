//! Dataset manifests: every granule of one dataset with size and checksum
//! (`_edp/manifests/<ecco_version>/<native|latlon>/<period>/<GROUPING>.json`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The granules of one dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DatasetManifest {
    /// Dataset path relative to the destination root, e.g.
    /// `V4r4/native/mon_mean/SEA_SURFACE_HEIGHT`.
    pub dataset: String,
    /// RFC 3339 UTC time of the last update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Granules sorted by path.
    pub granules: Vec<ManifestGranule>,
}

/// One granule of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ManifestGranule {
    /// Path relative to the destination root.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 (lower-case hex).
    pub sha256: String,
}
