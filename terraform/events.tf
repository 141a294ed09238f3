# Batch "Job State Change" events of our queue:
#   job_finished (SUCCEEDED or FAILED)  -> reporter Lambda (writes the run report)
#   job_failed   (FAILED)               -> job-failures log group (metric + alarm in monitoring.tf)
# Only the job the planner submitted matters: an array parent, or a plain job when a run has
# a single shard. Array children (which carry arrayProperties.index) are filtered out, so a
# run with N shards yields one report, not N.

locals {
  finished_job_detail = {
    jobQueue        = [aws_batch_job_queue.worker.arn]
    arrayProperties = { index = [{ exists = false }] }
  }
}

resource "aws_cloudwatch_event_rule" "job_finished" {
  name        = "${local.name}-batch-job-finished"
  description = "edp: a run's Batch job SUCCEEDED or FAILED -> reporter"

  event_pattern = jsonencode({
    source        = ["aws.batch"]
    "detail-type" = ["Batch Job State Change"]
    detail        = merge(local.finished_job_detail, { status = ["SUCCEEDED", "FAILED"] })
  })
}

resource "aws_cloudwatch_event_target" "reporter" {
  rule      = aws_cloudwatch_event_rule.job_finished.name
  target_id = "edp-reporter"
  arn       = aws_lambda_function.reporter.arn

  retry_policy {
    maximum_retry_attempts       = 20
    maximum_event_age_in_seconds = 86400
  }

  dead_letter_config {
    arn = aws_sqs_queue.async_dlq.arn
  }
}

resource "aws_lambda_permission" "reporter_events" {
  statement_id  = "AllowBatchJobFinishedRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.reporter.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.job_finished.arn
}

resource "aws_cloudwatch_event_rule" "job_failed" {
  name        = "${local.name}-batch-job-failed"
  description = "edp: a run's Batch job FAILED -> job-failures log group"

  event_pattern = jsonencode({
    source        = ["aws.batch"]
    "detail-type" = ["Batch Job State Change"]
    detail        = merge(local.finished_job_detail, { status = ["FAILED"] })
  })
}

resource "aws_cloudwatch_log_group" "job_failures" {
  name              = local.job_failures_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn

  #checkov:skip=CKV_AWS_338:Retention is a cost control (var.log_retention_days); run reports and ledgers in S3 are the durable record.
}

# EventBridge writes to CloudWatch Logs through a resource policy on the log group.
data "aws_iam_policy_document" "job_failures_logs" {
  statement {
    sid       = "EventBridgeToJobFailures"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.job_failures.arn}:*"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com", "delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.job_failed.arn]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "job_failures" {
  policy_name     = "${local.name}-batch-job-failures"
  policy_document = data.aws_iam_policy_document.job_failures_logs.json
}

resource "aws_cloudwatch_event_target" "job_failures_log" {
  rule      = aws_cloudwatch_event_rule.job_failed.name
  target_id = "edp-job-failures-log"
  arn       = aws_cloudwatch_log_group.job_failures.arn

  depends_on = [aws_cloudwatch_log_resource_policy.job_failures]
}
