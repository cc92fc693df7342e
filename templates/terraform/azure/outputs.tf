output "registry_login_server" {
  description = "Container registry: images are pushed as <registry>/<service>:<image_tag>."
  value       = azurerm_container_registry.main.login_server
}

output "registry_name" {
  description = "Name of the container registry (for `az acr login --name`)."
  value       = azurerm_container_registry.main.name
}

{% if deploy.has_web -%}
output "service_urls" {
  description = "HTTPS URL per service with ingress (internal ones resolve only inside the Container Apps environment)."
  value       = { for name, app in azurerm_container_app.service : name => "https://${app.ingress[0].fqdn}" if length(app.ingress) > 0 }
}

{% endif -%}
output "resource_group_name" {
  description = "Resource group holding the deployment."
  value       = azurerm_resource_group.main.name
}
