//! Attributes of the 1-D datasets: variables from `*variable_metadata.json` overlaid by
//! `*variable_metadata_for_1D_datasets.json`, `time` from the 1-D coordinate metadata (or the
//! time coordinate metadata when a release has no 1-D file), and the global attributes of
//! `global_metadata_for_all` + `global_metadata_for_1D` with the dynamic values of a whole-run
//! time series.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use serde_json::Value;

use super::AttrError;
use super::global::{COORDINATES_COMMENT, sort_casefold};
use super::variable::join_comments;
use crate::attr_value::{AttrValue, Attrs, get_attr, set_attr};
use crate::catalog::{Catalog, DOI_PLACEHOLDER_ATTRIBUTES, GlobalScope, OneDDataset};
use crate::config::ProductionConfig;
use crate::time::{Frequency, format_time};
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

/// The merged metadata keys of 1-D variable `name` (general entry, then the 1-D entry key by
/// key); an error when neither file has it.
fn keys_1d(catalog: &Catalog, name: &str) -> Result<Vec<(String, Value)>, AttrError> {
    let general = catalog.variable_metadata()?.find(name);
    let one_d = catalog.variable_metadata_1d()?.find(name);
    if general.is_none() && one_d.is_none() {
        return Err(AttrError::VariableMetadataMissing {
            name: name.to_string(),
            product: ProductType::Native,
            searched: format!(
                "{}, {}",
                catalog.variable_metadata()?.path.display(),
                catalog.variable_metadata_1d()?.path.display()
            ),
        });
    }
    let mut keys: Vec<(String, Value)> = general.map(|e| e.keys.clone()).unwrap_or_default();
    for (key, value) in one_d.iter().flat_map(|e| &e.keys) {
        match keys.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.clone(),
            None => keys.push((key.clone(), value.clone())),
        }
    }
    Ok(keys)
}

fn text_key<'a>(keys: &'a [(String, Value)], key: &str) -> &'a str {
    keys.iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Attributes of 1-D variable `name` (as [`super::variable_attributes`] does for gridded
/// variables).
pub fn variable_attributes_1d(catalog: &Catalog, name: &str) -> Result<Attrs, AttrError> {
    let keys = keys_1d(catalog, name)?;
    let mut attrs: Attrs = keys
        .iter()
        .filter(|(k, _)| !NOT_ATTRIBUTES.contains(&k.as_str()))
        .filter_map(|(k, v)| AttrValue::from_json(v).map(|a| (k.clone(), a)))
        .filter(|(_, a)| a.as_str() != Some(""))
        .collect();
    let comment = join_comments(text_key(&keys, "comments_1"), text_key(&keys, "comments_2"));
    if !comment.is_empty() {
        attrs.push(("comment".to_string(), AttrValue::Str(comment)));
    }
    Ok(attrs)
}

/// Attributes of the `time` coordinate of a 1-D dataset: the 1-D coordinate metadata entry
/// (or `time_coordinate_metadata.json`), `long_name` by frequency, `units` as the input file
/// gives them, no `bounds` (no `time_bnds` is written).
pub fn time_attributes_1d(
    catalog: &Catalog,
    frequency: Frequency,
    units: &str,
) -> Result<Attrs, AttrError> {
    let list = match catalog.coordinate_metadata_1d() {
        Ok(list) if list.find("time").is_some() => list,
        _ => catalog.time_coordinate_metadata()?,
    };
    let entry = list
        .find("time")
        .ok_or_else(|| AttrError::CoordinateMetadataMissing {
            name: "time".to_string(),
            product: ProductType::Native,
            file: list.path.display().to_string(),
        })?;
    let mut attrs: Attrs = entry
        .keys
        .iter()
        .filter(|(k, _)| k != "name" && k != "grid_dimension")
        .filter_map(|(k, v)| AttrValue::from_json(v).map(|a| (k.clone(), a)))
        .filter(|(_, a)| a.as_str() != Some(""))
        .collect();
    attrs.retain(|(k, _)| k != "bounds");
    set_attr(&mut attrs, "long_name", frequency.time_long_name().into());
    set_attr(&mut attrs, "units", units.into());
    Ok(attrs)
}

/// The global attributes of the 1-D granule `product_name` of `dataset` at `frequency`,
/// sorted case-insensitively. Static: all + 1-D global metadata (entries whose
/// `grid_dimension` excludes `1D` are skipped). Dynamic: the model run as time coverage,
/// `time_coverage_duration/resolution` of the frequency, `date_*`, `uuid`, `product_name`,
/// `comment` (+ grouping comment), `keywords` (+ GCMD keywords of the variables), `summary`
/// (`This dataset provides <monthly-averaged|daily-averaged|instantaneous> <name>` + the
/// configuration's 1-D tail + project text), configuration texts, PO.DAAC `id`,
/// `metadata_link`, `title` (and the DOI placeholder, see `RepairKind::PlaceholderFromPodaac`).
/// A `TBD_*` placeholder left over is an error.
pub fn global_attributes_1d(
    catalog: &Catalog,
    config: &ProductionConfig,
    dataset: &OneDDataset,
    frequency: Frequency,
    product_name: &str,
    date_created: NaiveDateTime,
    uuid: &str,
) -> Result<Attrs, AttrError> {
    let mut attrs: Attrs = Vec::new();
    let applies = |dims: &Option<Vec<String>>| {
        dims.as_ref()
            .is_none_or(|d| d.iter().any(|x| x.trim() == "1D"))
    };
    for entry in catalog.global_metadata(GlobalScope::All)? {
        if applies(&entry.grid_dimension) {
            set_attr(&mut attrs, &entry.name, entry.value.clone());
        }
    }
    if let Ok(one_d) = catalog.global_metadata_1d() {
        for entry in one_d {
            if applies(&entry.grid_dimension) {
                set_attr(&mut attrs, &entry.name, entry.value.clone());
            }
        }
    }
    let text = |s: &str| AttrValue::Str(s.to_string());
    set_attr(
        &mut attrs,
        "time_coverage_start",
        text(&format_time(config.clock.start())),
    );
    set_attr(
        &mut attrs,
        "time_coverage_end",
        text(&format_time(config.clock.end())),
    );
    set_attr(
        &mut attrs,
        "time_coverage_duration",
        text(frequency.duration()),
    );
    set_attr(
        &mut attrs,
        "time_coverage_resolution",
        text(frequency.duration()),
    );
    let created = format_time(date_created);
    for name in [
        "date_created",
        "date_modified",
        "date_metadata_modified",
        "date_issued",
    ] {
        set_attr(&mut attrs, name, text(&created));
    }
    set_attr(&mut attrs, "uuid", text(uuid));
    set_attr(&mut attrs, "product_name", text(product_name));
    let comment = [
        get_attr(&attrs, "comment")
            .and_then(AttrValue::as_str)
            .unwrap_or(""),
        dataset.comment.as_deref().unwrap_or(""),
    ]
    .into_iter()
    .filter(|c| !c.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    set_attr(&mut attrs, "comment", AttrValue::Str(comment));

    let mut keywords: BTreeSet<String> = BTreeSet::new();
    for field in &dataset.fields {
        let keys = keys_1d(catalog, field)?;
        keywords.extend(
            text_key(&keys, "GCMD_keywords")
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string),
        );
    }
    if let Some(AttrValue::Str(static_keywords)) = get_attr(&attrs, "keywords") {
        keywords.extend(
            static_keywords
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string),
        );
    }
    set_attr(
        &mut attrs,
        "keywords",
        AttrValue::Str(keywords.into_iter().collect::<Vec<_>>().join(", ")),
    );

    let word = match frequency {
        Frequency::Snap => "instantaneous hourly",
        other => other.summary_word(),
    };
    let static_summary = get_attr(&attrs, "summary")
        .and_then(AttrValue::as_str)
        .unwrap_or("")
        .to_string();
    let project = if config.summary.trim().is_empty() {
        static_summary.as_str()
    } else {
        config.summary.as_str()
    };
    let own = format!(
        "This dataset provides {word} {}{}",
        dataset.name, config.dataset_description_tail_1d
    );
    let summary = format!("{} {}", own.trim(), project.trim());
    let summary = summary.split_whitespace().collect::<Vec<_>>().join(" ");
    set_attr(&mut attrs, "summary", text(&summary));
    set_attr(&mut attrs, "history", text(&config.history));
    set_attr(&mut attrs, "references", text(&config.references));
    set_attr(&mut attrs, "source", text(&config.source));
    set_attr(&mut attrs, "product_version", text(&config.product_version));
    if get_attr(&attrs, "product_time_coverage_start").is_none() {
        set_attr(
            &mut attrs,
            "product_time_coverage_start",
            text(&format_time(config.clock.start())),
        );
    }
    match &config.product_time_coverage_end {
        Some(end) => set_attr(&mut attrs, "product_time_coverage_end", text(end)),
        None if get_attr(&attrs, "product_time_coverage_end").is_none() => set_attr(
            &mut attrs,
            "product_time_coverage_end",
            text(&format_time(config.clock.end())),
        ),
        None => {}
    }
    // No vertical extent in a global time series.
    attrs.retain(|(n, _)| !n.starts_with("geospatial_vertical"));

    let ids = catalog
        .podaac()?
        .ids(product_name, &config.metadata_link_root)?;
    set_attr(&mut attrs, "id", AttrValue::Str(ids.id.clone()));
    set_attr(
        &mut attrs,
        "metadata_link",
        AttrValue::Str(ids.metadata_link),
    );
    set_attr(&mut attrs, "title", AttrValue::Str(ids.title));
    if catalog.repairs_enabled() {
        for name in DOI_PLACEHOLDER_ATTRIBUTES {
            let is_placeholder = get_attr(&attrs, name)
                .and_then(AttrValue::as_str)
                .is_some_and(|v| v.starts_with("TBD_"));
            if is_placeholder {
                set_attr(&mut attrs, name, AttrValue::Str(ids.id.clone()));
            }
        }
    }
    set_attr(&mut attrs, "coordinates_comment", text(COORDINATES_COMMENT));
    if let Some((name, value)) = attrs
        .iter()
        .find_map(|(n, v)| v.as_str().filter(|s| s.starts_with("TBD_")).map(|s| (n, s)))
    {
        return Err(AttrError::UnresolvedPlaceholder {
            name: name.clone(),
            value: value.to_string(),
        });
    }
    sort_casefold(&mut attrs);
    Ok(attrs)
}
