//! Names and paths: MDS input discovery names (`docs/edp-compatibility.md` 4.1-4.3), granule file names
//! (`docs/naming.md` 1) and the granule output path (`docs/edp-compatibility.md` 4.6).

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::time::{Frequency, Period};
use crate::vocab::ProductType;

/// A granule file name that does not follow `docs/naming.md` 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid granule file name '{name}': {reason} (expected \
     <FILENAME>_<mon_mean|day_mean|snap>_<date>_ECCO_<version>_<native|latlon>_<label>.nc)"
)]
pub struct GranuleNameError {
    /// The rejected name.
    pub name: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The period token of an MDS input file name (`<VAR>_<token>.<ts10>.data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodToken {
    /// `mon_mean`: monthly means (AVG_MON).
    MonMean,
    /// `day_mean`: daily means (AVG_DAY).
    DayMean,
    /// `day_inst`: daily instants written by the V4r4 namelists (SNAP).
    DayInst,
    /// `mon_inst`: monthly instants written by the V4r4 namelists (SNAP).
    MonInst,
    /// `day_snap`: EDP Gen C spelling of daily instants (SNAP).
    DaySnap,
    /// `mon_snap`: the only SNAP token EDP Gen C searches (SNAP).
    MonSnap,
    /// `snap`: the "future" EDP spelling (SNAP).
    Snap,
    /// A time-invariant field (`TI`): `<VAR>.<data|meta>` without period token or step, the
    /// way MITgcm writes its grid files (`docs/time-invariant.md` 2). Its step is 0.
    TimeInvariant,
}

impl PeriodToken {
    /// Every token of the time-varying inputs; the longer `*_snap` spellings come before
    /// `snap` so that a file-name suffix is matched by its longest token.
    pub const ALL: [PeriodToken; 7] = [
        PeriodToken::MonMean,
        PeriodToken::DayMean,
        PeriodToken::DayInst,
        PeriodToken::MonInst,
        PeriodToken::DaySnap,
        PeriodToken::MonSnap,
        PeriodToken::Snap,
    ];

    /// The token as it appears in file names (`time_invariant`, which no file name carries,
    /// for the time-invariant inputs).
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodToken::MonMean => "mon_mean",
            PeriodToken::DayMean => "day_mean",
            PeriodToken::DayInst => "day_inst",
            PeriodToken::MonInst => "mon_inst",
            PeriodToken::DaySnap => "day_snap",
            PeriodToken::MonSnap => "mon_snap",
            PeriodToken::Snap => "snap",
            PeriodToken::TimeInvariant => "time_invariant",
        }
    }

    /// The job frequency whose inputs carry this token.
    pub fn frequency(self) -> Frequency {
        match self {
            PeriodToken::MonMean => Frequency::AvgMon,
            PeriodToken::DayMean => Frequency::AvgDay,
            PeriodToken::TimeInvariant => Frequency::TimeInvariant,
            _ => Frequency::Snap,
        }
    }

    /// Parses the exact token spelling.
    pub fn parse(s: &str) -> Option<PeriodToken> {
        PeriodToken::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for PeriodToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which instantaneous inputs a SNAP job reads (`docs/edp-compatibility.md` 4.2): daily (`day_inst`,
/// `day_snap`, `snap`; the V4r4 default) or monthly (`mon_inst`, `mon_snap`, `snap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapInstants {
    /// Daily instants (V4r4 `day_inst`, 00:00 every day).
    #[default]
    Daily,
    /// Monthly instants (V4r4 `mon_inst`; EDP Gen C `mon_snap`).
    Monthly,
}

/// The input directory of a frequency below the source root: `diags_monthly`,
/// `diags_daily`, `diags_inst` or `time_invariant`.
pub fn input_freq_dir(frequency: Frequency) -> &'static str {
    match frequency {
        Frequency::AvgMon => "diags_monthly",
        Frequency::AvgDay => "diags_daily",
        Frequency::Snap => "diags_inst",
        Frequency::TimeInvariant => TIME_INVARIANT_DIR,
    }
}

/// The input directory of the time-invariant fields below the source root, and the period
/// directory of time-invariant granules below `<dest>/<version>/<product>/`.
pub const TIME_INVARIANT_DIR: &str = "time_invariant";

/// The input period tokens accepted for a frequency, in order of preference.
pub fn input_period_tokens(frequency: Frequency, snap: SnapInstants) -> &'static [PeriodToken] {
    match (frequency, snap) {
        (Frequency::AvgMon, _) => &[PeriodToken::MonMean],
        (Frequency::AvgDay, _) => &[PeriodToken::DayMean],
        (Frequency::Snap, SnapInstants::Daily) => &[
            PeriodToken::DayInst,
            PeriodToken::DaySnap,
            PeriodToken::Snap,
        ],
        (Frequency::Snap, SnapInstants::Monthly) => &[
            PeriodToken::MonInst,
            PeriodToken::MonSnap,
            PeriodToken::Snap,
        ],
        (Frequency::TimeInvariant, _) => &[PeriodToken::TimeInvariant],
    }
}

/// The output period of a frequency: directory name and file-name token (`mon_mean`,
/// `day_mean`, `snap`; time-invariant granules have the directory `time_invariant` and no
/// token in their name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputPeriod {
    /// `mon_mean`.
    MonMean,
    /// `day_mean`.
    DayMean,
    /// `snap` (whatever the input token was).
    Snap,
    /// `time_invariant`: one granule, no time axis.
    TimeInvariant,
}

impl OutputPeriod {
    /// The output period of a job frequency.
    pub fn of(frequency: Frequency) -> OutputPeriod {
        match frequency {
            Frequency::AvgMon => OutputPeriod::MonMean,
            Frequency::AvgDay => OutputPeriod::DayMean,
            Frequency::Snap => OutputPeriod::Snap,
            Frequency::TimeInvariant => OutputPeriod::TimeInvariant,
        }
    }

    /// `mon_mean`, `day_mean`, `snap` or `time_invariant`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputPeriod::MonMean => "mon_mean",
            OutputPeriod::DayMean => "day_mean",
            OutputPeriod::Snap => "snap",
            OutputPeriod::TimeInvariant => TIME_INVARIANT_DIR,
        }
    }

    /// The job frequency of this output period.
    pub fn frequency(self) -> Frequency {
        match self {
            OutputPeriod::MonMean => Frequency::AvgMon,
            OutputPeriod::DayMean => Frequency::AvgDay,
            OutputPeriod::Snap => Frequency::Snap,
            OutputPeriod::TimeInvariant => Frequency::TimeInvariant,
        }
    }
}

impl fmt::Display for OutputPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `.data` or `.meta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MdsFileKind {
    /// The binary array.
    Data,
    /// The text header.
    Meta,
}

impl MdsFileKind {
    /// `data` or `meta` (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            MdsFileKind::Data => "data",
            MdsFileKind::Meta => "meta",
        }
    }
}

/// The parts of an MDS diagnostic file name `<VAR>_<period>.<ts10>.<data|meta>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MdsFileName {
    /// Diagnostic name (may contain `_`, e.g. `ADVx_TH`).
    pub variable: String,
    /// Period token.
    pub period: PeriodToken,
    /// Model time step (the 10-digit number).
    pub step: u64,
    /// `.data` or `.meta`.
    pub kind: MdsFileKind,
}

/// Splits `<stem>.<ts10>.<data|meta>` into stem, step and kind.
fn split_step_and_kind(name: &str) -> Option<(&str, u64, MdsFileKind)> {
    let (rest, ext) = name.rsplit_once('.')?;
    let kind = match ext {
        "data" => MdsFileKind::Data,
        "meta" => MdsFileKind::Meta,
        _ => return None,
    };
    let (stem, digits) = rest.rsplit_once('.')?;
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((stem, digits.parse().ok()?, kind))
}

impl MdsFileName {
    /// Parses a file name (no directory) with any known period token, or `None` when it is
    /// not an MDS diagnostic file name. The period token is found at the end of the stem
    /// (longest token first), never by splitting on the first underscore.
    pub fn parse(name: &str) -> Option<MdsFileName> {
        let (stem, step, kind) = split_step_and_kind(name)?;
        PeriodToken::ALL.into_iter().find_map(|period| {
            let variable = stem.strip_suffix(period.as_str())?.strip_suffix('_')?;
            (!variable.is_empty()).then(|| MdsFileName {
                variable: variable.to_string(),
                period,
                step,
                kind,
            })
        })
    }

    /// Parses the name of a time-invariant input, `<VAR>.<data|meta>` (step 0), or `None`.
    /// Only names in a time-invariant input directory are read this way
    /// ([`MdsFileName::parse_at`]): anywhere else such a name is not an input.
    pub fn parse_time_invariant(name: &str) -> Option<MdsFileName> {
        let (variable, ext) = name.rsplit_once('.')?;
        let kind = match ext {
            "data" => MdsFileKind::Data,
            "meta" => MdsFileKind::Meta,
            _ => return None,
        };
        let valid = !variable.is_empty()
            && variable
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        valid.then(|| MdsFileName {
            variable: variable.to_string(),
            period: PeriodToken::TimeInvariant,
            step: 0,
            kind,
        })
    }

    /// Parses the file `name` in directory `dir` (any `/`-separated path): a diagnostic file
    /// name anywhere, or a time-invariant input `<VAR>.<data|meta>` in a directory
    /// `.../time_invariant/<VAR>` (`docs/time-invariant.md` 2).
    pub fn parse_at(dir: &str, name: &str) -> Option<MdsFileName> {
        if let Some(parsed) = MdsFileName::parse(name) {
            return Some(parsed);
        }
        let parsed = MdsFileName::parse_time_invariant(name)?;
        let mut parents = dir.trim_end_matches('/').rsplit('/');
        let in_place = parents.next() == Some(parsed.variable.as_str())
            && parents.next() == Some(TIME_INVARIANT_DIR);
        in_place.then_some(parsed)
    }

    /// [`MdsFileName::parse_at`] of a location (`/`-separated path or `s3://` URI).
    pub fn parse_location(location: &str) -> Option<MdsFileName> {
        let (dir, name) = location.rsplit_once('/').unwrap_or(("", location));
        MdsFileName::parse_at(dir, name)
    }

    /// `<VAR>_<period>.<ts10>` (the pairing key of `.data` and `.meta`); `<VAR>` for a
    /// time-invariant input.
    pub fn stem(&self) -> String {
        if self.period == PeriodToken::TimeInvariant {
            return self.variable.clone();
        }
        format!("{}_{}.{:010}", self.variable, self.period, self.step)
    }

    /// The full file name.
    pub fn file_name(&self) -> String {
        mds_file_name(&self.variable, self.period, self.step, self.kind)
    }
}

/// `<VAR>_<period>.<ts10>.<ext>`; `<VAR>.<ext>` for a time-invariant input.
pub fn mds_file_name(variable: &str, period: PeriodToken, step: u64, kind: MdsFileKind) -> String {
    if period == PeriodToken::TimeInvariant {
        return format!("{variable}.{}", kind.extension());
    }
    format!("{variable}_{period}.{step:010}.{}", kind.extension())
}

/// `<VAR>_<period>`: the per-variable input directory and file prefix; `<VAR>` for a
/// time-invariant input.
pub fn mds_prefix(variable: &str, period: PeriodToken) -> String {
    if period == PeriodToken::TimeInvariant {
        return variable.to_string();
    }
    format!("{variable}_{period}")
}

/// `<freq_dir>/<VAR>_<period>` (`time_invariant/<VAR>`): the key prefix below the source
/// root under which EDP's layout keeps the inputs of a variable and period.
pub fn input_search_prefix(variable: &str, period: PeriodToken) -> String {
    format!(
        "{}/{}",
        input_freq_dir(period.frequency()),
        mds_prefix(variable, period)
    )
}

/// Matches a file name exactly against `^<VAR>_<period>\.(\d{10})\.(data|meta)$` and returns
/// the step and kind (`docs/edp-compatibility.md` 4.3; EDP's `.*` prefix match is not reproduced).
pub fn match_mds_file_name(
    name: &str,
    variable: &str,
    period: PeriodToken,
) -> Option<(u64, MdsFileKind)> {
    if period == PeriodToken::TimeInvariant {
        let parsed = MdsFileName::parse_time_invariant(name)?;
        return (parsed.variable == variable).then_some((0, parsed.kind));
    }
    let (stem, step, kind) = split_step_and_kind(name)?;
    let token = stem.strip_prefix(variable)?.strip_prefix('_')?;
    (token == period.as_str()).then_some((step, kind))
}

/// The granule file name (`docs/naming.md` 1):
/// `<FILENAME>_<mon_mean|day_mean|snap>_<date>_ECCO_<version>_<native|latlon>_<label>.nc`.
pub fn granule_file_name(
    grouping_filename: &str,
    period: &Period,
    ecco_version: &str,
    product: ProductType,
    grid_label: &str,
) -> String {
    format!(
        "{grouping_filename}_{}_{}_ECCO_{ecco_version}_{product}_{grid_label}.nc",
        OutputPeriod::of(period.frequency),
        period.file_date()
    )
}

/// The file name of a time-invariant granule (`docs/naming.md` 1):
/// `<FILENAME>_ECCO_<version>_<native|latlon>_<label>.nc`, the one file of its dataset.
pub fn time_invariant_file_name(
    grouping_filename: &str,
    ecco_version: &str,
    product: ProductType,
    grid_label: &str,
) -> String {
    format!("{grouping_filename}_ECCO_{ecco_version}_{product}_{grid_label}.nc")
}

/// A granule file name split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GranuleName {
    /// Grouping `filename` (e.g. `SEA_SURFACE_HEIGHT`).
    pub prefix: String,
    /// Output period.
    pub period: OutputPeriod,
    /// The date part as written (`1992-01`, `1992-01-01`, `1992-01-02T000000`; empty for a
    /// time-invariant granule).
    pub date: String,
    /// ECCO version (e.g. `V4r4`).
    pub ecco_version: String,
    /// Product type.
    pub product: ProductType,
    /// Grid label (e.g. `llc0090`, `0p50deg`).
    pub grid_label: String,
}

impl GranuleName {
    /// Parses a granule file name (no directory), validating the date format of its period.
    /// A name without period and date is a time-invariant granule when its prefix is a
    /// grouping file name (upper-case letters, digits and `_`).
    pub fn parse(name: &str) -> Result<GranuleName, GranuleNameError> {
        let fail = |reason: &str| GranuleNameError {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        let body = name
            .strip_suffix(".nc")
            .ok_or_else(|| fail("does not end with '.nc'"))?;
        let (left, right) = body
            .rsplit_once("_ECCO_")
            .ok_or_else(|| fail("no '_ECCO_' separator"))?;
        let mut parts = right.splitn(3, '_');
        let (Some(ecco_version), Some(product), Some(grid_label)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(fail(
                "expected <version>_<native|latlon>_<label> after '_ECCO_'",
            ));
        };
        if ecco_version.is_empty() || grid_label.is_empty() {
            return Err(fail("empty version or grid label"));
        }
        let product = match product {
            "native" => ProductType::Native,
            "latlon" => ProductType::Latlon,
            _ => return Err(fail("product type is not 'native' or 'latlon'")),
        };
        let time_invariant = |prefix: &str| GranuleName {
            prefix: prefix.to_string(),
            period: OutputPeriod::TimeInvariant,
            date: String::new(),
            ecco_version: ecco_version.to_string(),
            product,
            grid_label: grid_label.to_string(),
        };
        let grouping_like = |prefix: &str| {
            prefix.starts_with(|c: char| c.is_ascii_uppercase())
                && prefix
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        };
        let Some((head, date)) = left.rsplit_once('_') else {
            return if grouping_like(left) {
                Ok(time_invariant(left))
            } else {
                Err(fail("no date part"))
            };
        };
        let has_period = [
            OutputPeriod::MonMean,
            OutputPeriod::DayMean,
            OutputPeriod::Snap,
        ]
        .iter()
        .any(|p| head.ends_with(&format!("_{p}")));
        if !has_period && grouping_like(left) {
            return Ok(time_invariant(left));
        }
        let (prefix, period) = [
            OutputPeriod::MonMean,
            OutputPeriod::DayMean,
            OutputPeriod::Snap,
        ]
        .into_iter()
        .find_map(|p| {
            let prefix = head.strip_suffix(p.as_str())?.strip_suffix('_')?;
            (!prefix.is_empty()).then_some((prefix, p))
        })
        .ok_or_else(|| fail("no '_mon_mean', '_day_mean' or '_snap' period before the date"))?;
        if parse_granule_date(period, date).is_none() {
            return Err(fail(match period {
                OutputPeriod::MonMean => "date of a mon_mean granule must be YYYY-MM",
                OutputPeriod::DayMean => "date of a day_mean granule must be YYYY-MM-DD",
                OutputPeriod::Snap => "date of a snap granule must be YYYY-MM-DDThhmmss",
                OutputPeriod::TimeInvariant => "a time-invariant granule has no date",
            }));
        }
        Ok(GranuleName {
            prefix: prefix.to_string(),
            period,
            date: date.to_string(),
            ecco_version: ecco_version.to_string(),
            product,
            grid_label: grid_label.to_string(),
        })
    }

    /// The date part as a time: the first of the month, midnight of the day, or the instant.
    pub fn date_time(&self) -> Option<NaiveDateTime> {
        parse_granule_date(self.period, &self.date)
    }

    /// PO.DAAC lookup head (`docs/metadata.md` 5): everything up to and including the
    /// period token, e.g. `SEA_SURFACE_HEIGHT_mon_mean`; the prefix alone for a
    /// time-invariant granule.
    pub fn podaac_head(&self) -> String {
        if self.period == OutputPeriod::TimeInvariant {
            return self.prefix.clone();
        }
        format!("{}_{}", self.prefix, self.period)
    }

    /// PO.DAAC lookup tail: the part after `_ECCO_<version>_`, e.g. `native_llc0090.nc`.
    pub fn podaac_tail(&self) -> String {
        format!("{}_{}.nc", self.product, self.grid_label)
    }
}

impl fmt::Display for GranuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.period == OutputPeriod::TimeInvariant {
            return f.write_str(&time_invariant_file_name(
                &self.prefix,
                &self.ecco_version,
                self.product,
                &self.grid_label,
            ));
        }
        write!(
            f,
            "{}_{}_{}_ECCO_{}_{}_{}.nc",
            self.prefix, self.period, self.date, self.ecco_version, self.product, self.grid_label
        )
    }
}

/// Parses the date part of a granule name for its period.
fn parse_granule_date(period: OutputPeriod, date: &str) -> Option<NaiveDateTime> {
    match period {
        OutputPeriod::MonMean => (date.len() == 7)
            .then(|| NaiveDate::parse_from_str(&format!("{date}-01"), "%Y-%m-%d").ok())
            .flatten()
            .and_then(|d| d.and_hms_opt(0, 0, 0)),
        OutputPeriod::DayMean => (date.len() == 10)
            .then(|| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
            .flatten()
            .and_then(|d| d.and_hms_opt(0, 0, 0)),
        OutputPeriod::Snap => (date.len() == 17)
            .then(|| NaiveDateTime::parse_from_str(date, "%Y-%m-%dT%H%M%S").ok())
            .flatten(),
        OutputPeriod::TimeInvariant => None,
    }
}

/// The granule output location (`docs/edp-compatibility.md` 4.6):
/// `join(dest_root, ecco_version, product_type, period_dir, grouping_filename, name)`, with
/// the period directory `time_invariant` for time-invariant granules.
///
/// A plain `/` join that works for local paths and `s3://` URIs alike, like Python's
/// `os.path.join` on POSIX for these inputs: a `./` prefix of `dest_root` is kept, a trailing
/// `/` of `dest_root` is not doubled, and an empty `dest_root` gives a relative path.
pub fn granule_path(
    dest_root: &str,
    ecco_version: &str,
    product: ProductType,
    frequency: Frequency,
    grouping_filename: &str,
    name: &str,
) -> String {
    let tail = [
        ecco_version,
        product.as_str(),
        OutputPeriod::of(frequency).as_str(),
        grouping_filename,
        name,
    ]
    .join("/");
    if dest_root.is_empty() {
        tail
    } else if dest_root.ends_with('/') {
        format!("{dest_root}{tail}")
    } else {
        format!("{dest_root}/{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_tokens_round_trip() {
        for t in PeriodToken::ALL {
            assert_eq!(PeriodToken::parse(t.as_str()), Some(t));
        }
        assert_eq!(PeriodToken::parse("year_mean"), None);
    }

    #[test]
    fn mds_file_name_round_trips() {
        let n = MdsFileName::parse("ADVx_TH_mon_mean.0000000732.meta").unwrap();
        assert_eq!(n.file_name(), "ADVx_TH_mon_mean.0000000732.meta");
        assert_eq!(n.stem(), "ADVx_TH_mon_mean.0000000732");
        assert_eq!(
            mds_prefix("ADVx_TH", PeriodToken::MonMean),
            "ADVx_TH_mon_mean"
        );
    }

    #[test]
    fn time_invariant_inputs_are_step_less_and_only_read_in_their_directory() {
        let ti = PeriodToken::TimeInvariant;
        assert_eq!(
            mds_file_name("DIFFKR", ti, 0, MdsFileKind::Data),
            "DIFFKR.data"
        );
        assert_eq!(mds_prefix("DIFFKR", ti), "DIFFKR");
        let parsed = MdsFileName::parse_at("run/time_invariant/DIFFKR", "DIFFKR.meta").unwrap();
        assert_eq!((parsed.period, parsed.step), (ti, 0));
        assert_eq!(parsed.file_name(), "DIFFKR.meta");
        assert_eq!(parsed.stem(), "DIFFKR");
        // The same name elsewhere (a grid directory's XC.data) is not an input.
        assert_eq!(MdsFileName::parse_at("grid", "XC.data"), None);
        assert_eq!(
            MdsFileName::parse_at("time_invariant/KAPGM", "DIFFKR.data"),
            None
        );
        assert_eq!(
            MdsFileName::parse_at("time_invariant/A B", "A B.data"),
            None
        );
        assert_eq!(
            match_mds_file_name("DIFFKR.data", "DIFFKR", ti),
            Some((0, MdsFileKind::Data))
        );
        assert_eq!(match_mds_file_name("KAPGM.data", "DIFFKR", ti), None);
        // Diagnostics parse anywhere, as before.
        let diag = MdsFileName::parse_at("x", "SSH_mon_mean.0000000732.data").unwrap();
        assert_eq!(diag.period, PeriodToken::MonMean);
    }

    #[test]
    fn time_invariant_granule_names_parse_and_print_without_period() {
        let name = "OCEAN_3D_MIXING_COEFFS_ECCO_V4r4_native_llc0090.nc";
        let parsed = GranuleName::parse(name).unwrap();
        assert_eq!(parsed.period, OutputPeriod::TimeInvariant);
        assert_eq!(parsed.prefix, "OCEAN_3D_MIXING_COEFFS");
        assert_eq!(parsed.date, "");
        assert_eq!(parsed.date_time(), None);
        assert_eq!(parsed.to_string(), name);
        assert_eq!(parsed.podaac_head(), "OCEAN_3D_MIXING_COEFFS");
        assert_eq!(
            time_invariant_file_name("GRID_GEOMETRY", "V4r5", ProductType::Latlon, "0p50deg"),
            "GRID_GEOMETRY_ECCO_V4r5_latlon_0p50deg.nc"
        );
        assert_eq!(
            granule_path(
                "out",
                "V4r4",
                ProductType::Native,
                Frequency::TimeInvariant,
                "G",
                name
            ),
            format!("out/V4r4/native/time_invariant/G/{name}")
        );
        // A time-varying name with a bad date is still an error, not a time-invariant name.
        for bad in [
            "SEA_SURFACE_HEIGHT_mon_mean_1992-1_ECCO_V4r4_native_llc0090.nc",
            "SEA_SURFACE_HEIGHT_mon_mean_ECCO_V4r4_native_llc0090.nc",
            "sea_surface_ECCO_V4r4_native_llc0090.nc",
            "SSH_1992-01_ECCO_V4r4_native_llc0090.nc",
        ] {
            assert!(GranuleName::parse(bad).is_err(), "{bad}");
        }
        let monthly =
            GranuleName::parse("SEA_SURFACE_HEIGHT_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc")
                .unwrap();
        assert_eq!(monthly.period, OutputPeriod::MonMean);
    }
}
