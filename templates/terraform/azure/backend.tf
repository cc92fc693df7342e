# Remote state in an Azure Storage blob container; the azurerm backend locks the state with a blob lease.
# Fill in where the state lives, either:
#   - in CI: the deploy workflow passes resource_group_name, storage_account_name and container_name from the
#     repository variables TF_STATE_RESOURCE_GROUP, TF_STATE_STORAGE_ACCOUNT and TF_STATE_CONTAINER;
#   - locally: copy backend.hcl.example to backend.hcl, edit it, run `terraform init -backend-config=backend.hcl`.
# The storage account must exist first (versioning and soft delete on); access goes through Entra ID, no keys.
terraform {
  backend "azurerm" {
    key              = "opsmith/terraform.tfstate"
    use_azuread_auth = true
  }
}
