//! S3 backend over the AWS SDK. The same code serves AWS and a local emulator: only the
//! client's settings (endpoint URL, path-style addressing) differ.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::primitives::{ByteStream, DateTime, Length};
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, EncodingType};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use tokio::io::AsyncWriteExt;

use crate::config::{RetryMode, StoreConfig};
use crate::error::{ErrorKind, Operation, Result, StoreError};
use crate::s3_error::{is_conditional_conflict, sdk_error};
use crate::{Location, ObjectMeta, PutOutcome, local};

/// Attempts of a conditional write that keeps meeting 409 `ConditionalRequestConflict`
/// (another conditional write on the same key in flight). S3 asks clients to send again.
const CONFLICT_ATTEMPTS: u32 = 6;
/// Parts of one multipart upload in flight at once.
const PARTS_IN_FLIGHT: usize = 4;
/// S3's limit on parts per upload.
const MAX_PARTS: u64 = 10_000;

/// An S3 client plus the settings the store applies on top of it.
#[derive(Debug, Clone)]
pub(crate) struct S3 {
    client: Client,
    config: Arc<StoreConfig>,
}

impl S3 {
    /// The configuration, with the region the client resolved and the endpoint the SDK read
    /// from the environment when the configuration left them to the SDK.
    pub(crate) fn resolved_config(&self) -> StoreConfig {
        let mut config = (*self.config).clone();
        let client = self.client.config();
        if config.region.is_none() {
            config.region = client.region().map(|r| r.to_string());
        }
        if config.endpoint_url.is_none() {
            // What the SDK read (the client does not say which endpoint it resolved).
            config.endpoint_url = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
                .iter()
                .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()));
        }
        config
    }

    /// Builds one client from the SDK's default chains, overridden by `config`.
    pub(crate) async fn new(config: StoreConfig) -> S3 {
        let retry = match config.retry.mode {
            RetryMode::Standard => RetryConfig::standard(),
            RetryMode::Adaptive => RetryConfig::adaptive(),
        }
        .with_max_attempts(config.retry.max_attempts)
        .with_initial_backoff(config.retry.initial_backoff);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(url) = &config.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(creds) = &config.credentials {
            loader = loader.credentials_provider(Credentials::new(
                creds.access_key_id.clone(),
                creds.secret_access_key.clone(),
                creds.session_token.clone(),
                None,
                "edp-static",
            ));
        }
        let sdk_config = loader.load().await;
        let s3_config = aws_sdk_s3::config::Builder::from(&sdk_config)
            .force_path_style(config.force_path_style)
            .build();
        S3 {
            client: Client::from_conf(s3_config),
            config: Arc::new(config),
        }
    }

    /// The underlying SDK client (for operations the store does not wrap, e.g. bucket setup
    /// in tests).
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) async fn get(&self, loc: &Location, bucket: &str, key: &str) -> Result<Bytes> {
        let op = Operation::Get;
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_error(op, loc, e))?;
        collect_body(op, loc, out.body).await
    }

    pub(crate) async fn get_range(
        &self,
        loc: &Location,
        bucket: &str,
        key: &str,
        range: Range<u64>,
    ) -> Result<Bytes> {
        let op = Operation::GetRange;
        if range.start >= range.end {
            return Ok(Bytes::new());
        }
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            // HTTP ranges are inclusive.
            .range(format!("bytes={}-{}", range.start, range.end - 1))
            .send()
            .await
            .map_err(|e| sdk_error(op, loc, e))?;
        let data = collect_body(op, loc, out.body).await?;
        local::check_range_length(op, loc, &range, data.len() as u64)?;
        Ok(data)
    }

    pub(crate) async fn head(
        &self,
        loc: &Location,
        bucket: &str,
        key: &str,
    ) -> Result<Option<ObjectMeta>> {
        if key.is_empty() {
            // The bucket root is a prefix, never an object.
            return Ok(None);
        }
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectMeta {
                location: loc.clone(),
                size: out.content_length().map_or(0, |n| n.max(0) as u64),
                etag: out.e_tag().map(str::to_string),
                last_modified: out.last_modified().and_then(to_system_time),
            })),
            Err(e) => {
                let err = sdk_error(Operation::Head, loc, e);
                if err.kind() == ErrorKind::NotFound {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    pub(crate) async fn put(
        &self,
        loc: &Location,
        bucket: &str,
        key: &str,
        data: Bytes,
    ) -> Result<()> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| sdk_error(Operation::Put, loc, e))?;
        Ok(())
    }

    pub(crate) async fn put_file(
        &self,
        loc: &Location,
        bucket: &str,
        key: &str,
        src: &Path,
    ) -> Result<()> {
        let op = Operation::PutFile;
        let size = tokio::fs::metadata(src)
            .await
            .map_err(|e| source_error(op, loc, src, &e))?
            .len();
        if size > self.config.multipart_threshold {
            return self.multipart_upload(loc, bucket, key, src, size).await;
        }
        let body = ByteStream::from_path(src)
            .await
            .map_err(|e| source_error(op, loc, src, &e))?;
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body)
            .send()
            .await
            .map_err(|e| sdk_error(op, loc, e))?;
        Ok(())
    }

    /// Uploads `src` in parts (a few in flight), completing the upload only when every part
    /// is in; on failure the upload is aborted so no parts linger (the object never appears
    /// partially: S3 shows it only after the completion).
    async fn multipart_upload(
        &self,
        loc: &Location,
        bucket: &str,
        key: &str,
        src: &Path,
        size: u64,
    ) -> Result<()> {
        let op = Operation::PutFile;
        let part_size = self.config.effective_part_size();
        let parts = size.div_ceil(part_size);
        if parts > MAX_PARTS {
            return Err(StoreError::new(
                ErrorKind::Permanent,
                op,
                loc,
                format!(
                    "{}: expected at most {MAX_PARTS} parts of {part_size} bytes, found {size} \
                     bytes ({parts} parts); raise EDP_S3_PART_SIZE_MIB",
                    src.display()
                ),
            ));
        }
        let created = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .send()
            .await
            .map_err(|e| sdk_error(op, loc, e))?;
        let Some(upload_id) = created.upload_id().map(str::to_string) else {
            return Err(StoreError::new(
                ErrorKind::Transient,
                op,
                loc,
                "CreateMultipartUpload: expected an upload id, found none",
            ));
        };
        let uploaded: Result<Vec<CompletedPart>> = futures::stream::iter(0..parts)
            .map(|index| {
                self.upload_part(loc, bucket, key, &upload_id, src, index, part_size, size)
            })
            .buffered(PARTS_IN_FLIGHT)
            .try_collect()
            .await;
        let completed = match uploaded {
            Ok(parts) => self
                .client
                .complete_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error(op, loc, e)),
            Err(e) => Err(e),
        };
        if let Err(err) = completed {
            if let Err(abort) = self
                .client
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await
            {
                // The bucket's lifecycle rule for incomplete uploads cleans up eventually.
                tracing::warn!(
                    location = %loc,
                    upload_id,
                    error = %sdk_error(op, loc, abort),
                    "could not abort a failed multipart upload"
                );
            }
            return Err(err);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn upload_part(
        &self,
        loc: &Location,
        bucket: &str,
        key: &str,
        upload_id: &str,
        src: &Path,
        index: u64,
        part_size: u64,
        size: u64,
    ) -> Result<CompletedPart> {
        let op = Operation::PutFile;
        let offset = index * part_size;
        let length = part_size.min(size - offset);
        // Part numbers are 1-based and at most MAX_PARTS, checked by the caller.
        let part_number = i32::try_from(index + 1).unwrap_or(i32::MAX);
        // A path-backed body is re-readable, so the SDK can retry the part by itself.
        let body = ByteStream::read_from()
            .path(src)
            .offset(offset)
            .length(Length::Exact(length))
            .build()
            .await
            .map_err(|e| source_error(op, loc, src, &e))?;
        let out = self
            .client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(part_number)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(body)
            .send()
            .await
            .map_err(|e| sdk_error(op, loc, e))?;
        Ok(CompletedPart::builder()
            .part_number(part_number)
            .set_e_tag(out.e_tag().map(str::to_string))
            .set_checksum_crc32(out.checksum_crc32().map(str::to_string))
            .build())
    }

    pub(crate) async fn put_if_absent(
        &self,
        loc: &Location,
        bucket: &str,
        key: &str,
        data: Bytes,
    ) -> Result<PutOutcome> {
        let op = Operation::PutIfAbsent;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .client
                .put_object()
                .bucket(bucket)
                .key(key)
                .if_none_match("*")
                .body(ByteStream::from(data.clone()))
                .send()
                .await;
            match sent {
                Ok(_) => return Ok(PutOutcome::Created),
                Err(e) if is_conditional_conflict(&e) && attempt < CONFLICT_ATTEMPTS => {
                    conflict_backoff(attempt).await;
                }
                Err(e) => {
                    let err = sdk_error(op, loc, e);
                    return match err.kind() {
                        ErrorKind::PreconditionFailed => Ok(PutOutcome::AlreadyExists),
                        _ => Err(err),
                    };
                }
            }
        }
    }

    pub(crate) async fn put_if_match(
        &self,
        loc: &Location,
        bucket: &str,
        key: &str,
        data: Bytes,
        etag: &str,
    ) -> Result<Option<String>> {
        let op = Operation::PutIfMatch;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .client
                .put_object()
                .bucket(bucket)
                .key(key)
                .if_match(etag)
                .body(ByteStream::from(data.clone()))
                .send()
                .await;
            match sent {
                Ok(out) => return Ok(out.e_tag().map(str::to_string)),
                Err(e) if is_conditional_conflict(&e) && attempt < CONFLICT_ATTEMPTS => {
                    conflict_backoff(attempt).await;
                }
                Err(e) => {
                    let err = sdk_error(op, loc, e);
                    return Err(match err.kind() {
                        ErrorKind::PreconditionFailed => StoreError::new(
                            ErrorKind::PreconditionFailed,
                            op,
                            loc,
                            format!(
                                "expected ETag {etag}, found another version ({})",
                                err.detail()
                            ),
                        ),
                        // If-Match on a missing key is a 404 NoSuchKey.
                        ErrorKind::NotFound => StoreError::new(
                            ErrorKind::PreconditionFailed,
                            op,
                            loc,
                            format!("expected ETag {etag}, found no object ({})", err.detail()),
                        ),
                        _ => err,
                    });
                }
            }
        }
    }

    /// Every object below the "folder" `key` (keys starting with `key/`), page by page.
    /// Keys are requested URL-encoded (XML cannot carry every character a key may hold) and
    /// decoded here.
    pub(crate) async fn list(
        &self,
        loc: &Location,
        bucket: &str,
        key: &str,
    ) -> Result<Vec<ObjectMeta>> {
        let op = Operation::List;
        let prefix = if key.is_empty() {
            String::new()
        } else {
            format!("{key}/")
        };
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(&prefix)
            .encoding_type(EncodingType::Url)
            .set_max_keys(self.config.list_page_size)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(op, loc, e))?;
            let encoded = page.encoding_type() == Some(&EncodingType::Url);
            out.reserve(page.contents().len());
            for object in page.contents() {
                let Some(raw_key) = object.key() else {
                    continue;
                };
                let object_key = if encoded {
                    decode_listed_key(raw_key)
                        .map_err(|detail| StoreError::new(ErrorKind::Permanent, op, loc, detail))?
                } else {
                    raw_key.to_string()
                };
                out.push(ObjectMeta {
                    location: Location::s3(bucket, &object_key),
                    size: object.size().map_or(0, |n| n.max(0) as u64),
                    etag: object.e_tag().map(str::to_string),
                    last_modified: object.last_modified().and_then(to_system_time),
                });
            }
        }
        Ok(out)
    }

    /// Objects whose key starts with the raw `key_prefix`, page by page into `on_page`;
    /// returns the number of ListObjectsV2 requests made.
    pub(crate) async fn list_pages(
        &self,
        loc: &Location,
        bucket: &str,
        key_prefix: &str,
        on_page: &mut (impl FnMut(Vec<ObjectMeta>) + Send),
    ) -> Result<u64> {
        let op = Operation::List;
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(key_prefix)
            .encoding_type(EncodingType::Url)
            .set_max_keys(self.config.list_page_size)
            .into_paginator()
            .send();
        let mut requests = 0u64;
        while let Some(page) = pages.next().await {
            requests += 1;
            let page = page.map_err(|e| sdk_error(op, loc, e))?;
            let encoded = page.encoding_type() == Some(&EncodingType::Url);
            let mut out = Vec::with_capacity(page.contents().len());
            for object in page.contents() {
                let Some(raw_key) = object.key() else {
                    continue;
                };
                let object_key = if encoded {
                    decode_listed_key(raw_key)
                        .map_err(|detail| StoreError::new(ErrorKind::Permanent, op, loc, detail))?
                } else {
                    raw_key.to_string()
                };
                out.push(ObjectMeta {
                    location: Location::s3(bucket, &object_key),
                    size: object.size().map_or(0, |n| n.max(0) as u64),
                    etag: object.e_tag().map(str::to_string),
                    last_modified: object.last_modified().and_then(to_system_time),
                });
            }
            on_page(out);
        }
        Ok(requests)
    }

    pub(crate) async fn delete(&self, loc: &Location, bucket: &str, key: &str) -> Result<()> {
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_error(Operation::Delete, loc, e))?;
        Ok(())
    }

    /// Streams the object into a temporary file beside `dest`, then renames it into place.
    pub(crate) async fn download_to(
        &self,
        loc: &Location,
        bucket: &str,
        key: &str,
        dest: &Path,
    ) -> Result<()> {
        let op = Operation::DownloadTo;
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_error(op, loc, e))?;
        let dest_err = |what: &str, e: &std::io::Error| {
            StoreError::new(
                ErrorKind::Io,
                op,
                loc,
                format!("{what} {}: {e}", dest.display()),
            )
        };
        let dest_owned = dest.to_path_buf();
        let tmp = tokio::task::spawn_blocking(move || local::temp_file_for(&dest_owned))
            .await
            .map_err(|e| join_error(op, loc, &e))?
            .map_err(|e| dest_err("create temporary file for", &e))?;
        let std_file = tmp
            .as_file()
            .try_clone()
            .map_err(|e| dest_err("open temporary file for", &e))?;
        let mut file = tokio::fs::File::from_std(std_file);
        let mut body = out.body;
        while let Some(chunk) = body.try_next().await.map_err(|e| body_error(op, loc, &e))? {
            file.write_all(&chunk)
                .await
                .map_err(|e| dest_err("write", &e))?;
        }
        file.flush().await.map_err(|e| dest_err("write", &e))?;
        file.sync_all().await.map_err(|e| dest_err("sync", &e))?;
        drop(file);
        let dest_owned = dest.to_path_buf();
        tokio::task::spawn_blocking(move || tmp.persist(&dest_owned).map(|_| ()))
            .await
            .map_err(|e| join_error(op, loc, &e))?
            .map_err(|e| dest_err("move temporary file into place at", &e.error))
    }
}

impl crate::Store {
    /// The S3 client of this store, for operations it does not wrap (bucket creation in
    /// tests, lifecycle, ...). `None` for [`crate::Store::local_only`].
    pub fn s3_client(&self) -> Option<&Client> {
        self.s3.as_ref().map(S3::client)
    }
}

/// Reads a whole response body; an interrupted body is a transient error.
async fn collect_body(op: Operation, loc: &Location, body: ByteStream) -> Result<Bytes> {
    body.collect()
        .await
        .map(|aggregated| aggregated.into_bytes())
        .map_err(|e| body_error(op, loc, &e))
}

fn body_error(
    op: Operation,
    loc: &Location,
    err: &aws_sdk_s3::primitives::ByteStreamError,
) -> StoreError {
    StoreError::new(
        ErrorKind::Transient,
        op,
        loc,
        format!(
            "response body interrupted: {}",
            aws_sdk_s3::error::DisplayErrorContext(err)
        ),
    )
}

fn source_error(
    op: Operation,
    loc: &Location,
    src: &Path,
    err: &dyn std::error::Error,
) -> StoreError {
    StoreError::new(
        ErrorKind::Io,
        op,
        loc,
        format!("read source file {}: {err}", src.display()),
    )
}

pub(crate) fn join_error(
    op: Operation,
    loc: &Location,
    err: &tokio::task::JoinError,
) -> StoreError {
    StoreError::new(
        ErrorKind::Io,
        op,
        loc,
        format!("blocking task failed: {err}"),
    )
}

/// Short exponential backoff between conditional-write conflicts (20, 40, 80 ... ms).
async fn conflict_backoff(attempt: u32) {
    let millis = 20u64 << attempt.min(6);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

fn to_system_time(t: &DateTime) -> Option<SystemTime> {
    SystemTime::try_from(*t).ok()
}

/// Decodes a key from a listing requested with `encoding-type=url`: S3 form-encodes (space as
/// `+`, a literal `+` as `%2B`), some emulators percent-encode (space as `%20`); decoding `+`
/// as a space and then `%XX` handles both.
pub(crate) fn decode_listed_key(raw: &str) -> std::result::Result<String, String> {
    let plus_decoded = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_decoded)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|e| format!("listed key {raw:?}: expected URL-encoded UTF-8, found {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_keys_decode_both_encodings() {
        // S3: form encoding.
        assert_eq!(decode_listed_key("a+b%2Bc%2Fd.nc").unwrap(), "a b+c/d.nc");
        // moto: percent encoding.
        assert_eq!(decode_listed_key("a%20b%2Bc/d.nc").unwrap(), "a b+c/d.nc");
        assert_eq!(decode_listed_key("%C3%A9t%C3%A9").unwrap(), "été");
        assert!(decode_listed_key("%FF").is_err());
    }
}
