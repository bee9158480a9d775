"""The `amlplatform:network` section and its preflight.

Everything Azure would reject at `pulumi up` (or, worse, accept and break)
is checked here offline: CIDRs parse, subnets sit inside the VNet and clear
each other and the hub, subnets are big enough for their use, DNS zone IDs
exist for every zone the private endpoints need.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, ValidatorFunctionWrapHandler, field_validator, model_validator
from pydantic.alias_generators import to_camel

from infra.azure_facts.limits import FLOW_LOG_RETENTION_DAYS
from infra.azure_facts.dns_zones import ALL_ZONES, required_zones
from infra.config.base import _Section
from infra.config.errors import _At, _Rule, refuse_repeats
from infra.types import (PRIVATE_DNS_ZONE_ID, PRIVATE_SPACE, Cidr, FirewallRange, IPv4Address, PrivateCidr,
                         ResourceGroupName, ResourceId, resource_id)

NetworkMode = Literal["public", "private", "managed"]

# Smallest subnet (largest prefix length) each use gets, and why.
SUBNET_MINIMUMS: dict[str, tuple[int, str]] = {
    # ~10 endpoint NICs per stack (workspace 2-3, storage 3, key vault 1, registry 2) plus Azure's 5 reserved.
    "privateEndpoints": (27, "a /27 holds the stack's private endpoints with room to grow"),
    # One IP per cluster node and compute instance; 59 usable in a /26.
    "training": (26, "a /26 gives 59 addresses for cluster nodes and compute instances"),
    # AKS nodes: one address each with Azure CNI overlay (the default); flat Azure CNI reserves
    # maxPods + 1 per node, which the cluster-fit check (config.py) counts against this subnet.
    "scoring": (24, "a /24 holds AKS nodes and load balancers with Azure CNI overlay (flat Azure CNI needs "
                "maxPods + 1 addresses per node: /23 for 7 nodes at 50 pods)"),
    # API Server VNet Integration: "The minimum supported API server subnet size is /28" and the cluster
    # "reserves at least nine IPs" there (learn.microsoft.com/azure/aks/api-server-vnet-integration).
    "apiServer": (28, "AKS's API Server VNet Integration needs a delegated /28 or larger (the cluster reserves at "
                  "least nine addresses)"),
}

_VNET_ID = resource_id(r"Microsoft\.Network/virtualNetworks/[-\w.]+")
_RULE_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{2,31}$")
_WATCHER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]$|^[A-Za-z0-9]$")
_FQDN = re.compile(r"^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}$")


class SubnetsConfig(_Section):
    """The stack VNet's subnets: each inside `addressSpace`, clear of the others and of the hub."""

    private_endpoints: PrivateCidr | None = None
    """Private and managed mode: the private endpoints' subnet, /27 or larger (/26 with `monitorPrivateLink`)."""
    training: PrivateCidr | None = None
    """Private mode: cluster nodes, compute instances and serverless jobs, /26 or larger."""
    scoring: PrivateCidr | None = None
    """Private mode: the AKS nodes and internal load balancers, /24 or larger (flat Azure CNI takes `maxPods` + 1
    addresses per node)."""
    api_server: PrivateCidr | None = None
    """Private mode with AKS: the API server's own subnet (API Server VNet Integration, delegated to
    Microsoft.ContainerService/managedClusters), /28 or larger; required for AKS KMS with the private vault
    (`encryption.customerManagedKey.aksKms`)."""


class HubConfig(_Section):
    """The hub VNet this stack's VNet peers with (hub and spoke)."""

    vnet_id: ResourceId
    """The hub VNet's resource ID (/subscriptions/.../virtualNetworks/<name>); the hub's own side of the peering
    is the hub owners'."""
    address_space: list[Cidr]
    """The hub's address ranges, which the stack's VNet, subnets and AKS ranges must stay clear of."""

    @field_validator("vnet_id")
    @classmethod
    def _vnet(cls, v: str) -> str:
        if not _VNET_ID.match(v):
            raise ValueError("must be a virtual network resource ID (/subscriptions/.../virtualNetworks/<name>)")
        return v

    @field_validator("address_space")
    @classmethod
    def _space(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("must list the hub's address ranges")
        return v


class OutboundRuleConfig(_Section):
    """One managed-network outbound rule (FQDN, ServiceTag or PrivateEndpoint). The platform's own rule names
    (`pe-lake-blob`, `pe-lake-dfs`, and in public mode `pe-storage-blob`, `pe-storage-file`, `pe-vault`) are
    taken."""

    name: str
    """3-32 letters, digits, '-' or '_', starting with a letter; unique among the rules."""
    type: Literal["FQDN", "ServiceTag", "PrivateEndpoint"]
    """What the rule reaches: a host name, a service tag, or a resource through a private endpoint."""
    destination: str | None = None
    """FQDN rules: the host name, such as `pypi.org` or `*.pythonhosted.org`."""
    service_tag: str | None = None
    """ServiceTag rules: the service tag, such as `AzureMonitor`."""
    protocol: Literal["TCP", "UDP", "ICMP", "*"] = "TCP"
    """The protocol a ServiceTag rule allows."""
    port_ranges: str = "443"
    """The ports a ServiceTag rule allows: ports or ranges like `443` or `80,8000-8080`, or `*`."""
    resource_id: ResourceId | None = None
    """PrivateEndpoint rules: the target resource's ID."""
    subresource: str | None = None
    """PrivateEndpoint rules: the target's sub-resource (group ID), such as `blob` or `vault`."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _RULE_NAME.match(v):
            raise ValueError("must be 3-32 letters, digits, '-' or '_', starting with a letter")
        return v

    @model_validator(mode="after")
    def _shape(self) -> "OutboundRuleConfig":
        needs = {"FQDN": ("destination",), "ServiceTag": ("service_tag",),
                 "PrivateEndpoint": ("resource_id", "subresource")}[self.type]
        for key in needs:
            if getattr(self, key) is None:
                raise _At(to_camel(key), f"a {self.type} rule needs {to_camel(key)}")
        if self.type == "FQDN" and not _FQDN.match(self.destination or ""):
            raise _At("destination", "must be a host name such as pypi.org or *.pythonhosted.org", self.destination)
        if not re.fullmatch(r"\d+(-\d+)?(,\d+(-\d+)?)*|\*", self.port_ranges):
            raise _At("portRanges", "must be ports or ranges like 443 or 80,8000-8080", self.port_ranges)
        return self


class FlowLogsConfig(_Section):
    """VNet flow logs (NSG flow logs can no longer be created): who records the stack VNet's traffic. Private
    and managed mode only."""

    mode: Literal["stack", "central"] = "stack"
    """stack: a flow log on the VNet, kept in a storage account of the stack's own (`stfl...`) with traffic
    analytics into the stack's Log Analytics. central: the landing zone records every VNet's flow logs itself
    (Azure Policy "Deploy VNet Flow Logs with Traffic Analytics" and the like); the stack adds none, and the
    plan's report shows CKV2_AMLP_5 skipped naming this key."""
    retention_days: int = Field(default=90, ge=FLOW_LOG_RETENTION_DAYS.low, le=FLOW_LOG_RETENTION_DAYS.high)
    """Days Network Watcher keeps the raw records: checkov's CKV_AZURE_12 wants at least 90 (0, forever, is
    refused for the same reason); Azure takes at most 365."""
    network_watcher_resource_group: ResourceGroupName = "NetworkWatcherRG"
    """The resource group of the region's Network Watcher, which the flow log lives under: Azure creates
    `NetworkWatcher_<region>` in `NetworkWatcherRG` with the first VNet of a region, unless the subscription
    opted out."""
    network_watcher_name: str | None = None
    """The region's Network Watcher: 1-80 letters, digits, '_', '.' or '-', starting with a letter or digit.
    Unset: `NetworkWatcher_<platform.location>`."""

    @field_validator("network_watcher_name")
    @classmethod
    def _watcher(cls, v: str | None) -> str | None:
        if v is not None and not _WATCHER.match(v):
            raise ValueError("must be a Network Watcher name: 1-80 letters, digits, '_', '.' or '-', starting with a "
                             "letter or digit")
        return v


class NetworkConfig(_Section):
    mode: NetworkMode = "public"
    """public: public endpoints behind an IP allow-list (dev only); private: the stack's own VNet, with private
    endpoints and compute subnets; managed: the AML managed VNet."""
    allowed_ip_ranges: list[FirewallRange] = Field(default_factory=list)
    """Public mode only, and required there: the public IPv4 addresses or CIDRs the firewalls of the storage
    accounts, the key vault and a Premium container registry let through, /16 or narrower, no /31; a /32 is
    written as the address."""
    address_space: list[PrivateCidr] = Field(default_factory=list)
    """Private and managed mode: the VNet's ranges (RFC 1918), clear of each other and of the hub."""
    subnets: SubnetsConfig = Field(default_factory=SubnetsConfig)
    """The VNet's subnets; managed mode takes only `privateEndpoints` (its compute runs in the managed VNet)."""
    egress: Literal["natGateway", "firewall", "none"] | None = None
    """Private mode: how the training and scoring subnets reach the internet: a NAT gateway of the stack's own,
    a hub firewall (a route table to `firewallIp`), or none (the landing zone routes it). Unset: natGateway
    (managed mode: none, the managed VNet decides)."""
    firewall_ip: IPv4Address | None = None
    """With `egress: firewall`: the firewall's private IP address."""
    internet_outbound: Literal["allow", "deny"] = "allow"
    """allow: the egress path decides; deny: the training subnet reaches only the service tags AML needs
    (packages then come from a mirror or the registry). Not with `egress: firewall`."""
    dns: Literal["create", "existing", "none"] = "create"
    """Private DNS zones for the private endpoints: create: zones of the stack's own; existing: central zones
    (hub and spoke), by `dnsZoneIds`; none: a landing-zone policy adds the zone groups."""
    dns_zone_ids: dict[str, ResourceId] = Field(default_factory=dict)
    """With `dns: existing`: zone name -> the private DNS zone's resource ID, for every zone the private
    endpoints need."""
    hub: HubConfig | None = None
    """Private and managed mode: the hub VNet to peer with."""
    monitor_private_link: bool = False
    """An Azure Monitor private link scope: Log Analytics and Application Insights ingestion only through a
    private endpoint, public ingestion off; it changes Azure Monitor DNS for the whole VNet and needs a /26
    endpoint subnet. Off, the plan's report shows CKV_AMLP_30 skipped with the reason. Unset: on in staging and
    prod where the stack creates its own zones (`dns: create`)."""
    monitor_private_link_only_scope: bool = False
    """With `dns: existing` or `none`, required to turn `monitorPrivateLink` on: states that this stack's scope is
    the only one registering Azure Monitor's global names in those shared zones (Microsoft: "create only a single
    AMPLS object per DNS")."""
    flow_logs: FlowLogsConfig = Field(default_factory=FlowLogsConfig)
    """Who records the VNet's flow logs."""
    isolation_mode: Literal["AllowInternetOutbound", "AllowOnlyApprovedOutbound"] = "AllowOnlyApprovedOutbound"
    """Managed mode: the managed VNet's outbound posture; AllowOnlyApprovedOutbound reaches only AML's own
    dependencies and `outboundRules`."""
    outbound_rules: list[OutboundRuleConfig] = Field(default_factory=list)
    """Managed mode: the managed VNet's outbound rules beyond the platform's own, whose names are taken
    (`pe-lake-blob`, `pe-lake-dfs`, and in public mode `pe-storage-blob`, `pe-storage-file`, `pe-vault`)."""

    @property
    def stack_flow_logs(self) -> bool:
        """The stack records its VNet's flow logs in an account of its own (a VNet, and flowLogs.mode stack)."""
        return self.mode != "public" and self.flow_logs.mode == "stack"

    @field_validator("allowed_ip_ranges", mode="wrap")
    @classmethod
    def _ranges(cls, v: Any, handler: ValidatorFunctionWrapHandler) -> list[str]:
        return refuse_repeats(handler(v), v, "is listed twice")

    @field_validator("firewall_ip")
    @classmethod
    def _fw(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            ip = ipaddress.ip_address(v)
        except ValueError:
            raise ValueError("must be an IPv4 address") from None
        if not any(ip in p for p in PRIVATE_SPACE):
            raise ValueError("must be the firewall's private IP address")
        return v

    @model_validator(mode="after")
    def _preflight(self) -> "NetworkConfig":
        if self.mode == "public":
            for key in ("address_space", "egress", "firewall_ip", "hub", "outbound_rules", "dns_zone_ids",
                        "monitor_private_link", "monitor_private_link_only_scope"):
                if getattr(self, key):
                    raise _Rule(f"network.{to_camel(key)}", "applies only to private or managed mode")
            if "flow_logs" in self.model_fields_set:
                raise _Rule("network.flowLogs", "applies only to private or managed mode (public mode has no VNet)")
            for field, info in SubnetsConfig.model_fields.items():
                if getattr(self.subnets, field):
                    raise _Rule(f"network.subnets.{info.alias}", "applies only to private or managed mode")
            return self
        if self.allowed_ip_ranges:
            raise _Rule("network.allowedIpRanges", f"applies only to public mode (mode is {self.mode}); remove it")
        self._check_space()
        self._check_egress()
        self._check_dns()
        self._check_monitor_scope()
        self._check_rules()
        return self

    def _check_rules(self) -> None:
        if self.mode == "private" and self.outbound_rules:
            raise _Rule("network.outboundRules", "applies only to managed mode")
        seen: set[str] = set()
        for rule in self.outbound_rules:
            key = f"network.outboundRules[{rule.name}]"
            if rule.name in seen:
                raise _Rule(f"{key}.name", "repeats a rule name: outbound rule names are unique", rule.name)
            seen.add(rule.name)
            if self.isolation_mode == "AllowInternetOutbound" and rule.type == "FQDN":
                raise _Rule(f"{key}.type", "FQDN rules apply only to isolationMode AllowOnlyApprovedOutbound "
                            "(AllowInternetOutbound already reaches every host)", rule.type)

    def _check_space(self) -> None:
        if not self.address_space:
            raise _Rule("network.addressSpace", f"{self.mode} mode needs the VNet's address ranges")
        # Every range here passed PrivateCidr or Cidr, which accept IPv4 only.
        spaces = [ipaddress.IPv4Network(s) for s in self.address_space]
        hub = [ipaddress.IPv4Network(s) for s in (self.hub.address_space if self.hub else [])]
        for i, a in enumerate(spaces):
            for b in spaces[:i]:
                if a.overlaps(b):
                    raise _Rule(f"network.addressSpace[{i}]", f"overlaps {b}, also in addressSpace", str(a))
            for h in hub:
                if a.overlaps(h):
                    raise _Rule(f"network.addressSpace[{i}]", f"overlaps the hub's {h}: peering would fail", str(a))
        needed = ["privateEndpoints"] + (["training", "scoring"] if self.mode == "private" else [])
        optional = ["apiServer"] if self.mode == "private" else []
        present: list[tuple[str, ipaddress.IPv4Network]] = []
        for field, info in SubnetsConfig.model_fields.items():
            key = info.alias or field
            value = getattr(self.subnets, field)
            if value is None:
                if key in needed:
                    raise _Rule(f"network.subnets.{key}", f"{self.mode} mode needs this subnet")
                continue
            if key not in needed + optional:
                raise _Rule(f"network.subnets.{key}", f"not used in {self.mode} mode (compute runs in the "
                            "AML managed VNet); remove it", value)
            net = ipaddress.IPv4Network(value)
            if not any(net.subnet_of(s) for s in spaces):
                raise _Rule(f"network.subnets.{key}", "is not inside the VNet's address space "
                            f"{', '.join(self.address_space)}", value)
            minimum, why = SUBNET_MINIMUMS[key]
            if key == "privateEndpoints" and self.monitor_private_link:
                minimum, why = 26, "the Azure Monitor private link scope adds about ten endpoint addresses"
            if net.prefixlen > minimum:
                raise _Rule(f"network.subnets.{key}", f"must be /{minimum} or larger: {why}", value)
            for other_key, other in present:
                if net.overlaps(other):
                    raise _Rule(f"network.subnets.{key}", f"overlaps subnets.{other_key} ({other})", value)
            for h in hub:
                if net.overlaps(h):
                    raise _Rule(f"network.subnets.{key}", f"overlaps the hub's {h}", value)
            present.append((key, net))

    def _check_egress(self) -> None:
        if self.mode == "managed":
            if self.egress not in (None, "none") or self.firewall_ip:
                raise _Rule("network.egress", "managed mode has no compute subnets; the managed VNet's "
                            "isolationMode and outboundRules decide egress", self.egress)
            self.egress = "none"
            return
        if self.egress is None:
            self.egress = "natGateway"
        if self.egress == "firewall" and not self.firewall_ip:
            raise _Rule("network.firewallIp", "egress firewall needs the firewall's private IP")
        if self.egress == "firewall" and self.internet_outbound == "deny":
            raise _Rule("network.internetOutbound", "deny would also block the route to the firewall (the NSG "
                        "sees internet destinations); let the firewall filter instead", "deny")
        if self.egress != "firewall" and self.firewall_ip:
            raise _Rule("network.firewallIp", f"applies only to egress firewall (egress is {self.egress})",
                        self.firewall_ip)

    def _check_dns(self) -> None:
        if self.dns != "existing":
            if self.dns_zone_ids:
                raise _Rule("network.dnsZoneIds", f"applies only to dns existing (dns is {self.dns})")
            return
        for zone, zone_id in self.dns_zone_ids.items():
            m = PRIVATE_DNS_ZONE_ID.match(zone_id)
            if zone not in ALL_ZONES:
                raise _Rule(f"network.dnsZoneIds.{zone}", f"is not a zone the platform uses ({', '.join(ALL_ZONES)})",
                            zone_id)
            if not m or m.group("zone") != zone:
                raise _Rule(f"network.dnsZoneIds.{zone}", f"must be the resource ID of the private DNS zone {zone}",
                            zone_id)
        missing = [z for z in required_zones(self.monitor_private_link) if z not in self.dns_zone_ids]
        if missing:
            raise _Rule("network.dnsZoneIds", f"dns existing needs an ID for every zone; missing {', '.join(missing)}")

    def _check_monitor_scope(self) -> None:
        if self.monitor_private_link_only_scope and (self.dns == "create" or not self.monitor_private_link):
            raise _Rule("network.monitorPrivateLinkOnlyScope", "applies only with monitorPrivateLink on and dns "
                        "existing or none (with dns create the stack's zones are its own)", True)
        if self.monitor_private_link and self.dns != "create" and not self.monitor_private_link_only_scope:
            raise _Rule("network.monitorPrivateLink", f"with dns {self.dns} the private link scope's endpoint writes "
                        "Azure Monitor's global names into zones other networks share, and a second scope there "
                        "overwrites them (Microsoft: one scope per DNS); set monitorPrivateLinkOnlyScope: true once "
                        "this is the only one, or use the landing zone's scope and set monitorPrivateLink: false", True)
