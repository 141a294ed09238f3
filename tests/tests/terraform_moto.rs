//! `terraform apply` of `terraform/` against the moto AWS emulator, a second plan that shows no
//! change (both in `scripts/terraform-apply-moto`), and then the planner handler run with the
//! deployed names taken from the Terraform outputs: the environment Terraform gives the planner
//! Lambda, the SSM settings Terraform creates, the Batch queue and job definition Terraform
//! creates. This proves that the names the code expects are the ones Terraform provisions, and
//! that the deployed Batch retry rules are the worker's exit-code table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::Credentials;
use edp_cloud::SsmSettings;
use edp_demo_data::DemoSpec;
use edp_planner_lambda::{BatchSubmitter, Deps, PlannerConfig};
use edp_store::{Location, StaticCredentials, Store, StoreConfig};
use edp_task_schemas::exit::evaluate_on_exit_rules;
use edp_testkit::MotoServer;
use edp_testkit::moto::{MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY};
use serde_json::Value;

/// Terraform on PATH, or `None` (a failure in CI, which always has it).
fn terraform_available() -> bool {
    let ok = Command::new("terraform")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "terraform is not installed: CI must have it"
        );
        eprintln!("SKIPPED: terraform is not installed");
    }
    ok
}

fn output<'a>(outputs: &'a Value, name: &str) -> &'a Value {
    outputs
        .get(name)
        .and_then(|o| o.get("value"))
        .unwrap_or_else(|| panic!("terraform output {name} is missing"))
}

fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

async fn upload_dir(store: &Store, dir: &Path, dest: &Location) {
    for file in files_below(dir) {
        let relative = file
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .to_string();
        store.put_file(&dest.join(&relative), &file).await.unwrap();
    }
}

fn setting<'a>(settings: &'a Value, key: &str) -> &'a str {
    settings
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("edp_settings.{key} missing in the emulator tfvars"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_applies_on_moto_and_the_planner_runs_with_the_deployed_names() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    if !terraform_available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let outputs_path = work.path().join("outputs.json");

    // 1-2. apply, then a plan that must show no change (the script checks the exit code 0 of
    // `plan -detailed-exitcode`).
    let apply = Command::new("bash")
        .arg(edp_testkit::repo_root().join("scripts/terraform-apply-moto"))
        .env("EDP_MOTO_ENDPOINT", moto.endpoint())
        .env("EDP_TF_OUTPUTS", &outputs_path)
        .env("EDP_TF_WORK", work.path().join("tf"))
        .output()
        .unwrap();
    assert!(
        apply.status.success(),
        "terraform apply/plan on moto failed:\n{}\n{}",
        String::from_utf8_lossy(&apply.stdout),
        String::from_utf8_lossy(&apply.stderr)
    );
    let outputs: Value = serde_json::from_slice(&std::fs::read(&outputs_path).unwrap()).unwrap();

    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(Region::new(MOTO_REGION))
        .credentials_provider(Credentials::new(
            MOTO_ACCESS_KEY_ID,
            MOTO_SECRET_ACCESS_KEY,
            None,
            None,
            "moto",
        ))
        .load()
        .await;
    let batch = aws_sdk_batch::Client::new(&sdk);
    let ssm = aws_sdk_ssm::Client::new(&sdk);

    // 3. The deployed retry rules are the worker's exit-code table.
    let definition_name = output(&outputs, "batch_job_definition_name")
        .as_str()
        .unwrap();
    let definitions = batch
        .describe_job_definitions()
        .job_definition_name(definition_name)
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    let definition = definitions
        .job_definitions()
        .first()
        .expect("job definition deployed");
    let deployed: Vec<(String, Option<String>, Option<String>)> = definition
        .retry_strategy()
        .expect("retry strategy deployed")
        .evaluate_on_exit()
        .iter()
        .map(|r| {
            (
                r.action().map(|a| a.as_str().to_ascii_uppercase()).unwrap(),
                r.on_exit_code().map(str::to_string),
                r.on_status_reason().map(str::to_string),
            )
        })
        .collect();
    let expected: Vec<(String, Option<String>, Option<String>)> = evaluate_on_exit_rules()
        .iter()
        .map(|r| {
            let v = serde_json::to_value(r).unwrap();
            (
                v["action"].as_str().unwrap().to_ascii_uppercase(),
                v.get("on_exit_code")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                v.get("on_status_reason")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        deployed, expected,
        "deployed Batch retry rules differ from the exit-code table"
    );

    // 4. The planner environment exactly as Terraform configures the Lambda.
    let planner_env: BTreeMap<String, String> =
        serde_json::from_value(output(&outputs, "planner_environment").clone()).unwrap();
    let config = PlannerConfig::from_lookup(|name| planner_env.get(name).cloned())
        .expect("the planner accepts the environment Terraform gives it");

    // Put the objects the Terraform-created SSM settings point at: a synthetic grid and
    // metadata (the demo's), and one month of model output below the deployed source root.
    let store_config = StoreConfig {
        endpoint_url: Some(moto.endpoint()),
        region: Some(MOTO_REGION.to_string()),
        credentials: Some(StaticCredentials {
            access_key_id: MOTO_ACCESS_KEY_ID.to_string(),
            secret_access_key: MOTO_SECRET_ACCESS_KEY.to_string(),
            session_token: None,
        }),
        force_path_style: true,
        ..StoreConfig::default()
    };
    let store = Store::from_config(store_config.clone()).await;
    let emulator_vars =
        std::fs::read_to_string(edp_testkit::repo_root().join("terraform/emulator.tfvars.example"))
            .unwrap();
    assert!(
        emulator_vars.contains("edp_settings"),
        "emulator tfvars define edp_settings"
    );
    let settings_param = ssm
        .get_parameters_by_path()
        .path(format!("{}settings", config.ssm_prefix))
        .send()
        .await
        .unwrap();
    let settings: BTreeMap<String, String> = settings_param
        .parameters()
        .iter()
        .map(|p| {
            let name = p.name().unwrap();
            let key = name.rsplit('/').next().unwrap().to_string();
            (key, p.value().unwrap().to_string())
        })
        .collect();
    let settings_json = serde_json::to_value(&settings).unwrap();
    let metadata_loc = Location::parse(setting(&settings_json, "metadata_loc")).unwrap();
    let grid_loc = Location::parse(setting(&settings_json, "grid_loc")).unwrap();
    let (aux_bucket, _) = metadata_loc.as_s3().unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    // The reference bucket is the operator's (not provisioned by Terraform).
    let _ = s3.create_bucket().bucket(aux_bucket).send().await;
    // The emulator speaks plain HTTP, and moto enforces bucket policies: the TLS-only policies
    // Terraform attaches (checked above by the no-change plan, and by checkov) would deny
    // every request of this test. They are removed only after the plan check.
    for name in ["source_bucket_name", "products_bucket_name"] {
        let bucket = output(&outputs, name).as_str().unwrap();
        s3.delete_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
    }

    let demo_dir = tempfile::tempdir().unwrap();
    let spec = DemoSpec {
        latlon_jobs: true,
        ..DemoSpec::small()
    };
    let demo = edp_demo_data::generate(demo_dir.path(), &spec).unwrap();
    upload_dir(&store, &demo.grid_dir, &grid_loc).await;
    upload_dir(&store, &demo.metadata_dir, &metadata_loc).await;
    upload_dir(&store, &demo.source_root, &config.source_root).await;

    // 5. The planner handler, with the deployed names, for an S3 event in the real AWS shape
    // for the new objects (planning is event-scoped: it plans the granules these keys complete).
    let (bucket, prefix) = config
        .source_root
        .as_s3()
        .expect("the source root is on S3");
    let records: Vec<serde_json::Value> = files_below(&demo.source_root)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "data" || e == "meta"))
        .map(|path| {
            let relative = path
                .strip_prefix(&demo.source_root)
                .unwrap()
                .to_string_lossy()
                .to_string();
            let key = if prefix.is_empty() {
                relative
            } else {
                format!("{}/{relative}", prefix.trim_end_matches('/'))
            };
            serde_json::json!({
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": MOTO_REGION,
                "eventTime": "2026-11-21T12:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": { "name": bucket, "arn": format!("arn:aws:s3:::{bucket}") },
                    "object": { "key": key, "size": 1 }
                }
            })
        })
        .collect();
    assert!(!records.is_empty());
    let event = serde_json::json!({ "Records": records });
    let deps = Deps {
        store: store.clone(),
        store_config,
        submitter: BatchSubmitter::new(batch.clone()),
        settings: SsmSettings::new(ssm.clone()),
        config: config.clone(),
    };
    let response = edp_planner_lambda::handle(event, Some("terraform-moto-test"), &deps)
        .await
        .expect("the planner runs against the deployed names");
    let response = serde_json::to_value(&response).unwrap();
    let job_id = response["job_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no Batch job was submitted: {response}"))
        .to_string();
    assert!(response["tasks"].as_u64().unwrap() > 0, "{response}");

    // The job went to the deployed queue with the deployed definition and the run location.
    let jobs = batch.describe_jobs().jobs(&job_id).send().await.unwrap();
    let job = jobs.jobs().first().expect("the submitted job exists");
    assert_eq!(
        job.job_queue().unwrap(),
        output(&outputs, "batch_job_queue_arn").as_str().unwrap()
    );
    assert!(
        job.job_definition().unwrap().contains(definition_name),
        "job definition {} is not the deployed {definition_name}",
        job.job_definition().unwrap()
    );
    let environment: BTreeMap<String, String> = job
        .container()
        .map(|c| {
            c.environment()
                .iter()
                .map(|kv| {
                    (
                        kv.name().unwrap().to_string(),
                        kv.value().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let shards_uri = Location::parse(&environment["EDP_SHARDS_URI"]).unwrap();
    let shards = store.list(&shards_uri).await.unwrap();
    assert_eq!(
        shards.len() as u64,
        response["shards"].as_u64().unwrap(),
        "shards written where the job looks for them"
    );
    assert_eq!(
        environment["EDP_RUN_ID"],
        response["run_id"].as_str().unwrap()
    );
}
