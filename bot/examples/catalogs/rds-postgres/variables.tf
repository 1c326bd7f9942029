variable "database_name" {
  description = "Name of the database created on the instance (a PostgreSQL identifier)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must start with a lowercase letter and hold only lowercase letters, digits and underscores (at most 63 characters)."
  }
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t3.micro"
}

variable "allocated_storage" {
  description = "Allocated storage in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 1000
    error_message = "allocated_storage must be between 20 and 1000 GiB."
  }
}

variable "engine_version" {
  description = "PostgreSQL engine version (major.minor or major)."
  type        = string
  default     = "16.4"
}

variable "environment" {
  description = "Kind of environment: development, staging or production."
  type        = string
  default     = "development"

  validation {
    condition     = contains(["development", "staging", "production"], var.environment)
    error_message = "environment must be development, staging or production."
  }
}

variable "deletion_protection" {
  description = "Turn on RDS deletion protection."
  type        = bool
  default     = false
}

variable "vpc_id" {
  description = "VPC the instance is placed in."
  type        = string
}

variable "subnet_ids" {
  description = "Comma-separated subnet ids for the DB subnet group; empty means every subnet of the VPC."
  type        = string
  default     = ""
}

variable "allowed_cidr" {
  description = "IPv4 CIDR block allowed to connect on port 5432."
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
