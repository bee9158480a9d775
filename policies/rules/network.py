"""Network isolation: public access, NSGs, open management ports, private endpoint coverage."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from .core import Resource, Rule, StackFacts, dig, unknown
from .tokens import (
    KEY_VAULT, NSG, OUTBOUND_RULE, PRIVATE_ENDPOINT, REGISTRY, SECURITY_RULE, STORAGE, SUBNET, VNET, WORKSPACE,
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


def _ports(rule: dict[str, Any]) -> list[str]:
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
)
