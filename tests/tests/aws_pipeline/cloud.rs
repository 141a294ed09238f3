//! The emulated AWS account of the end-to-end tests: one moto server holding the buckets, the
//! S3 -> SQS notification, the SSM settings and secrets, and a Batch queue and job definition
//! shaped like the Terraform deployment. Everything is reached through settings only (an
//! endpoint URL and path-style addressing), never through a separate code path.

use std::path::Path;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_batch::types::{
    CeState, CeType, ComputeEnvironmentOrder, ContainerProperties, JobDefinitionType, JqState,
    KeyValuePair, ResourceRequirement, ResourceType,
};
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use aws_sdk_ssm::types::ParameterType;
use edp_cloud::SsmSettings;
use edp_demo_data::{DemoLayout, DemoSpec};
use edp_planner_lambda::{BatchSubmitter, Deps, PlannerConfig};
use edp_reporter_lambda::{BatchDescriber, ReporterConfig};
use edp_store::{Location, RetrySettings, StaticCredentials, Store, StoreConfig};
use edp_task_schemas::deploy::{
    ENV_DEST_ROOT, ENV_LOG_FORMAT, ENV_SSM_PREFIX, SSM_CONFIG_LOC, SSM_GRID_LOC, SSM_JOBS,
    SSM_METADATA_LOC, SSM_SOURCE_CREDENTIALS, SSM_VIRTUAL_HTTPS_BASE, ssm_parameter_name,
};
use edp_testkit::MotoServer;
use edp_testkit::moto::{MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY};

/// Bucket of the model output.
pub const SOURCE_BUCKET: &str = "model-output";
/// Key prefix of the model output: with a space, so that the URL-encoded keys of the S3
/// notifications (`ecco+run/...`) must be decoded to match the source root.
pub const SOURCE_PREFIX: &str = "ecco run";
/// Bucket of the products.
pub const DEST_BUCKET: &str = "products";
/// `settings/virtual_https_base`: where the products would be served over https.
pub const HTTPS_BASE: &str = "https://data.example.org/ecco-products";
/// Bucket of the grid, metadata and configuration named by the SSM settings.
pub const AUX_BUCKET: &str = "aux";
/// SSM prefix of the deployment.
pub const SSM_PREFIX: &str = "/edp/e2e/";
/// Batch queue and job definition names.
pub const JOB_QUEUE: &str = "edp-e2e-worker";
/// Batch job definition name.
pub const JOB_DEFINITION: &str = "edp-e2e-worker";
/// Access key id of the source credentials stored as a SecureString.
pub const SOURCE_ACCESS_KEY_ID: &str = "AKIAEDPE2ESOURCE0001";
/// Their secret: must never appear in a log.
pub const SOURCE_SECRET: &str = "e2e-source-secret-Zq8vX1tP4mN7";

/// The emulated account and clients for it.
pub struct Cloud {
    pub moto: MotoServer,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub batch: aws_sdk_batch::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub store_config: StoreConfig,
    pub store: Store,
    pub queue_url: String,
}

impl Cloud {
    /// Starts moto and creates the deployment (`None` when moto is not installed).
    pub async fn start() -> Option<Cloud> {
        let moto = MotoServer::start_or_skip()?;
        let sdk = sdk_config(&moto.endpoint()).await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        );
        let store_config = StoreConfig {
            endpoint_url: Some(moto.endpoint()),
            region: Some(MOTO_REGION.to_string()),
            credentials: Some(StaticCredentials {
                access_key_id: MOTO_ACCESS_KEY_ID.to_string(),
                secret_access_key: MOTO_SECRET_ACCESS_KEY.to_string(),
                session_token: None,
            }),
            force_path_style: true,
            retry: RetrySettings {
                max_attempts: 2,
                initial_backoff: Duration::from_millis(20),
                ..RetrySettings::default()
            },
            ..StoreConfig::default()
        };
        let mut cloud = Cloud {
            store: Store::from_config(store_config.clone()).await,
            store_config,
            sqs: aws_sdk_sqs::Client::new(&sdk),
            batch: aws_sdk_batch::Client::new(&sdk),
            ssm: aws_sdk_ssm::Client::new(&sdk),
            s3,
            moto,
            queue_url: String::new(),
        };
        cloud.create_deployment().await;
        Some(cloud)
    }

    async fn create_deployment(&mut self) {
        for bucket in [SOURCE_BUCKET, DEST_BUCKET, AUX_BUCKET] {
            self.s3.create_bucket().bucket(bucket).send().await.unwrap();
        }
        // S3 -> SQS: new objects below the source prefix.
        let queue = self
            .sqs
            .create_queue()
            .queue_name("edp-e2e-trigger")
            .send()
            .await
            .unwrap();
        self.queue_url = queue.queue_url.unwrap();
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap();
        let queue_arn = attributes
            .attributes
            .unwrap()
            .get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .unwrap()
            .clone();
        let filter = NotificationConfigurationFilter::builder()
            .key(
                S3KeyFilter::builder()
                    .filter_rules(
                        FilterRule::builder()
                            .name(FilterRuleName::Prefix)
                            .value(format!("{SOURCE_PREFIX}/"))
                            .build(),
                    )
                    .build(),
            )
            .build();
        self.s3
            .put_bucket_notification_configuration()
            .bucket(SOURCE_BUCKET)
            .notification_configuration(
                NotificationConfiguration::builder()
                    .queue_configurations(
                        QueueConfiguration::builder()
                            .id("new-model-output")
                            .queue_arn(queue_arn)
                            .events(Event::from("s3:ObjectCreated:*"))
                            .filter(filter)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();

        // Batch: compute environment, queue, and the worker job definition with the
        // environment Terraform gives it (EDP_RUN_ID and EDP_SHARDS_URI come per job).
        let role = self.create_iam_role("edp-e2e-batch-service");
        self.batch
            .create_compute_environment()
            .compute_environment_name("edp-e2e")
            .r#type(CeType::Unmanaged)
            .state(CeState::Enabled)
            .service_role(role)
            .send()
            .await
            .unwrap();
        self.batch
            .create_job_queue()
            .job_queue_name(JOB_QUEUE)
            .state(JqState::Enabled)
            .priority(1)
            .compute_environment_order(
                ComputeEnvironmentOrder::builder()
                    .order(1)
                    .compute_environment("edp-e2e")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let env = [
            (ENV_DEST_ROOT, dest_root().to_string()),
            (ENV_SSM_PREFIX, SSM_PREFIX.to_string()),
            (ENV_LOG_FORMAT, "json".to_string()),
        ];
        self.batch
            .register_job_definition()
            .job_definition_name(JOB_DEFINITION)
            .r#type(JobDefinitionType::Container)
            .container_properties(
                ContainerProperties::builder()
                    .image("edp-batch-worker:e2e")
                    .resource_requirements(
                        ResourceRequirement::builder()
                            .r#type(ResourceType::Vcpu)
                            .value("1")
                            .build(),
                    )
                    .resource_requirements(
                        ResourceRequirement::builder()
                            .r#type(ResourceType::Memory)
                            .value("512")
                            .build(),
                    )
                    .set_environment(Some(
                        env.iter()
                            .map(|(k, v)| KeyValuePair::builder().name(*k).value(v).build())
                            .collect(),
                    ))
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    /// IAM has no SDK client among the workspace dependencies: one Query API call by hand
    /// (moto routes requests by the service named in the credential scope).
    fn create_iam_role(&self, name: &str) -> String {
        use std::io::{Read, Write};
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"batch.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let body = format!(
            "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={}",
            form_encode(policy)
        );
        let request = format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={MOTO_ACCESS_KEY_ID}/20260101/{MOTO_REGION}/iam/aws4_request, SignedHeaders=host, Signature=0\r\n\
             X-Amz-Date: 20260101T000000Z\r\n\
             Content-Length: {len}\r\nConnection: close\r\n\r\n{body}",
            port = self.moto.port(),
            len = body.len(),
        );
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.moto.port())).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let arn = response
            .split("<Arn>")
            .nth(1)
            .and_then(|rest| rest.split("</Arn>").next())
            .unwrap_or_else(|| panic!("CreateRole answered without an Arn: {response}"));
        arn.to_string()
    }

    /// Uploads the grid, metadata and configuration of a demo tree to the aux bucket and
    /// writes the SSM settings (jobs from the demo job file) and the source credentials.
    pub async fn publish_settings(&self, demo: &DemoLayout) {
        self.upload_dir(&demo.grid_dir, &Location::s3(AUX_BUCKET, "grid"))
            .await;
        self.upload_dir(&demo.metadata_dir, &Location::s3(AUX_BUCKET, "metadata"))
            .await;
        let config = Location::s3(AUX_BUCKET, "demo_config.yaml");
        self.store
            .put_file(&config, &demo.config_file)
            .await
            .unwrap();
        let jobs = std::fs::read_to_string(&demo.jobfile).unwrap();
        let credentials = serde_json::json!({
            "access_key_id": SOURCE_ACCESS_KEY_ID,
            "secret_access_key": SOURCE_SECRET,
        })
        .to_string();
        let parameters = [
            (
                SSM_GRID_LOC,
                format!("s3://{AUX_BUCKET}/grid"),
                ParameterType::String,
            ),
            (
                SSM_METADATA_LOC,
                format!("s3://{AUX_BUCKET}/metadata"),
                ParameterType::String,
            ),
            (SSM_CONFIG_LOC, config.to_string(), ParameterType::String),
            (SSM_JOBS, jobs, ParameterType::String),
            (
                SSM_VIRTUAL_HTTPS_BASE,
                format!("{HTTPS_BASE}/"),
                ParameterType::String,
            ),
            (
                SSM_SOURCE_CREDENTIALS,
                credentials,
                ParameterType::SecureString,
            ),
        ];
        for (name, value, kind) in parameters {
            self.ssm
                .put_parameter()
                .name(ssm_parameter_name(SSM_PREFIX, name))
                .value(value)
                .r#type(kind)
                .overwrite(true)
                .send()
                .await
                .unwrap();
        }
    }

    /// Uploads every file below `dir` to `dest` (relative paths kept).
    pub async fn upload_dir(&self, dir: &Path, dest: &Location) {
        for entry in walk(dir) {
            let relative = entry
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            self.store
                .put_file(&dest.join(&relative), &entry)
                .await
                .unwrap();
        }
    }

    /// Uploads the model output inputs of `demo` accepted by `keep` below the source root
    /// (each upload makes moto send an ObjectCreated notification to the queue).
    pub async fn upload_model_output(
        &self,
        demo: &DemoLayout,
        keep: impl Fn(&edp_demo_data::DemoInput) -> bool,
    ) -> usize {
        let mut count = 0;
        for input in demo.inputs.iter().filter(|i| keep(i)) {
            for file in [&input.data, &input.meta] {
                let relative = file.strip_prefix(&demo.source_root).unwrap();
                let key = relative.to_string_lossy().replace('\\', "/");
                self.store
                    .put_file(&source_root().join(&key), file)
                    .await
                    .unwrap();
                count += 1;
            }
        }
        count
    }

    /// Receives every message now in the trigger queue (deleting them, as the Lambda event
    /// source mapping does after a successful invocation) and wraps them in the event the
    /// Lambda service would deliver.
    pub async fn drain_queue_as_lambda_event(&self) -> (serde_json::Value, usize) {
        let mut records = Vec::new();
        let mut empty_polls = 0;
        while empty_polls < 2 {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                empty_polls += 1;
                continue;
            }
            empty_polls = 0;
            for message in messages {
                let receipt = message.receipt_handle.clone().unwrap();
                records.push(serde_json::json!({
                    "messageId": message.message_id.unwrap(),
                    "receiptHandle": receipt,
                    "body": message.body.unwrap(),
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": message.md5_of_body.unwrap_or_default(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": format!("arn:aws:sqs:{MOTO_REGION}:123456789012:edp-e2e-trigger"),
                    "awsRegion": MOTO_REGION,
                }));
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .unwrap();
            }
        }
        let count = records.len();
        (serde_json::json!({ "Records": records }), count)
    }

    /// The planner's dependencies, as `main.rs` builds them, pointed at the emulator.
    pub fn planner_deps(&self, max_shards: u32) -> Deps<BatchSubmitter, SsmSettings> {
        Deps {
            store: self.store.clone(),
            store_config: self.store_config.clone(),
            submitter: BatchSubmitter::new(self.batch.clone()),
            settings: SsmSettings::new(self.ssm.clone()),
            config: PlannerConfig {
                source_root: source_root(),
                dest_root: dest_root(),
                ssm_prefix: SSM_PREFIX.to_string(),
                job_queue: JOB_QUEUE.to_string(),
                job_definition: JOB_DEFINITION.to_string(),
                // Tiny target: one shard per task, up to `max_shards`.
                shard_target_seconds: 1e-6,
                max_shards,
                claim_ttl_seconds: 3600,
                log_format: edp_cloud::LogFormat::Json,
            },
        }
    }

    /// The reporter's dependencies, pointed at the emulator.
    pub fn reporter_deps(&self) -> edp_reporter_lambda::Deps<BatchDescriber, SsmSettings> {
        edp_reporter_lambda::Deps {
            store: self.store.clone(),
            store_config: self.store_config.clone(),
            describer: BatchDescriber::new(self.batch.clone()),
            settings: SsmSettings::new(self.ssm.clone()),
            config: ReporterConfig {
                dest_root: dest_root(),
                ssm_prefix: SSM_PREFIX.to_string(),
                log_format: edp_cloud::LogFormat::Json,
            },
        }
    }

    /// Every job of the queue that is not an array child, by id.
    pub async fn submitted_jobs(&self) -> Vec<aws_sdk_batch::types::JobDetail> {
        let mut ids = Vec::new();
        for status in aws_sdk_batch::types::JobStatus::values() {
            let listed = self
                .batch
                .list_jobs()
                .job_queue(JOB_QUEUE)
                .job_status(aws_sdk_batch::types::JobStatus::from(*status))
                .send()
                .await
                .unwrap();
            for job in listed.job_summary_list.unwrap_or_default() {
                let id = job.job_id.unwrap_or_default();
                if !id.contains(':') && !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        if ids.is_empty() {
            return Vec::new();
        }
        self.describe_jobs(&ids).await
    }

    /// DescribeJobs of `ids`.
    pub async fn describe_jobs(&self, ids: &[String]) -> Vec<aws_sdk_batch::types::JobDetail> {
        self.batch
            .describe_jobs()
            .set_jobs(Some(ids.to_vec()))
            .send()
            .await
            .unwrap()
            .jobs
            .unwrap_or_default()
    }
}

/// The demo dataset used by the tests: the small spec (LLC6, 4 levels, two months, one day).
pub fn demo(dir: &Path) -> DemoLayout {
    edp_demo_data::generate(dir, &DemoSpec::small()).unwrap()
}

/// `EDP_SOURCE_ROOT` of the deployment.
pub fn source_root() -> Location {
    Location::s3(SOURCE_BUCKET, SOURCE_PREFIX)
}

/// `EDP_DEST_ROOT` of the deployment.
pub fn dest_root() -> Location {
    Location::s3(DEST_BUCKET, "")
}

async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(MOTO_REGION))
        .credentials_provider(Credentials::new(
            MOTO_ACCESS_KEY_ID,
            MOTO_SECRET_ACCESS_KEY,
            None,
            None,
            "moto",
        ))
        .load()
        .await
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
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

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
