//! JSON text exactly as Python's `json.dump(obj, fp, indent=4)` writes it (default
//! `ensure_ascii=True`, `sort_keys=False`), so that our task lists are byte-compatible with
//! those of EDP:
//!
//! * 4-space indentation, one element per line, `": "` after keys, `","` at line ends;
//!   empty arrays and objects as `[]` and `{}`;
//! * keys in insertion order (serde_json's `preserve_order` keeps struct field order);
//! * strings: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f` escaped by name, every other character
//!   outside printable ASCII (`0x20..=0x7e`) as lower-case `\uXXXX`, characters beyond the
//!   BMP as a UTF-16 surrogate pair; `/` is not escaped;
//! * floats as Python's `repr(float)`: shortest round-trip digits, exponent form `1e+16` /
//!   `1e-05` when the decimal exponent is < -4 or >= 16, otherwise fixed with at least one
//!   fractional digit (`123.0`);
//! * no trailing newline.

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// `json.dumps(value, indent=4)`.
pub fn to_string_indent4(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, 0, &mut out);
    out
}

fn indent(level: usize, out: &mut String) {
    for _ in 0..level {
        out.push_str("    ");
    }
}

fn write_value(value: &Value, level: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(number, out),
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(level + 1, out);
                write_value(item, level + 1, out);
            }
            out.push('\n');
            indent(level, out);
            out.push(']');
        }
        Value::Object(fields) => {
            if fields.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (key, field)) in fields.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(level + 1, out);
                write_string(key, out);
                out.push_str(": ");
                write_value(field, level + 1, out);
            }
            out.push('\n');
            indent(level, out);
            out.push('}');
        }
    }
}

fn write_number(number: &Number, out: &mut String) {
    if let Some(int) = number.as_u64() {
        let _ = write!(out, "{int}");
    } else if let Some(int) = number.as_i64() {
        let _ = write!(out, "{int}");
    } else if let Some(float) = number.as_f64() {
        out.push_str(&python_float_repr(float));
    } else {
        // Only reachable with serde_json's arbitrary-precision numbers; keep their text.
        out.push_str(&number.to_string());
    }
}

/// A JSON string literal with Python's `ensure_ascii=True` escaping.
pub fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr(float)` for a finite value (`json` writes `NaN`/`Infinity` for the others,
/// which serde_json values cannot hold).
pub fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    // Rust's `{:e}` prints the shortest digits that round-trip, like Python's repr:
    // `d[.ddd]e<exp>`.
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if digits == "0" {
        return format!("{sign}0.0");
    }
    // Position of the decimal point relative to the digits: value = 0.DIGITS x 10^decpt.
    let decpt = exponent + 1;
    let body = if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        let exp = decpt - 1;
        let exp_sign = if exp < 0 { '-' } else { '+' };
        if rest.is_empty() {
            format!("{first}e{exp_sign}{:02}", exp.abs())
        } else {
            format!("{first}.{rest}e{exp_sign}{:02}", exp.abs())
        }
    } else if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat(decpt.unsigned_abs() as usize))
    } else {
        let point = decpt as usize;
        if point >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point - digits.len()))
        } else {
            format!("{}.{}", &digits[..point], &digits[point..])
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python_examples() {
        // Values of `repr(x)` printed by CPython 3.11.
        let cases = [
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (123.0, "123.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1.5e300, "1.5e+300"),
            (2.5e-7, "2.5e-07"),
            (-12345.678, "-12345.678"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_float_repr(value), expected, "{value:e}");
        }
    }

    #[test]
    fn strings_escape_like_ensure_ascii() {
        let mut out = String::new();
        write_string("é😀\u{7f}/\"", &mut out);
        assert_eq!(out, r#""\u00e9\ud83d\ude00\u007f/\"""#);
    }
}
