"""The Azure Machine Learning workspace, linked to its storage, key vault, registry and App Insights.

It runs as a user-assigned identity (which must hold its roles before the
workspace is created), authenticates to its system datastores with that
identity rather than account keys, and takes its network posture from the
stack: public behind the allow-list (dev, whose compute still runs in the AML managed VNet),
private, or the AML managed VNet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from infra.components.common import (
    Common,
    PropsError,
    add_diagnostics,
    add_private_endpoints,
    add_role_assignments,
    check_name,
    resource_opts,
)
from infra.components.encryption import WorkspaceKey

ISOLATION_MODES = ("AllowInternetOutbound", "AllowOnlyApprovedOutbound")


@dataclass(frozen=True)
class OutboundRule:
    """A managed-VNet outbound rule: FQDN, ServiceTag or PrivateEndpoint."""

    name: str
    kind: str
    destination: pulumi.Input[str] | None = None  # FQDN host, or the private endpoint's target resource ID
    subresource: str | None = None  # PrivateEndpoint group (blob, vault, registry...)
    service_tag: str | None = None
    protocol: str = "TCP"
    port_ranges: str = "443"

    def properties(
        self,
    ) -> ml.PrivateEndpointOutboundRuleArgs | ml.FqdnOutboundRuleArgs | ml.ServiceTagOutboundRuleArgs:
        if self.kind == "PrivateEndpoint":
            return ml.PrivateEndpointOutboundRuleArgs(
                type="PrivateEndpoint",
                category="UserDefined",
                destination=ml.PrivateEndpointDestinationArgs(
                    service_resource_id=self.destination, subresource_target=self.subresource, spark_enabled=False
                ),
            )
        if self.kind == "FQDN":
            return ml.FqdnOutboundRuleArgs(type="FQDN", category="UserDefined", destination=self.destination)
        if self.kind == "ServiceTag":
            return ml.ServiceTagOutboundRuleArgs(
                type="ServiceTag",
                category="UserDefined",
                destination=ml.ServiceTagDestinationArgs(
                    service_tag=self.service_tag, protocol=self.protocol, port_ranges=self.port_ranges, action="Allow"
                ),
            )
        raise PropsError(f"outbound rule {self.name!r}: unknown type {self.kind!r}")


@dataclass
class WorkspaceProps:
    common: Common
    name: str
    identity_id: pulumi.Input[str]
    storage_account_id: pulumi.Input[str]
    key_vault_id: pulumi.Input[str]
    container_registry_id: pulumi.Input[str]
    application_insights_id: pulumi.Input[str]
    public_network_access: bool
    hbi: bool
    friendly_name: str | None = None
    description: str | None = None
    # None: no managed VNet; otherwise its isolation mode.
    managed_network: str | None = None
    outbound_rules: Sequence[OutboundRule] = ()
    # Private mode: serverless jobs in this subnet without public IPs, and image builds on this
    # cluster (ACR Tasks cannot reach a registry behind a private endpoint).
    serverless_subnet_id: pulumi.Input[str] | None = None
    image_build_compute: str | None = None
    # Resources that must exist first (the identity's role assignments).
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    # Encrypt the workspace's metadata with this customer-managed key, service-side (set only when the
    # workspace is created; afterwards only another key of the same vault).
    customer_managed_key: WorkspaceKey | None = None

    def __post_init__(self) -> None:
        check_name("workspace", self.name)
        if self.managed_network is not None and self.managed_network not in ISOLATION_MODES:
            raise PropsError(f"managed network isolation mode must be one of {ISOLATION_MODES}")
        if self.outbound_rules and self.managed_network is None:
            raise PropsError("outbound rules need a managed network")
        if self.managed_network == "AllowInternetOutbound" and any(r.kind == "FQDN" for r in self.outbound_rules):
            raise PropsError("FQDN outbound rules apply only to AllowOnlyApprovedOutbound")


class WorkspaceComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: WorkspaceProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Workspace", name, None, opts)
        c = props.common

        self.workspace = ml.Workspace(
            f"{name}-mlw",
            workspace_name=props.name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            kind="Default",
            sku=ml.SkuArgs(name="Basic", tier=ml.SkuTier.BASIC),
            friendly_name=props.friendly_name or props.name,
            description=props.description,
            identity=ml.ManagedServiceIdentityArgs(type="UserAssigned", user_assigned_identities=[props.identity_id]),
            primary_user_assigned_identity=props.identity_id,
            storage_account=props.storage_account_id,
            key_vault=props.key_vault_id,
            container_registry=props.container_registry_id,
            application_insights=props.application_insights_id,
            # Studio and jobs reach the system datastores with Entra identities, never account keys.
            system_datastores_auth_mode="identity",
            public_network_access="Enabled" if props.public_network_access else "Disabled",
            allow_public_access_when_behind_vnet=False,
            hbi_workspace=props.hbi,
            v1_legacy_mode=False,
            managed_network=ml.ManagedNetworkSettingsArgs(isolation_mode=props.managed_network)
            if props.managed_network else None,
            serverless_compute_settings=ml.ServerlessComputeSettingsArgs(
                serverless_compute_custom_subnet=props.serverless_subnet_id, serverless_compute_no_public_ip=True
            ) if props.serverless_subnet_id is not None else None,
            image_build_compute=props.image_build_compute,
            **customer_managed_key(props.customer_managed_key),
            tags=c.tags,
            opts=resource_opts(self, c, stateful=True, depends_on=list(props.depends_on),
                               # The key version stays as created unless an operator moves it (README:
                               # Customer-managed keys): a refreshed key must not move it silently.
                               ignore_changes=[KEY_IDENTIFIER] if props.customer_managed_key else None),
        )

        # Outbound rules as their own resources, not inline: AML adds system rules to the
        # inline map, which would show as drift on every refresh.
        self.outbound_rules = [
            ml.ManagedNetworkSettingsRule(
                f"{name}-rule-{rule.name}",
                rule_name=rule.name,
                workspace_name=self.workspace.name,
                resource_group_name=c.resource_group_name,
                properties=rule.properties(),
                opts=resource_opts(self, c),
            )
            for rule in props.outbound_rules
        ]
        add_diagnostics(self, name, self.workspace.id, c.diagnostic_settings,
                        "Microsoft.MachineLearningServices/workspaces")
        self.role_assignments = add_role_assignments(self, name, self.workspace.id, c)
        self.private_endpoints = add_private_endpoints(self, name, self.workspace.id, props.name, ["amlworkspace"], c)
        # No management lock: computes, datastores, schedules, outbound rules and the teams' grants live
        # below the workspace and come and go with the stack; a CanNotDelete lock would block every one
        # of those deletes (extension resources inherit it). `protect` guards the workspace itself.

        self.id = self.workspace.id
        self.name = self.workspace.name
        self.mlflow_tracking_uri = self.workspace.ml_flow_tracking_uri
        self.register_outputs({"id": self.id, "name": self.name, "mlflow_tracking_uri": self.mlflow_tracking_uri})


KEY_IDENTIFIER = "encryption.keyVaultProperties.keyIdentifier"


def customer_managed_key(key: WorkspaceKey | None) -> dict:
    """Service-side CMK: the metadata stays in Microsoft-managed resources encrypted with the key (no
    managed resource group, no Cosmos DB grant), with the workspace's user-assigned identity reaching the
    key (concept-customer-managed-keys, "Service-side encryption of metadata")."""
    if key is None:
        return {}
    return {
        "encryption": ml.EncryptionPropertyArgs(
            status=ml.EncryptionStatus.ENABLED,
            key_vault_properties=ml.KeyVaultPropertiesArgs(key_vault_arm_id=key.vault_id,
                                                           key_identifier=key.key_identifier),
            identity=ml.IdentityForCmkArgs(user_assigned_identity=key.identity_id),
        ),
        "enable_service_side_cmk_encryption": True,
    }
