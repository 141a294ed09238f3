# Names and derived values shared by the other files: resource names, the storage roots of
# docs/architecture.md, the deployment-contract environment and the worker exit-code table.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  name       = "${var.name_prefix}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  # Buckets and the roots the programs see (EDP_SOURCE_ROOT / EDP_DEST_ROOT carry no
  # trailing slash; the key prefixes used in policies and filters do).
  source_bucket_name   = var.source_bucket_name != "" ? var.source_bucket_name : "${local.name}-model-output-${local.account_id}"
  products_bucket_name = var.products_bucket_name != "" ? var.products_bucket_name : "${local.name}-products-${local.account_id}"
  source_root          = trimsuffix("s3://${local.source_bucket_name}/${var.source_prefix}", "/")
  dest_root            = trimsuffix("s3://${local.products_bucket_name}/${var.products_prefix}", "/")
  run_state_prefix     = "${var.products_prefix}_edp/"
  scratch_prefix       = "${var.products_prefix}_edp/scratch/"

  # SSM Parameter Store prefix, e.g. /edp/prod/ (EDP_SSM_PREFIX ends with '/').
  ssm_prefix = "/${var.name_prefix}/${var.environment}/"

  # The worker's exit-code table (docs/architecture.md, "Worker exit codes"): Batch retry
  # rules are read from the file the Rust code generates, never restated here.
  exit_codes             = jsondecode(file("${path.module}/../task-schemas/schemas/exit-codes.json"))
  batch_evaluate_on_exit = local.exit_codes.batch_evaluate_on_exit

  # Deployment contract: exactly the variables of docs/architecture.md per program.
  # EDP_RUN_ID and EDP_SHARDS_URI are set per job by the planner; AWS_BATCH_JOB_ARRAY_INDEX by Batch.
  log_format = "json"
  common_environment = {
    EDP_DEST_ROOT  = local.dest_root
    EDP_SSM_PREFIX = local.ssm_prefix
    EDP_LOG_FORMAT = local.log_format
  }
  planner_environment = merge(local.common_environment, {
    EDP_SOURCE_ROOT          = local.source_root
    EDP_JOB_QUEUE            = aws_batch_job_queue.worker.arn
    EDP_JOB_DEFINITION       = aws_batch_job_definition.worker.arn
    EDP_SHARD_TARGET_SECONDS = tostring(var.shard_target_seconds)
    EDP_MAX_SHARDS           = tostring(var.max_shards)
    EDP_CLAIM_TTL_SECONDS    = tostring(var.claim_ttl_seconds)
  })
  worker_environment   = local.common_environment
  reporter_environment = local.common_environment

  # Locations named by the SSM settings (metadata, grid, factors, configuration) may live in
  # other buckets: the programs that read them get read access to exactly those prefixes.
  settings_locations = {
    for k in ["metadata_loc", "grid_loc", "factors_loc", "config_loc"] :
    k => regex("^s3://([^/]+)/?(.*)$", var.edp_settings[k]) if var.edp_settings[k] != ""
  }
  settings_bucket_arns = distinct([
    for loc in values(local.settings_locations) : "arn:${local.partition}:s3:::${loc[0]}"
  ])
  settings_object_arns = distinct([
    for loc in values(local.settings_locations) : "arn:${local.partition}:s3:::${loc[0]}/${loc[1]}*"
  ])
  # Lat-lon factors are computed and cached by the worker when missing: it may write there.
  factors_object_arns = [
    for k, loc in local.settings_locations : "arn:${local.partition}:s3:::${loc[0]}/${loc[1]}*" if k == "factors_loc"
  ]

  # Lambda zips: absolute, or relative to the repository root (where cargo lambda writes them).
  planner_zip  = startswith(var.planner_zip_path, "/") ? var.planner_zip_path : "${path.module}/../${var.planner_zip_path}"
  reporter_zip = startswith(var.reporter_zip_path, "/") ? var.reporter_zip_path : "${path.module}/../${var.reporter_zip_path}"

  # Batch capacity.
  batch_on_fargate = contains(["FARGATE", "FARGATE_SPOT"], var.batch_compute_type)

  # Log group names (created here so retention and encryption are ours, not defaults).
  planner_log_group_name      = "/aws/lambda/${local.name}-planner"
  reporter_log_group_name     = "/aws/lambda/${local.name}-reporter"
  worker_log_group_name       = "/aws/batch/${local.name}-worker"
  job_failures_log_group_name = "/aws/events/${local.name}-batch-job-failures"

  # Metrics namespace the worker writes with the CloudWatch embedded metric format.
  metrics_namespace = "EDP"
}
