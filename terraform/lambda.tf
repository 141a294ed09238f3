# The planner (SQS notifications / manual events -> claims -> shards -> one Batch array job)
# and the reporter (Batch job state change -> reconciled ledger -> run report). Both are Rust
# binaries on provided.al2023, zipped by `cargo lambda build --release --output-format zip`.

resource "aws_cloudwatch_log_group" "planner" {
  name              = local.planner_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn

  #checkov:skip=CKV_AWS_338:Retention is a cost control (var.log_retention_days); run reports and ledgers in S3 are the durable record.
}

resource "aws_cloudwatch_log_group" "reporter" {
  name              = local.reporter_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn

  #checkov:skip=CKV_AWS_338:Retention is a cost control (var.log_retention_days); run reports and ledgers in S3 are the durable record.
}

resource "aws_lambda_function" "planner" {
  #checkov:skip=CKV_AWS_116:Failed asynchronous invocations go to the async DLQ through an on-failure destination (aws_lambda_function_event_invoke_config.this), the successor of function DLQs; SQS-triggered batches use the trigger queue's DLQ.
  #checkov:skip=CKV_AWS_117:The planner only calls regional AWS APIs (S3, SSM, Batch); a VPC would add NAT cost without isolating anything.
  #checkov:skip=CKV_AWS_272:Zips are built by cargo lambda in CI; code signing needs an AWS Signer profile the deployment does not have yet.
  function_name = "${local.name}-planner"
  description   = "edp planner: new model output or manual request -> claimed, sharded tasks -> one Batch array job"
  role          = aws_iam_role.planner.arn

  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  filename         = local.planner_zip
  source_code_hash = filebase64sha256(local.planner_zip)

  timeout     = var.planner_timeout_seconds
  memory_size = var.planner_memory_mb

  # One planner at a time: concurrent plans would race for the same claims and split one model
  # run into several Batch jobs.
  reserved_concurrent_executions = 1

  kms_key_arn = aws_kms_key.main.arn

  environment {
    variables = local.planner_environment
  }

  tracing_config {
    mode = var.enable_xray ? "Active" : "PassThrough"
  }

  lifecycle {
    precondition {
      condition     = var.claim_ttl_seconds > var.worker_timeout_seconds * var.worker_retry_attempts
      error_message = "claim_ttl_seconds must exceed worker_timeout_seconds x worker_retry_attempts, or the claims of a running job expire and its tasks are planned twice."
    }
  }

  depends_on = [
    aws_cloudwatch_log_group.planner,
    aws_iam_role_policy.planner,
  ]
}

resource "aws_lambda_event_source_mapping" "planner_trigger" {
  event_source_arn                   = aws_sqs_queue.trigger.arn
  function_name                      = aws_lambda_function.planner.arn
  batch_size                         = var.planner_batch_size
  maximum_batching_window_in_seconds = var.planner_batching_window_seconds

  # 2 is the smallest maximum concurrency SQS event sources accept; the planner's reserved
  # concurrency of 1 is what serialises plans (a second poller's batch is throttled and
  # returns to the queue, hence the generous maxReceiveCount).
  scaling_config {
    maximum_concurrency = 2
  }
}

resource "aws_lambda_function" "reporter" {
  #checkov:skip=CKV_AWS_116:Failed asynchronous invocations go to the async DLQ through an on-failure destination (aws_lambda_function_event_invoke_config.this), the successor of function DLQs.
  #checkov:skip=CKV_AWS_117:The reporter only calls regional AWS APIs (S3, SSM, Batch); a VPC would add NAT cost without isolating anything.
  #checkov:skip=CKV_AWS_272:Zips are built by cargo lambda in CI; code signing needs an AWS Signer profile the deployment does not have yet.
  function_name = "${local.name}-reporter"
  description   = "edp reporter: Batch job finished -> reconciled ledger -> run report"
  role          = aws_iam_role.reporter.arn

  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  filename         = local.reporter_zip
  source_code_hash = filebase64sha256(local.reporter_zip)

  timeout     = var.reporter_timeout_seconds
  memory_size = var.reporter_memory_mb

  reserved_concurrent_executions = var.reporter_reserved_concurrency

  kms_key_arn = aws_kms_key.main.arn

  environment {
    variables = local.reporter_environment
  }

  tracing_config {
    mode = var.enable_xray ? "Active" : "PassThrough"
  }

  depends_on = [
    aws_cloudwatch_log_group.reporter,
    aws_iam_role_policy.reporter,
  ]
}

# Asynchronous invocations (EventBridge -> reporter, `edp submit` -> planner with
# InvocationType=Event) that still fail after the retries land in the async DLQ with the
# request and the error (on-failure destination).
resource "aws_lambda_function_event_invoke_config" "this" {
  for_each = {
    planner  = aws_lambda_function.planner.function_name
    reporter = aws_lambda_function.reporter.function_name
  }

  function_name                = each.value
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.async_dlq.arn
    }
  }
}
