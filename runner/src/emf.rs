//! CloudWatch Embedded Metric Format (EMF): one JSON line per granule on stdout, which the
//! CloudWatch agent of AWS Batch (awslogs driver) turns into metrics without any API call.
//!
//! Namespace `EDP`, dimension `ProductKind`, metrics `GranulesSucceeded` and `GranulesFailed`
//! (unit `Count`, one of them is 1) and `GranuleSeconds` (unit `Seconds`). The run id, task id
//! and granule are extra members: searchable in CloudWatch Logs Insights, not dimensions (that
//! would make one metric per granule).
//!
//! ```
//! use edp_runner::emf::GranuleMetric;
//!
//! let line = GranuleMetric {
//!     product_kind: "native_3d",
//!     succeeded: true,
//!     seconds: 4.25,
//!     run_id: "20261121T101500Z-0a1b2c3d",
//!     task_id: "ab12",
//!     granule: "s3://products/V4r4/native/mon_mean/OCEAN_VELOCITY/x.nc",
//!     timestamp_ms: 1_763_720_100_000,
//! }
//! .to_json_line();
//! let value: serde_json::Value = serde_json::from_str(&line).unwrap();
//! assert_eq!(value["_aws"]["CloudWatchMetrics"][0]["Namespace"], "EDP");
//! assert_eq!(value["GranulesSucceeded"], 1);
//! assert_eq!(value["ProductKind"], "native_3d");
//! ```

use serde_json::json;

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "EDP";

/// The metrics of one finished granule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GranuleMetric<'a> {
    /// Dimension value: `native_2d`, `latlon_3d`, ... (`unknown` when it cannot be told).
    pub product_kind: &'a str,
    /// True for a produced granule, false for a failed one.
    pub succeeded: bool,
    /// Wall-clock seconds of the attempt.
    pub seconds: f64,
    /// Run id (property, not a dimension).
    pub run_id: &'a str,
    /// Task id (property).
    pub task_id: &'a str,
    /// Granule location (property).
    pub granule: &'a str,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

impl GranuleMetric<'_> {
    /// The EMF document as one line of JSON (no trailing newline).
    pub fn to_json_line(&self) -> String {
        let (ok, failed) = if self.succeeded { (1, 0) } else { (0, 1) };
        json!({
            "_aws": {
                "Timestamp": self.timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["ProductKind"]],
                    "Metrics": [
                        {"Name": "GranulesSucceeded", "Unit": "Count"},
                        {"Name": "GranulesFailed", "Unit": "Count"},
                        {"Name": "GranuleSeconds", "Unit": "Seconds"}
                    ]
                }]
            },
            "ProductKind": self.product_kind,
            "GranulesSucceeded": ok,
            "GranulesFailed": failed,
            "GranuleSeconds": self.seconds,
            "run_id": self.run_id,
            "task_id": self.task_id,
            "granule": self.granule,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn failed_granule_line_declares_every_metric_it_carries() {
        let line = GranuleMetric {
            product_kind: "latlon_2d",
            succeeded: false,
            seconds: 0.5,
            run_id: "r",
            task_id: "t",
            granule: "g.nc",
            timestamp_ms: 42,
        }
        .to_json_line();
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["GranulesFailed"], 1);
        assert_eq!(v["GranulesSucceeded"], 0);
        assert_eq!(v["GranuleSeconds"], 0.5);
        assert_eq!(v["_aws"]["Timestamp"], 42);
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        // Every dimension named in the directive is a top-level member (EMF rule).
        for dim in directive["Dimensions"][0].as_array().unwrap() {
            assert!(v.get(dim.as_str().unwrap()).is_some());
        }
        // Every declared metric is a top-level number.
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(v[name].is_number(), "{name}");
        }
        let units: Vec<&str> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Unit"].as_str().unwrap())
            .collect();
        assert_eq!(units, ["Count", "Count", "Seconds"]);
    }
}
