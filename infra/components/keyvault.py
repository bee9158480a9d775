"""Key vault: RBAC authorization, soft delete with purge protection, firewall deny by default."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import keyvault

from infra.components.common import (
    Common,
    PropsError,
    add_diagnostics,
    add_lock,
    add_private_endpoints,
    add_role_assignments,
    check_name,
    resource_opts,
)


@dataclass
class KeyVaultProps:
    common: Common
    name: str
    tenant_id: pulumi.Input[str]
    sku: str
    public_network_access: bool
    allowed_ip_ranges: list[str] = field(default_factory=list)
    soft_delete_retention_days: int = 90

    def __post_init__(self) -> None:
        check_name("key_vault", self.name)
        if self.sku not in ("standard", "premium"):
            raise PropsError(f"key vault sku must be standard or premium, got {self.sku!r}")
        if not 7 <= self.soft_delete_retention_days <= 90:
            raise PropsError("key vault soft delete retention must be 7-90 days")


class KeyVaultComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: KeyVaultProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:KeyVault", name, None, opts)
        c = props.common

        self.vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=props.name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=props.tenant_id,
                sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName(props.sku)),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=props.soft_delete_retention_days,
                enable_purge_protection=True,
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
                public_network_access="Enabled" if props.public_network_access else "Disabled",
                network_acls=keyvault.NetworkRuleSetArgs(
                    default_action="Deny",
                    bypass="AzureServices",
                    ip_rules=[keyvault.IPRuleArgs(value=ip) for ip in props.allowed_ip_ranges],
                ),
            ),
            tags=c.tags,
            opts=resource_opts(self, c, stateful=True),
        )

        add_diagnostics(self, name, self.vault.id, c.diagnostic_settings, "Microsoft.KeyVault/vaults")
        self.role_assignments = add_role_assignments(self, name, self.vault.id, c)
        self.private_endpoints = add_private_endpoints(self, name, self.vault.id, props.name, ["vault"], c)
        add_lock(self, name, self.vault.id, c, "key vault")

        self.id = self.vault.id
        self.register_outputs({"id": self.vault.id})
