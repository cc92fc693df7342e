# Optional: Workload Identity Federation for the deploy workflow (no service account keys).
# Set github_repository = "owner/name" to create it: the pool trusts only that repository's tokens, the plan
# service account only from pull requests, the deploy service account only from the `production` environment.
# Nothing else refers to this file: delete it if you manage the deploy identities elsewhere.
variable "github_repository" {
  description = "GitHub repository (owner/name) allowed to deploy. Empty: no identity pool or deploy accounts are created."
  type        = string
  default     = ""

  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must look like owner/name."
  }
}

variable "state_bucket" {
  description = "Name of the Terraform state bucket (backend.tf), so the deploy accounts can read (plan) and write (deploy) the state."
  type        = string
  default     = ""
}

variable "github_deploy_roles" {
  description = <<-EOT
    Project roles for the deploy service account, which applies this configuration. It manages Cloud Run, Artifact
    Registry, service accounts, workload identity pools and IAM bindings, e.g. ["roles/run.admin",
    "roles/artifactregistry.admin", "roles/iam.serviceAccountAdmin", "roles/iam.workloadIdentityPoolAdmin",
    "roles/serviceusage.serviceUsageAdmin"]: choose what your organisation allows. It may act as the services'
    own accounts (granted below, per account), not as every account of the project.
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

resource "google_iam_workload_identity_pool" "github" {
  count = var.github_repository == "" ? 0 : 1

  workload_identity_pool_id = "${var.project}-github"
  display_name              = "GitHub Actions"
  description               = "Deploy workflow of ${var.github_repository}"

  depends_on = [google_project_service.required]
}

resource "google_iam_workload_identity_pool_provider" "github" {
  count = var.github_repository == "" ? 0 : 1

  workload_identity_pool_id          = google_iam_workload_identity_pool.github[0].workload_identity_pool_id
  workload_identity_pool_provider_id = "github"
  display_name                       = "GitHub"
  attribute_condition                = "assertion.repository == \"${var.github_repository}\""
  attribute_mapping = {
    "google.subject"       = "assertion.sub"
    "attribute.repository" = "assertion.repository"
  }

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account" "github" {
  for_each = local.github_subjects

  account_id   = "${var.project}-gh-${each.key}"
  display_name = "${var.project} GitHub ${each.key}"
}

resource "google_service_account_iam_member" "github" {
  for_each = local.github_subjects

  service_account_id = google_service_account.github[each.key].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principal://iam.googleapis.com/${google_iam_workload_identity_pool.github[0].name}/subject/${each.value}"
}

# Plans read what this configuration manages and the state, and write nothing (the workflow plans with
# -lock=false). Predefined viewer roles rather than the basic roles/viewer.
resource "google_project_iam_member" "github_plan" {
  for_each = var.github_repository == "" ? toset([]) : toset([
    "roles/artifactregistry.reader",
    "roles/iam.securityReviewer",
    "roles/iam.serviceAccountViewer",
    "roles/iam.workloadIdentityPoolViewer",
    "roles/run.viewer",
    "roles/serviceusage.serviceUsageViewer",
  ])

  project = var.project_id
  role    = each.value
  member  = google_service_account.github["plan"].member
}

resource "google_project_iam_member" "github_deploy" {
  for_each = var.github_repository == "" ? toset([]) : toset(var.github_deploy_roles)

  project = var.project_id
  role    = each.value
  member  = google_service_account.github["deploy"].member
}

# Deploying a Cloud Run service that runs as an account requires acting as that account.
resource "google_service_account_iam_member" "github_deploy_acts_as" {
  for_each = var.github_repository == "" ? {} : local.services

  service_account_id = google_service_account.service[each.key].name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.github["deploy"].member
}

resource "google_storage_bucket_iam_member" "github_state" {
  for_each = var.github_repository == "" || var.state_bucket == "" ? {} : {
    plan   = "roles/storage.objectViewer"
    deploy = "roles/storage.objectUser"
  }

  bucket = var.state_bucket
  role   = each.value
  member = google_service_account.github[each.key].member
}

output "github_workload_identity_provider" {
  description = "Set the repository variable GCP_WORKLOAD_IDENTITY_PROVIDER to this."
  value       = var.github_repository == "" ? null : google_iam_workload_identity_pool_provider.github[0].name
}

output "github_service_accounts" {
  description = "Set the repository variables GCP_PLAN_SERVICE_ACCOUNT and GCP_DEPLOY_SERVICE_ACCOUNT to these."
  value       = { for name, account in google_service_account.github : name => account.email }
}
