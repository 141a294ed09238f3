# The two buckets: model output (source, written by the model runs) and products (granules
# and the run state under _edp/, docs/architecture.md "Locations"). Both are private,
# KMS-encrypted, owner-enforced and reachable over TLS only.

locals {
  buckets = {
    source   = local.source_bucket_name
    products = local.products_bucket_name
  }
}

resource "aws_s3_bucket" "this" {
  for_each = local.buckets

  #checkov:skip=CKV_AWS_18:Server access logs would need a third bucket per deployment; enable them (or CloudTrail S3 data events) account-wide when an audit trail is required.
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage: model output can be re-staged and granules re-produced from it.
  #checkov:skip=CKV_AWS_21:Versioning is on for products (aws_s3_bucket_versioning.products); model output is large, rewritten by model re-runs and reproducible.
  #checkov:skip=CKV2_AWS_62:Only the source bucket needs event notifications (notifications.tf); nothing consumes product events yet.
  bucket        = each.value
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    # Bucket keys cut KMS requests (and their cost) for the many small run-state objects.
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
  }
}

# Products are versioned: a re-run (--force) or a buggy release that overwrites granules can be
# rolled back. Model output is not: it is large, rewritten by model re-runs, and reproducible.
resource "aws_s3_bucket_versioning" "products" {
  bucket = aws_s3_bucket.this["products"].id

  versioning_configuration {
    status = "Enabled"
  }
}

# Cost controls: run scratch (task lists, shards) expires after scratch_expiration_days,
# overwritten product versions after noncurrent_version_expiration_days, and interrupted
# multipart uploads after 7 days in both buckets.
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  dynamic "rule" {
    for_each = each.key == "products" ? [local.scratch_prefix] : []
    content {
      id     = "expire-run-scratch"
      status = "Enabled"

      filter {
        prefix = rule.value
      }

      expiration {
        days = var.scratch_expiration_days
      }

      noncurrent_version_expiration {
        noncurrent_days = 1
      }
    }
  }

  rule {
    id     = each.key == "products" ? "abort-uploads-expire-noncurrent" : "abort-incomplete-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    dynamic "noncurrent_version_expiration" {
      for_each = each.key == "products" ? [var.noncurrent_version_expiration_days] : []
      content {
        noncurrent_days = noncurrent_version_expiration.value
      }
    }
  }

  # Noncurrent-version rules need versioning in place first.
  depends_on = [aws_s3_bucket_versioning.products]
}

data "aws_iam_policy_document" "bucket_tls_only" {
  for_each = aws_s3_bucket.this

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = data.aws_iam_policy_document.bucket_tls_only[each.key].json

  # S3 rejects bucket policies while the public access block is being applied.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
