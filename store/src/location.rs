//! [`Location`]: a local path or an `s3://bucket/key` URL, normalised so that equal places
//! compare equal and `parse(display(x)) == x`.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

/// Why a string is not a [`Location`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// The empty string names nothing.
    #[error("empty location: expected a local path or s3://bucket/key")]
    Empty,
    /// A URL scheme other than `s3://` or `file://`.
    #[error(
        "unsupported location {input:?}: expected a local path, file:// or s3:// URL, found scheme {scheme:?}"
    )]
    UnsupportedScheme {
        /// The input.
        input: String,
        /// The scheme found.
        scheme: String,
    },
    /// `s3://` without a valid bucket name.
    #[error(
        "invalid S3 location {input:?}: expected s3://bucket/key with a bucket name of letters, \
         digits, '.', '-' or '_', found bucket {bucket:?}"
    )]
    InvalidBucket {
        /// The input.
        input: String,
        /// The bucket part found.
        bucket: String,
    },
    /// A relative local path while the current directory cannot be determined.
    #[error("cannot resolve relative path {input:?}: current directory unavailable ({reason})")]
    NoCurrentDir {
        /// The input.
        input: String,
        /// The operating-system error.
        reason: String,
    },
}

/// A place where an object lives (or a "folder" prefix of objects): an absolute local path or
/// an S3 bucket plus key.
///
/// Normalisation (the same for both kinds, applied by [`Location::parse`] and
/// [`Location::join`]): empty and `.` segments are dropped, `..` removes the previous segment
/// (lexically: symbolic links are not consulted), and a trailing `/` is not kept, so
/// `s3://b/out/` and `s3://b/out` are the same location. Relative local paths are resolved
/// against the current directory when parsed.
///
/// S3 keys are kept decoded (the raw key, spaces and all): [`fmt::Display`] prints
/// `s3://bucket/key` without percent-encoding, like the AWS CLI, and the SDK percent-encodes
/// keys on the wire. Any UTF-8 key is therefore safe to use.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    repr: Repr,
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    /// Always absolute and lexically normalised.
    Local(PathBuf),
    /// `key` has no leading or trailing `/`, no empty, `.` or `..` segment; empty for the
    /// bucket root.
    S3 { bucket: String, key: String },
}

impl Location {
    /// Parses `s3://bucket/key`, `file:///abs/path` or a local path (relative paths are
    /// resolved against the current directory).
    pub fn parse(input: &str) -> Result<Location, LocationError> {
        if input.is_empty() {
            return Err(LocationError::Empty);
        }
        if let Some(rest) = input.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if !is_valid_bucket(bucket) {
                return Err(LocationError::InvalidBucket {
                    input: input.to_string(),
                    bucket: bucket.to_string(),
                });
            }
            return Ok(Location::s3(bucket, key));
        }
        let path = match input.strip_prefix("file://") {
            Some(rest) => rest,
            None => {
                if let Some((scheme, _)) = input.split_once("://")
                    && !scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                {
                    return Err(LocationError::UnsupportedScheme {
                        input: input.to_string(),
                        scheme: scheme.to_string(),
                    });
                }
                input
            }
        };
        let path = Path::new(path);
        if path.is_absolute() {
            return Ok(Location::local_absolute(path));
        }
        let cwd = std::env::current_dir().map_err(|e| LocationError::NoCurrentDir {
            input: input.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Location::local_absolute(&cwd.join(path)))
    }

    /// An S3 location. The key is normalised like [`Location::join`] does; the bucket name is
    /// taken as given (use [`Location::parse`] to validate untrusted input).
    pub fn s3(bucket: &str, key: &str) -> Location {
        let mut segments = Vec::new();
        push_segments(&mut segments, key);
        Location {
            repr: Repr::S3 {
                bucket: bucket.to_string(),
                key: segments.join("/"),
            },
        }
    }

    /// A local location; a relative path is resolved against the current directory.
    pub fn local(path: impl AsRef<Path>) -> Result<Location, LocationError> {
        let path = path.as_ref();
        if path.is_absolute() {
            return Ok(Location::local_absolute(path));
        }
        let cwd = std::env::current_dir().map_err(|e| LocationError::NoCurrentDir {
            input: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(Location::local_absolute(&cwd.join(path)))
    }

    fn local_absolute(path: &Path) -> Location {
        let mut out = PathBuf::new();
        for component in path.components() {
            match component {
                Component::Prefix(p) => out.push(p.as_os_str()),
                Component::RootDir => out.push(Component::RootDir.as_os_str()),
                Component::CurDir => {}
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(name) => out.push(name),
            }
        }
        Location {
            repr: Repr::Local(out),
        }
    }

    /// The location of `child` below this one. `child` may hold several `/`-separated
    /// segments (`"_edp/done/x.json"`); they are normalised as described on [`Location`].
    pub fn join(&self, child: &str) -> Location {
        match &self.repr {
            Repr::S3 { bucket, key } => {
                let mut segments: Vec<&str> = key.split('/').filter(|s| !s.is_empty()).collect();
                push_segments(&mut segments, child);
                Location {
                    repr: Repr::S3 {
                        bucket: bucket.clone(),
                        key: segments.join("/"),
                    },
                }
            }
            Repr::Local(path) => {
                let mut out = path.clone();
                for segment in child.split('/') {
                    match segment {
                        "" | "." => {}
                        ".." => {
                            out.pop();
                        }
                        name => out.push(name),
                    }
                }
                Location {
                    repr: Repr::Local(out),
                }
            }
        }
    }

    /// The enclosing location, or `None` at a bucket root or the file-system root.
    pub fn parent(&self) -> Option<Location> {
        match &self.repr {
            Repr::S3 { bucket, key } => {
                if key.is_empty() {
                    return None;
                }
                let parent = key.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                Some(Location {
                    repr: Repr::S3 {
                        bucket: bucket.clone(),
                        key: parent.to_string(),
                    },
                })
            }
            Repr::Local(path) => path.parent().map(|p| Location {
                repr: Repr::Local(p.to_path_buf()),
            }),
        }
    }

    /// The last segment (`"x.json"` of `s3://b/a/x.json`), or `None` at a root. `None` too
    /// for a local name that is not UTF-8.
    pub fn file_name(&self) -> Option<&str> {
        match &self.repr {
            Repr::S3 { key, .. } => key.rsplit('/').next().filter(|s| !s.is_empty()),
            Repr::Local(path) => path.file_name().and_then(|n| n.to_str()),
        }
    }

    /// The `/`-separated path of `self` below `base` (`"a/x.json"` for `s3://b/r/a/x.json`
    /// below `s3://b/r`), `Some("")` when they are equal, `None` when `self` is not below
    /// `base` (other bucket, other kind, other folder) or a local name is not UTF-8.
    pub fn relative_to(&self, base: &Location) -> Option<String> {
        match (&self.repr, &base.repr) {
            (Repr::S3 { bucket, key }, Repr::S3 { bucket: b, key: k }) if bucket == b => {
                if k.is_empty() {
                    Some(key.clone())
                } else if key == k {
                    Some(String::new())
                } else {
                    key.strip_prefix(k.as_str())
                        .and_then(|rest| rest.strip_prefix('/'))
                        .map(str::to_string)
                }
            }
            (Repr::Local(path), Repr::Local(b)) => {
                let rest = path.strip_prefix(b).ok()?;
                let parts: Option<Vec<&str>> =
                    rest.components().map(|c| c.as_os_str().to_str()).collect();
                parts.map(|p| p.join("/"))
            }
            _ => None,
        }
    }

    /// True for `s3://` locations.
    pub fn is_s3(&self) -> bool {
        matches!(self.repr, Repr::S3 { .. })
    }

    /// The local path, or `None` for S3.
    pub fn as_local_path(&self) -> Option<&Path> {
        match &self.repr {
            Repr::Local(path) => Some(path),
            Repr::S3 { .. } => None,
        }
    }

    /// `(bucket, key)` for S3 (key empty at the bucket root), `None` for a local path.
    pub fn as_s3(&self) -> Option<(&str, &str)> {
        match &self.repr {
            Repr::S3 { bucket, key } => Some((bucket, key)),
            Repr::Local(_) => None,
        }
    }
}

/// Appends the `/`-separated segments of `path` to `segments`, dropping empty and `.`
/// segments and letting `..` remove the previous one.
fn push_segments<'a>(segments: &mut Vec<&'a str>, path: &'a str) {
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            name => segments.push(name),
        }
    }
}

/// Lenient bucket-name check: S3's rules (3-63 lowercase letters, digits, `.`, `-`) plus the
/// legacy upper-case letters and `_` that old us-east-1 buckets may have.
fn is_valid_bucket(bucket: &str) -> bool {
    !bucket.is_empty()
        && bucket.len() <= 255
        && bucket
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::S3 { bucket, key } if key.is_empty() => write!(f, "s3://{bucket}"),
            Repr::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Repr::Local(path) => write!(f, "{}", path.display()),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

impl FromStr for Location {
    type Err = LocationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Location::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_round_trip_through_display() {
        for url in [
            "s3://bucket",
            "s3://bucket/key",
            "s3://my.bucket-1/a/b/c.json",
            "s3://b/with space/and+plus/%41.nc",
        ] {
            let loc = Location::parse(url).unwrap();
            assert_eq!(loc.to_string(), url);
            assert_eq!(Location::parse(&loc.to_string()).unwrap(), loc);
        }
    }

    #[test]
    fn s3_keys_are_normalised() {
        let a = Location::parse("s3://b/out/").unwrap();
        let b = Location::parse("s3://b//out/./x/..").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_s3(), Some(("b", "out")));
        assert_eq!(Location::parse("s3://b/").unwrap().as_s3(), Some(("b", "")));
    }

    #[test]
    fn join_parent_and_file_name_on_s3() {
        let root = Location::parse("s3://b/root").unwrap();
        let done = root.join("_edp/done/t1.json");
        assert_eq!(done.to_string(), "s3://b/root/_edp/done/t1.json");
        assert_eq!(done.file_name(), Some("t1.json"));
        assert_eq!(done.parent().unwrap().to_string(), "s3://b/root/_edp/done");
        assert_eq!(root.join("/a/").to_string(), "s3://b/root/a");
        assert_eq!(root.join("../x").to_string(), "s3://b/x");
        let bucket_root = Location::parse("s3://b").unwrap();
        assert_eq!(bucket_root.join("k").to_string(), "s3://b/k");
        assert_eq!(bucket_root.file_name(), None);
        assert_eq!(bucket_root.parent(), None);
        assert_eq!(
            Location::parse("s3://b/k").unwrap().parent(),
            Some(bucket_root)
        );
    }

    #[test]
    fn relative_to_gives_the_key_suffix() {
        let base = Location::parse("s3://b/r").unwrap();
        let obj = base.join("a/x.json");
        assert_eq!(obj.relative_to(&base).as_deref(), Some("a/x.json"));
        assert_eq!(base.relative_to(&base).as_deref(), Some(""));
        // "r2/..." is not below "r" even though the key starts with "r".
        let sibling = Location::parse("s3://b/r2/x").unwrap();
        assert_eq!(sibling.relative_to(&base), None);
        let local_base = Location::parse("/tmp/edp").unwrap();
        let local = local_base.join("a/b.nc");
        assert_eq!(local.relative_to(&local_base).as_deref(), Some("a/b.nc"));
        assert_eq!(local.relative_to(&base), None);
    }

    #[test]
    fn local_paths_are_absolute_and_normalised() {
        let loc = Location::parse("/data/./x/../y/").unwrap();
        assert_eq!(loc.as_local_path(), Some(Path::new("/data/y")));
        assert_eq!(loc.to_string(), "/data/y");
        assert_eq!(Location::parse(&loc.to_string()).unwrap(), loc);
        let file = Location::parse("file:///data/y").unwrap();
        assert_eq!(file, loc);
    }

    #[test]
    fn relative_local_paths_resolve_against_the_current_directory() {
        let cwd = std::env::current_dir().unwrap();
        let loc = Location::parse("out/granules").unwrap();
        assert_eq!(
            loc.as_local_path(),
            Some(cwd.join("out/granules").as_path())
        );
        assert!(!loc.is_s3());
    }

    #[test]
    fn join_on_local_paths() {
        let root = Location::parse("/tmp/dest").unwrap();
        let loc = root.join("_edp/claims/t.json");
        assert_eq!(
            loc.as_local_path(),
            Some(Path::new("/tmp/dest/_edp/claims/t.json"))
        );
        assert_eq!(loc.file_name(), Some("t.json"));
        assert_eq!(loc.parent().unwrap().join("t.json"), loc);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(Location::parse(""), Err(LocationError::Empty));
        assert!(matches!(
            Location::parse("gs://bucket/x"),
            Err(LocationError::UnsupportedScheme { scheme, .. }) if scheme == "gs"
        ));
        assert!(matches!(
            Location::parse("s3:///key"),
            Err(LocationError::InvalidBucket { bucket, .. }) if bucket.is_empty()
        ));
        assert!(matches!(
            Location::parse("s3://bad bucket/key"),
            Err(LocationError::InvalidBucket { .. })
        ));
    }
}
