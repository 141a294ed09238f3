//! A root location (source or destination) together with the spelling the user gave.
//!
//! EDP writes paths into task lists exactly as they are built from the command-line roots:
//! `--ecco_source_root ../data/ecco_results/V4r4` gives inputs
//! `../data/ecco_results/V4r4/diags_monthly/...` and `--ecco_destination_root .` gives
//! granules `./V4r4/native/...` (`docs/edp-compatibility.md` 2.1, 4.6). The store, however, works with
//! normalised absolute [`Location`]s. A [`Root`] keeps both: the location for I/O and the
//! written prefix for task lists, and maps written paths back to locations
//! ([`Root::resolve`]) without consulting the current directory a second time.
//!
//! For `s3://` roots the written prefix is the normalised URI (EDP turns listed keys into
//! `s3://<bucket>/<key>`).

use edp_store::{Location, LocationError};

/// A source or destination root: where it is and how paths below it are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    location: Location,
    written: String,
}

impl Root {
    /// Parses a root as given on a command line or in a payload. Local roots keep their
    /// spelling (`./out`, `../data`); `s3://` roots are written in normalised form.
    pub fn parse(given: &str) -> Result<Root, LocationError> {
        let location = Location::parse(given)?;
        let written = if location.is_s3() {
            location.to_string()
        } else {
            given.to_string()
        };
        Ok(Root { location, written })
    }

    /// A root at `location` whose paths are written below `written` (tests and benchmarks use
    /// this to plan a temporary folder as if it were `../data/ecco_results/V4r4`).
    pub fn with_written(location: Location, written: impl Into<String>) -> Root {
        Root {
            location,
            written: written.into(),
        }
    }

    /// The location used for I/O.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The prefix of paths written into task lists.
    pub fn written(&self) -> &str {
        &self.written
    }

    /// True for `s3://` roots.
    pub fn is_s3(&self) -> bool {
        self.location.is_s3()
    }

    /// `written/relative`, joined like Python's `os.path.join` on POSIX for these inputs: a
    /// trailing `/` of the root is not doubled and an empty relative path gives the root.
    pub fn write_path(&self, relative: &str) -> String {
        join_written(&self.written, relative)
    }

    /// The location of a path written below this root (`./out/V4r4/...` for a root written
    /// `./out`); a path written elsewhere is parsed on its own (relative paths against the
    /// current directory, as EDP does).
    pub fn resolve(&self, written_path: &str) -> Result<Location, LocationError> {
        match self.relative(written_path) {
            Some(rest) => Ok(self.location.join(&rest)),
            None => Location::parse(written_path),
        }
    }

    /// The `/`-separated path of `written_path` below this root, or `None` when it is not
    /// below it (checked on the written spelling first, then on the resolved location).
    pub fn relative(&self, written_path: &str) -> Option<String> {
        if let Some(rest) = strip_written_prefix(&self.written, written_path) {
            return Some(rest.trim_start_matches('/').to_string());
        }
        Location::parse(written_path)
            .ok()?
            .relative_to(&self.location)
    }
}

/// `prefix/relative` without doubling a trailing `/` of `prefix`.
pub fn join_written(prefix: &str, relative: &str) -> String {
    if relative.is_empty() {
        prefix.to_string()
    } else if prefix.is_empty() {
        relative.to_string()
    } else if prefix.ends_with('/') {
        format!("{prefix}{relative}")
    } else {
        format!("{prefix}/{relative}")
    }
}

/// The rest of `path` after the written root `prefix`, if `path` is below it.
fn strip_written_prefix<'a>(prefix: &str, path: &'a str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    if rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_joins_keep_the_spelling_and_do_not_double_slashes() {
        assert_eq!(join_written("./out", "V4r4/x.nc"), "./out/V4r4/x.nc");
        assert_eq!(join_written("./out/", "V4r4/x.nc"), "./out/V4r4/x.nc");
        assert_eq!(join_written("", "V4r4/x.nc"), "V4r4/x.nc");
        assert_eq!(join_written("../data", ""), "../data");
    }

    #[test]
    fn s3_roots_are_written_normalised() {
        let root = Root::parse("s3://bucket/prefix/").unwrap();
        assert_eq!(root.written(), "s3://bucket/prefix");
        assert_eq!(root.write_path("a/b.data"), "s3://bucket/prefix/a/b.data");
    }

    #[test]
    fn resolve_maps_written_paths_to_the_root_location() {
        let location = Location::parse("/tmp/somewhere").unwrap();
        let root = Root::with_written(location.clone(), ".");
        assert_eq!(
            root.resolve("./V4r4/native/x.nc").unwrap(),
            location.join("V4r4/native/x.nc")
        );
        assert_eq!(root.relative("./V4r4/x.nc").as_deref(), Some("V4r4/x.nc"));
        // A sibling that merely shares the spelling's first characters is not below it.
        let root = Root::with_written(Location::parse("/data/root").unwrap(), "./out");
        assert_eq!(root.relative("./outside/x"), None);
        assert_eq!(
            root.resolve("/tmp/other/x.nc").unwrap(),
            Location::parse("/tmp/other/x.nc").unwrap()
        );
    }
}
