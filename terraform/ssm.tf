# SSM parameters of the deployment contract (docs/architecture.md), below EDP_SSM_PREFIX:
# settings/* are plain Strings managed here; secrets/* are SecureStrings encrypted with the
# deployment key whose first value may come from Terraform, after which operators rotate them
# outside Terraform (the value is ignored on later applies).

locals {
  # SSM rejects empty values: settings left empty are not created (config_loc falls back to the
  # built-in V4r4 configuration; the others must then be created by hand).
  ssm_settings = { for k, v in var.edp_settings : k => v if v != "" }
}

resource "aws_ssm_parameter" "setting" {
  #checkov:skip=CKV2_AWS_34:settings/* are non-secret locations and job text, String by contract (docs/architecture.md); secrets/* are SecureString.
  for_each = local.ssm_settings

  name        = "${local.ssm_prefix}settings/${each.key}"
  description = "edp setting ${each.key} (docs/architecture.md, deployment contract)"
  type        = "String"
  value       = each.value
  # The job file text can outgrow a standard parameter (4 KiB).
  tier = length(each.value) > 4096 ? "Advanced" : "Standard"
}

resource "aws_ssm_parameter" "source_credentials" {
  count = var.manage_source_credentials ? 1 : 0

  name        = "${local.ssm_prefix}secrets/source_credentials"
  description = "edp credentials for a source bucket outside the account: JSON {access_key_id, secret_access_key, session_token?}"
  type        = "SecureString"
  key_id      = aws_kms_key.main.arn
  value       = var.source_credentials_json

  lifecycle {
    ignore_changes = [value]
    precondition {
      condition     = var.source_credentials_json != null
      error_message = "manage_source_credentials needs source_credentials_json."
    }
  }
}

resource "aws_ssm_parameter" "destination_credentials" {
  count = var.manage_destination_credentials ? 1 : 0

  name        = "${local.ssm_prefix}secrets/destination_credentials"
  description = "edp credentials for a destination bucket outside the account: JSON {access_key_id, secret_access_key, session_token?}"
  type        = "SecureString"
  key_id      = aws_kms_key.main.arn
  value       = var.destination_credentials_json

  lifecycle {
    ignore_changes = [value]
    precondition {
      condition     = var.destination_credentials_json != null
      error_message = "manage_destination_credentials needs destination_credentials_json."
    }
  }
}
