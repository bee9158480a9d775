"""The platform, wired from the stack's config: one call builds a whole environment.

Order follows Azure's: resource group, identities, monitoring, the network,
the stores (each granting the identities their roles and getting its private
endpoints), a pause for role propagation, the workspace, then people's access.
"""

from __future__ import annotations

import pulumi
import pulumiverse_time as time
from pulumi_azure_native import authorization, resources

from . import config as config_mod
from .assets import stack as assets_stack
from .components.access import AccessComponent, AccessProps, Grantee, Team
from .components.assets import AssetsComponent, AssetsProps, TeamDatastore, Uploader
from .components.common import Common, DiagnosticSettings, PrivateEndpoints, PropsError, RoleAssignment
from .components.compute import Attach, Cluster, ComputeComponent, ComputeProps, Instance
from .components.inference import InferenceComponent, InferenceProps, InstanceType
from .components.identity import IdentityComponent, IdentityProps
from .components.keyvault import KeyVaultComponent, KeyVaultProps
from .components.monitor_private_link import MonitorPrivateLinkComponent, MonitorPrivateLinkProps
from .components.monitoring import MonitoringComponent, MonitoringProps
from .components.network import NetworkComponent, NetworkProps
from .components.registry import RegistryComponent, RegistryProps
from .components.storage import StorageComponent, StorageProps
from .components.workspace import OutboundRule, WorkspaceComponent, WorkspaceProps
from .naming import Names
from .paths import REPO_ROOT


def platform_tags(cfg: config_mod.StackConfig) -> dict[str, str]:
    return {
        **cfg.platform.tags,
        "environment": cfg.platform.environment,
        "managed-by": "pulumi",
        "project": "amlplatform",
    }


def _grant(identity: IdentityComponent, who: str, key: str, role: str) -> RoleAssignment:
    return RoleAssignment(key=f"{who}-{key}", role=role, principal_id=identity.principal_id,
                          principal_type="ServicePrincipal", description=f"AML {who} identity: {role}")


def build(cfg: config_mod.StackConfig) -> dict[str, pulumi.Output]:
    """Declare every resource of the stack; returns the stack outputs (also exported)."""
    names = Names.for_stack(cfg.platform.prefix, cfg.platform.environment, cfg.platform.subscription_id)
    problems = names.violations()
    if problems:
        raise config_mod.ConfigError(f"{cfg.source}: amlplatform:platform.prefix: {'; '.join(problems)}")

    # Seeded assets are read and checked (schema, references, lock) before any resource is declared.
    seeded = assets_stack.load_for_stack(cfg, names)

    client = authorization.get_client_config_output()
    public = cfg.network.mode == "public"
    allowed = cfg.network.allowed_ip_ranges if public else []
    tags = platform_tags(cfg)

    rg = resources.ResourceGroup(
        "rg",
        resource_group_name=names.resource_group,
        location=cfg.platform.location,
        tags=tags,
        opts=pulumi.ResourceOptions(protect=cfg.protection.protect),
    )

    def common(**kw) -> Common:
        return Common(
            resource_group_name=rg.name,
            location=cfg.platform.location,
            subscription_id=client.subscription_id,
            tags=tags,
            lock=cfg.protection.locks,
            protect=cfg.protection.protect,
            **kw,
        )

    # Two identities: the workspace's, and the one jobs run as (only data-plane roles, never
    # Owner or Contributor). The workspace identity's set is Azure ML's documented one for a
    # user-assigned workspace identity: Contributor on each linked resource (never the group)
    # plus the data roles that let it work without keys.
    ws_id = IdentityComponent("workspace-identity", IdentityProps(common(), names.identity("workspace")))
    job_id = IdentityComponent("compute-identity", IdentityProps(common(), names.identity("compute")))

    monitoring = MonitoringComponent(
        "monitoring",
        MonitoringProps(
            common(role_assignments=[_grant(ws_id, "workspace", "contributor", "Contributor")]),
            log_analytics_name=names.log_analytics,
            app_insights_name=names.app_insights,
            retention_days=cfg.monitoring.retention_days,
            app_insights_local_auth=cfg.monitoring.app_insights_local_auth,
            private_ingestion=cfg.network.monitor_private_link,
        ),
    )
    diagnostics = DiagnosticSettings(workspace_id=monitoring.log_analytics_id)

    net = network_for(cfg, names, common(diagnostic_settings=diagnostics))
    training_subnet = net.subnet_ids.get("training") if net else None
    endpoints = (
        PrivateEndpoints(subnet_id=net.subnet_ids["privateEndpoints"], zone_ids=net.zone_ids) if net else None
    )
    monitor_link = None
    if cfg.network.monitor_private_link:
        monitor_link = MonitorPrivateLinkComponent(
            "monitor-link",
            MonitorPrivateLinkProps(
                common(private_endpoints=endpoints),
                name=names.private_link_scope,
                log_analytics_id=monitoring.log_analytics_id,
                app_insights_id=monitoring.app_insights_id,
            ),
        )

    def stores(*grants: RoleAssignment) -> Common:
        return common(diagnostic_settings=diagnostics, private_endpoints=endpoints, role_assignments=list(grants))

    store = StorageComponent(
        "storage",
        StorageProps(
            stores(
                _grant(ws_id, "workspace", "contributor", "Contributor"),
                _grant(ws_id, "workspace", "blob-data", "Storage Blob Data Contributor"),
                # Jobs write to the workspace's default datastore, whose container AML names itself.
                _grant(job_id, "compute", "blob-data", "Storage Blob Data Contributor"),
            ),
            name=names.storage,
            replication=cfg.storage.replication,
            public_network_access=public,
            allowed_ip_ranges=allowed,
            containers=[c for team in cfg.teams.values() for c in team.containers],
        ),
    )
    vault = KeyVaultComponent(
        "keyvault",
        KeyVaultProps(
            stores(
                _grant(ws_id, "workspace", "contributor", "Contributor"),
                _grant(ws_id, "workspace", "kv-admin", "Key Vault Administrator"),
                _grant(job_id, "compute", "secrets-user", "Key Vault Secrets User"),
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
            stores(
                _grant(ws_id, "workspace", "contributor", "Contributor"),
                _grant(job_id, "compute", "acr-pull", "AcrPull"),
            ),
            name=names.registry,
            sku=cfg.registry.sku,
            public_network_access=public,
            zone_redundancy=cfg.registry.zone_redundancy,
            quarantine=cfg.registry.quarantine,
            allowed_ip_ranges=allowed,
        ),
    )

    # Azure checks the workspace identity's access when the workspace is created, and new
    # grants take a while to reach the resource providers: wait after them, then create it.
    grants = [*monitoring.role_assignments, *store.role_assignments, *vault.role_assignments,
              *registry.role_assignments]
    wait_seconds = cfg.rbac.role_propagation_seconds if cfg.rbac else 60
    propagation = time.Sleep(
        "role-propagation",
        create_duration=f"{wait_seconds}s",
        opts=pulumi.ResourceOptions(depends_on=grants),
    )

    workspace = WorkspaceComponent(
        "workspace",
        WorkspaceProps(
            common(diagnostic_settings=diagnostics, private_endpoints=endpoints),
            name=names.workspace,
            identity_id=ws_id.id,
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
            serverless_subnet_id=training_subnet if cfg.compute.serverless else None,
            image_build_compute=cfg.compute.clusters[0].name if training_subnet is not None and cfg.compute.clusters
            else None,
            depends_on=[propagation],
        ),
    )

    compute = ComputeComponent(
        "compute",
        ComputeProps(
            common(),
            workspace_name=workspace.name,
            identity_id=job_id.id,
            tenant_id=client.tenant_id,
            subnet_id=training_subnet,
            clusters=[
                Cluster(c.name, c.vm_size, c.priority or "Dedicated", c.min_nodes, c.max_nodes or 1,
                        c.idle_minutes_before_scale_down)
                for c in cfg.compute.clusters or []
            ],
            instances=instances_for(cfg, names),
            attach=[
                Attach(a.name, a.type, a.resource_id, a.workspace_url,
                       secret("databricksAccessToken") if a.type == "Databricks" else None)
                for a in cfg.compute.attach
            ],
        ),
    )

    if cfg.aks.enabled and net is not None:
        k = cfg.aks
        certificate = k.tls.mode == "certificate"
        InferenceComponent(
            "inference",
            InferenceProps(
                common(diagnostic_settings=diagnostics),
                cluster_name=names.aks,
                identity_name=names.identity("aks"),
                compute_name="aks-inference",
                workspace_name=workspace.name,
                subnet_id=net.subnet_ids["scoring"],
                log_analytics_id=monitoring.log_analytics_id,
                tenant_id=client.tenant_id,
                egress=cfg.network.egress or "none",
                system_vm_size=k.system_pool.vm_size,
                system_count=k.system_pool.count or 1,
                inference_vm_size=k.inference_pool.vm_size,
                inference_min=k.inference_pool.min_count or 0,
                inference_max=k.inference_pool.max_count or 1,
                max_pods=k.max_pods,
                network_plugin_mode=k.network_plugin_mode,
                pod_cidr=k.pod_cidr,
                service_cidr=k.service_cidr,
                dns_service_ip=k.dns_service_ip,
                zones=k.zones or [],
                kubernetes_version=k.kubernetes_version,
                upgrade_channel=k.upgrade_channel,
                admin_group_ids=[cfg.rbac.platform_owners.object_id] if cfg.rbac else [],
                tls_mode=k.tls.mode,
                tls_cname=k.tls.cname,
                tls_cert_pem=secret("aksTlsCertPem") if certificate else None,
                tls_key_pem=secret("aksTlsKeyPem") if certificate else None,
                namespace=k.namespace,
                create_namespace=k.create_namespace,
                cluster_purpose=k.cluster_purpose or "FastProd",
                instance_types={n: InstanceType(t.cpu, t.memory, t.cpu_limit, t.memory_limit, t.gpu)
                                for n, t in k.instance_types.items()},
                default_instance_type=k.default_instance_type,
                workspace_principal_id=ws_id.principal_id,
                registry_id=registry.id,
                compute_identity_name=names.identity("inference"),
                role_propagation_seconds=wait_seconds,
                encryption_at_host=k.encryption_at_host,
                private_link_scope_name=monitor_link.scope.name if monitor_link else None,
            ),
        )

    AccessComponent(
        "access",
        AccessProps(
            common(),
            stack_label=names.base,
            resource_group_id=rg.id,
            workspace_id=workspace.id,
            container_ids={name: c.id for name, c in store.containers.items()},
            platform_owners=_grantee(cfg.rbac.platform_owners) if cfg.rbac else None,
            deployment=_grantee(cfg.rbac.deployment) if cfg.rbac and cfg.rbac.deployment else None,
            teams=[
                Team(name, [(key, _grantee(p)) for key, p in team.grants()], team.containers)
                for name, team in cfg.teams.items()
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
        "workspaceIdentityId": ws_id.id,
        "workspaceIdentityPrincipalId": ws_id.principal_id,
        "computeIdentityId": job_id.id,
        "computeIdentityClientId": job_id.client_id,
        # The subscription features the stack states are registered (platform.registeredFeatures);
        # the Azure rule azure-required-feature-registrations compares them with what the plan needs.
        "registeredFeatures": pulumi.Output.from_input(sorted(cfg.platform.registered_features)),
    }
    if net is not None:
        outputs["vnetId"] = net.id
    if seeded is not None:
        assets = AssetsComponent(
            "assets",
            AssetsProps(
                common(),
                assets=seeded,
                repo_root=cfg.root or REPO_ROOT,
                workspace_name=workspace.name,
                workspace_id=workspace.id,
                workspace_guid=workspace.workspace.workspace_id,
                resource_group=names.resource_group,
                storage_account_name=names.storage,
                storage_account_id=store.id,
                computes=assets_stack.computes_for(cfg, names),
                schedules_enabled=bool(cfg.assets.schedules_enabled),
                team_datastores=[TeamDatastore(n, c, t) for n, (t, c) in assets_stack.team_datastore_names(cfg).items()],
                team_containers=[c for team in cfg.teams.values() for c in team.containers],
                uploader=Uploader(cfg.rbac.deployment.object_id, cfg.rbac.deployment.type)
                if cfg.rbac and cfg.rbac.deployment else None,
                schedule_depends_on=[compute],
            ),
        )
        outputs["seededAssets"] = pulumi.Output.from_input(sorted(assets.seeded))
    for key, value in outputs.items():
        pulumi.export(key, value)
    return outputs


def secret(key: str) -> pulumi.Output[str]:
    """A secret from `pulumi config set --secret amlplatform:<key>` (stays encrypted in state)."""
    return pulumi.Config(config_mod.NAMESPACE).require_secret(key)


def instances_for(cfg: config_mod.StackConfig, names: Names) -> list[Instance]:
    """One personal compute instance per team member (or per listed user) when instances are on."""
    inst = cfg.compute.instances
    if not inst.enabled:
        return []
    members = list(dict.fromkeys(m for team in cfg.teams.values() for m in team.members))
    users = inst.users if inst.users is not None else members
    sched = inst.schedule
    return [
        Instance(names.instance(user), user, inst.vm_size, inst.idle_shutdown_minutes or 60,
                 sched.start if sched else None, sched.stop if sched else None, sched.time_zone if sched else "UTC")
        for user in users
    ]


def _grantee(p: config_mod.Principal) -> Grantee:
    return Grantee(object_id=p.object_id, type=p.type)


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
