"""The platform, wired from the stack's config: one call builds a whole environment.

Order follows Azure's: resource group, monitoring, the workspace identity,
the stores it needs (each granting the identity its roles), then the
workspace, which waits for those grants.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization, resources

from . import config as config_mod
from .components.common import Common, DiagnosticSettings, PropsError, RoleAssignment
from .components.identity import IdentityComponent, IdentityProps
from .components.keyvault import KeyVaultComponent, KeyVaultProps
from .components.monitoring import MonitoringComponent, MonitoringProps
from .components.registry import RegistryComponent, RegistryProps
from .components.storage import StorageComponent, StorageProps
from .components.workspace import WorkspaceComponent, WorkspaceProps
from .naming import Names

ISOLATION = {"managed": "AllowOnlyApprovedOutbound"}


def platform_tags(cfg: config_mod.StackConfig) -> dict[str, str]:
    return {
        **cfg.platform.tags,
        "environment": cfg.platform.environment,
        "managed-by": "pulumi",
        "project": "amlplatform",
    }


def build(cfg: config_mod.StackConfig) -> dict[str, pulumi.Output]:
    """Declare every resource of the stack; returns the stack outputs (also exported)."""
    names = Names.for_stack(cfg.platform.prefix, cfg.platform.environment, cfg.platform.subscription_id)
    problems = names.violations()
    if problems:
        raise config_mod.ConfigError(f"{cfg.source}: amlplatform:platform.prefix: {'; '.join(problems)}")

    client = authorization.get_client_config_output()
    public = cfg.network.mode == "public"
    allowed = cfg.network.allowed_ip_ranges if public else []
    tags = platform_tags(cfg)
    stateful = cfg.protection.protect

    rg = resources.ResourceGroup(
        "rg",
        resource_group_name=names.resource_group,
        location=cfg.platform.location,
        tags=tags,
        opts=pulumi.ResourceOptions(protect=stateful),
    )

    def common(**kw) -> Common:
        return Common(
            resource_group_name=rg.name,
            location=cfg.platform.location,
            subscription_id=client.subscription_id,
            tags=tags,
            lock=cfg.protection.locks,
            protect=stateful,
            **kw,
        )

    monitoring_identity_grants: list[RoleAssignment] = []
    identity = IdentityComponent("identity", IdentityProps(common(), names.identity("workspace")))
    principal = identity.principal_id

    def grant(key: str, role: str) -> RoleAssignment:
        return RoleAssignment(
            key=key,
            role=role,
            principal_id=principal,
            principal_type="ServicePrincipal",
            description=f"AML workspace identity: {role}",
        )

    # The workspace's identity needs control of its linked resources (Contributor on
    # each resource, never the group) plus the data roles that let it read and write
    # without keys: Azure ML's documented set for a user-assigned workspace identity.
    monitoring_identity_grants.append(grant("workspace-contributor", "Contributor"))
    monitoring = MonitoringComponent(
        "monitoring",
        MonitoringProps(
            common(role_assignments=monitoring_identity_grants),
            log_analytics_name=names.log_analytics,
            app_insights_name=names.app_insights,
            retention_days=cfg.monitoring.retention_days,
            app_insights_local_auth=cfg.monitoring.app_insights_local_auth,
        ),
    )
    diagnostics = DiagnosticSettings(workspace_id=monitoring.log_analytics_id)

    store = StorageComponent(
        "storage",
        StorageProps(
            common(
                diagnostic_settings=diagnostics,
                role_assignments=[
                    grant("workspace-contributor", "Contributor"),
                    grant("workspace-blob-data", "Storage Blob Data Contributor"),
                ],
            ),
            name=names.storage,
            replication=cfg.storage.replication,
            public_network_access=public,
            allowed_ip_ranges=allowed,
        ),
    )
    vault = KeyVaultComponent(
        "keyvault",
        KeyVaultProps(
            common(
                diagnostic_settings=diagnostics,
                role_assignments=[
                    grant("workspace-contributor", "Contributor"),
                    grant("workspace-kv-admin", "Key Vault Administrator"),
                ],
            ),
            name=names.key_vault,
            tenant_id=client.tenant_id,
            sku=cfg.key_vault.sku,
            public_network_access=public,
            allowed_ip_ranges=allowed,
            soft_delete_retention_days=cfg.key_vault.soft_delete_retention_days,
        ),
    )
    registry = RegistryComponent(
        "registry",
        RegistryProps(
            common(
                diagnostic_settings=diagnostics,
                role_assignments=[grant("workspace-contributor", "Contributor")],
            ),
            name=names.registry,
            sku=cfg.registry.sku,
            public_network_access=public,
            zone_redundancy=cfg.registry.zone_redundancy,
            quarantine=cfg.registry.quarantine,
            allowed_ip_ranges=allowed,
        ),
    )

    workspace = WorkspaceComponent(
        "workspace",
        WorkspaceProps(
            common(diagnostic_settings=diagnostics),
            name=names.workspace,
            identity_id=identity.id,
            storage_account_id=store.id,
            key_vault_id=vault.id,
            container_registry_id=registry.id,
            application_insights_id=monitoring.app_insights_id,
            public_network_access=public,
            hbi=cfg.workspace.hbi,
            friendly_name=cfg.workspace.friendly_name,
            description=cfg.workspace.description,
            managed_network=ISOLATION.get(cfg.network.mode),
            depends_on=[
                *monitoring.role_assignments,
                *store.role_assignments,
                *vault.role_assignments,
                *registry.role_assignments,
            ],
        ),
    )

    outputs: dict[str, pulumi.Output] = {
        "resourceGroupName": rg.name,
        "workspaceName": workspace.name,
        "workspaceId": workspace.id,
        "studioUrl": pulumi.Output.all(workspace.id, client.tenant_id).apply(
            lambda a: f"https://ml.azure.com/?wsid={a[0]}&tid={a[1]}"
        ),
        "mlflowTrackingUri": workspace.mlflow_tracking_uri,
        "storageAccountId": store.id,
        "keyVaultId": vault.id,
        "containerRegistryId": registry.id,
        "logAnalyticsWorkspaceId": monitoring.log_analytics_id,
        "applicationInsightsId": monitoring.app_insights_id,
        "workspaceIdentityId": identity.id,
        "workspaceIdentityPrincipalId": identity.principal_id,
    }
    for key, value in outputs.items():
        pulumi.export(key, value)
    return outputs


def main() -> None:
    """Entry point under the pulumi CLI: user mistakes end the run without a traceback."""
    try:
        cfg = config_mod.from_pulumi()
        build(cfg)
    except (config_mod.ConfigError, PropsError) as exc:
        raise pulumi.RunError(str(exc)) from None
