output "endpoint" {
  description = "Host name of the instance (without the port)."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port PostgreSQL listens on."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Name of the database created on the instance."
  value       = aws_db_instance.this.db_name
}

output "master_username" {
  description = "Master user name."
  value       = aws_db_instance.this.username
}

output "master_password" {
  description = "Master password."
  value       = random_password.master.result
  sensitive   = true
}
