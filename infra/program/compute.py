"""Compute and inference: the training clusters, personal instances and attached compute in the workspace,
and the AKS cluster AML serves from (private mode)."""

from __future__ import annotations

from infra.components.compute import Attach, Cluster, ComputeComponent, ComputeProps, Instance
from infra.components.inference import InferenceComponent, InferenceProps, InstanceType, MaintenanceWindow
from infra.components.workspace import WorkspaceComponent
from infra import config as config_mod
from infra.naming import Names
from infra.program.data import Data
from infra.program.foundation import Identities, Monitoring
from infra.program.network import Network
from infra.program.site import Site, secret
from infra.topology import Topology


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


def compute(site: Site, ids: Identities, net: Network, ws: WorkspaceComponent) -> ComputeComponent:
    cfg = site.cfg
    return ComputeComponent(
        "compute",
        ComputeProps(
            site.common(),
            workspace_name=ws.name,
            identity_id=ids.compute.id,
            instance_identity_id=ids.instance.id if ids.instance else None,
            tenant_id=site.client.tenant_id,
            subnet_id=net.training_subnet,
            clusters=clusters_for(cfg),
            instances=instances_for(cfg, site.names),
            attach=[
                Attach(a.name, a.type, a.resource_id, a.workspace_url,
                       secret("databricksAccessToken") if a.type == "Databricks" else None)
                for a in cfg.compute.attach
            ],
        ),
    )


def inference(site: Site, ids: Identities, mon: Monitoring, net: Network, stores: Data,
              ws: WorkspaceComponent) -> InferenceComponent | None:
    """The AKS cluster and its AML Kubernetes compute, when the stack serves from AKS."""
    cfg, names, cmk = site.cfg, site.names, stores.cmk
    if site.topo.inference_compute is None or net.vnet is None:
        return None
    k = cfg.aks
    certificate = k.tls.mode == "certificate"
    # Resolved by the config once AKS is on: the pools' counts (AksConfig) and the egress (NetworkConfig).
    assert k.system_pool.count is not None and cfg.network.egress is not None
    assert k.inference_pool.min_count is not None and k.inference_pool.max_count is not None
    return InferenceComponent(
        "inference",
        InferenceProps(
            site.common(diagnostic_settings=mon.diagnostics,
                        customer_managed_key=cmk.key("kms") if cmk and "kms" in cmk.keys else None),
            cluster_name=names.aks,
            identity_name=names.identity("aks"),
            compute_name=site.topo.inference_compute,
            workspace_name=ws.name,
            subnet_id=net.vnet.subnet_ids["scoring"],
            log_analytics_id=mon.component.log_analytics_id,
            tenant_id=site.client.tenant_id,
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
            cluster_purpose=k.cluster_purpose,
            instance_types={n: InstanceType(t.cpu, t.memory, t.cpu_limit, t.memory_limit, t.gpu)
                            for n, t in k.instance_types.items()},
            default_instance_type=k.default_instance_type,
            workspace_principal_id=ids.workspace.principal_id,
            registry_id=stores.registry.id,
            compute_identity_name=names.identity("inference"),
            role_propagation_seconds=site.wait_seconds,
            encryption_at_host=k.encryption_at_host,
            private_link_scope_name=net.monitor_link.scope.name if net.monitor_link else None,
            api_server_subnet_id=net.vnet.subnet_ids.get("apiServer"),
            disk_encryption=cmk.disk_encryption() if cmk and cmk.disk_encryption_set else None,
            workspace_id=ws.id,
            maintenance=MaintenanceWindow(k.maintenance.day, k.maintenance.start_time, k.maintenance.utc_offset),
        ),
    )
