//! Global attributes (`docs/metadata.md` 3 steps 4-6).

use std::collections::BTreeSet;

use chrono::NaiveDateTime;

use super::AttrError;
use super::dynamic::DynamicMetadata;
use super::variable::gcmd_keywords;
use crate::attr_value::{AttrValue, Attrs, get_attr, set_attr};
use crate::catalog::{Catalog, DOI_PLACEHOLDER_ATTRIBUTES, GlobalScope};
use crate::config::ProductionConfig;
use crate::time::{Frequency, format_time};
use crate::vocab::{Dimension, ProductType};

/// The global `coordinates_comment` (spelling as in the released granules and EDP Gen B;
/// Gen C writes a `coordinates_note` instead, which we do not reproduce).
pub const COORDINATES_COMMENT: &str =
    "Note: the global 'coordinates' attribute describes auxillary coordinates.";

/// Prefix of the placeholders of the global metadata (`TBD_DATASET`, `TBD_DOI`,
/// `TBD_FILENAME`), all of which the dynamic step must overwrite.
const PLACEHOLDER_PREFIX: &str = "TBD_";

/// What the global attributes of one granule depend on besides the catalog and configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct GranuleContext<'a> {
    /// Product type.
    pub product: ProductType,
    /// Frequency.
    pub frequency: Frequency,
    /// The granule file name (`product_name`; also the PO.DAAC lookup key).
    pub product_name: &'a str,
    /// The task's dynamic metadata (authoritative for times, comment and summary).
    pub dynamic: &'a DynamicMetadata,
    /// Output variable names actually in the granule (their GCMD keywords go to `keywords`;
    /// a partial granule lists only the variables it has).
    pub variables: &'a [String],
    /// Creation time for the `date_*` attributes (UTC; upstream used local time).
    pub date_created: NaiveDateTime,
    /// The granule's UUID (any RFC 4122 UUID).
    pub uuid: &'a str,
}

/// Sorts attributes case-insensitively by name (Python `str.casefold` order for the ASCII
/// names used here), ties by exact name.
pub fn sort_casefold(attrs: &mut Attrs) {
    attrs.sort_by(|(a, _), (b, _)| {
        a.to_lowercase()
            .cmp(&b.to_lowercase())
            .then_with(|| a.cmp(b))
    });
}

/// The global attributes of a granule, sorted case-insensitively, without the global
/// `coordinates` (see [`super::global_coordinates`]).
///
/// Static: `global_metadata_for_all` then `global_metadata_for_{native,latlon}`, skipping
/// entries whose `grid_dimension` excludes the granule's dimension, later entries overwriting
/// earlier ones. Dynamic: `time_coverage_*`, `date_*`, `uuid`, `product_name`, `comment`
/// (static + " " + grouping comment), `keywords` (sorted union), `summary` (task summary +
/// " " + project text, trimmed; the project text is the configuration `summary`, or the static
/// `summary` of the global metadata when the configuration has none), `history`/`references`/`source`/`product_version`
/// from the configuration, `geospatial_vertical_min` (3-D only), `product_time_coverage_*`,
/// `id`/`metadata_link`/`title` from the PO.DAAC table, `coordinates_comment`. A `TBD_*`
/// placeholder left over is an error.
pub fn global_attributes(
    catalog: &Catalog,
    config: &ProductionConfig,
    ctx: &GranuleContext<'_>,
) -> Result<Attrs, AttrError> {
    let dimension = ctx.dynamic.dimension;
    let mut attrs: Attrs = Vec::new();
    for scope in [GlobalScope::All, GlobalScope::of(ctx.product)] {
        for entry in catalog.global_metadata(scope)? {
            if entry.applies_to(dimension) {
                set_attr(&mut attrs, &entry.name, entry.value.clone());
            }
        }
    }

    let d = ctx.dynamic;
    let text = |s: &str| AttrValue::Str(s.to_string());
    set_attr(
        &mut attrs,
        "time_coverage_start",
        text(&d.time_coverage_start),
    );
    set_attr(&mut attrs, "time_coverage_end", text(&d.time_coverage_end));
    set_attr(
        &mut attrs,
        "time_coverage_duration",
        text(&d.time_coverage_duration),
    );
    set_attr(
        &mut attrs,
        "time_coverage_resolution",
        text(&d.time_coverage_resolution),
    );
    let created = format_time(ctx.date_created);
    for name in [
        "date_created",
        "date_modified",
        "date_metadata_modified",
        "date_issued",
    ] {
        set_attr(&mut attrs, name, text(&created));
    }
    set_attr(&mut attrs, "uuid", text(ctx.uuid));
    set_attr(&mut attrs, "product_name", text(ctx.product_name));

    let comment = [
        get_attr(&attrs, "comment")
            .and_then(AttrValue::as_str)
            .unwrap_or(""),
        d.comment.as_deref().unwrap_or(""),
    ]
    .into_iter()
    .filter(|c| !c.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    set_attr(&mut attrs, "comment", AttrValue::Str(comment));

    let mut keywords: BTreeSet<String> = BTreeSet::new();
    for variable in ctx.variables {
        keywords.extend(gcmd_keywords(catalog, ctx.product, variable)?);
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

    // Project text: the configuration's `summary` when it has one (Gen B / ACCESS), else the
    // static `summary` of the global metadata JSON, so that granules made with the built-in
    // V4r4 configuration (which has no project text) keep ECCO's project summary. Gen C
    // appended an undefined `project_summary` instead and lost it (docs/edp-compatibility.md 7.11).
    let static_summary = get_attr(&attrs, "summary")
        .and_then(AttrValue::as_str)
        .unwrap_or("")
        .to_string();
    let project = if config.summary.trim().is_empty() {
        static_summary.as_str()
    } else {
        config.summary.as_str()
    };
    let summary = format!("{} {}", d.summary.trim(), project.trim());
    set_attr(&mut attrs, "summary", text(summary.trim()));
    set_attr(&mut attrs, "history", text(&config.history));
    set_attr(&mut attrs, "references", text(&config.references));
    set_attr(&mut attrs, "source", text(&config.source));
    set_attr(&mut attrs, "product_version", text(&config.product_version));

    // EDP writes geospatial_vertical_min to every granule (bug 7.9); released 2-D granules
    // do not have it.
    match dimension {
        Dimension::ThreeD => set_attr(
            &mut attrs,
            "geospatial_vertical_min",
            AttrValue::F64(config.geospatial_vertical_min),
        ),
        Dimension::TwoD => attrs.retain(|(n, _)| n != "geospatial_vertical_min"),
    }

    // Keep the metadata values (released granules: 2018-01-01T00:00:00 as the end, where EDP
    // writes model_end_time, bug 7.10) unless the configuration overrides the end; fill from
    // the model clock only when the metadata lacks them.
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

    // id = DOI and metadata_link = CMR URL as in Gen B / ACCESS and the released granules
    // (Gen C writes id = short name and a doi.org metadata_link, bug 7.12).
    let ids = catalog
        .podaac()?
        .ids(ctx.product_name, &config.metadata_link_root)?;
    set_attr(&mut attrs, "id", AttrValue::Str(ids.id.clone()));
    set_attr(
        &mut attrs,
        "metadata_link",
        AttrValue::Str(ids.metadata_link),
    );
    set_attr(&mut attrs, "title", AttrValue::Str(ids.title));
    // Known defect (V4r5): `identifier_product_doi` = `TBD_DOI`; the DOI is the dataset's
    // PO.DAAC persistent id (reported once by the catalog, `RepairKind::PlaceholderFromPodaac`).
    if catalog.repairs_enabled() {
        for name in DOI_PLACEHOLDER_ATTRIBUTES {
            let is_placeholder = get_attr(&attrs, name)
                .and_then(AttrValue::as_str)
                .is_some_and(|v| v.starts_with(PLACEHOLDER_PREFIX));
            if is_placeholder {
                set_attr(&mut attrs, name, AttrValue::Str(ids.id.clone()));
            }
        }
    }
    set_attr(&mut attrs, "coordinates_comment", text(COORDINATES_COMMENT));

    if let Some((name, value)) = attrs.iter().find_map(|(n, v)| {
        v.as_str()
            .filter(|s| s.starts_with(PLACEHOLDER_PREFIX))
            .map(|s| (n, s))
    }) {
        return Err(AttrError::UnresolvedPlaceholder {
            name: name.clone(),
            value: value.to_string(),
        });
    }
    sort_casefold(&mut attrs);
    Ok(attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casefold_sort_puts_conventions_between_comment_and_coordinates() {
        let mut attrs: Attrs = [
            "coordinates_comment",
            "Conventions",
            "comment",
            "acknowledgement",
        ]
        .into_iter()
        .map(|n| (n.to_string(), AttrValue::I32(0)))
        .collect();
        sort_casefold(&mut attrs);
        let names: Vec<&str> = attrs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "acknowledgement",
                "comment",
                "Conventions",
                "coordinates_comment"
            ]
        );
    }
}
