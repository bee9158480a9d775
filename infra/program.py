"""The platform, wired from the stack's config: one call builds a whole environment.

Order follows Azure's: resource group, monitoring, the workspace identity,
the stores it needs (each granting the identity its roles), then the
workspace, which waits for those grants.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization, resources

from . import config as config_mod
from .components.common import Common, DiagnosticSettings, PrivateEndpoints, PropsError, RoleAssignment
from .components.identity import IdentityComponent, IdentityProps
from .components.keyvault import KeyVaultComponent, KeyVaultProps
from .components.monitor_private_link import MonitorPrivateLinkComponent, MonitorPrivateLinkProps
from .components.monitoring import MonitoringComponent, MonitoringProps
from .components.network import NetworkComponent, NetworkProps
from .components.registry import RegistryComponent, RegistryProps
from .components.storage import StorageComponent, StorageProps
from .components.workspace import OutboundRule, WorkspaceComponent, WorkspaceProps
from .naming import Names



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
            private_ingestion=cfg.network.monitor_private_link,
        ),
    )
    diagnostics = DiagnosticSettings(workspace_id=monitoring.log_analytics_id)

    net = network_for(cfg, names, common(diagnostic_settings=diagnostics))
    endpoints = (
        PrivateEndpoints(subnet_id=net.subnet_ids["privateEndpoints"], zone_ids=net.zone_ids) if net else None
    )
    if cfg.network.monitor_private_link:
        MonitorPrivateLinkComponent(
            "monitor-link",
            MonitorPrivateLinkProps(
                common(private_endpoints=endpoints),
                name=names.private_link_scope,
                log_analytics_id=monitoring.log_analytics_id,
                app_insights_id=monitoring.app_insights_id,
            ),
        )

    store = StorageComponent(
        "storage",
        StorageProps(
            common(
                diagnostic_settings=diagnostics,
                private_endpoints=endpoints,
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
                private_endpoints=endpoints,
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
                private_endpoints=endpoints,
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
            common(diagnostic_settings=diagnostics, private_endpoints=endpoints),
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
            managed_network=cfg.network.isolation_mode if cfg.network.mode == "managed" else None,
            outbound_rules=outbound_rules(cfg, store.id) if cfg.network.mode == "managed" else [],
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
    if net is not None:
        outputs["vnetId"] = net.id
    for key, value in outputs.items():
        pulumi.export(key, value)
    return outputs


def network_for(cfg: config_mod.StackConfig, names: Names, common: Common) -> NetworkComponent | None:
    """The stack's VNet in private and managed mode (managed: for inbound private endpoints only)."""
    n = cfg.network
    if n.mode == "public":
        return None
    subnets = {
        (info.alias or field): getattr(n.subnets, field)
        for field, info in type(n.subnets).model_fields.items()
        if getattr(n.subnets, field)
    }
    return NetworkComponent(
        "network",
        NetworkProps(
            common,
            vnet_name=names.vnet,
            address_space=n.address_space,
            subnets=subnets,
            egress=n.egress or "none",
            firewall_ip=n.firewall_ip,
            dns=n.dns,
            dns_zone_ids=n.dns_zone_ids,
            hub_vnet_id=n.hub.vnet_id if n.hub else None,
            deny_internet_outbound=n.internet_outbound == "deny",
            monitor_private_link=n.monitor_private_link,
        ),
    )


def outbound_rules(cfg: config_mod.StackConfig, storage_id: pulumi.Input[str]) -> list[OutboundRule]:
    """Managed-VNet rules: the data lake endpoint AML does not add itself, then the stack's own rules.

    AML creates the required private endpoints to the workspace's storage (blob, file), key
    vault and registry as system rules; ADLS Gen2 access (dfs) is ours to add."""
    rules = [OutboundRule("pe-storage-dfs", "PrivateEndpoint", destination=storage_id, subresource="dfs")]
    for r in cfg.network.outbound_rules:
        rules.append(
            OutboundRule(
                r.name,
                r.type,
                destination=r.destination if r.type == "FQDN" else r.resource_id,
                subresource=r.subresource,
                service_tag=r.service_tag,
                protocol=r.protocol,
                port_ranges=r.port_ranges,
            )
        )
    return rules


def main() -> None:
    """Entry point under the pulumi CLI: user mistakes end the run without a traceback."""
    try:
        cfg = config_mod.from_pulumi()
        build(cfg)
    except (config_mod.ConfigError, PropsError) as exc:
        raise pulumi.RunError(str(exc)) from None
