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
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "image_tag" {
  description = "Image tag to deploy for every service (the deploy workflow passes the commit SHA). Tags are immutable."
  type        = string

  validation {
    condition     = length(var.image_tag) > 0 && var.image_tag != "latest"
    error_message = "image_tag must be a concrete, immutable tag such as a commit SHA."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC. Public subnets (load balancer) and private subnets (tasks) are carved out of it."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be an IPv4 CIDR block, e.g. 10.40.0.0/16."
  }
}

variable "availability_zone_count" {
  description = "How many availability zones to spread subnets and tasks over."
  type        = number
  default     = 2

  validation {
    condition     = var.availability_zone_count >= 2 && var.availability_zone_count <= 4
    error_message = "availability_zone_count must be between 2 and 4."
  }
}

variable "task_egress_cidrs" {
  description = <<-EOT
    CIDR blocks the tasks may open HTTPS connections to, beyond the AWS endpoints inside the VPC (ECR, CloudWatch Logs, S3).
    Empty by default: tasks reach only those endpoints. If your services call other APIs, set enable_nat_gateway = true
    and list their ranges here (["0.0.0.0/0"] opens the whole internet: a deliberate choice).
  EOT
  type        = list(string)
  default     = []
}

variable "enable_nat_gateway" {
  description = "Create a NAT gateway so tasks in the private subnets can reach task_egress_cidrs outside AWS."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "How long CloudWatch keeps service and VPC flow logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention period CloudWatch Logs accepts (e.g. 30, 90, 365)."
  }
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (confirm the subscription mail). Empty: no subscription."
  type        = string
  default     = ""
}
{%- if deploy.has_web %}

variable "certificate_arn" {
  description = "ARN of the ACM certificate for the HTTPS listener (request or import it in ACM for your domain first)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "load_balancer_internet_facing" {
  description = <<-EOT
    Whether the load balancer gets public addresses in the public subnets. Default false: it is internal, reachable
    from the VPC and networks connected to it. Set true to serve the internet, and list who may connect in
    load_balancer_ingress_cidrs (["0.0.0.0/0"] for everyone).
  EOT
  type        = bool
  default     = false
}

variable "load_balancer_ingress_cidrs" {
  description = <<-EOT
    CIDR blocks allowed to reach the load balancer on ports 80 (redirected) and 443. Empty (the default): only the
    VPC itself. List who may connect, e.g. your office or VPN ranges, or ["0.0.0.0/0"] for a public site (together
    with load_balancer_internet_facing = true).
  EOT
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.load_balancer_ingress_cidrs : can(cidrnetmask(cidr))])
    error_message = "Every entry of load_balancer_ingress_cidrs must be an IPv4 CIDR block."
  }
}

variable "service_hostnames" {
  description = <<-EOT
    Host names routed to services other than the default one, by service name, e.g. { admin = "admin.example.com" }.
    Requests for any other host go to the default service (local.default_service).
  EOT
  type        = map(string)
  default     = {}
}

variable "access_logs_bucket" {
  description = <<-EOT
    Name of an existing S3 bucket for load balancer access logs (its policy must allow the region's ELB log delivery;
    ELB writes with SSE-S3 only). Empty: access logs off.
  EOT
  type        = string
  default     = ""
}
{%- endif %}
