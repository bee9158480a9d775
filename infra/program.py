"""The platform, wired from the stack's config: one call builds a whole environment.

Order follows Azure's: resource group, identities, monitoring, the network,
the key vault and, with customer-managed keys, its keys, their grants and a
pause (the other stores are created with them), the stores (each granting the
identities their roles and getting its private endpoints), a pause for role
propagation, the workspace, then people's access.

Two storage accounts: the workspace's own (flat: Azure ML refuses a default
storage with a hierarchical namespace) and the teams' data lake (ADLS Gen2),
hardened alike by the same component.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import pulumi
import pulumiverse_time as time
from pulumi_azure_native import authorization, resources

from infra.config import stack as config_mod
from infra.config import team_stack as config_team
from infra.seeding import stack as assets_stack
from infra.access_grants import TEAM_ROLE_NAMES
from infra.components.access import AccessComponent, AccessProps, Grantee, Team
from infra.seeding.components import AssetsComponent, AssetsProps, TeamDatastore, Uploader
from infra.components.common import (
    Common,
    DiagnosticSettings,
    ManagedIdentities,
    PrivateEndpoints,
    PropsError,
    RoleAssignment,
    stack_lock,
)
from infra.components.compute import Attach, Cluster, ComputeComponent, ComputeProps, Instance
from infra.components.flow_logs import FlowLogsComponent, FlowLogsProps
from infra.components.inference import InferenceComponent, InferenceProps, InstanceType, MaintenanceWindow
from infra.components.identity import IdentityComponent, IdentityProps
from infra.components.keyvault import KeyVaultComponent, KeyVaultProps
from infra.components.monitor_private_link import MonitorPrivateLinkComponent, MonitorPrivateLinkProps
from infra.components.monitoring import MonitoringComponent, MonitoringProps
from infra.components.network import NetworkComponent, NetworkProps
from infra.components.endpoints import EndpointGrant, EndpointsComponent, EndpointsProps
from infra.components.registry import RegistryComponent, RegistryProps
from infra.components.registry_link import RULES as REGISTRY_LINK_RULES
from infra.components.registry_link import RegistryLinkComponent, RegistryLinkProps
from infra.components.storage import StorageComponent, StorageProps
from infra.components.workspace import OutboundRule, WorkspaceComponent, WorkspaceProps
from infra.encryption import customer_managed_keys
from infra.naming import Names
from infra.paths import REPO_ROOT
from infra.platform_outputs import PlatformOutputs, instance_settings_output
from infra.topology import (COMPUTE_IDENTITY, ENDPOINTS_IDENTITY, INSTANCE_IDENTITY, WORKSPACE_IDENTITY,
                            Topology)
from infra.azure_facts.roles import role_definition_id


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


# The platform's own managed-network outbound rules (names a stack's outboundRules may not reuse).
LAKE_RULES = {"pe-lake-blob": "blob", "pe-lake-dfs": "dfs"}
# Dev's stores stay public behind their firewalls, and with AllowInternetOutbound Azure ML adds private
# endpoints only to associated resources whose public network access is disabled: the managed VNet
# reaches the workspace storage and key vault through these (the Basic registry has no firewall).
PUBLIC_STORE_RULES = {"pe-storage-blob": "blob", "pe-storage-file": "file", "pe-vault": "vault"}


def names_for(cfg: config_mod.StackConfig, subscription_id: str) -> Names:
    """The stack's names, with global names unique to the subscription the credentials resolve to."""
    if cfg.platform.subscription_id and cfg.platform.subscription_id != subscription_id.lower():
        raise config_mod.ConfigError(
            f"{cfg.source}: amlplatform:platform.subscriptionId: {cfg.platform.subscription_id} is not the "
            f"subscription of the Azure credentials this runs with ({subscription_id}); select it (az account set "
            "--subscription, or ARM_SUBSCRIPTION_ID) or correct the key")
    names = Names.for_stack(cfg.platform.prefix, cfg.platform.environment, subscription_id, cfg.platform.generation)
    problems = names.violations()
    if problems:
        raise config_mod.ConfigError(f"{cfg.source}: amlplatform:platform.prefix: {'; '.join(problems)}")
    return names


def build(cfg: config_mod.StackConfig) -> dict[str, pulumi.Input[Any]]:
    """Declare every resource of the stack; returns the stack outputs (also exported)."""
    # A plain invoke before any resource: the deployment's own subscription and tenant, as values.
    client = authorization.get_client_config()
    names = names_for(cfg, client.subscription_id)

    # Seeded assets are read and checked (schema, references, lock) before any resource is declared.
    seeded = assets_stack.load_for_stack(cfg, names)

    topo = Topology.of(cfg)
    public = topo.public
    isolation = topo.isolation
    allowed = list(topo.allowed_ip_ranges)
    tags = platform_tags(cfg)

    rg = resources.ResourceGroup(
        "rg",
        resource_group_name=names.resource_group,
        location=cfg.platform.location,
        tags=tags,
        opts=pulumi.ResourceOptions(protect=cfg.protection.protect),
    )

    # Where every component goes; each one then gets only the shared settings it supports (Component.SUPPORTS).
    placement = Common(resource_group_name=rg.name, location=cfg.platform.location,
                       subscription_id=client.subscription_id)
    lock = stack_lock(cfg.protection.locks)

    def common(**kw) -> Common:
        return dataclasses.replace(placement, tags=tags, **kw)

    def stateful(**kw) -> Common:
        return common(protect=cfg.protection.protect, **kw)

    # The workspace's identity, and the one jobs run as (only data-plane roles, never Owner or
    # Contributor). The workspace identity's set is Azure ML's documented one for a user-assigned
    # workspace identity: Contributor on the workspace and each linked resource (never the group)
    # plus the data roles that let it work without keys (how-to-identity-based-service-authentication).
    ws_id = IdentityComponent(WORKSPACE_IDENTITY, IdentityProps(common(), names.identity("workspace")))
    job_id = IdentityComponent(COMPUTE_IDENTITY, IdentityProps(common(), names.identity("compute")))
    # Compute instances get their own: idle shutdown works only when the instance's identity holds
    # Contributor on the workspace (how-to-create-compute-instance#assign-managed-identity), a role
    # the identity every cluster job runs as must not have.
    # It exists whenever instances are on, so team stacks' members get instances too (infra/team_program.py).
    instances = instances_for(cfg, names)
    ci_id = IdentityComponent(INSTANCE_IDENTITY, IdentityProps(common(), names.identity("instance"))) \
        if cfg.compute.instances.enabled else None

    monitoring = MonitoringComponent(
        "monitoring",
        MonitoringProps(
            stateful(lock=lock, role_assignments=[_grant(ws_id, "workspace", "contributor", "Contributor")]),
            log_analytics_name=names.log_analytics,
            app_insights_name=names.app_insights,
            retention_days=cfg.monitoring.retention_days,
            app_insights_local_auth=cfg.monitoring.app_insights_local_auth,
            private_ingestion=cfg.network.monitor_private_link,
        ),
    )
    diagnostics = DiagnosticSettings(workspace_id=monitoring.log_analytics_id)

    net = network_for(cfg, topo, names, common(diagnostic_settings=diagnostics))
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

    def stores(*grants: RoleAssignment, **kw) -> Common:
        return stateful(diagnostic_settings=diagnostics, private_endpoints=endpoints, role_assignments=list(grants),
                        **kw)

    def instance(key: str, role: str) -> list[RoleAssignment]:
        return [_grant(ci_id, "instance", key, role)] if ci_id else []

    wait_seconds = cfg.rbac.role_propagation_seconds if cfg.rbac else 60
    # The vault first: with customer-managed keys the stores below are created with its keys.
    vault = KeyVaultComponent(
        "keyvault",
        KeyVaultProps(
            stores(
                _grant(ws_id, "workspace", "contributor", "Contributor"),
                _grant(ws_id, "workspace", "kv-admin", "Key Vault Administrator"),
                _grant(job_id, "compute", "secrets-user", "Key Vault Secrets User"),
                *instance("secrets-user", "Key Vault Secrets User"),
                lock=lock,
            ),
            name=names.key_vault,
            tenant_id=client.tenant_id,
            sku=cfg.key_vault.sku,
            public_network_access=public,
            allowed_ip_ranges=allowed,
            soft_delete_retention_days=cfg.key_vault.soft_delete_retention_days,
        ),
    )
    cmk = customer_managed_keys(cfg, names, stateful(lock=lock), vault, ws_id, wait_seconds)
    keys_ready = [cmk.ready] if cmk else []

    store = StorageComponent(
        "storage",
        StorageProps(
            stores(
                _grant(ws_id, "workspace", "contributor", "Contributor"),
                _grant(ws_id, "workspace", "blob-data", "Storage Blob Data Contributor"),
                # Jobs write to the workspace's default datastore, whose container AML names itself.
                _grant(job_id, "compute", "blob-data", "Storage Blob Data Contributor"),
                *instance("blob-data", "Storage Blob Data Contributor"),
                customer_managed_key=cmk.key("storage") if cmk else None,
            ),
            name=names.storage,
            replication=cfg.storage.replication,
            public_network_access=public,
            allowed_ip_ranges=allowed,
            depends_on=keys_ready,
        ),
    )
    lake = StorageComponent(
        "datalake",
        StorageProps(
            stores(
                # Jobs read team data as the compute identity when no user identity is set (scheduled
                # pipelines have none); their outputs go to the workspace's default datastore, so read only.
                _grant(job_id, "compute", "blob-data-reader", "Storage Blob Data Reader"),
                # The managed VNet's private endpoints to the lake are approved by the workspace identity
                # (how-to-managed-network: a UAI workspace needs this role on the target).
                *([_grant(ws_id, "workspace", "pe-approver", "Azure AI Enterprise Network Connection Approver")]
                  if isolation else []),
                customer_managed_key=cmk.key("datalake") if cmk else None,
            ),
            name=names.data_lake,
            replication=cfg.storage.replication,
            public_network_access=public,
            allowed_ip_ranges=allowed,
            data_lake=True,
            containers=[c for team in cfg.teams.values() for c in team.containers],
            depends_on=keys_ready,
        ),
    )
    registry = RegistryComponent(
        "registry",
        RegistryProps(
            stores(
                _grant(ws_id, "workspace", "contributor", "Contributor"),
                _grant(job_id, "compute", "acr-pull", "AcrPull"),
                *instance("acr-pull", "AcrPull"),
                lock=lock,
                customer_managed_key=cmk.key("registry") if cmk else None,
            ),
            name=names.registry,
            sku=cfg.registry.sku,
            public_network_access=public,
            zone_redundancy=cfg.registry.zone_redundancy,
            quarantine=cfg.registry.quarantine,
            allowed_ip_ranges=allowed,
            depends_on=keys_ready,
        ),
    )

    if net is not None and cfg.network.stack_flow_logs:
        flow_logs_for(cfg, names, net, monitoring,
                      stores(customer_managed_key=cmk.key("flowlogs") if cmk else None), wait_seconds, keys_ready)

    # Azure checks the workspace identity's access when the workspace is created, and new
    # grants take a while to reach the resource providers: wait after them, then create it.
    grants = [*monitoring.role_assignments, *store.role_assignments, *lake.role_assignments,
              *vault.role_assignments, *registry.role_assignments]
    propagation = time.Sleep(
        "role-propagation",
        create_duration=f"{wait_seconds}s",
        opts=pulumi.ResourceOptions(depends_on=grants),
    )

    workspace = WorkspaceComponent(
        "workspace",
        WorkspaceProps(
            stateful(
                diagnostic_settings=diagnostics,
                private_endpoints=endpoints,
                role_assignments=[
                    # The workspace identity's documented role on the workspace itself.
                    _grant(ws_id, "workspace", "contributor", "Contributor"),
                    *instance("contributor", "Contributor"),
                ],
                managed_identities=ManagedIdentities(user_assigned_resource_ids=[ws_id.id]),
                customer_managed_key=cmk.key("workspace") if cmk else None,
            ),
            name=names.workspace,
            storage_account_id=store.id,
            key_vault_id=vault.id,
            container_registry_id=registry.id,
            application_insights_id=monitoring.app_insights_id,
            public_network_access=public,
            hbi=cfg.workspace.hbi,
            friendly_name=cfg.workspace.friendly_name,
            description=cfg.workspace.description,
            managed_network=isolation,
            outbound_rules=(outbound_rules(cfg, topo, lake.id, store.id, vault.id) + registry_rules(cfg, client.subscription_id)
                            if isolation else []),
            serverless_subnet_id=training_subnet if cfg.compute.serverless else None,
            image_build_compute=cfg.compute.clusters[0].name if training_subnet is not None and cfg.compute.clusters
            else None,
            depends_on=[propagation, *keys_ready],
        ),
    )

    compute = ComputeComponent(
        "compute",
        ComputeProps(
            common(),
            workspace_name=workspace.name,
            identity_id=job_id.id,
            instance_identity_id=ci_id.id if ci_id else None,
            tenant_id=client.tenant_id,
            subnet_id=training_subnet,
            clusters=clusters_for(cfg),
            instances=instances,
            attach=[
                Attach(a.name, a.type, a.resource_id, a.workspace_url,
                       secret("databricksAccessToken") if a.type == "Databricks" else None)
                for a in cfg.compute.attach
            ],
        ),
    )

    inference = None
    if topo.inference_compute is not None and net is not None:
        k = cfg.aks
        certificate = k.tls.mode == "certificate"
        # Resolved by the config once AKS is on: the pools' counts (AksConfig) and the egress (NetworkConfig).
        assert k.system_pool.count is not None and cfg.network.egress is not None
        assert k.inference_pool.min_count is not None and k.inference_pool.max_count is not None
        inference = InferenceComponent(
            "inference",
            InferenceProps(
                common(diagnostic_settings=diagnostics,
                       customer_managed_key=cmk.key("kms") if cmk and "kms" in cmk.keys else None),
                cluster_name=names.aks,
                identity_name=names.identity("aks"),
                compute_name=topo.inference_compute,
                workspace_name=workspace.name,
                subnet_id=net.subnet_ids["scoring"],
                log_analytics_id=monitoring.log_analytics_id,
                tenant_id=client.tenant_id,
                egress=cfg.network.egress,
                system_vm_size=k.system_pool.vm_size,
                system_count=k.system_pool.count,
                inference_vm_size=k.inference_pool.vm_size,
                inference_min=k.inference_pool.min_count,
                inference_max=k.inference_pool.max_count,
                max_pods=k.max_pods,
                network_plugin_mode=k.network_plugin_mode,
                pod_cidr=k.pod_cidr,
                service_cidr=k.service_cidr,
                dns_service_ip=k.dns_service_ip,
                zones=k.zones,
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
                api_server_subnet_id=net.subnet_ids.get("apiServer"),
                disk_encryption=cmk.disk_encryption() if cmk and cmk.disk_encryption_set else None,
                workspace_id=workspace.id,
                maintenance=MaintenanceWindow(k.maintenance.day, k.maintenance.start_time, k.maintenance.utc_offset),
            ),
        )

    access = AccessComponent(
        "access",
        AccessProps(
            placement,
            stack_label=names.base,
            resource_group_id=rg.id,
            workspace_id=workspace.id,
            workspace_storage_id=store.id,
            container_ids={name: c.id for name, c in lake.containers.items()},
            platform_owners=_grantee(cfg.rbac.platform_owners) if cfg.rbac else None,
            deployment=_grantee(cfg.rbac.deployment) if cfg.rbac and cfg.rbac.deployment else None,
            teams=[
                Team(name, [(key, _grantee(p)) for key, p in team.grants()], team.containers)
                for name, team in cfg.teams.items()
            ],
        ),
    )

    link = registry_link(cfg, common, client.subscription_id, endpoints if isolation is None else None,
                         [_grant(ws_id, "workspace", "mlregistry-reader", "Reader"),
                          _grant(job_id, "compute", "mlregistry-reader", "Reader")])

    outputs: dict[str, pulumi.Input[Any]] = {
        "resourceGroupName": rg.name,
        "workspaceName": workspace.name,
        "workspaceId": workspace.id,
        "studioUrl": pulumi.Output.all(workspace.id, client.tenant_id).apply(
            lambda a: f"https://ml.azure.com/?wsid={a[0]}&tid={a[1]}"
        ),
        "mlflowTrackingUri": workspace.mlflow_tracking_uri,
        "storageAccountId": store.id,
        "dataLakeId": lake.id,
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
    outputs.update(team_stack_outputs(cfg, names, client, access, ci_id, training_subnet, seeded is not None))
    if seeded is not None:
        assets = AssetsComponent(
            "assets",
            AssetsProps(
                placement,
                assets=seeded,
                repo_root=cfg.root or REPO_ROOT,
                workspace_name=workspace.name,
                workspace_id=workspace.id,
                workspace_guid=workspace.workspace.workspace_id,
                resource_group=names.resource_group,
                storage_account_name=names.storage,
                storage_account_id=store.id,
                data_lake_account_name=names.data_lake,
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
        served = serving(cfg, names, common, seeded, workspace, registry.id, store.id, wait_seconds,
                         [assets, compute, *([inference] if inference is not None else [])],
                         link, client.subscription_id, topo)
        if served is not None:
            outputs["endpoints"] = pulumi.Output.from_input(served.names)
    if link is not None:
        outputs["mlRegistryId"] = pulumi.Output.from_input(link[1])
    for key, value in outputs.items():
        pulumi.export(key, value)
    return outputs


def team_stack_outputs(cfg: config_mod.StackConfig, names: Names, client: authorization.GetClientConfigResult,
                       access: AccessComponent, ci_id: IdentityComponent | None, training_subnet: pulumi.Input[str] | None,
                       seeds_assets: bool) -> dict[str, pulumi.Input[Any]]:
    """What team stacks read from this stack (infra/platform_outputs.py), besides the IDs exported anyway."""
    key = PlatformOutputs.key
    roles: dict[str, pulumi.Input[str]] = {
        r: access.job_submitter.id if r == "job-submitter" else role_definition_id(client.subscription_id, r)
        for r in TEAM_ROLE_NAMES
    }
    out: dict[str, pulumi.Input[Any]] = {
        key("subscription_id"): client.subscription_id,
        key("tenant_id"): client.tenant_id,
        key("location"): cfg.platform.location,
        key("environment"): cfg.platform.environment,
        key("prefix"): cfg.platform.prefix,
        key("tags"): platform_tags(cfg),
        key("data_lake_name"): names.data_lake,
        key("role_definition_ids"): roles,
        # As for this stack's own teams: their datastores come with the seeded assets.
        key("team_datastores"): seeds_assets and cfg.assets.team_datastores,
        key("teams"): {name: list(team.containers) for name, team in sorted(cfg.teams.items())},
    }
    inst = cfg.compute.instances
    if ci_id is not None:
        sched = inst.schedule
        out[key("compute_instances")] = instance_settings_output({
            "identity_id": ci_id.id, "vm_size": inst.vm_size, "idle_shutdown_minutes": inst.idle_shutdown_minutes or 60,
            "start": sched.start if sched else None, "stop": sched.stop if sched else None,
            "time_zone": sched.time_zone if sched else "UTC",
            "users": sorted(i.user_object_id for i in instances_for(cfg, names)),
        })
    if training_subnet is not None:
        out[key("training_subnet_id")] = training_subnet
    return out


def secret(key: str) -> pulumi.Output[str]:
    """A secret from `pulumi config set --secret amlplatform:<key>` (stays encrypted in state)."""
    return pulumi.Config(config_mod.NAMESPACE).require_secret(key)


def instances_for(cfg: config_mod.StackConfig, names: Names) -> list[Instance]:
    """One personal compute instance per team member (or per listed user) when instances are on."""
    inst = cfg.compute.instances
    sched = inst.schedule
    return [
        Instance(names.instance(user), user, inst.vm_size, inst.idle_shutdown_minutes,
                 sched.start if sched else None, sched.stop if sched else None, sched.time_zone if sched else None)
        for user in Topology.of(cfg).instance_users
    ]


def clusters_for(cfg: config_mod.StackConfig) -> list[Cluster]:
    """The training clusters: the config filled in the default cluster and each cluster's priority and
    maxNodes from the environment's defaults (StackConfig._check_compute)."""
    assert cfg.compute.clusters is not None
    out = []
    for c in cfg.compute.clusters:
        assert c.priority is not None and c.max_nodes is not None
        out.append(Cluster(c.name, c.vm_size, c.priority, c.min_nodes, c.max_nodes, c.idle_minutes_before_scale_down))
    return out


def _grantee(p: config_mod.Principal) -> Grantee:
    return Grantee(object_id=p.object_id, type=p.type)


def network_for(cfg: config_mod.StackConfig, topo: Topology, names: Names, common: Common) -> NetworkComponent | None:
    """The stack's VNet in private and managed mode (managed: for inbound private endpoints only)."""
    n = cfg.network
    if not topo.posture.own_vnet:
        return None
    # NetworkConfig resolves the egress of private and managed mode (managed: none).
    assert n.egress is not None
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
            egress=n.egress,
            firewall_ip=n.firewall_ip,
            dns=n.dns,
            dns_zone_ids=n.dns_zone_ids,
            hub_vnet_id=n.hub.vnet_id if n.hub else None,
            deny_internet_outbound=n.internet_outbound == "deny",
            monitor_private_link=n.monitor_private_link,
        ),
    )


def flow_logs_for(cfg: config_mod.StackConfig, names: Names, net: NetworkComponent, monitoring: MonitoringComponent,
                  common: Common, wait_seconds: int, keys_ready: Sequence[pulumi.Resource]) -> FlowLogsComponent:
    """A VNet flow log with traffic analytics, unless the landing zone records flow logs centrally. With
    customer-managed keys its account is encrypted like the others, with a key of its own."""
    fl = cfg.network.flow_logs
    return FlowLogsComponent(
        "flow-logs",
        FlowLogsProps(
            common,
            flow_log_name=f"fl-{names.vnet}",
            storage_name=names.flow_logs,
            identity_name=names.identity("flowlogs"),
            replication=cfg.storage.replication,
            vnet_id=net.id,
            log_analytics_id=monitoring.log_analytics_id,
            log_analytics_customer_id=monitoring.log_analytics_customer_id,
            network_watcher_resource_group=fl.network_watcher_resource_group,
            network_watcher_name=fl.network_watcher_name,
            retention_days=fl.retention_days,
            role_propagation_seconds=wait_seconds,
            depends_on=keys_ready,
        ),
    )


def outbound_rules(cfg: config_mod.StackConfig, topo: Topology, lake_id: pulumi.Input[str],
                   storage_id: pulumi.Input[str], vault_id: pulumi.Input[str]) -> list[OutboundRule]:
    """Managed-VNet rules the platform needs, then the stack's own.

    Azure ML adds private endpoints to the workspace's own storage (blob, file), key vault and
    registry as required rules, with AllowInternetOutbound only for those whose public network
    access is disabled (how-to-managed-network, "List of required rules"). The data lake is no
    associated resource: its blob and dfs endpoints are always ours to add."""
    rules = [OutboundRule(name, "PrivateEndpoint", destination=lake_id, subresource=group)
             for name, group in LAKE_RULES.items()]
    if topo.public:
        targets = {"blob": storage_id, "file": storage_id, "vault": vault_id}
        rules += [OutboundRule(name, "PrivateEndpoint", destination=targets[group], subresource=group)
                  for name, group in PUBLIC_STORE_RULES.items()]
    taken = {r.name for r in rules}
    for i, r in enumerate(cfg.network.outbound_rules):
        if r.name in taken:
            raise config_mod.ConfigError(f"{cfg.source}: amlplatform:network.outboundRules[{i}].name: {r.name!r} is a "
                                         f"rule the platform adds itself ({', '.join(sorted(taken))}); rename it")
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


def registry_rules(cfg: config_mod.StackConfig, subscription_id: str) -> list[OutboundRule]:
    """Managed-network rules to the organisation's registry, its storage and its container registry."""
    ref = cfg.ml_registry_ref
    if ref is None:
        return []
    targets = {"registry": ref.registry_id(subscription_id), "storage": ref.managed_resources.storage_account_id,
               "acr": ref.managed_resources.container_registry_id}
    return [OutboundRule(rule, "PrivateEndpoint", destination=targets[what], subresource=group)
            for rule, (what, group) in REGISTRY_LINK_RULES.items()]


def registry_link(cfg: config_mod.StackConfig, common, subscription_id: str, endpoints: PrivateEndpoints | None,
                  readers: list[RoleAssignment]) -> tuple[RegistryLinkComponent, str] | None:
    """The stack's private endpoints to the registry (private mode) and its identities' Reader on it."""
    ref = cfg.ml_registry_ref
    if ref is None:
        return None
    registry_id = ref.registry_id(subscription_id)
    link = RegistryLinkComponent("mlregistry-link", RegistryLinkProps(
        common(private_endpoints=endpoints, role_assignments=readers),
        name=ref.name, registry_id=registry_id, storage_account_id=ref.managed_resources.storage_account_id,
        container_registry_id=ref.managed_resources.container_registry_id))
    return link, registry_id


def serving(cfg: config_mod.StackConfig, names: Names, common, seeded, workspace: WorkspaceComponent,
            acr_id: pulumi.Input[str], storage_id: pulumi.Input[str], wait_seconds: int,
            depends_on: list[pulumi.Resource], link: tuple[RegistryLinkComponent, str] | None, subscription_id: str,
            topo: Topology) -> EndpointsComponent | None:
    """The stack's endpoints and deployments, and the identity online endpoints run as."""
    if not any(seeded.of_kind(k) for k in ("online_endpoint", "batch_endpoint")):
        return None
    identity = None
    grants = [EndpointGrant("acr-pull", "AcrPull", acr_id),
              EndpointGrant("storage-blob-reader", "Storage Blob Data Reader", storage_id)]
    if link is not None:
        grants.append(EndpointGrant("mlregistry-reader", "Reader", link[1]))
        depends_on = [*depends_on, link[0]]
    if seeded.of_kind("online_endpoint"):
        identity = IdentityComponent(ENDPOINTS_IDENTITY, IdentityProps(common(), names.identity("endpoints")))
    return EndpointsComponent("endpoints", EndpointsProps(
        common(),
        assets=seeded,
        workspace_name=workspace.name,
        workspace_id=workspace.id,
        resource_group=names.resource_group,
        env_code=names.env,
        public=topo.public,
        managed_network=topo.managed_network,
        identity_id=identity.id if identity else None,
        identity_principal_id=identity.principal_id if identity else None,
        grants=grants if identity else (),
        role_propagation_seconds=wait_seconds,
        depends_on=depends_on,
    ))


def main() -> None:
    """Entry point under the pulumi CLI: user mistakes end the run without a traceback.

    The stack's config says which program runs (config.stack_kind): a team stack (`amlplatform:team`)
    declares one team's resources on its platform stack (infra/team_program.py), the registry stack
    (`amlplatform:mlRegistry`) the organisation's registry (infra/registry_program.py), any other stack
    the platform."""
    try:
        raw = config_mod.raw_from_pulumi()
        kind = config_mod.stack_kind(raw)
        if kind == "team":
            from infra import team_program

            team_program.run(config_team.from_pulumi(raw))
        elif kind == "registry":
            from infra import registry_program
            from infra.config import registry_stack as config_registry_stack

            registry_program.build_registry(config_registry_stack.from_pulumi(raw))
        else:
            build(config_mod.from_pulumi(raw))
    except (config_mod.ConfigError, PropsError) as exc:
        raise pulumi.RunError(str(exc)) from None
