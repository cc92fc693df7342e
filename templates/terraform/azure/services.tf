# The services opsmith detected, one entry each: every resource below is created per entry (for_each).
# Edit sizes and replica counts here (cpu and memory go in pairs: 0.25/0.5Gi, 0.5/1Gi, 1/2Gi, ...).
# A service with port = null is a worker: no ingress, no inbound traffic.
locals {
  services = {
{%- for s in deploy.services %}
    {{ s.key | json }} = {
      port         = {% if s.port %}{{ s.port }}{% else %}null{% endif %}
      health_path  = {% if s.health_path %}{{ s.health_path | json }}{% else %}null{% endif %}{% if s.port and not s.health_path_detected %} # none found in the code: add a cheap health endpoint{% endif %}
      cpu          = {{ s.azure_cpu }}
      memory       = {{ s.azure_memory | json }}
      min_replicas = 1
      max_replicas = {{ s.max_count }}
    }
{%- endfor %}
  }

  web_services = { for name, service in local.services : name => service if service.port != null }

  # Registry names are global and alphanumeric: the project plus a suffix derived from the subscription.
  registry_name = "${replace(var.project, "-", "")}${substr(sha1(var.subscription_id), 0, 8)}"
}
