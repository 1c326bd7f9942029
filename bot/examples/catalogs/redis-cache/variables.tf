variable "cache_name" {
  description = "Short name of the cache; a random suffix is appended to form the replication group id."
  type        = string
  default     = "cache"

  validation {
    condition     = can(regex("^[a-z](-?[a-z0-9]){0,14}$", var.cache_name))
    error_message = "cache_name must start with a lowercase letter, hold only lowercase letters, digits and single hyphens, and be at most 29 characters."
  }
}

variable "node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.micro"
}

variable "engine_version" {
  description = "Redis engine version (major.minor)."
  type        = string
  default     = "7.1"
}

variable "num_cache_clusters" {
  description = "Number of nodes: one primary plus read replicas. More than one turns on automatic failover and Multi-AZ."
  type        = number
  default     = 1

  validation {
    condition     = var.num_cache_clusters >= 1 && var.num_cache_clusters <= 6
    error_message = "num_cache_clusters must be between 1 and 6."
  }
}

variable "vpc_id" {
  description = "VPC the cache is placed in."
  type        = string
}

variable "subnet_ids" {
  description = "Comma-separated subnet ids for the cache subnet group; empty means every subnet of the VPC."
  type        = string
  default     = ""
}

variable "allowed_cidr" {
  description = "IPv4 CIDR block allowed to connect on port 6379."
  type        = string
  default     = "10.0.0.0/8"

  validation {
    condition     = can(cidrhost(var.allowed_cidr, 0))
    error_message = "allowed_cidr must be a valid CIDR block."
  }
}

variable "tags" {
  description = "Tags added to every resource (envbot fills in the environment and catalog labels)."
  type        = map(string)
  default     = {}
}
