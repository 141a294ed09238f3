//! `.meta` files: parsing every key MITgcm writes and writing them back in MITgcm's layout
//! (ecco-format §1.2, §1.4).
//!
//! Grammar (whitespace, including newlines, is insignificant between tokens):
//! `key = [ values ] ;` or `key = { 'strings' } ;`. Values are separated by commas and/or
//! blanks, a trailing comma is allowed, strings are single-quoted and blank-padded. Unknown
//! keys are parsed and ignored, so a new MITgcm key never breaks the reader.

use crate::error::{MdsError, Result};
use crate::llc::Llc;
use crate::sample::Precision;
use std::fmt::Write as _;

/// The parsed content of a `.meta` file.
///
/// `dims` are the global dimension lengths in `dimList` order: **x (fastest) first**, so
/// the row-major shape of one record is the reverse (`[nz][ny][nx]`). Fields are public so
/// fixtures and generators can build a `Meta` and write it with [`Meta::to_meta_text`];
/// [`Meta::parse`] enforces the invariants (non-empty `dims`, `n_records >= 1`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    /// Where this meta came from (file path or URL); used in error messages.
    pub source: String,
    /// Global lengths per dimension, x first (`dimList` column 1). `nDims = dims.len()`.
    pub dims: Vec<usize>,
    /// `dataprec`.
    pub precision: Precision,
    /// `nrecords`: number of complete fields (all levels) one after another.
    pub n_records: usize,
    /// `timeStepNumber`, when present.
    pub time_step: Option<u64>,
    /// `timeInterval` in seconds (one instant or start and end); empty when absent.
    /// Informational only: ECCO time metadata comes from the time step (ecco-format §1.2).
    pub time_interval: Vec<f64>,
    /// `missingValue`, when present (V4r4 diagnostics still hold 0.0 on land).
    pub missing_value: Option<f64>,
    /// `fldList` names with quotes and padding removed; empty when absent.
    pub fields: Vec<String>,
    /// `simulation` text, when present.
    pub simulation: Option<String>,
}

/// Chooses one record of a multi-record file: by 0-based index or by its `fldList` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSelector {
    /// Record index, `0..nrecords`.
    Record(usize),
    /// A name from `fldList` (compared after trimming blanks, case-sensitive).
    Name(String),
}

impl Default for FieldSelector {
    fn default() -> Self {
        FieldSelector::Record(0)
    }
}

impl From<usize> for FieldSelector {
    fn from(record: usize) -> Self {
        FieldSelector::Record(record)
    }
}

impl From<&str> for FieldSelector {
    fn from(name: &str) -> Self {
        FieldSelector::Name(name.to_owned())
    }
}

impl From<String> for FieldSelector {
    fn from(name: String) -> Self {
        FieldSelector::Name(name)
    }
}

impl Meta {
    /// A meta for `n_records` records of shape `dims` (x first) with no optional keys.
    pub fn new(
        source: impl Into<String>,
        dims: Vec<usize>,
        precision: Precision,
        n_records: usize,
    ) -> Meta {
        Meta {
            source: source.into(),
            dims,
            precision,
            n_records,
            time_step: None,
            time_interval: Vec::new(),
            missing_value: None,
            fields: Vec::new(),
            simulation: None,
        }
    }

    /// A meta for an LLC(`n`) compact field with `nz` levels (`nz = 1`: 2-D, `dimList`
    /// `[n, 13n]`; otherwise 3-D `[n, 13n, nz]`).
    pub fn new_llc(
        source: impl Into<String>,
        n: usize,
        nz: usize,
        precision: Precision,
        n_records: usize,
    ) -> Meta {
        let dims = if nz <= 1 {
            vec![n, 13 * n]
        } else {
            vec![n, 13 * n, nz]
        };
        Meta::new(source, dims, precision, n_records)
    }

    /// A 1-D vertical meta as MITgcm writes `RC`/`RF`: `dimList = [1,1,1, 1,1,1, len,1,len]`.
    pub fn new_vertical(source: impl Into<String>, len: usize, precision: Precision) -> Meta {
        Meta::new(source, vec![1, 1, len], precision, 1)
    }

    /// `nDims`.
    pub fn n_dims(&self) -> usize {
        self.dims.len()
    }

    /// Length of the fastest dimension (`dimList[0]`).
    pub fn nx(&self) -> usize {
        self.dims.first().copied().unwrap_or(1)
    }

    /// Length of the second dimension (`dimList[3]`), 1 for 1-D files.
    pub fn ny(&self) -> usize {
        self.dims.get(1).copied().unwrap_or(1)
    }

    /// Number of levels: product of the dimensions beyond the second (1 for 2-D files).
    pub fn nz(&self) -> usize {
        self.dims.iter().skip(2).product()
    }

    /// Values in one record (all levels).
    pub fn record_len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Values in the whole file.
    pub fn n_values(&self) -> usize {
        self.record_len() * self.n_records
    }

    /// Bytes of one record.
    pub fn record_bytes(&self) -> usize {
        self.record_len() * self.precision.size()
    }

    /// Size the `.data` file must have.
    pub fn expected_data_bytes(&self) -> u64 {
        (self.n_values() as u64) * (self.precision.size() as u64)
    }

    /// Human-readable shape for messages, e.g. `1 record of 90x1170 float32`.
    pub fn shape_description(&self) -> String {
        let dims: Vec<String> = self.dims.iter().map(|d| d.to_string()).collect();
        let plural = if self.n_records == 1 { "" } else { "s" };
        format!(
            "{} record{plural} of {} {}",
            self.n_records,
            dims.join("x"),
            self.precision
        )
    }

    /// The LLC tile geometry when the field is in compact layout (`ny = 13 nx`), else `None`.
    pub fn llc(&self) -> Option<Llc> {
        let nx = self.nx();
        (nx > 0 && nx.checked_mul(13) == Some(self.ny())).then_some(Llc { n: nx })
    }

    /// The LLC geometry or a [`MdsError::NotLlc`] naming `file`.
    pub fn require_llc(&self, file: &str) -> Result<Llc> {
        self.llc().ok_or_else(|| MdsError::NotLlc {
            file: file.to_owned(),
            nx: self.nx(),
            ny: self.ny(),
        })
    }

    /// Record index of `name` in `fldList`.
    pub fn field_index(&self, name: &str) -> Result<usize> {
        let wanted = name.trim();
        self.fields
            .iter()
            .position(|f| f == wanted)
            .ok_or_else(|| MdsError::FieldNotFound {
                file: self.source.clone(),
                name: wanted.to_owned(),
                available: self.fields.clone(),
            })
    }

    /// Record index chosen by `selector`, checked against `nrecords`.
    pub fn record_of(&self, selector: &FieldSelector) -> Result<usize> {
        let record = match selector {
            FieldSelector::Record(r) => *r,
            FieldSelector::Name(name) => self.field_index(name)?,
        };
        if record >= self.n_records {
            return Err(MdsError::RecordOutOfRange {
                file: self.source.clone(),
                record,
                n_records: self.n_records,
            });
        }
        Ok(record)
    }

    /// Parses `.meta` text. `source` names the file (or URL) in error messages and is kept
    /// in [`Meta::source`].
    pub fn parse(text: &str, source: &str) -> Result<Meta> {
        let items = parse_items(text, source)?;
        Meta::from_items(&items, source)
    }

    fn from_items(items: &[Item], source: &str) -> Result<Meta> {
        let ctx = Ctx { items, source };

        let n_dims = ctx.required_single_int("nDims")?;
        if n_dims < 1 {
            return Err(ctx.bad("nDims", "a positive integer".into(), n_dims.to_string()));
        }
        let dim_list = ctx.required_ints("dimList")?;
        // Compared by division so that no `nDims` as read can overflow the check.
        if dim_list.len() % 3 != 0 || dim_list.len() / 3 != n_dims {
            let expected = match n_dims.checked_mul(3) {
                Some(count) => format!("{count} integers (3 x nDims = 3 x {n_dims})"),
                None => format!("3 x nDims = 3 x {n_dims} integers"),
            };
            return Err(ctx.bad("dimList", expected, format!("{} integers", dim_list.len())));
        }
        let mut dims = Vec::with_capacity(n_dims);
        for (dim, triplet) in dim_list.chunks_exact(3).enumerate() {
            let (global, start, end) = (triplet[0], triplet[1], triplet[2]);
            if global < 1 {
                return Err(ctx.bad(
                    "dimList",
                    format!("a positive global length for dimension {dim}"),
                    global.to_string(),
                ));
            }
            if start != 1 || end != global {
                return Err(MdsError::TiledFile {
                    file: source.to_owned(),
                    dim,
                    global,
                    start,
                    end,
                });
            }
            dims.push(global);
        }

        let prec_text = ctx.required_single_string("dataprec")?;
        let precision =
            Precision::from_dataprec(&prec_text).ok_or_else(|| MdsError::UnknownPrecision {
                file: source.to_owned(),
                found: prec_text.clone(),
            })?;

        let n_records = ctx.required_single_int("nrecords")?;
        if n_records < 1 {
            return Err(ctx.bad("nrecords", "at least 1".into(), n_records.to_string()));
        }

        // Every size derived from the header must be representable: the product of the
        // dimensions, the records and the bytes per value is computed once here with checked
        // arithmetic, so the accessors below cannot overflow for a parsed `Meta`.
        let total_bytes = dims
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .and_then(|values| values.checked_mul(n_records))
            .and_then(|values| values.checked_mul(precision.size()))
            .filter(|bytes| u64::try_from(*bytes).is_ok());
        if total_bytes.is_none() {
            let dims_text: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
            return Err(ctx.bad(
                "nrecords",
                format!(
                    "a file size that fits in {} bits (nrecords x dimList product x {} bytes)",
                    usize::BITS,
                    precision.size()
                ),
                format!("nrecords {n_records} x {}", dims_text.join(" x ")),
            ));
        }

        let time_step = ctx.optional_single_int("timeStepNumber")?.map(|v| v as u64);
        let time_interval = match ctx.find("timeInterval") {
            Some(item) => {
                let v = ctx.reals(item)?;
                if v.is_empty() || v.len() > 2 {
                    return Err(ctx.bad(
                        "timeInterval",
                        "1 or 2 reals".into(),
                        format!("{} values", v.len()),
                    ));
                }
                v
            }
            None => Vec::new(),
        };
        let missing_value = match ctx.find("missingValue") {
            Some(item) => {
                let v = ctx.reals(item)?;
                if v.len() != 1 {
                    return Err(ctx.bad(
                        "missingValue",
                        "1 real".into(),
                        format!("{} values", v.len()),
                    ));
                }
                Some(v[0])
            }
            None => None,
        };
        let fields = match ctx.find("fldList") {
            Some(item) => ctx.strings(item)?,
            None => Vec::new(),
        };
        if let Some(n_flds) = ctx.optional_single_int("nFlds")?
            && !fields.is_empty()
            && n_flds != fields.len()
        {
            return Err(ctx.bad(
                "fldList",
                format!("{n_flds} names (nFlds)"),
                format!("{} names", fields.len()),
            ));
        }
        if fields.len() > n_records {
            return Err(ctx.bad(
                "nrecords",
                format!("at least {} (one record per fldList name)", fields.len()),
                n_records.to_string(),
            ));
        }
        let simulation = match ctx.find("simulation") {
            Some(item) => Some(ctx.strings(item)?.join(" ")),
            None => None,
        };

        Ok(Meta {
            source: source.to_owned(),
            dims,
            precision,
            n_records,
            time_step,
            time_interval,
            missing_value,
            fields,
            simulation,
        })
    }

    /// The `.meta` text in MITgcm's layout (ecco-format §1.4): one key per statement,
    /// `dimList` triplets one per line, strings blank-padded to 8 characters. Optional keys
    /// are written only when set.
    pub fn to_meta_text(&self) -> String {
        let mut s = String::new();
        // `write!` into a String cannot fail; ignoring the Ok(()) keeps this infallible.
        if let Some(sim) = &self.simulation {
            let _ = writeln!(s, " simulation = {{ '{sim}' }};");
        }
        let _ = writeln!(s, " nDims = [ {:>3} ];", self.dims.len());
        let _ = writeln!(s, " dimList = [");
        let last = self.dims.len().saturating_sub(1);
        for (d, len) in self.dims.iter().enumerate() {
            let sep = if d == last { "" } else { "," };
            let _ = writeln!(s, " {len:>5},{:>5},{len:>5}{sep}", 1);
        }
        let _ = writeln!(s, " ];");
        let _ = writeln!(s, " dataprec = [ '{}' ];", self.precision);
        let _ = writeln!(s, " nrecords = [ {:>5} ];", self.n_records);
        if let Some(ts) = self.time_step {
            let _ = writeln!(s, " timeStepNumber = [ {ts:>10} ];");
        }
        if !self.time_interval.is_empty() {
            let v: Vec<String> = self
                .time_interval
                .iter()
                .map(|x| fortran_e(*x, 12))
                .collect();
            let _ = writeln!(s, " timeInterval = [ {} ];", v.join(" "));
        }
        if let Some(mv) = self.missing_value {
            let _ = writeln!(s, " missingValue = [ {} ];", fortran_e(mv, 14));
        }
        if !self.fields.is_empty() {
            let _ = writeln!(s, " nFlds = [ {:>4} ];", self.fields.len());
            let _ = writeln!(s, " fldList = {{");
            let names: Vec<String> = self.fields.iter().map(|f| format!("'{f:<8}'")).collect();
            let _ = writeln!(s, " {}", names.join(" "));
            let _ = writeln!(s, " }};");
        }
        s
    }
}

/// Formats like Fortran `1PE(w).(d)`: one digit before the point, `decimals` after, and a
/// signed two-digit exponent (`5.270400000000E+06`).
fn fortran_e(v: f64, decimals: usize) -> String {
    let raw = format!("{v:.decimals$E}");
    match raw.split_once('E') {
        Some((mantissa, exp)) => match exp.parse::<i32>() {
            Ok(e) => {
                let sign = if e < 0 { '-' } else { '+' };
                format!("{mantissa}E{sign}{:02}", e.abs())
            }
            Err(_) => raw,
        },
        // NaN and infinities have no exponent; MITgcm never writes them.
        None => raw,
    }
}

// ----- tokenizer and statement parser -------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Eq,
    Semi,
    Comma,
    Open(char),
    Close(char),
    Str(String),
    Word(String),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Eq => "'='".into(),
            Tok::Semi => "';'".into(),
            Tok::Comma => "','".into(),
            Tok::Open(c) | Tok::Close(c) => format!("'{c}'"),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Word(w) => format!("'{w}'"),
        }
    }
}

/// One value inside `[...]` or `{...}`.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// A quoted string, padding removed.
    Str(String),
    /// A bare token (number or identifier).
    Word(String),
}

#[derive(Debug)]
struct Item {
    key: String,
    values: Vec<Value>,
}

fn tokenize(text: &str, source: &str) -> Result<Vec<(Tok, usize)>> {
    let mut toks = Vec::new();
    let mut line = 1usize;
    let mut chars = text.char_indices().peekable();
    while let Some((pos, c)) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '=' => toks.push((Tok::Eq, line)),
            ';' => toks.push((Tok::Semi, line)),
            ',' => toks.push((Tok::Comma, line)),
            '[' | '{' => toks.push((Tok::Open(c), line)),
            ']' | '}' => toks.push((Tok::Close(c), line)),
            '\'' => {
                let start_line = line;
                let mut s = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '\'' {
                        closed = true;
                        break;
                    }
                    if c == '\n' {
                        line += 1;
                    }
                    s.push(c);
                }
                if !closed {
                    return Err(MdsError::MetaSyntax {
                        file: source.to_owned(),
                        line: start_line,
                        expected: "a closing quote".into(),
                        found: "end of text".into(),
                    });
                }
                toks.push((Tok::Str(s.trim().to_owned()), start_line));
            }
            _ => {
                let mut end = pos + c.len_utf8();
                while let Some(&(p, c)) = chars.peek() {
                    if c.is_whitespace() || "=;,[]{}'".contains(c) {
                        break;
                    }
                    end = p + c.len_utf8();
                    chars.next();
                }
                toks.push((Tok::Word(text[pos..end].to_owned()), line));
            }
        }
    }
    Ok(toks)
}

fn parse_items(text: &str, source: &str) -> Result<Vec<Item>> {
    let toks = tokenize(text, source)?;
    let syntax = |line: usize, expected: &str, found: Option<&Tok>| MdsError::MetaSyntax {
        file: source.to_owned(),
        line,
        expected: expected.to_owned(),
        found: found.map_or_else(|| "end of text".to_owned(), Tok::describe),
    };
    let last_line = toks.last().map_or(1, |(_, l)| *l);
    let mut items = Vec::new();
    let mut it = toks.iter().peekable();
    while let Some((tok, line)) = it.next() {
        let key = match tok {
            Tok::Word(w) if is_identifier(w) => w.clone(),
            // Stray separators between statements are harmless.
            Tok::Semi => continue,
            other => return Err(syntax(*line, "a key (identifier)", Some(other))),
        };
        match it.next() {
            Some((Tok::Eq, _)) => {}
            Some((other, l)) => {
                return Err(syntax(*l, &format!("'=' after key `{key}`"), Some(other)));
            }
            None => return Err(syntax(last_line, &format!("'=' after key `{key}`"), None)),
        }
        let close = match it.next() {
            Some((Tok::Open('['), _)) => ']',
            Some((Tok::Open('{'), _)) => '}',
            Some((other, l)) => {
                return Err(syntax(
                    *l,
                    &format!("'[' or '{{' after `{key} =`"),
                    Some(other),
                ));
            }
            None => {
                return Err(syntax(
                    last_line,
                    &format!("'[' or '{{' after `{key} =`"),
                    None,
                ));
            }
        };
        let mut values = Vec::new();
        loop {
            match it.next() {
                Some((Tok::Close(c), _)) if *c == close => break,
                Some((Tok::Comma, _)) => {}
                Some((Tok::Str(s), _)) => values.push(Value::Str(s.clone())),
                Some((Tok::Word(w), _)) => values.push(Value::Word(w.clone())),
                Some((other, l)) => {
                    return Err(syntax(
                        *l,
                        &format!("a value or '{close}' in `{key}`"),
                        Some(other),
                    ));
                }
                None => {
                    return Err(syntax(
                        last_line,
                        &format!("'{close}' closing `{key}`"),
                        None,
                    ));
                }
            }
        }
        if let Some((Tok::Semi, _)) = it.peek() {
            it.next();
        }
        items.push(Item { key, values });
    }
    Ok(items)
}

fn is_identifier(w: &str) -> bool {
    w.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Typed access to the parsed statements, producing errors that name the file and key.
struct Ctx<'a> {
    items: &'a [Item],
    source: &'a str,
}

impl<'a> Ctx<'a> {
    /// The last statement with this key (keys compare case-insensitively).
    fn find(&self, key: &str) -> Option<&'a Item> {
        self.items
            .iter()
            .rev()
            .find(|i| i.key.eq_ignore_ascii_case(key))
    }

    fn bad(&self, key: &str, expected: String, found: String) -> MdsError {
        MdsError::BadValue {
            file: self.source.to_owned(),
            key: key.to_owned(),
            expected,
            found,
        }
    }

    fn ints(&self, item: &Item) -> Result<Vec<usize>> {
        item.values
            .iter()
            .map(|v| match v {
                Value::Word(w) => w.parse::<usize>().map_err(|_| {
                    self.bad(&item.key, "non-negative integers".into(), format!("'{w}'"))
                }),
                Value::Str(s) => Err(self.bad(
                    &item.key,
                    "non-negative integers".into(),
                    format!("string '{s}'"),
                )),
            })
            .collect()
    }

    fn reals(&self, item: &Item) -> Result<Vec<f64>> {
        item.values
            .iter()
            .map(|v| match v {
                // Fortran may write a `D` exponent.
                Value::Word(w) => w
                    .replace(['D', 'd'], "E")
                    .parse::<f64>()
                    .map_err(|_| self.bad(&item.key, "real numbers".into(), format!("'{w}'"))),
                Value::Str(s) => {
                    Err(self.bad(&item.key, "real numbers".into(), format!("string '{s}'")))
                }
            })
            .collect()
    }

    fn strings(&self, item: &Item) -> Result<Vec<String>> {
        Ok(item
            .values
            .iter()
            .map(|v| match v {
                Value::Str(s) | Value::Word(s) => s.clone(),
            })
            .collect())
    }

    fn single<T>(&self, key: &str, mut v: Vec<T>) -> Result<T> {
        if v.len() != 1 {
            return Err(self.bad(key, "exactly 1 value".into(), format!("{} values", v.len())));
        }
        v.pop()
            .ok_or_else(|| self.bad(key, "exactly 1 value".into(), "none".into()))
    }

    fn required(&self, key: &'static str) -> Result<&'a Item> {
        self.find(key).ok_or_else(|| MdsError::MissingKey {
            file: self.source.to_owned(),
            key,
        })
    }

    fn required_ints(&self, key: &'static str) -> Result<Vec<usize>> {
        self.ints(self.required(key)?)
    }

    fn required_single_int(&self, key: &'static str) -> Result<usize> {
        let v = self.required_ints(key)?;
        self.single(key, v)
    }

    fn optional_single_int(&self, key: &str) -> Result<Option<usize>> {
        match self.find(key) {
            Some(item) => {
                let v = self.ints(item)?;
                self.single(key, v).map(Some)
            }
            None => Ok(None),
        }
    }

    fn required_single_string(&self, key: &'static str) -> Result<String> {
        let v = self.strings(self.required(key)?)?;
        self.single(key, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XC_META: &str = " nDims = [   2 ];\n dimList = [\n    90,    1,   90,\n  1170,    1, 1170\n ];\n dataprec = [ 'float64' ];\n nrecords = [     1 ];\n";

    const SSH_META: &str = " nDims = [   2 ];
 dimList = [
    90,    1,   90,
  1170,    1, 1170
 ];
 dataprec = [ 'float32' ];
 nrecords = [      1 ];
 timeStepNumber = [       2172 ];
 timeInterval = [  5.270400000000E+06  7.819200000000E+06 ];
 missingValue = [ -9.99000000000000E+02 ];
 nFlds = [    1 ];
 fldList = {
 'SSH     '
 };
";

    #[test]
    fn parses_the_grid_meta_example() {
        let m = Meta::parse(XC_META, "XC.meta").unwrap();
        assert_eq!(m.dims, vec![90, 1170]);
        assert_eq!((m.nx(), m.ny(), m.nz()), (90, 1170, 1));
        assert_eq!(m.precision, Precision::F64);
        assert_eq!(m.n_records, 1);
        assert_eq!(m.expected_data_bytes(), 842_400);
        assert_eq!(m.llc(), Some(Llc { n: 90 }));
        assert!(m.fields.is_empty() && m.time_step.is_none());
    }

    #[test]
    fn parses_every_diagnostic_key() {
        let m = Meta::parse(SSH_META, "SSH.meta").unwrap();
        assert_eq!(m.precision, Precision::F32);
        assert_eq!(m.time_step, Some(2172));
        assert_eq!(m.time_interval, vec![5.2704e6, 7.8192e6]);
        assert_eq!(m.missing_value, Some(-999.0));
        assert_eq!(m.fields, vec!["SSH".to_string()]);
        assert_eq!(m.expected_data_bytes(), 421_200);
        assert_eq!(m.field_index("SSH").unwrap(), 0);
    }

    #[test]
    fn trailing_comma_unknown_keys_and_compact_spacing() {
        let text = "nDims=[2];dimList=[4,1,4,52,1,52,];dataprec=['float32'];nrecords=[2];\
                    map2glob=[1,1];newKey={'a' 'b'};nFlds=[2];fldList={'UVEL    ''VVEL'};\
                    simulation={'global_oce_llc90'}";
        let m = Meta::parse(text, "x.meta").unwrap();
        assert_eq!(m.dims, vec![4, 52]);
        assert_eq!(m.fields, vec!["UVEL".to_string(), "VVEL".to_string()]);
        assert_eq!(m.simulation.as_deref(), Some("global_oce_llc90"));
        assert_eq!(m.record_of(&"VVEL".into()).unwrap(), 1);
    }

    #[test]
    fn vertical_file_shape() {
        let text = " nDims = [ 3 ];\n dimList = [ 1, 1, 1, 1, 1, 1, 51, 1, 51 ];\n dataprec = [ 'float64' ];\n nrecords = [ 1 ];";
        let m = Meta::parse(text, "RF.meta").unwrap();
        assert_eq!((m.nx(), m.ny(), m.nz(), m.record_len()), (1, 1, 51, 51));
        assert_eq!(m.llc(), None);
    }

    #[test]
    fn written_text_parses_back_identically() {
        let mut m = Meta::new_llc("THETA.meta", 90, 50, Precision::F32, 2);
        m.time_step = Some(732);
        m.time_interval = vec![0.0, 2_635_200.0];
        m.missing_value = Some(-999.0);
        m.fields = vec!["THETA".into(), "SALT".into()];
        m.simulation = Some("global_oce_llc90".into());
        let text = m.to_meta_text();
        assert!(
            text.contains(
                " dimList = [\n    90,    1,   90,\n  1170,    1, 1170,\n    50,    1,   50\n ];"
            ),
            "{text}"
        );
        assert!(text.contains("'THETA   ' 'SALT    '"), "{text}");
        assert!(
            text.contains("timeInterval = [ 0.000000000000E+00 2.635200000000E+06 ];"),
            "{text}"
        );
        assert_eq!(Meta::parse(&text, "THETA.meta").unwrap(), m);
    }

    #[test]
    fn fortran_exponents() {
        assert_eq!(fortran_e(-999.0, 14), "-9.99000000000000E+02");
        assert_eq!(fortran_e(1.5e-7, 3), "1.500E-07");
    }
}
