//! The Icechunk repository of a dataset: the same combined Zarr view as the kerchunk
//! references, as Zarr v3 arrays whose chunks are virtual references into the granules, one
//! commit per update, so that users get snapshots and time travel.
//!
//! Like the reference files, the repository is a function of `state.json`; [`sync`] brings
//! the tip of branch `main` to a given state:
//!
//! - Every commit records in its metadata how many granules it holds (`edp:granules`) and a
//!   digest chaining the store's layout and every granule in time order (`edp:digest`). When
//!   the state's digest over its first `edp:granules` granules is the recorded one, the state
//!   only appended granules: their chunk refs are added and the arrays grow. Otherwise (a
//!   backfill, a reprocessed granule, a changed layout) every array is written again.
//!   A state the tip already holds commits nothing.
//! - A commit that loses against a concurrent one (Icechunk refuses it: its parent is no
//!   longer the tip) is redone from the new tip. Local repositories are also serialised by a
//!   lock file beside them, because Icechunk's local file system storage cannot detect
//!   concurrent commits.
//! - Spec version 1 is written, which every Icechunk reader (1.x and 2.x) opens.
//! - Chunk references into S3 carry the granule's ETag, so a reader refuses the bytes of a
//!   granule replaced after the commit instead of returning them under the old references.
//!
//! The metadata documents follow xarray's Zarr v3 conventions: `dimension_names`, the
//! `_FillValue` attribute (floats as base64 of the little-endian float64, as xarray writes it),
//! and the HDF5 filters as codecs after `bytes`: `numcodecs.shuffle` and `numcodecs.zlib`.

use std::collections::HashMap;
use std::path::{Path as StdPath, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use edp_store::Location;
use edp_task_schemas::StorageFilter;
use futures::StreamExt as _;
use icechunk::config::{Credentials, S3Credentials, S3Options, S3StaticCredentials};
use icechunk::config::{
    ManifestConfig, ManifestSplitCondition, ManifestSplitDim, ManifestSplitDimCondition,
    ManifestSplittingConfig,
};
use icechunk::format::format_constants::SpecVersionBin;
use icechunk::format::manifest::{Checksum, ChunkPayload, VirtualChunkLocation, VirtualChunkRef};
use icechunk::format::snapshot::SnapshotProperties;
use icechunk::format::{ChunkIndices, Path as NodePath};
use icechunk::repository::VersionInfo;
use icechunk::session::{SessionError, SessionErrorKind};
use icechunk::virtual_chunks::VirtualChunkContainer;
use icechunk::{ObjectStoreConfig, Repository, RepositoryConfig, Storage};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::error::{Result, VirtualError};
use crate::kerchunk::zarr_number;
use crate::model::{ChunkRef, GranuleRefs, TIME_DIMENSION, VariableLayout, VirtualState};

/// The repository's configuration file, written when edp creates a repository (its presence
/// tells a repository edp finished creating).
pub const CONFIG_FILE: &str = "config.yaml";
/// The branch every update commits to.
pub const BRANCH: &str = "main";
/// Commit metadata: granules held by the snapshot.
const GRANULES_KEY: &str = "edp:granules";
/// Commit metadata: digest of the layout and the granules held, in time order.
const DIGEST_KEY: &str = "edp:digest";
/// Version of how a state is rendered into the repository; part of every digest, so that a
/// change of rendering rewrites the arrays of existing repositories at their next update.
const RENDERING: u32 = 1;
/// Time steps per manifest (see [`time_splitting`]).
const GRANULES_PER_MANIFEST: u32 = 100;
/// Attempts at committing against concurrent writers.
const ATTEMPTS: u32 = 8;

/// S3 settings of the repositories: those of the [`edp_store::Store`] that writes the rest of
/// the virtual store (endpoint, region, path style, and its credentials when it signs with
/// fixed ones), so that both reach the same bucket the same way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// Endpoint override (an emulator).
    pub endpoint_url: Option<String>,
    /// Region; `None`: the SDK's region chain.
    pub region: Option<String>,
    /// Path-style addressing.
    pub force_path_style: bool,
    /// Fixed credentials; `None`: the SDK's credential chain.
    pub credentials: Option<edp_store::StaticCredentials>,
}

impl S3Settings {
    /// The settings of `store`'s S3 client; those of the environment for a local-only store.
    pub fn of_store(store: &edp_store::Store) -> S3Settings {
        let config = store
            .s3_config()
            .or_else(|| edp_store::StoreConfig::from_env().ok())
            .unwrap_or_default();
        S3Settings {
            endpoint_url: config.endpoint_url,
            region: config.region,
            force_path_style: config.force_path_style,
            credentials: config.credentials,
        }
    }

    fn credentials(&self) -> S3Credentials {
        match &self.credentials {
            Some(fixed) => S3Credentials::Static(S3StaticCredentials {
                access_key_id: fixed.access_key_id.clone(),
                secret_access_key: fixed.secret_access_key.clone(),
                session_token: fixed.session_token.clone(),
                expires_after: None,
            }),
            None => S3Credentials::FromEnv,
        }
    }

    fn options(&self) -> S3Options {
        let mut options = S3Options::default()
            .with_allow_http(
                self.endpoint_url
                    .as_deref()
                    .is_some_and(|u| u.starts_with("http://")),
            )
            .with_force_path_style(self.force_path_style);
        if let Some(region) = &self.region {
            options = options.with_region(region.clone());
        }
        if let Some(endpoint) = &self.endpoint_url {
            options = options.with_endpoint_url(endpoint.clone());
        }
        options
    }
}

/// Where the repository is, and what its chunk references point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoTarget {
    /// The repository's folder (`.../icechunk` or `.../icechunk.https`).
    pub location: Location,
    /// URL prefix of the granules: `s3://bucket/prefix`, `file:///abs/root` or an
    /// `https://` base URL, without a trailing `/`.
    pub url_base: String,
}

/// What [`sync`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    /// The tip already held the state.
    Unchanged,
    /// Granules were appended to the arrays (the count appended).
    Appended(usize),
    /// Every array was written again (a new repository, a backfill, a reprocessed granule).
    Rewritten,
}

/// The granule URL prefix of a destination root for the repository: `s3://bucket/prefix`,
/// or the root's absolute path as a `file://` URL.
pub fn storage_url_base(dest: &Location) -> String {
    match dest.as_local_path() {
        Some(path) => format!("file://{}", path.display())
            .trim_end_matches('/')
            .to_string(),
        None => dest.to_string().trim_end_matches('/').to_string(),
    }
}

/// Brings branch `main` of the repository at `target` to `state` (creating the repository
/// when there is none), with one commit when anything changed.
pub async fn sync(
    target: &RepoTarget,
    state: &VirtualState,
    s3: &S3Settings,
) -> Result<SyncOutcome> {
    let _lock = match target.location.as_local_path() {
        Some(path) => Some(LocalLock::acquire(path).await?),
        None => None,
    };
    let error = |reason: String| VirtualError::Icechunk {
        location: target.location.to_string(),
        reason,
    };
    let digests = chain(state, &target.url_base);
    for _ in 0..ATTEMPTS {
        let repo = open_or_create(target, s3).await.map_err(&error)?;
        let (held, digest) = tip_metadata(&repo).await.map_err(&error)?;
        let appendable = held <= state.granules.len() && digests[held] == digest;
        if appendable && held == state.granules.len() {
            return Ok(SyncOutcome::Unchanged);
        }
        let mut session = repo
            .writable_session(BRANCH)
            .await
            .map_err(|e| error(e.to_string()))?;
        let (from, outcome) = if appendable && held > 0 {
            (held, SyncOutcome::Appended(state.granules.len() - held))
        } else {
            (0, SyncOutcome::Rewritten)
        };
        write(&mut session, state, &target.url_base, from)
            .await
            .map_err(&error)?;
        let mut properties = SnapshotProperties::new();
        properties.insert(GRANULES_KEY.into(), json!(state.granules.len()));
        properties.insert(DIGEST_KEY.into(), json!(digests[state.granules.len()]));
        let message = match outcome {
            SyncOutcome::Appended(n) => format!(
                "edp: {n} granule(s) appended, {} in all",
                state.granules.len()
            ),
            _ => format!("edp: {} granule(s)", state.granules.len()),
        };
        match session
            .commit(message)
            .properties(properties)
            .execute()
            .await
        {
            Ok(_) => return Ok(outcome),
            Err(SessionError {
                kind: SessionErrorKind::Conflict { .. } | SessionErrorKind::RebaseFailed { .. },
                ..
            }) => {
                tracing::debug!(repo = %target.location,
                    "concurrent commit to an Icechunk repository: updating again");
            }
            Err(e) => return Err(error(e.to_string())),
        }
    }
    Err(VirtualError::Contention {
        location: target.location.to_string(),
        attempts: ATTEMPTS,
    })
}

/// Granules held by the tip of `main` of the repository at `target` (`None` when there is
/// no repository).
pub async fn granules_held(target: &RepoTarget, s3: &S3Settings) -> Result<Option<usize>> {
    let error = |reason: String| VirtualError::Icechunk {
        location: target.location.to_string(),
        reason,
    };
    let storage = storage(&target.location, s3).await.map_err(error)?;
    let exists = Repository::exists(Arc::clone(&storage), None)
        .await
        .map_err(|e| error(e.to_string()))?;
    if !exists {
        return Ok(None);
    }
    let repo = open_or_create(target, s3).await.map_err(error)?;
    let (held, _) = tip_metadata(&repo).await.map_err(error)?;
    Ok(Some(held))
}

/// The storage of the repository at `location`.
async fn storage(
    location: &Location,
    s3: &S3Settings,
) -> std::result::Result<Arc<dyn Storage + Send + Sync>, String> {
    if let Some(path) = location.as_local_path() {
        return icechunk::new_local_filesystem_storage(path)
            .await
            .map_err(|e| e.to_string());
    }
    let Some((bucket, key)) = location.as_s3() else {
        return Err("neither a local path nor an s3:// location".into());
    };
    icechunk::new_s3_storage(
        s3.options(),
        bucket.to_string(),
        Some(key.to_string()),
        Some(s3.credentials()),
        Vec::new(),
        Vec::new(),
        None,
    )
    .map_err(|e| e.to_string())
}

/// The virtual chunk container of the granules at `url_base`, and the credentials a reader
/// of the repository needs for it.
fn container(
    url_base: &str,
    s3: &S3Settings,
) -> std::result::Result<(VirtualChunkContainer, Credentials), String> {
    let prefix = format!("{url_base}/");
    let (store, credentials) = if prefix.starts_with("file://") {
        (
            ObjectStoreConfig::LocalFileSystem(PathBuf::new()),
            Credentials::LocalFileSystemAccess,
        )
    } else if prefix.starts_with("s3://") {
        let config = if s3.endpoint_url.is_some() {
            ObjectStoreConfig::S3Compatible(s3.options())
        } else {
            ObjectStoreConfig::S3(s3.options())
        };
        (config, Credentials::S3(s3.credentials()))
    } else {
        // The explicit sentinel: icechunk 2.x logs a deprecation warning for `None`.
        (
            ObjectStoreConfig::Http(Default::default()),
            Credentials::HttpAccess,
        )
    };
    Ok((VirtualChunkContainer::new(prefix, store)?, credentials))
}

async fn open_or_create(
    target: &RepoTarget,
    s3: &S3Settings,
) -> std::result::Result<Repository, String> {
    let storage = storage(&target.location, s3).await?;
    let (container, credentials) = container(&target.url_base, s3)?;
    let prefix = container.url_prefix().to_string();
    let config = RepositoryConfig {
        virtual_chunk_containers: Some(HashMap::from([(prefix.clone(), container)])),
        manifest: Some(ManifestConfig {
            splitting: Some(time_splitting()),
            ..ManifestConfig::default()
        }),
        ..RepositoryConfig::default()
    };
    let authorized = HashMap::from([(prefix, Some(credentials))]);
    let exists = Repository::exists(Arc::clone(&storage), None)
        .await
        .map_err(|e| e.to_string())?;
    if !exists {
        let created = Repository::create(Arc::clone(&storage))
            .config(config.clone())
            .authorize_virtual_chunk_access(authorized.clone())
            .spec_version(SpecVersionBin::V1)
            .execute()
            .await;
        match created {
            Ok(repo) => {
                // Persisted, so that readers find the virtual chunk container (and writers
                // the manifest splitting) in the repository itself.
                repo.save_config().await.map_err(|e| e.to_string())?;
                return Ok(repo);
            }
            // Created concurrently by another writer: open theirs.
            Err(e) => {
                tracing::debug!(error = %e, "creating an Icechunk repository failed: opening it")
            }
        }
    }
    Repository::open(storage)
        .config(config)
        .authorize_virtual_chunk_access(authorized)
        .execute()
        .await
        .map_err(|e| e.to_string())
}

/// Manifests split every [`GRANULES_PER_MANIFEST`] steps along `time`: an append rewrites
/// the manifest of the last split only, not every chunk reference of the dataset.
fn time_splitting() -> ManifestSplittingConfig {
    ManifestSplittingConfig {
        split_sizes: Some(vec![(
            ManifestSplitCondition::AnyArray,
            vec![ManifestSplitDim {
                condition: ManifestSplitDimCondition::DimensionName(TIME_DIMENSION.into()),
                num_chunks: GRANULES_PER_MANIFEST,
            }],
        )]),
    }
}

/// Granules held by the tip of `main` and their digest (0 and the empty digest for a new
/// repository, whose only snapshot has no edp metadata).
async fn tip_metadata(repo: &Repository) -> std::result::Result<(usize, String), String> {
    let ancestry = repo
        .ancestry(&VersionInfo::BranchTipRef(BRANCH.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    futures::pin_mut!(ancestry);
    let Some(tip) = ancestry.next().await else {
        return Ok((0, String::new()));
    };
    let tip = tip.map_err(|e| e.to_string())?;
    let held = tip
        .metadata
        .get(GRANULES_KEY)
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok());
    let digest = tip.metadata.get(DIGEST_KEY).and_then(Value::as_str);
    Ok(match (held, digest) {
        (Some(held), Some(digest)) => (held, digest.to_string()),
        _ => (0, String::new()),
    })
}

/// `chain[k]`: the digest of the layout (with the URL base) and of granules `0..k`;
/// `chain[0]` stands for the layout alone.
fn chain(state: &VirtualState, url_base: &str) -> Vec<String> {
    let mut hasher = Sha256::new();
    hasher.update(RENDERING.to_le_bytes());
    hasher.update(url_base.as_bytes());
    hasher.update(state.source_granule.as_bytes());
    // Serialising the layout cannot fail (plain data); an empty digest would only force
    // a rewrite.
    hasher.update(serde_json::to_vec(&state.variables).unwrap_or_default());
    if let Some(source) = state
        .granules
        .iter()
        .find(|g| g.path == state.source_granule)
    {
        hasher.update(fingerprint(source));
    }
    let mut current: [u8; 32] = hasher.finalize().into();
    let mut digests = Vec::with_capacity(state.granules.len() + 1);
    digests.push(hex(&current));
    for granule in &state.granules {
        let mut hasher = Sha256::new();
        hasher.update(current);
        hasher.update(fingerprint(granule));
        current = hasher.finalize().into();
        digests.push(hex(&current));
    }
    digests
}

/// What identifies one granule's refs: its path and the object's size, ETag and SHA-256.
fn fingerprint(granule: &GranuleRefs) -> Vec<u8> {
    serde_json::to_vec(&json!([
        granule.path,
        granule.size,
        granule.etag,
        granule.sha256,
        granule.time_start,
        granule.time_end
    ]))
    .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the metadata of the group and of every array, and the chunks of granules
/// `from..`; with `from == 0` every array is deleted and written again.
async fn write(
    session: &mut icechunk::session::Session,
    state: &VirtualState,
    url_base: &str,
    from: usize,
) -> std::result::Result<(), String> {
    let e = |e: SessionError| e.to_string();
    let root = NodePath::root();
    let group = Bytes::from(
        serde_json::to_vec(&json!({
            "zarr_format": 3,
            "node_type": "group",
            "attributes": state.store_attributes(),
        }))
        .map_err(|e| e.to_string())?,
    );
    if from == 0 {
        // Drop what the tip holds: arrays of another layout and chunks of another order.
        let existing: Vec<NodePath> = session
            .list_nodes(&root)
            .await
            .map_err(e)?
            .filter_map(|node| node.ok())
            .filter(|node| node.path != root)
            .map(|node| node.path)
            .collect();
        for path in existing {
            session.delete_array(path).await.map_err(e)?;
        }
    }
    match session.get_group(&root).await {
        Ok(_) => session.update_group(&root, group).await.map_err(e)?,
        Err(_) => session.add_group(root.clone(), group).await.map_err(e)?,
    }
    let granules = state.granules.len() as u64;
    let url_of = |relative: &str| format!("{url_base}/{relative}");
    let checksum_of = |granule: &GranuleRefs| {
        granule
            .etag
            .as_ref()
            .filter(|_| url_base.starts_with("s3://"))
            .map(|etag| Checksum::ETag(icechunk::storage::ETag(etag.clone())))
    };
    for variable in &state.variables {
        let path = NodePath::try_from(format!("/{}", variable.name).as_str())
            .map_err(|err| format!("variable {}: {err}", variable.name))?;
        let mut shape = variable.shape.clone();
        if let Some(axis) = variable.time_axis() {
            shape[axis] *= granules;
        }
        let metadata = array_metadata(variable, &shape)?;
        let array_shape = array_shape(&shape, &variable.chunk_shape)?;
        let dimensions = Some(
            variable
                .dimensions
                .iter()
                .map(|d| d.as_str().into())
                .collect(),
        );
        let exists = session.get_array(&path).await.is_ok();
        if exists {
            session
                .update_array(&path, array_shape, dimensions, metadata)
                .await
                .map_err(e)?;
        } else {
            session
                .add_array(path.clone(), array_shape, dimensions, metadata)
                .await
                .map_err(e)?;
        }
        match variable.time_axis() {
            None => {
                if from > 0 {
                    continue;
                }
                let source = state
                    .granules
                    .iter()
                    .find(|g| g.path == state.source_granule);
                let url = url_of(&state.source_granule);
                for chunk in &variable.static_chunks {
                    let payload = payload(chunk, &url, source.and_then(checksum_of))?;
                    session
                        .set_chunk_ref(path.clone(), indices(&chunk.index)?, Some(payload))
                        .await
                        .map_err(e)?;
                }
            }
            Some(axis) => {
                let per_granule = variable.time_chunks_per_granule();
                for (k, granule) in state.granules.iter().enumerate().skip(from) {
                    let Some(chunks) = granule.chunks.get(&variable.name) else {
                        continue;
                    };
                    let url = url_of(&granule.path);
                    for chunk in chunks {
                        let mut index = chunk.index.clone();
                        index[axis] += k as u64 * per_granule;
                        let payload = payload(chunk, &url, checksum_of(granule))?;
                        session
                            .set_chunk_ref(path.clone(), indices(&index)?, Some(payload))
                            .await
                            .map_err(e)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The chunk's bytes when the chunk index holds them, else a virtual reference.
fn payload(
    chunk: &ChunkRef,
    url: &str,
    checksum: Option<Checksum>,
) -> std::result::Result<ChunkPayload, String> {
    if let Some(inline) = &chunk.inline {
        let bytes = BASE64
            .decode(inline)
            .map_err(|err| format!("inline chunk of {url}: {err}"))?;
        return Ok(ChunkPayload::Inline(Bytes::from(bytes)));
    }
    let location = VirtualChunkLocation::from_url(url).map_err(|err| format!("{url}: {err}"))?;
    Ok(ChunkPayload::Virtual(VirtualChunkRef {
        location,
        offset: chunk.offset,
        length: chunk.length,
        checksum,
    }))
}

fn indices(index: &[u64]) -> std::result::Result<ChunkIndices, String> {
    index
        .iter()
        .map(|&i| u32::try_from(i).map_err(|_| format!("chunk index {i} exceeds 2^32")))
        .collect::<std::result::Result<Vec<u32>, String>>()
        .map(ChunkIndices)
}

/// Icechunk's shape of an array: per axis its extent and its number of chunks.
fn array_shape(
    shape: &[u64],
    chunk_shape: &[u64],
) -> std::result::Result<icechunk::format::snapshot::ArrayShape, String> {
    icechunk::format::snapshot::ArrayShape::new(
        shape
            .iter()
            .zip(chunk_shape)
            .map(|(&extent, &chunk)| Ok((extent, u32::try_from(extent.div_ceil(chunk.max(1)))?)))
            .collect::<std::result::Result<Vec<(u64, u32)>, std::num::TryFromIntError>>()
            .map_err(|_| format!("shape {shape:?} has more than 2^32 chunks along an axis"))?,
    )
    .ok_or_else(|| format!("invalid array shape {shape:?} with chunks {chunk_shape:?}"))
}

/// The Zarr v3 `zarr.json` of a variable with the combined `shape`.
fn array_metadata(variable: &VariableLayout, shape: &[u64]) -> std::result::Result<Bytes, String> {
    let data_type = data_type(&variable.dtype).ok_or_else(|| {
        format!(
            "variable {}: unsupported type {}",
            variable.name, variable.dtype
        )
    })?;
    let integer = !data_type.starts_with("float");
    let mut codecs = vec![json!({"name": "bytes", "configuration": {"endian": "little"}})];
    for filter in &variable.filters {
        codecs.push(match filter {
            StorageFilter::Shuffle { element_size } => json!({
                "name": "numcodecs.shuffle", "configuration": {"elementsize": element_size}
            }),
            StorageFilter::Deflate { level } => json!({
                "name": "numcodecs.zlib", "configuration": {"level": level}
            }),
        });
    }
    let mut attributes: serde_json::Map<String, Value> =
        variable.attributes.clone().into_iter().collect();
    attributes.remove("_FillValue");
    // A float32 variable's `_FillValue` is a float32: rounding it there undoes the last-digit
    // error of its trip through JSON, so that xarray's mask (a float64 comparison) matches.
    let fill = variable.fill_value.map(|value| {
        if data_type == "float32" {
            f64::from(value as f32)
        } else {
            value
        }
    });
    let fill_value = match fill {
        Some(value) => {
            attributes.insert("_FillValue".into(), xarray_fill_value(value, integer));
            zarr_number(value, integer)
        }
        None if integer => json!(0),
        None => json!("NaN"),
    };
    let document = json!({
        "zarr_format": 3,
        "node_type": "array",
        "shape": shape,
        "data_type": data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": variable.chunk_shape}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_value,
        "codecs": codecs,
        "attributes": attributes,
        "dimension_names": variable.dimensions,
    });
    serde_json::to_vec(&document)
        .map(Bytes::from)
        .map_err(|e| e.to_string())
}

/// The Zarr v3 data type of a NumPy type string.
fn data_type(dtype: &str) -> Option<&'static str> {
    Some(match dtype {
        "|u1" => "uint8",
        "|i1" => "int8",
        "<u2" => "uint16",
        "<i2" => "int16",
        "<u4" => "uint32",
        "<i4" => "int32",
        "<u8" => "uint64",
        "<i8" => "int64",
        "<f4" => "float32",
        "<f8" => "float64",
        _ => return None,
    })
}

/// The `_FillValue` attribute as xarray writes it in Zarr v3: integers as numbers, floats as
/// base64 of the little-endian float64.
fn xarray_fill_value(value: f64, integer: bool) -> Value {
    if integer && value.is_finite() {
        json!(value as i64)
    } else {
        json!(BASE64.encode(value.to_le_bytes()))
    }
}

/// An exclusive lock on `<repo>.lock` beside a local repository, held while it is updated.
struct LocalLock(std::fs::File);

impl LocalLock {
    async fn acquire(repo: &StdPath) -> Result<LocalLock> {
        let mut name = repo.as_os_str().to_os_string();
        name.push(".lock");
        let path = PathBuf::from(name);
        let error = |e: std::io::Error| VirtualError::Icechunk {
            location: path.display().to_string(),
            reason: format!("cannot lock the repository: {e}"),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(error)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(error)?;
        let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
            .await
            .map_err(|e| error(std::io::Error::other(e)))?
            .map_err(error)?;
        Ok(LocalLock(file))
    }
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kerchunk::render_tests::granule;

    fn target(dir: &StdPath) -> RepoTarget {
        RepoTarget {
            location: Location::parse(&dir.join("icechunk").display().to_string())
                .unwrap_or_else(|e| panic!("{e}")),
            url_base: "file:///data/products".into(),
        }
    }

    async fn open(target: &RepoTarget) -> Repository {
        open_or_create(target, &S3Settings::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The virtual chunk `SSH[time, 1, 0]` at the tip: (URL, offset, length).
    async fn ssh_chunk(repo: &Repository, time: u32) -> Option<(String, u64, u64)> {
        let session = repo
            .readonly_session(&VersionInfo::BranchTipRef(BRANCH.into()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let path = NodePath::try_from("/SSH").unwrap_or_else(|e| panic!("{e}"));
        match session
            .get_chunk_ref(&path, &ChunkIndices(vec![time, 1, 0]))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
        {
            Some(ChunkPayload::Virtual(r)) => {
                Some((r.location.url().to_string(), r.offset, r.length))
            }
            Some(other) => panic!("not a virtual chunk: {other:?}"),
            None => None,
        }
    }

    async fn commits(repo: &Repository) -> usize {
        let ancestry = repo
            .ancestry(&VersionInfo::BranchTipRef(BRANCH.into()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        ancestry.count().await
    }

    #[tokio::test]
    async fn appends_commit_only_new_granules_and_backfills_rewrite_in_time_order() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let target = target(dir.path());
        let s3 = S3Settings::default();
        let url = |month: u32| format!("file:///data/products/v/native/mon_mean/SSH/{month}.nc");

        let mut state = VirtualState::new("v/native/mon_mean/SSH", granule(2, 200));
        let first = sync(&target, &state, &s3)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first, SyncOutcome::Rewritten);
        // The configuration is persisted: readers find the container of the granules there.
        let saved = std::fs::read_to_string(dir.path().join("icechunk").join(CONFIG_FILE))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(saved.contains("file:///data/products/"), "{saved}");
        let repo = open(&target).await;
        assert_eq!(ssh_chunk(&repo, 0).await, Some((url(2), 200, 9)));

        // An append adds the new granule's refs and keeps the others.
        state
            .merge(granule(3, 300))
            .unwrap_or_else(|e| panic!("{e}"));
        let appended = sync(&target, &state, &s3)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(appended, SyncOutcome::Appended(1));
        let repo = open(&target).await;
        assert_eq!(ssh_chunk(&repo, 0).await, Some((url(2), 200, 9)));
        assert_eq!(ssh_chunk(&repo, 1).await, Some((url(3), 300, 9)));
        assert_eq!(
            commits(&repo).await,
            3,
            "creation and one commit per update"
        );

        // The same state again commits nothing.
        let again = sync(&target, &state, &s3)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, SyncOutcome::Unchanged);
        assert_eq!(commits(&open(&target).await).await, 3);

        // A backfill (month 1 before the others) rewrites every array in time order.
        state
            .merge(granule(1, 100))
            .unwrap_or_else(|e| panic!("{e}"));
        let backfilled = sync(&target, &state, &s3)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(backfilled, SyncOutcome::Rewritten);
        let repo = open(&target).await;
        assert_eq!(ssh_chunk(&repo, 0).await, Some((url(1), 100, 9)));
        assert_eq!(ssh_chunk(&repo, 1).await, Some((url(2), 200, 9)));
        assert_eq!(ssh_chunk(&repo, 2).await, Some((url(3), 300, 9)));
        assert_eq!(ssh_chunk(&repo, 3).await, None, "outside the grid");

        // The time axis is held by the repository (inline chunks), and every commit says
        // what it holds.
        let session = repo
            .readonly_session(&VersionInfo::BranchTipRef(BRANCH.into()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let time = NodePath::try_from("/time").unwrap_or_else(|e| panic!("{e}"));
        let inline = session
            .get_chunk_ref(&time, &ChunkIndices(vec![2]))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            inline,
            Some(ChunkPayload::Inline(Bytes::from(
                BASE64.decode("03AAAA==").unwrap_or_default()
            )))
        );
        let (held, digest) = tip_metadata(&repo).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(held, 3);
        assert_eq!(digest, chain(&state, &target.url_base)[3]);
    }

    #[tokio::test]
    async fn a_reprocessed_granule_replaces_its_refs() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let target = target(dir.path());
        let s3 = S3Settings::default();
        let mut state = VirtualState::new("v/native/mon_mean/SSH", granule(1, 100));
        state
            .merge(granule(2, 200))
            .unwrap_or_else(|e| panic!("{e}"));
        sync(&target, &state, &s3)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut reprocessed = granule(2, 900);
        reprocessed.refs.size = 2;
        assert_eq!(
            state.merge(reprocessed).unwrap_or_else(|e| panic!("{e}")),
            crate::model::Merge::Replaced
        );
        let outcome = sync(&target, &state, &s3)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outcome, SyncOutcome::Rewritten);
        let chunk = ssh_chunk(&open(&target).await, 1).await;
        assert_eq!(chunk.map(|(_, offset, _)| offset), Some(900));
    }

    #[test]
    fn metadata_maps_hdf5_filters_and_fill_values_to_zarr_v3() {
        let state = VirtualState::new("v/native/mon_mean/SSH", granule(1, 100));
        let ssh = state
            .variables
            .iter()
            .find(|v| v.name == "SSH")
            .unwrap_or_else(|| panic!("no SSH"));
        let document: Value = serde_json::from_slice(
            &array_metadata(ssh, &[4, 2, 3]).unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(document["shape"], json!([4, 2, 3]));
        assert_eq!(document["data_type"], "float32");
        assert_eq!(
            document["codecs"],
            json!([
                {"name": "bytes", "configuration": {"endian": "little"}},
                {"name": "numcodecs.shuffle", "configuration": {"elementsize": 4}},
                {"name": "numcodecs.zlib", "configuration": {"level": 5}}
            ])
        );
        // netCDF's default float fill, exactly as a float32 (whatever the last digit of its
        // decimal form in the chunk index).
        let fill = f64::from(9.969_21e36_f32);
        let stored = document["fill_value"].as_f64().unwrap_or_default();
        assert_eq!(stored as f32, fill as f32);
        // xarray's spelling: base64 of the little-endian float64.
        let encoded = document["attributes"]["_FillValue"]
            .as_str()
            .unwrap_or_default();
        let decoded = BASE64.decode(encoded).unwrap_or_default();
        assert_eq!(decoded, fill.to_le_bytes());
        assert_eq!(document["dimension_names"], json!(["time", "tile", "i"]));
    }
}
