//! Where each diagnostic lives on the C grid (`docs/mds-llc.md` 2): decoding of MITgcm's
//! `available_diagnostics.log` and a built-in table of the V4r4 grouping variables.
//!
//! The variable metadata JSON is **not** a source of staggering: its `grid_location` and
//! `grid_dimension` are wrong for several variables (2.3). The catalog cross-checks them
//! against these sources and reports the corrections.

use std::collections::HashMap;
use std::fmt;

use crate::vocab::{Dimension, ProductType};

/// Horizontal location of a variable (code character 2 of the diagnostics log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Horizontal {
    /// Cell centre `(j, i)` (`M`).
    Centre,
    /// West face `(j, i_g)` (`U`).
    UFace,
    /// South face `(j_g, i)` (`V`).
    VFace,
    /// South-west corner `(j_g, i_g)` (`Z`).
    Corner,
}

impl Horizontal {
    /// The metadata spelling of `grid_location`: `c`, `u`, `v`, `z`.
    pub fn letter(self) -> &'static str {
        match self {
            Horizontal::Centre => "c",
            Horizontal::UFace => "u",
            Horizontal::VFace => "v",
            Horizontal::Corner => "z",
        }
    }

    /// Native dimension names `(y, x)`: `(j, i)`, `(j, i_g)`, `(j_g, i)` or `(j_g, i_g)`.
    pub fn native_dims(self) -> (&'static str, &'static str) {
        match self {
            Horizontal::Centre => ("j", "i"),
            Horizontal::UFace => ("j", "i_g"),
            Horizontal::VFace => ("j_g", "i"),
            Horizontal::Corner => ("j_g", "i_g"),
        }
    }
}

/// Vertical location of a variable (code characters 9 and 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vertical {
    /// Single level: a 2-D field.
    Surface,
    /// Cell centres `k` (`MR`).
    K,
    /// Top faces `k_l` (`LR`).
    KL,
    /// Bottom faces `k_u` (`UR`).
    KU,
}

impl Vertical {
    /// The native vertical dimension (`k`, `k_l`, `k_u`), `None` for 2-D fields.
    pub fn native_dim(self) -> Option<&'static str> {
        match self {
            Vertical::Surface => None,
            Vertical::K => Some("k"),
            Vertical::KL => Some("k_l"),
            Vertical::KU => Some("k_u"),
        }
    }
}

/// Horizontal and vertical location of a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Staggering {
    /// Horizontal location.
    pub horizontal: Horizontal,
    /// Vertical location.
    pub vertical: Vertical,
}

impl Staggering {
    /// A location.
    pub const fn new(horizontal: Horizontal, vertical: Vertical) -> Staggering {
        Staggering {
            horizontal,
            vertical,
        }
    }

    /// True for fields with a vertical axis.
    pub fn is_3d(self) -> bool {
        self.vertical != Vertical::Surface
    }

    /// `2D` or `3D`.
    pub fn dimension(self) -> Dimension {
        if self.is_3d() {
            Dimension::ThreeD
        } else {
            Dimension::TwoD
        }
    }

    /// Dimensions of the variable in a native granule (`docs/netcdf-layout.md` 3):
    /// `(time, tile, j|j_g, i|i_g)` or `(time, k|k_l|k_u, tile, j|j_g, i|i_g)`.
    pub fn native_dims(self) -> Vec<&'static str> {
        let (y, x) = self.horizontal.native_dims();
        let mut dims = vec!["time"];
        dims.extend(self.vertical.native_dim());
        dims.extend(["tile", y, x]);
        dims
    }
}

impl fmt::Display for Staggering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, x) = self.horizontal.native_dims();
        match self.vertical.native_dim() {
            Some(z) => write!(f, "({z}, {y}, {x})"),
            None => write!(f, "({y}, {x})"),
        }
    }
}

/// Dimensions of a variable in a lat-lon granule (`docs/netcdf-layout.md` 4):
/// `(time, latitude, longitude)` or `(time, Z, latitude, longitude)`. Every input location,
/// including `k_l` fields such as WVEL, is mapped to the tracer levels `Z` (7.6).
pub fn latlon_dims(dimension: Dimension) -> Vec<&'static str> {
    match dimension {
        Dimension::TwoD => vec!["time", "latitude", "longitude"],
        Dimension::ThreeD => vec!["time", "Z", "latitude", "longitude"],
    }
}

/// Dimensions of a variable of `product` with location `staggering`.
pub fn variable_dims(product: ProductType, staggering: Staggering) -> Vec<&'static str> {
    match product {
        ProductType::Native => staggering.native_dims(),
        ProductType::Latlon => latlon_dims(staggering.dimension()),
    }
}

use Horizontal::{Centre as C, UFace as U, VFace as V};
use Vertical::{K, KL, Surface as S2};

/// The V4r4 grouping variables and their locations, as listed in `docs/mds-llc.md` 2.2
/// (derived there from the V4r4 `available_diagnostics.log`). DIFFKR, KAPGM and KAPREDI are
/// time-invariant mixing coefficients that are not in the log; they live at cell centres on
/// the `k` levels.
const BUILTIN: &[(&str, Horizontal, Vertical)] = &[
    // Centre, 2-D. EXFuwind/EXFvwind/EXFtaux/EXFtauy are centre fields (code UM/VM) although
    // the variable metadata says u/v.
    ("SSH", C, S2),
    ("SSHIBC", C, S2),
    ("SSHNOIBC", C, S2),
    ("ETAN", C, S2),
    ("OBP", C, S2),
    ("OBPGMAP", C, S2),
    ("PHIBOT", C, S2),
    ("EXFpreci", C, S2),
    ("EXFevap", C, S2),
    ("EXFroff", C, S2),
    ("SIsnPrcp", C, S2),
    ("EXFempmr", C, S2),
    ("oceFWflx", C, S2),
    ("SIatmFW", C, S2),
    ("SFLUX", C, S2),
    ("SIacSubl", C, S2),
    ("SIrsSubl", C, S2),
    ("SIfwThru", C, S2),
    ("EXFhl", C, S2),
    ("EXFhs", C, S2),
    ("EXFlwdn", C, S2),
    ("EXFswdn", C, S2),
    ("EXFqnet", C, S2),
    ("oceQnet", C, S2),
    ("SIatmQnt", C, S2),
    ("TFLUX", C, S2),
    ("EXFswnet", C, S2),
    ("EXFlwnet", C, S2),
    ("oceQsw", C, S2),
    ("SIaaflux", C, S2),
    ("EXFatemp", C, S2),
    ("EXFaqh", C, S2),
    ("EXFuwind", C, S2),
    ("EXFvwind", C, S2),
    ("EXFwspee", C, S2),
    ("EXFpress", C, S2),
    ("MXLDEPTH", C, S2),
    ("EXFtaux", C, S2),
    ("EXFtauy", C, S2),
    ("SIarea", C, S2),
    ("SIheff", C, S2),
    ("SIhsnow", C, S2),
    ("sIceLoad", C, S2),
    ("oceSPflx", C, S2),
    ("oceSPDep", C, S2),
    // u faces, 2-D.
    ("oceTAUX", U, S2),
    ("SIuice", U, S2),
    ("ADVxHEFF", U, S2),
    ("ADVxSNOW", U, S2),
    ("DFxESNOW", U, S2),
    ("DFxEHEFF", U, S2),
    // v faces, 2-D.
    ("oceTAUY", V, S2),
    ("SIvice", V, S2),
    ("ADVyHEFF", V, S2),
    ("ADVySNOW", V, S2),
    ("DFyEHEFF", V, S2),
    ("DFyESNOW", V, S2),
    // Centre, k.
    ("THETA", C, K),
    ("SALT", C, K),
    ("RHOAnoma", C, K),
    ("PHIHYD", C, K),
    ("PHIHYDcR", C, K),
    ("oceSPtnd", C, K),
    // Centre, k_l (top faces).
    ("WVELMASS", C, KL),
    ("WVELSTAR", C, KL),
    ("ADVr_TH", C, KL),
    ("DFrE_TH", C, KL),
    ("DFrI_TH", C, KL),
    ("ADVr_SLT", C, KL),
    ("DFrE_SLT", C, KL),
    ("DFrI_SLT", C, KL),
    ("DRHODR", C, KL),
    // u faces, k.
    ("UVEL", U, K),
    ("UVELSTAR", U, K),
    ("UVELMASS", U, K),
    ("ADVx_TH", U, K),
    ("DFxE_TH", U, K),
    ("ADVx_SLT", U, K),
    ("DFxE_SLT", U, K),
    ("Um_dPHdx", U, K),
    // v faces, k.
    ("VVEL", V, K),
    ("VVELSTAR", V, K),
    ("VVELMASS", V, K),
    ("ADVy_TH", V, K),
    ("DFyE_TH", V, K),
    ("ADVy_SLT", V, K),
    ("DFyE_SLT", V, K),
    ("Vm_dPHdy", V, K),
    // Bolus streamfunction on top faces.
    ("GM_PsiX", U, KL),
    ("GM_PsiY", V, KL),
    // Time-invariant mixing coefficients (grouping OCEAN_3D_MIXING_COEFFS, frequency TI):
    // not in the diagnostics log.
    ("DIFFKR", C, K),
    ("KAPGM", C, K),
    ("KAPREDI", C, K),
];

/// The location of a V4r4 grouping variable from the built-in table of `docs/mds-llc.md` 2.2.
pub fn builtin_staggering(name: &str) -> Option<Staggering> {
    BUILTIN
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, h, v)| Staggering::new(h, v))
}

/// Names of every variable in the built-in table.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _, _)| *n)
}

/// A diagnostics-log code that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("diagnostic {name}: cannot decode grid code '{code}' with {levels} levels: {reason}")]
pub struct CodeError {
    /// Diagnostic name.
    pub name: String,
    /// The 10-character code.
    pub code: String,
    /// The `Levs` column.
    pub levels: u32,
    /// Why.
    pub reason: &'static str,
}

/// One row of `available_diagnostics.log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticEntry {
    /// Diagnostic name (`Name` column, trimmed).
    pub name: String,
    /// Number of levels (`Levs` column).
    pub levels: u32,
    /// The 10-character `code` column, as written.
    pub code: String,
    /// The `Units` column, trimmed (empty when absent).
    pub units: String,
    /// The title column (headed `Tile (max=80c)` in the log), trimmed (empty when absent).
    pub title: String,
}

impl DiagnosticEntry {
    /// Decodes the code (xmitgcm `parse_available_diagnostics`): character 2 is the
    /// horizontal location (`M` centre, `U`, `V`, `Z` corner), character 10 `1` means single
    /// level and `R` multi-level with the vertical location in character 9 (`M` `k`,
    /// `L` `k_l`, `U` `k_u`). A code that disagrees with `Levs` is an error.
    pub fn staggering(&self) -> Result<Staggering, CodeError> {
        let fail = |reason| CodeError {
            name: self.name.clone(),
            code: self.code.clone(),
            levels: self.levels,
            reason,
        };
        let chars: Vec<char> = self.code.chars().collect();
        if chars.len() < 10 {
            return Err(fail("shorter than 10 characters"));
        }
        let horizontal = match chars[1] {
            'M' => Horizontal::Centre,
            'U' => Horizontal::UFace,
            'V' => Horizontal::VFace,
            'Z' => Horizontal::Corner,
            _ => return Err(fail("character 2 is not M, U, V or Z")),
        };
        let vertical = match (chars[9], chars[8]) {
            ('1', _) => Vertical::Surface,
            ('R', 'M') => Vertical::K,
            ('R', 'L') => Vertical::KL,
            ('R', 'U') => Vertical::KU,
            ('R', _) => return Err(fail("character 9 is not M, L or U")),
            _ => return Err(fail("character 10 is not 1 or R")),
        };
        match (vertical, self.levels) {
            (Vertical::Surface, 1) => {}
            (Vertical::Surface, _) => return Err(fail("single-level code but Levs > 1")),
            (_, 1) => return Err(fail("multi-level code but Levs = 1")),
            _ => {}
        }
        Ok(Staggering::new(horizontal, vertical))
    }
}

/// A line of the diagnostics log that looks like a table row but cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}: '{text}'")]
pub struct LogLineError {
    /// 1-based line number.
    pub line: usize,
    /// Why.
    pub reason: &'static str,
    /// The line.
    pub text: String,
}

/// The parsed `available_diagnostics.log` (`docs/mds-llc.md` 2.1).
#[derive(Debug, Clone, Default)]
pub struct DiagnosticsTable {
    entries: Vec<DiagnosticEntry>,
    index: HashMap<String, usize>,
}

impl DiagnosticsTable {
    /// Parses the log text. Rows are `Num | Name | Levs | mate | code | units | title`;
    /// header, separator and summary lines are skipped. A duplicated name is an error.
    pub fn parse(text: &str) -> Result<DiagnosticsTable, LogLineError> {
        let mut table = DiagnosticsTable::default();
        for (i, line) in text.lines().enumerate() {
            let cols: Vec<&str> = line.splitn(7, '|').collect();
            if cols.len() < 6 || cols[0].trim().parse::<u32>().is_err() {
                continue;
            }
            let fail = |reason| LogLineError {
                line: i + 1,
                reason,
                text: line.to_string(),
            };
            let name = cols[1].trim();
            if name.is_empty() {
                return Err(fail("empty diagnostic name"));
            }
            let levels = cols[2]
                .trim()
                .parse::<u32>()
                .map_err(|_| fail("Levs is not an integer"))?;
            if table.index.contains_key(name) {
                return Err(fail("diagnostic listed twice"));
            }
            table.index.insert(name.to_string(), table.entries.len());
            table.entries.push(DiagnosticEntry {
                name: name.to_string(),
                levels,
                code: cols[4].to_string(),
                units: cols.get(5).map_or("", |c| c.trim()).to_string(),
                title: cols.get(6).map_or("", |c| c.trim()).to_string(),
            });
        }
        Ok(table)
    }

    /// The row of a diagnostic.
    pub fn get(&self, name: &str) -> Option<&DiagnosticEntry> {
        self.index.get(name).and_then(|&i| self.entries.get(i))
    }

    /// Every row, in log order.
    pub fn entries(&self) -> &[DiagnosticEntry] {
        &self.entries
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no row was found.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, levels: u32, code: &str) -> DiagnosticEntry {
        DiagnosticEntry {
            name: name.into(),
            levels,
            code: code.into(),
            units: String::new(),
            title: String::new(),
        }
    }

    #[test]
    fn codes_decode_as_in_the_format_doc() {
        // The examples of docs/mds-llc.md 2.1.
        let cases = [
            ("THETA", 50, "SMR     MR", Staggering::new(C, K)),
            ("UVEL", 50, "UUR     MR", Staggering::new(U, K)),
            ("WVELMASS", 50, "WM      LR", Staggering::new(C, KL)),
            ("EXFtaux", 1, "UM      U1", Staggering::new(C, S2)),
            ("oceTAUX", 1, "UU      U1", Staggering::new(U, S2)),
            (
                "X",
                50,
                "SZ      UR",
                Staggering::new(Horizontal::Corner, Vertical::KU),
            ),
        ];
        for (name, levels, code, expected) in cases {
            assert_eq!(
                entry(name, levels, code).staggering().unwrap(),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn codes_inconsistent_with_levs_are_rejected() {
        assert!(entry("A", 50, "SM      M1").staggering().is_err());
        assert!(entry("B", 1, "SM      MR").staggering().is_err());
        assert!(entry("C", 50, "SM      ML").staggering().is_err());
        assert!(entry("D", 1, "SQ      M1").staggering().is_err());
        assert!(entry("E", 1, "SM").staggering().is_err());
    }

    #[test]
    fn log_rows_are_parsed_and_headers_skipped() {
        let text = " Total Nb of available Diagnostics: ndiagt=   2\n\
            ------\n  Num  |<-Name->|Levs|  mate |<- code ->|<--  Units   -->|<- Tile\n\
            \x20   29 |THETA   | 50 |       |SMR     MR|degC            |Potential | Temperature\n\
            \x20  188 |EXFtaux |  1 |       |UM      U1|N/m^2           |zonal\n";
        let table = DiagnosticsTable::parse(text).unwrap();
        assert_eq!(table.len(), 2);
        let theta = table.get("THETA").unwrap();
        assert_eq!((theta.levels, theta.code.as_str()), (50, "SMR     MR"));
        assert!(table.get("SALT").is_none());
        let dup = format!("{text}    30 |THETA   | 50 |       |SMR     MR|degC |x\n");
        let err = DiagnosticsTable::parse(&dup).unwrap_err();
        assert_eq!(err.line, 6);
    }

    #[test]
    fn native_dims_follow_the_location() {
        assert_eq!(
            Staggering::new(U, K).native_dims(),
            ["time", "k", "tile", "j", "i_g"]
        );
        assert_eq!(
            Staggering::new(V, S2).native_dims(),
            ["time", "tile", "j_g", "i"]
        );
        assert_eq!(
            variable_dims(ProductType::Latlon, Staggering::new(C, KL)),
            ["time", "Z", "latitude", "longitude"]
        );
        assert_eq!(Staggering::new(C, KL).to_string(), "(k_l, j, i)");
    }
}
