# One customer managed key encrypts everything edp stores: both buckets, the queues, the SSM
# secrets, the log groups, the alarm topic, the ECR repository and the Lambda environments.
# Besides the account (IAM policies decide who may use it), the key policy lets the AWS
# services that write encrypted data on our behalf use it, each limited to this account.

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_111:In a key policy "*" means this key only; write use is limited to this account's services by conditions.
  #checkov:skip=CKV_AWS_356:In a key policy "*" means this key only (a key policy cannot name other resources).
  #checkov:skip=CKV_AWS_109:The account-root statement is the standard default key statement: key access is then governed by IAM policies of this account.
  # Account administrators manage the key through IAM (the standard default statement).
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts the log groups of this deployment.
  statement {
    sid = "CloudWatchLogs"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  # S3 (event notifications), EventBridge (dead-letter messages) and CloudWatch alarms
  # (notifications) send messages to the encrypted queues and topic.
  statement {
    sid       = "ServicesSendingToEncryptedQueuesAndTopics"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]

    principals {
      type = "Service"
      identifiers = [
        "s3.amazonaws.com",
        "events.amazonaws.com",
        "cloudwatch.amazonaws.com",
      ]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "main" {
  description             = "edp ${var.environment}: buckets, queues, SSM secrets, logs, alarms, images"
  deletion_window_in_days = var.kms_deletion_window_days
  enable_key_rotation     = true
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.main.key_id
}
