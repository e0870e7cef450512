# PostgreSQL for every service (one schema each): private subnets only, encrypted, Multi-AZ in prod, backed up.

module "db_security_group" {
  source  = "terraform-aws-modules/security-group/aws"
  version = "5.3.0"

  name        = "${local.name}-db"
  description = "PostgreSQL reachable from the EKS nodes only"
  vpc_id      = module.vpc.vpc_id

  ingress_with_source_security_group_id = [
    {
      rule                     = "postgresql-tcp"
      source_security_group_id = module.eks.node_security_group_id
      description              = "EKS nodes"
    },
  ]

  tags = local.tags
}

module "db" {
  source  = "terraform-aws-modules/rds/aws"
  version = "6.12.0"

  identifier = local.name

  engine               = "postgres"
  engine_version       = "17.5"
  family               = "postgres17"
  major_engine_version = "17"
  instance_class       = var.db_instance_class

  allocated_storage     = var.db_allocated_storage_gb
  max_allocated_storage = var.db_allocated_storage_gb * 4
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.data.arn

  db_name  = "pingvas"
  username = "pingvas_admin"
  port     = 5432
  # The master password lives in Secrets Manager, rotated by RDS; it never appears in state or git.
  manage_master_user_password = true

  multi_az               = var.db_multi_az
  db_subnet_group_name   = module.vpc.database_subnet_group_name
  vpc_security_group_ids = [module.db_security_group.security_group_id]
  publicly_accessible    = false

  backup_retention_period          = var.db_backup_retention_days
  backup_window                    = "02:00-03:00"
  maintenance_window               = "Mon:03:30-Mon:04:30"
  deletion_protection              = var.deletion_protection
  skip_final_snapshot              = !var.deletion_protection
  final_snapshot_identifier_prefix = "${local.name}-final"
  copy_tags_to_snapshot            = true

  performance_insights_enabled    = true
  performance_insights_kms_key_id = aws_kms_key.data.arn
  enabled_cloudwatch_logs_exports = ["postgresql", "upgrade"]
  create_cloudwatch_log_group     = true

  parameters = [
    { name = "rds.force_ssl", value = "1" },
    { name = "log_min_duration_statement", value = "500" },
    # Write-heavy job queue (the router writes every job 2-3 times plus its outbox events): checkpoint
    # by time rather than every few GB of WAL (after each checkpoint the first change to a page logs
    # the whole page), compress those page images, and let autovacuum visit the outbox often.
    { name = "max_wal_size", value = "8192" },      # MB
    { name = "checkpoint_timeout", value = "900" }, # s
    { name = "wal_compression", value = "lz4" },
    { name = "autovacuum_naptime", value = "10" }, # s
  ]

  tags = local.tags
}
