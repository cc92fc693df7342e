variable "project_id" {
  description = "ID of the Google Cloud project to deploy into."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project ID (6-30 lower-case letters, digits and dashes)."
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

variable "region" {
  description = "Region for Cloud Run and Artifact Registry."
  type        = string
  default     = "us-central1"
}

variable "image_tag" {
  description = "Image tag to deploy for every service (the deploy workflow passes the commit SHA). Tags are immutable."
  type        = string

  validation {
    condition     = length(var.image_tag) > 0 && var.image_tag != "latest"
    error_message = "image_tag must be a concrete, immutable tag such as a commit SHA."
  }
}
{%- if deploy.has_web %}

variable "public_services" {
  description = <<-EOT
    Services anyone on the internet may call without authenticating (roles/run.invoker for allUsers). Empty by
    default: every call needs an identity token of a principal in invoker_members. To open a website or public API,
    set e.g. public_services = ["web"] in terraform.tfvars.
  EOT
  type        = list(string)
  default     = []
}

variable "invoker_members" {
  description = <<-EOT
    Principals allowed to call every service, e.g. ["group:team@example.com", "serviceAccount:caller@PROJECT.iam.gserviceaccount.com"].
  EOT
  type        = list(string)
  default     = []
}

variable "ingress" {
  description = <<-EOT
    Where requests may come from: INGRESS_TRAFFIC_ALL (any network; IAM still decides who may call),
    INGRESS_TRAFFIC_INTERNAL_ONLY (the VPC and Google services) or INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER.
  EOT
  type        = string
  default     = "INGRESS_TRAFFIC_ALL"

  validation {
    condition     = contains(["INGRESS_TRAFFIC_ALL", "INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"], var.ingress)
    error_message = "ingress must be INGRESS_TRAFFIC_ALL, INGRESS_TRAFFIC_INTERNAL_ONLY or INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER."
  }
}
{%- endif %}

variable "deletion_protection" {
  description = "Refuse to destroy the Cloud Run services and worker pools. Set false before tearing the deployment down."
  type        = bool
  default     = true
}
