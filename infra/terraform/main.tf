# Pingvas Studio on AWS: one stack per environment (dev, prod), chosen by -var-file and -backend-config.

locals {
  name = "pingvas-${var.environment}"
  azs  = slice(data.aws_availability_zones.available.names, 0, 3)

  # Applied to every resource: through the AWS provider's default_tags and each module's tags input.
  tags = {
    Project     = "pingvas-studio"
    Environment = var.environment
    ManagedBy   = "terraform"
    Repository  = "github.com/pingvas/pingvas-studio"
    CostCenter  = var.cost_center
  }

  # Kubernetes namespace of the services in this environment (k8s/overlays/<env>/env).
  namespace = var.environment == "prod" ? "pingvas" : "pingvas-${var.environment}"

  # The one Application Argo CD needs to start from (see argocd.tf).
  root_application = yamldecode(file("${path.module}/../../k8s/infra/argo-cd/application-root.yaml"))

  # Every bucket: SSE-KMS with the data key, S3 bucket keys to keep KMS calls (and cost) down.
  bucket_encryption = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = aws_kms_key.data.arn
      }
      bucket_key_enabled = true
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

# Karpenter's chart is in ECR Public, whose token is only issued in us-east-1.
provider "aws" {
  alias  = "virginia"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}

provider "helm" {
  kubernetes {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)

    exec {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.eks.cluster_name]
    }
  }
}

data "aws_availability_zones" "available" {
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

data "aws_caller_identity" "current" {}
