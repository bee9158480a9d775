"""Container registry: no admin user, no anonymous pull, firewall and zones where the SKU allows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pulumi
from pulumi_azure_native import containerregistry as acr

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
from infra.components.encryption import RegistryKey


@dataclass
class RegistryProps:
    common: Common
    name: str
    sku: str
    public_network_access: bool
    zone_redundancy: bool = False
    quarantine: bool = False
    allowed_ip_ranges: list[str] = field(default_factory=list)
    # Encrypt with this customer-managed key (Premium only; set only when the registry is created).
    customer_managed_key: RegistryKey | None = None
    # What the registry waits for (the key identity's grant and its propagation pause).
    depends_on: Sequence[pulumi.Resource] = ()

    def __post_init__(self) -> None:
        check_name("registry", self.name)
        if self.sku not in ("Basic", "Standard", "Premium"):
            raise PropsError(f"registry sku must be Basic, Standard or Premium, got {self.sku!r}")
        if self.zone_redundancy and self.sku != "Premium":
            raise PropsError("registry zone redundancy needs the Premium SKU")
        if self.customer_managed_key and self.sku != "Premium":
            raise PropsError("registry customer-managed keys need the Premium SKU")

    @property
    def premium(self) -> bool:
        return self.sku == "Premium"


class RegistryComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: RegistryProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Registry", name, None, opts)
        c = props.common
        premium = props.premium

        self.registry = acr.Registry(
            f"{name}-registry",
            registry_name=props.name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            sku=acr.SkuArgs(name=props.sku),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Enabled" if props.public_network_access else "Disabled",
            # Firewall rules, dedicated data endpoints and retention exist on Premium only.
            network_rule_set=acr.NetworkRuleSetArgs(
                default_action="Deny",
                ip_rules=[acr.IPRuleArgs(i_p_address_or_range=ip, action="Allow") for ip in props.allowed_ip_ranges],
            ) if premium else None,
            network_rule_bypass_options="AzureServices",
            data_endpoint_enabled=premium,
            zone_redundancy="Enabled" if props.zone_redundancy else "Disabled",
            policies=acr.PoliciesArgs(
                quarantine_policy=acr.QuarantinePolicyArgs(status="enabled" if props.quarantine else "disabled"),
                retention_policy=acr.RetentionPolicyArgs(status="enabled", days=7) if premium else None,
                # Images may leave the registry only over its private endpoint once public access is off.
                export_policy=acr.ExportPolicyArgs(status="disabled")
                if premium and not props.public_network_access else None,
                # Only ACR-audience Entra tokens: an ARM token (any token for management.azure.com) no longer
                # opens the registry. The SDK fills `enabled` when the status is left out, so it is stated.
                azure_ad_authentication_as_arm_policy=acr.AzureADAuthenticationAsArmPolicyArgs(status="disabled"),
            ),
            **customer_managed_key(props.customer_managed_key),
            tags=c.tags,
            opts=resource_opts(self, c, stateful=True, depends_on=list(props.depends_on)),
        )

        add_diagnostics(self, name, self.registry.id, c.diagnostic_settings, "Microsoft.ContainerRegistry/registries")
        self.role_assignments = add_role_assignments(self, name, self.registry.id, c)
        self.private_endpoints = add_private_endpoints(self, name, self.registry.id, props.name, ["registry"], c)
        add_lock(self, name, self.registry.id, c, "container registry")

        self.id = self.registry.id
        self.login_server = self.registry.login_server
        self.register_outputs({"id": self.registry.id, "login_server": self.registry.login_server})


def customer_managed_key(key: RegistryKey | None) -> dict:
    """The registry's identity and encryption for a customer-managed key, or nothing.

    ACR takes the key only at creation, only with a user-assigned identity, and names that identity by
    its client ID in keyVaultProperties.identity; a key without a version is adopted within an hour of
    each rotation (tutorial-customer-managed-keys, tutorial-enable-customer-managed-keys)."""
    if key is None:
        return {}
    return {
        "identity": acr.IdentityPropertiesArgs(
            type=acr.ResourceIdentityType.USER_ASSIGNED,
            user_assigned_identities=pulumi.Output.from_input(key.identity_id).apply(
                lambda uid: {uid: acr.UserIdentityPropertiesArgs()}),
        ),
        "encryption": acr.EncryptionPropertyArgs(
            status=acr.EncryptionStatus.ENABLED,
            key_vault_properties=acr.KeyVaultPropertiesArgs(key_identifier=key.key_identifier,
                                                            identity=key.identity_client_id),
        ),
    }
