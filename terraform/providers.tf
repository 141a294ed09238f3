# The AWS provider. With `aws_endpoint_url` set, every service this module uses is sent to
# that endpoint (a local emulator such as moto) with path-style S3 addressing and without the
# credential, account-id and instance-metadata look-ups that only real AWS answers. The
# module itself has no emulator code path: the endpoint is a setting, as for the Rust crates
# (`AWS_ENDPOINT_URL`).

locals {
  emulated = var.aws_endpoint_url != ""
}

provider "aws" {
  region = var.aws_region

  s3_use_path_style           = local.emulated
  skip_credentials_validation = local.emulated
  skip_requesting_account_id  = local.emulated
  skip_metadata_api_check     = local.emulated

  dynamic "endpoints" {
    for_each = local.emulated ? [var.aws_endpoint_url] : []
    content {
      batch          = endpoints.value
      cloudwatch     = endpoints.value
      cloudwatchlogs = endpoints.value
      ecr            = endpoints.value
      eventbridge    = endpoints.value
      iam            = endpoints.value
      kms            = endpoints.value
      lambda         = endpoints.value
      s3             = endpoints.value
      sns            = endpoints.value
      sqs            = endpoints.value
      ssm            = endpoints.value
      sts            = endpoints.value
    }
  }

  default_tags {
    tags = merge(
      {
        Project     = "edp"
        Environment = var.environment
        ManagedBy   = "terraform"
      },
      var.tags,
    )
  }
}
