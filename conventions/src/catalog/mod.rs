//! The ECCO metadata catalog: one metadata directory as published (V4r4 `ECCOv4r4_*` names or
//! V4r5 names), loaded once and queried by the planner and the granule writer.
//!
//! ```no_run
//! use edp_conventions::catalog::{Catalog, LoadOptions};
//! use edp_conventions::ProductType;
//!
//! let catalog = Catalog::load("metadata/V4r4", &LoadOptions::default())?;
//! let velocity = catalog.dataset(ProductType::Latlon, 11)?;
//! for v in &velocity.variables {
//!     println!("{} <- {:?}", v.output_name, v.inputs);
//! }
//! # Ok::<(), edp_conventions::catalog::CatalogError>(())
//! ```

mod dataset;
mod entries;
mod error;
mod files;
mod groupings;
mod one_d;
mod podaac;
mod repair;
mod summary;

use std::path::{Path, PathBuf};

pub use dataset::{
    CorrectionKind, Dataset, InputComponent, MetadataCorrection, OutputVariable, StaggeringSource,
    VariableKind,
};
pub use entries::{GlobalEntry, MetadataEntry, MetadataList};
pub use error::CatalogError;
pub use groupings::{Grouping, GroupingFrequency, Orientation, XyComponents};
pub use one_d::{OneDDataset, one_d_file_name};
pub use podaac::{DEFAULT_METADATA_LINK_ROOT, PodaacIds, PodaacRow, PodaacTable};
pub use repair::{DOI_PLACEHOLDER_ATTRIBUTES, MetadataRepair, RepairKind};
pub use summary::DatasetSummary;

use files::{Contents, Pattern, find, parse_json, shown_pattern};

use crate::staggering::DiagnosticsTable;
use crate::vocab::ProductType;

/// The V4r4 PO.DAAC table name (`podaac_metadata_filename` of `config_V4r4.yaml`).
pub const DEFAULT_PODAAC_FILENAME: &str = "PODAAC_datasets-revised_20210226.5.csv";

/// The MITgcm diagnostics list, used for staggering when present in the metadata directory.
pub const DIAGNOSTICS_LOG_FILENAME: &str = "available_diagnostics.log";

/// True for the files a catalog may read: every `*.json`, the PO.DAAC table named in
/// `options` and `available_diagnostics.log` (a superset of what [`Catalog::load`] matches,
/// for fetching a remote metadata location).
pub fn is_catalog_file(name: &str, options: &LoadOptions) -> bool {
    name.ends_with(".json") || name == options.podaac_filename || name == DIAGNOSTICS_LOG_FILENAME
}

/// Options of [`Catalog::load`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Load the rest when a file's content is invalid (bad JSON, wrong structure) and report
    /// it in [`Catalog::skipped`]; lookups that need the skipped file then fail with
    /// [`CatalogError::Unavailable`]. Off by default: an invalid file is an error.
    pub skip_invalid: bool,
    /// File name of the PO.DAAC table in the metadata directory (configuration
    /// `podaac_metadata_filename`).
    pub podaac_filename: String,
    /// Repair the known defects of published metadata (see [`RepairKind`]) and report each
    /// in [`Catalog::repairs`] / [`Dataset::repairs`]. On by default; off, a defect is an
    /// error as any other.
    pub repair: bool,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            skip_invalid: false,
            podaac_filename: DEFAULT_PODAAC_FILENAME.to_string(),
            repair: true,
        }
    }
}

/// A file that was skipped because its content is invalid (`skip_invalid`).
#[derive(Debug)]
pub struct SkippedFile {
    /// The file.
    pub path: PathBuf,
    /// Why it was skipped.
    pub error: CatalogError,
}

/// A loaded, absent or skipped metadata file.
#[derive(Debug)]
enum Slot<T> {
    Loaded(T),
    Missing,
    Skipped(PathBuf),
}

/// One metadata file of the catalog.
#[derive(Debug)]
struct Component<T> {
    slot: Slot<T>,
    pattern: String,
    what: &'static str,
}

impl<T> Component<T> {
    fn get(&self, dir: &Path) -> Result<&T, CatalogError> {
        match &self.slot {
            Slot::Loaded(value) => Ok(value),
            Slot::Missing => Err(CatalogError::Unavailable {
                what: self.what,
                reason: format!(
                    "metadata directory {} has no file matching '{}'",
                    dir.display(),
                    self.pattern
                ),
            }),
            Slot::Skipped(path) => Err(CatalogError::Unavailable {
                what: self.what,
                reason: format!("{} was skipped as invalid", path.display()),
            }),
        }
    }

    fn loaded(&self) -> Option<&T> {
        match &self.slot {
            Slot::Loaded(value) => Some(value),
            _ => None,
        }
    }
}

/// Description of one metadata file to load.
struct FileSpec<'a> {
    pattern: Pattern,
    exact: &'a str,
    what: &'static str,
    required: bool,
}

const fn json(identifier: &'static str, what: &'static str, required: bool) -> FileSpec<'static> {
    FileSpec {
        pattern: Pattern::JsonSuffix(identifier),
        exact: "",
        what,
        required,
    }
}

/// Loads the files of one directory, collecting skipped ones.
struct Loader<'a> {
    dir: &'a Path,
    contents: &'a Contents,
    names: Vec<String>,
    options: &'a LoadOptions,
    skipped: Vec<SkippedFile>,
    repairs: Vec<MetadataRepair>,
}

impl Loader<'_> {
    fn load<T>(
        &mut self,
        spec: FileSpec<'_>,
        parse: impl FnOnce(&Path, &str) -> Result<T, CatalogError>,
    ) -> Result<Component<T>, CatalogError> {
        let pattern = shown_pattern(spec.pattern, spec.exact);
        let component = |slot| Component {
            slot,
            pattern: pattern.clone(),
            what: spec.what,
        };
        let Some(name) = find(self.dir, &self.names, spec.pattern, spec.exact)? else {
            if spec.required {
                return Err(CatalogError::MissingFile {
                    dir: self.dir.to_path_buf(),
                    pattern: pattern.clone(),
                    what: spec.what,
                });
            }
            return Ok(component(Slot::Missing));
        };
        let path = self.dir.join(&name);
        let parsed = self.contents.read(self.dir, &name).and_then(|text| {
            if !(self.options.repair && name.ends_with(".json")) {
                return parse(&path, &text);
            }
            let (text, lines) = repair::insert_missing_commas(&text);
            let value = parse(&path, &text)?;
            if !lines.is_empty() {
                self.repairs.push(repair::comma_repair(&path, &lines));
            }
            Ok(value)
        });
        match parsed {
            Ok(value) => Ok(component(Slot::Loaded(value))),
            Err(error) if self.options.skip_invalid && error.is_content_error() => {
                self.skipped.push(SkippedFile {
                    path: path.clone(),
                    error,
                });
                Ok(component(Slot::Skipped(path)))
            }
            Err(error) => Err(error),
        }
    }
}

fn metadata_list(path: &Path, text: &str) -> Result<MetadataList, CatalogError> {
    MetadataList::parse(path, &parse_json(path, text)?)
}

fn groupings(path: &Path, text: &str) -> Result<(PathBuf, Vec<Grouping>), CatalogError> {
    Ok((
        path.to_path_buf(),
        Grouping::parse_list(path, &parse_json(path, text)?)?,
    ))
}

fn globals(path: &Path, text: &str) -> Result<Vec<GlobalEntry>, CatalogError> {
    GlobalEntry::parse_list(path, &parse_json(path, text)?)
}

/// Which global metadata file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GlobalScope {
    /// `*global_metadata_for_all_datasets.json`.
    All,
    /// `*global_metadata_for_native_datasets.json`.
    Native,
    /// `*global_metadata_for_latlon_datasets.json`.
    Latlon,
}

impl GlobalScope {
    /// The product-specific scope of a product type.
    pub fn of(product: ProductType) -> GlobalScope {
        match product {
            ProductType::Native => GlobalScope::Native,
            ProductType::Latlon => GlobalScope::Latlon,
        }
    }
}

/// The metadata of one ECCO metadata directory.
#[derive(Debug)]
pub struct Catalog {
    dir: PathBuf,
    groupings_native: Component<(PathBuf, Vec<Grouping>)>,
    groupings_latlon: Component<(PathBuf, Vec<Grouping>)>,
    groupings_1d: Component<(PathBuf, Vec<Grouping>)>,
    variables: Component<MetadataList>,
    variables_latlon: Component<MetadataList>,
    variables_1d: Component<MetadataList>,
    geometry_native: Component<MetadataList>,
    geometry_latlon: Component<MetadataList>,
    coordinates_native: Component<MetadataList>,
    coordinates_latlon: Component<MetadataList>,
    coordinates_1d: Component<MetadataList>,
    time_coordinates: Component<MetadataList>,
    global_all: Component<Vec<GlobalEntry>>,
    global_native: Component<Vec<GlobalEntry>>,
    global_latlon: Component<Vec<GlobalEntry>>,
    global_1d: Component<Vec<GlobalEntry>>,
    dataset_summary: Component<Vec<DatasetSummary>>,
    podaac: Component<PodaacTable>,
    diagnostics: Component<(PathBuf, DiagnosticsTable)>,
    skipped: Vec<SkippedFile>,
    repairs: Vec<MetadataRepair>,
    repair: bool,
    /// Grouping variables without variable metadata that the diagnostics log describes
    /// (`RepairKind::VariableMetadataFromLog`), by product.
    log_described: std::collections::BTreeSet<(ProductType, String)>,
}

impl Catalog {
    /// Loads a metadata directory.
    ///
    /// Required (an error when absent): the native and lat-lon groupings, the variable
    /// metadata (general and lat-lon), the native and lat-lon coordinate metadata, the time
    /// coordinate metadata, the global metadata (all, native, lat-lon) and the PO.DAAC table.
    /// Optional: the 1D files, the geometry metadata, the dataset summary and
    /// `available_diagnostics.log`. A file matched by more than one name is an error.
    pub fn load(dir: impl AsRef<Path>, options: &LoadOptions) -> Result<Catalog, CatalogError> {
        Catalog::load_from(dir.as_ref(), &Contents::Disk, options)
    }

    /// Loads a catalog from files already in memory, `(file name, bytes)`, e.g. fetched from
    /// an `s3://` metadata location by the planner. `location` only names the files in
    /// errors (`<location>/<file name>`). Same rules as [`Catalog::load`]; fetch at least the
    /// files for which [`is_catalog_file`] is true.
    pub fn from_files(
        location: impl Into<PathBuf>,
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
        options: &LoadOptions,
    ) -> Result<Catalog, CatalogError> {
        let contents = Contents::Memory(files.into_iter().collect());
        Catalog::load_from(&location.into(), &contents, options)
    }

    fn load_from(
        dir: &Path,
        contents: &Contents,
        options: &LoadOptions,
    ) -> Result<Catalog, CatalogError> {
        let mut l = Loader {
            dir,
            contents,
            names: contents.names(dir)?,
            options,
            skipped: Vec::new(),
            repairs: Vec::new(),
        };
        let groupings_native = l.load(
            json("groupings_for_native_datasets", "native groupings", true),
            groupings,
        )?;
        let groupings_latlon = l.load(
            json("groupings_for_latlon_datasets", "lat-lon groupings", true),
            groupings,
        )?;
        let groupings_1d = l.load(
            json("groupings_for_1D_datasets", "1D groupings", false),
            groupings,
        )?;
        let variables = l.load(
            json("variable_metadata", "variable metadata", true),
            metadata_list,
        )?;
        let variables_latlon = l.load(
            json(
                "variable_metadata_for_latlon_datasets",
                "lat-lon variable metadata",
                true,
            ),
            metadata_list,
        )?;
        let variables_1d = l.load(
            json(
                "variable_metadata_for_1D_datasets",
                "1D variable metadata",
                false,
            ),
            metadata_list,
        )?;
        let geometry_native = l.load(
            json(
                "geometry_metadata_for_native_datasets",
                "native geometry metadata",
                false,
            ),
            metadata_list,
        )?;
        let geometry_latlon = l.load(
            json(
                "geometry_metadata_for_latlon_datasets",
                "lat-lon geometry metadata",
                false,
            ),
            metadata_list,
        )?;
        // V4r5 renamed these to `spatial_coordinate_metadata_*`, which the suffix matches too.
        let coordinates_native = l.load(
            json(
                "coordinate_metadata_for_native_datasets",
                "native coordinate metadata",
                true,
            ),
            metadata_list,
        )?;
        let coordinates_latlon = l.load(
            json(
                "coordinate_metadata_for_latlon_datasets",
                "lat-lon coordinate metadata",
                true,
            ),
            metadata_list,
        )?;
        let coordinates_1d = l.load(
            json(
                "coordinate_metadata_for_1D_datasets",
                "1D coordinate metadata",
                false,
            ),
            metadata_list,
        )?;
        let time_coordinates = l.load(
            json("time_coordinate_metadata", "time coordinate metadata", true),
            metadata_list,
        )?;
        let global_all = l.load(
            json(
                "global_metadata_for_all_datasets",
                "global metadata for all datasets",
                true,
            ),
            globals,
        )?;
        let global_native = l.load(
            json(
                "global_metadata_for_native_datasets",
                "native global metadata",
                true,
            ),
            globals,
        )?;
        let global_latlon = l.load(
            json(
                "global_metadata_for_latlon_datasets",
                "lat-lon global metadata",
                true,
            ),
            globals,
        )?;
        let global_1d = l.load(
            json(
                "global_metadata_for_1D_datasets",
                "1D global metadata",
                false,
            ),
            globals,
        )?;
        let dataset_summary = l
            .load(json("dataset_summary", "dataset summary", false), |p, t| {
                summary::parse(p, &parse_json(p, t)?)
            })?;
        let podaac = l.load(
            FileSpec {
                pattern: Pattern::Exact,
                exact: &options.podaac_filename,
                what: "PO.DAAC dataset table",
                required: true,
            },
            PodaacTable::parse,
        )?;
        let diagnostics = l.load(
            FileSpec {
                pattern: Pattern::Exact,
                exact: DIAGNOSTICS_LOG_FILENAME,
                what: "diagnostics log",
                required: false,
            },
            |path, text| {
                DiagnosticsTable::parse(text)
                    .map(|table| (path.to_path_buf(), table))
                    .map_err(|source| CatalogError::InvalidLog {
                        path: path.to_path_buf(),
                        source,
                    })
            },
        )?;
        if options.repair {
            for (component, identifier) in [
                (&global_all, "global_metadata_for_all_datasets"),
                (&global_native, "global_metadata_for_native_datasets"),
                (&global_latlon, "global_metadata_for_latlon_datasets"),
            ] {
                if let (Some(entries), Some(name)) = (
                    component.loaded(),
                    find(dir, &l.names, Pattern::JsonSuffix(identifier), "")?,
                ) {
                    l.repairs
                        .extend(repair::placeholder_repairs(&dir.join(name), entries));
                }
            }
        }
        let mut catalog = Catalog {
            dir: dir.to_path_buf(),
            groupings_native,
            groupings_latlon,
            groupings_1d,
            variables,
            variables_latlon,
            variables_1d,
            geometry_native,
            geometry_latlon,
            coordinates_native,
            coordinates_latlon,
            coordinates_1d,
            time_coordinates,
            global_all,
            global_native,
            global_latlon,
            global_1d,
            dataset_summary,
            podaac,
            diagnostics,
            skipped: l.skipped,
            repairs: l.repairs,
            repair: options.repair,
            log_described: Default::default(),
        };
        if options.repair {
            catalog.add_podaac_only_groupings()?;
            catalog.log_described = catalog.find_log_described();
        }
        Ok(catalog)
    }

    /// The metadata directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Files skipped as invalid (only with `LoadOptions::skip_invalid`).
    pub fn skipped(&self) -> &[SkippedFile] {
        &self.skipped
    }

    /// Defects of the files repaired while loading (`LoadOptions::repair`); the repairs of
    /// one grouping are in [`Dataset::repairs`].
    pub fn repairs(&self) -> &[MetadataRepair] {
        &self.repairs
    }

    /// Every repair: those of loading, then those of each native and lat-lon grouping (in id
    /// order; groupings that do not resolve are left out). For reporting each defect once per
    /// plan.
    pub fn all_repairs(&self) -> Vec<MetadataRepair> {
        let mut all = self.repairs.clone();
        for product in [ProductType::Native, ProductType::Latlon] {
            let count = self.groupings(product).map_or(0, <[Grouping]>::len);
            for id in 0..count {
                if let Ok(dataset) = self.dataset(product, id as i64) {
                    all.extend(dataset.repairs);
                }
            }
        }
        let count_1d = self.groupings_1d().map_or(0, <[Grouping]>::len);
        for id in 0..count_1d {
            if let Ok(dataset) = self.dataset_1d(id) {
                all.extend(dataset.repairs);
            }
        }
        all
    }

    /// True when known defects are repaired (`LoadOptions::repair`).
    pub fn repairs_enabled(&self) -> bool {
        self.repair
    }

    fn groupings_component(&self, product: ProductType) -> &Component<(PathBuf, Vec<Grouping>)> {
        match product {
            ProductType::Native => &self.groupings_native,
            ProductType::Latlon => &self.groupings_latlon,
        }
    }

    fn groupings_component_mut(
        &mut self,
        product: ProductType,
    ) -> &mut Slot<(PathBuf, Vec<Grouping>)> {
        match product {
            ProductType::Native => &mut self.groupings_native.slot,
            ProductType::Latlon => &mut self.groupings_latlon.slot,
        }
    }

    /// The groupings of a product type (index = grouping id).
    pub fn groupings(&self, product: ProductType) -> Result<&[Grouping], CatalogError> {
        Ok(&self.groupings_component(product).get(&self.dir)?.1)
    }

    /// The groupings file of a product type.
    pub fn groupings_path(&self, product: ProductType) -> Result<&Path, CatalogError> {
        Ok(&self.groupings_component(product).get(&self.dir)?.0)
    }

    /// The 1D groupings (optional file).
    pub fn groupings_1d(&self) -> Result<&[Grouping], CatalogError> {
        Ok(&self.groupings_1d.get(&self.dir)?.1)
    }

    /// The grouping with id `id`; out-of-range and negative ids are errors (EDP would index
    /// from the end of the list).
    pub fn grouping(&self, product: ProductType, id: i64) -> Result<&Grouping, CatalogError> {
        let (path, list) = self.groupings_component(product).get(&self.dir)?;
        usize::try_from(id)
            .ok()
            .and_then(|i| list.get(i))
            .ok_or_else(|| CatalogError::UnknownGrouping {
                product,
                id,
                count: list.len(),
                path: path.clone(),
            })
    }

    /// `*variable_metadata.json`.
    pub fn variable_metadata(&self) -> Result<&MetadataList, CatalogError> {
        self.variables.get(&self.dir)
    }

    /// `*variable_metadata_for_latlon_datasets.json`.
    pub fn latlon_variable_metadata(&self) -> Result<&MetadataList, CatalogError> {
        self.variables_latlon.get(&self.dir)
    }

    /// `*variable_metadata_for_1D_datasets.json` (optional file).
    pub fn variable_metadata_1d(&self) -> Result<&MetadataList, CatalogError> {
        self.variables_1d.get(&self.dir)
    }

    /// `*geometry_metadata_for_{native,latlon}_datasets.json` (optional files).
    pub fn geometry_metadata(&self, product: ProductType) -> Result<&MetadataList, CatalogError> {
        match product {
            ProductType::Native => self.geometry_native.get(&self.dir),
            ProductType::Latlon => self.geometry_latlon.get(&self.dir),
        }
    }

    /// The native variable lookup list of 10.3 step 1 (`variable_metadata` then the native
    /// geometry metadata when present): the first entry called `name`.
    pub fn native_variable_entry(
        &self,
        name: &str,
    ) -> Result<Option<&MetadataEntry>, CatalogError> {
        let found = self.variable_metadata()?.find(name);
        Ok(found.or_else(|| self.geometry_native.loaded().and_then(|g| g.find(name))))
    }

    /// `*coordinate_metadata_for_{native,latlon}_datasets.json` (V4r5:
    /// `spatial_coordinate_metadata_*`).
    pub fn coordinate_metadata(&self, product: ProductType) -> Result<&MetadataList, CatalogError> {
        match product {
            ProductType::Native => self.coordinates_native.get(&self.dir),
            ProductType::Latlon => self.coordinates_latlon.get(&self.dir),
        }
    }

    /// `*coordinate_metadata_for_1D_datasets.json` (optional file).
    pub fn coordinate_metadata_1d(&self) -> Result<&MetadataList, CatalogError> {
        self.coordinates_1d.get(&self.dir)
    }

    /// `time_coordinate_metadata.json`.
    pub fn time_coordinate_metadata(&self) -> Result<&MetadataList, CatalogError> {
        self.time_coordinates.get(&self.dir)
    }

    /// A global metadata file.
    pub fn global_metadata(&self, scope: GlobalScope) -> Result<&[GlobalEntry], CatalogError> {
        let component = match scope {
            GlobalScope::All => &self.global_all,
            GlobalScope::Native => &self.global_native,
            GlobalScope::Latlon => &self.global_latlon,
        };
        Ok(component.get(&self.dir)?)
    }

    /// `*global_metadata_for_1D_datasets.json` (optional file).
    pub fn global_metadata_1d(&self) -> Result<&[GlobalEntry], CatalogError> {
        Ok(self.global_1d.get(&self.dir)?)
    }

    /// The PO.DAAC table.
    pub fn podaac(&self) -> Result<&PodaacTable, CatalogError> {
        self.podaac.get(&self.dir)
    }

    /// Every entry of `*dataset_summary.json` (optional file).
    pub fn dataset_summaries(&self) -> Result<&[DatasetSummary], CatalogError> {
        Ok(self.dataset_summary.get(&self.dir)?)
    }

    /// The dataset summary with key `id` (e.g. `ECL5M-SSH44`, see [`PodaacIds::summary_key`]).
    pub fn dataset_summary(&self, id: &str) -> Result<Option<&DatasetSummary>, CatalogError> {
        Ok(self.dataset_summaries()?.iter().find(|s| s.id == id))
    }

    /// The diagnostics log and its path, when the directory has one.
    pub fn diagnostics(&self) -> Option<(&Path, &DiagnosticsTable)> {
        self.diagnostics
            .loaded()
            .map(|(path, table)| (path.as_path(), table))
    }
}
