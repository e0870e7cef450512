# dev: one NAT gateway, single-AZ database, small brokers; same shape as prod.
environment = "dev"
region      = "eu-central-1"
vpc_cidr    = "10.20.0.0/16"

single_nat_gateway         = true
kubernetes_version         = "1.33"
system_node_instance_types = ["m6i.large"]
# GitHub-hosted runners reach the API through the NAT of a self-hosted runner pool; operators through the VPN.
cluster_api_allowed_cidrs = ["203.0.113.0/28", "198.51.100.0/28"]

db_instance_class        = "db.t4g.medium"
db_allocated_storage_gb  = 50
db_multi_az              = false
db_backup_retention_days = 7
deletion_protection      = true

kafka_version       = "3.8.x"
kafka_broker_count  = 3
kafka_instance_type = "kafka.t3.small"

images_noncurrent_days = 7
