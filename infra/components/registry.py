"""Container registry: no admin user, no anonymous pull, firewall and zones where the SKU allows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pulumi
from pulumi_azure_native import containerregistry as acr

from infra.components.common import (
    Common,
    Component,
    CustomerManagedKey,
    PropsError,
    add_diagnostics,
    add_lock,
    add_private_endpoints,
    add_role_assignments,
    check_name,
    resource_opts,
)


@dataclass
class RegistryProps:
    common: Common
    """Placement and shared settings: tags, role assignments (on the registry), diagnostics, private endpoints
    (group registry), lock, customer-managed key (Premium only; the registry takes the key's user-assigned
    identity), protect."""
    name: str
    """The registry's name, globally unique (infra/naming.py rule `registry`)."""
    sku: str
    """Basic, Standard or Premium; firewall rules, private endpoints, zones and keys need Premium."""
    public_network_access: bool
    """True: reachable from the IP ranges in `allowed_ip_ranges` (dev); False: private endpoints only."""
    zone_redundancy: bool
    """Spread the registry over the region's availability zones (Premium only; set only at creation)."""
    quarantine: bool
    """Hold every pushed image until a scanner releases it."""
    allowed_ip_ranges: list[str] = field(default_factory=list)
    """Public IPv4 addresses or CIDR ranges the firewall lets in (Premium only); everything else is denied."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the registry waits for (with a customer-managed key: its identity's grant and propagation pause)."""

    def __post_init__(self) -> None:
        check_name("registry", self.name)
        if self.sku not in ("Basic", "Standard", "Premium"):
            raise PropsError(f"registry sku must be Basic, Standard or Premium, got {self.sku!r}")
        if self.zone_redundancy and self.sku != "Premium":
            raise PropsError("registry zone redundancy needs the Premium SKU")
        key = self.common.customer_managed_key
        if key and self.sku != "Premium":
            raise PropsError("registry customer-managed keys need the Premium SKU")
        if key and (key.user_assigned_identity is None or key.user_assigned_identity.client_id is None):
            raise PropsError("a registry's customer-managed key needs the user-assigned identity that reaches it, "
                             "with its client ID (keyVaultProperties.identity)")

    @property
    def premium(self) -> bool:
        return self.sku == "Premium"


class RegistryComponent(Component):
    SUPPORTS = frozenset({"tags", "role_assignments", "diagnostic_settings", "private_endpoints", "lock",
                          "customer_managed_key", "protect"})

    def __init__(self, name: str, props: RegistryProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Registry", name, props.common, opts)
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
            **customer_managed_key(c.customer_managed_key),
            tags=c.tags,
            opts=resource_opts(self, c, stateful=True, depends_on=list(props.depends_on)),
        )

        add_diagnostics(self, name, self.registry.id, c.diagnostic_settings, "Microsoft.ContainerRegistry/registries")
        self.role_assignments = add_role_assignments(self, name, self.registry.id, c)
        self.private_endpoints = add_private_endpoints(self, name, self.registry.id, props.name, ["registry"], c)
        add_lock(self, name, self.registry.id, c.lock, "container registry")

        self.id = self.registry.id
        self.login_server = self.registry.login_server
        self.register_outputs({"id": self.registry.id, "login_server": self.registry.login_server})


def customer_managed_key(key: CustomerManagedKey | None) -> dict:
    """The registry's identity and encryption for a customer-managed key, or nothing.

    ACR takes the key only at creation, only with a user-assigned identity, and names that identity by
    its client ID in keyVaultProperties.identity; a key without a version is adopted within an hour of
    each rotation (tutorial-customer-managed-keys, tutorial-enable-customer-managed-keys)."""
    if key is None:
        return {}
    # RegistryProps refused a key without an identity and its client ID.
    identity = key.user_assigned_identity
    assert identity is not None
    return {
        "identity": acr.IdentityPropertiesArgs(
            type=acr.ResourceIdentityType.USER_ASSIGNED,
            user_assigned_identities=pulumi.Output.from_input(identity.resource_id).apply(
                lambda uid: {uid: acr.UserIdentityPropertiesArgs()}),
        ),
        "encryption": acr.EncryptionPropertyArgs(
            status=acr.EncryptionStatus.ENABLED,
            key_vault_properties=acr.KeyVaultPropertiesArgs(key_identifier=key.key_uri, identity=identity.client_id),
        ),
    }
