{% if deploy.has_web -%}
output "load_balancer_dns_name" {
  description = "DNS name of the load balancer: point your domain's records (CNAME or alias) here."
  value       = aws_lb.main.dns_name
}

{% endif -%}
output "ecr_repository_urls" {
  description = "Registry URL per service: push images here, tagged with the value you pass as image_tag."
  value       = { for name, repository in aws_ecr_repository.service : name => repository.repository_url }
}

output "ecs_cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.main.name
}

output "ecs_service_names" {
  description = "ECS service name per service."
  value       = { for name, service in aws_ecs_service.service : name => service.name }
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify: subscribe your on-call tooling to it."
  value       = aws_sns_topic.alarms.arn
}
