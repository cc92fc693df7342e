output "registry" {
  description = "Artifact Registry path: images are pushed as <registry>/<service>:<image_tag>."
  value       = local.registry
}

{% if deploy.has_web -%}
output "service_urls" {
  description = "URL per Cloud Run service (callers need roles/run.invoker unless the service is in public_services)."
  value       = { for name, service in google_cloud_run_v2_service.service : name => service.uri }
}

{% endif -%}
output "service_accounts" {
  description = "Service account per service: grant each what its code needs."
  value       = { for name, account in google_service_account.service : name => account.email }
}
