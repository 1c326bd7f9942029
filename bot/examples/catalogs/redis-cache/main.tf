# Redis on Amazon ElastiCache (a replication group), encrypted at rest and in transit, with an AUTH token.
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
  # Replication group ids: at most 40 characters, lowercase letters, digits and single hyphens.
  name = "${var.cache_name}-${random_id.suffix.hex}"

  subnet_ids = (
    trimspace(var.subnet_ids) == ""
    ? data.aws_subnets.vpc.ids
    : [for id in split(",", var.subnet_ids) : trimspace(id)]
  )

  failover = var.num_cache_clusters > 1
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

# ElastiCache AUTH tokens: 16 to 128 printable characters without '/', '"', '@' or spaces. Letters and digits
# only, so the token can be used in a redis:// URL without escaping.
resource "random_password" "auth_token" {
  length  = 48
  special = false
}

resource "aws_elasticache_subnet_group" "this" {
  name        = local.name
  description = "Subnets of ${local.name}"
  subnet_ids  = local.subnet_ids

  tags = merge(var.tags, { Name = local.name })
}

resource "aws_security_group" "this" {
  name        = "${local.name}-redis"
  description = "Redis access to ${local.name}"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${local.name}-redis" })
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  security_group_id = aws_security_group.this.id
  description       = "Redis"
  ip_protocol       = "tcp"
  from_port         = 6379
  to_port           = 6379
  cidr_ipv4         = var.allowed_cidr

  tags = merge(var.tags, { Name = "${local.name}-redis" })
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = local.name
  description          = "Redis cache ${local.name}"

  engine             = "redis"
  engine_version     = var.engine_version
  node_type          = var.node_type
  port               = 6379
  num_cache_clusters = var.num_cache_clusters

  automatic_failover_enabled = local.failover
  multi_az_enabled           = local.failover

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.this.id]

  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  auth_token                 = random_password.auth_token.result

  auto_minor_version_upgrade = true
  apply_immediately          = true

  tags = merge(var.tags, { Name = local.name })
}
