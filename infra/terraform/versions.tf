# Terraform, providers and state. Versions are exact: upgrades arrive as Renovate PRs and are planned in CI.
terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "2.17.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "3.7.2"
    }
  }

  # One state per environment: bucket, key and region come from environments/<env>.s3.tfbackend.
  # S3-native locking (use_lockfile) needs no DynamoDB table; state is encrypted at rest.
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
