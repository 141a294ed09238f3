//! Values returned by store operations.

use std::time::SystemTime;

use crate::Location;

/// What a listing or a `head` knows about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Where it is.
    pub location: Location,
    /// Size in bytes.
    pub size: u64,
    /// An opaque version tag, to compare with other tags of the same store and to pass to
    /// [`crate::Store::put_if_match`].
    ///
    /// S3: the ETag exactly as S3 returns it (quoted, `"9b2cf535f27731c974343645a3985328"`;
    /// an MD5 of the content for single-part uploads, not for multipart ones).
    /// Local: `size-mtime_ns-inode` in hex, derived from metadata rather than content so
    /// that listing a big folder stays cheap. Every write replaces the file through a rename,
    /// which gives it a new inode, so two versions never share a tag while one is open.
    pub etag: Option<String>,
    /// Last modification time, when known.
    pub last_modified: Option<SystemTime>,
}

/// Result of [`crate::Store::put_if_absent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutOutcome {
    /// This call created the object.
    Created,
    /// An object was already there (or another writer created it first); it was left as is.
    AlreadyExists,
}
