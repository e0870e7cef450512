# Inputs; every environment sets them in environments/<env>.tfvars.

variable "environment" {
  description = "Environment name: dev or prod."
  type        = string

  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "cost_center" {
  description = "Cost allocation tag value."
  type        = string
  default     = "pingvas-platform"
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; subnets are carved from it."
  type        = string
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs (cheaper, dev) instead of one per AZ (prod)."
  type        = bool
}

variable "kubernetes_version" {
  description = "EKS control plane version."
  type        = string
}

variable "cluster_api_allowed_cidrs" {
  description = "CIDRs allowed to reach the public EKS API endpoint (CI runners, operators). Never 0.0.0.0/0."
  type        = list(string)

  validation {
    condition     = length(var.cluster_api_allowed_cidrs) > 0 && !contains(var.cluster_api_allowed_cidrs, "0.0.0.0/0")
    error_message = "List the CIDRs that need the API; 0.0.0.0/0 is not allowed."
  }
}

variable "system_node_instance_types" {
  description = "Instance types of the managed node group that runs Karpenter, CoreDNS and Argo CD."
  type        = list(string)
}

variable "db_instance_class" {
  description = "RDS PostgreSQL instance class."
  type        = string
}

variable "db_allocated_storage_gb" {
  description = "Initial RDS storage; autoscaling may grow it to four times this."
  type        = number
}

variable "db_multi_az" {
  description = "Standby replica in a second AZ (prod)."
  type        = bool
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups (point-in-time recovery window)."
  type        = number
}

variable "deletion_protection" {
  description = "Protect the database from deletion and keep a final snapshot."
  type        = bool
  default     = true
}

variable "kafka_broker_count" {
  description = "MSK brokers; a multiple of the AZ count (3)."
  type        = number
}

variable "kafka_instance_type" {
  description = "MSK broker instance type."
  type        = string
}

variable "kafka_version" {
  description = "Apache Kafka version of the MSK cluster."
  type        = string
}

variable "images_noncurrent_days" {
  description = "Days a deleted or overwritten image version is kept before it expires."
  type        = number
}

variable "gitops_repo_url" {
  description = "Git repository Argo CD syncs from."
  type        = string
  default     = "https://github.com/pingvas/pingvas-studio.git"
}
