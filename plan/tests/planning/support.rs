//! Helpers shared by the planning tests: small MDS trees written with the edp-mds writer, the
//! real V4r4 metadata catalog, job parsing and a store against the moto emulator.

use std::path::{Path, PathBuf};
use std::time::Duration;

use edp_conventions::catalog::LoadOptions;
use edp_conventions::{Catalog, ProductionConfig};
use edp_mds::{ByteOrder, Meta, Precision, write_mds};
use edp_plan::jobfile::ParseOptions;
use edp_plan::roots::Root;
use edp_plan::sources::{grouping_counts, parse_jobs};
use edp_store::{Location, RetrySettings, StaticCredentials, Store, StoreConfig};
use edp_task_schemas::Job;
use edp_testkit::MotoServer;
use edp_testkit::moto::{MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY};

/// Monthly steps of the tree: 1992-01 and 1992-02 (`docs/time-axis.md` 4).
pub const STEPS: [u64; 2] = [732, 1428];

/// Every diagnostic the tests' jobs read, with its number of levels.
pub const DIAGNOSTICS: &[(&str, usize)] = &[
    ("SSH", 1),
    ("SSHIBC", 1),
    ("SSHNOIBC", 1),
    ("ETAN", 1),
    ("THETA", 3),
    ("SALT", 3),
    ("UVEL", 3),
    ("VVEL", 3),
    ("WVELMASS", 3),
];

/// The job file of the tests: native and lat-lon SSH, a 3-D native dataset and the lat-lon
/// velocity (vector) dataset.
pub const JOBS: &str = "\
# native groupings:
[0,'native','AVG_MON','all']    # dynamic sea surface height and model sea level anomaly
[15,'native','AVG_MON','all']   # ocean temperature and salinity (3-D)

# latlon groupings:
[0,'latlon','AVG_MON','all']    # dynamic sea surface height
[11,'latlon','AVG_MON','all']   # ocean velocity (vectors)
";

/// The EDP demo's locations (`docs/edp-compatibility.md` 2.2), copied into every task.
pub const CFG_LOC: &str = "../../config/config_V4r4.yaml";
pub const GRID_LOC: &str = "../data/ecco_grids/V4r4/grid_ECCOV4r4";
pub const FACTORS_LOC: &str = "../data/ecco_mapping_factors/V4r4";
pub const METADATA_LOC: &str = "../ECCO-v4-Configurations/ECCOv4 Release 4/metadata";
/// How the EDP demo spells its source root.
pub const SOURCE_WRITTEN: &str = "../data/ecco_results/V4r4";

/// The real V4r4 metadata catalog, `None` (test skipped) when the shared data is absent.
pub fn catalog() -> Option<Catalog> {
    let dir = edp_testkit::v4r4_metadata_dir()?;
    Some(Catalog::load(dir, &LoadOptions::default()).unwrap())
}

pub fn config() -> ProductionConfig {
    ProductionConfig::v4r4()
}

/// Parses job-file text against the catalog.
pub fn jobs(catalog: &Catalog, text: &str) -> Vec<Job> {
    let counts = grouping_counts(catalog).unwrap();
    parse_jobs("jobs.txt", text, &counts, &ParseOptions::default())
        .unwrap()
        .jobs
}

/// Writes one MDS pair `<root>/<freq_dir>/<VAR>_<token>/<VAR>_<token>.<ts10>` on LLC2.
pub fn write_input(root: &Path, freq_dir: &str, variable: &str, token: &str, step: u64, nz: usize) {
    let dir = root.join(freq_dir).join(format!("{variable}_{token}"));
    std::fs::create_dir_all(&dir).unwrap();
    let stem = dir.join(format!("{variable}_{token}.{step:010}"));
    let mut meta = Meta::new_llc(format!("{variable}.meta"), 2, nz, Precision::F32, 1);
    meta.time_step = Some(step);
    meta.fields = vec![variable.to_string()];
    let values: Vec<f32> = (0..meta.n_values())
        .map(|v| v as f32 + step as f32)
        .collect();
    write_mds(&stem, &meta, &values, ByteOrder::Big).unwrap();
}

/// Path of an input written by [`write_input`].
pub fn input_path(
    root: &Path,
    freq_dir: &str,
    variable: &str,
    token: &str,
    step: u64,
    ext: &str,
) -> PathBuf {
    root.join(freq_dir)
        .join(format!("{variable}_{token}"))
        .join(format!("{variable}_{token}.{step:010}.{ext}"))
}

/// Writes every diagnostic of [`DIAGNOSTICS`] as monthly means at `steps` below `root`.
pub fn write_monthly_tree(root: &Path, steps: &[u64]) {
    for (variable, nz) in DIAGNOSTICS {
        for step in steps {
            write_input(root, "diags_monthly", variable, "mon_mean", *step, *nz);
        }
    }
}

/// A temporary folder holding `V4r4/` (the source root) and `out/` (the destination).
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn new(steps: &[u64]) -> Tree {
        let dir = tempfile::tempdir().unwrap();
        write_monthly_tree(&dir.path().join("V4r4"), steps);
        Tree { dir }
    }

    pub fn source_dir(&self) -> PathBuf {
        self.dir.path().join("V4r4")
    }

    /// The source root, written as in the EDP demo.
    pub fn source(&self) -> Root {
        Root::with_written(Location::local(self.source_dir()).unwrap(), SOURCE_WRITTEN)
    }

    /// The destination root, written `.` as in the EDP demo.
    pub fn dest(&self) -> Root {
        Root::with_written(Location::local(self.dir.path().join("out")).unwrap(), ".")
    }
}

/// A running moto and a store talking to it; `None` (test skipped) without moto.
pub struct Moto {
    pub store: Store,
    /// Kept alive for the test; the emulator stops when it is dropped.
    pub _server: MotoServer,
}

impl Moto {
    pub async fn start(buckets: &[&str]) -> Option<Moto> {
        let server = MotoServer::start_or_skip()?;
        let config = StoreConfig {
            endpoint_url: Some(server.endpoint()),
            region: Some(MOTO_REGION.to_string()),
            credentials: Some(StaticCredentials {
                access_key_id: MOTO_ACCESS_KEY_ID.to_string(),
                secret_access_key: MOTO_SECRET_ACCESS_KEY.to_string(),
                session_token: None,
            }),
            force_path_style: true,
            retry: RetrySettings {
                initial_backoff: Duration::from_millis(10),
                ..RetrySettings::default()
            },
            ..StoreConfig::default()
        };
        let store = Store::from_config(config).await;
        for bucket in buckets {
            store
                .s3_client()
                .unwrap()
                .create_bucket()
                .bucket(*bucket)
                .send()
                .await
                .unwrap();
        }
        Some(Moto {
            store,
            _server: server,
        })
    }

    /// Uploads every file below `dir` to `prefix/<relative path>`.
    pub async fn upload(&self, dir: &Path, prefix: &Location) {
        let local = Store::local_only();
        let base = Location::local(dir).unwrap();
        for object in local.list(&base).await.unwrap() {
            let relative = object.location.relative_to(&base).unwrap();
            let bytes = local.get(&object.location).await.unwrap();
            self.store
                .put(&prefix.join(&relative), bytes)
                .await
                .unwrap();
        }
    }
}
