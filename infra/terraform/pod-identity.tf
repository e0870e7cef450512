# Pod IAM through EKS Pod Identity: one role per workload, bound to its ServiceAccount (same name as the service),
# each allowed exactly what it uses. user-service and payment-service call no AWS API and get no role.
# Pod Identity needs no ServiceAccount annotation: the association is by namespace and name.

# The router hands workers presigned PUT URLs; a presigned URL carries the signer's rights, so its role may only
# put objects under images/ (UploadSigner.key) and nothing else — no reads, no deletes, no other bucket.
module "generation_service_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "1.12.0"

  name                 = "${local.name}-generation-service"
  attach_custom_policy = true
  policy_statements = [
    {
      sid       = "PresignImageUploads"
      actions   = ["s3:PutObject"]
      resources = ["${module.images_bucket.s3_bucket_arn}/images/*"]
    },
    {
      sid       = "EncryptUploads"
      actions   = ["kms:GenerateDataKey"]
      resources = [aws_kms_key.data.arn]
    },
  ]

  associations = {
    this = {
      cluster_name    = module.eks.cluster_name
      namespace       = local.namespace
      service_account = "generation-service"
    }
  }

  tags = local.tags
}

# The gallery owns the images bucket: it verifies, serves and deletes images. No other bucket.
module "gallery_service_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "1.12.0"

  name                 = "${local.name}-gallery-service"
  attach_custom_policy = true
  policy_statements = [
    {
      sid       = "ListImages"
      actions   = ["s3:ListBucket"]
      resources = [module.images_bucket.s3_bucket_arn]
    },
    {
      sid       = "ManageImages"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      resources = ["${module.images_bucket.s3_bucket_arn}/*"]
    },
    {
      sid       = "ImagesKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [aws_kms_key.data.arn]
    },
  ]

  associations = {
    this = {
      cluster_name    = module.eks.cluster_name
      namespace       = local.namespace
      service_account = "gallery-service"
    }
  }

  tags = local.tags
}

# The model registry looks at a model's weights before registering it (a HEAD needs s3:GetObject; s3:ListBucket
# makes a missing key a 404 rather than a 403). It never writes the bucket: operators upload the weights.
module "model_service_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "1.12.0"

  name                 = "${local.name}-model-service"
  attach_custom_policy = true
  policy_statements = [
    {
      sid       = "ListModels"
      actions   = ["s3:ListBucket"]
      resources = [module.models_bucket.s3_bucket_arn]
    },
    {
      sid       = "ReadModels"
      actions   = ["s3:GetObject"]
      resources = ["${module.models_bucket.s3_bucket_arn}/*"]
    },
    {
      sid       = "ModelsKey"
      actions   = ["kms:Decrypt"]
      resources = [aws_kms_key.data.arn]
    },
  ]

  associations = {
    this = {
      cluster_name    = module.eks.cluster_name
      namespace       = local.namespace
      service_account = "model-service"
    }
  }

  tags = local.tags
}

# Workers download weights; their images go up through the router's presigned URLs, so no images access.
module "worker_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "1.12.0"

  name                 = "${local.name}-worker"
  attach_custom_policy = true
  policy_statements = [
    {
      sid       = "ListModels"
      actions   = ["s3:ListBucket"]
      resources = [module.models_bucket.s3_bucket_arn]
    },
    {
      sid       = "ReadModels"
      actions   = ["s3:GetObject"]
      resources = ["${module.models_bucket.s3_bucket_arn}/*"]
    },
    {
      sid       = "ModelsKey"
      actions   = ["kms:Decrypt"]
      resources = [aws_kms_key.data.arn]
    },
  ]

  associations = {
    this = {
      cluster_name    = module.eks.cluster_name
      namespace       = local.namespace
      service_account = "worker"
    }
  }

  tags = local.tags
}

# External Secrets reads this environment's secrets (database master, Kafka SCRAM, pingvas/<env>/*) into Kubernetes.
module "external_secrets_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "1.12.0"

  name                 = "${local.name}-external-secrets"
  attach_custom_policy = true
  policy_statements = [
    {
      sid     = "ReadEnvironmentSecrets"
      actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = [
        module.db.db_instance_master_user_secret_arn,
        aws_secretsmanager_secret.kafka.arn,
        "arn:aws:secretsmanager:${var.region}:${data.aws_caller_identity.current.account_id}:secret:pingvas/${var.environment}/*",
      ]
    },
    {
      sid       = "DecryptSecrets"
      actions   = ["kms:Decrypt"]
      resources = [aws_kms_key.data.arn]
    },
  ]

  associations = {
    this = {
      cluster_name    = module.eks.cluster_name
      namespace       = "external-secrets"
      service_account = "external-secrets"
    }
  }

  tags = local.tags
}
