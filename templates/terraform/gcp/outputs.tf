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

output "github_workload_identity_provider" {
  description = "Set the repository variable GCP_WORKLOAD_IDENTITY_PROVIDER to this."
  value       = var.github_repository == "" ? null : google_iam_workload_identity_pool_provider.github[0].name
}

output "github_service_accounts" {
  description = "Set the repository variables GCP_PLAN_SERVICE_ACCOUNT and GCP_DEPLOY_SERVICE_ACCOUNT to these."
  value       = { for name, account in google_service_account.github : name => account.email }
}
