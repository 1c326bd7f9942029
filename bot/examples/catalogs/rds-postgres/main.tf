# PostgreSQL on Amazon RDS.
#
# No provider block: the Crossplane provider-terraform ProviderConfig that runs this module supplies the AWS
# provider configuration (credentials and region).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

locals {
  is_production = var.environment == "production"

  # RDS identifiers allow lowercase letters, digits and single hyphens; database names allow underscores.
  name_base  = trim(substr(trim(replace(var.database_name, "/_+/", "-"), "-"), 0, 40), "-")
  identifier = "${local.name_base}-${random_id.suffix.hex}"

  subnet_ids = (
    trimspace(var.subnet_ids) == ""
    ? data.aws_subnets.vpc.ids
    : [for id in split(",", var.subnet_ids) : trimspace(id)]
  )

  master_username = "dbadmin"
}

data "aws_subnets" "vpc" {
  filter {
    name   = "vpc-id"
    values = [var.vpc_id]
  }
}

resource "random_id" "suffix" {
  byte_length = 4
}

# RDS rejects '/', '@', '"' and spaces in master passwords.
resource "random_password" "master" {
  length           = 32
  special          = true
  override_special = "!#$%&*()-_=+[]{}<>:?"
}

resource "aws_db_subnet_group" "this" {
  name        = local.identifier
  description = "Subnets of ${local.identifier}"
  subnet_ids  = local.subnet_ids

  tags = merge(var.tags, { Name = local.identifier })
}

resource "aws_security_group" "this" {
  name        = "${local.identifier}-postgres"
  description = "PostgreSQL access to ${local.identifier}"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${local.identifier}-postgres" })
}

resource "aws_vpc_security_group_ingress_rule" "postgres" {
  security_group_id = aws_security_group.this.id
  description       = "PostgreSQL"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = var.allowed_cidr

  tags = merge(var.tags, { Name = "${local.identifier}-postgres" })
}

resource "aws_db_instance" "this" {
  identifier     = local.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  allocated_storage = var.allocated_storage
  storage_type      = "gp3"
  storage_encrypted = true

  db_name  = var.database_name
  username = local.master_username
  password = random_password.master.result
  port     = 5432

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.this.id]
  publicly_accessible    = false
  multi_az               = local.is_production

  backup_retention_period = local.is_production ? 7 : 1
  copy_tags_to_snapshot   = true

  # Throw-away environments are deleted without a final snapshot; production keeps one.
  skip_final_snapshot       = !local.is_production
  final_snapshot_identifier = local.is_production ? "${local.identifier}-final" : null
  deletion_protection       = var.deletion_protection

  auto_minor_version_upgrade = true
  apply_immediately          = !local.is_production

  tags = merge(var.tags, { Name = local.identifier })
}
