//! Planning at archive scale against the moto S3 emulator, through a request-counting proxy.
//!
//! The archive: V4r4-like daily means of the 55 diagnostics of the ten 2-D native groupings
//! (`.data` + `.meta` per day), jobs `[0..=9, 'native', 'AVG_DAY', 'all']`. Two sizes:
//! 18 days (1,980 objects), 950 days (104,500) and 9,496 days (1,044,560 objects, V4r4's
//! regular daily records).
//! `benches/moto_archive.py` fills moto's S3 backend in-process (see there why) and serves
//! it over the real S3 API; everything the planner does goes through the AWS SDK.
//!
//! Figures, for each archive:
//! * one event of 8 keys (the four inputs of grouping 0 at the last day, `.data` + `.meta`):
//!   `edp_plan::scope::plan_event`, a real plan (claims, task list, shard, run record);
//! * a full plan (the planner Lambda's manual/scheduled path: parallel listings of the jobs'
//!   input prefixes streamed into the inventory, destination state by listings), dry run
//!   (no claims), and with `--claims` a real run (one conditional PUT per task).
//!
//! The full plan of the largest archive is not run: moto renders ListObjectsV2 pages at about
//! three per second, so its 1,045 pages would measure the emulator. Its request count follows
//! from the page arithmetic (asserted on the other archives) and its seconds are extrapolated
//! from the medium archive's seconds per page; both are printed as EXTRAPOLATED.
//!
//! Each scenario runs twice on a fresh destination prefix: once through the counting proxy
//! (requests; one connection per request there, so its times are not quoted) and once
//! directly (seconds). Peak memory is the process's VmHWM after the full plan.
//!
//! Run: `cargo bench -p edp-plan --bench plan_scale_moto [-- --small-only | --no-large |
//! --large-full] [--claims]` (the 1M archive takes about 4 minutes to fill on a busy 2-core
//! machine). `--large-full` runs only the 1M archive and measures its full plan too: its
//! requests and memory are the planner's, its seconds mostly moto's page rendering.
//! Needs the V4r4 metadata and the moto venv (`EDP_PYTHON` or `.venv/bin/python`); prints
//! SKIPPED without them. Prints figures; never fails on time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edp_conventions::catalog::LoadOptions;
use edp_conventions::{Catalog, ProductionConfig};
use edp_plan::builder::job_searches;
use edp_plan::inventory::{Inventory, InventoryOptions};
use edp_plan::planner::{PlanOutcome, PlanRequest, plan_with_inventory};
use edp_plan::roots::Root;
use edp_plan::scope::plan_event;
use edp_store::{Location, RetrySettings, StaticCredentials, Store, StoreConfig};
use edp_task_schemas::{Frequency, Job, ProductType, TimeSteps};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Daily means: ts = 12 + 24 n.
const FIRST_STEP: u64 = 12;
const STRIDE: u64 = 24;
const SMALL_DAYS: u64 = 18;
/// A tenth of V4r4's daily records: 104,500 objects.
const MEDIUM_DAYS: u64 = 950;
/// V4r4's regular daily records (its final partial record, at another stride, left out).
const LARGE_DAYS: u64 = 9_496;

/// CPU seconds (user + system) this process has used so far: the planner's own work, since
/// the emulator runs in another process. From `/proc/self/stat` (fields 14 and 15, in clock
/// ticks of 1/100 s, Linux's USER_HZ).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces; the fields after it follow its `)`.
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After `)`: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    (ticks(11) + ticks(12)) / 100.0
}

fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "?".to_string())
    };
    format!("VmRSS {}, VmHWM {}", field("VmRSS:"), field("VmHWM:"))
}

/// The populated emulator (a child Python process), stopped on drop.
struct Archive {
    child: Child,
    port: u16,
    objects: u64,
}

impl Archive {
    fn start(variables: &[String], days: u64) -> Option<Archive> {
        let python = std::env::var_os("EDP_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| edp_testkit::repo_root().join(".venv/bin/python"));
        if !python.exists() {
            println!("SKIPPED: no Python at {}", python.display());
            return None;
        }
        let script = edp_testkit::repo_root().join("plan/benches/moto_archive.py");
        let start = Instant::now();
        let mut child = Command::new(python)
            .arg(script)
            .args(["--variables", &variables.join(",")])
            .args(["--steps", &format!("{FIRST_STEP}:{days}:{STRIDE}")])
            .arg("--sorted-listing")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let mut words = line.split_whitespace().skip(1);
        let port = words.next().and_then(|p| p.parse().ok()).unwrap();
        let objects = words.next().and_then(|p| p.parse().ok()).unwrap();
        println!(
            "archive: {objects} objects in moto (in-process fill, {:.1} s)",
            start.elapsed().as_secs_f64()
        );
        Some(Archive {
            child,
            port,
            objects,
        })
    }
}

impl Drop for Archive {
    fn drop(&mut self) {
        // Closing stdin stops the server.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Requests seen by the proxy, by kind (`LIST src`, `PUT dst`, ...).
#[derive(Default, Clone)]
struct Counts(Arc<Mutex<BTreeMap<String, u64>>>);

impl Counts {
    fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn total(counts: &BTreeMap<String, u64>) -> u64 {
    counts.values().sum()
}

fn show(counts: &BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A loopback proxy that counts requests (one request per connection: it asks both sides for
/// `Connection: close`, so that it only parses one request head per connection).
async fn counting_proxy(upstream: u16, counts: Counts) -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let counts = counts.clone();
            tokio::spawn(async move {
                let _ = relay(client, upstream, &counts).await;
            });
        }
    });
    port
}

async fn relay(mut client: TcpStream, upstream: u16, counts: &Counts) -> std::io::Result<()> {
    let (head, rest) = read_head(&mut client).await?;
    let text = String::from_utf8_lossy(&head).to_string();
    let mut line = text.lines().next().unwrap_or("").split_whitespace();
    let method = line.next().unwrap_or("").to_string();
    let target = line.next().unwrap_or("");
    let bucket = target
        .trim_start_matches('/')
        .split(['/', '?'])
        .next()
        .unwrap_or("");
    let kind = if method == "GET" && target.contains("list-type=2") {
        "LIST"
    } else {
        method.as_str()
    };
    *counts
        .0
        .lock()
        .unwrap()
        .entry(format!("{kind} {bucket}"))
        .or_default() += 1;
    let mut server = TcpStream::connect(("127.0.0.1", upstream)).await?;
    server.write_all(&with_connection_close(&head)).await?;
    server.write_all(&rest).await?;
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upload = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
    });
    let (response_head, response_rest) = read_head(&mut server_read).await?;
    client_write
        .write_all(&with_connection_close(&response_head))
        .await?;
    client_write.write_all(&response_rest).await?;
    tokio::io::copy(&mut server_read, &mut client_write).await?;
    client_write.shutdown().await?;
    upload.abort();
    Ok(())
}

async fn read_head(
    stream: &mut (impl AsyncReadExt + Unpin),
) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            return Ok((buffer, rest));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

fn with_connection_close(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<&str> = text
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    format!("{}\r\n\r\n", lines.join("\r\n")).into_bytes()
}

async fn store(port: u16) -> Store {
    Store::from_config(StoreConfig {
        endpoint_url: Some(format!("http://127.0.0.1:{port}")),
        region: Some("us-east-1".to_string()),
        credentials: Some(StaticCredentials {
            access_key_id: "testing".to_string(),
            secret_access_key: "testing".to_string(),
            session_token: None,
        }),
        force_path_style: true,
        retry: RetrySettings {
            initial_backoff: Duration::from_millis(10),
            ..RetrySettings::default()
        },
        read_timeout: Duration::from_secs(600),
        ..StoreConfig::default()
    })
    .await
}

struct Bench {
    catalog: Catalog,
    config: ProductionConfig,
    jobs: Vec<Job>,
    event_variables: Vec<String>,
    variables: usize,
    run: u32,
}

impl Bench {
    fn request(&mut self, dry_run: bool) -> PlanRequest {
        self.run += 1;
        let mut request = PlanRequest::new(
            self.jobs.clone(),
            Root::parse("s3://edp-src/V4r4").unwrap(),
            Root::parse(&format!("s3://edp-dst/run-{}", self.run)).unwrap(),
        );
        request.dry_run = dry_run;
        request
    }

    /// ListObjectsV2 pages of a full listing: one prefix per diagnostic, 1,000 keys a page.
    fn source_pages(&self, days: u64) -> u64 {
        self.variables as u64 * (2 * days).div_ceil(1000)
    }

    fn event_keys(&self, days: u64) -> Vec<Location> {
        let step = FIRST_STEP + STRIDE * (days - 1);
        self.event_variables
            .iter()
            .flat_map(|v| {
                ["data", "meta"].map(|ext| {
                    Location::parse(&format!(
                        "s3://edp-src/V4r4/diags_daily/{v}_day_mean/{v}_day_mean.{step:010}.{ext}"
                    ))
                    .unwrap()
                })
            })
            .collect()
    }

    async fn event(&mut self, store: &Store, days: u64) -> (PlanOutcome, Duration) {
        let request = self.request(false);
        let keys = self.event_keys(days);
        let start = Instant::now();
        let plan = plan_event(store, store, &self.catalog, &self.config, &request, &keys)
            .await
            .unwrap();
        (plan.outcome.unwrap(), start.elapsed())
    }

    async fn full(&mut self, store: &Store, dry_run: bool) -> (PlanOutcome, Duration) {
        let request = self.request(dry_run);
        let start = Instant::now();
        let searches = job_searches(&request.jobs, &self.catalog, &self.config).unwrap();
        let (inventory, _) = Inventory::from_prefixes(
            store,
            &request.source_root,
            &InventoryOptions::for_config(&self.config),
            &searches,
        )
        .await
        .unwrap();
        let outcome = plan_with_inventory(store, &self.catalog, &self.config, &inventory, &request)
            .await
            .unwrap();
        (outcome, start.elapsed())
    }
}

fn main() {
    let small_only = std::env::args().any(|a| a == "--small-only");
    let claims = std::env::args().any(|a| a == "--claims");
    let Some(metadata) = edp_testkit::v4r4_metadata_dir() else {
        println!("SKIPPED: no V4r4 metadata");
        return;
    };
    let catalog = Catalog::load(&metadata, &LoadOptions::default()).unwrap();
    let mut variables: Vec<String> = Vec::new();
    for id in 0..=9 {
        let dataset = catalog.dataset(ProductType::Native, id).unwrap();
        for name in dataset.input_names() {
            if !variables.iter().any(|v| v == name) {
                variables.push(name.to_string());
            }
        }
    }
    let event_variables: Vec<String> = catalog
        .dataset(ProductType::Native, 0)
        .unwrap()
        .input_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let jobs: Vec<Job> = (0..=9)
        .map(|id| Job {
            grouping_id: id,
            product_type: ProductType::Native,
            frequency: Frequency::AvgDay,
            time_steps: TimeSteps::All,
        })
        .collect();
    println!(
        "{} diagnostics, {} jobs; event: {} keys ({} at the last day, .data + .meta)",
        variables.len(),
        jobs.len(),
        event_variables.len() * 2,
        event_variables.join(", ")
    );
    let mut bench = Bench {
        catalog,
        config: ProductionConfig::v4r4(),
        jobs,
        event_variables,
        variables: variables.len(),
        run: 0,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // (days, full plan measured?): the full plan of the largest archive is not run in moto
    // (its ListObjectsV2 renders ~3 pages/s: 1,045 pages take longer than the planner); its
    // requests follow from the page arithmetic checked on the medium archive, its seconds
    // are extrapolated from the medium one (printed as such).
    let no_large = std::env::args().any(|a| a == "--no-large");
    let large_full = std::env::args().any(|a| a == "--large-full");
    let sizes: &[(u64, bool)] = if large_full {
        &[(LARGE_DAYS, true)]
    } else if small_only {
        &[(SMALL_DAYS, true)]
    } else if no_large {
        &[(SMALL_DAYS, true), (MEDIUM_DAYS, true)]
    } else {
        &[(SMALL_DAYS, true), (MEDIUM_DAYS, true), (LARGE_DAYS, false)]
    };
    let mut per_page_seconds = None;
    for (days, measure_full) in sizes {
        let Some(archive) = Archive::start(&variables, *days) else {
            return;
        };
        runtime.block_on(async {
            let counts = Counts::default();
            let proxy = counting_proxy(archive.port, counts.clone()).await;
            let counted = store(proxy).await;
            let direct = store(archive.port).await;

            let (outcome, _) = bench.event(&counted, *days).await;
            let requests = counts.take();
            let (timed, seconds) = bench.event(&direct, *days).await;
            assert_eq!(timed.tasks.len(), outcome.tasks.len());
            println!(
                "event of 8 keys, archive of {} objects: {} task(s) planned, {} S3 requests \
                 ({}), {:.3} s",
                archive.objects,
                outcome.tasks.len(),
                total(&requests),
                show(&requests),
                seconds.as_secs_f64()
            );

            let source_pages = bench.source_pages(*days);
            if !measure_full {
                let seconds = per_page_seconds.map(|p: f64| p * source_pages as f64);
                println!(
                    "full plan (dry run), archive of {} objects: EXTRAPOLATED, not run: {} \
                     source LIST pages (55 prefixes x ceil({} keys / 1000)) + 12 destination \
                     LISTs = {} S3 requests; {} at the medium archive's seconds per page",
                    archive.objects,
                    source_pages,
                    2 * days,
                    source_pages + 12,
                    seconds.map_or("?".to_string(), |s| format!("{s:.1} s"))
                );
                return;
            }
            println!("before the full plans: {}", memory());
            let mut modes = vec![true];
            if claims {
                modes.push(false);
            }
            for dry_run in modes {
                counts.take();
                let (outcome, _) = bench.full(&counted, dry_run).await;
                let requests = counts.take();
                let (files, tasks) = (outcome.inventory.files, outcome.tasks.len());
                // One plan alive at a time, so that VmHWM is the peak of one plan.
                drop(outcome);
                let cpu_before = cpu_seconds();
                let (timed, seconds) = bench.full(&direct, dry_run).await;
                let cpu = cpu_seconds() - cpu_before;
                assert_eq!(timed.tasks.len(), tasks);
                drop(timed);
                assert_eq!(
                    requests.get("LIST edp-src").copied(),
                    Some(source_pages),
                    "page arithmetic"
                );
                if dry_run {
                    per_page_seconds = Some(seconds.as_secs_f64() / source_pages as f64);
                }
                println!(
                    "full plan{}, archive of {} objects: {} inputs listed, {} tasks, {} S3 \
                     requests ({}), {:.2} s wall, {:.2} s CPU of the planner; {}",
                    if dry_run {
                        " (dry run)"
                    } else {
                        " (claims, shards, run record)"
                    },
                    archive.objects,
                    files,
                    tasks,
                    total(&requests),
                    show(&requests),
                    seconds.as_secs_f64(),
                    cpu,
                    memory()
                );
            }
        });
        let _ = std::io::stdout().flush();
    }
}
