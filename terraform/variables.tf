# Inputs of the edp deployment. Every variable is typed and described; defaults are the
# production choices, and the emulator switches (last section) are off unless a local AWS
# emulator is the target (terraform/emulator.tfvars.example).

# ---------------------------------------------------------------------------------------
# Provider and naming
# ---------------------------------------------------------------------------------------

variable "aws_region" {
  description = "AWS region of every resource."
  type        = string
  default     = "us-west-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like us-west-2."
  }
}

variable "aws_endpoint_url" {
  description = "Custom endpoint for every AWS service used (a local emulator such as moto, e.g. http://127.0.0.1:5000). Empty for real AWS."
  type        = string
  default     = ""

  validation {
    condition     = var.aws_endpoint_url == "" || can(regex("^https?://[^/]+/?$", var.aws_endpoint_url))
    error_message = "aws_endpoint_url must be empty or an http(s) URL without a path, e.g. http://127.0.0.1:5000."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (and first part of the SSM prefix /<name_prefix>/<environment>/)."
  type        = string
  default     = "edp"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name_prefix))
    error_message = "name_prefix must be 2-20 characters: lower-case letters, digits and '-', starting with a letter."
  }
}

variable "environment" {
  description = "Deployment name (prod, staging, dev ...): second part of resource names and of the SSM prefix."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,14}$", var.environment))
    error_message = "environment must be 1-15 characters: lower-case letters, digits and '-', starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags on every resource (merged into the provider's default tags)."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------------------

variable "source_bucket_name" {
  description = "Name of the bucket that receives MITgcm model output (.meta/.data). Empty: <name_prefix>-<environment>-model-output-<account id>."
  type        = string
  default     = ""

  validation {
    condition     = var.source_bucket_name == "" || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.source_bucket_name))
    error_message = "source_bucket_name must be empty or a valid S3 bucket name."
  }
}

variable "products_bucket_name" {
  description = "Name of the bucket that receives the NetCDF granules and the run state (_edp/). Empty: <name_prefix>-<environment>-products-<account id>."
  type        = string
  default     = ""

  validation {
    condition     = var.products_bucket_name == "" || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.products_bucket_name))
    error_message = "products_bucket_name must be empty or a valid S3 bucket name."
  }
}

variable "source_prefix" {
  description = "Key prefix of the model output inside the source bucket (EDP_SOURCE_ROOT = s3://<bucket>/<prefix>). Empty for the bucket root, otherwise ends with '/'."
  type        = string
  default     = ""

  validation {
    condition     = var.source_prefix == "" || can(regex("^[^/].*/$", var.source_prefix))
    error_message = "source_prefix must be empty or a key prefix that does not start with '/' and ends with '/'."
  }
}

variable "products_prefix" {
  description = "Key prefix of the products inside the products bucket (EDP_DEST_ROOT = s3://<bucket>/<prefix>). Empty for the bucket root, otherwise ends with '/'."
  type        = string
  default     = ""

  validation {
    condition     = var.products_prefix == "" || can(regex("^[^/].*/$", var.products_prefix))
    error_message = "products_prefix must be empty or a key prefix that does not start with '/' and ends with '/'."
  }
}

variable "notification_suffixes" {
  description = "Object key suffixes in the source bucket that notify the planner. Both halves of an MDS record by default: the upload order of .meta and .data is unknown, and the planner only plans complete records."
  type        = list(string)
  default     = [".data", ".meta"]

  validation {
    condition     = length(var.notification_suffixes) > 0 && alltrue([for s in var.notification_suffixes : can(regex("^\\.[A-Za-z0-9]+$", s))])
    error_message = "notification_suffixes must list at least one suffix such as .meta or .data."
  }
}

variable "scratch_expiration_days" {
  description = "Days after which run scratch objects (<dest_root>/_edp/scratch/) expire."
  type        = number
  default     = 14

  validation {
    condition     = var.scratch_expiration_days >= 1 && floor(var.scratch_expiration_days) == var.scratch_expiration_days
    error_message = "scratch_expiration_days must be a whole number of at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten (noncurrent) versions in the versioned products bucket expire."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of at least 1."
  }
}

variable "force_destroy_buckets" {
  description = "Allow `terraform destroy` to delete non-empty buckets. Keep false in production."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------
# Encryption and logs
# ---------------------------------------------------------------------------------------

variable "kms_deletion_window_days" {
  description = "Waiting period before the customer managed KMS key is deleted after `terraform destroy`."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "log_retention_days" {
  description = "Retention of every CloudWatch log group (Lambda, Batch worker, job-failure events)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

# ---------------------------------------------------------------------------------------
# Trigger queue
# ---------------------------------------------------------------------------------------

variable "sqs_max_receive_count" {
  description = "Receives of a notification before it moves to the dead-letter queue. Keep it well above 1: with reserved concurrency 1 and the SQS minimum maximum_concurrency 2, throttled deliveries also count as receives."
  type        = number
  default     = 10

  validation {
    condition     = var.sqs_max_receive_count >= 3 && var.sqs_max_receive_count <= 1000
    error_message = "sqs_max_receive_count must be between 3 and 1000."
  }
}

variable "sqs_message_retention_seconds" {
  description = "Retention of notifications in the trigger queue (the dead-letter queues keep 14 days)."
  type        = number
  default     = 345600

  validation {
    condition     = var.sqs_message_retention_seconds >= 60 && var.sqs_message_retention_seconds <= 1209600
    error_message = "sqs_message_retention_seconds must be between 60 and 1209600."
  }
}

# ---------------------------------------------------------------------------------------
# Lambda functions
# ---------------------------------------------------------------------------------------

variable "lambda_architecture" {
  description = "Instruction set of both Lambda functions; must match the zips (`cargo lambda build --release --arm64 --output-format zip` for arm64, --x86-64 for x86_64)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "planner_zip_path" {
  description = "Planner deployment zip built by `cargo lambda build --release --output-format zip`: absolute, or relative to the repository root."
  type        = string
  default     = "target/lambda/edp-planner/bootstrap.zip"

  validation {
    condition     = endswith(var.planner_zip_path, ".zip")
    error_message = "planner_zip_path must name a .zip file."
  }
}

variable "reporter_zip_path" {
  description = "Reporter deployment zip built by `cargo lambda build --release --output-format zip`: absolute, or relative to the repository root."
  type        = string
  default     = "target/lambda/edp-reporter/bootstrap.zip"

  validation {
    condition     = endswith(var.reporter_zip_path, ".zip")
    error_message = "reporter_zip_path must name a .zip file."
  }
}

variable "planner_timeout_seconds" {
  description = "Planner Lambda timeout (listing, claiming and writing shards of one batch of notifications)."
  type        = number
  default     = 300

  validation {
    condition     = var.planner_timeout_seconds >= 10 && var.planner_timeout_seconds <= 900
    error_message = "planner_timeout_seconds must be between 10 and 900."
  }
}

variable "planner_memory_mb" {
  description = "Planner Lambda memory (CPU scales with it)."
  type        = number
  default     = 512

  validation {
    condition     = var.planner_memory_mb >= 128 && var.planner_memory_mb <= 10240
    error_message = "planner_memory_mb must be between 128 and 10240."
  }
}

variable "reporter_timeout_seconds" {
  description = "Reporter Lambda timeout (reconciling the ledger of one run, writing its report, updating its datasets' virtual stores)."
  type        = number
  default     = 300

  validation {
    condition     = var.reporter_timeout_seconds >= 10 && var.reporter_timeout_seconds <= 900
    error_message = "reporter_timeout_seconds must be between 10 and 900."
  }
}

variable "reporter_memory_mb" {
  description = "Reporter Lambda memory."
  type        = number
  default     = 512

  validation {
    condition     = var.reporter_memory_mb >= 128 && var.reporter_memory_mb <= 10240
    error_message = "reporter_memory_mb must be between 128 and 10240."
  }
}

variable "reporter_reserved_concurrency" {
  description = "Reserved concurrency of the reporter (runs finishing at the same time are reported in parallel up to this)."
  type        = number
  default     = 2

  validation {
    condition     = var.reporter_reserved_concurrency >= 1
    error_message = "reporter_reserved_concurrency must be at least 1."
  }
}

variable "planner_batch_size" {
  description = "Largest number of S3 notifications handed to one planner invocation."
  type        = number
  default     = 1000

  validation {
    condition     = var.planner_batch_size >= 1 && var.planner_batch_size <= 10000
    error_message = "planner_batch_size must be between 1 and 10000."
  }
}

variable "planner_batching_window_seconds" {
  description = "How long SQS gathers notifications before invoking the planner (maximum_batching_window_in_seconds): a model run writing many files becomes one plan."
  type        = number
  default     = 60

  validation {
    condition     = var.planner_batching_window_seconds >= 1 && var.planner_batching_window_seconds <= 300
    error_message = "planner_batching_window_seconds must be between 1 and 300 (batch sizes above 10 need at least 1)."
  }
}

variable "enable_xray" {
  description = "Active X-Ray tracing of both Lambda functions (PassThrough when false)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------
# Planning (planner environment)
# ---------------------------------------------------------------------------------------

variable "shard_target_seconds" {
  description = "EDP_SHARD_TARGET_SECONDS: target estimated core-seconds of work per shard (one Batch array child)."
  type        = number
  default     = 3600

  validation {
    condition     = var.shard_target_seconds >= 1 && floor(var.shard_target_seconds) == var.shard_target_seconds
    error_message = "shard_target_seconds must be a positive whole number."
  }
}

variable "max_shards" {
  description = "EDP_MAX_SHARDS: upper bound of the Batch array size of one run."
  type        = number
  default     = 1000

  validation {
    condition     = var.max_shards >= 1 && var.max_shards <= 10000 && floor(var.max_shards) == var.max_shards
    error_message = "max_shards must be a whole number between 1 and 10000 (the Batch array limit)."
  }
}

variable "claim_ttl_seconds" {
  description = "EDP_CLAIM_TTL_SECONDS: age after which the claim of an unfinished run is considered dead and the task may be planned again. Keep it above worker_timeout_seconds x worker_retry_attempts plus queueing time."
  type        = number
  default     = 86400

  validation {
    condition     = var.claim_ttl_seconds >= 60 && floor(var.claim_ttl_seconds) == var.claim_ttl_seconds
    error_message = "claim_ttl_seconds must be a whole number of at least 60."
  }
}

# ---------------------------------------------------------------------------------------
# AWS Batch
# ---------------------------------------------------------------------------------------

variable "batch_compute_type" {
  description = "Capacity of the Batch compute environment: FARGATE_SPOT (default), FARGATE, SPOT (EC2 Spot) or EC2."
  type        = string
  default     = "FARGATE_SPOT"

  validation {
    condition     = contains(["FARGATE_SPOT", "FARGATE", "SPOT", "EC2"], var.batch_compute_type)
    error_message = "batch_compute_type must be FARGATE_SPOT, FARGATE, SPOT or EC2."
  }
}

variable "batch_max_vcpus" {
  description = "Most vCPUs the compute environment runs at once: the main cost and throughput control."
  type        = number
  default     = 256

  validation {
    condition     = var.batch_max_vcpus >= 1 && floor(var.batch_max_vcpus) == var.batch_max_vcpus
    error_message = "batch_max_vcpus must be a positive whole number."
  }
}

variable "batch_subnet_ids" {
  description = "Subnets of the Batch workers (private subnets with a NAT gateway or S3/ECR/Logs/SSM endpoints, or public subnets with batch_assign_public_ip)."
  type        = list(string)

  validation {
    condition     = length(var.batch_subnet_ids) > 0 && alltrue([for s in var.batch_subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "batch_subnet_ids must list at least one subnet id (subnet-...)."
  }
}

variable "batch_security_group_ids" {
  description = "Security groups of the Batch workers (egress to S3, ECR, CloudWatch Logs and SSM; no ingress needed)."
  type        = list(string)

  validation {
    condition     = length(var.batch_security_group_ids) > 0 && alltrue([for s in var.batch_security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "batch_security_group_ids must list at least one security group id (sg-...)."
  }
}

variable "batch_assign_public_ip" {
  description = "Give Fargate workers a public IP (needed in public subnets without NAT to reach ECR and S3)."
  type        = bool
  default     = false
}

variable "batch_ec2_instance_types" {
  description = "Instance types or families of the EC2/SPOT compute environment (ignored for Fargate)."
  type        = list(string)
  default     = ["c6i", "m6i", "c5", "m5"]

  validation {
    condition     = length(var.batch_ec2_instance_types) > 0
    error_message = "batch_ec2_instance_types must list at least one instance type or family."
  }
}

variable "batch_spot_bid_percentage" {
  description = "Highest EC2 Spot price as a percentage of On-Demand (SPOT compute type only)."
  type        = number
  default     = 100

  validation {
    condition     = var.batch_spot_bid_percentage >= 1 && var.batch_spot_bid_percentage <= 100
    error_message = "batch_spot_bid_percentage must be between 1 and 100."
  }
}

variable "batch_service_role_arn" {
  description = "IAM service role of the compute environment. Empty (production): AWS Batch uses its service-linked role AWSServiceRoleForBatch, as AWS recommends. Emulators that require serviceRole (moto 5) get a role ARN here."
  type        = string
  default     = ""

  validation {
    condition     = var.batch_service_role_arn == "" || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.batch_service_role_arn))
    error_message = "batch_service_role_arn must be empty or an IAM role ARN."
  }
}

variable "worker_vcpus" {
  description = "vCPUs of one worker (one shard). Fargate accepts 0.25, 0.5, 1, 2, 4, 8 or 16."
  type        = number
  default     = 4

  validation {
    condition     = var.worker_vcpus > 0
    error_message = "worker_vcpus must be positive."
  }
}

variable "worker_memory_mib" {
  description = "Memory of one worker in MiB (Fargate: a valid combination with worker_vcpus, e.g. 4 vCPU with 8192-30720)."
  type        = number
  default     = 8192

  validation {
    condition     = var.worker_memory_mib >= 512 && floor(var.worker_memory_mib) == var.worker_memory_mib
    error_message = "worker_memory_mib must be a whole number of at least 512."
  }
}

variable "worker_cpu_architecture" {
  description = "CPU architecture of the worker image on Fargate (X86_64 or ARM64). Fargate Spot runs X86_64 only."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.worker_cpu_architecture)
    error_message = "worker_cpu_architecture must be X86_64 or ARM64."
  }
}

variable "worker_ephemeral_storage_gib" {
  description = "Ephemeral storage of a Fargate worker in GiB (inputs and granules are staged on local disk)."
  type        = number
  default     = 30

  validation {
    condition     = var.worker_ephemeral_storage_gib >= 21 && var.worker_ephemeral_storage_gib <= 200
    error_message = "worker_ephemeral_storage_gib must be between 21 and 200."
  }
}

variable "worker_timeout_seconds" {
  description = "Batch attempt timeout of one shard: a stuck attempt is killed after this."
  type        = number
  default     = 14400

  validation {
    condition     = var.worker_timeout_seconds >= 60
    error_message = "worker_timeout_seconds must be at least 60 (the Batch minimum)."
  }
}

variable "worker_retry_attempts" {
  description = "Batch attempts per shard; which exit codes are retried comes from task-schemas/schemas/exit-codes.json."
  type        = number
  default     = 3

  validation {
    condition     = var.worker_retry_attempts >= 1 && var.worker_retry_attempts <= 10
    error_message = "worker_retry_attempts must be between 1 and 10."
  }
}

# ---------------------------------------------------------------------------------------
# Container image
# ---------------------------------------------------------------------------------------

variable "image_tag" {
  description = "Tag of the worker image in the ECR repository (tags are immutable: use a version or git revision, not latest)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid, immutable image tag (not 'latest')."
  }
}

variable "ecr_keep_tagged_images" {
  description = "Number of most recent tagged worker images ECR keeps (untagged images expire after 7 days)."
  type        = number
  default     = 30

  validation {
    condition     = var.ecr_keep_tagged_images >= 1
    error_message = "ecr_keep_tagged_images must be at least 1."
  }
}

variable "ecr_force_delete" {
  description = "Allow `terraform destroy` to delete the ECR repository while it still holds images."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------
# SSM settings and secrets (docs/architecture.md, "Deployment contract")
# ---------------------------------------------------------------------------------------

variable "edp_settings" {
  description = "Values of the SSM String parameters settings/* below the SSM prefix. Empty values are not created (SSM rejects empty strings); config_loc is optional (built-in V4r4 default), jobs is the EDP job file text planned for new model output, replan_changed_inputs is true or false (default false: a re-uploaded input of a finished granule is reported, not redone), skip_invalid_metadata is true or false (default false: an invalid metadata file beyond the repaired known defects is an error), virtual_https_base is the https:// URL serving the destination root (optional: the reporter then writes https references of the virtual stores too)."
  type = object({
    metadata_loc = optional(string, "")
    grid_loc     = optional(string, "")
    factors_loc  = optional(string, "")
    config_loc   = optional(string, "")
    jobs         = optional(string, "")
    # "true": re-plan finished granules whose inputs were re-uploaded; default: report only.
    replan_changed_inputs = optional(string, "")
    # "true": load the metadata even when a file is invalid (skipped and reported).
    skip_invalid_metadata = optional(string, "")
    # https:// URL serving the destination root: virtual stores get https references too.
    virtual_https_base = optional(string, "")
  })
  default = {}

  validation {
    condition = alltrue([
      for k in ["metadata_loc", "grid_loc", "factors_loc", "config_loc"] :
      var.edp_settings[k] == "" || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", var.edp_settings[k]))
    ])
    error_message = "edp_settings locations must be empty or s3://bucket[/prefix] URLs."
  }

  validation {
    condition     = length(var.edp_settings.jobs) <= 8192
    error_message = "edp_settings.jobs must fit an advanced SSM parameter (8 KiB)."
  }

  validation {
    condition     = contains(["", "true", "false"], var.edp_settings.replan_changed_inputs)
    error_message = "edp_settings.replan_changed_inputs must be empty, \"true\" or \"false\"."
  }

  validation {
    condition     = contains(["", "true", "false"], var.edp_settings.skip_invalid_metadata)
    error_message = "edp_settings.skip_invalid_metadata must be empty, \"true\" or \"false\"."
  }

  validation {
    condition     = var.edp_settings.virtual_https_base == "" || can(regex("^https?://[^/\\s]+(/.*)?$", var.edp_settings.virtual_https_base))
    error_message = "edp_settings.virtual_https_base must be empty or an https:// URL."
  }
}

variable "manage_source_credentials" {
  description = "Create secrets/source_credentials (SecureString) from source_credentials_json. Terraform sets it once; rotate it outside Terraform."
  type        = bool
  default     = false
}

variable "source_credentials_json" {
  description = "JSON {access_key_id, secret_access_key, session_token?} for a source bucket outside the account (used only with manage_source_credentials)."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.source_credentials_json == null || can(jsondecode(var.source_credentials_json).access_key_id)
    error_message = "source_credentials_json must be JSON with at least access_key_id and secret_access_key."
  }
}

variable "manage_destination_credentials" {
  description = "Create secrets/destination_credentials (SecureString) from destination_credentials_json. Terraform sets it once; rotate it outside Terraform."
  type        = bool
  default     = false
}

variable "destination_credentials_json" {
  description = "JSON {access_key_id, secret_access_key, session_token?} for a destination bucket outside the account (used only with manage_destination_credentials)."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.destination_credentials_json == null || can(jsondecode(var.destination_credentials_json).access_key_id)
    error_message = "destination_credentials_json must be JSON with at least access_key_id and secret_access_key."
  }
}

# ---------------------------------------------------------------------------------------
# Monitoring
# ---------------------------------------------------------------------------------------

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (the address must confirm the subscription). Empty: no subscription."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be empty or an e-mail address."
  }
}

variable "failed_granules_alarm_threshold" {
  description = "Failed granules within 5 minutes that raise the failed-granules alarm."
  type        = number
  default     = 1

  validation {
    condition     = var.failed_granules_alarm_threshold >= 1
    error_message = "failed_granules_alarm_threshold must be at least 1."
  }
}

# ---------------------------------------------------------------------------------------
# Emulator switch: keep the default unless the target is a local emulator
# ---------------------------------------------------------------------------------------

variable "enable_query_definitions" {
  description = "Save the Logs Insights queries of the README operator guide as CloudWatch query definitions. Set false only on an emulator without the PutQueryDefinition API (moto 5)."
  type        = bool
  default     = true
}
