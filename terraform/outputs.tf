# Everything an operator (or a test) needs to find the deployment: `terraform output -json`.

output "region" {
  description = "AWS region of the deployment."
  value       = local.region
}

# Storage ------------------------------------------------------------------------------

output "source_bucket_name" {
  description = "Bucket receiving MITgcm model output (.meta/.data)."
  value       = aws_s3_bucket.this["source"].id
}

output "products_bucket_name" {
  description = "Bucket receiving granules and run state (_edp/)."
  value       = aws_s3_bucket.this["products"].id
}

output "source_root" {
  description = "EDP_SOURCE_ROOT: s3:// root of the model output."
  value       = local.source_root
}

output "dest_root" {
  description = "EDP_DEST_ROOT: s3:// root of the products (run state under <dest_root>/_edp/)."
  value       = local.dest_root
}

output "kms_key_arn" {
  description = "Customer managed KMS key encrypting buckets, queues, secrets, logs, topic and images."
  value       = aws_kms_key.main.arn
}

output "kms_key_alias" {
  description = "Alias of the deployment KMS key."
  value       = aws_kms_alias.main.name
}

# Trigger ------------------------------------------------------------------------------

output "trigger_queue_url" {
  description = "URL of the SQS queue receiving S3 ObjectCreated notifications."
  value       = aws_sqs_queue.trigger.id
}

output "trigger_queue_arn" {
  description = "ARN of the trigger queue."
  value       = aws_sqs_queue.trigger.arn
}

output "trigger_dlq_url" {
  description = "URL of the trigger dead-letter queue (notifications the planner failed on)."
  value       = aws_sqs_queue.trigger_dlq.id
}

output "trigger_dlq_arn" {
  description = "ARN of the trigger dead-letter queue (source of a DLQ redrive back to the trigger queue)."
  value       = aws_sqs_queue.trigger_dlq.arn
}

output "async_dlq_url" {
  description = "URL of the dead-letter queue of asynchronous Lambda invocations and EventBridge deliveries."
  value       = aws_sqs_queue.async_dlq.id
}

output "async_dlq_arn" {
  description = "ARN of the async dead-letter queue."
  value       = aws_sqs_queue.async_dlq.arn
}

# Lambda -------------------------------------------------------------------------------

output "planner_function_name" {
  description = "Planner Lambda function name (`edp submit` invokes it)."
  value       = aws_lambda_function.planner.function_name
}

output "planner_function_arn" {
  description = "Planner Lambda function ARN."
  value       = aws_lambda_function.planner.arn
}

output "reporter_function_name" {
  description = "Reporter Lambda function name."
  value       = aws_lambda_function.reporter.function_name
}

output "reporter_function_arn" {
  description = "Reporter Lambda function ARN."
  value       = aws_lambda_function.reporter.arn
}

output "planner_environment" {
  description = "Environment of the planner (deployment contract): run the handler locally against this deployment with it."
  value       = local.planner_environment
}

output "reporter_environment" {
  description = "Environment of the reporter (deployment contract)."
  value       = local.reporter_environment
}

output "worker_environment" {
  description = "Environment of the Batch worker set by the job definition (EDP_RUN_ID and EDP_SHARDS_URI come from the planner per job)."
  value       = local.worker_environment
}

# Batch --------------------------------------------------------------------------------

output "batch_compute_environment_arn" {
  description = "ARN of the Batch compute environment."
  value       = aws_batch_compute_environment.worker.arn
}

output "batch_job_queue_name" {
  description = "Batch job queue name."
  value       = aws_batch_job_queue.worker.name
}

output "batch_job_queue_arn" {
  description = "Batch job queue ARN (EDP_JOB_QUEUE)."
  value       = aws_batch_job_queue.worker.arn
}

output "batch_job_definition_name" {
  description = "Batch job definition name."
  value       = aws_batch_job_definition.worker.name
}

output "batch_job_definition_arn" {
  description = "Batch job definition ARN with revision (EDP_JOB_DEFINITION)."
  value       = aws_batch_job_definition.worker.arn
}

output "batch_evaluate_on_exit" {
  description = "Batch retry rules as deployed, read from task-schemas/schemas/exit-codes.json."
  value       = local.batch_evaluate_on_exit
}

output "ecr_repository_url" {
  description = "ECR repository of the worker image (docker push <url>:<image_tag>)."
  value       = aws_ecr_repository.worker.repository_url
}

output "ecr_repository_name" {
  description = "ECR repository name."
  value       = aws_ecr_repository.worker.name
}

output "worker_image" {
  description = "Image the job definition runs."
  value       = local.worker_container_properties.image
}

# Settings -----------------------------------------------------------------------------

output "ssm_prefix" {
  description = "EDP_SSM_PREFIX: SSM Parameter Store prefix of settings/* and secrets/*."
  value       = local.ssm_prefix
}

output "ssm_setting_names" {
  description = "SSM parameters created for settings/* (settings left empty are not created)."
  value       = { for k, p in aws_ssm_parameter.setting : k => p.name }
}

output "ssm_secret_names" {
  description = "SSM SecureString parameters managed for secrets/* (values are rotated outside Terraform)."
  value = concat(
    aws_ssm_parameter.source_credentials[*].name,
    aws_ssm_parameter.destination_credentials[*].name,
  )
}

# Monitoring ---------------------------------------------------------------------------

output "log_group_names" {
  description = "CloudWatch log groups: planner, reporter, worker (Batch awslogs) and Batch job-failure events."
  value = {
    planner      = aws_cloudwatch_log_group.planner.name
    reporter     = aws_cloudwatch_log_group.reporter.name
    worker       = aws_cloudwatch_log_group.worker.name
    job_failures = aws_cloudwatch_log_group.job_failures.name
  }
}

output "dashboard_name" {
  description = "CloudWatch dashboard with granules per minute, failures, seconds per granule and queue depth."
  value       = aws_cloudwatch_dashboard.main.dashboard_name
}

output "alarm_topic_arn" {
  description = "SNS topic of every alarm (subscribe on-call addresses here)."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "CloudWatch alarms of the deployment."
  value = concat(
    [
      aws_cloudwatch_metric_alarm.granules_failed.alarm_name,
      aws_cloudwatch_metric_alarm.trigger_dlq.alarm_name,
      aws_cloudwatch_metric_alarm.async_dlq.alarm_name,
      aws_cloudwatch_metric_alarm.batch_jobs_failed.alarm_name,
    ],
    [for a in aws_cloudwatch_metric_alarm.lambda_errors : a.alarm_name],
  )
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the worker's embedded metrics."
  value       = local.metrics_namespace
}

output "logs_insights_queries" {
  description = "Logs Insights queries (saved as query definitions when enable_query_definitions): name -> log groups and query text."
  value       = { for k, q in local.logs_queries : "${local.name}/${k}" => q }
}

output "event_rule_names" {
  description = "EventBridge rules on Batch job state changes of the queue."
  value = {
    job_finished = aws_cloudwatch_event_rule.job_finished.name
    job_failed   = aws_cloudwatch_event_rule.job_failed.name
  }
}
