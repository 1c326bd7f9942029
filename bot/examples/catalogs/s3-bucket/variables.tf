variable "bucket_name" {
  description = "Globally unique bucket name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "versioning" {
  description = "Keep every version of every object."
  type        = bool
  default     = true
}

variable "expire_noncurrent_after_days" {
  description = "Days after which a noncurrent object version is deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.expire_noncurrent_after_days >= 1 && var.expire_noncurrent_after_days <= 3650
    error_message = "expire_noncurrent_after_days must be between 1 and 3650."
  }
}

variable "force_destroy" {
  description = "Delete the bucket on destroy even when it still holds objects."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource that takes tags (envbot fills in the environment and catalog labels)."
  type        = map(string)
  default     = {}
}
