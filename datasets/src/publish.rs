//! `edp publish`: copies a publishable dataset to a publication prefix, writes its mapfile
//! there and records `published` with the copies' checksums.
//!
//! Layout below the publication prefix `--to`:
//!
//! ```text
//! <to>/<dataset>/<version>/<granule>.nc          the copies of one version (kept)
//! <to>/<dataset>/<version>/<dataset_id>.map      the mapfile of that version
//! <to>/<dataset>/<dataset_id>.map                the current mapfile: which version is live
//! ```
//!
//! A new version is copied completely and verified before the current mapfile is replaced
//! (one atomic PUT), so readers following the current mapfile see the old version or the
//! new one, never a mix; earlier versions stay where they are and in the status history.
//!
//! S3 to S3 copies are server-side (`CopyObject` asking S3 for the copy's SHA-256); other
//! combinations stream through this machine and hash the bytes written. Either way the
//! copy's checksum must equal the manifest's, or nothing is switched.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
use chrono::Utc;
use edp_plan::state::{Layout, read_manifest};
use edp_store::{Location, Store, StoreConfig};
use edp_task_schemas::{DatasetState, ManifestGranule, Publication, PublishedGranule};
use sha2::{Digest, Sha256};

use crate::DatasetError;
use crate::id::DatasetId;
use crate::lifecycle::{Actor, transition};
use crate::mapfile::{MapfileLine, render};
use crate::status::{now, read_status, update_status};

/// Largest object a single `CopyObject` copies (S3's limit).
const MAX_SINGLE_COPY: u64 = 5 * 1024 * 1024 * 1024;

/// What a publication did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The version published.
    pub version: String,
    /// Where the copies are.
    pub version_location: String,
    /// The current mapfile.
    pub mapfile: String,
    /// Granules copied.
    pub granules: usize,
    /// Bytes copied.
    pub bytes: u64,
    /// Copies made on the server (S3 `CopyObject`), not through this machine.
    pub server_side: usize,
    /// The version this one replaced.
    pub replaced: Option<String>,
}

/// Publishes `id` from the destination root `dest` to the prefix `to`.
pub async fn publish(
    store: &Store,
    dest: &Location,
    id: &DatasetId,
    to: &Location,
    actor: &Actor,
) -> Result<Published, DatasetError> {
    let layout = Layout::new(dest);
    let refuse = |reason: String| DatasetError::Publish {
        dataset: id.path(),
        reason,
    };
    let status = read_status(store, &layout, id)
        .await?
        .ok_or_else(|| DatasetError::NoStatus {
            dataset: id.path(),
            location: id.status_location(&layout).to_string(),
        })?;
    if status.state != DatasetState::Publishable {
        return Err(refuse(format!(
            "its state is {}; only publishable datasets (validated by `edp check`, which also \
             writes the mapfile) are published",
            status.state.as_str()
        )));
    }
    let manifest = read_manifest(store, &layout, &id.path())
        .await?
        .ok_or_else(|| refuse(format!("no manifest at {}", layout.manifest(&id.path()))))?;
    if manifest.granules.is_empty() {
        return Err(refuse("its manifest lists no granule".into()));
    }
    let previous = status.publication.as_ref().map(|p| p.version.clone());
    let mut version = Utc::now().format("%Y%m%d%H%M%S").to_string();
    if previous.as_deref() >= Some(version.as_str()) {
        // Two publications within one second: keep versions increasing.
        let bumped = previous
            .as_deref()
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        version = bumped.to_string();
    }
    let dataset_dir = to.join(&id.path());
    let version_dir = dataset_dir.join(&version);
    let copier = Copier::new(store, dest, to).await;

    let mut lines = Vec::with_capacity(manifest.granules.len());
    let mut copies = Vec::with_capacity(manifest.granules.len());
    let mut published = Published {
        version: version.clone(),
        version_location: version_dir.to_string(),
        mapfile: String::new(),
        granules: 0,
        bytes: 0,
        server_side: 0,
        replaced: previous.clone(),
    };
    for granule in &manifest.granules {
        let file = granule.path.rsplit('/').next().unwrap_or(&granule.path);
        let source = dest.join(&granule.path);
        let target = version_dir.join(file);
        let copy = copier
            .copy(&source, &target, granule)
            .await
            .map_err(|reason| refuse(format!("granule {}: {reason}", granule.path)))?;
        if copy.sha256 != granule.sha256 {
            return Err(refuse(format!(
                "copy {target}: SHA-256 {} differs from the manifest's {}",
                copy.sha256, granule.sha256
            )));
        }
        let meta = store
            .head(&target)
            .await?
            .ok_or_else(|| refuse(format!("copy {target} is not there after copying")))?;
        if meta.size != granule.size {
            return Err(refuse(format!(
                "copy {target}: {} bytes, manifest says {}",
                meta.size, granule.size
            )));
        }
        published.granules += 1;
        published.bytes += meta.size;
        published.server_side += usize::from(copy.server_side);
        lines.push(MapfileLine {
            dataset_id: id.esgf_id(),
            version: version.clone(),
            path: target.to_string(),
            size: meta.size,
            mod_time: seconds(meta.last_modified),
            checksum: copy.sha256.clone(),
        });
        copies.push(PublishedGranule {
            location: target.to_string(),
            size: meta.size,
            sha256: copy.sha256,
        });
    }
    let text = render(&lines);
    let file = format!("{}.map", id.esgf_id());
    store
        .put(&version_dir.join(&file), text.clone().into_bytes())
        .await?;
    // The switch: one atomic replace of the current mapfile.
    let current = dataset_dir.join(&file);
    store.put(&current, text.into_bytes()).await?;
    published.mapfile = current.to_string();

    let publication = Publication {
        location: to.to_string(),
        version_location: version_dir.to_string(),
        version: version.clone(),
        mapfile: current.to_string(),
        published_at: now(),
        granules: copies,
    };
    let reason = match &previous {
        Some(old) => format!("published version {version} to {to}, replacing version {old}"),
        None => format!("published version {version} to {to}"),
    };
    update_status(store, &layout, id, |current| {
        let mut status = current.ok_or_else(|| DatasetError::NoStatus {
            dataset: id.path(),
            location: id.status_location(&layout).to_string(),
        })?;
        transition(&mut status, DatasetState::Published, actor, &reason, &now())?;
        status.publication = Some(publication.clone());
        Ok(status)
    })
    .await?;
    Ok(published)
}

fn seconds(time: Option<SystemTime>) -> f64 {
    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64())
}

/// One copy made.
struct CopyMade {
    sha256: String,
    server_side: bool,
}

/// Copies objects: server-side between S3 locations, through memory otherwise.
struct Copier<'a> {
    store: &'a Store,
    s3: Option<aws_sdk_s3::Client>,
}

impl<'a> Copier<'a> {
    async fn new(store: &'a Store, dest: &Location, to: &Location) -> Copier<'a> {
        let s3 = if dest.is_s3() && to.is_s3() {
            match StoreConfig::from_env() {
                Ok(config) => Some(s3_client(&config).await),
                Err(err) => {
                    tracing::warn!("S3 settings unusable ({err}); copying through this machine");
                    None
                }
            }
        } else {
            None
        };
        Copier { store, s3 }
    }

    async fn copy(
        &self,
        source: &Location,
        target: &Location,
        granule: &ManifestGranule,
    ) -> Result<CopyMade, String> {
        if let (Some(client), Some((src_bucket, src_key)), Some((bucket, key))) =
            (&self.s3, source.as_s3(), target.as_s3())
            && granule.size <= MAX_SINGLE_COPY
        {
            let sha256 = server_side_copy(client, src_bucket, src_key, bucket, key).await?;
            return Ok(CopyMade {
                sha256,
                server_side: true,
            });
        }
        let bytes = self
            .store
            .get(source)
            .await
            .map_err(|e| format!("cannot read: {e}"))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if sha256 != granule.sha256 {
            return Err(format!(
                "source SHA-256 {sha256} differs from the manifest's {}",
                granule.sha256
            ));
        }
        self.store
            .put(target, bytes)
            .await
            .map_err(|e| format!("cannot write {target}: {e}"))?;
        Ok(CopyMade {
            sha256,
            server_side: false,
        })
    }
}

/// `CopyObject` asking S3 to compute the copy's SHA-256; when the service does not return
/// it in the copy result, it is read back with `HeadObject` (`ChecksumMode=ENABLED`).
async fn server_side_copy(
    client: &aws_sdk_s3::Client,
    src_bucket: &str,
    src_key: &str,
    bucket: &str,
    key: &str,
) -> Result<String, String> {
    let source = format!("{src_bucket}/{}", encode_key(src_key));
    let output = client
        .copy_object()
        .bucket(bucket)
        .key(key)
        .copy_source(source)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await
        .map_err(|e| {
            format!(
                "CopyObject to s3://{bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        })?;
    let from_copy = output
        .copy_object_result()
        .and_then(|r| r.checksum_sha256())
        .map(str::to_string);
    let encoded = match from_copy {
        Some(value) => value,
        None => client
            .head_object()
            .bucket(bucket)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "HeadObject s3://{bucket}/{key}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            })?
            .checksum_sha256()
            .map(str::to_string)
            .ok_or_else(|| format!("s3://{bucket}/{key}: S3 returned no SHA-256 of the copy"))?,
    };
    // A full-object checksum is base64 of the 32 bytes; multipart ones end in `-<parts>`.
    let raw = aws_smithy_types::base64::decode(encoded.trim())
        .map_err(|e| format!("SHA-256 {encoded:?} of the copy is not base64: {e}"))?;
    if raw.len() != 32 {
        return Err(format!(
            "SHA-256 {encoded:?} of the copy is not a full-object checksum"
        ));
    }
    Ok(hex::encode(raw))
}

/// URL-encodes a key for `x-amz-copy-source` (everything but unreserved characters and `/`).
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An S3 client with the store's settings (endpoint, region, path style, credentials).
async fn s3_client(config: &StoreConfig) -> aws_sdk_s3::Client {
    use aws_config::BehaviorVersion;
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = &config.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = &config.region {
        loader = loader.region(aws_sdk_s3::config::Region::new(region.clone()));
    }
    if let Some(creds) = &config.credentials {
        loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
            creds.access_key_id.clone(),
            creds.secret_access_key.clone(),
            creds.session_token.clone(),
            None,
            "edp-static",
        ));
    }
    let sdk = loader.load().await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(config.force_path_style)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_keys_are_url_encoded() {
        assert_eq!(encode_key("a b/c+d.nc"), "a%20b/c%2Bd.nc");
        assert_eq!(encode_key("V4r4/x_y-z.nc"), "V4r4/x_y-z.nc");
    }
}
