//! Inventory of the model output below a source root.
//!
//! Built from a listing ([`Inventory::from_store`]: one recursive listing of the root;
//! [`Inventory::from_prefixes`]: one listing per input prefix of the jobs, in parallel, each
//! page indexed as it arrives by an [`InventoryBuilder`] and dropped, so that a million-key
//! listing is never held), or from HEADs of named files ([`Inventory::from_heads`], for
//! event-scoped planning: its cost grows with the files asked for, not with the archive).
//!
//! Layout (`docs/edp-compatibility.md` 4.1): `<root>/<diags_monthly|diags_daily|diags_inst>/<VAR>_<period>/
//! <VAR>_<period>.<ts10>.{data,meta}`. The search space is EDP's (4.4), so that existing trees
//! give the same inputs:
//!
//! * local roots ([`SearchSpace::LocalWalk`]): every file below the root whose directory path,
//!   as written (`<root as given>/<sub dirs>`), contains the configuration's `ecco_version`
//!   (every directory when it is empty), like EDP's `os.walk` with its version filter;
//! * `s3://` roots ([`SearchSpace::S3Prefixes`]): keys whose path below the root starts with
//!   `<freq_dir>/<VAR>_<period>`, the `Prefix` EDP lists for each variable (no version filter).
//!
//! File names are matched exactly (`^<VAR>_<period>\.(\d{10})\.(data|meta)$`, through
//! `edp_conventions::naming::MdsFileName`); other objects are counted and ignored.
//!
//! Rules that differ from EDP on purpose (`docs/edp-compatibility.md` 4.4, 4.5, 7.18, 7.19):
//!
//! * `.data` and `.meta` are paired by exact stem `<VAR>_<period>.<ts10>`; a half without its
//!   partner is an [`Orphan`], reported with its path (the builder then reports the granules
//!   that needed it as incomplete);
//! * the same `(VAR, period, ts, ext)` found in two places is an error listing both paths.
//!
//! Size: 1,000,000 objects take about 48 bytes each here (variable and directory names are
//! interned, ETags live in one arena, paths are rebuilt on demand from root, directory and
//! name), so the inventory can be built from a synthetic listing in the benchmark
//! (`benches/plan_million.rs`) exactly as from [`edp_store::Store::list`].

use std::collections::{BTreeSet, HashMap};
use std::fmt::{self, Write as _};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edp_conventions::ProductionConfig;
use edp_conventions::naming::{
    MdsFileKind, MdsFileName, PeriodToken, input_freq_dir, input_search_prefix, mds_file_name,
    mds_prefix,
};
use edp_store::{Location, ObjectMeta, Store, StoreError};
use futures::stream::{self, StreamExt, TryStreamExt};
use thiserror::Error;

use crate::roots::{Root, join_written};

/// Index of a file in an [`Inventory`].
pub type FileId = u32;

/// Which objects below the root are considered (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchSpace {
    /// EDP's local `os.walk` over the whole root with the `ecco_version` directory filter.
    LocalWalk,
    /// EDP's S3 `list_objects_v2` prefixes `<root>/<freq_dir>/<VAR>_<period>`.
    S3Prefixes,
}

impl SearchSpace {
    /// The search space EDP uses for a root.
    pub fn of(root: &Root) -> SearchSpace {
        if root.is_s3() {
            SearchSpace::S3Prefixes
        } else {
            SearchSpace::LocalWalk
        }
    }
}

/// Options of an inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryOptions {
    /// Substring that directory paths must contain on local roots (`ecco_version` of the
    /// configuration; empty: no filter).
    pub ecco_version: String,
}

impl InventoryOptions {
    /// The options EDP derives from a production configuration.
    pub fn for_config(config: &ProductionConfig) -> InventoryOptions {
        InventoryOptions {
            ecco_version: config.ecco_version.clone(),
        }
    }
}

/// The same input found twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// Path of the first copy (in key order).
    pub first: String,
    /// Path of the other copy.
    pub second: String,
}

fn list_duplicates(duplicates: &[Duplicate]) -> String {
    duplicates
        .iter()
        .map(|d| format!("\n  {}\n    and {}", d.first, d.second))
        .collect()
}

/// Why an inventory could not be built.
#[derive(Debug, Error)]
pub enum InventoryError {
    /// The source root could not be listed.
    #[error("cannot list source root {root}: {source}")]
    List {
        /// The root as given.
        root: String,
        /// The store error.
        #[source]
        source: StoreError,
    },
    /// Inputs present in two places (EDP silently uses the later one, `docs/edp-compatibility.md` 7.19).
    #[error(
        "source root {root}: {} input file(s) found in two places, expected each \
         <VAR>_<period>.<ts10>.<data|meta> once:{}",
        duplicates.len(),
        list_duplicates(duplicates)
    )]
    Duplicates {
        /// The root as given.
        root: String,
        /// Every duplicate pair.
        duplicates: Vec<Duplicate>,
    },
    /// More input files than an inventory can index.
    #[error("source root {root}: more than {max} input files, found {found}")]
    TooManyFiles {
        /// The root as given.
        root: String,
        /// The limit.
        max: u64,
        /// The number found.
        found: u64,
    },
}

/// A `.data` or `.meta` file whose partner is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    /// Path of the file found (as written in task lists).
    pub path: String,
    /// Path where its partner was expected (same directory, other extension).
    pub missing: String,
}

impl fmt::Display for Orphan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} has no partner {}", self.path, self.missing)
    }
}

/// Counts of what the listing held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InventoryStats {
    /// Objects in the listing.
    pub listed: u64,
    /// MDS input files kept.
    pub files: u64,
    /// Objects whose name is not an MDS diagnostic file name.
    pub not_mds: u64,
    /// MDS-named objects outside the search space (version filter, S3 prefixes).
    pub outside_search_space: u64,
    /// Complete `.data` + `.meta` pairs.
    pub pairs: u64,
    /// Sum of the sizes of the files kept.
    pub bytes: u64,
}

/// The `.data` and `.meta` files of one variable at one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepFiles {
    /// The `.data` file, if found.
    pub data: Option<FileId>,
    /// The `.meta` file, if found.
    pub meta: Option<FileId>,
}

impl StepFiles {
    /// The file of `kind`.
    pub fn get(&self, kind: MdsFileKind) -> Option<FileId> {
        match kind {
            MdsFileKind::Data => self.data,
            MdsFileKind::Meta => self.meta,
        }
    }
}

/// What the inventory knows about one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo<'a> {
    /// Diagnostic name.
    pub variable: &'a str,
    /// Period token.
    pub period: PeriodToken,
    /// Model time step.
    pub step: u64,
    /// `.data` or `.meta`.
    pub kind: MdsFileKind,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes (S3) or the store's local stand-in.
    pub etag: Option<&'a str>,
    /// Last modification time, when the listing gave one.
    pub modified: Option<SystemTime>,
    dir: &'a str,
    root: &'a Root,
}

impl<'a> FileInfo<'a> {
    /// The same file name with the other extension (the partner of a `.data`/`.meta`),
    /// in the same directory.
    pub fn with_kind(&self, kind: MdsFileKind) -> FileInfo<'a> {
        FileInfo { kind, ..*self }
    }

    /// The path as written in task lists: `<root as written>/<dir>/<name>`, joined like
    /// [`crate::roots::join_written`]. Built with its exact capacity: a plan holds millions of
    /// these strings.
    pub fn path(&self) -> String {
        let root = self.root.written();
        let period = self.period.as_str();
        let ext = self.kind.extension();
        let time_invariant = self.period == PeriodToken::TimeInvariant;
        // <VAR>_<period>.<10 digits>.<ext>, or <VAR>.<ext> for a time-invariant input
        let name_len = if time_invariant {
            self.variable.len() + 1 + ext.len()
        } else {
            self.variable.len() + 1 + period.len() + 1 + 10 + 1 + ext.len()
        };
        let separator = !root.is_empty() && !root.ends_with('/');
        let dir_len = if self.dir.is_empty() {
            0
        } else {
            self.dir.len() + 1
        };
        let mut out =
            String::with_capacity(root.len() + usize::from(separator) + dir_len + name_len);
        out.push_str(root);
        if separator {
            out.push('/');
        }
        if !self.dir.is_empty() {
            out.push_str(self.dir);
            out.push('/');
        }
        out.push_str(self.variable);
        if !time_invariant {
            out.push('_');
            out.push_str(period);
            out.push('.');
            // Parsed steps have exactly 10 digits; writing into a String cannot fail.
            let _ = write!(out, "{:010}", self.step);
        }
        out.push('.');
        out.push_str(ext);
        out
    }
}

/// Sentinel length of an absent ETag.
const NO_ETAG: u32 = u32::MAX;
/// Sentinel of an unknown modification time.
const NO_TIME: i64 = i64::MIN;

fn to_millis(time: Option<SystemTime>) -> i64 {
    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .unwrap_or(NO_TIME)
}

fn from_millis(ms: i64) -> Option<SystemTime> {
    let ms = u64::try_from(ms).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_millis(ms))
}

/// One file, 48 bytes.
#[derive(Debug, Clone, Copy)]
struct Entry {
    variable: u32,
    dir: u32,
    step: u64,
    size: u64,
    etag_offset: u64,
    /// Last modification, milliseconds since the Unix epoch ([`NO_TIME`] when unknown).
    modified_ms: i64,
    etag_len: u32,
    period: PeriodToken,
    kind: MdsFileKind,
}

impl Entry {
    fn key(&self) -> (u32, PeriodToken, u64, MdsFileKind) {
        (self.variable, self.period, self.step, self.kind)
    }
}

/// Names stored once, addressed by a `u32`.
#[derive(Debug, Default)]
struct Interner {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        // At most one name per listed object, and the object count is checked against u32.
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map(|n| &**n).unwrap_or("")
    }
}

/// The steps of one (variable, period token) and their files.
#[derive(Debug, Default)]
struct Series {
    steps: Vec<u64>,
    files: Vec<StepFiles>,
}

/// The input files below a source root, indexed by (variable, period token, step).
#[derive(Debug)]
pub struct Inventory {
    root: Root,
    search: SearchSpace,
    variables: Interner,
    dirs: Interner,
    entries: Vec<Entry>,
    etags: String,
    series: HashMap<(u32, PeriodToken), Series>,
    orphans: Vec<Orphan>,
    stats: InventoryStats,
}

/// An inventory being built from listing pages as they arrive: only the compact entries are
/// kept, never the listing itself ([`Inventory::from_prefixes`] streams pages into one).
#[derive(Debug)]
pub struct InventoryBuilder {
    root: Root,
    search: SearchSpace,
    options: InventoryOptions,
    variables: Interner,
    dirs: Interner,
    entries: Vec<Entry>,
    etags: String,
    stats: InventoryStats,
    /// Reused buffer for the written directory path of the version filter.
    dir_path: String,
}

impl InventoryBuilder {
    /// An empty inventory of `root`.
    pub fn new(root: Root, options: &InventoryOptions) -> InventoryBuilder {
        InventoryBuilder {
            search: SearchSpace::of(&root),
            root,
            options: options.clone(),
            variables: Interner::default(),
            dirs: Interner::default(),
            entries: Vec::new(),
            etags: String::new(),
            stats: InventoryStats::default(),
            dir_path: String::new(),
        }
    }

    /// Adds one listed object (objects not below the root count as outside the search space).
    pub fn add(&mut self, object: &ObjectMeta) {
        let stats = &mut self.stats;
        stats.listed += 1;
        let Some(relative) = relative_path(&self.root, object) else {
            stats.outside_search_space += 1;
            return;
        };
        let (dir, name) = relative.rsplit_once('/').unwrap_or(("", relative));
        let Some(parsed) = MdsFileName::parse_at(dir, name) else {
            stats.not_mds += 1;
            return;
        };
        let inside = match self.search {
            SearchSpace::LocalWalk => {
                self.options.ecco_version.is_empty() || {
                    self.dir_path.clear();
                    self.dir_path
                        .push_str(&join_written(self.root.written(), dir));
                    self.dir_path.contains(self.options.ecco_version.as_str())
                }
            }
            SearchSpace::S3Prefixes => in_s3_prefix(relative, &parsed),
        };
        if !inside {
            stats.outside_search_space += 1;
            return;
        }
        let (etag_offset, etag_len) = match object.etag.as_deref() {
            Some(tag) => {
                let tag = tag.trim_matches('"');
                let offset = self.etags.len() as u64;
                self.etags.push_str(tag);
                (offset, u32::try_from(tag.len()).unwrap_or(0))
            }
            None => (0, NO_ETAG),
        };
        stats.files += 1;
        stats.bytes += object.size;
        self.entries.push(Entry {
            variable: self.variables.intern(&parsed.variable),
            dir: self.dirs.intern(dir),
            step: parsed.step,
            size: object.size,
            etag_offset,
            modified_ms: to_millis(object.last_modified),
            etag_len,
            period: parsed.period,
            kind: parsed.kind,
        });
    }

    /// Adds every object of a listing page.
    pub fn add_page(&mut self, objects: &[ObjectMeta]) {
        for object in objects {
            self.add(object);
        }
    }

    /// Sorts, checks for duplicates and pairs `.data` with `.meta`.
    pub fn finish(self) -> Result<Inventory, InventoryError> {
        let InventoryBuilder {
            root,
            search,
            variables,
            dirs,
            mut entries,
            etags,
            stats,
            ..
        } = self;
        if u32::try_from(entries.len()).is_err() {
            return Err(InventoryError::TooManyFiles {
                root: root.written().to_string(),
                max: u64::from(u32::MAX),
                found: entries.len() as u64,
            });
        }
        entries.sort_unstable_by_key(Entry::key);
        entries.shrink_to_fit();
        let mut inventory = Inventory {
            root,
            search,
            variables,
            dirs,
            entries,
            etags,
            series: HashMap::new(),
            orphans: Vec::new(),
            stats,
        };
        inventory.check_duplicates()?;
        inventory.pair();
        Ok(inventory)
    }
}

/// How many listings [`Inventory::from_prefixes`] keeps in flight.
pub const LIST_CONCURRENCY: usize = 16;
/// How many HEAD requests [`Inventory::from_heads`] keeps in flight.
pub const HEAD_CONCURRENCY: usize = 32;

/// What building an inventory cost in store requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListingCost {
    /// Listing requests (S3 ListObjectsV2 pages; one per local walk).
    pub list_requests: u64,
    /// HEAD requests.
    pub head_requests: u64,
}

impl Inventory {
    /// The inventory of the `(variable, period token)` series in `searches` only, for the
    /// planner of a set of jobs (see [`crate::builder::job_searches`]).
    ///
    /// S3 roots: one listing per search prefix `<root>/<freq_dir>/<VAR>_<period>` (EDP's
    /// prefixes, so the same files are found as by one listing of the whole root), at most
    /// [`LIST_CONCURRENCY`] in flight, each page indexed as it arrives and then dropped.
    /// Local roots: one walk of the root ([`Inventory::from_store`]), because the local
    /// search space is EDP's directory walk with its version filter.
    pub async fn from_prefixes(
        store: &Store,
        root: &Root,
        options: &InventoryOptions,
        searches: &BTreeSet<(String, PeriodToken)>,
    ) -> Result<(Inventory, ListingCost), InventoryError> {
        if !root.is_s3() {
            let inventory = Inventory::from_store(store, root, options).await?;
            let cost = ListingCost {
                list_requests: 1,
                head_requests: 0,
            };
            return Ok((inventory, cost));
        }
        let prefixes = search_prefixes(searches);
        let builder = Mutex::new(InventoryBuilder::new(root.clone(), options));
        let list_error = |source: StoreError| InventoryError::List {
            root: root.written().to_string(),
            source,
        };
        let requests: Vec<u64> = stream::iter(prefixes.iter().map(|(freq_dir, name_prefix)| {
            let dir = root.location().join(freq_dir);
            let builder = &builder;
            async move {
                store
                    .list_prefix_pages(&dir, name_prefix, |page| {
                        // A poisoned lock means another page panicked: that panic is reported.
                        if let Ok(mut builder) = builder.lock() {
                            builder.add_page(&page);
                        }
                    })
                    .await
            }
        }))
        .buffer_unordered(LIST_CONCURRENCY)
        .map_err(list_error)
        .try_collect()
        .await?;
        let builder = builder
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let cost = ListingCost {
            list_requests: requests.iter().sum(),
            head_requests: 0,
        };
        Ok((builder.finish()?, cost))
    }

    /// The inventory of exactly the files `(variable, period token, step)` x `.data`/`.meta`
    /// at their place in EDP's layout (`<root>/<freq_dir>/<VAR>_<period>/<name>`), one HEAD
    /// each ([`HEAD_CONCURRENCY`] in flight): what event-scoped planning reads, whatever the
    /// size of the archive.
    pub async fn from_heads(
        store: &Store,
        root: &Root,
        options: &InventoryOptions,
        files: &BTreeSet<(String, PeriodToken, u64)>,
    ) -> Result<(Inventory, ListingCost), InventoryError> {
        let locations: Vec<Location> = files
            .iter()
            .flat_map(|(variable, period, step)| {
                [MdsFileKind::Data, MdsFileKind::Meta].map(|kind| {
                    root.location()
                        .join(&standard_relative_path(variable, *period, *step, kind))
                })
            })
            .collect();
        let found: Vec<Option<ObjectMeta>> = stream::iter(
            locations
                .iter()
                .map(|location| async move { store.head(location).await }),
        )
        .buffered(HEAD_CONCURRENCY)
        .try_collect()
        .await
        .map_err(|source| InventoryError::List {
            root: root.written().to_string(),
            source,
        })?;
        let mut builder = InventoryBuilder::new(root.clone(), options);
        for object in found.iter().flatten() {
            builder.add(object);
        }
        let cost = ListingCost {
            list_requests: 0,
            head_requests: locations.len() as u64,
        };
        Ok((builder.finish()?, cost))
    }

    /// The modification time of the input at `path` (a path as written in tasks), when the
    /// inventory holds it with one.
    pub fn modified_of_path(&self, path: &str) -> Option<SystemTime> {
        let parsed = MdsFileName::parse_location(path)?;
        let files = self.at(&parsed.variable, parsed.period, parsed.step)?;
        let info = self.file(files.get(parsed.kind)?);
        (info.path() == path).then_some(info.modified).flatten()
    }
}

/// `<freq_dir>/<VAR>_<period>/<VAR>_<period>.<ts10>.<ext>`: where EDP's layout puts a file.
pub fn standard_relative_path(
    variable: &str,
    period: PeriodToken,
    step: u64,
    kind: MdsFileKind,
) -> String {
    format!(
        "{}/{}",
        input_search_prefix(variable, period),
        mds_file_name(variable, period, step, kind)
    )
}

/// The listing prefixes `(freq_dir, <VAR>_<period>)` of `searches`, without prefixes that
/// another one already covers (a key prefix that starts with another lists nothing new).
fn search_prefixes(searches: &BTreeSet<(String, PeriodToken)>) -> Vec<(&'static str, String)> {
    let all: BTreeSet<(&'static str, String)> = searches
        .iter()
        .map(|(variable, period)| {
            (
                input_freq_dir(period.frequency()),
                mds_prefix(variable, *period),
            )
        })
        .collect();
    all.iter()
        .filter(|(dir, prefix)| {
            !all.iter().any(|(other_dir, other)| {
                other_dir == dir && other != prefix && prefix.starts_with(other.as_str())
            })
        })
        .cloned()
        .collect()
}

impl Inventory {
    /// Lists `root` once and builds its inventory.
    pub async fn from_store(
        store: &Store,
        root: &Root,
        options: &InventoryOptions,
    ) -> Result<Inventory, InventoryError> {
        let objects = store
            .list(root.location())
            .await
            .map_err(|source| InventoryError::List {
                root: root.written().to_string(),
                source,
            })?;
        Inventory::build(root.clone(), objects, options)
    }

    /// Builds the inventory of `root` from a listing of it (objects not below the root are
    /// counted as outside the search space).
    pub fn build(
        root: Root,
        objects: impl IntoIterator<Item = ObjectMeta>,
        options: &InventoryOptions,
    ) -> Result<Inventory, InventoryError> {
        let mut builder = InventoryBuilder::new(root, options);
        for object in objects {
            builder.add(&object);
        }
        builder.finish()
    }

    /// Fails when two entries share (variable, period, step, kind).
    fn check_duplicates(&self) -> Result<(), InventoryError> {
        let mut duplicates = Vec::new();
        let mut first = 0usize;
        for index in 1..self.entries.len() {
            if self.entries[index].key() == self.entries[first].key() {
                duplicates.push(Duplicate {
                    first: self.entry_path(first),
                    second: self.entry_path(index),
                });
            } else {
                first = index;
            }
        }
        if duplicates.is_empty() {
            return Ok(());
        }
        duplicates.sort_by(|a, b| (&a.first, &a.second).cmp(&(&b.first, &b.second)));
        Err(InventoryError::Duplicates {
            root: self.root.written().to_string(),
            duplicates,
        })
    }

    /// Groups the sorted, duplicate-free entries into series of steps and pairs `.data` with
    /// `.meta` by stem.
    fn pair(&mut self) {
        let mut series: HashMap<(u32, PeriodToken), Series> = HashMap::new();
        let mut orphans = Vec::new();
        let mut pairs = 0u64;
        let mut index = 0usize;
        while index < self.entries.len() {
            let entry = self.entries[index];
            let mut files = StepFiles {
                data: None,
                meta: None,
            };
            let mut next = index;
            while next < self.entries.len() {
                let other = &self.entries[next];
                if (other.variable, other.period, other.step)
                    != (entry.variable, entry.period, entry.step)
                {
                    break;
                }
                // Checked against u32 in `build`.
                let id = next as FileId;
                match other.kind {
                    MdsFileKind::Data => files.data = Some(id),
                    MdsFileKind::Meta => files.meta = Some(id),
                }
                next += 1;
            }
            match (files.data, files.meta) {
                (Some(_), Some(_)) => pairs += 1,
                (Some(found), None) | (None, Some(found)) => {
                    let info = self.file(found);
                    let partner = match info.kind {
                        MdsFileKind::Data => MdsFileKind::Meta,
                        MdsFileKind::Meta => MdsFileKind::Data,
                    };
                    let missing = info.with_kind(partner);
                    orphans.push(Orphan {
                        path: info.path(),
                        missing: missing.path(),
                    });
                }
                (None, None) => {}
            }
            let slot = series.entry((entry.variable, entry.period)).or_default();
            slot.steps.push(entry.step);
            slot.files.push(files);
            index = next;
        }
        orphans.sort_by(|a, b| a.path.cmp(&b.path));
        self.series = series;
        self.orphans = orphans;
        self.stats.pairs = pairs;
    }

    /// The source root.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The search space used.
    pub fn search_space(&self) -> SearchSpace {
        self.search
    }

    /// What the listing held.
    pub fn stats(&self) -> InventoryStats {
        self.stats
    }

    /// `.data`/`.meta` files without their partner, sorted by path.
    pub fn orphans(&self) -> &[Orphan] {
        &self.orphans
    }

    /// Number of files kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no input file was found.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The sorted steps at which `variable` has at least one file with `period`.
    pub fn steps(&self, variable: &str, period: PeriodToken) -> &[u64] {
        self.series_of(variable, period)
            .map(|s| s.steps.as_slice())
            .unwrap_or_default()
    }

    /// The files of `variable` with `period` at `step`, if any.
    pub fn at(&self, variable: &str, period: PeriodToken, step: u64) -> Option<StepFiles> {
        let series = self.series_of(variable, period)?;
        let index = series.steps.binary_search(&step).ok()?;
        series.files.get(index).copied()
    }

    /// Every (variable, period token) with at least one file, sorted, with its step count.
    pub fn series(&self) -> Vec<(&str, PeriodToken, usize)> {
        let mut out: Vec<(&str, PeriodToken, usize)> = self
            .series
            .iter()
            .map(|((variable, period), s)| (self.variables.name(*variable), *period, s.steps.len()))
            .collect();
        out.sort();
        out
    }

    /// One file.
    pub fn file(&self, id: FileId) -> FileInfo<'_> {
        let entry = self.entries.get(id as usize).copied().unwrap_or(Entry {
            variable: u32::MAX,
            dir: u32::MAX,
            step: 0,
            size: 0,
            etag_offset: 0,
            modified_ms: NO_TIME,
            etag_len: NO_ETAG,
            period: PeriodToken::MonMean,
            kind: MdsFileKind::Data,
        });
        let etag = (entry.etag_len != NO_ETAG)
            .then(|| {
                let start = usize::try_from(entry.etag_offset).ok()?;
                self.etags.get(start..start + entry.etag_len as usize)
            })
            .flatten();
        FileInfo {
            variable: self.variables.name(entry.variable),
            period: entry.period,
            step: entry.step,
            kind: entry.kind,
            size: entry.size,
            etag,
            modified: from_millis(entry.modified_ms),
            dir: self.dirs.name(entry.dir),
            root: &self.root,
        }
    }

    /// Where EDP's layout expects a file that was not found:
    /// `<root>/<freq_dir>/<VAR>_<period>/<VAR>_<period>.<ts10>.<ext>`.
    pub fn expected_path(
        &self,
        variable: &str,
        period: PeriodToken,
        step: u64,
        kind: MdsFileKind,
    ) -> String {
        self.root
            .write_path(&standard_relative_path(variable, period, step, kind))
    }

    /// The directory EDP searches for `variable` with `period`: `<root>/<freq_dir>/<VAR>_<period>`.
    pub fn search_dir(&self, variable: &str, period: PeriodToken) -> String {
        self.root.write_path(&input_search_prefix(variable, period))
    }

    fn series_of(&self, variable: &str, period: PeriodToken) -> Option<&Series> {
        let id = self.variables.get(variable)?;
        self.series.get(&(id, period))
    }

    fn entry_path(&self, index: usize) -> String {
        // `index` < entries.len() <= u32::MAX (checked in `build`).
        self.file(index as FileId).path()
    }
}

/// The path of `object` below `root`, borrowed from the object (no allocation).
fn relative_path<'a>(root: &Root, object: &'a ObjectMeta) -> Option<&'a str> {
    let location = &object.location;
    if let (Some((bucket, key)), Some((root_bucket, root_key))) =
        (location.as_s3(), root.location().as_s3())
    {
        if bucket != root_bucket {
            return None;
        }
        if root_key.is_empty() {
            return Some(key);
        }
        return key.strip_prefix(root_key)?.strip_prefix('/');
    }
    let path = location.as_local_path()?;
    let base = root.location().as_local_path()?;
    let rest = path.strip_prefix(base).ok()?;
    let text = rest.to_str()?;
    // Local paths use `/` on the platforms we support; anything else is not a tree we plan.
    (!text.is_empty() && std::path::MAIN_SEPARATOR == '/').then_some(text)
}

/// EDP's S3 search: the key below the root starts with `<freq_dir>/<VAR>_<period>`
/// (`time_invariant/<VAR>`).
fn in_s3_prefix(relative: &str, name: &MdsFileName) -> bool {
    relative.starts_with(&input_search_prefix(&name.variable, name.period))
}

#[cfg(test)]
mod tests {
    use super::*;
    use edp_store::Location;

    fn object(root: &str, rel: &str, size: u64) -> ObjectMeta {
        ObjectMeta {
            location: Location::parse(&format!("{root}/{rel}")).unwrap(),
            size,
            etag: Some(format!("\"tag-{rel}\"")),
            last_modified: None,
        }
    }

    #[test]
    fn paths_are_joined_like_written_roots() {
        for (written, rel) in [
            ("../data/V4r4", "diags_monthly/SSH_mon_mean"),
            ("../data/V4r4/", "diags_monthly/SSH_mon_mean"),
            ("V4r4", ""),
        ] {
            let root = Root::with_written(Location::parse("/data/V4r4").unwrap(), written);
            let name = "SSH_mon_mean.0000000732.meta";
            let relative = if rel.is_empty() {
                name.to_string()
            } else {
                format!("{rel}/{name}")
            };
            let info = FileInfo {
                variable: "SSH",
                period: PeriodToken::MonMean,
                step: 732,
                kind: MdsFileKind::Meta,
                size: 0,
                etag: None,
                modified: None,
                dir: rel,
                root: &root,
            };
            let path = info.path();
            assert_eq!(path, join_written(written, &relative));
            assert_eq!(path.capacity(), path.len());
        }
    }

    #[test]
    fn s3_prefix_rule_follows_edp() {
        let name = MdsFileName::parse("SSH_mon_mean.0000000732.data").unwrap();
        assert!(in_s3_prefix(
            "diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data",
            &name
        ));
        assert!(in_s3_prefix(
            "diags_monthly/SSH_mon_mean.0000000732.data",
            &name
        ));
        assert!(!in_s3_prefix(
            "diags_daily/SSH_mon_mean/SSH_mon_mean.0000000732.data",
            &name
        ));
        assert!(!in_s3_prefix(
            "other/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data",
            &name
        ));
    }

    #[test]
    fn pairs_orphans_and_etags_without_quotes() {
        let root = Root::parse("s3://b/V4r4").unwrap();
        let objects = vec![
            object(
                "s3://b/V4r4",
                "diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data",
                10,
            ),
            object(
                "s3://b/V4r4",
                "diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.meta",
                2,
            ),
            object(
                "s3://b/V4r4",
                "diags_monthly/SSH_mon_mean/SSH_mon_mean.0000001428.data",
                10,
            ),
            object("s3://b/V4r4", "diags_monthly/README.txt", 1),
            object("s3://b/V4r4", "elsewhere/SSH_mon_mean.0000002172.data", 1),
        ];
        let inventory = Inventory::build(root, objects, &InventoryOptions::default()).unwrap();
        assert_eq!(inventory.steps("SSH", PeriodToken::MonMean), &[732, 1428]);
        let files = inventory.at("SSH", PeriodToken::MonMean, 732).unwrap();
        let data = inventory.file(files.data.unwrap());
        assert_eq!(
            data.path(),
            "s3://b/V4r4/diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data"
        );
        assert_eq!(data.size, 10);
        assert_eq!(
            data.etag,
            Some("tag-diags_monthly/SSH_mon_mean/SSH_mon_mean.0000000732.data")
        );
        assert_eq!(inventory.orphans().len(), 1);
        assert!(
            inventory.orphans()[0]
                .missing
                .ends_with("SSH_mon_mean.0000001428.meta")
        );
        let stats = inventory.stats();
        assert_eq!(
            (
                stats.listed,
                stats.files,
                stats.not_mds,
                stats.outside_search_space,
                stats.pairs
            ),
            (5, 3, 1, 1, 1)
        );
    }
}
