"""The network: the stack's VNet and private endpoints, the monitor private link, flow logs, and the AML
managed VNet's outbound rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pulumi

from infra.components.common import Common, PrivateEndpoints
from infra.components.flow_logs import FlowLogsComponent, FlowLogsProps
from infra.components.monitor_private_link import MonitorPrivateLinkComponent, MonitorPrivateLinkProps
from infra.components.monitoring import MonitoringComponent
from infra.components.network import NetworkComponent, NetworkProps
from infra.components.registry_link import RULES as REGISTRY_LINK_RULES
from infra.components.workspace import OutboundRule
from infra import config as config_mod
from infra.naming import Names
from infra.program.foundation import Monitoring
from infra.program.site import Site
from infra.topology import Topology

# The platform's own managed-network outbound rules (names a stack's outboundRules may not reuse).
LAKE_RULES = {"pe-lake-blob": "blob", "pe-lake-dfs": "dfs"}
# Dev's stores stay public behind their firewalls, and with AllowInternetOutbound Azure ML adds private
# endpoints only to associated resources whose public network access is disabled: the managed VNet
# reaches the workspace storage and key vault through these (the Basic registry has no firewall).
PUBLIC_STORE_RULES = {"pe-storage-blob": "blob", "pe-storage-file": "file", "pe-vault": "vault"}


@dataclass(frozen=True)
class Network:
    vnet: NetworkComponent | None
    # Where the stores and the workspace get their private endpoints (None without a VNet of the stack's own).
    endpoints: PrivateEndpoints | None
    training_subnet: pulumi.Input[str] | None
    monitor_link: MonitorPrivateLinkComponent | None


def network(site: Site, mon: Monitoring) -> Network:
    cfg, names = site.cfg, site.names
    net = network_for(cfg, site.topo, names, site.common(diagnostic_settings=mon.diagnostics))
    training_subnet = net.subnet_ids.get("training") if net else None
    endpoints = (
        PrivateEndpoints(subnet_id=net.subnet_ids["privateEndpoints"], zone_ids=net.zone_ids) if net else None
    )
    monitor_link = None
    if cfg.network.monitor_private_link:
        monitor_link = MonitorPrivateLinkComponent(
            "monitor-link",
            MonitorPrivateLinkProps(
                site.common(private_endpoints=endpoints),
                name=names.private_link_scope,
                log_analytics_id=mon.component.log_analytics_id,
                app_insights_id=mon.component.app_insights_id,
            ),
        )
    return Network(net, endpoints, training_subnet, monitor_link)


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
