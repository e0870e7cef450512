# prod: NAT per AZ, Multi-AZ database with 30 days of point-in-time recovery, bigger brokers.
environment = "prod"
region      = "eu-central-1"
vpc_cidr    = "10.30.0.0/16"

single_nat_gateway         = false
kubernetes_version         = "1.33"
system_node_instance_types = ["m6i.large", "m7i.large"]
cluster_api_allowed_cidrs  = ["203.0.113.0/28", "198.51.100.0/28"]

db_instance_class        = "db.r7g.large"
db_allocated_storage_gb  = 200
db_multi_az              = true
db_backup_retention_days = 30
deletion_protection      = true

kafka_version       = "3.8.x"
kafka_broker_count  = 3
kafka_instance_type = "kafka.m7g.large"

images_noncurrent_days = 30
