//! The locations of a planning request, declared once, and the one precedence rule that merges
//! them.
//!
//! A request's locations can come from several places: a command-line option or a trigger
//! payload, the locations written in a JSON job spec, and the deployment's defaults (the
//! environment for the two roots, SSM settings for the others). The rule is the same for
//! `edp plan`/`edp run` and for the planner Lambda: the first place that gives a location
//! wins, in the order option/payload > job spec > environment/settings. Each caller builds a
//! [`Locations`] per place and folds them with [`Locations::or`].
//!
//! The JSON payloads ([`crate::JobSpec`], [`crate::ManualTrigger`]) keep their keys flat
//! (`"grid_loc"` next to `"jobs"`): they reject unknown keys, which serde cannot combine with
//! a flattened struct, so they expose their locations through `locations()` instead.

/// The locations copied into every task: EDP's `--ecco_cfg_loc`, `--ecco_grid_loc`,
/// `--ecco_mapping_factors_loc` and `--ecco_metadata_loc`, as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskLocations {
    /// Production configuration YAML (`ecco_cfg_loc`; left out of tasks when `None`).
    pub cfg_loc: Option<String>,
    /// Grid location (`ecco_grid_loc`).
    pub grid_loc: Option<String>,
    /// Lat-lon mapping factors (`ecco_mapping_factors_loc`).
    pub factors_loc: Option<String>,
    /// ECCO metadata directory (`ecco_metadata_loc`).
    pub metadata_loc: Option<String>,
}

impl TaskLocations {
    /// Each location of `self`, else the one of `fallback`.
    pub fn or(self, fallback: TaskLocations) -> TaskLocations {
        TaskLocations {
            cfg_loc: self.cfg_loc.or(fallback.cfg_loc),
            grid_loc: self.grid_loc.or(fallback.grid_loc),
            factors_loc: self.factors_loc.or(fallback.factors_loc),
            metadata_loc: self.metadata_loc.or(fallback.metadata_loc),
        }
    }
}

/// Every location of a planning request: the two roots and the locations tasks carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locations {
    /// Root of the model output (EDP `--ecco_source_root`).
    pub source_root: Option<String>,
    /// Root of the products (EDP `--ecco_destination_root`).
    pub dest_root: Option<String>,
    /// The locations copied into every task.
    pub task: TaskLocations,
}

impl Locations {
    /// Each location of `self`, else the one of `fallback`: chain the places from the most to
    /// the least specific (`option.or(spec).or(defaults)`).
    pub fn or(self, fallback: Locations) -> Locations {
        Locations {
            source_root: self.source_root.or(fallback.source_root),
            dest_root: self.dest_root.or(fallback.dest_root),
            task: self.task.or(fallback.task),
        }
    }
}

/// `locations()` of a payload whose keys are the six location names: the one place that maps
/// the flat keys onto [`Locations`].
macro_rules! payload_locations {
    ($($payload:ty),+) => {$(
        impl $payload {
            /// The locations it gives (for [`Locations::or`]).
            pub fn locations(&self) -> Locations {
                Locations {
                    source_root: self.source_root.clone(),
                    dest_root: self.dest_root.clone(),
                    task: TaskLocations {
                        cfg_loc: self.cfg_loc.clone(),
                        grid_loc: self.grid_loc.clone(),
                        factors_loc: self.factors_loc.clone(),
                        metadata_loc: self.metadata_loc.clone(),
                    },
                }
            }
        }
    )+};
}

payload_locations!(crate::JobSpec, crate::ManualTrigger);

#[cfg(test)]
mod tests {
    use super::*;

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn the_first_place_that_gives_a_location_wins() {
        let option = Locations {
            task: TaskLocations {
                grid_loc: some("option-grid"),
                ..TaskLocations::default()
            },
            ..Locations::default()
        };
        let spec = Locations {
            source_root: some("spec-src"),
            dest_root: None,
            task: TaskLocations {
                grid_loc: some("spec-grid"),
                metadata_loc: some("spec-meta"),
                ..TaskLocations::default()
            },
        };
        let defaults = Locations {
            source_root: some("env-src"),
            dest_root: some("env-dest"),
            task: TaskLocations {
                cfg_loc: some("ssm-cfg"),
                grid_loc: some("ssm-grid"),
                factors_loc: some("ssm-factors"),
                metadata_loc: some("ssm-meta"),
            },
        };
        let resolved = option.or(spec).or(defaults);
        assert_eq!(resolved.source_root, some("spec-src"));
        assert_eq!(resolved.dest_root, some("env-dest"));
        assert_eq!(resolved.task.grid_loc, some("option-grid"));
        assert_eq!(resolved.task.metadata_loc, some("spec-meta"));
        assert_eq!(resolved.task.factors_loc, some("ssm-factors"));
        assert_eq!(resolved.task.cfg_loc, some("ssm-cfg"));
        // The payloads' flat keys map onto the same fields.
        let trigger: crate::ManualTrigger = serde_json::from_str(
            r#"{"jobs": [{"grouping_id": 0, "product_type": "native", "frequency": "AVG_MON",
                "time_steps": "all"}], "source_root": "s", "dest_root": "d", "grid_loc": "g",
                "metadata_loc": "m", "factors_loc": "f", "cfg_loc": "c"}"#,
        )
        .unwrap();
        let from_trigger = trigger.locations();
        assert_eq!(
            (
                from_trigger.source_root.as_deref(),
                from_trigger.dest_root.as_deref()
            ),
            (Some("s"), Some("d"))
        );
        let t = &from_trigger.task;
        assert_eq!(
            [&t.grid_loc, &t.metadata_loc, &t.factors_loc, &t.cfg_loc].map(|v| v.as_deref()),
            [Some("g"), Some("m"), Some("f"), Some("c")]
        );
        // Nothing anywhere stays nothing.
        assert_eq!(
            Locations::default().or(Locations::default()),
            Locations::default()
        );
    }
}
