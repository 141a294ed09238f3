# Metrics, alarms, dashboard and saved Logs Insights queries.
#
# The worker writes CloudWatch embedded-metric-format (EMF) lines on stdout; the awslogs driver
# ships them to the worker log group and CloudWatch extracts the metrics into namespace "EDP":
#   GranulesSucceeded, GranulesFailed (Count) and GranuleSeconds (Seconds), dimension ProductKind.
# Failed Batch jobs become a metric through the job-failures log group (events.tf).

resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = aws_kms_key.main.arn
}

data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid       = "CloudWatchAlarms"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "AccountSubscribers"
    actions   = ["sns:Subscribe", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email != "" ? 1 : 0

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_log_metric_filter" "batch_jobs_failed" {
  name           = "${local.name}-batch-jobs-failed"
  log_group_name = aws_cloudwatch_log_group.job_failures.name
  pattern        = "{ $.detail.status = \"FAILED\" }"

  metric_transformation {
    name          = "BatchJobsFailed"
    namespace     = local.metrics_namespace
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

# ---------------------------------------------------------------------------------------
# Alarms -> SNS topic
# ---------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "granules_failed" {
  alarm_name          = "${local.name}-granules-failed"
  alarm_description   = "Granules failed (EDP/GranulesFailed over every ProductKind). Logs Insights: ${local.name}/failed-granules."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.failed_granules_alarm_threshold
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  # A Metrics Insights query sums every ProductKind, present and future, in one alarm.
  metric_query {
    id          = "failed"
    label       = "Granules failed"
    expression  = "SELECT SUM(GranulesFailed) FROM SCHEMA(\"${local.metrics_namespace}\", ProductKind)"
    period      = 300
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "trigger_dlq" {
  alarm_name          = "${local.name}-trigger-dlq-not-empty"
  alarm_description   = "S3 notifications the planner could not handle are in the trigger DLQ: inspect, fix, then redrive (README, operator guide)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.trigger_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "async_dlq" {
  alarm_name          = "${local.name}-async-dlq-not-empty"
  alarm_description   = "Reporter events or manual planner calls failed for good and are in the async DLQ (README, operator guide)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.async_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "batch_jobs_failed" {
  alarm_name          = "${local.name}-batch-jobs-failed"
  alarm_description   = "A run's Batch job FAILED (log group ${local.job_failures_log_group_name} has the event; the run report lists the granules)."
  namespace           = local.metrics_namespace
  metric_name         = aws_cloudwatch_log_metric_filter.batch_jobs_failed.metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = {
    planner  = aws_lambda_function.planner.function_name
    reporter = aws_lambda_function.reporter.function_name
  }

  alarm_name          = "${local.name}-${each.key}-errors"
  alarm_description   = "The ${each.key} Lambda returned errors (log group /aws/lambda/${each.value})."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# ---------------------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------------------

locals {
  dashboard_name = "${local.name}-granules"

  edp_search = "{${local.metrics_namespace},ProductKind}"

  dashboard_widgets = [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title   = "Granules per minute (by product kind)"
        region  = local.region
        view    = "timeSeries"
        stacked = true
        period  = 60
        metrics = [[{ expression = "SEARCH('${local.edp_search} MetricName=\"GranulesSucceeded\"', 'Sum', 60)", id = "ok", label = "" }]]
      }
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = {
        title   = "Failures: granules and Batch jobs"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = 300
        metrics = [
          [{ expression = "SEARCH('${local.edp_search} MetricName=\"GranulesFailed\"', 'Sum', 300)", id = "failed", label = "" }],
          [local.metrics_namespace, "BatchJobsFailed", { stat = "Sum", label = "Batch jobs failed" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title   = "Seconds per granule (average and p90)"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = 300
        metrics = [
          [{ expression = "SEARCH('${local.edp_search} MetricName=\"GranuleSeconds\"', 'Average', 300)", id = "avg", label = "avg" }],
          [{ expression = "SEARCH('${local.edp_search} MetricName=\"GranuleSeconds\"', 'p90', 300)", id = "p90", label = "p90" }],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title   = "Queue depth"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = 60
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.trigger.name, { stat = "Maximum", label = "trigger queue" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.trigger_dlq.name, { stat = "Maximum", label = "trigger DLQ" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.async_dlq.name, { stat = "Maximum", label = "async DLQ" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 12, width = 12, height = 6
      properties = {
        title   = "Lambda invocations, errors, throttles"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = 300
        metrics = [
          ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.planner.function_name, { stat = "Sum", label = "planner invocations" }],
          ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.planner.function_name, { stat = "Sum", label = "planner errors" }],
          ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.planner.function_name, { stat = "Sum", label = "planner throttles" }],
          ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.reporter.function_name, { stat = "Sum", label = "reporter invocations" }],
          ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.reporter.function_name, { stat = "Sum", label = "reporter errors" }],
        ]
      }
    },
    {
      type = "log", x = 12, y = 12, width = 12, height = 6
      properties = {
        title  = "Latest worker errors"
        region = local.region
        view   = "table"
        query  = "SOURCE '${local.worker_log_group_name}' | ${local.logs_queries["failed-granules"].query}"
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}

# ---------------------------------------------------------------------------------------
# Saved Logs Insights queries (fields of the JSON logs: run_id, task_id, granule, seconds,
# bytes, level, message). Replace RUN_ID before running the per-run query.
# ---------------------------------------------------------------------------------------

locals {
  all_program_log_groups = [
    aws_cloudwatch_log_group.planner.name,
    aws_cloudwatch_log_group.worker.name,
    aws_cloudwatch_log_group.reporter.name,
  ]

  logs_queries = {
    "run-timeline" = {
      log_groups = local.all_program_log_groups
      query      = "fields @timestamp, @log, level, message, task_id, granule, seconds, bytes | filter run_id = \"RUN_ID\" | sort @timestamp asc | limit 10000"
    }
    "failed-granules" = {
      log_groups = [aws_cloudwatch_log_group.worker.name]
      query      = "fields @timestamp, run_id, task_id, granule, message | filter level = \"ERROR\" | sort @timestamp desc | limit 200"
    }
    "slowest-granules" = {
      log_groups = [aws_cloudwatch_log_group.worker.name]
      query      = "filter ispresent(granule) and ispresent(seconds) | stats max(seconds) as seconds_max, sum(bytes) as bytes_total by granule | sort seconds_max desc | limit 50"
    }
    "errors-all-programs" = {
      log_groups = local.all_program_log_groups
      query      = "fields @timestamp, @log, run_id, task_id, granule, message | filter level in [\"ERROR\", \"WARN\"] | sort @timestamp desc | limit 200"
    }
  }
}

resource "aws_cloudwatch_query_definition" "this" {
  for_each = var.enable_query_definitions ? local.logs_queries : {}

  name            = "${local.name}/${each.key}"
  log_group_names = each.value.log_groups
  query_string    = each.value.query
}
