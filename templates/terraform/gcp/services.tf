# The services opsmith detected, one entry each: every resource below is created per entry (for_each).
# Edit sizes and instance counts here. A service with port = null is a worker: it runs in a Cloud Run worker
# pool (min_instances instances, always on), with no URL and no inbound traffic.
locals {
  services = {
{%- for s in deploy.services %}
    {{ s.key | json }} = {
      port          = {% if s.port %}{{ s.port }}{% else %}null{% endif %}
      health_path   = {% if s.health_path %}{{ s.health_path | json }}{% else %}null{% endif %}{% if s.port and not s.health_path_detected %} # none found in the code: add a cheap health endpoint{% endif %}
      cpu           = "1"
      memory        = {{ s.gcp_memory | json }}
      min_instances = {% if s.port %}0{% else %}1{% endif %}
      max_instances = {% if s.port %}{{ s.max_count }}{% else %}1{% endif %}
    }
{%- endfor %}
  }

  web_services = { for name, service in local.services : name => service if service.port != null }
  workers      = { for name, service in local.services : name => service if service.port == null }

  registry = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}
