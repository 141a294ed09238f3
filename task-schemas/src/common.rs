//! Small vocabulary types shared by several formats: product type, frequency, dimension,
//! product kind, time-step selection and one job.
//!
//! These are wire types: their JSON spellings are the EDP spellings (`native`, `AVG_MON`,
//! `2D`, ...). Parsing from free text (job files, command lines) is case-insensitive through
//! [`std::str::FromStr`]; JSON is strict so that the schemas can list the exact values.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ParseValueError;

/// Output grid of a product (EDP `product_type`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ProductType {
    /// Native LLC tiles.
    Native,
    /// Regular latitude-longitude grid (interpolated).
    Latlon,
}

impl ProductType {
    /// Every product type, in catalog order.
    pub const ALL: [ProductType; 2] = [ProductType::Native, ProductType::Latlon];

    /// The EDP spelling (`native`, `latlon`), also the output directory name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProductType::Native => "native",
            ProductType::Latlon => "latlon",
        }
    }
}

impl fmt::Display for ProductType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProductType {
    type Err = ParseValueError;

    /// Case-insensitive; `1D` is recognised and rejected as unsupported (EDP accepts it when
    /// planning but cannot produce such granules).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "native" => Ok(ProductType::Native),
            "latlon" => Ok(ProductType::Latlon),
            "1d" => Err(ParseValueError::Unsupported {
                what: "product type",
                found: s.to_string(),
                reason: "1D products cannot be produced (EDP rejects them too)",
            }),
            _ => Err(ParseValueError::Unknown {
                what: "product type",
                expected: "'native' or 'latlon'",
                found: s.to_string(),
            }),
        }
    }
}

/// Output frequency of a job (EDP `frequency`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Frequency {
    /// Monthly means (`mon_mean`).
    #[serde(rename = "AVG_MON")]
    AvgMon,
    /// Daily means (`day_mean`).
    #[serde(rename = "AVG_DAY")]
    AvgDay,
    /// Instantaneous snapshots (`snap`).
    #[serde(rename = "SNAP")]
    Snap,
    /// Time-invariant fields (`TI` in V4r4 groupings, `TIME-INVARIANT` in V4r5): one granule
    /// per dataset, without a time axis (`docs/time-invariant.md`).
    #[serde(rename = "TI", alias = "TIME-INVARIANT")]
    TimeInvariant,
}

impl Frequency {
    /// Every frequency with a time axis: one granule per time step.
    pub const TIME_VARYING: [Frequency; 3] =
        [Frequency::AvgMon, Frequency::AvgDay, Frequency::Snap];

    /// The EDP spelling (`AVG_MON`, `AVG_DAY`, `SNAP`, `TI`).
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::AvgMon => "AVG_MON",
            Frequency::AvgDay => "AVG_DAY",
            Frequency::Snap => "SNAP",
            Frequency::TimeInvariant => "TI",
        }
    }

    /// True for the time-invariant frequency (no time axis, no time steps).
    pub fn is_time_invariant(self) -> bool {
        matches!(self, Frequency::TimeInvariant)
    }

    /// True for the averaged frequencies (records with time bounds).
    pub fn is_average(self) -> bool {
        matches!(self, Frequency::AvgMon | Frequency::AvgDay)
    }

    /// `time_coverage_duration` and `time_coverage_resolution`: `P1M`, `P1D`, `PT0S`.
    ///
    /// SNAP uses `PT0S` (ISO 8601 zero duration); ACCESS wrote `P0S`. Time-invariant
    /// granules have no time coverage: empty.
    pub fn duration(self) -> &'static str {
        match self {
            Frequency::AvgMon => "P1M",
            Frequency::AvgDay => "P1D",
            Frequency::Snap => "PT0S",
            Frequency::TimeInvariant => "",
        }
    }

    /// `long_name` of the `time` coordinate.
    pub fn time_long_name(self) -> &'static str {
        match self {
            Frequency::AvgMon | Frequency::AvgDay => "center time of averaging period",
            Frequency::Snap => "snapshot time",
            Frequency::TimeInvariant => "",
        }
    }

    /// The word of the task summary (`docs/edp-compatibility.md` 2.1): `monthly-averaged`,
    /// `daily-averaged` or `instantaneous`.
    pub fn summary_word(self) -> &'static str {
        match self {
            Frequency::AvgMon => "monthly-averaged",
            Frequency::AvgDay => "daily-averaged",
            Frequency::Snap => "instantaneous",
            Frequency::TimeInvariant => "time-invariant",
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Frequency {
    type Err = ParseValueError;

    /// Case-insensitive, as EDP compares `frequency.lower()`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "AVG_MON" => Ok(Frequency::AvgMon),
            "AVG_DAY" => Ok(Frequency::AvgDay),
            "SNAP" => Ok(Frequency::Snap),
            "TI" | "TIME-INVARIANT" => Ok(Frequency::TimeInvariant),
            _ => Err(ParseValueError::Unknown {
                what: "frequency",
                expected: "'AVG_MON', 'AVG_DAY', 'SNAP' or 'TI' ('TIME-INVARIANT')",
                found: s.to_string(),
            }),
        }
    }
}

/// Spatial dimension of a grouping (`2D` or `3D`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Dimension {
    /// Surface fields.
    #[serde(rename = "2D")]
    TwoD,
    /// Fields with a vertical axis.
    #[serde(rename = "3D")]
    ThreeD,
}

impl Dimension {
    /// The EDP spelling (`2D`, `3D`).
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::TwoD => "2D",
            Dimension::ThreeD => "3D",
        }
    }

    /// Parses the exact spelling used by the metadata (`2D`, `3D`; surrounding blanks
    /// ignored).
    pub fn parse(s: &str) -> Option<Dimension> {
        s.trim().parse().ok()
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dimension {
    type Err = ParseValueError;

    /// Exact spelling (`2D`, `3D`), as EDP groupings and task lists write it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "2D" => Ok(Dimension::TwoD),
            "3D" => Ok(Dimension::ThreeD),
            _ => Err(ParseValueError::Unknown {
                what: "dimension",
                expected: "'2D' or '3D'",
                found: s.to_string(),
            }),
        }
    }
}

/// Product kind: product type x dimension. The unit of the cost model and of run statistics.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum ProductKind {
    /// Native grid, 2-D fields.
    #[serde(rename = "native_2d")]
    Native2d,
    /// Native grid, 3-D fields.
    #[serde(rename = "native_3d")]
    Native3d,
    /// Lat-lon grid, 2-D fields.
    #[serde(rename = "latlon_2d")]
    Latlon2d,
    /// Lat-lon grid, 3-D fields.
    #[serde(rename = "latlon_3d")]
    Latlon3d,
}

impl ProductKind {
    /// Every kind, cheapest first.
    pub const ALL: [ProductKind; 4] = [
        ProductKind::Native2d,
        ProductKind::Latlon2d,
        ProductKind::Native3d,
        ProductKind::Latlon3d,
    ];

    /// The kind of a product type and dimension.
    pub fn new(product_type: ProductType, dimension: Dimension) -> ProductKind {
        match (product_type, dimension) {
            (ProductType::Native, Dimension::TwoD) => ProductKind::Native2d,
            (ProductType::Native, Dimension::ThreeD) => ProductKind::Native3d,
            (ProductType::Latlon, Dimension::TwoD) => ProductKind::Latlon2d,
            (ProductType::Latlon, Dimension::ThreeD) => ProductKind::Latlon3d,
        }
    }

    /// The product type of this kind.
    pub fn product_type(self) -> ProductType {
        match self {
            ProductKind::Native2d | ProductKind::Native3d => ProductType::Native,
            ProductKind::Latlon2d | ProductKind::Latlon3d => ProductType::Latlon,
        }
    }

    /// The dimension of this kind.
    pub fn dimension(self) -> Dimension {
        match self {
            ProductKind::Native2d | ProductKind::Latlon2d => Dimension::TwoD,
            ProductKind::Native3d | ProductKind::Latlon3d => Dimension::ThreeD,
        }
    }

    /// The JSON spelling (`native_2d`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ProductKind::Native2d => "native_2d",
            ProductKind::Native3d => "native_3d",
            ProductKind::Latlon2d => "latlon_2d",
            ProductKind::Latlon3d => "latlon_3d",
        }
    }
}

impl fmt::Display for ProductKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which time steps of a job to produce: `"all"` or an explicit list of model steps.
///
/// JSON: the string `"all"` (any case is accepted when reading) or an array of non-negative
/// integers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TimeSteps {
    /// Every step found in the source.
    All,
    /// Only these model time steps (the 10-digit number of the MDS file names).
    Steps(Vec<u64>),
}

impl Serialize for TimeSteps {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TimeSteps::All => serializer.serialize_str("all"),
            TimeSteps::Steps(steps) => steps.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for TimeSteps {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StepsVisitor;

        impl<'de> serde::de::Visitor<'de> for StepsVisitor {
            type Value = TimeSteps;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"all\" or a list of non-negative integer time steps")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TimeSteps, E> {
                if v.eq_ignore_ascii_case("all") {
                    Ok(TimeSteps::All)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<TimeSteps, A::Error> {
                let mut steps = Vec::new();
                while let Some(step) = seq.next_element::<u64>()? {
                    steps.push(step);
                }
                Ok(TimeSteps::Steps(steps))
            }
        }

        deserializer.deserialize_any(StepsVisitor)
    }
}

impl JsonSchema for TimeSteps {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TimeSteps".into()
    }

    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "\"all\" (any case) or a non-empty list of model time steps",
            "oneOf": [
                { "type": "string", "pattern": "^[Aa][Ll][Ll]$" },
                {
                    "type": "array",
                    "items": { "type": "integer", "minimum": 0 },
                    "minItems": 1
                }
            ]
        })
    }
}

/// One job: a grouping of one product type at one frequency, for some time steps.
///
/// The same four elements as an EDP job-file line `[id, product_type, frequency, steps]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Job {
    /// 0-based position in the groupings list of `product_type`.
    pub grouping_id: u32,
    /// Output grid.
    pub product_type: ProductType,
    /// Output frequency.
    pub frequency: Frequency,
    /// Steps to produce.
    pub time_steps: TimeSteps,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_type_parses_any_case_and_rejects_1d() {
        assert_eq!("Native".parse::<ProductType>(), Ok(ProductType::Native));
        assert_eq!("LATLON".parse::<ProductType>(), Ok(ProductType::Latlon));
        let err = "1d".parse::<ProductType>().unwrap_err();
        assert!(matches!(err, ParseValueError::Unsupported { .. }));
        assert!(err.to_string().contains("1d"));
        assert!(matches!(
            "grid".parse::<ProductType>(),
            Err(ParseValueError::Unknown { .. })
        ));
    }

    #[test]
    fn frequency_parses_any_case() {
        assert_eq!("avg_mon".parse::<Frequency>(), Ok(Frequency::AvgMon));
        assert_eq!("Avg_Day".parse::<Frequency>(), Ok(Frequency::AvgDay));
        assert_eq!("snap".parse::<Frequency>(), Ok(Frequency::Snap));
        assert!("AVG_YEAR".parse::<Frequency>().is_err());
        for f in Frequency::TIME_VARYING {
            assert_eq!(f.as_str().parse::<Frequency>(), Ok(f));
        }
        assert_eq!("ti".parse::<Frequency>(), Ok(Frequency::TimeInvariant));
        assert_eq!(
            "Time-Invariant".parse::<Frequency>(),
            Ok(Frequency::TimeInvariant)
        );
        let err = "TIME_INVARIANT".parse::<Frequency>().unwrap_err();
        assert!(err.to_string().contains("\"TIME_INVARIANT\""), "{err}");
        // Both spellings deserialize; the V4r4 one is written.
        let ti: Frequency = serde_json::from_str("\"TIME-INVARIANT\"").unwrap();
        assert_eq!(ti, Frequency::TimeInvariant);
        assert_eq!(serde_json::to_string(&ti).unwrap(), "\"TI\"");
    }

    #[test]
    fn dimension_round_trips_its_spelling() {
        for d in [Dimension::TwoD, Dimension::ThreeD] {
            assert_eq!(Dimension::parse(d.as_str()), Some(d));
            assert_eq!(Dimension::parse(&format!(" {d} ")), Some(d));
        }
        assert_eq!(Dimension::parse("1D"), None);
    }

    #[test]
    fn frequency_texts_follow_averaging() {
        assert!(Frequency::AvgMon.is_average() && !Frequency::Snap.is_average());
        assert_eq!(Frequency::Snap.duration(), "PT0S");
        assert_eq!(Frequency::Snap.time_long_name(), "snapshot time");
        assert_eq!(Frequency::AvgDay.summary_word(), "daily-averaged");
    }

    #[test]
    fn time_steps_json_round_trip() {
        let all: TimeSteps = serde_json::from_str("\"ALL\"").unwrap();
        assert_eq!(all, TimeSteps::All);
        assert_eq!(serde_json::to_string(&all).unwrap(), "\"all\"");
        let list: TimeSteps = serde_json::from_str("[732, 1428]").unwrap();
        assert_eq!(list, TimeSteps::Steps(vec![732, 1428]));
        assert_eq!(serde_json::to_string(&list).unwrap(), "[732,1428]");
        assert!(serde_json::from_str::<TimeSteps>("\"some\"").is_err());
        assert!(serde_json::from_str::<TimeSteps>("[-1]").is_err());
    }

    #[test]
    fn product_kind_combines_type_and_dimension() {
        for kind in ProductKind::ALL {
            assert_eq!(
                ProductKind::new(kind.product_type(), kind.dimension()),
                kind
            );
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(
            ProductKind::new(ProductType::Latlon, Dimension::ThreeD).as_str(),
            "latlon_3d"
        );
    }
}
