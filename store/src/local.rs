//! Local-folder backend. Every function is blocking; [`crate::Store`] runs them on tokio's
//! blocking pool.
//!
//! Writes never expose a partial file under the final name: data goes to a hidden temporary
//! file in the same directory (`.<name>.<random>.edp-tmp`, skipped by listings), is synced,
//! then renamed over the final name (or, for conditional creates, renamed with
//! `RENAME_NOREPLACE` / hard-linked, which fails if the name exists). A failed write removes
//! its temporary file.

use std::collections::HashSet;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::Path;
use std::time::UNIX_EPOCH;

use bytes::Bytes;
use tempfile::NamedTempFile;

use crate::error::{ErrorKind, Operation, Result, StoreError};
use crate::{Location, ObjectMeta, PutOutcome};

/// Suffix of in-flight temporary files; listings skip hidden files with this suffix.
pub(crate) const TMP_SUFFIX: &str = ".edp-tmp";

/// Reads a whole object.
pub(crate) fn get(loc: &Location, path: &Path) -> Result<Bytes> {
    check_regular(Operation::Get, loc, path)?;
    let data = fs::read(path).map_err(|e| StoreError::io(Operation::Get, loc, "read", &e))?;
    Ok(Bytes::from(data))
}

/// Refuses anything but a regular file (after following symbolic links) before it is opened:
/// reading a FIFO would block forever, `/dev/zero` never ends, and a directory is a prefix,
/// not an object. The refusal is permanent and says what was found.
pub(crate) fn check_regular(op: Operation, loc: &Location, path: &Path) -> Result<()> {
    let meta = fs::metadata(path).map_err(|e| StoreError::io(op, loc, "stat", &e))?;
    if meta.is_file() {
        return Ok(());
    }
    Err(StoreError::new(
        ErrorKind::Permanent,
        op,
        loc,
        format!(
            "not a regular file: expected a file, found {}",
            file_type_name(&meta)
        ),
    ))
}

/// "a directory", "a FIFO", ... for messages.
fn file_type_name(meta: &Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

/// Reads `range` of an object; an object too short for the range is an error.
pub(crate) fn get_range(loc: &Location, path: &Path, range: Range<u64>) -> Result<Bytes> {
    let op = Operation::GetRange;
    let wanted = range.end.saturating_sub(range.start);
    check_regular(op, loc, path)?;
    let mut file = File::open(path).map_err(|e| StoreError::io(op, loc, "open", &e))?;
    file.seek(SeekFrom::Start(range.start))
        .map_err(|e| StoreError::io(op, loc, "seek", &e))?;
    let mut data = Vec::new();
    file.take(wanted)
        .read_to_end(&mut data)
        .map_err(|e| StoreError::io(op, loc, "read", &e))?;
    check_range_length(op, loc, &range, data.len() as u64)?;
    Ok(Bytes::from(data))
}

/// Shared by both backends: a range read must return exactly the bytes asked for.
pub(crate) fn check_range_length(
    op: Operation,
    loc: &Location,
    range: &Range<u64>,
    found: u64,
) -> Result<()> {
    let wanted = range.end.saturating_sub(range.start);
    if found == wanted {
        return Ok(());
    }
    Err(StoreError::new(
        ErrorKind::Permanent,
        op,
        loc,
        format!(
            "bytes {}..{}: expected {wanted} bytes, found {found} (object shorter than the range)",
            range.start, range.end
        ),
    ))
}

/// Metadata of a regular file; `None` when missing or not a file (a directory is a "prefix",
/// not an object, as on S3).
pub(crate) fn head(loc: &Location, path: &Path) -> Result<Option<ObjectMeta>> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(Some(object_meta(loc.clone(), &meta))),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        // `a/b` where `a` is a file: nothing can exist there.
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Ok(None),
        Err(e) => Err(StoreError::io(Operation::Head, loc, "stat", &e)),
    }
}

/// Atomic replace.
pub(crate) fn put(loc: &Location, path: &Path, data: &[u8]) -> Result<()> {
    let tmp = write_temp(Operation::Put, loc, path, |f| f.write_all(data))?;
    persist(Operation::Put, loc, path, tmp)
}

/// Atomic replace by a copy of `src`.
pub(crate) fn put_file(loc: &Location, path: &Path, src: &Path) -> Result<()> {
    let op = Operation::PutFile;
    let mut source = File::open(src).map_err(|e| source_error(op, loc, src, "open", &e))?;
    let tmp = write_temp(op, loc, path, |f| io::copy(&mut source, f).map(|_| ()))?;
    persist(op, loc, path, tmp)
}

/// Atomic copy of the object at `path` to the local file `dest`.
pub(crate) fn download_to(loc: &Location, path: &Path, dest: &Path) -> Result<()> {
    let op = Operation::DownloadTo;
    check_regular(op, loc, path)?;
    let mut source = File::open(path).map_err(|e| StoreError::io(op, loc, "open", &e))?;
    let dest_loc = Location::local(dest).map_err(|e| {
        StoreError::new(
            ErrorKind::Io,
            op,
            loc,
            format!("destination {}: {e}", dest.display()),
        )
    })?;
    let tmp = write_temp(op, &dest_loc, dest, |f| {
        io::copy(&mut source, f).map(|_| ())
    })
    .map_err(|e| retarget(e, op, loc, dest))?;
    persist(op, &dest_loc, dest, tmp).map_err(|e| retarget(e, op, loc, dest))
}

/// Errors about the destination of a download are reported on the store object, with the
/// local file named in the detail, and as I/O errors (not "not found").
fn retarget(err: StoreError, op: Operation, loc: &Location, dest: &Path) -> StoreError {
    let kind = match err.kind() {
        ErrorKind::Permanent => ErrorKind::Permanent,
        _ => ErrorKind::Io,
    };
    StoreError::new(
        kind,
        op,
        loc,
        format!("destination {}: {}", dest.display(), err.detail()),
    )
}

/// Creates the object only if nothing exists under its name. The complete temporary file is
/// moved into place with a no-replace rename (or link), so of two concurrent writers exactly
/// one wins and a reader never sees a partial object.
pub(crate) fn put_if_absent(loc: &Location, path: &Path, data: &[u8]) -> Result<PutOutcome> {
    let op = Operation::PutIfAbsent;
    if fs::symlink_metadata(path).is_ok() {
        // Cheap early exit; the no-replace rename below is what guarantees correctness.
        return Ok(PutOutcome::AlreadyExists);
    }
    let tmp = write_temp(op, loc, path, |f| f.write_all(data))?;
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(PutOutcome::Created),
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(PutOutcome::AlreadyExists),
        Err(e) => Err(StoreError::io(
            op,
            loc,
            "move temporary file into place",
            &e.error,
        )),
    }
}

/// Replaces the object only if its current tag equals `etag`; returns the new tag.
///
/// Writers of `put_if_match` serialise on an exclusive `flock` of the current file. After
/// the lock is taken the path is checked to still name the locked inode (a writer that won
/// meanwhile renamed a new file in; then we start over on that one), so the compare and the
/// rename happen while no other conditional writer can act on the same version. A plain
/// [`put`] does not take the lock and wins unconditionally, as on S3.
pub(crate) fn put_if_match(loc: &Location, path: &Path, data: &[u8], etag: &str) -> Result<String> {
    let op = Operation::PutIfMatch;
    let precondition =
        |detail: String| StoreError::new(ErrorKind::PreconditionFailed, op, loc, detail);
    loop {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(precondition(format!(
                    "expected ETag {etag}, found no object"
                )));
            }
            Err(e) => return Err(StoreError::io(op, loc, "open", &e)),
        };
        file.lock()
            .map_err(|e| StoreError::io(op, loc, "lock", &e))?;
        let locked = file
            .metadata()
            .map_err(|e| StoreError::io(op, loc, "stat locked file", &e))?;
        let current = match fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(precondition(format!(
                    "expected ETag {etag}, found no object (deleted meanwhile)"
                )));
            }
            Err(e) => return Err(StoreError::io(op, loc, "stat", &e)),
        };
        if !same_file(&locked, &current) {
            // Replaced between our open and our lock: lock the new version instead.
            continue;
        }
        let found = etag_of(&current);
        if found != etag {
            return Err(precondition(format!("expected ETag {etag}, found {found}")));
        }
        let tmp = write_temp(op, loc, path, |f| f.write_all(data))?;
        let new_meta = tmp
            .as_file()
            .metadata()
            .map_err(|e| StoreError::io(op, loc, "stat temporary file", &e))?;
        // A rename keeps inode and mtime, so the tag computed now is the tag after the move.
        let new_etag = etag_of(&new_meta);
        persist(op, loc, path, tmp)?;
        // `file` (and its lock) is released here, after the new version is in place.
        drop(file);
        return Ok(new_etag);
    }
}

/// Removes the object; a missing object is not an error (as on S3).
pub(crate) fn delete(loc: &Location, path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io(Operation::Delete, loc, "remove", &e)),
    }
}

/// Every regular file below `path`, recursively, sorted by their `/`-separated path relative
/// to `path` (the byte order S3 uses for keys). A missing folder lists as empty. Symbolic
/// links are followed (each directory is visited once, so link cycles end); dangling links and
/// in-flight temporary files are skipped.
pub(crate) fn list(loc: &Location, path: &Path) -> Result<Vec<ObjectMeta>> {
    let op = Operation::List;
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Ok(Vec::new()),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Vec::new());
        }
        Err(e) => return Err(StoreError::io(op, loc, "stat", &e)),
    }
    let mut found = Vec::new();
    let mut visited = HashSet::new();
    walk(loc, path, String::new(), &mut found, &mut visited)?;
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found
        .into_iter()
        .map(|(rel, meta)| object_meta(loc.join(&rel), &meta))
        .collect())
}

fn walk(
    loc: &Location,
    dir: &Path,
    prefix: String,
    found: &mut Vec<(String, Metadata)>,
    visited: &mut HashSet<(u64, u64)>,
) -> Result<()> {
    let op = Operation::List;
    if let Ok(meta) = fs::metadata(dir)
        && let Some(id) = file_id(&meta)
        && !visited.insert(id)
    {
        return Ok(());
    }
    let entries = fs::read_dir(dir)
        .map_err(|e| StoreError::io(op, loc, &format!("read directory {}", dir.display()), &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| {
            StoreError::io(op, loc, &format!("read directory {}", dir.display()), &e)
        })?;
        let entry_path = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(StoreError::new(
                ErrorKind::Io,
                op,
                loc,
                format!("{}: expected a UTF-8 file name", entry_path.display()),
            ));
        };
        if name.starts_with('.') && name.ends_with(TMP_SUFFIX) {
            continue;
        }
        let meta = match fs::metadata(&entry_path) {
            Ok(m) => m,
            // Dangling link, or removed since read_dir: not an object.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(StoreError::io(
                    op,
                    loc,
                    &format!("stat {}", entry_path.display()),
                    &e,
                ));
            }
        };
        let rel = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        if meta.is_dir() {
            walk(loc, &entry_path, rel, found, visited)?;
        } else if meta.is_file() {
            found.push((rel, meta));
        }
    }
    Ok(())
}

fn object_meta(location: Location, meta: &Metadata) -> ObjectMeta {
    ObjectMeta {
        location,
        size: meta.len(),
        etag: Some(etag_of(meta)),
        last_modified: meta.modified().ok(),
    }
}

/// `size-mtime_ns-inode` in hex: see [`ObjectMeta::etag`].
pub(crate) fn etag_of(meta: &Metadata) -> String {
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    match file_id(meta) {
        Some((_, ino)) => format!("{:x}-{:x}-{:x}", meta.len(), mtime_ns, ino),
        None => format!("{:x}-{:x}", meta.len(), mtime_ns),
    }
}

/// `(device, inode)` where the platform has them.
fn file_id(meta: &Metadata) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

fn same_file(a: &Metadata, b: &Metadata) -> bool {
    match (file_id(a), file_id(b)) {
        (Some(x), Some(y)) => x == y,
        // Without inodes fall back to the tag, which includes size and mtime.
        _ => etag_of(a) == etag_of(b),
    }
}

/// A complete, synced temporary file beside `path`, filled by `fill`. On error the temporary
/// file is removed (by `NamedTempFile`'s drop) and nothing appears under `path`.
pub(crate) fn write_temp(
    op: Operation,
    loc: &Location,
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<NamedTempFile> {
    let mut tmp =
        temp_file_for(path).map_err(|e| StoreError::io(op, loc, "create temporary file", &e))?;
    fill(tmp.as_file_mut()).map_err(|e| io_stage(op, loc, "write", &e))?;
    // Sync before the rename: after a crash the final name must not point at missing data.
    tmp.as_file()
        .sync_all()
        .map_err(|e| io_stage(op, loc, "sync", &e))?;
    Ok(tmp)
}

/// Errors while writing our own temporary file are I/O errors, never "not found".
fn io_stage(op: Operation, loc: &Location, what: &str, err: &io::Error) -> StoreError {
    StoreError::new(
        crate::error::io_kind(err),
        op,
        loc,
        format!("{what}: {err}"),
    )
}

/// A hidden temporary file in `path`'s directory (created if needed), readable like a normal
/// output file (0644 before umask, not tempfile's default 0600).
pub(crate) fn temp_file_for(path: &Path) -> io::Result<NamedTempFile> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: expected a file path, found a root", path.display()),
        ));
    };
    fs::create_dir_all(dir)?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    builder.tempfile_in(dir)
}

/// Renames the temporary file over `path` (atomic replace).
pub(crate) fn persist(
    op: Operation,
    loc: &Location,
    path: &Path,
    tmp: NamedTempFile,
) -> Result<()> {
    tmp.persist(path)
        .map(|_| ())
        .map_err(|e| io_stage(op, loc, "move temporary file into place", &e.error))
}

/// Errors reading the caller's source file are I/O errors named after that file.
fn source_error(
    op: Operation,
    loc: &Location,
    src: &Path,
    what: &str,
    err: &io::Error,
) -> StoreError {
    StoreError::new(
        ErrorKind::Io,
        op,
        loc,
        format!("{what} source file {}: {err}", src.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_files_are_hidden_beside_the_target_and_skipped_by_list() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.json");
        let tmp = temp_file_for(&target).unwrap();
        let name = tmp
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            name.starts_with(".a.json.") && name.ends_with(TMP_SUFFIX),
            "{name}"
        );
        assert_eq!(tmp.path().parent(), Some(dir.path()));
        let loc = Location::local(dir.path()).unwrap();
        assert!(list(&loc, dir.path()).unwrap().is_empty());
    }

    #[test]
    fn etag_changes_with_every_write_even_with_equal_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        let loc = Location::local(&path).unwrap();
        put(&loc, &path, b"same").unwrap();
        let first = head(&loc, &path).unwrap().unwrap().etag.unwrap();
        put(&loc, &path, b"same").unwrap();
        let second = head(&loc, &path).unwrap().unwrap().etag.unwrap();
        assert_ne!(first, second);
    }
}
