//! Object storage for local folders and `s3://` URLs behind one interface: reads, atomic
//! writes (never a partial object under its final name), conditional creates
//! (`If-None-Match: *`) and listings with sizes and ETags.
//!
//! S3 is reached through the AWS SDK; a local emulator is used through settings only
//! (`AWS_ENDPOINT_URL`, path-style addressing), never through a separate code path.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use edp_store::{Location, PutOutcome, Store};
//!
//! let store = Store::from_env().await?; // one S3 client, cheap to clone
//! let root = Location::parse("s3://products/ecco")?;
//! let claim = root.join("_edp/claims/task-0001.json");
//! match store.put_if_absent(&claim, r#"{"run_id":"r1"}"#).await? {
//!     PutOutcome::Created => println!("claimed"),
//!     PutOutcome::AlreadyExists => println!("someone else has it"),
//! }
//! for object in store.list(&root.join("_edp/done")).await? {
//!     println!("{} {} bytes", object.location, object.size);
//! }
//! # Ok(()) }
//! ```
//!
//! Semantics shared by both kinds of location:
//! - `list(prefix)` treats the location as a folder: it returns every object whose key starts
//!   with `prefix/` (recursively), sorted by key; a missing folder lists as empty.
//! - `head` of a missing object is `Ok(None)`; `get` of one is an error of kind
//!   [`ErrorKind::NotFound`]; `delete` of one succeeds.
//! - Writes are atomic: readers see the old or the new content, never a mix.
//! - Errors say which operation failed on which location and whether a retry can help
//!   ([`StoreError::is_retryable`]).
//!
//! Configuration (retries, timeouts, path style, multipart sizes) is read from the
//! environment by [`StoreConfig::from_env`]; see the [`config`] module for the table.

pub mod config;
mod error;
mod local;
mod location;
mod object;
mod s3;
mod s3_error;

use std::ops::Range;
use std::path::{Path, PathBuf};

use bytes::Bytes;

pub use config::{ConfigError, RetryMode, RetrySettings, StaticCredentials, StoreConfig};
pub use error::{ErrorKind, Operation, Result, StoreError, is_permanent_os_error};
pub use location::{Location, LocationError};
pub use object::{ObjectMeta, PutOutcome};

use s3::{S3, join_error};

/// Handle to local folders and S3. Cloning is cheap (the S3 client is shared), so pass it by
/// value to tasks.
#[derive(Debug, Clone)]
pub struct Store {
    /// `None` for [`Store::local_only`]: `s3://` locations then fail with a permanent error.
    s3: Option<S3>,
}

/// Where an operation goes, resolved once per call.
enum Target<'a> {
    Local(PathBuf),
    S3 {
        s3: &'a S3,
        bucket: &'a str,
        key: &'a str,
    },
}

impl Store {
    /// A store whose S3 client follows the environment: the SDK's credential and region
    /// chains, `AWS_ENDPOINT_URL`, and the variables of [`StoreConfig::from_env`]
    /// (path-style addressing is forced when `EDP_S3_FORCE_PATH_STYLE=true` or an endpoint
    /// URL is set).
    pub async fn from_env() -> Result<Store, ConfigError> {
        Ok(Store::from_config(StoreConfig::from_env()?).await)
    }

    /// Like [`Store::from_env`], but signing with fixed credentials: for a bucket outside the
    /// account, with credentials read from SSM (`secrets/source_credentials`). Region and
    /// endpoint still come from the environment.
    pub async fn with_credentials(credentials: StaticCredentials) -> Result<Store, ConfigError> {
        let mut config = StoreConfig::from_env()?;
        config.credentials = Some(credentials);
        Ok(Store::from_config(config).await)
    }

    /// A store built from an explicit configuration (tests, or callers with their own
    /// settings source). No network access happens here.
    pub async fn from_config(config: StoreConfig) -> Store {
        Store {
            s3: Some(S3::new(config).await),
        }
    }

    /// A store for local folders only, without any AWS configuration; `s3://` locations fail
    /// with a permanent error.
    pub fn local_only() -> Store {
        Store { s3: None }
    }

    /// The configuration of the S3 side (`None` for [`Store::local_only`]), with the region
    /// and endpoint the SDK resolved where none was configured: for another S3 client that
    /// must reach the same buckets with the same credentials (the Icechunk repositories of
    /// `edp-virtual`).
    pub fn s3_config(&self) -> Option<StoreConfig> {
        self.s3.as_ref().map(S3::resolved_config)
    }

    /// Resolves `loc`; `object` operations need a key (not a bucket root).
    fn target<'a>(&'a self, op: Operation, loc: &'a Location, object: bool) -> Result<Target<'a>> {
        if let Some(path) = loc.as_local_path() {
            return Ok(Target::Local(path.to_path_buf()));
        }
        let (bucket, key) = loc.as_s3().unwrap_or_default();
        let Some(s3) = &self.s3 else {
            return Err(StoreError::new(
                ErrorKind::Permanent,
                op,
                loc,
                "this store was built for local folders only (Store::local_only)",
            ));
        };
        if object && key.is_empty() {
            return Err(StoreError::new(
                ErrorKind::Permanent,
                op,
                loc,
                "expected an object key, found a bucket root",
            ));
        }
        Ok(Target::S3 { s3, bucket, key })
    }

    /// The whole object.
    pub async fn get(&self, loc: &Location) -> Result<Bytes> {
        let op = Operation::Get;
        match self.target(op, loc, true)? {
            Target::Local(path) => {
                let owned = loc.clone();
                blocking(op, loc, move || local::get(&owned, &path)).await
            }
            Target::S3 { s3, bucket, key } => s3.get(loc, bucket, key).await,
        }
    }

    /// Bytes `range.start..range.end` of the object. An object shorter than `range.end` is a
    /// permanent error (expected vs found lengths); an empty range returns no bytes.
    pub async fn get_range(&self, loc: &Location, range: Range<u64>) -> Result<Bytes> {
        let op = Operation::GetRange;
        match self.target(op, loc, true)? {
            Target::Local(path) => {
                let owned = loc.clone();
                blocking(op, loc, move || local::get_range(&owned, &path, range)).await
            }
            Target::S3 { s3, bucket, key } => s3.get_range(loc, bucket, key, range).await,
        }
    }

    /// Size, ETag and modification time, or `None` when there is no object (a local
    /// directory is not an object). On S3 a missing bucket also reads as `None`, because
    /// HEAD responses carry no error code to tell them apart.
    pub async fn head(&self, loc: &Location) -> Result<Option<ObjectMeta>> {
        let op = Operation::Head;
        match self.target(op, loc, false)? {
            Target::Local(path) => {
                let owned = loc.clone();
                blocking(op, loc, move || local::head(&owned, &path)).await
            }
            Target::S3 { s3, bucket, key } => s3.head(loc, bucket, key).await,
        }
    }

    /// Whether an object exists (`head(loc)?.is_some()`).
    pub async fn exists(&self, loc: &Location) -> Result<bool> {
        Ok(self.head(loc).await?.is_some())
    }

    /// Writes the object, replacing any previous one, atomically.
    ///
    /// Local: a synced temporary file in the same directory renamed over the name (parent
    /// directories are created). S3: one PutObject.
    pub async fn put(&self, loc: &Location, data: impl Into<Bytes>) -> Result<()> {
        let op = Operation::Put;
        let data = data.into();
        match self.target(op, loc, true)? {
            Target::Local(path) => {
                let owned = loc.clone();
                blocking(op, loc, move || local::put(&owned, &path, &data)).await
            }
            Target::S3 { s3, bucket, key } => s3.put(loc, bucket, key, data).await,
        }
    }

    /// Uploads the local file `src` as the object, atomically.
    ///
    /// Local: copied to a temporary file beside the target, then renamed. S3: one PutObject
    /// streamed from the file, or above [`StoreConfig::multipart_threshold`] (64 MiB) a
    /// multipart upload of [`StoreConfig::part_size`] parts, four in flight, aborted on
    /// failure.
    pub async fn put_file(&self, loc: &Location, src: &Path) -> Result<()> {
        let op = Operation::PutFile;
        match self.target(op, loc, true)? {
            Target::Local(path) => {
                let owned = loc.clone();
                let src = src.to_path_buf();
                blocking(op, loc, move || local::put_file(&owned, &path, &src)).await
            }
            Target::S3 { s3, bucket, key } => s3.put_file(loc, bucket, key, src).await,
        }
    }

    /// Creates the object only if none exists; of concurrent callers exactly one gets
    /// [`PutOutcome::Created`].
    ///
    /// S3: PutObject with `If-None-Match: *`; 412 means [`PutOutcome::AlreadyExists`], and a
    /// 409 `ConditionalRequestConflict` (a concurrent conditional write on the key) is sent
    /// again after a short pause, the next answer deciding. Local: the complete temporary file
    /// is moved in with a no-replace rename (or hard link), which fails if the name exists.
    ///
    /// Caveat: if the SDK retries a request whose first attempt did succeed but whose answer
    /// was lost, the retry sees our own object and reports `AlreadyExists`. Callers that must
    /// know should put a unique token (their run id) in the body and compare on
    /// `AlreadyExists`.
    pub async fn put_if_absent(
        &self,
        loc: &Location,
        data: impl Into<Bytes>,
    ) -> Result<PutOutcome> {
        let op = Operation::PutIfAbsent;
        let data = data.into();
        match self.target(op, loc, true)? {
            Target::Local(path) => {
                let owned = loc.clone();
                blocking(op, loc, move || local::put_if_absent(&owned, &path, &data)).await
            }
            Target::S3 { s3, bucket, key } => s3.put_if_absent(loc, bucket, key, data).await,
        }
    }

    /// Replaces the object only if its current ETag is `etag` (from [`Store::head`] or
    /// [`Store::list`] of the same store); returns the new ETag (S3 may omit it).
    ///
    /// Fails with [`ErrorKind::PreconditionFailed`] when the object changed or no longer
    /// exists. S3: PutObject with `If-Match` (409 conflicts are sent again, as for
    /// [`Store::put_if_absent`]). Local: compare-and-rename under an exclusive lock of the
    /// current file (see [`ObjectMeta::etag`] for the local tag); other `put_if_match`
    /// callers wait for the lock, plain [`Store::put`] does not.
    pub async fn put_if_match(
        &self,
        loc: &Location,
        data: impl Into<Bytes>,
        etag: &str,
    ) -> Result<Option<String>> {
        let op = Operation::PutIfMatch;
        let data = data.into();
        match self.target(op, loc, true)? {
            Target::Local(path) => {
                let owned = loc.clone();
                let etag = etag.to_string();
                blocking(op, loc, move || {
                    local::put_if_match(&owned, &path, &data, &etag).map(Some)
                })
                .await
            }
            Target::S3 { s3, bucket, key } => s3.put_if_match(loc, bucket, key, data, etag).await,
        }
    }

    /// One optimistic read-modify-write step: writes `data` only if the object is still as
    /// `seen` (the [`Store::head`] taken before computing `data`): created when `seen` is
    /// `None`, replaced with [`Store::put_if_match`] on its ETag otherwise (plain replace when
    /// the store reported no tag). Returns `false` when another writer got there first, so
    /// the caller reads again and retries.
    pub async fn put_if_unchanged(
        &self,
        loc: &Location,
        data: impl Into<Bytes>,
        seen: Option<&ObjectMeta>,
    ) -> Result<bool> {
        Ok(self
            .put_if_unchanged_tagged(loc, data, seen)
            .await?
            .is_some())
    }

    /// [`Store::put_if_unchanged`] that also tells the written object's ETag: `None` when
    /// another writer got there first, `Some(tag)` when written, `tag` being the new ETag
    /// where the write reports one (a replace on its ETag), so that a caller can later tell
    /// whether the object is still what it wrote without reading it.
    pub async fn put_if_unchanged_tagged(
        &self,
        loc: &Location,
        data: impl Into<Bytes>,
        seen: Option<&ObjectMeta>,
    ) -> Result<Option<Option<String>>> {
        match seen {
            None => {
                Ok((self.put_if_absent(loc, data).await? == PutOutcome::Created).then_some(None))
            }
            Some(ObjectMeta {
                etag: Some(etag), ..
            }) => match self.put_if_match(loc, data, etag).await {
                Ok(new_etag) => Ok(Some(new_etag)),
                Err(err)
                    if matches!(
                        err.kind(),
                        ErrorKind::PreconditionFailed | ErrorKind::NotFound
                    ) =>
                {
                    Ok(None)
                }
                Err(err) => Err(err),
            },
            Some(_) => {
                self.put(loc, data).await?;
                Ok(Some(None))
            }
        }
    }

    /// Every object below the folder `prefix`, recursively, sorted by key.
    ///
    /// S3: ListObjectsV2 pages (of [`StoreConfig::list_page_size`] keys) appended in order,
    /// keys URL-decoded. Local: a recursive walk following symbolic links, skipping in-flight
    /// temporary files; ETags are metadata-derived (see [`ObjectMeta::etag`]), so listing
    /// reads no file content.
    pub async fn list(&self, prefix: &Location) -> Result<Vec<ObjectMeta>> {
        let op = Operation::List;
        match self.target(op, prefix, false)? {
            Target::Local(path) => {
                let owned = prefix.clone();
                blocking(op, prefix, move || local::list(&owned, &path)).await
            }
            Target::S3 { s3, bucket, key } => s3.list(prefix, bucket, key).await,
        }
    }

    /// Every object whose path below the folder `dir` starts with `name_prefix` (S3: the raw
    /// key prefix `<dir key>/<name_prefix>`, which need not end at a `/`), handed to `on_page`
    /// one listing page at a time so that a caller can index millions of keys without holding
    /// them all. Returns the number of pages (S3: ListObjectsV2 requests; local: one page).
    ///
    /// Local: the recursive walk of `dir` (as [`Store::list`]) filtered by relative path.
    pub async fn list_prefix_pages(
        &self,
        dir: &Location,
        name_prefix: &str,
        mut on_page: impl FnMut(Vec<ObjectMeta>) + Send,
    ) -> Result<u64> {
        let op = Operation::List;
        match self.target(op, dir, false)? {
            Target::Local(path) => {
                let owned = dir.clone();
                let mut found = blocking(op, dir, move || local::list(&owned, &path)).await?;
                found.retain(|object| {
                    object
                        .location
                        .relative_to(dir)
                        .is_some_and(|relative| relative.starts_with(name_prefix))
                });
                on_page(found);
                Ok(1)
            }
            Target::S3 { s3, bucket, key } => {
                let key_prefix = if key.is_empty() {
                    name_prefix.to_string()
                } else {
                    format!("{key}/{name_prefix}")
                };
                s3.list_pages(dir, bucket, &key_prefix, &mut on_page).await
            }
        }
    }

    /// Deletes the object; deleting a missing object succeeds.
    pub async fn delete(&self, loc: &Location) -> Result<()> {
        let op = Operation::Delete;
        match self.target(op, loc, true)? {
            Target::Local(path) => {
                let owned = loc.clone();
                blocking(op, loc, move || local::delete(&owned, &path)).await
            }
            Target::S3 { s3, bucket, key } => s3.delete(loc, bucket, key).await,
        }
    }

    /// Copies the object to the local file `dest` (parent directories created), atomically:
    /// streamed into a temporary file beside `dest`, then renamed. Errors about `dest` are of
    /// kind [`ErrorKind::Io`] and name it.
    pub async fn download_to(&self, loc: &Location, dest: &Path) -> Result<()> {
        let op = Operation::DownloadTo;
        match self.target(op, loc, true)? {
            Target::Local(path) => {
                let owned = loc.clone();
                let dest = dest.to_path_buf();
                blocking(op, loc, move || local::download_to(&owned, &path, &dest)).await
            }
            Target::S3 { s3, bucket, key } => s3.download_to(loc, bucket, key, dest).await,
        }
    }
}

/// Runs blocking file-system work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    op: Operation,
    loc: &Location,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| join_error(op, loc, &e))?
}
