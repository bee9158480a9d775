"""The Azure Machine Learning workspace, linked to its storage, key vault, registry and App Insights.

It runs as a user-assigned identity (which must hold its roles before the
workspace is created), authenticates to its system datastores with that
identity rather than account keys, and takes its network posture from the
stack: public behind the allow-list (dev), private, or the AML managed VNet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from .common import Common, PropsError, add_diagnostics, add_lock, add_role_assignments, check_name, resource_opts

ISOLATION_MODES = ("AllowInternetOutbound", "AllowOnlyApprovedOutbound")


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
    # Resources that must exist first (the identity's role assignments).
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_name("workspace", self.name)
        if self.managed_network is not None and self.managed_network not in ISOLATION_MODES:
            raise PropsError(f"managed network isolation mode must be one of {ISOLATION_MODES}")


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
            sku=ml.SkuArgs(name="Basic", tier="Basic"),
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
            tags=c.tags,
            opts=resource_opts(self, c, stateful=True, depends_on=list(props.depends_on)),
        )

        add_diagnostics(self, name, self.workspace.id, c.diagnostic_settings)
        self.role_assignments = add_role_assignments(self, name, self.workspace.id, c)
        add_lock(self, name, self.workspace.id, c, "machine learning workspace")

        self.id = self.workspace.id
        self.name = self.workspace.name
        self.mlflow_tracking_uri = self.workspace.ml_flow_tracking_uri
        self.register_outputs({"id": self.id, "name": self.name, "mlflow_tracking_uri": self.mlflow_tracking_uri})
