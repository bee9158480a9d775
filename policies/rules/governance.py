"""What only Pulumi sees: protect on stateful resources, tags, secrets, locations and SKUs per env."""

from __future__ import annotations

import re
from typing import Any, Iterator

from .core import ANY, Resource, Rule, StackFacts, dig, unknown
from .tokens import (
    AGENT_POOL, AKS, COMPUTE, DISK_ENCRYPTION_SET, EXTENSION, KEY, KEY_VAULT, LOG_ANALYTICS, REGISTRY, RESOURCE_GROUP,
    STORAGE, WORKSPACE,
)

# Deleting one of these loses data or identity that a redeploy cannot bring back (a customer-managed key
# takes its data with it; a disk encryption set its cluster's disks).
STATEFUL = frozenset({RESOURCE_GROUP, STORAGE, KEY_VAULT, WORKSPACE, LOG_ANALYTICS, REGISTRY, KEY,
                      DISK_ENCRYPTION_SET})

# Types whose azure-native args take `tags` (a test checks this against the SDK for every type we map).
TAGGABLE = frozenset({
    RESOURCE_GROUP, STORAGE, KEY_VAULT, WORKSPACE, LOG_ANALYTICS, REGISTRY, COMPUTE, AKS,
    "azure-native:applicationinsights:Component",
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:network:VirtualNetwork",
    "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:PrivateEndpoint",
    "azure-native:network:NatGateway",
    "azure-native:network:PublicIPAddress",
    "azure-native:network:RouteTable",
    "azure-native:network:FlowLog",
    "azure-native:keyvault:Key",
    DISK_ENCRYPTION_SET,
    "azure-native:privatedns:PrivateZone",
    "azure-native:privatedns:VirtualNetworkLink",
    "azure-native:monitor:PrivateLinkScope",
    "azure-native:monitor:DataCollectionRule",
    "azure-native:monitor:DataCollectionEndpoint",
    "azure-native:containerservice:ManagedNamespace",
    # The AML registry and the endpoints (issue 16).
    "azure-native:machinelearningservices:Registry",
    "azure-native:machinelearningservices:OnlineEndpoint",
    "azure-native:machinelearningservices:OnlineDeployment",
    "azure-native:machinelearningservices:BatchEndpoint",
    "azure-native:machinelearningservices:BatchDeployment",
    AGENT_POOL,
})

# Inputs made to carry secrets: they must be Pulumi secrets (checked where the engine shows
# secretness: the offline plan and `pulumi preview --json`; the live analyzer sees plain values).
SECRET_PROPERTIES = {
    EXTENSION: ("configurationProtectedSettings",),
    COMPUTE: ("properties.properties.databricksAccessToken",),
}
SECRET_MARK = "[secret]"
CREDENTIAL_PATTERNS = (
    ("a PEM private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a storage account key", re.compile(r"AccountKey=[A-Za-z0-9+/=]{20,}")),
    ("a SAS token", re.compile(r"(^|[?&])sig=[A-Za-z0-9%+/=]{20,}")),
    ("a Databricks token", re.compile(r"\bdapi[0-9a-f]{32}\b")),
)

# Governance tables per environment: what each stack may run. Dev is cheap and CPU-only.
VM_FAMILIES = {
    "dev": r"Standard_(D|DS|E|ES|F|FS)\d",
    "staging": r"Standard_(D|DS|E|ES|F|FS|NC)\d",
    "prod": r"Standard_(D|DS|E|ES|F|FS|NC|ND)\d",
}
SKUS: dict[str, dict[str, frozenset[str]]] = {
    "dev": {
        STORAGE: frozenset({"Standard_LRS", "Standard_ZRS"}),
        REGISTRY: frozenset({"Basic", "Standard", "Premium"}),
        KEY_VAULT: frozenset({"standard", "premium"}),
        LOG_ANALYTICS: frozenset({"PerGB2018"}),
    },
    "staging": {
        STORAGE: frozenset({"Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS"}),
        REGISTRY: frozenset({"Premium"}),
        KEY_VAULT: frozenset({"standard", "premium"}),
        LOG_ANALYTICS: frozenset({"PerGB2018"}),
    },
    "prod": {
        STORAGE: frozenset({"Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS"}),
        REGISTRY: frozenset({"Premium"}),
        KEY_VAULT: frozenset({"premium"}),
        LOG_ANALYTICS: frozenset({"PerGB2018"}),
    },
}
SKU_PATH = {STORAGE: "sku.name", REGISTRY: "sku.name", KEY_VAULT: "properties.sku.name", LOG_ANALYTICS: "sku.name"}
DEFAULT_LOCATIONS = ("westeurope", "northeurope", "swedencentral", "germanywestcentral", "francecentral")


def protect_stateful(res: Resource, facts: StackFacts) -> str | None:
    if facts.protect_stateful and not res.protect:
        return f"{res.type.split(':')[-1]} {res.logical_name} holds state: declare it with protect=True " \
               "(amlplatform:protection.protect)"
    return None


def required_tags(res: Resource, facts: StackFacts) -> str | None:
    tags = res.props.get("tags")
    if unknown(tags):
        return None
    missing = [t for t in facts.required_tags if not isinstance(tags, dict) or not tags.get(t)]
    return f"missing tag(s) {', '.join(missing)}" if missing else None


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def no_plain_secrets(res: Resource, facts: StackFacts) -> str | None:
    designated = SECRET_PROPERTIES.get(res.type, ())
    found = []
    for path, text in _strings(dict(res.props)):
        if any(path == d or path.startswith(d + ".") for d in designated):
            continue
        for what, pattern in CREDENTIAL_PATTERNS:
            if pattern.search(text):
                found.append(f"{path} holds {what}")
    if facts.secrets_visible:
        for key in designated:
            value = dig(res.props, key)
            if value not in (None, SECRET_MARK) and not unknown(value):
                found.append(f"{key} is not a Pulumi secret (set it with `pulumi config set --secret`)")
    return "; ".join(found) if found else None


def allowed_location(res: Resource, facts: StackFacts) -> str | None:
    location = res.props.get("location")
    allowed = facts.allowed_locations or DEFAULT_LOCATIONS
    if not isinstance(location, str) or unknown(location) or location == "global":
        return None
    if location.replace(" ", "").lower() in allowed:
        return None
    return f"location {location!r} is not allowed (allowed: {', '.join(allowed)})"


def _vm_sizes(res: Resource) -> list[str]:
    if res.type == COMPUTE:
        size = dig(res.props, "properties.properties.vmSize")
        return [size] if isinstance(size, str) else []
    if res.type == AKS:
        pools = res.props.get("agentPoolProfiles") or []
        return [size for p in pools if isinstance(p, dict) and isinstance(size := p.get("vmSize"), str)]
    return [res.props["vmSize"]] if isinstance(res.props.get("vmSize"), str) else []


def allowed_sku(res: Resource, facts: StackFacts) -> str | None:
    env = facts.environment if facts.environment in SKUS else "prod"
    if res.type in SKU_PATH:
        sku = dig(res.props, SKU_PATH[res.type])
        allowed = SKUS[env][res.type]
        if sku is None or unknown(sku) or sku in allowed:
            return None
        return f"SKU {sku!r} is not allowed in {env} (allowed: {', '.join(sorted(allowed))})"
    family = re.compile(VM_FAMILIES[env])
    wrong = [s for s in _vm_sizes(res) if s and not unknown(s) and not family.match(s)]
    return f"VM size(s) {', '.join(wrong)} not allowed in {env} (families {VM_FAMILIES[env]})" if wrong else None


RULES = (
    Rule("protect-stateful", "Stateful resources are protected where the stack says so", STATEFUL,
         protect_stateful),
    Rule("required-tags", "Taggable resources carry the platform's tags", TAGGABLE, required_tags),
    Rule("no-plain-secrets", "No credentials in plain properties; secret inputs are Pulumi secrets",
         frozenset({ANY}), no_plain_secrets),
    Rule("allowed-locations", "Resources stay in the allowed regions", TAGGABLE, allowed_location),
    Rule("allowed-skus", "SKUs and VM sizes allowed for the environment",
         frozenset(SKU_PATH) | frozenset({COMPUTE, AKS, AGENT_POOL}), allowed_sku),
)
