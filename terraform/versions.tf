# Terraform and provider pins. Only hashicorp/aws is used on purpose: no archive, random or
# null providers, so the module initialises from a single provider mirror (see
# scripts/check-terraform) and the Lambda zips are built by `cargo lambda`, not by Terraform.
terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
