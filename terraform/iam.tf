# Least-privilege roles, one per program:
#   planner   reads the source listing and the run state, writes claims/shards/run records
#             under _edp/, submits the array job, reads its SSM settings, consumes the queue
#   reporter  reads ledgers and granule heads, writes reports/manifests/done markers and the
#             virtual stores (_edp/virtual/: state, references and Icechunk repositories, all
#             with conditional writes: Get/Put/List, no deletes needed) under _edp/
#   batch_job (task role of the worker) reads model output and settings locations, writes
#             granules and run state, caches lat-lon factors
#   batch_execution pulls the image and writes the worker log stream
#   batch_instance only exists for EC2/SPOT capacity. Batch itself uses its service-linked
#             role (or var.batch_service_role_arn).
#
# Object writes to the SSE-KMS buckets need kms:GenerateDataKey besides kms:Decrypt.

locals {
  source_bucket_arn   = aws_s3_bucket.this["source"].arn
  products_bucket_arn = aws_s3_bucket.this["products"].arn

  source_objects_arn    = "${local.source_bucket_arn}/${var.source_prefix}*"
  products_objects_arn  = "${local.products_bucket_arn}/${var.products_prefix}*"
  run_state_objects_arn = "${local.products_bucket_arn}/${local.run_state_prefix}*"

  ssm_parameter_arns = [
    "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${trimsuffix(local.ssm_prefix, "/")}",
    "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.ssm_prefix}*",
  ]
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# ---------------------------------------------------------------------------------------
# Statements shared by several roles
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "common" {
  statement {
    sid       = "ReadSettings"
    actions   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
    resources = local.ssm_parameter_arns
  }

  statement {
    sid       = "UseDeploymentKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "ListProducts"
    actions   = ["s3:ListBucket"]
    resources = [local.products_bucket_arn]
  }

  # Granule heads (skip when done), ledgers, run records and manifests.
  statement {
    sid       = "ReadProducts"
    actions   = ["s3:GetObject"]
    resources = [local.products_objects_arn]
  }

  statement {
    sid       = "WriteRunState"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [local.run_state_objects_arn]
  }

  dynamic "statement" {
    for_each = length(local.settings_bucket_arns) > 0 ? [1] : []
    content {
      sid       = "ListSettingsLocations"
      actions   = ["s3:ListBucket"]
      resources = local.settings_bucket_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.settings_object_arns) > 0 ? [1] : []
    content {
      sid       = "ReadSettingsLocations"
      actions   = ["s3:GetObject"]
      resources = local.settings_object_arns
    }
  }
}

data "aws_iam_policy_document" "lambda_common" {
  statement {
    sid       = "AsyncFailureDestination"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.async_dlq.arn]
  }

  dynamic "statement" {
    for_each = var.enable_xray ? [1] : []
    content {
      sid       = "XRay"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

# ---------------------------------------------------------------------------------------
# Planner Lambda
# ---------------------------------------------------------------------------------------

resource "aws_iam_role" "planner" {
  name               = "${local.name}-planner"
  description        = "edp planner Lambda"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "planner" {
  source_policy_documents = [
    data.aws_iam_policy_document.common.json,
    data.aws_iam_policy_document.lambda_common.json,
  ]

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.planner.arn}:*"]
  }

  # Inventory of the model output: listing with sizes is all planning needs.
  statement {
    sid       = "ListModelOutput"
    actions   = ["s3:ListBucket"]
    resources = [local.source_bucket_arn]
  }

  statement {
    sid       = "ConsumeTriggerQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.trigger.arn]
  }

  # The job definition is named with its revision in EDP_JOB_DEFINITION; the revision-less
  # ARN and wildcard keep a manual `--job-definition name` submission working too.
  statement {
    sid     = "SubmitArrayJob"
    actions = ["batch:SubmitJob"]
    resources = [
      aws_batch_job_queue.worker.arn,
      aws_batch_job_definition.worker.arn_prefix,
      "${aws_batch_job_definition.worker.arn_prefix}:*",
    ]
  }

  # SubmitJob with propagated tags tags the job it creates.
  statement {
    sid       = "TagSubmittedJobs"
    actions   = ["batch:TagResource"]
    resources = ["arn:${local.partition}:batch:${local.region}:${local.account_id}:job/*"]
  }
}

resource "aws_iam_role_policy" "planner" {
  name   = "edp-planner"
  role   = aws_iam_role.planner.id
  policy = data.aws_iam_policy_document.planner.json
}

# ---------------------------------------------------------------------------------------
# Reporter Lambda
# ---------------------------------------------------------------------------------------

resource "aws_iam_role" "reporter" {
  name               = "${local.name}-reporter"
  description        = "edp reporter Lambda"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "reporter" {
  source_policy_documents = [
    data.aws_iam_policy_document.common.json,
    data.aws_iam_policy_document.lambda_common.json,
  ]

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.reporter.arn}:*"]
  }

  # Child-job statuses of the finished array job (Describe/List have no resource-level control).
  statement {
    sid       = "DescribeJobs"
    actions   = ["batch:DescribeJobs", "batch:ListJobs"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "reporter" {
  name   = "edp-reporter"
  role   = aws_iam_role.reporter.id
  policy = data.aws_iam_policy_document.reporter.json
}

# ---------------------------------------------------------------------------------------
# Batch worker: job (task) role and execution role
# ---------------------------------------------------------------------------------------

resource "aws_iam_role" "batch_job" {
  name               = "${local.name}-batch-job"
  description        = "edp batch worker task role"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "batch_job" {
  source_policy_documents = [data.aws_iam_policy_document.common.json]

  statement {
    sid       = "ListModelOutput"
    actions   = ["s3:ListBucket"]
    resources = [local.source_bucket_arn]
  }

  statement {
    sid       = "ReadModelOutput"
    actions   = ["s3:GetObject"]
    resources = [local.source_objects_arn]
  }

  # Granules anywhere below the destination root (run state is covered by WriteRunState).
  statement {
    sid       = "WriteGranules"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [local.products_objects_arn]
  }

  dynamic "statement" {
    for_each = length(local.factors_object_arns) > 0 ? [1] : []
    content {
      sid       = "CacheLatLonFactors"
      actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
      resources = local.factors_object_arns
    }
  }
}

resource "aws_iam_role_policy" "batch_job" {
  name   = "edp-batch-worker"
  role   = aws_iam_role.batch_job.id
  policy = data.aws_iam_policy_document.batch_job.json
}

resource "aws_iam_role" "batch_execution" {
  name               = "${local.name}-batch-execution"
  description        = "edp batch worker execution role (image pull, logs)"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "batch_execution" {
  # GetAuthorizationToken has no resource-level control.
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullWorkerImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.worker.arn]
  }

  statement {
    sid       = "DecryptWorkerImage"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "WorkerLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.worker.arn}:*"]
  }
}

resource "aws_iam_role_policy" "batch_execution" {
  name   = "edp-batch-execution"
  role   = aws_iam_role.batch_execution.id
  policy = data.aws_iam_policy_document.batch_execution.json
}

# ---------------------------------------------------------------------------------------
# EC2 capacity only: container instance role
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "batch_instance" {
  count = local.batch_on_fargate ? 0 : 1

  name               = "${local.name}-batch-instance"
  description        = "edp batch container instances (EC2/SPOT compute environment)"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_role_policy_attachment" "batch_instance" {
  count = local.batch_on_fargate ? 0 : 1

  role       = aws_iam_role.batch_instance[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
}

resource "aws_iam_instance_profile" "batch_instance" {
  count = local.batch_on_fargate ? 0 : 1

  name = "${local.name}-batch-instance"
  role = aws_iam_role.batch_instance[0].name
}
