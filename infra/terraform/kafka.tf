# Kafka: Amazon MSK, three brokers over three AZs, TLS everywhere, SASL/SCRAM clients, KMS at rest.
# (The services use the plain Kafka client with SCRAM; IAM auth would add a vendor jar to every image.)

module "kafka_security_group" {
  source  = "terraform-aws-modules/security-group/aws"
  version = "5.3.0"

  name        = "${local.name}-kafka"
  description = "MSK SASL/SCRAM over TLS from the EKS nodes only"
  vpc_id      = module.vpc.vpc_id

  ingress_with_source_security_group_id = [
    {
      from_port                = 9096
      to_port                  = 9096
      protocol                 = "tcp"
      source_security_group_id = module.eks.node_security_group_id
      description              = "EKS nodes, SASL/SCRAM TLS"
    },
  ]

  tags = local.tags
}

resource "random_password" "kafka" {
  length  = 40
  special = false
}

# MSK only associates SCRAM secrets whose name starts with AmazonMSK_ and that use a customer-managed key.
resource "aws_secretsmanager_secret" "kafka" {
  name       = "AmazonMSK_${local.name}_services"
  kms_key_id = aws_kms_key.data.arn
}

resource "aws_secretsmanager_secret_version" "kafka" {
  secret_id     = aws_secretsmanager_secret.kafka.id
  secret_string = jsonencode({ username = "pingvas", password = random_password.kafka.result })
}

module "kafka" {
  source  = "terraform-aws-modules/msk-kafka-cluster/aws"
  version = "2.11.0"

  name                   = local.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.kafka_broker_count

  broker_node_client_subnets  = module.vpc.private_subnets
  broker_node_instance_type   = var.kafka_instance_type
  broker_node_security_groups = [module.kafka_security_group.security_group_id]
  broker_node_storage_info = {
    ebs_storage_info = { volume_size = 100 }
  }

  encryption_in_transit_client_broker = "TLS"
  encryption_in_transit_in_cluster    = true
  encryption_at_rest_kms_key_arn      = aws_kms_key.data.arn

  client_authentication = {
    sasl = { scram = true }
  }
  create_scram_secret_association          = true
  scram_secret_association_secret_arn_list = [aws_secretsmanager_secret.kafka.arn]

  configuration_name        = "${local.name}-kafka"
  configuration_description = "Pingvas Studio brokers"
  configuration_server_properties = {
    # Services create their topics (platform Kafka admin); a typo must not create one silently.
    "auto.create.topics.enable"  = false
    "default.replication.factor" = 3
    "min.insync.replicas"        = 2
  }

  cloudwatch_logs_enabled = true

  tags = local.tags
}
