# AWS Batch: one managed compute environment (Fargate Spot by default), one job queue and the
# worker job definition. The planner submits one array job per run; each child runs
# `edp-batch-worker` on shard AWS_BATCH_JOB_ARRAY_INDEX and exits with a code from the
# exit-code table, which also drives the retry rules below.

resource "aws_cloudwatch_log_group" "worker" {
  name              = local.worker_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn

  #checkov:skip=CKV_AWS_338:Retention is a cost control (var.log_retention_days); run reports and ledgers in S3 are the durable record.
}

resource "aws_batch_compute_environment" "worker" {
  compute_environment_name_prefix = "${local.name}-"
  type                            = "MANAGED"
  state                           = "ENABLED"

  # null: Batch uses its service-linked role (the AWS recommendation).
  service_role = var.batch_service_role_arn != "" ? var.batch_service_role_arn : null

  compute_resources {
    type               = var.batch_compute_type
    max_vcpus          = var.batch_max_vcpus
    subnets            = var.batch_subnet_ids
    security_group_ids = var.batch_security_group_ids

    # EC2 capacity only (Fargate rejects these).
    min_vcpus           = local.batch_on_fargate ? null : 0
    instance_type       = local.batch_on_fargate ? null : var.batch_ec2_instance_types
    instance_role       = local.batch_on_fargate ? null : aws_iam_instance_profile.batch_instance[0].arn
    allocation_strategy = local.batch_on_fargate ? null : (var.batch_compute_type == "SPOT" ? "SPOT_PRICE_CAPACITY_OPTIMIZED" : "BEST_FIT_PROGRESSIVE")
    bid_percentage      = var.batch_compute_type == "SPOT" ? var.batch_spot_bid_percentage : null

    dynamic "ec2_configuration" {
      for_each = local.batch_on_fargate ? [] : ["ECS_AL2023"]
      content {
        image_type = ec2_configuration.value
      }
    }
  }

  # The job queue must always point at a live environment while a replacement is created.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_batch_job_queue" "worker" {
  name     = "${local.name}-worker"
  state    = "ENABLED"
  priority = 1

  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.worker.arn
  }
}

locals {
  # Fargate-only container properties. Kept out of EC2 job definitions with a filtering `for`
  # rather than `cond ? {...} : {}`: a conditional unifies both sides to one type and would turn
  # the numbers into strings, which Batch rejects.
  worker_fargate_properties = {
    fargatePlatformConfiguration = { platformVersion = "LATEST" }
    networkConfiguration         = { assignPublicIp = var.batch_assign_public_ip ? "ENABLED" : "DISABLED" }
    ephemeralStorage             = { sizeInGiB = var.worker_ephemeral_storage_gib }
    runtimePlatform = {
      operatingSystemFamily = "LINUX"
      cpuArchitecture       = var.worker_cpu_architecture
    }
  }

  worker_container_properties = merge(
    {
      image            = "${aws_ecr_repository.worker.repository_url}:${var.image_tag}"
      jobRoleArn       = aws_iam_role.batch_job.arn
      executionRoleArn = aws_iam_role.batch_execution.arn
      resourceRequirements = [
        { type = "VCPU", value = tostring(var.worker_vcpus) },
        { type = "MEMORY", value = tostring(var.worker_memory_mib) },
      ]
      environment = [
        for k in sort(keys(local.worker_environment)) : { name = k, value = local.worker_environment[k] }
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.worker.name
          "awslogs-region"        = local.region
          "awslogs-stream-prefix" = "worker"
        }
      }
      privileged             = false
      readonlyRootFilesystem = false
    },
    { for k, v in local.worker_fargate_properties : k => v if local.batch_on_fargate },
  )
}

resource "aws_batch_job_definition" "worker" {
  name                  = "${local.name}-worker"
  type                  = "container"
  platform_capabilities = [local.batch_on_fargate ? "FARGATE" : "EC2"]
  propagate_tags        = true

  container_properties = jsonencode(local.worker_container_properties)

  timeout {
    attempt_duration_seconds = var.worker_timeout_seconds
  }

  # Retry rules from task-schemas/schemas/exit-codes.json ("batch_evaluate_on_exit"):
  # retryable (4) and killed (137) exit codes and lost hosts are retried, everything else
  # (usage 2, permanent 3, success) ends the attempt.
  retry_strategy {
    attempts = var.worker_retry_attempts

    dynamic "evaluate_on_exit" {
      for_each = local.batch_evaluate_on_exit
      content {
        action           = evaluate_on_exit.value.action
        on_exit_code     = lookup(evaluate_on_exit.value, "on_exit_code", null)
        on_reason        = lookup(evaluate_on_exit.value, "on_reason", null)
        on_status_reason = lookup(evaluate_on_exit.value, "on_status_reason", null)
      }
    }
  }
}
