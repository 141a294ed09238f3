//! Coordinate and time attributes (`docs/metadata.md` 3 step 3, `docs/time-axis.md` 3) and the `coordinates`
//! attributes (9.5).

use super::AttrError;
use crate::attr_value::{AttrValue, Attrs, set_attr};
use crate::catalog::{Catalog, MetadataEntry, MetadataList};
use crate::time::{Frequency, ModelClock};
use crate::vocab::{Dimension, ProductType};

/// Keys of a coordinate metadata entry that are not attributes.
const NOT_ATTRIBUTES: &[&str] = &["name", "grid_dimension"];

/// The attributes of an entry: every key except `name`/`grid_dimension`, no empty strings
/// (the JSON `time.comment` is `""`; released files have no such attribute).
fn entry_attrs(entry: &MetadataEntry) -> Attrs {
    entry
        .keys
        .iter()
        .filter(|(k, _)| !NOT_ATTRIBUTES.contains(&k.as_str()))
        .filter_map(|(k, v)| AttrValue::from_json(v).map(|a| (k.clone(), a)))
        .filter(|(_, a)| a.as_str() != Some(""))
        .collect()
}

fn find<'a>(
    list: &'a MetadataList,
    product: ProductType,
    name: &str,
) -> Result<&'a MetadataEntry, AttrError> {
    list.find(name)
        .ok_or_else(|| AttrError::CoordinateMetadataMissing {
            name: name.to_string(),
            product,
            file: list.path.display().to_string(),
        })
}

/// Attributes of a spatial coordinate (`XC`, `Z`, `k_l`, `latitude`, `Z_bnds`, ...) from the
/// coordinate metadata of `product`. Use [`time_attributes`] / [`time_bnds_attributes`] for
/// `time` and `time_bnds`.
pub fn coordinate_attributes(
    catalog: &Catalog,
    product: ProductType,
    coord_name: &str,
) -> Result<Attrs, AttrError> {
    let list = catalog.coordinate_metadata(product)?;
    Ok(entry_attrs(find(list, product, coord_name)?))
}

/// Attributes of `time` from `time_coordinate_metadata.json`, with `long_name` set by the
/// frequency (`center time of averaging period` / `snapshot time`), `units` from the clock
/// (`hours since 1992-01-01 12:00:00` for V4r4, matching the int32 values of
/// [`crate::time::Period::time`]), `calendar = proleptic_gregorian`, and for SNAP no `bounds`
/// (no `time_bnds` is written).
pub fn time_attributes(
    catalog: &Catalog,
    clock: &ModelClock,
    frequency: Frequency,
) -> Result<Attrs, AttrError> {
    let list = catalog.time_coordinate_metadata()?;
    let mut attrs = entry_attrs(find(list, ProductType::Native, "time")?);
    set_attr(&mut attrs, "long_name", frequency.time_long_name().into());
    set_attr(&mut attrs, "units", clock.time_units().into());
    set_attr(&mut attrs, "calendar", "proleptic_gregorian".into());
    if !frequency.is_average() {
        attrs.retain(|(k, _)| k != "bounds");
    }
    Ok(attrs)
}

/// Attributes of `time_bnds` (averages only) from `time_coordinate_metadata.json`, without
/// `units`: CF bounds inherit the units of `time`, and the reference granules carry none.
pub fn time_bnds_attributes(catalog: &Catalog) -> Result<Attrs, AttrError> {
    let list = catalog.time_coordinate_metadata()?;
    let mut attrs = entry_attrs(find(list, ProductType::Native, "time_bnds")?);
    attrs.retain(|(k, _)| k != "units");
    Ok(attrs)
}

/// The coordinates that may appear in a variable's `coordinates` attribute, with their dims.
fn coordinate_dims(product: ProductType) -> &'static [(&'static str, &'static [&'static str])] {
    match product {
        ProductType::Native => &[
            ("XC", &["tile", "j", "i"]),
            ("YC", &["tile", "j", "i"]),
            ("XG", &["tile", "j_g", "i_g"]),
            ("YG", &["tile", "j_g", "i_g"]),
            ("Z", &["k"]),
            ("Zp1", &["k_p1"]),
            ("Zu", &["k_u"]),
            ("Zl", &["k_l"]),
            ("time", &["time"]),
        ],
        ProductType::Latlon => &[("Z", &["Z"]), ("time", &["time"])],
    }
}

/// The per-variable `coordinates` attribute (9.5): the coordinates among
/// `{XC, YC, XG, YG, Z, Zp1, Zu, Zl, time}` whose dims are all among `variable_dims`, sorted
/// (byte order) and space-separated; `None` when there is none. Native THETA → `XC YC Z time`,
/// WVEL → `XC YC Zl time`, UVEL → `Z time`; lat-lon THETA → `Z time`, SSH → `time`.
pub fn variable_coordinates(product: ProductType, variable_dims: &[&str]) -> Option<String> {
    let mut names: Vec<&str> = coordinate_dims(product)
        .iter()
        .filter(|(_, dims)| dims.iter().all(|d| variable_dims.contains(d)))
        .map(|(name, _)| *name)
        .collect();
    names.sort_unstable();
    (!names.is_empty()).then(|| names.join(" "))
}

/// The non-dimension coordinate variables of a granule (9.3, 9.4).
fn auxiliary_coordinates(
    product: ProductType,
    dimension: Dimension,
    frequency: Frequency,
) -> Vec<&'static str> {
    let mut names = match product {
        ProductType::Native => vec!["XC", "YC", "XG", "YG", "XC_bnds", "YC_bnds"],
        ProductType::Latlon => vec!["latitude_bnds", "longitude_bnds"],
    };
    if dimension == Dimension::ThreeD {
        match product {
            ProductType::Native => names.extend(["Z", "Zp1", "Zu", "Zl", "Z_bnds"]),
            ProductType::Latlon => names.push("Z_bnds"),
        }
    }
    if frequency.is_average() {
        names.push("time_bnds");
    }
    names
}

/// The global `coordinates` attribute (9.5, what xarray writes): the non-dimension
/// coordinate variables of the granule that no variable's `coordinates` attribute lists,
/// sorted (byte order) and space-separated. Native 2-D monthly with SSH-like variables →
/// `XC_bnds XG YC_bnds YG time_bnds`. `None` when there is none.
pub fn global_coordinates(
    product: ProductType,
    dimension: Dimension,
    frequency: Frequency,
    variable_coordinates: &[&str],
) -> Option<String> {
    let listed: Vec<&str> = variable_coordinates
        .iter()
        .flat_map(|c| c.split_whitespace())
        .collect();
    let mut names: Vec<&str> = auxiliary_coordinates(product, dimension, frequency)
        .into_iter()
        .filter(|n| !listed.contains(n))
        .collect();
    names.sort_unstable();
    (!names.is_empty()).then(|| names.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staggering::{Horizontal, Staggering, Vertical, latlon_dims};

    fn native(h: Horizontal, v: Vertical) -> Option<String> {
        variable_coordinates(ProductType::Native, &Staggering::new(h, v).native_dims())
    }

    #[test]
    fn variable_coordinates_match_the_format_doc_examples() {
        use Horizontal::*;
        use Vertical::*;
        assert_eq!(native(Centre, K).as_deref(), Some("XC YC Z time"));
        assert_eq!(native(Centre, KL).as_deref(), Some("XC YC Zl time"));
        assert_eq!(native(UFace, K).as_deref(), Some("Z time"));
        assert_eq!(native(Centre, Surface).as_deref(), Some("XC YC time"));
        assert_eq!(native(VFace, Surface).as_deref(), Some("time"));
        assert_eq!(native(Corner, Surface).as_deref(), Some("XG YG time"));
        let latlon = |d| variable_coordinates(ProductType::Latlon, &latlon_dims(d));
        assert_eq!(latlon(Dimension::TwoD).as_deref(), Some("time"));
        assert_eq!(latlon(Dimension::ThreeD).as_deref(), Some("Z time"));
        assert_eq!(variable_coordinates(ProductType::Native, &["nv"]), None);
    }

    #[test]
    fn global_coordinates_list_the_unused_auxiliaries() {
        let ssh = native(Horizontal::Centre, Vertical::Surface).unwrap();
        assert_eq!(
            global_coordinates(
                ProductType::Native,
                Dimension::TwoD,
                Frequency::AvgMon,
                &[&ssh]
            )
            .as_deref(),
            Some("XC_bnds XG YC_bnds YG time_bnds")
        );
        // Native OCEAN_VELOCITY: UVEL, VVEL (Z time), WVEL (XC YC Zl time).
        let uvel = native(Horizontal::UFace, Vertical::K).unwrap();
        let wvel = native(Horizontal::Centre, Vertical::KL).unwrap();
        assert_eq!(
            global_coordinates(
                ProductType::Native,
                Dimension::ThreeD,
                Frequency::AvgMon,
                &[&uvel, &uvel, &wvel]
            )
            .as_deref(),
            Some("XC_bnds XG YC_bnds YG Z_bnds Zp1 Zu time_bnds")
        );
        assert_eq!(
            global_coordinates(
                ProductType::Latlon,
                Dimension::ThreeD,
                Frequency::AvgDay,
                &["Z time"]
            )
            .as_deref(),
            Some("Z_bnds latitude_bnds longitude_bnds time_bnds")
        );
        assert_eq!(
            global_coordinates(
                ProductType::Latlon,
                Dimension::TwoD,
                Frequency::Snap,
                &["time"]
            )
            .as_deref(),
            Some("latitude_bnds longitude_bnds")
        );
    }
}
