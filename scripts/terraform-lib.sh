# Shell functions shared by scripts/check-terraform and scripts/terraform-apply-moto
# (sourced, not executed). Both run Terraform on a copy of the configuration in a temporary
# directory, so nothing (.terraform/, lock file, state) is written into the repository and
# the two scripts can run at the same time.

# edp_terraform_cli_config DIR
#   Writes a Terraform CLI configuration into DIR that installs hashicorp/aws from the local
#   filesystem mirror (EDP_TF_PLUGIN_MIRROR, default /opt/tf-plugins) and never from the
#   network, and exports TF_CLI_CONFIG_FILE pointing at it. Without a mirror Terraform
#   installs providers from the registry as usual.
edp_terraform_cli_config() {
  local dir=$1
  local mirror=${EDP_TF_PLUGIN_MIRROR:-/opt/tf-plugins}
  if [ -d "$mirror/registry.terraform.io/hashicorp/aws" ]; then
    cat >"$dir/terraform.rc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
RC
    export TF_CLI_CONFIG_FILE="$dir/terraform.rc"
  else
    echo "note: no provider mirror at $mirror; terraform installs providers from the registry" >&2
    # A TF_CLI_CONFIG_FILE naming a missing file only produces warnings: drop it.
    if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then
      unset TF_CLI_CONFIG_FILE
    fi
  fi
}

# edp_terraform_tree REPO DIR
#   Copies terraform/ and the files it reads outside itself (task-schemas/schemas/, for the
#   worker exit-code table) from REPO into DIR, keeping their relative layout, without any
#   local Terraform state or data. The committed dependency lock file is copied, so init
#   checks the provider against it. Prints DIR/terraform.
edp_terraform_tree() {
  local repo=$1 dir=$2
  mkdir -p "$dir"
  tar -C "$repo" \
    --exclude='.terraform' \
    --exclude='*.tfstate' --exclude='*.tfstate.*' \
    -cf - terraform task-schemas/schemas | tar -C "$dir" -xf -
  echo "$dir/terraform"
}
