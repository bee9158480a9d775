"""The `amlplatform:network` section and its preflight.

Everything Azure would reject at `pulumi up` (or, worse, accept and break)
is checked here offline: CIDRs parse, subnets sit inside the VNet and clear
each other and the hub, subnets are big enough for their use, DNS zone IDs
exist for every zone the private endpoints need.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import _At, _Rule, _Section
from infra.azure_facts.dns_zones import ALL_ZONES, required_zones

NetworkMode = Literal["public", "private", "managed"]

# What the storage and key vault firewalls reject: private (RFC 1918), shared,
# loopback, link-local, multicast and "this network" ranges.
_NOT_INTERNET = [
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
              "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "0.0.0.0/8")
]
_PRIVATE_SPACE = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]

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

_ZONE_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/Microsoft\.Network/privateDnsZones/"
    r"(?P<zone>[a-z0-9.-]+)$"
)
_VNET_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/Microsoft\.Network/virtualNetworks/"
    r"[-\w.]+$"
)
_RULE_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{2,31}$")
_GROUP = re.compile(r"^[-\w._()]{0,89}[-\w_()]$")
_WATCHER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]$|^[A-Za-z0-9]$")
_FQDN = re.compile(r"^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}$")


def _cidr(value: str, private: bool = True) -> str:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except (TypeError, ValueError):
        raise ValueError("must be an IPv4 CIDR range with no host bits set, such as 10.60.0.0/22") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError("must be an IPv4 range")
    if private and not any(net.subnet_of(p) for p in _PRIVATE_SPACE):
        raise ValueError("must be private address space (10/8, 172.16/12 or 192.168/16)")
    return str(net)


def _cidrs(values: list[str], private: bool = True) -> list[str]:
    out = []
    for i, value in enumerate(values):
        try:
            out.append(_cidr(value, private))
        except ValueError as exc:
            raise _At(f"[{i}]", str(exc), value) from None
    return out


def _allowed(item: str) -> tuple[str | None, str]:
    """(problem, firewall spelling) of one allowedIpRanges entry."""
    try:
        net = ipaddress.ip_network(item, strict=True)
    except (TypeError, ValueError):
        return "must be an IPv4 address or CIDR range with no host bits set", item
    if not isinstance(net, ipaddress.IPv4Network):
        return "must be IPv4: the storage and key vault firewalls take IPv4 rules only", item
    if any(net.subnet_of(blocked) for blocked in _NOT_INTERNET):
        return "is a private or reserved range: firewall rules take public internet addresses only", item
    if net.prefixlen < 16:
        return "is wider than /16: an allow-list that broad is no allow-list", item
    if net.prefixlen == 31:
        return "is a /31, which the storage firewall refuses; list both addresses", item
    # The storage firewall rejects /32 ranges: a single address is written without a prefix.
    return None, str(net.network_address) if net.prefixlen == 32 else str(net)


class SubnetsConfig(_Section):
    private_endpoints: str | None = None
    training: str | None = None
    scoring: str | None = None
    # Private mode with AKS, optional: the AKS API server's own subnet (API Server VNet Integration,
    # delegated to Microsoft.ContainerService/managedClusters). Required for AKS KMS with the
    # stack's private key vault (encryption.customerManagedKey.aksKms).
    api_server: str | None = None

    @field_validator("private_endpoints", "training", "scoring", "api_server")
    @classmethod
    def _valid(cls, v: str | None) -> str | None:
        return None if v is None else _cidr(v)


class HubConfig(_Section):
    vnet_id: str
    address_space: list[str]

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
        return _cidrs(v, private=False)


class OutboundRuleConfig(_Section):
    """One managed-network outbound rule (FQDN, ServiceTag or PrivateEndpoint)."""

    name: str
    type: Literal["FQDN", "ServiceTag", "PrivateEndpoint"]
    destination: str | None = None  # FQDN
    service_tag: str | None = None  # ServiceTag
    protocol: Literal["TCP", "UDP", "ICMP", "*"] = "TCP"
    port_ranges: str = "443"
    resource_id: str | None = None  # PrivateEndpoint
    subresource: str | None = None

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
                raise _At(_camel(key), f"a {self.type} rule needs {_camel(key)}")
        if self.type == "FQDN" and not _FQDN.match(self.destination or ""):
            raise _At("destination", "must be a host name such as pypi.org or *.pythonhosted.org", self.destination)
        if not re.fullmatch(r"\d+(-\d+)?(,\d+(-\d+)?)*|\*", self.port_ranges):
            raise _At("portRanges", "must be ports or ranges like 443 or 80,8000-8080", self.port_ranges)
        return self


class FlowLogsConfig(_Section):
    """VNet flow logs (NSG flow logs can no longer be created): who records the stack VNet's traffic.

    stack: a flow log on the VNet, kept in a storage account of the stack's own with traffic analytics
    into the stack's Log Analytics. central: the landing zone records every VNet's flow logs itself (Azure
    Policy "Deploy VNet Flow Logs with Traffic Analytics" and the like); the stack adds none, and the plan's
    report shows that as a skip naming this key."""

    mode: Literal["stack", "central"] = "stack"
    # Days Network Watcher keeps the raw records (checkov CKV_AZURE_12 wants at least 90; 0, forever, is refused
    # for the same reason); Azure takes at most 365.
    retention_days: int = Field(default=90, ge=90, le=365)
    # The region's Network Watcher the flow log lives under: Azure creates NetworkWatcher_<region> in
    # NetworkWatcherRG with the first VNet of a region, unless the subscription opted out.
    network_watcher_resource_group: str = "NetworkWatcherRG"
    # Unset: NetworkWatcher_<platform.location>.
    network_watcher_name: str | None = None

    @field_validator("network_watcher_resource_group")
    @classmethod
    def _group(cls, v: str) -> str:
        if not _GROUP.match(v):
            raise ValueError("must be a resource group name: 1-90 letters, digits, '-', '_', '.', '(' or ')', not "
                             "ending in '.'")
        return v

    @field_validator("network_watcher_name")
    @classmethod
    def _watcher(cls, v: str | None) -> str | None:
        if v is not None and not _WATCHER.match(v):
            raise ValueError("must be a Network Watcher name: 1-80 letters, digits, '_', '.' or '-', starting with a "
                             "letter or digit")
        return v


class NetworkConfig(_Section):
    # public: public endpoints behind an IP allow-list (dev only);
    # private: own VNet with private endpoints; managed: the AML managed VNet.
    # Always set from the environment's column (config.ENVIRONMENT_DEFAULTS); the default is dev's.
    mode: NetworkMode = "public"
    allowed_ip_ranges: list[str] = Field(default_factory=list)
    address_space: list[str] = Field(default_factory=list)
    subnets: SubnetsConfig = Field(default_factory=SubnetsConfig)
    # How training and scoring subnets reach the internet: a NAT gateway of the
    # stack's own, a hub firewall (route table), or none (the landing zone routes it).
    egress: Literal["natGateway", "firewall", "none"] | None = None
    firewall_ip: str | None = None
    # allow: the egress path decides; deny: the training subnet reaches only the service
    # tags AML needs (packages then come from a mirror or the registry).
    internet_outbound: Literal["allow", "deny"] = "allow"
    # create: zones in this stack; existing: central zones (hub-spoke); none: policy adds zone groups.
    dns: Literal["create", "existing", "none"] = "create"
    dns_zone_ids: dict[str, str] = Field(default_factory=dict)
    hub: HubConfig | None = None
    # Azure Monitor private link scope: Log Analytics and App Insights ingestion over a private
    # endpoint, public ingestion off. It changes Azure Monitor DNS for the whole VNet. Staging and prod
    # turn it on by default where the stack creates its own zones (config.ENVIRONMENT_DEFAULTS).
    monitor_private_link: bool = False
    # With dns existing or none the scope's endpoint registers Azure Monitor's global names in zones other
    # networks share, and Microsoft allows one scope per DNS ("create only a single AMPLS object per DNS",
    # private-link-design): true states that this stack's scope is that one.
    monitor_private_link_only_scope: bool = False
    flow_logs: FlowLogsConfig = Field(default_factory=FlowLogsConfig)
    isolation_mode: Literal["AllowInternetOutbound", "AllowOnlyApprovedOutbound"] = "AllowOnlyApprovedOutbound"
    outbound_rules: list[OutboundRuleConfig] = Field(default_factory=list)

    @property
    def stack_flow_logs(self) -> bool:
        """The stack records its VNet's flow logs in an account of its own (a VNet, and flowLogs.mode stack)."""
        return self.mode != "public" and self.flow_logs.mode == "stack"

    @field_validator("allowed_ip_ranges")
    @classmethod
    def _ranges(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for i, item in enumerate(v):
            problem, text = _allowed(item)
            if not problem and text in out:
                problem = "is listed twice"
            if problem:
                raise _At(f"[{i}]", problem, item)
            out.append(text)
        return out

    @field_validator("address_space")
    @classmethod
    def _space(cls, v: list[str]) -> list[str]:
        return _cidrs(v)

    @field_validator("firewall_ip")
    @classmethod
    def _fw(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            ip = ipaddress.ip_address(v)
        except ValueError:
            raise ValueError("must be an IPv4 address") from None
        if not any(ip in p for p in _PRIVATE_SPACE):
            raise ValueError("must be the firewall's private IP address")
        return v

    @model_validator(mode="after")
    def _preflight(self) -> "NetworkConfig":
        if self.mode == "public":
            for key in ("address_space", "egress", "firewall_ip", "hub", "outbound_rules", "dns_zone_ids",
                        "monitor_private_link", "monitor_private_link_only_scope"):
                if getattr(self, key):
                    raise _Rule(f"network.{_camel(key)}", "applies only to private or managed mode")
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
        # Every range here passed _cidr, which accepts IPv4 only.
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
            m = _ZONE_ID.match(zone_id)
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


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)
