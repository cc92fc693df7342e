{%- if deploy.has_web -%}
# An application load balancer in front of the services that listen on a port: HTTPS only (HTTP redirects),
# modern TLS, invalid headers dropped. Who may reach it is an input (see variables.tf).
resource "aws_lb" "main" {
  name                       = local.name
  load_balancer_type         = "application"
  internal                   = !var.load_balancer_internet_facing
  subnets                    = var.load_balancer_internet_facing ? aws_subnet.public[*].id : aws_subnet.private[*].id
  security_groups            = [aws_security_group.load_balancer.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = true

  dynamic "access_logs" {
    for_each = var.access_logs_bucket == "" ? [] : [var.access_logs_bucket]

    content {
      bucket  = access_logs.value
      prefix  = local.name
      enabled = true
    }
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.service[local.default_service].arn
  }
}

resource "aws_lb_listener_rule" "host" {
  for_each = { for name, host in var.service_hostnames : name => host if contains(keys(local.web_services), name) }

  listener_arn = aws_lb_listener.https.arn

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.service[each.key].arn
  }

  condition {
    host_header {
      values = [each.value]
    }
  }
}

resource "aws_lb_target_group" "service" {
  for_each = local.web_services

  name                 = substr("${local.name}-${each.key}", 0, 32)
  port                 = each.value.port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = aws_vpc.main.id
  deregistration_delay = 30

  health_check {
    path                = each.value.health_path
    matcher             = "200-399"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

locals {
  load_balancer_ingress_cidrs = length(var.load_balancer_ingress_cidrs) > 0 ? var.load_balancer_ingress_cidrs : [var.vpc_cidr]
}

resource "aws_security_group" "load_balancer" {
  name        = "${local.name}-load-balancer"
  description = "Load balancer: HTTP and HTTPS from load_balancer_ingress_cidrs (default: the VPC)"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "load_balancer" {
  for_each = { for pair in setproduct(["80", "443"], local.load_balancer_ingress_cidrs) : "${pair[0]} ${pair[1]}" => pair }

  security_group_id = aws_security_group.load_balancer.id
  description       = "Port ${each.value[0]} from ${each.value[1]}"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value[0])
  to_port           = tonumber(each.value[0])
  cidr_ipv4         = each.value[1]
}

resource "aws_vpc_security_group_egress_rule" "load_balancer" {
  for_each = local.web_services

  security_group_id            = aws_security_group.load_balancer.id
  description                  = "To ${each.key} tasks"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.service[each.key].id
}

resource "aws_vpc_security_group_ingress_rule" "service_from_load_balancer" {
  for_each = local.web_services

  security_group_id            = aws_security_group.service[each.key].id
  description                  = "From the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.load_balancer.id
}
{%- endif %}
