//! NOT YET WIRED: add `mod datasets;` to main.rs once compiled and run (see the h15 report).
//! The dataset level end to end on local folders: `edp run` writes dataset statuses; `edp
//! check` finds each defect of a tampered copy by name and validates a clean series;
//! `edp publish` refuses what is not validated, publishes with a strict mapfile and replaces
//! a version atomically after a repair; `edp datasets` lists states and writes the report page,
//! which headless Chromium renders with the table and the quicklook images.

use std::path::{Path, PathBuf};
use std::process::Output;

use edp_datasets::mapfile;
use edp_task_schemas::{DatasetManifest, DatasetState, DatasetStatus};
use serde_json::Value;

use super::support::{Demo, demo, edp, sha256, text};

/// A produced demo and its first native monthly dataset.
struct Products {
    demo: Demo,
    /// `<version>/native/mon_mean/<GROUPING>`.
    dataset: String,
    /// A second native monthly dataset (for the stray granule).
    other: String,
}

fn produce() -> Products {
    let demo = demo();
    let out = demo.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let native = std::fs::read_dir(&demo.dest)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n != "_edp"))
        .expect("a version folder");
    let version = native.file_name().unwrap().to_string_lossy().to_string();
    let mut groupings: Vec<String> = std::fs::read_dir(native.join("native/mon_mean"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    groupings.sort();
    assert!(groupings.len() >= 2, "{groupings:?}");
    Products {
        dataset: format!("{version}/native/mon_mean/{}", groupings[0]),
        other: format!("{version}/native/mon_mean/{}", groupings[1]),
        demo,
    }
}

/// The dataset's granules, sorted (three months of the demo).
fn granules(dest: &Path, dataset: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dest.join(dataset))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "nc"))
        .collect();
    files.sort();
    files
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn check_json(dest: &Path, dataset: &str, extra: &[&str]) -> (Output, Vec<Value>) {
    let dest_text = dest.display().to_string();
    let mut args = vec![
        "check",
        "--dest",
        &dest_text,
        "--dataset",
        dataset,
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = edp(&args);
    let parsed: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check --json output: {e}\n{}", text(&out)));
    (out, parsed)
}

/// (kind, granule) of every problem of the one dataset checked.
fn problems(results: &[Value]) -> Vec<(String, String)> {
    results[0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_string(),
                p["granule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn status(dest: &Path, dataset: &str) -> DatasetStatus {
    let path = dest.join(format!("_edp/datasets/{dataset}.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().to_string()
}

/// The first float variable with `time` as its first dimension.
fn data_variable(file: &netcdf::File) -> String {
    file.variables()
        .find(|v| {
            matches!(v.vartype(), netcdf::types::NcVariableType::Float(_))
                && v.dimensions().first().is_some_and(|d| d.name() == "time")
                && !v.name().ends_with("_bnds")
        })
        .map(|v| v.name())
        .expect("a data variable")
}

/// Sets `time_bnds` to `[start, end]` hours, `time` to their centre and the coverage
/// attributes to match, as a careless writer of a wrong period would.
fn set_period(path: &Path, start: f64, end: f64) {
    let mut file = netcdf::append(path).unwrap();
    let units = {
        let time = file.variable("time").unwrap();
        match time.attribute_value("units").unwrap().unwrap() {
            netcdf::AttributeValue::Str(s) => s,
            other => panic!("time units {other:?}"),
        }
    };
    let origin = chrono::NaiveDateTime::parse_from_str(
        units.trim_start_matches("hours since "),
        "%Y-%m-%d %H:%M:%S",
    )
    .unwrap();
    let at = |h: f64| {
        (origin + chrono::TimeDelta::minutes((h * 60.0) as i64))
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    };
    let mut bounds = file.variable_mut("time_bnds").unwrap();
    bounds.put_values(&[start as i32, end as i32], ..).unwrap();
    let mut time = file.variable_mut("time").unwrap();
    time.put_values(&[((start + end) / 2.0) as i32], ..)
        .unwrap();
    file.add_attribute("time_coverage_start", at(start))
        .unwrap();
    file.add_attribute("time_coverage_end", at(end)).unwrap();
}

fn time_bounds(path: &Path) -> [f64; 2] {
    let file = netcdf::open(path).unwrap();
    let values: Vec<f64> = file.variable("time_bnds").unwrap().get_values(..).unwrap();
    [values[0], values[1]]
}

#[test]
fn check_reports_each_defect_of_a_tampered_series_by_name() {
    let products = produce();
    let dest = &products.demo.dest;
    let dataset = &products.dataset;
    let files = granules(dest, dataset);
    assert_eq!(files.len(), 3, "{files:?}");
    let names: Vec<String> = files.iter().map(|f| file_name(f)).collect();
    let work = products.demo.dir.path().join("tampered");

    // Each case: a fresh copy of the products, one defect, the (kind, granule) expected.
    type Tamper = Box<dyn Fn(&Path, &[PathBuf])>;
    let cases: Vec<(&str, Tamper, &str, String)> = vec![
        (
            "gap",
            Box::new(|dest: &Path, files: &[PathBuf]| {
                std::fs::remove_file(&files[1]).unwrap();
                drop_from_manifest(dest, &files[1]);
            }),
            "gap",
            // The middle month (its date part) is the gap.
            names[1]
                .split('_')
                .find(|p| p.len() == 7 && p.as_bytes()[4] == b'-')
                .unwrap()
                .to_string(),
        ),
        (
            "overlap",
            Box::new(|_: &Path, files: &[PathBuf]| {
                // The third month starts in the middle of the second.
                let [_, end] = time_bounds(&files[2]);
                let [start2, end2] = time_bounds(&files[1]);
                set_period(&files[2], (start2 + end2) / 2.0, end);
            }),
            "overlap",
            names[2].clone(),
        ),
        (
            "duplicate",
            Box::new(|_: &Path, files: &[PathBuf]| {
                let copy = files[0]
                    .to_string_lossy()
                    .replace(&month_of(&files[0]), &next_month_after(&files[2]));
                std::fs::copy(&files[0], copy).unwrap();
            }),
            "duplicate",
            names[0].replace(&month_of(&files[0]), &next_month_after(&files[2])),
        ),
        (
            "wrong time bound",
            Box::new(|_: &Path, files: &[PathBuf]| {
                let mut file = netcdf::append(&files[1]).unwrap();
                let mut bounds = file.variable_mut("time_bnds").unwrap();
                let values: Vec<i32> = bounds.get_values(..).unwrap();
                bounds.put_values(&[values[0], values[1] + 48], ..).unwrap();
            }),
            "time",
            names[1].clone(),
        ),
        (
            "granule of another grouping",
            {
                let other = products.other.clone();
                let dataset = products.dataset.clone();
                Box::new(move |dest: &Path, _: &[PathBuf]| {
                    let stray = granules(dest, &other)[0].clone();
                    let target = dest.join(&dataset).join(stray.file_name().unwrap());
                    std::fs::copy(&stray, target).unwrap();
                })
            },
            "grouping",
            file_name(&granules(dest, &products.other)[0]),
        ),
        (
            "mismatching chunking",
            Box::new(|_: &Path, files: &[PathBuf]| {
                let rechunked = files[1].with_extension("rechunked");
                let status = std::process::Command::new("nccopy")
                    // Halves the chunks along `i` (nccopy 4.9 leaves a `tile/1` or `k/1`
                    // request unapplied on these small granules).
                    .args(["-c", "i/6"])
                    .arg(&files[1])
                    .arg(&rechunked)
                    .status()
                    .expect("nccopy (netcdf-bin) runs");
                assert!(status.success());
                std::fs::rename(&rechunked, &files[1]).unwrap();
            }),
            "structure",
            names[1].clone(),
        ),
        (
            "Inf value",
            Box::new(|_: &Path, files: &[PathBuf]| {
                let mut file = netcdf::append(&files[2]).unwrap();
                let name = data_variable(&file);
                let mut var = file.variable_mut(&name).unwrap();
                let mut values: Vec<f32> = var.get_values(..).unwrap();
                let ocean = values.iter().position(|v| v.abs() < 1e30).unwrap();
                values[ocean] = f32::INFINITY;
                var.put_values(&values, ..).unwrap();
            }),
            "values",
            names[2].clone(),
        ),
    ];

    for (label, tamper, kind, granule) in cases {
        let copy = work.join(label.replace(' ', "-"));
        copy_dir(dest, &copy);
        tamper(&copy, &granules(&copy, dataset));
        let (out, results) = check_json(&copy, dataset, &["--no-record"]);
        assert_eq!(out.status.code(), Some(1), "{label}: {}", text(&out));
        let found = problems(&results);
        assert!(
            found.iter().any(|(k, g)| k == kind && g.contains(&granule)),
            "{label}: expected a {kind} problem naming {granule}, found {found:?}"
        );
        // Untouched granules are not blamed for structure or values.
        for (k, g) in &found {
            if matches!(k.as_str(), "structure" | "values") {
                assert!(
                    g.contains(&granule),
                    "{label}: {k} problem on {g}: {found:?}"
                );
            }
        }
    }

    // The clean original passes.
    let (out, results) = check_json(dest, dataset, &["--no-record"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(results[0]["passed"], true);
}

/// `YYYY-MM` of a monthly granule name.
#[test]
fn check_with_the_grid_finds_fill_on_ocean_and_values_on_land() {
    let products = produce();
    let dest = &products.demo.dest;
    let dataset = &products.dataset;
    let grid = products.demo.layout.grid_dir.display().to_string();
    let with_grid = ["--no-record", "--depth", "full", "--grid", grid.as_str()];

    // As written, every native granule (centre, west- and south-face variables, 2-D and 3-D)
    // holds fill exactly on land.
    let dest_text = dest.display().to_string();
    let all = edp(&[&["check", "--dest", dest_text.as_str()][..], &with_grid[..]].concat());
    assert_eq!(all.status.code(), Some(0), "{}", text(&all));
    assert!(
        String::from_utf8_lossy(&all.stdout).contains("native/mon_mean/OCEAN_VELOCITY: PASSED")
    );

    // One ocean value made fill in the second month, one land value made data in the third.
    let files = granules(dest, dataset);
    let tamper = |path: &Path, pick_fill: bool, replacement: Option<f32>| {
        let mut file = netcdf::append(path).unwrap();
        let name = data_variable(&file);
        let mut var = file.variable_mut(&name).unwrap();
        let fill: f32 = var.fill_value().unwrap().unwrap();
        let mut values: Vec<f32> = var.get_values(..).unwrap();
        let at = values
            .iter()
            .position(|v| (*v == fill) == pick_fill)
            .unwrap();
        values[at] = replacement.unwrap_or(fill);
        var.put_values(&values, ..).unwrap();
        name
    };
    let ocean_var = tamper(&files[1], false, None);
    let land_var = tamper(&files[2], true, Some(1.0));

    let (out, results) = check_json(dest, dataset, &with_grid);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let fills: Vec<(String, String)> = results[0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "fill")
        .map(|p| {
            (
                p["granule"].as_str().unwrap().to_string(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(fills.len(), 2, "{fills:?}");
    assert!(
        fills.contains(&(
            file_name(&files[1]),
            format!(
                "{ocean_var}: 1 fill value(s) on ocean and 0 value(s) on land per the grid mask"
            )
        )),
        "{fills:?}"
    );
    assert!(
        fills.contains(&(
            file_name(&files[2]),
            format!(
                "{land_var}: 0 fill value(s) on ocean and 1 value(s) on land per the grid mask"
            )
        )),
        "{fills:?}"
    );

    // A grid of another size is refused, naming the variable and both sizes.
    let other = products.demo.dir.path().join("other-grid");
    let spec = edp_demo_data::DemoSpec {
        n: 6,
        nz: 4,
        ..edp_demo_data::DemoSpec::default()
    };
    let layout = edp_demo_data::generate(&other, &spec).unwrap();
    let small = layout.grid_dir.display().to_string();
    let (out, results) = check_json(
        dest,
        dataset,
        &["--no-record", "--depth", "full", "--grid", small.as_str()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let messages = results[0]["problems"].to_string();
    assert!(
        messages.contains("does not fit the grid given")
            && messages.contains("horizontal points per level, the grid has 468"),
        "{messages}"
    );
}

fn month_of(path: &Path) -> String {
    file_name(path)
        .split('_')
        .find(|p| p.len() == 7 && p.as_bytes()[4] == b'-')
        .unwrap()
        .to_string()
}

/// The month after that of `path`.
fn next_month_after(path: &Path) -> String {
    let month = month_of(path);
    let date = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").unwrap();
    date.checked_add_months(chrono::Months::new(1))
        .unwrap()
        .format("%Y-%m")
        .to_string()
}

fn drop_from_manifest(dest: &Path, granule: &Path) {
    let dataset_dir = granule.parent().unwrap().strip_prefix(dest).unwrap();
    let path = dest.join(format!("_edp/manifests/{}.json", dataset_dir.display()));
    let mut manifest: DatasetManifest =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let name = file_name(granule);
    manifest.granules.retain(|g| !g.path.ends_with(&name));
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

#[test]
fn lifecycle_from_run_to_publication_and_republication_after_a_repair() {
    let products = produce();
    let dest = &products.demo.dest;
    let dest_text = dest.display().to_string();
    let dataset = products.dataset.as_str();
    let published_root = products.demo.dir.path().join("published");
    let published_text = published_root.display().to_string();

    // edp run wrote the status: every expected month present.
    let first = status(dest, dataset);
    assert_eq!(first.state, DatasetState::Produced);
    assert_eq!(first.coverage.present, 3);
    assert_eq!(first.expected.count, 3);
    assert_eq!(first.history.len(), 1);
    assert_eq!(first.history[0].by, "edp run");
    // The expected months are those of the model run (the demo's ends with its last month).
    assert!(
        first.expected.source.contains("1992-04-01T00:00:00"),
        "{}",
        first.expected.source
    );

    // The daily means of the same run: three days of the run's 91, the rest missing.
    let version = dataset.split('/').next().unwrap();
    let daily_dir = dest.join(version).join("native/day_mean");
    let daily_grouping = std::fs::read_dir(&daily_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .min()
        .expect("a daily dataset");
    let daily = status(dest, &format!("{version}/native/day_mean/{daily_grouping}"));
    assert_eq!(daily.state, DatasetState::Incomplete);
    assert_eq!(
        (daily.expected.first.as_str(), daily.expected.last.as_str()),
        ("1992-01-01", "1992-03-31")
    );
    assert_eq!((daily.expected.count, daily.coverage.present), (91, 3));
    let missing: Vec<(&str, &str, u64)> = daily
        .coverage
        .missing
        .iter()
        .map(|r| (r.first.as_str(), r.last.as_str(), r.count))
        .collect();
    assert_eq!(missing, [("1992-01-04", "1992-03-31", 88)]);

    // Not validated yet: refused, nothing published.
    let publish = |extra: &[&str]| {
        let mut args = vec![
            "publish",
            "--dest",
            &dest_text,
            "--dataset",
            dataset,
            "--to",
            &published_text,
        ];
        args.extend_from_slice(extra);
        edp(&args)
    };
    let refused = publish(&[]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("produced"), "{}", text(&refused));
    assert!(!published_root.exists());

    // Check: validated, mapfile written, publishable.
    let (out, results) = check_json(dest, dataset, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(results[0]["state"], "publishable");
    let checked = status(dest, dataset);
    let states: Vec<_> = checked.history.iter().map(|t| t.to).collect();
    assert_eq!(
        states,
        [
            DatasetState::Produced,
            DatasetState::Validated,
            DatasetState::Publishable
        ]
    );
    let manifest: DatasetManifest = serde_json::from_slice(
        &std::fs::read(dest.join(format!("_edp/manifests/{dataset}.json"))).unwrap(),
    )
    .unwrap();
    let local_map =
        std::fs::read_to_string(dest.join(format!("_edp/mapfiles/{dataset}.map"))).unwrap();
    let lines = mapfile::parse(&local_map).unwrap();
    assert_eq!(lines.len(), manifest.granules.len());
    for (line, granule) in lines.iter().zip(&manifest.granules) {
        assert_eq!(line.checksum, sha256(&dest.join(&granule.path)));
        assert_eq!(
            line.size,
            std::fs::metadata(dest.join(&granule.path)).unwrap().len()
        );
    }

    // Publish: copies with their checksums, a strict mapfile, state published.
    let out = publish(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let current_map = |root: &Path| {
        let dir = root.join(dataset);
        let map = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "map"))
            .expect("current mapfile");
        mapfile::parse(&std::fs::read_to_string(map).unwrap()).unwrap()
    };
    let v1 = current_map(&published_root);
    assert_eq!(v1.len(), 3);
    for line in &v1 {
        assert_eq!(
            sha256(Path::new(&line.path)),
            line.checksum,
            "{}",
            line.path
        );
        assert!(line.path.starts_with(&published_text));
    }
    let published = status(dest, dataset);
    assert_eq!(published.state, DatasetState::Published);
    let publication = published.publication.clone().unwrap();
    assert_eq!(publication.version, v1[0].version);
    assert_eq!(publication.granules.len(), 3);

    // edp datasets lists it as published (and filters by state).
    let listed = edp(&["datasets", "--dest", &dest_text, "--state", "published"]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains(dataset),
        "{}",
        text(&listed)
    );
    let listed = edp(&[
        "datasets", "--dest", &dest_text, "--state", "failed", "--json",
    ]);
    let failed: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(failed.is_empty(), "{}", text(&listed));

    // Repair: the granules are produced again -> produced; check; publish again.
    let out = products.demo.run(&["--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(status(dest, dataset).state, DatasetState::Produced);
    let refused = publish(&[]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let (out, _) = check_json(dest, dataset, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = publish(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("replaces version {}", v1[0].version)),
        "{}",
        text(&out)
    );
    let v2 = current_map(&published_root);
    assert!(v2[0].version > v1[0].version);
    // The previous version's copies are still there; the history has both publications.
    assert!(Path::new(&v1[0].path).exists());
    let history = status(dest, dataset).history;
    let publications = history
        .iter()
        .filter(|t| t.to == DatasetState::Published)
        .count();
    assert_eq!(publications, 2, "{history:#?}");
    assert!(
        history
            .iter()
            .any(|t| t.from == Some(DatasetState::Published) && t.to == DatasetState::Produced)
    );
}

#[test]
fn report_page_shows_the_table_and_quicklooks_in_headless_chromium() {
    let products = produce();
    let dest = &products.demo.dest;
    let dest_text = dest.display().to_string();
    let out = edp(&["datasets", "--dest", &dest_text, "--html"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = dest.join("_edp/report");
    let page = std::fs::read_to_string(report.join("index.html")).unwrap();
    let statuses = std::fs::read_dir(dest.join(format!(
        "_edp/datasets/{}",
        Path::new(&products.dataset).parent().unwrap().display()
    )))
    .unwrap()
    .count();
    assert!(statuses >= 2);
    assert!(page.contains("<table id=\"datasets\">"));
    let images: Vec<&str> = page.matches("<img src=\"quicklooks/").collect();
    assert!(
        images.len() >= statuses,
        "{} images for {statuses}+ datasets",
        images.len()
    );
    let png = std::fs::read(report.join(format!(
        "quicklooks/{}.png",
        products.dataset.replace('/', "__")
    )))
    .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    let Some(chromium) = chromium() else {
        return;
    };
    let shot = products.demo.dir.path().join("report.png");
    let out = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1400,1800",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", report.join("index.html").display()))
        .output()
        .unwrap();
    assert!(shot.exists(), "no screenshot: {}", text(&out));
    let pixels = decode_png(&std::fs::read(&shot).unwrap());
    let viridis: Vec<[u8; 3]> = (0..=255)
        .map(|k| edp_datasets::png::viridis(f64::from(k) / 255.0))
        .collect();
    let near_viridis = |p: &[u8; 3]| {
        viridis.iter().any(|v| {
            v.iter()
                .zip(p)
                .all(|(a, b)| (i16::from(*a) - i16::from(*b)).abs() <= 3)
        })
    };
    // Quicklook pixels: viridis colours that are not the greys/whites of the page.
    let quicklook = pixels.iter().filter(|p| near_viridis(p)).count();
    let table_header = pixels.iter().filter(|p| **p == [0xee, 0xee, 0xee]).count();
    let timeline_present = pixels.iter().filter(|p| **p == [0x2a, 0x9d, 0x55]).count();
    assert!(
        quicklook > 20_000,
        "quicklook pixels on screen: {quicklook}"
    );
    assert!(
        table_header > 500,
        "table header pixels on screen: {table_header}"
    );
    assert!(
        timeline_present > 100,
        "timeline pixels on screen: {timeline_present}"
    );
}

/// The Chromium binary, `None` (with a message) when absent outside CI.
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = std::process::Command::new("which").arg(name).output();
        if let Ok(out) = found
            && out.status.success()
        {
            return Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "chromium is not installed (scripts/system-deps installs it)"
    );
    eprintln!("skipping the screenshot: chromium is not installed (scripts/system-deps)");
    None
}

/// RGB pixels of an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes).
fn decode_png(bytes: &[u8]) -> Vec<[u8; 3]> {
    use std::io::Read as _;
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let (mut at, mut width, mut height, mut channels) = (8, 0usize, 0usize, 0usize);
    let mut compressed = Vec::new();
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let data = &bytes[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!((data[8], data[12]), (8, 0), "8-bit, non-interlaced");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("colour type {other}"),
                };
            }
            b"IDAT" => compressed.extend_from_slice(data),
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(compressed.as_slice())
        .read_to_end(&mut raw)
        .unwrap();
    let stride = width * channels;
    let mut previous = vec![0u8; stride];
    let mut pixels = Vec::with_capacity(width * height);
    for row in 0..height {
        let line = &raw[row * (stride + 1)..(row + 1) * (stride + 1)];
        let filter = line[0];
        let mut current = line[1..].to_vec();
        for i in 0..stride {
            let a = if i >= channels {
                i32::from(current[i - channels])
            } else {
                0
            };
            let b = i32::from(previous[i]);
            let c = if i >= channels {
                i32::from(previous[i - channels])
            } else {
                0
            };
            let predictor = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("filter {other}"),
            };
            current[i] = current[i].wrapping_add(predictor as u8);
        }
        for px in current.chunks(channels) {
            pixels.push([px[0], px[1], px[2]]);
        }
        previous = current;
    }
    pixels
}
