# New model output -> S3 ObjectCreated notifications -> trigger queue (with a dead-letter
# queue) -> planner Lambda (lambda.tf). A second dead-letter queue keeps asynchronous Lambda
# invocations and EventBridge deliveries that failed for good (reporter, manual planner calls).

locals {
  # SQS wants the visibility timeout to cover the function timeout; AWS recommends six times
  # it plus the batching window so retries of a throttled batch do not overlap.
  trigger_visibility_timeout = min(43200, 6 * var.planner_timeout_seconds + var.planner_batching_window_seconds)
}

resource "aws_sqs_queue" "trigger_dlq" {
  name                              = "${local.name}-trigger-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 3600
}

resource "aws_sqs_queue" "trigger" {
  name                              = "${local.name}-trigger"
  message_retention_seconds         = var.sqs_message_retention_seconds
  visibility_timeout_seconds        = local.trigger_visibility_timeout
  receive_wait_time_seconds         = 20
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 3600

  # The redrive policy is its own resource (aws_sqs_queue_redrive_policy.trigger) so that the
  # queue policy can be applied after it; the queue must not plan to reset an attribute it
  # does not own.
  lifecycle {
    ignore_changes = [redrive_policy]
  }
}

resource "aws_sqs_queue_redrive_policy" "trigger" {
  queue_url = aws_sqs_queue.trigger.id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.trigger_dlq.arn
    maxReceiveCount     = var.sqs_max_receive_count
  })
}

data "aws_iam_policy_document" "trigger_queue" {
  statement {
    sid       = "SourceBucketNotifications"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.trigger.arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.this["source"].arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "trigger" {
  queue_url = aws_sqs_queue.trigger.id
  policy    = data.aws_iam_policy_document.trigger_queue.json

  # Both resources call SetQueueAttributes on the same queue: one after the other. (moto 5 also
  # clears the queue policy on any SetQueueAttributes call that does not repeat it.)
  depends_on = [aws_sqs_queue_redrive_policy.trigger]
}

resource "aws_s3_bucket_notification" "source" {
  bucket = aws_s3_bucket.this["source"].id

  # One rule per suffix: S3 filters accept a single suffix, and rules with different suffixes
  # do not overlap.
  dynamic "queue" {
    for_each = toset(var.notification_suffixes)
    content {
      id            = "edp-model-output${replace(queue.value, ".", "-")}"
      queue_arn     = aws_sqs_queue.trigger.arn
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = var.source_prefix != "" ? var.source_prefix : null
      filter_suffix = queue.value
    }
  }

  # S3 checks that it may send to the queue when the notification is saved.
  depends_on = [aws_sqs_queue_policy.trigger]
}

# Dead letters of asynchronous invocations (reporter events, manual planner calls) and of
# EventBridge deliveries that exhausted their retries.
resource "aws_sqs_queue" "async_dlq" {
  name                              = "${local.name}-async-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 3600
}

data "aws_iam_policy_document" "async_dlq" {
  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.async_dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.job_finished.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "async_dlq" {
  queue_url = aws_sqs_queue.async_dlq.id
  policy    = data.aws_iam_policy_document.async_dlq.json
}
