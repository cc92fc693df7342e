# Remote state in S3 with native locking (a lock file beside the state, no DynamoDB table needed).
# Fill in the bucket and region, either:
#   - in CI: the deploy workflow passes them from the repository variables TF_STATE_BUCKET and AWS_REGION;
#   - locally: copy backend.hcl.example to backend.hcl, edit it, run `terraform init -backend-config=backend.hcl`.
# The bucket must exist first, with versioning and encryption on and public access blocked.
terraform {
  backend "s3" {
    key          = "opsmith/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
