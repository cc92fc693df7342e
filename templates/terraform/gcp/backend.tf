# Remote state in a Cloud Storage bucket; the GCS backend locks the state on every write.
# Fill in the bucket, either:
#   - in CI: the deploy workflow passes it from the repository variable TF_STATE_BUCKET;
#   - locally: copy backend.hcl.example to backend.hcl, edit it, run `terraform init -backend-config=backend.hcl`.
# The bucket must exist first, with object versioning on and uniform bucket-level access.
terraform {
  backend "gcs" {
    prefix = "opsmith/terraform"
  }
}
