//! Mapfiles in the ESGF `esgmapfile` layout, one line per granule:
//!
//! ```text
//! ECCO.V4r4.native.mon_mean.SEA_SURFACE_HEIGHT#20261206031500 | s3://pub/ecco/.../x.nc | 4242 | mod_time=1765000000.000000 | checksum=9f86...08 | checksum_type=SHA256
//! ```
//!
//! Sizes and checksums come from the dataset manifest (nothing is hashed again); the
//! modification time from the store listing. [`parse_line`] is strict: it is what tests and
//! consumers use to prove the lines are well-formed.

use std::fmt::Write as _;

use crate::DatasetError;

/// One line of a mapfile.
#[derive(Debug, Clone, PartialEq)]
pub struct MapfileLine {
    /// `ECCO.<version>.<type>.<period>.<GROUPING>`.
    pub dataset_id: String,
    /// The version: 14 digits `YYYYMMDDhhmmss`.
    pub version: String,
    /// Where the granule is (absolute path or `s3://` URL).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds since the Unix epoch.
    pub mod_time: f64,
    /// SHA-256, 64 lower-case hex digits.
    pub checksum: String,
}

impl MapfileLine {
    /// The line as written (no newline).
    pub fn render(&self) -> String {
        format!(
            "{}#{} | {} | {} | mod_time={:.6} | checksum={} | checksum_type=SHA256",
            self.dataset_id, self.version, self.path, self.size, self.mod_time, self.checksum
        )
    }
}

/// A whole mapfile: every line with a newline.
pub fn render(lines: &[MapfileLine]) -> String {
    let mut out = String::new();
    for line in lines {
        let _ = writeln!(out, "{}", line.render());
    }
    out
}

/// Parses one mapfile line, refusing anything but the exact layout.
pub fn parse_line(text: &str) -> Result<MapfileLine, DatasetError> {
    let bad = |reason: &str| DatasetError::Mapfile {
        line: text.to_string(),
        reason: reason.to_string(),
    };
    let fields: Vec<&str> = text.split(" | ").collect();
    let [id_version, path, size, mod_time, checksum, checksum_type] = fields.as_slice() else {
        return Err(bad("expected 6 fields separated by ' | '"));
    };
    let (dataset_id, version) = id_version
        .split_once('#')
        .ok_or_else(|| bad("first field must be <dataset_id>#<version>"))?;
    let id_ok = !dataset_id.is_empty()
        && dataset_id.split('.').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
        });
    if !id_ok {
        return Err(bad(
            "dataset id must be dot-separated parts of A-Z a-z 0-9 _ -",
        ));
    }
    if version.len() != 14 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("version must be 14 digits YYYYMMDDhhmmss"));
    }
    if path.is_empty() || path.contains(" | ") || path.trim() != *path {
        return Err(bad("path must be non-empty without surrounding blanks"));
    }
    if !(path.starts_with('/') || path.starts_with("s3://")) {
        return Err(bad("path must be absolute or an s3:// URL"));
    }
    if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("size must be a decimal integer"));
    }
    let size: u64 = size.parse().map_err(|_| bad("size does not fit 64 bits"))?;
    let mod_time = mod_time
        .strip_prefix("mod_time=")
        .ok_or_else(|| bad("fourth field must be mod_time=<seconds>"))?;
    let (whole, fraction) = mod_time
        .split_once('.')
        .ok_or_else(|| bad("mod_time must have 6 decimals"))?;
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() != 6
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad("mod_time must be <digits>.<6 digits>"));
    }
    let mod_time: f64 = mod_time
        .parse()
        .map_err(|_| bad("mod_time is not a number"))?;
    let checksum = checksum
        .strip_prefix("checksum=")
        .ok_or_else(|| bad("fifth field must be checksum=<sha256>"))?;
    if checksum.len() != 64
        || !checksum
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(bad("checksum must be 64 lower-case hex digits"));
    }
    if *checksum_type != "checksum_type=SHA256" {
        return Err(bad("last field must be checksum_type=SHA256"));
    }
    Ok(MapfileLine {
        dataset_id: dataset_id.to_string(),
        version: version.to_string(),
        path: path.to_string(),
        size,
        mod_time,
        checksum: checksum.to_string(),
    })
}

/// Parses a whole mapfile (every line strictly; no blank lines inside, one dataset and
/// version throughout).
pub fn parse(text: &str) -> Result<Vec<MapfileLine>, DatasetError> {
    let lines: Vec<MapfileLine> = text.lines().map(parse_line).collect::<Result<_, _>>()?;
    if let Some(first) = lines.first()
        && let Some(other) = lines
            .iter()
            .find(|l| l.dataset_id != first.dataset_id || l.version != first.version)
    {
        return Err(DatasetError::Mapfile {
            line: other.render(),
            reason: format!(
                "expected every line to be of {}#{}",
                first.dataset_id, first.version
            ),
        });
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> MapfileLine {
        MapfileLine {
            dataset_id: "ECCO.V4r4.native.mon_mean.SSH".into(),
            version: "20261206031500".into(),
            path: "s3://pub/ecco/SSH_mon_mean_1992-01_ECCO_V4r4_native_llc0090.nc".into(),
            size: 4242,
            mod_time: 1_765_000_000.5,
            checksum: "ab".repeat(32),
        }
    }

    #[test]
    fn rendered_lines_parse_back() {
        let text = render(&[line(), line()]);
        assert!(text.starts_with("ECCO.V4r4.native.mon_mean.SSH#20261206031500 | s3://"));
        assert!(text.contains("| mod_time=1765000000.500000 |"));
        assert_eq!(parse(&text).unwrap(), vec![line(), line()]);
    }

    #[test]
    fn the_parser_rejects_near_misses() {
        let good = line().render();
        let bad = [
            good.replace(" | ", "|"),
            good.replace("#20261206031500", "#v20261206"),
            good.replace("checksum_type=SHA256", "checksum_type=MD5"),
            good.replace("mod_time=1765000000.500000", "mod_time=1765000000.5"),
            good.replace(&"ab".repeat(32), &"AB".repeat(32)),
            good.replace("| 4242 |", "| 4.2 kB |"),
            good.replace("s3://pub", "pub"),
            format!("{good} | extra"),
        ];
        for text in bad {
            assert!(parse_line(&text).is_err(), "accepted {text}");
        }
    }
}
