# What the Kubernetes manifests and operators need from this stack.

output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "EKS API endpoint."
  value       = module.eks.cluster_endpoint
}

output "database_endpoint" {
  description = "RDS PostgreSQL host:port for PINGVAS_PG_URL."
  value       = module.db.db_instance_endpoint
}

output "database_master_secret_arn" {
  description = "Secrets Manager secret holding the master credentials (read by External Secrets)."
  value       = module.db.db_instance_master_user_secret_arn
}

output "kafka_bootstrap_brokers" {
  description = "MSK bootstrap servers (SASL/SCRAM over TLS) for PINGVAS_KAFKA_BOOTSTRAP."
  value       = module.kafka.bootstrap_brokers_sasl_scram
}

output "images_bucket" {
  description = "Bucket of generated images (PINGVAS_STORAGE_BUCKET)."
  value       = module.images_bucket.s3_bucket_id
}

output "models_bucket" {
  description = "Bucket of model weights."
  value       = module.models_bucket.s3_bucket_id
}

output "service_role_arns" {
  description = "IAM role of each workload, bound to its ServiceAccount by EKS Pod Identity."
  value = {
    generation-service = module.generation_service_identity.iam_role_arn
    gallery-service    = module.gallery_service_identity.iam_role_arn
    model-service      = module.model_service_identity.iam_role_arn
    worker             = module.worker_identity.iam_role_arn
    external-secrets   = module.external_secrets_identity.iam_role_arn
  }
}
