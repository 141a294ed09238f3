//! Data-variable attributes (`docs/metadata.md` 3 steps 1-2).

use serde_json::Value;

use super::AttrError;
use crate::attr_value::{AttrValue, Attrs};
use crate::catalog::Catalog;
use crate::vocab::ProductType;

/// Keys of a variable metadata entry that are not written as attributes.
const NOT_ATTRIBUTES: &[&str] = &[
    "name",
    "grid_dimension",
    "grid_location",
    "GCMD_keywords",
    "variable_rename",
    "comments_1",
    "comments_2",
    "internal_note",
    "internal note",
];

/// The merged metadata keys of output variable `name`: native lookup list
/// (`variable_metadata` ++ native geometry, first match); for lat-lon the
/// `variable_metadata_for_latlon` entry is applied on top, key by key.
fn merged_keys(
    catalog: &Catalog,
    product: ProductType,
    name: &str,
) -> Result<Vec<(String, Value)>, AttrError> {
    let native = catalog.native_variable_entry(name)?;
    let latlon = match product {
        ProductType::Native => None,
        ProductType::Latlon => catalog.latlon_variable_metadata()?.find(name),
    };
    if native.is_none() && latlon.is_none() {
        // A known defect of published metadata (V4r5 `OBPAnoma`, the momentum tendencies):
        // the diagnostics log names and dimensions the variable (repair reported by
        // `Catalog::dataset`).
        if let Some(keys) = catalog.log_variable_keys(product, name)? {
            return Ok(keys);
        }
        let mut searched = vec![catalog.variable_metadata()?.path.display().to_string()];
        if let Ok(geometry) = catalog.geometry_metadata(ProductType::Native) {
            searched.push(geometry.path.display().to_string());
        }
        if product == ProductType::Latlon {
            searched.push(
                catalog
                    .latlon_variable_metadata()?
                    .path
                    .display()
                    .to_string(),
            );
        }
        return Err(AttrError::VariableMetadataMissing {
            name: name.to_string(),
            product,
            searched: searched.join(", "),
        });
    }
    let mut keys: Vec<(String, Value)> = native.map(|e| e.keys.clone()).unwrap_or_default();
    for (key, value) in latlon.iter().flat_map(|e| &e.keys) {
        match keys.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.clone(),
            None => keys.push((key.clone(), value.clone())),
        }
    }
    Ok(keys)
}

fn text<'a>(keys: &'a [(String, Value)], key: &str) -> &'a str {
    keys.iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// `comments_1` and `comments_2` joined as EDP does: separator `" "` when `comments_1` ends
/// with `.`, else `". "`; only the non-empty one when the other is empty. No trimming (EDP
/// does not trim either, e.g. ETAN gives `snow  . Note: ...`).
pub fn join_comments(comments_1: &str, comments_2: &str) -> String {
    match (comments_1.is_empty(), comments_2.is_empty()) {
        (true, _) => comments_2.to_string(),
        (false, true) => comments_1.to_string(),
        (false, false) => {
            let sep = if comments_1.ends_with('.') { " " } else { ". " };
            format!("{comments_1}{sep}{comments_2}")
        }
    }
}

/// Attributes of output variable `output_name` (renamed variables use the *new* name:
/// `WVEL`, not `WVELMASS`): every metadata key except the bookkeeping ones
/// (`long_name, units, standard_name, coverage_content_type, direction`, ...) plus `comment`.
/// Empty strings are not written. `valid_min`/`valid_max` (data-dependent), `_FillValue` and
/// `coordinates` are added by the writer.
pub fn variable_attributes(
    catalog: &Catalog,
    product: ProductType,
    output_name: &str,
) -> Result<Attrs, AttrError> {
    let keys = merged_keys(catalog, product, output_name)?;
    Ok(attributes_of(&keys))
}

/// Attributes of grid-geometry variable `name` (`Depth`, `area`, `hFacC`, ...) from the
/// geometry metadata of `product`, by the rules of [`variable_attributes`].
pub fn geometry_attributes(
    catalog: &Catalog,
    product: ProductType,
    name: &str,
) -> Result<Attrs, AttrError> {
    let list = catalog.geometry_metadata(product)?;
    let entry = list
        .find(name)
        .ok_or_else(|| AttrError::VariableMetadataMissing {
            name: name.to_string(),
            product,
            searched: list.path.display().to_string(),
        })?;
    Ok(attributes_of(&entry.keys))
}

/// The attributes of merged metadata keys.
fn attributes_of(keys: &[(String, Value)]) -> Attrs {
    let mut attrs: Attrs = keys
        .iter()
        .filter(|(k, _)| !NOT_ATTRIBUTES.contains(&k.as_str()))
        .filter_map(|(k, v)| AttrValue::from_json(v).map(|a| (k.clone(), a)))
        .filter(|(_, a)| a.as_str() != Some(""))
        .collect();
    let comment = join_comments(text(keys, "comments_1"), text(keys, "comments_2"));
    if !comment.is_empty() {
        attrs.push(("comment".to_string(), AttrValue::Str(comment)));
    }
    attrs
}

/// The GCMD keywords of output variable `output_name`: `GCMD_keywords` split on `,` and
/// trimmed, empty items dropped (10.3 step 2).
pub fn gcmd_keywords(
    catalog: &Catalog,
    product: ProductType,
    output_name: &str,
) -> Result<Vec<String>, AttrError> {
    let keys = merged_keys(catalog, product, output_name)?;
    Ok(text(&keys, "GCMD_keywords")
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_join_with_the_edp_separator() {
        assert_eq!(join_comments("A.", "B"), "A. B");
        assert_eq!(join_comments("A", "B"), "A. B");
        assert_eq!(join_comments("A  ", "B"), "A  . B");
        assert_eq!(join_comments("", "B"), "B");
        assert_eq!(join_comments("A", ""), "A");
        assert_eq!(join_comments("", ""), "");
    }
}
