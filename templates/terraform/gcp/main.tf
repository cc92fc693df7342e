resource "google_project_service" "required" {
  for_each = toset([
    "artifactregistry.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "run.googleapis.com",
    "sts.googleapis.com",
  ])

  service            = each.value
  disable_on_destroy = false
}

# One Docker repository for every service's image; tags cannot be overwritten.
resource "google_artifact_registry_repository" "images" {
  repository_id = var.project
  location      = var.region
  format        = "DOCKER"
  description   = "${var.project}: service images"

  docker_config {
    immutable_tags = true
  }

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"

    most_recent_versions {
      keep_count = 50
    }
  }

  depends_on = [google_project_service.required]
}

# Each service runs as its own service account, with no roles: grant it what the code needs.
resource "google_service_account" "service" {
  for_each = local.services

  account_id   = trimsuffix(substr("${var.project}-${each.key}", 0, 30), "-")
  display_name = "${var.project} ${each.key} (Cloud Run)"
}
{%- if deploy.has_web %}

resource "google_cloud_run_v2_service" "service" {
  for_each = local.web_services

  name                = "${var.project}-${each.key}"
  location            = var.region
  ingress             = var.ingress
  deletion_protection = var.deletion_protection

  template {
    service_account                  = google_service_account.service[each.key].email
    max_instance_request_concurrency = 80
    timeout                          = "300s"

    scaling {
      min_instance_count = each.value.min_instances
      max_instance_count = each.value.max_instances
    }

    containers {
      image = "${local.registry}/${each.key}:${var.image_tag}"

      ports {
        container_port = each.value.port
      }

      resources {
        limits = {
          cpu    = each.value.cpu
          memory = each.value.memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      startup_probe {
        initial_delay_seconds = 0
        period_seconds        = 5
        timeout_seconds       = 3
        failure_threshold     = 24

        http_get {
          path = each.value.health_path
          port = each.value.port
        }
      }

      liveness_probe {
        period_seconds    = 30
        timeout_seconds   = 5
        failure_threshold = 3

        http_get {
          path = each.value.health_path
          port = each.value.port
        }
      }
    }
  }

  depends_on = [google_project_service.required]
}

# Who may call the services: nobody but invoker_members unless listed in public_services.
resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = toset([for name in var.public_services : name if contains(keys(local.web_services), name)])

  location = var.region
  name     = google_cloud_run_v2_service.service[each.key].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = { for pair in setproduct(keys(local.web_services), var.invoker_members) : "${pair[0]} ${pair[1]}" => pair }

  location = var.region
  name     = google_cloud_run_v2_service.service[each.value[0]].name
  role     = "roles/run.invoker"
  member   = each.value[1]
}
{%- endif %}
{%- if deploy.has_workers %}

# Workers listen on no port: a worker pool runs them without a URL.
resource "google_cloud_run_v2_worker_pool" "worker" {
  for_each = local.workers

  name                = "${var.project}-${each.key}"
  location            = var.region
  deletion_protection = var.deletion_protection
  # Worker pools were a beta feature of Cloud Run when this was written.
  launch_stage = "BETA"

  scaling {
    manual_instance_count = each.value.min_instances
  }

  template {
    service_account = google_service_account.service[each.key].email

    containers {
      image = "${local.registry}/${each.key}:${var.image_tag}"

      resources {
        limits = {
          cpu    = each.value.cpu
          memory = each.value.memory
        }
      }
    }
  }

  depends_on = [google_project_service.required]
}
{%- endif %}
