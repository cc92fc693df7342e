variable "subscription_id" {
  description = "ID of the Azure subscription to deploy into."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-fA-F-]{36}$", var.subscription_id))
    error_message = "subscription_id must be a subscription GUID."
  }
}

variable "project" {
  description = "Short name prefixed to every resource (lower-case letters, digits and dashes)."
  type        = string
  default     = {{ deploy.project | json }}

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.project))
    error_message = "project must be 2-16 characters: lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "location" {
  description = "Azure region for every resource."
  type        = string
  default     = "westeurope"
}

variable "image_tag" {
  description = "Image tag to deploy for every service (the deploy workflow passes the commit SHA)."
  type        = string

  validation {
    condition     = length(var.image_tag) > 0 && var.image_tag != "latest"
    error_message = "image_tag must be a concrete, immutable tag such as a commit SHA."
  }
}

variable "log_retention_days" {
  description = "How long the Log Analytics workspace keeps the services' logs."
  type        = number
  default     = 90

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days must be between 30 and 730."
  }
}
{%- if deploy.has_web %}

variable "external_services" {
  description = <<-EOT
    Services reachable from the internet, e.g. ["web"]. Empty by default: every service's ingress is internal to the
    Container Apps environment (other apps in it can call it). List a service here to give it a public HTTPS URL.
  EOT
  type        = list(string)
  default     = []
}
{%- endif %}
