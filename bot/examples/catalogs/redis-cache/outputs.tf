output "primary_endpoint" {
  description = "Host name of the primary node (TLS required)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "port" {
  description = "Port Redis listens on."
  value       = aws_elasticache_replication_group.this.port
}

output "auth_token" {
  description = "Redis AUTH token."
  value       = random_password.auth_token.result
  sensitive   = true
}
