//! `edp check`: series QA of one dataset ([`check_dataset`]) and the state change it causes.
//!
//! Granules checked are the union of the manifest and the objects in the dataset's folder
//! (a granule on disk that the manifest does not list, or a manifest entry without its
//! object, is a problem). Each granule's header is read from the file (local folders: in
//! place; S3: downloaded to a temporary file), or, on S3 when values and checksums are not
//! asked for and the granule's done record carries a chunk index, from the index plus ranged
//! reads of the `time` and `time_bnds` chunks only.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use edp_plan::state::{Layout, read_manifest};
use edp_store::{Location, Store};
use edp_task_schemas::{
    CheckProblem, CheckSummary, ChunkIndex, DatasetState, DatasetStatus, LedgerRecord,
    ManifestGranule, StorageFilter, StoredVariable, TaskStatus,
};
use futures::stream::{self, StreamExt};
use sha2::{Digest, Sha256};

use crate::DatasetError;
use crate::header::{read_granule, varies_per_granule, varies_per_variable};
use crate::id::DatasetId;
use crate::lifecycle::{Actor, creation, transition};
use crate::mapfile::{MapfileLine, render};
use crate::mask::GridMasks;
use crate::series::{GranuleHeader, VariableShape, check_fill_patterns, check_series};
use crate::status::{RunAttempts, coverage_of, now, update_status};

/// How thoroughly to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Read every data value (Inf, valid range, fill pattern). Reads whole granules.
    pub values: bool,
    /// Hash every granule and compare with the manifest. Reads whole granules.
    pub checksums: bool,
    /// Land masks of the native grid for the fill-on-land check of native datasets; without
    /// them (and for lat-lon datasets) fill patterns are compared across granules.
    pub masks: Option<Arc<GridMasks>>,
    /// Folder for granules downloaded from S3.
    pub cache_dir: PathBuf,
    /// Granules read at once.
    pub concurrency: usize,
    /// Record the outcome in the dataset status (state change, mapfile).
    pub record: bool,
}

impl CheckOptions {
    /// Everything checked, outcome recorded.
    pub fn full(cache_dir: PathBuf) -> CheckOptions {
        CheckOptions {
            values: true,
            checksums: true,
            masks: None,
            cache_dir,
            concurrency: 4,
            record: true,
        }
    }
}

/// The outcome of checking one dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetCheck {
    /// The dataset.
    pub dataset: String,
    /// The summary recorded in the status.
    pub summary: CheckSummary,
    /// State after the check (the previous state when not recorded).
    pub state: Option<DatasetState>,
    /// The mapfile written when the dataset became publishable.
    pub mapfile: Option<String>,
    /// Bytes read per granule, in the order checked.
    pub bytes_per_granule: Vec<u64>,
    /// Wall-clock seconds of reading all granules.
    pub seconds: f64,
    /// Granules read from their chunk index instead of the file.
    pub from_chunk_index: usize,
}

/// One granule to look at.
#[derive(Debug, Clone)]
struct Entry {
    relative: String,
    location: Location,
    manifest: Option<ManifestGranule>,
    exists: bool,
    chunk_index: Option<ChunkIndex>,
}

/// Checks one dataset below `dest` (see the module documentation).
pub async fn check_dataset(
    store: &Store,
    dest: &Location,
    id: &DatasetId,
    options: &CheckOptions,
    actor: &Actor,
) -> Result<DatasetCheck, DatasetError> {
    let layout = Layout::new(dest);
    let manifest = read_manifest(store, &layout, &id.path()).await?;
    let listed = store.list(&dest.join(&id.path())).await?;
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    for object in listed {
        let Some(relative) = object.location.relative_to(dest) else {
            continue;
        };
        if !relative.ends_with(".nc") || relative.matches('/').count() != 4 {
            continue;
        }
        entries.insert(
            relative.clone(),
            Entry {
                relative,
                location: object.location,
                manifest: None,
                exists: true,
                chunk_index: None,
            },
        );
    }
    for granule in manifest.iter().flat_map(|m| m.granules.iter()) {
        let entry = entries
            .entry(granule.path.clone())
            .or_insert_with(|| Entry {
                relative: granule.path.clone(),
                location: dest.join(&granule.path),
                manifest: None,
                exists: false,
                chunk_index: None,
            });
        entry.manifest = Some(granule.clone());
    }
    if dest.is_s3() && !options.values && !options.checksums {
        attach_chunk_indexes(store, &layout, &mut entries).await?;
    }

    let mut problems: Vec<CheckProblem> = Vec::new();
    let started = Instant::now();
    let readers = entries.values().filter(|e| e.exists).map(|entry| {
        let store = store.clone();
        let entry = entry.clone();
        let options = options.clone();
        async move {
            let outcome = read_one(&store, &entry, &options).await;
            (entry, outcome)
        }
    });
    let results: Vec<(Entry, Result<Read, DatasetError>)> = stream::iter(readers)
        .buffered(options.concurrency.max(1))
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();

    let mut headers = Vec::new();
    let mut bytes_per_granule = Vec::new();
    let mut from_chunk_index = 0;
    for (entry, result) in results {
        let name = file_name(&entry.relative);
        match result {
            Ok(read) => {
                bytes_per_granule.push(read.bytes);
                from_chunk_index += usize::from(read.from_chunk_index);
                match (&entry.manifest, &read.sha256) {
                    (None, _) => problems.push(problem(
                        "manifest",
                        &name,
                        format!(
                            "{} is in the dataset folder but not in the manifest",
                            entry.relative
                        ),
                    )),
                    (Some(m), Some(sha)) if *sha != m.sha256 => problems.push(problem(
                        "checksum",
                        &name,
                        format!("SHA-256 {sha}, manifest says {}", m.sha256),
                    )),
                    _ => {}
                }
                if let (Some(m), Some(size)) = (&entry.manifest, read.size)
                    && size != m.size
                {
                    problems.push(problem(
                        "checksum",
                        &name,
                        format!("{size} bytes, manifest says {}", m.size),
                    ));
                }
                headers.push(read.header);
            }
            Err(err) => problems.push(problem("read", &name, err.to_string())),
        }
    }
    for entry in entries.values().filter(|e| !e.exists) {
        problems.push(problem(
            "missing",
            &file_name(&entry.relative),
            format!(
                "listed in the manifest but {} does not exist",
                entry.location
            ),
        ));
    }
    problems.extend(check_series(id, &headers));
    let masked = options.masks.is_some() && id.product == "native";
    if options.values && !masked {
        problems.extend(check_fill_patterns(&headers));
    }

    let mut summary = CheckSummary {
        checked_at: now(),
        passed: false,
        granules: headers.len() as u64,
        bytes_read: bytes_per_granule.iter().sum(),
        problems,
    };
    let mut outcome = DatasetCheck {
        dataset: id.path(),
        summary: summary.clone(),
        state: None,
        mapfile: None,
        bytes_per_granule,
        seconds,
        from_chunk_index,
    };
    if !options.record {
        outcome.summary.passed = outcome.summary.problems.is_empty();
        return Ok(outcome);
    }

    // The status's own coverage counts too: failed or missing steps block validation.
    let manifest_granules: Vec<ManifestGranule> = manifest.map(|m| m.granules).unwrap_or_default();
    let mapfile_location = id.mapfile_location(&layout);
    if summary.problems.is_empty() {
        // Written before the status says publishable, so that state never lacks its mapfile.
        let text = mapfile_for(store, dest, id, &manifest_granules).await?;
        store.put(&mapfile_location, text.into_bytes()).await?;
    }
    let series_problems = summary.problems.clone();
    let status = update_status(store, &layout, id, |current| {
        let mut status = match current {
            Some(status) => status,
            None => new_status(id, &manifest_granules, actor)?,
        };
        let mut problems = series_problems.clone();
        for failed in &status.coverage.failed {
            problems.push(problem(
                "failed",
                &failed.step,
                format!("latest attempt failed: {}", failed.message),
            ));
        }
        for range in &status.coverage.missing {
            problems.push(problem(
                "missing",
                &format!("{}..{}", range.first, range.last),
                format!("{} expected step(s) never produced", range.count),
            ));
        }
        summary.passed = problems.is_empty();
        summary.problems = problems;
        let at = now();
        if summary.passed {
            let reason = format!("series check passed: {} granule(s)", summary.granules);
            if matches!(status.state, DatasetState::Produced | DatasetState::Failed) {
                transition(&mut status, DatasetState::Validated, actor, &reason, &at)?;
            }
            if status.state == DatasetState::Validated {
                transition(
                    &mut status,
                    DatasetState::Publishable,
                    actor,
                    &format!("mapfile written to {mapfile_location}"),
                    &at,
                )?;
            }
        } else {
            let kinds: BTreeSet<&str> = summary.problems.iter().map(|p| p.kind.as_str()).collect();
            let reason = format!(
                "series check found {} problem(s): {}",
                summary.problems.len(),
                kinds.into_iter().collect::<Vec<_>>().join(", ")
            );
            transition(&mut status, DatasetState::Failed, actor, &reason, &at)?;
        }
        status.last_check = Some(summary.clone());
        Ok(status)
    })
    .await?;
    if status.last_check.as_ref().is_some_and(|c| c.passed) {
        outcome.mapfile = Some(mapfile_location.to_string());
    }
    outcome.summary = status.last_check.clone().unwrap_or(summary);
    outcome.state = Some(status.state);
    Ok(outcome)
}

/// A status for a dataset produced before statuses existed: coverage from the manifest.
fn new_status(
    id: &DatasetId,
    manifest: &[ManifestGranule],
    actor: &Actor,
) -> Result<DatasetStatus, DatasetError> {
    let (expected, coverage) = coverage_of(id, manifest, "", &RunAttempts::default(), None);
    let state = if coverage.missing.is_empty() && coverage.failed.is_empty() {
        DatasetState::Produced
    } else {
        DatasetState::Incomplete
    };
    let at = now();
    let first = creation(
        &id.path(),
        state,
        actor,
        "status created from the manifest",
        &at,
    )?;
    Ok(DatasetStatus {
        dataset: id.path(),
        state,
        expected,
        coverage,
        last_check: None,
        publication: None,
        history: vec![first],
        updated_at: at,
    })
}

/// The mapfile of the dataset's granules where they are (sizes and checksums from the
/// manifest, modification times from the listing).
async fn mapfile_for(
    store: &Store,
    dest: &Location,
    id: &DatasetId,
    manifest: &[ManifestGranule],
) -> Result<String, DatasetError> {
    let listed: BTreeMap<String, Option<std::time::SystemTime>> = store
        .list(&dest.join(&id.path()))
        .await?
        .into_iter()
        .filter_map(|o| Some((o.location.relative_to(dest)?, o.last_modified)))
        .collect();
    let version = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let lines: Vec<MapfileLine> = manifest
        .iter()
        .map(|g| MapfileLine {
            dataset_id: id.esgf_id(),
            version: version.clone(),
            path: dest.join(&g.path).to_string(),
            size: g.size,
            mod_time: listed
                .get(&g.path)
                .copied()
                .flatten()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0.0, |d| d.as_secs_f64()),
            checksum: g.sha256.clone(),
        })
        .collect();
    Ok(render(&lines))
}

/// What reading one granule gave.
struct Read {
    header: GranuleHeader,
    bytes: u64,
    size: Option<u64>,
    sha256: Option<String>,
    from_chunk_index: bool,
}

async fn read_one(
    store: &Store,
    entry: &Entry,
    options: &CheckOptions,
) -> Result<Read, DatasetError> {
    let name = file_name(&entry.relative);
    if let Some(index) = &entry.chunk_index {
        return read_from_chunk_index(store, entry, index, &name).await;
    }
    let (path, bytes, _temp) = match entry.location.as_local_path() {
        Some(path) => {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            (path.to_path_buf(), size, None)
        }
        None => {
            std::fs::create_dir_all(&options.cache_dir).map_err(|e| DatasetError::Granule {
                granule: name.clone(),
                reason: format!("cannot create {}: {e}", options.cache_dir.display()),
            })?;
            let temp = tempfile::Builder::new()
                .prefix("check-")
                .suffix(".nc")
                .tempfile_in(&options.cache_dir)
                .map_err(|e| DatasetError::Granule {
                    granule: name.clone(),
                    reason: format!("cannot create a temporary file: {e}"),
                })?;
            let path = temp.path().to_path_buf();
            store.download_to(&entry.location, &path).await?;
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            (path, size, Some(temp))
        }
    };
    let values = options.values;
    let checksums = options.checksums;
    let masks = options.masks.clone();
    let name_for_task = name.clone();
    let task_path = path.clone();
    let header = tokio::task::spawn_blocking(move || {
        read_granule(&task_path, &name_for_task, values, masks.as_deref())
    })
    .await
    .map_err(|e| DatasetError::Granule {
        granule: name.clone(),
        reason: format!("reader task failed: {e}"),
    })??;
    let sha256 = if checksums {
        let hash_path = path.clone();
        let hashed = tokio::task::spawn_blocking(move || sha256_of(&hash_path))
            .await
            .map_err(|e| DatasetError::Granule {
                granule: name.clone(),
                reason: format!("hashing task failed: {e}"),
            })?
            .map_err(|e| DatasetError::Granule {
                granule: name.clone(),
                reason: format!("cannot hash {}: {e}", path.display()),
            })?;
        Some(hashed)
    } else {
        None
    };
    Ok(Read {
        header,
        bytes,
        size: Some(bytes),
        sha256,
        from_chunk_index: false,
    })
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Chunk indexes of the done records of the dataset's granules (`_edp/done/*.json`).
async fn attach_chunk_indexes(
    store: &Store,
    layout: &Layout,
    entries: &mut BTreeMap<String, Entry>,
) -> Result<(), DatasetError> {
    let done = store.list(&layout.done_dir()).await?;
    let wanted: BTreeSet<String> = entries.keys().cloned().collect();
    let records: Vec<Option<LedgerRecord>> = stream::iter(done.into_iter().map(|object| {
        let store = store.clone();
        async move {
            let bytes = store.get(&object.location).await.ok()?;
            serde_json::from_slice::<LedgerRecord>(&bytes).ok()
        }
    }))
    .buffer_unordered(32)
    .collect()
    .await;
    for record in records.into_iter().flatten() {
        if record.status != TaskStatus::Done {
            continue;
        }
        let Some(index) = record.chunk_index else {
            continue;
        };
        let Some(relative) = Location::parse(&record.granule)
            .ok()
            .and_then(|l| l.relative_to(layout.dest()))
        else {
            continue;
        };
        if wanted.contains(&relative)
            && let Some(entry) = entries.get_mut(&relative)
        {
            entry.chunk_index = Some(index);
        }
    }
    Ok(())
}

/// The header from a chunk index: structure and attributes from the index, `time` and
/// `time_bnds` values from ranged reads of their chunks.
async fn read_from_chunk_index(
    store: &Store,
    entry: &Entry,
    index: &ChunkIndex,
    name: &str,
) -> Result<Read, DatasetError> {
    let mut header = GranuleHeader {
        name: name.to_string(),
        ..GranuleHeader::default()
    };
    for (key, value) in &index.attributes {
        let text = json_text(value);
        match key.as_str() {
            "time_coverage_start" => header.coverage_start = Some(text),
            "time_coverage_end" => header.coverage_end = Some(text),
            _ if varies_per_granule(key) => {}
            _ => {
                header.invariant_attributes.insert(key.clone(), text);
            }
        }
    }
    let mut bytes = 0u64;
    for var in &index.variables {
        header.variables.push(shape_of(var));
        if var.name == "time" || var.name == "time_bnds" {
            let (values, read) = read_small_variable(store, &entry.location, var, name).await?;
            bytes += read;
            if var.name == "time" {
                header.time = values;
                header.time_units = var.attributes.get("units").map(json_text);
                header.time_calendar = var.attributes.get("calendar").map(json_text);
            } else {
                header.time_bnds = Some(values);
            }
        }
    }
    Ok(Read {
        header,
        bytes,
        size: None,
        sha256: None,
        from_chunk_index: true,
    })
}

fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => {
            n.as_f64().map_or_else(|| n.to_string(), |f| format!("{f}"))
        }
        serde_json::Value::Array(items) if items.len() == 1 => json_text(&items[0]),
        other => other.to_string(),
    }
}

/// The structure of a variable as the NetCDF reader would describe it.
fn shape_of(var: &StoredVariable) -> VariableShape {
    VariableShape {
        name: var.name.clone(),
        dims: var
            .dimensions
            .iter()
            .zip(&var.shape)
            .map(|(d, l)| format!("{d}={l}"))
            .collect(),
        dtype: var.dtype.clone(),
        chunking: var.chunk_shape.clone(),
        filters: Some(
            var.filters
                .iter()
                .map(|f| match f {
                    StorageFilter::Shuffle { .. } => "shuffle".to_string(),
                    StorageFilter::Deflate { level } => format!("deflate({level})"),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        attributes: var
            .attributes
            .iter()
            .filter(|(k, _)| !varies_per_variable(k))
            .map(|(k, v)| (k.clone(), json_text(v)))
            .collect(),
    }
}

/// Reads every chunk of a small numeric variable with ranged GETs and decodes it (inflate,
/// unshuffle, little-endian numbers); returns the values in chunk order and the bytes read.
async fn read_small_variable(
    store: &Store,
    location: &Location,
    var: &StoredVariable,
    granule: &str,
) -> Result<(Vec<f64>, u64), DatasetError> {
    let bad = |reason: String| DatasetError::Granule {
        granule: granule.to_string(),
        reason: format!("variable {}: {reason}", var.name),
    };
    let total: u64 = var.shape.iter().product();
    let mut values = Vec::new();
    let mut bytes = 0;
    for chunk in &var.chunks {
        let raw = store
            .get_range(location, chunk.offset..chunk.offset + chunk.length)
            .await?;
        bytes += raw.len() as u64;
        let mut data = raw.to_vec();
        for filter in var.filters.iter().rev() {
            data = match filter {
                StorageFilter::Deflate { .. } => {
                    let mut out = Vec::new();
                    flate2::read::ZlibDecoder::new(data.as_slice())
                        .read_to_end(&mut out)
                        .map_err(|e| {
                            bad(format!("cannot inflate chunk at {}: {e}", chunk.offset))
                        })?;
                    out
                }
                StorageFilter::Shuffle { element_size } => unshuffle(&data, *element_size as usize),
            };
        }
        values.extend(
            decode_numbers(&data, &var.dtype)
                .ok_or_else(|| bad(format!("unsupported dtype {}", var.dtype)))?,
        );
    }
    values.truncate(total as usize);
    Ok((values, bytes))
}

/// Undoes HDF5's byte shuffle.
fn unshuffle(data: &[u8], size: usize) -> Vec<u8> {
    if size <= 1 || !data.len().is_multiple_of(size) {
        return data.to_vec();
    }
    let n = data.len() / size;
    let mut out = vec![0u8; data.len()];
    for (b, plane) in data.chunks(n).enumerate() {
        for (k, byte) in plane.iter().enumerate() {
            out[k * size + b] = *byte;
        }
    }
    out
}

/// Little-endian numbers of a NumPy type string.
fn decode_numbers(data: &[u8], dtype: &str) -> Option<Vec<f64>> {
    let values = match dtype {
        "<f8" => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
        "<f4" => data
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))))
            .collect(),
        "<i4" => data
            .chunks_exact(4)
            .map(|c| f64::from(i32::from_le_bytes(c.try_into().unwrap_or([0; 4]))))
            .collect(),
        "<i8" => data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64)
            .collect(),
        _ => return None,
    };
    Some(values)
}

fn file_name(relative: &str) -> String {
    relative.rsplit('/').next().unwrap_or(relative).to_string()
}

fn problem(kind: &str, granule: &str, message: String) -> CheckProblem {
    CheckProblem {
        kind: kind.to_string(),
        granule: granule.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffled_deflated_int_chunks_decode() {
        let values: [i32; 3] = [12, -7, 1_000_000];
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        // Shuffle by hand: byte planes.
        let mut shuffled = vec![0u8; raw.len()];
        for (k, chunk) in raw.chunks(4).enumerate() {
            for b in 0..4 {
                shuffled[b * 3 + k] = chunk[b];
            }
        }
        assert_eq!(unshuffle(&shuffled, 4), raw);
        assert_eq!(decode_numbers(&raw, "<i4").unwrap(), [12.0, -7.0, 1e6]);
        assert!(decode_numbers(&raw, ">i4").is_none());
    }
}
