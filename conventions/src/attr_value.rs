//! Attribute values as plain data, independent of any NetCDF library.

use serde_json::Value;

/// One NetCDF attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// NC_CHAR / NC_STRING text.
    Str(String),
    /// NC_DOUBLE (global metadata type `f`).
    F64(f64),
    /// NC_FLOAT (e.g. `valid_min`, `valid_max`).
    F32(f32),
    /// NC_INT (global metadata type `i`).
    I32(i32),
    /// NC_DOUBLE array.
    F64s(Vec<f64>),
    /// NC_INT array.
    I32s(Vec<i32>),
    /// NC_STRING array (a list of texts, e.g. provenance lists; never produced from the ECCO
    /// metadata JSON).
    Strs(Vec<String>),
}

impl AttrValue {
    /// The text of a `Str` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value of an `F64` value.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::F64(v) => Some(*v),
            _ => None,
        }
    }

    /// Converts an untyped JSON value of variable/coordinate metadata: strings stay strings,
    /// integers that fit become `I32`, other numbers `F64`, arrays of numbers arrays.
    /// `None` for null, booleans, objects and mixed arrays (not attribute values).
    pub fn from_json(value: &Value) -> Option<AttrValue> {
        match value {
            Value::String(s) => Some(AttrValue::Str(s.clone())),
            Value::Number(n) => Some(number(n)),
            Value::Array(items) => {
                let ints: Option<Vec<i32>> = items
                    .iter()
                    .map(|v| v.as_i64().and_then(|i| i32::try_from(i).ok()))
                    .collect();
                if let Some(ints) = ints {
                    return Some(AttrValue::I32s(ints));
                }
                items
                    .iter()
                    .map(Value::as_f64)
                    .collect::<Option<Vec<f64>>>()
                    .map(AttrValue::F64s)
            }
            _ => None,
        }
    }
}

fn number(n: &serde_json::Number) -> AttrValue {
    match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
        Some(i) => AttrValue::I32(i),
        // Every JSON number has an f64 value (arbitrary precision is not enabled).
        None => AttrValue::F64(n.as_f64().unwrap_or(f64::NAN)),
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> AttrValue {
        AttrValue::Str(s.to_string())
    }
}

impl From<String> for AttrValue {
    fn from(s: String) -> AttrValue {
        AttrValue::Str(s)
    }
}

/// An ordered list of attributes.
pub type Attrs = Vec<(String, AttrValue)>;

/// Sets `name` to `value` in `attrs`, replacing an existing entry in place or appending.
pub fn set_attr(attrs: &mut Attrs, name: &str, value: AttrValue) {
    match attrs.iter_mut().find(|(n, _)| n == name) {
        Some(slot) => slot.1 = value,
        None => attrs.push((name.to_string(), value)),
    }
}

/// The value of `name` in `attrs`.
pub fn get_attr<'a>(attrs: &'a Attrs, name: &str) -> Option<&'a AttrValue> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_values_convert_by_type() {
        assert_eq!(
            AttrValue::from_json(&json!("x")),
            Some(AttrValue::Str("x".into()))
        );
        assert_eq!(AttrValue::from_json(&json!(90)), Some(AttrValue::I32(90)));
        assert_eq!(
            AttrValue::from_json(&json!(-0.5)),
            Some(AttrValue::F64(-0.5))
        );
        assert_eq!(
            AttrValue::from_json(&json!([-0.5, 0.5])),
            Some(AttrValue::F64s(vec![-0.5, 0.5]))
        );
        assert_eq!(
            AttrValue::from_json(&json!([1, 2])),
            Some(AttrValue::I32s(vec![1, 2]))
        );
        assert_eq!(AttrValue::from_json(&json!(null)), None);
        assert_eq!(AttrValue::from_json(&json!({"a": 1})), None);
    }

    #[test]
    fn set_attr_replaces_in_place() {
        let mut attrs: Attrs = vec![("a".into(), "1".into()), ("b".into(), "2".into())];
        set_attr(&mut attrs, "a", "3".into());
        set_attr(&mut attrs, "c", AttrValue::I32(4));
        assert_eq!(attrs[0], ("a".to_string(), AttrValue::Str("3".into())));
        assert_eq!(attrs.len(), 3);
        assert_eq!(get_attr(&attrs, "c"), Some(&AttrValue::I32(4)));
    }
}
