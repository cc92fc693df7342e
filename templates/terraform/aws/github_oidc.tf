# Optional: the roles the deploy workflow assumes through GitHub's OIDC provider (no stored AWS keys).
# Set github_repository = "owner/name" to create them; the trust policies accept only that repository:
# the plan role from pull requests, the deploy role from the `production` environment.
# Nothing else refers to this file: delete it if you manage the deploy identities elsewhere.
variable "github_repository" {
  description = "GitHub repository (owner/name) allowed to assume the deploy roles. Empty: no roles are created."
  type        = string
  default     = ""

  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must look like owner/name."
  }
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC provider. Set false when the account already has one."
  type        = bool
  default     = true
}

variable "github_deploy_policy_arns" {
  description = <<-EOT
    Managed policies attached to the deploy role, which applies this configuration. Terraform needs rights over
    everything in this folder (ECS, ECR, ELB, EC2 networking, CloudWatch, SNS, KMS, IAM roles named after
    var.project, and the state bucket): attach policies that grant exactly that in your account.
  EOT
  type        = list(string)
  default     = []
}

locals {
  github_enabled = var.github_repository != ""
  github_oidc_provider_arn = local.github_enabled ? (
    var.create_github_oidc_provider
    ? aws_iam_openid_connect_provider.github[0].arn
    : "arn:${local.partition}:iam::${local.account_id}:oidc-provider/token.actions.githubusercontent.com"
  ) : ""
}

resource "aws_iam_openid_connect_provider" "github" {
  count = local.github_enabled && var.create_github_oidc_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "github_assume" {
  for_each = local.github_enabled ? {
    plan   = "repo:${var.github_repository}:pull_request"
    deploy = "repo:${var.github_repository}:environment:production"
  } : {}

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = [each.value]
    }
  }
}

resource "aws_iam_role" "github" {
  for_each = data.aws_iam_policy_document.github_assume

  name                 = "${local.name}-github-${each.key}"
  assume_role_policy   = each.value.json
  max_session_duration = 3600
}

# Plans read everything and write nothing (the workflow plans with -lock=false).
resource "aws_iam_role_policy_attachment" "github_plan" {
  count = local.github_enabled ? 1 : 0

  role       = aws_iam_role.github["plan"].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy_attachment" "github_deploy" {
  for_each = local.github_enabled ? toset(var.github_deploy_policy_arns) : toset([])

  role       = aws_iam_role.github["deploy"].name
  policy_arn = each.value
}

output "github_role_arns" {
  description = "Roles for the deploy workflow (set AWS_PLAN_ROLE_ARN and AWS_DEPLOY_ROLE_ARN repository variables to these)."
  value       = { for name, role in aws_iam_role.github : name => role.arn }
}
