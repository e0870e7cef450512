# Buckets for generated images and model weights: private, KMS-encrypted, versioned, TLS-only, with lifecycle rules.
# Names match the overlays' PINGVAS_STORAGE_BUCKET (pingvas-images-<env>).

module "images_bucket" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.11.0"

  bucket = "pingvas-images-${var.environment}"

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true

  control_object_ownership = true
  object_ownership         = "BucketOwnerEnforced"

  attach_deny_insecure_transport_policy = true
  server_side_encryption_configuration  = local.bucket_encryption

  versioning = {
    enabled = true
  }

  lifecycle_rule = [
    {
      id      = "images-age-out"
      enabled = true
      filter  = { prefix = "images/" }
      # Images are read mostly in their first weeks.
      transition = [
        { days = 30, storage_class = "STANDARD_IA" },
        { days = 180, storage_class = "GLACIER_IR" },
      ]
      noncurrent_version_expiration = { days = var.images_noncurrent_days }
    },
    {
      id                                     = "abort-incomplete-uploads"
      enabled                                = true
      filter                                 = {}
      abort_incomplete_multipart_upload_days = 1
    },
  ]

  tags = local.tags
}

module "models_bucket" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.11.0"

  bucket = "pingvas-models-${var.environment}"

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true

  control_object_ownership = true
  object_ownership         = "BucketOwnerEnforced"

  attach_deny_insecure_transport_policy = true
  server_side_encryption_configuration  = local.bucket_encryption

  versioning = {
    enabled = true
  }

  lifecycle_rule = [
    {
      id                                     = "models-old-versions"
      enabled                                = true
      filter                                 = {}
      noncurrent_version_expiration          = { days = 30 }
      abort_incomplete_multipart_upload_days = 1
    },
  ]

  tags = local.tags
}
