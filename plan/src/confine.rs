//! Confinement: a task may write only below the destination root and read only below the
//! source root, whatever its task list or shard says.
//!
//! A task list or shard is data from outside (in the cloud, from S3: whoever can write one
//! would otherwise make the worker write anywhere it may). Every path is therefore mapped to
//! a [`Location`] after normalisation (`.`, `..`, doubled `/`, relative vs absolute spelling)
//! and must be strictly below its root; a granule must also stay out of the run state folder
//! `_edp/`. Local paths are additionally checked after resolving symbolic links: the deepest
//! existing ancestor of the path (the path itself for inputs) must resolve below the resolved
//! root, so a symlinked folder or `*.data` pointing elsewhere is refused too.
//!
//! Every refusal names the granule of the task and the path as written; it is permanent (the
//! same task fails the same way again).

use std::path::{Path, PathBuf};

use edp_store::Location;
use thiserror::Error;

use crate::roots::Root;
use crate::state::STATE_DIR;

/// Why a path of a task is refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ConfineError {
    /// The path is not a location at all.
    #[error("task {granule}: {what} {path:?} is not a valid location: {reason}")]
    Invalid {
        /// The granule path of the task.
        granule: String,
        /// `granule` or `input`.
        what: &'static str,
        /// The path as written.
        path: String,
        /// Why.
        reason: String,
    },
    /// After normalisation the path is not strictly below its root.
    #[error(
        "task {granule}: refused {what} {path:?}: expected a location below the {root_name} root \
         {root}, found {resolved}"
    )]
    Outside {
        /// The granule path of the task.
        granule: String,
        /// `granule` or `input`.
        what: &'static str,
        /// The path as written.
        path: String,
        /// `destination` or `source`.
        root_name: &'static str,
        /// The root location.
        root: String,
        /// Where the path leads.
        resolved: String,
    },
    /// A granule inside the run state folder.
    #[error(
        "task {granule}: refused granule path {path:?}: expected a location below the \
         destination root {root} outside its state folder _edp/, found {resolved}"
    )]
    StateDir {
        /// The granule path of the task.
        granule: String,
        /// The path as written.
        path: String,
        /// The destination root.
        root: String,
        /// Where the path leads.
        resolved: String,
    },
    /// A local path whose symbolic links lead out of its root.
    #[error(
        "task {granule}: refused {what} {path:?}: {checked} resolves to {resolved} (through a \
         symbolic link), outside the {root_name} root {root}"
    )]
    Symlink {
        /// The granule path of the task.
        granule: String,
        /// `granule` or `input`.
        what: &'static str,
        /// The path as written.
        path: String,
        /// The existing path that was resolved.
        checked: String,
        /// What it resolves to.
        resolved: String,
        /// `destination` or `source`.
        root_name: &'static str,
        /// The root, resolved.
        root: String,
    },
}

/// The location of the task's granule, checked to be below `dest` (see the module docs).
pub fn granule_location(dest: &Root, granule: &str) -> Result<Location, Box<ConfineError>> {
    let resolved = below(dest, granule, "granule", "destination", granule)?;
    let relative = resolved.relative_to(dest.location()).unwrap_or_default();
    if relative == STATE_DIR || relative.starts_with(&format!("{STATE_DIR}/")) {
        return Err(Box::new(ConfineError::StateDir {
            granule: granule.to_string(),
            path: granule.to_string(),
            root: dest.location().to_string(),
            resolved: resolved.to_string(),
        }));
    }
    if let (Some(path), Some(root)) = (resolved.as_local_path(), dest.location().as_local_path()) {
        check_links(path, root).map_err(|(checked, found, root)| {
            Box::new(ConfineError::Symlink {
                granule: granule.to_string(),
                what: "granule",
                path: granule.to_string(),
                checked,
                resolved: found,
                root_name: "destination",
                root,
            })
        })?;
    }
    Ok(resolved)
}

/// The location of an input `path` of the task writing `granule`, checked to be below
/// `source` (see the module docs).
pub fn input_location(
    source: &Root,
    granule: &str,
    path: &str,
) -> Result<Location, Box<ConfineError>> {
    let resolved = below(source, path, "input", "source", granule)?;
    if let (Some(local), Some(root)) = (resolved.as_local_path(), source.location().as_local_path())
    {
        check_links(local, root).map_err(|(checked, found, root)| {
            Box::new(ConfineError::Symlink {
                granule: granule.to_string(),
                what: "input",
                path: path.to_string(),
                checked,
                resolved: found,
                root_name: "source",
                root,
            })
        })?;
    }
    Ok(resolved)
}

/// `written` resolved against `root` and checked to be strictly below it (lexically).
fn below(
    root: &Root,
    written: &str,
    what: &'static str,
    root_name: &'static str,
    granule: &str,
) -> Result<Location, Box<ConfineError>> {
    let resolved = root.resolve(written).map_err(|e| {
        Box::new(ConfineError::Invalid {
            granule: granule.to_string(),
            what,
            path: written.to_string(),
            reason: e.to_string(),
        })
    })?;
    match resolved.relative_to(root.location()) {
        Some(relative) if !relative.is_empty() => Ok(resolved),
        _ => Err(Box::new(ConfineError::Outside {
            granule: granule.to_string(),
            what,
            path: written.to_string(),
            root_name,
            root: root.location().to_string(),
            resolved: resolved.to_string(),
        })),
    }
}

/// Checks that the deepest existing ancestor of `path` resolves below the resolved `root`
/// (`path` itself, when it exists, strictly below: inputs and granules are never the root).
/// A root that does not exist yet has no links to follow; a missing input is reported by the
/// read that follows. On refusal: (checked path, where it leads, resolved root).
fn check_links(path: &Path, root: &Path) -> Result<(), (String, String, String)> {
    let Ok(real_root) = root.canonicalize() else {
        return Ok(());
    };
    let mut checked: PathBuf = path.to_path_buf();
    loop {
        if let Ok(real) = checked.canonicalize() {
            let strict = checked == path;
            let inside = real.starts_with(&real_root) && !(strict && real == real_root);
            if inside {
                return Ok(());
            }
            return Err((
                checked.display().to_string(),
                real.display().to_string(),
                real_root.display().to_string(),
            ));
        }
        // Missing (or unreadable): look at the parent, up to the root (which exists).
        if !checked.pop() || !checked.starts_with(root) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(dir: &Path, written: &str) -> Root {
        Root::with_written(Location::local(dir).unwrap(), written)
    }

    const NAME: &str = "V4r4/native/mon_mean/SEA_SURFACE_HEIGHT/SSH_mon_mean_1992-01.nc";

    #[test]
    fn granules_below_the_destination_are_accepted_in_any_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let root = dest(dir.path(), "./out");
        let expected = Location::local(dir.path()).unwrap().join(NAME);
        assert_eq!(
            granule_location(&root, &format!("./out/{NAME}")).unwrap(),
            expected
        );
        let absolute = format!("{}/{NAME}", dir.path().display());
        assert_eq!(granule_location(&root, &absolute).unwrap(), expected);
        let wandering = format!("./out/V4r4/../{NAME}");
        assert_eq!(granule_location(&root, &wandering).unwrap(), expected);
    }

    #[test]
    fn granules_outside_the_destination_are_refused_with_task_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dest(dir.path(), "./out");
        for bad in [
            "/tmp/x/V4r4/native/mon_mean/X/x.nc".to_string(),
            "./out/V4r4/native/mon_mean/X/../../../../../../x/V4r4/native/m/X/x.nc".to_string(),
            "../../x/V4r4/native/mon_mean/X/x.nc".to_string(),
            "./out".to_string(),
            format!("{}", dir.path().display()),
        ] {
            let err = granule_location(&root, &bad).unwrap_err();
            assert!(matches!(*err, ConfineError::Outside { .. }), "{bad}: {err}");
            let msg = err.to_string();
            assert!(msg.contains(&format!("{bad:?}")), "{msg}");
            assert!(msg.contains("below the destination root"), "{msg}");
        }
        let err = granule_location(&root, "./out/_edp/done/x.json").unwrap_err();
        assert!(matches!(*err, ConfineError::StateDir { .. }), "{err}");
    }

    #[test]
    fn s3_granules_must_stay_below_the_prefix() {
        let root = Root::parse("s3://bucket/products").unwrap();
        assert!(granule_location(&root, &format!("s3://bucket/products/{NAME}")).is_ok());
        for bad in [
            "s3://bucket/other/x.nc",
            "s3://other-bucket/products/x.nc",
            "s3://bucket/products/../x.nc",
            "s3://bucket/productsX/x.nc",
        ] {
            let err = granule_location(&root, bad).unwrap_err();
            assert!(matches!(*err, ConfineError::Outside { .. }), "{bad}: {err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_out_of_the_roots_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root_dir = dir.path().join("out");
        std::fs::create_dir_all(root_dir.join("V4r4")).unwrap();
        // A folder of the layout that is a link to elsewhere.
        std::os::unix::fs::symlink(outside.path(), root_dir.join("V4r4/native")).unwrap();
        let root = dest(&root_dir, "./out");
        let err = granule_location(&root, &format!("./out/{NAME}")).unwrap_err();
        assert!(matches!(*err, ConfineError::Symlink { .. }), "{err}");

        // An input that is a link to a file outside the source root.
        let source_dir = dir.path().join("src");
        std::fs::create_dir_all(&source_dir).unwrap();
        let secret = outside.path().join("passwd");
        std::fs::write(&secret, "x").unwrap();
        std::os::unix::fs::symlink(&secret, source_dir.join("SSH.0000000732.data")).unwrap();
        std::fs::write(source_dir.join("SSH.0000000732.meta"), "x").unwrap();
        let source = Root::with_written(Location::local(&source_dir).unwrap(), "../src");
        let err = input_location(&source, "g.nc", "../src/SSH.0000000732.data").unwrap_err();
        assert!(matches!(*err, ConfineError::Symlink { .. }), "{err}");
        assert!(err.to_string().contains("SSH.0000000732.data"), "{err}");
        assert!(input_location(&source, "g.nc", "../src/SSH.0000000732.meta").is_ok());
        let err = input_location(&source, "g.nc", "/etc/passwd").unwrap_err();
        assert!(matches!(*err, ConfineError::Outside { .. }), "{err}");
    }
}
