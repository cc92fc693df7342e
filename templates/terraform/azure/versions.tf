terraform {
  required_version = ">= 1.5"

  # azurerm 4.37 or newer: logs_destination on the Container Apps environment.
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.37"
    }
  }
}

provider "azurerm" {
  subscription_id = var.subscription_id

  features {}
}

data "azurerm_client_config" "current" {}
