# The services opsmith detected, one entry each: every resource below is created per entry (for_each).
# Edit sizes and task counts here: auto scaling moves each service between desired_count and max_count.
# A service with port = null is a worker: no load balancer, no inbound traffic. read_only_root_filesystem is
# false for frameworks that write into the application folder at run time (/tmp is always writable).
locals {
  services = {
{%- for s in deploy.services %}
    {{ s.key | json }} = {
      port                      = {% if s.port %}{{ s.port }}{% else %}null{% endif %}
      health_path               = {% if s.health_path %}{{ s.health_path | json }}{% else %}null{% endif %}{% if s.port and not s.health_path_detected %} # none found in the code: add a cheap health endpoint{% endif %}
      cpu                       = {{ s.cpu }}
      memory                    = {{ s.memory }}
      desired_count             = {{ s.desired_count }}
      max_count                 = {{ s.max_count }}
      read_only_root_filesystem = {{ s.read_only_root_filesystem }}
    }
{%- endfor %}
  }
{%- if deploy.has_web %}

  # Requests for hosts not listed in var.service_hostnames go to this service.
  default_service = {{ deploy.default_service | json }}
{%- endif %}

  web_services = { for name, service in local.services : name => service if service.port != null }

  name       = var.project
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition
}
