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
}

impl PeriodToken {
    /// Every token; the longer `*_snap` spellings come before `snap` so that a file-name
    /// suffix is matched by its longest token.
    pub const ALL: [PeriodToken; 7] = [
        PeriodToken::MonMean,
        PeriodToken::DayMean,
        PeriodToken::DayInst,
        PeriodToken::MonInst,
        PeriodToken::DaySnap,
        PeriodToken::MonSnap,
        PeriodToken::Snap,
    ];

    /// The token as it appears in file names.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodToken::MonMean => "mon_mean",
            PeriodToken::DayMean => "day_mean",
            PeriodToken::DayInst => "day_inst",
            PeriodToken::MonInst => "mon_inst",
            PeriodToken::DaySnap => "day_snap",
            PeriodToken::MonSnap => "mon_snap",
            PeriodToken::Snap => "snap",
        }
    }

    /// The job frequency whose inputs carry this token.
    pub fn frequency(self) -> Frequency {
        match self {
            PeriodToken::MonMean => Frequency::AvgMon,
            PeriodToken::DayMean => Frequency::AvgDay,
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
/// `diags_daily` or `diags_inst`.
pub fn input_freq_dir(frequency: Frequency) -> &'static str {
    match frequency {
        Frequency::AvgMon => "diags_monthly",
        Frequency::AvgDay => "diags_daily",
        Frequency::Snap => "diags_inst",
    }
}

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
    }
}

/// The output period of a frequency: directory name and file-name token (`mon_mean`,
/// `day_mean`, `snap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputPeriod {
    /// `mon_mean`.
    MonMean,
    /// `day_mean`.
    DayMean,
    /// `snap` (whatever the input token was).
    Snap,
}

impl OutputPeriod {
    /// The output period of a job frequency.
    pub fn of(frequency: Frequency) -> OutputPeriod {
        match frequency {
            Frequency::AvgMon => OutputPeriod::MonMean,
            Frequency::AvgDay => OutputPeriod::DayMean,
            Frequency::Snap => OutputPeriod::Snap,
        }
    }

    /// `mon_mean`, `day_mean` or `snap`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputPeriod::MonMean => "mon_mean",
            OutputPeriod::DayMean => "day_mean",
            OutputPeriod::Snap => "snap",
        }
    }

    /// The job frequency of this output period.
    pub fn frequency(self) -> Frequency {
        match self {
            OutputPeriod::MonMean => Frequency::AvgMon,
            OutputPeriod::DayMean => Frequency::AvgDay,
            OutputPeriod::Snap => Frequency::Snap,
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

    /// `<VAR>_<period>.<ts10>` (the pairing key of `.data` and `.meta`).
    pub fn stem(&self) -> String {
        format!("{}_{}.{:010}", self.variable, self.period, self.step)
    }

    /// The full file name.
    pub fn file_name(&self) -> String {
        mds_file_name(&self.variable, self.period, self.step, self.kind)
    }
}

/// `<VAR>_<period>.<ts10>.<ext>`.
pub fn mds_file_name(variable: &str, period: PeriodToken, step: u64, kind: MdsFileKind) -> String {
    format!("{variable}_{period}.{step:010}.{}", kind.extension())
}

/// `<VAR>_<period>`: the per-variable input directory and file prefix.
pub fn mds_prefix(variable: &str, period: PeriodToken) -> String {
    format!("{variable}_{period}")
}

/// Matches a file name exactly against `^<VAR>_<period>\.(\d{10})\.(data|meta)$` and returns
/// the step and kind (`docs/edp-compatibility.md` 4.3; EDP's `.*` prefix match is not reproduced).
pub fn match_mds_file_name(
    name: &str,
    variable: &str,
    period: PeriodToken,
) -> Option<(u64, MdsFileKind)> {
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

/// A granule file name split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GranuleName {
    /// Grouping `filename` (e.g. `SEA_SURFACE_HEIGHT`).
    pub prefix: String,
    /// Output period.
    pub period: OutputPeriod,
    /// The date part as written (`1992-01`, `1992-01-01`, `1992-01-02T000000`).
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
        let (head, date) = left.rsplit_once('_').ok_or_else(|| fail("no date part"))?;
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
    /// period token, e.g. `SEA_SURFACE_HEIGHT_mon_mean`.
    pub fn podaac_head(&self) -> String {
        format!("{}_{}", self.prefix, self.period)
    }

    /// PO.DAAC lookup tail: the part after `_ECCO_<version>_`, e.g. `native_llc0090.nc`.
    pub fn podaac_tail(&self) -> String {
        format!("{}_{}.nc", self.product, self.grid_label)
    }
}

impl fmt::Display for GranuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
    }
}

/// The granule output location (`docs/edp-compatibility.md` 4.6):
/// `join(dest_root, ecco_version, product_type, period_dir, grouping_filename, name)`.
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
}
