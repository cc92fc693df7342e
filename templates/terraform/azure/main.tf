resource "azurerm_resource_group" "main" {
  name     = "rg-${var.project}"
  location = var.location
}

resource "azurerm_log_analytics_workspace" "main" {
  name                = "log-${var.project}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
}

# One registry for every service's image. No admin user: apps pull with their managed identity.
resource "azurerm_container_registry" "main" {
  name                = local.registry_name
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
  sku                 = "Standard"
  admin_enabled       = false
}

resource "azurerm_container_app_environment" "main" {
  name                       = "cae-${var.project}"
  location                   = azurerm_resource_group.main.location
  resource_group_name        = azurerm_resource_group.main.name
  logs_destination           = "log-analytics"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id
}

# Each service has its own identity, allowed only to pull images: grant it what the code needs.
resource "azurerm_user_assigned_identity" "service" {
  for_each = local.services

  name                = "id-${var.project}-${each.key}"
  location            = azurerm_resource_group.main.location
  resource_group_name = azurerm_resource_group.main.name
}

resource "azurerm_role_assignment" "acr_pull" {
  for_each = local.services

  scope                = azurerm_container_registry.main.id
  role_definition_name = "AcrPull"
  principal_id         = azurerm_user_assigned_identity.service[each.key].principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_container_app" "service" {
  for_each = local.services

  name                         = "${var.project}-${each.key}"
  container_app_environment_id = azurerm_container_app_environment.main.id
  resource_group_name          = azurerm_resource_group.main.name
  revision_mode                = "Single"

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.service[each.key].id]
  }

  registry {
    server   = azurerm_container_registry.main.login_server
    identity = azurerm_user_assigned_identity.service[each.key].id
  }
{%- if deploy.has_web %}

  dynamic "ingress" {
    for_each = each.value.port == null ? [] : [each.value.port]

    content {
      external_enabled           = contains(var.external_services, each.key)
      target_port                = ingress.value
      transport                  = "auto"
      allow_insecure_connections = false

      traffic_weight {
        latest_revision = true
        percentage      = 100
      }
    }
  }
{%- endif %}

  template {
    min_replicas = each.value.min_replicas
    max_replicas = each.value.max_replicas

    container {
      name   = each.key
      image  = "${azurerm_container_registry.main.login_server}/${each.key}:${var.image_tag}"
      cpu    = each.value.cpu
      memory = each.value.memory
{%- if deploy.has_web %}

      dynamic "startup_probe" {
        for_each = each.value.port == null ? [] : [each.value.port]

        content {
          transport               = "HTTP"
          port                    = startup_probe.value
          path                    = each.value.health_path
          interval_seconds        = 5
          failure_count_threshold = 24
        }
      }

      dynamic "liveness_probe" {
        for_each = each.value.port == null ? [] : [each.value.port]

        content {
          transport               = "HTTP"
          port                    = liveness_probe.value
          path                    = each.value.health_path
          interval_seconds        = 30
          failure_count_threshold = 3
        }
      }

      dynamic "readiness_probe" {
        for_each = each.value.port == null ? [] : [each.value.port]

        content {
          transport               = "HTTP"
          port                    = readiness_probe.value
          path                    = each.value.health_path
          interval_seconds        = 10
          failure_count_threshold = 3
        }
      }
{%- endif %}
    }
  }

  # The identity must be allowed to pull before the first revision starts.
  depends_on = [azurerm_role_assignment.acr_pull]
}
