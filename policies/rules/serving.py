"""Endpoints, deployments and the AML registry (mirrors CKV_AMLP_17, 19, 20)."""

from __future__ import annotations

from typing import Sequence

from .core import Resource, Rule, StackFacts, dig
from .tokens import ML_REGISTRY, ONLINE_DEPLOYMENT, ONLINE_ENDPOINT, WORKSPACE
from .workspace import MANAGED_NETWORK, _workspace_of


def endpoint_not_public(res: Resource, facts: StackFacts) -> str | None:
    if str(res.props.get("kind", "")).upper() == "K8S":
        return None
    value = dig(res.props, "properties.publicNetworkAccess")
    if value == "Disabled":
        return None
    return f"online endpoint {res.props.get('endpointName')}: publicNetworkAccess is {value!r}; only dev may score " \
           "over the internet (amlplatform:network.mode)"


def registry_not_public(res: Resource, facts: StackFacts) -> str | None:
    if res.props.get("publicNetworkAccess") == "Disabled":
        return None
    return f"AML registry {res.props.get('registryName')}: publicNetworkAccess must be Disabled (workspaces reach it " \
           "through private endpoints or managed-network rules)"


def deployment_egress(resources: Sequence[Resource], facts: StackFacts) -> list[tuple[str, str]]:
    """Managed deployments leave through their own private endpoints (egress Disabled), unless their workspace's
    managed network governs their outbound traffic (then the flag no longer applies)."""
    workspaces = [r for r in resources if r.type == WORKSPACE]
    out = []
    for res in (r for r in resources if r.type == ONLINE_DEPLOYMENT):
        props = res.props.get("properties") or {}
        if props.get("endpointComputeType") != "Managed" or props.get("egressPublicNetworkAccess") == "Disabled":
            continue
        ws = _workspace_of(res, workspaces)
        if ws is not None and dig(ws.props, "managedNetwork.isolationMode") in MANAGED_NETWORK:
            continue  # the managed network's rules govern outbound; the flag keeps the API's default
        out.append((res.urn, f"deployment {res.props.get('endpointName')}/{res.props.get('deploymentName')}: "
                             "egressPublicNetworkAccess must be Disabled outside a managed-network workspace"))
    return out


RULES = (
    Rule("endpoint-not-public", "Online endpoints are not publicly reachable", frozenset({ONLINE_ENDPOINT}),
         endpoint_not_public, checkov="CKV_AMLP_17"),
    Rule("deployment-private-egress", "Managed deployments have no public egress", frozenset(),
         stack_check=deployment_egress, checkov="CKV_AMLP_19"),
    Rule("ml-registry-not-public", "The AML registry is not publicly reachable", frozenset({ML_REGISTRY}),
         registry_not_public, checkov="CKV_AMLP_20"),
)
