"""Network isolation: public access, NSGs, open management ports, private endpoint coverage."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from .core import Resource, Rule, StackFacts, dig, unknown
from .tokens import (
    FLOW_LOG, KEY_VAULT, NSG, OUTBOUND_RULE, PRIVATE_ENDPOINT, REGISTRY, SECURITY_RULE, STORAGE, SUBNET, VNET,
    WORKSPACE,
)

DATA_PLANE = (WORKSPACE, STORAGE, KEY_VAULT, REGISTRY)
# Azure refuses or breaks with an NSG on these.
NO_NSG = {"GatewaySubnet", "AzureFirewallSubnet", "AzureFirewallManagementSubnet", "RouteServerSubnet"}
ANYWHERE = {"*", "internet", "0.0.0.0/0", "any"}
MANAGEMENT_PORTS = (22, 3389)


def public_access(res: Resource, facts: StackFacts) -> str | None:
    value = dig(res.props, "properties.publicNetworkAccess") if res.type == KEY_VAULT \
        else res.props.get("publicNetworkAccess")
    if value == "Disabled":
        return None
    return f"{res.type.split(':')[-1]} {res.logical_name}: publicNetworkAccess is {value!r}; only dev may be public " \
           "(amlplatform:network.mode)"


def _subnet_ok(subnet: dict[str, Any]) -> bool:
    return subnet.get("name") in NO_NSG or bool(dig(subnet, "networkSecurityGroup.id"))


def subnet_nsg(res: Resource, facts: StackFacts) -> str | None:
    if res.type == SUBNET:
        missing = [] if _subnet_ok({**res.props, "name": res.props.get("subnetName")}) else [res.props.get("subnetName")]
    else:
        missing = [s.get("name") for s in res.props.get("subnets") or [] if isinstance(s, dict) and not _subnet_ok(s)]
    return f"subnet(s) without a network security group: {', '.join(map(str, missing))}" if missing else None


def _ports(rule: Mapping[str, Any]) -> list[str]:
    return [str(p) for p in [rule.get("destinationPortRange"), *(rule.get("destinationPortRanges") or [])] if p]


def _covers(port_spec: str, port: int) -> bool:
    if port_spec == "*":
        return True
    low, _, high = port_spec.partition("-")
    try:
        return int(low) <= port <= int(high or low)
    except ValueError:
        return False


def _open_management(rules: Iterable[dict[str, Any]]) -> list[str]:
    found = []
    for rule in rules:
        sources = [rule.get("sourceAddressPrefix"), *(rule.get("sourceAddressPrefixes") or [])]
        if rule.get("access") != "Allow" or rule.get("direction") != "Inbound":
            continue
        if not any(str(s).lower() in ANYWHERE for s in sources if s):
            continue
        for port in MANAGEMENT_PORTS:
            if any(_covers(spec, port) for spec in _ports(rule)):
                found.append(f"{rule.get('name') or rule.get('securityRuleName')} allows {port} from anywhere")
    return found


def no_open_management_ports(res: Resource, facts: StackFacts) -> str | None:
    rules = [dict(res.props)] if res.type == SECURITY_RULE else list(res.props.get("securityRules") or [])
    found = _open_management(r for r in rules if isinstance(r, dict))
    return "; ".join(found) if found else None


def _prefixes(rule: Mapping[str, Any], key: str) -> list[str]:
    values = [rule.get(f"{key}AddressPrefix"), *(rule.get(f"{key}AddressPrefixes") or [])]
    return [str(v).lower() for v in values if v]


def _is_address(prefix: str) -> bool:
    return any(ch.isdigit() for ch in prefix) and ("." in prefix or ":" in prefix)


def _decides(rule: Mapping[str, Any], port: int) -> str | None:
    """Allow or Deny when an outbound rule decides SSH/RDP towards the VNet on `port`, else None.

    A deny counts as PSRule's evaluator reads it: destination `*` or VirtualNetwork (or none), port `*`
    or the literal port (a range does not count). An allow counts more widely, so nothing slips past: any
    address destination and any port range covering the port, except traffic kept inside one prefix
    (source and destination the same single range: a subnet talking to itself)."""
    if str(rule.get("protocol", "*")).lower() not in ("tcp", "*"):
        return None
    access = str(rule.get("access", ""))
    dest = _prefixes(rule, "destination") or ["*"]
    ports = _ports(rule) or ["*"]
    if access == "Deny":
        hit = any(d in ("*", "virtualnetwork") for d in dest) and any(p in ("*", str(port)) for p in ports)
        return "Deny" if hit else None
    if access != "Allow":
        return None
    if dest == _prefixes(rule, "source") and len(dest) == 1 and _is_address(dest[0]):
        return None
    towards_vnet = any(d in ("*", "virtualnetwork") or _is_address(d) for d in dest)
    return "Allow" if towards_vnet and any(_covers(p, port) for p in ports) else None


def open_lateral_ports(rules: Iterable[Mapping[str, Any]]) -> list[int]:
    """SSH and RDP ports an NSG leaves open towards the VNet (PSRule Azure.NSG.LateralTraversal).

    Outbound rules in priority order; the first that decides a port wins, and Azure's default
    AllowVnetOutBound (65000) allows whatever none decides. Takes rules flat (Pulumi inputs) or with
    ARM's `properties`."""
    flat = [{**(r.get("properties") or {}), **{k: v for k, v in r.items() if k != "properties"}}
            for r in rules if isinstance(r, Mapping)]
    outbound = sorted((r for r in flat if r.get("direction") == "Outbound"), key=lambda r: int(r.get("priority") or 0))
    open_ports = []
    for port in MANAGEMENT_PORTS:
        verdict = next((v for r in outbound if (v := _decides(r, port))), "Allow")
        if verdict == "Allow":
            open_ports.append(port)
    return open_ports


def nsg_lateral_traversal(res: Resource, facts: StackFacts) -> str | None:
    ports = open_lateral_ports(res.props.get("securityRules") or [])
    if not ports:
        return None
    return f"NSG {res.props.get('networkSecurityGroupName')}: outbound {', '.join(map(str, ports))} to " \
           "VirtualNetwork is allowed; deny SSH and RDP towards the VNet (lateral movement) with a rule naming " \
           "each port"


def _flow_log_targets(flow_log: Resource) -> set[str]:
    target = flow_log.props.get("targetResourceId")
    out = set(flow_log.property_dependencies.get("targetResourceId") or ())
    if isinstance(target, str) and not unknown(target):
        out.add(target.lower())
    return out


def flow_log_problem(flow_log: Resource) -> str | None:
    p = flow_log.props
    ta = dig(p, "flowAnalyticsConfiguration.networkWatcherFlowAnalyticsConfiguration") or {}
    days = dig(p, "retentionPolicy.days")
    if p.get("enabled") is not True:
        return "is not enabled"
    if dig(p, "retentionPolicy.enabled") is not True or not isinstance(days, int) or days < 90:
        return f"keeps records {days!r} days; keep at least 90 (retentionPolicy enabled)"
    if ta.get("enabled") is not True or ta.get("trafficAnalyticsInterval") not in (10, 60):
        return "has no traffic analytics at a 10 or 60 minute interval"
    return None


def vnet_flow_logs(resources: Sequence[Resource], facts: StackFacts) -> list[tuple[str, str]]:
    """Each VNet has an enabled flow log with at least 90 days of records and traffic analytics, unless the
    landing zone records flow logs centrally (amlplatform:network.flowLogs.mode central)."""
    if facts.flow_logs_central:
        return []
    flow_logs = [r for r in resources if r.type == FLOW_LOG]
    out = []
    for vnet in (r for r in resources if r.type == VNET):
        mine = [f for f in flow_logs if vnet.urn in _flow_log_targets(f) or (vnet.id and vnet.id.lower() in
                                                                             _flow_log_targets(f))]
        if not mine:
            out.append((vnet.urn, f"VNet {vnet.props.get('virtualNetworkName')} has no flow log (NSG flow logs can no "
                                  "longer be created); add a VNet flow log, or set amlplatform:network.flowLogs.mode "
                                  "central where the landing zone records them"))
        for f in mine:
            problem = flow_log_problem(f)
            if problem:
                out.append((f.urn, f"flow log {f.props.get('flowLogName')} of VNet "
                                   f"{vnet.props.get('virtualNetworkName')} {problem}"))
    return out


def _target(endpoint: Resource) -> list[str]:
    connections = endpoint.props.get("privateLinkServiceConnections") or []
    return [str(c.get("privateLinkServiceId")) for c in connections if isinstance(c, dict)]


def endpoint_coverage(resources: Sequence[Resource], facts: StackFacts) -> list[tuple[str, str]]:
    """Each data-plane service is reached through a private endpoint or a managed-network rule.

    In a preview the target's ID is unknown until it exists, so the endpoint's dependency on
    the service counts as well (the same edge checkov's graph check follows)."""
    reachers = [r for r in resources if r.type in (PRIVATE_ENDPOINT, OUTBOUND_RULE)]
    out = []
    for svc in (r for r in resources if r.type in DATA_PLANE):
        svc_id = svc.id
        covered = any(
            svc.urn in r.dependencies
            or any(svc.urn in deps for deps in r.property_dependencies.values())
            or (svc_id and not unknown(svc_id) and svc_id in _target(r))
            for r in reachers
        )
        if not covered:
            out.append((svc.urn, f"{svc.type.split(':')[-1]} {svc.logical_name} has no private endpoint and no "
                                 "AML managed-network rule"))
    return out


RULES = (
    Rule("public-network-access", "Workspace, storage, key vault and registry are not public",
         frozenset(DATA_PLANE), public_access, checkov="CKV2_AZURE_49"),
    Rule("subnet-nsg", "Every subnet has a network security group", frozenset({VNET, SUBNET}), subnet_nsg,
         checkov="CKV_AMLP_10"),
    Rule("nsg-no-open-management-ports", "No NSG rule opens SSH or RDP to the internet",
         frozenset({NSG, SECURITY_RULE}), no_open_management_ports, checkov="CKV_AZURE_9/10"),
    Rule("private-endpoint-coverage", "Each data-plane service has a private endpoint or a managed-network rule",
         frozenset(), stack_check=endpoint_coverage, checkov="CKV2_AMLP_1-4"),
    Rule("nsg-lateral-traversal", "NSGs deny outbound SSH and RDP towards the VNet", frozenset({NSG}),
         nsg_lateral_traversal, checkov="CKV_AMLP_29"),
    Rule("vnet-flow-logs", "Each VNet has a flow log with traffic analytics, unless the landing zone records them",
         frozenset(), stack_check=vnet_flow_logs, checkov="CKV2_AMLP_5, CKV_AMLP_32"),
)
