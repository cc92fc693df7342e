# Optional: identities for the deploy workflow, trusted through GitHub's OIDC tokens (no client secrets).
# Set github_repository = "owner/name" to create them: the plan identity accepts only pull request tokens of
# that repository, the deploy identity only tokens of its `production` environment.
# Nothing else refers to this file: delete it if you manage the deploy identities elsewhere.
variable "github_repository" {
  description = "GitHub repository (owner/name) allowed to deploy. Empty: no deploy identities are created."
  type        = string
  default     = ""

  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must look like owner/name."
  }
}

variable "state_storage_account_id" {
  description = "Resource ID of the storage account holding the Terraform state (backend.tf), so the identities can read (plan) and write (deploy) it."
  type        = string
  default     = ""
}

variable "github_deploy_roles" {
  description = <<-EOT
    Roles for the deploy identity on the subscription, which it needs to apply this configuration (it creates the
    resource group and assigns AcrPull), e.g. ["Contributor", "Role Based Access Control Administrator"] (the second
    best with a condition limiting it to AcrPull): choose what your organisation allows.
  EOT
  type        = list(string)
  default     = []
}

locals {
  github_subjects = var.github_repository == "" ? {} : {
    plan   = "repo:${var.github_repository}:pull_request"
    deploy = "repo:${var.github_repository}:environment:production"
  }
}

# The deploy identities live in a resource group of their own, so applying this configuration never replaces them.
resource "azurerm_resource_group" "github" {
  count = var.github_repository == "" ? 0 : 1

  name     = "rg-${var.project}-github"
  location = var.location
}

resource "azurerm_user_assigned_identity" "github" {
  for_each = local.github_subjects

  name                = "id-${var.project}-github-${each.key}"
  location            = azurerm_resource_group.github[0].location
  resource_group_name = azurerm_resource_group.github[0].name
}

resource "azurerm_federated_identity_credential" "github" {
  for_each = local.github_subjects

  name                = "github-${each.key}"
  resource_group_name = azurerm_resource_group.github[0].name
  parent_id           = azurerm_user_assigned_identity.github[each.key].id
  issuer              = "https://token.actions.githubusercontent.com"
  audience            = ["api://AzureADTokenExchange"]
  subject             = each.value
}

# Plans read the subscription and write nothing (the workflow plans with -lock=false).
resource "azurerm_role_assignment" "github_plan" {
  count = var.github_repository == "" ? 0 : 1

  scope                = "/subscriptions/${var.subscription_id}"
  role_definition_name = "Reader"
  principal_id         = azurerm_user_assigned_identity.github["plan"].principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "github_deploy" {
  for_each = var.github_repository == "" ? toset([]) : toset(var.github_deploy_roles)

  scope                = "/subscriptions/${var.subscription_id}"
  role_definition_name = each.value
  principal_id         = azurerm_user_assigned_identity.github["deploy"].principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "github_state" {
  for_each = var.github_repository == "" || var.state_storage_account_id == "" ? {} : {
    plan   = "Storage Blob Data Reader"
    deploy = "Storage Blob Data Contributor"
  }

  scope                = var.state_storage_account_id
  role_definition_name = each.value
  principal_id         = azurerm_user_assigned_identity.github[each.key].principal_id
  principal_type       = "ServicePrincipal"
}

output "github_client_ids" {
  description = "Set the repository variables AZURE_PLAN_CLIENT_ID and AZURE_DEPLOY_CLIENT_ID to these."
  value       = { for name, identity in azurerm_user_assigned_identity.github : name => identity.client_id }
}
