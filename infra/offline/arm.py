"""Render a plan to an ARM-template-shaped JSON that checkov can scan.

checkov reads ARM, not Pulumi. Each planned resource becomes a flat template
resource with its full ARM type, `parent/child` name, ARM property names,
`properties` nesting (flattened sub-resources re-nested), `dependsOn` from
the Pulumi dependencies and the URN in `comments`. Inline skips go in
`metadata.checkov`, each with its reason.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable, Iterable

from infra.offline.arm_types import NOT_ARM, TYPES, UnmappedError, lookup
from infra.offline.engine import Plan, PlannedResource

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"

# A skip: (check ID, reason). Given a rendered resource, the skips it carries.
SkipRule = Callable[[dict[str, Any]], list[tuple[str, str]]]

# Flattened sub-resources azure-native takes inline: input path -> keys that stay
# beside `properties` in ARM. Their other keys move under `properties`.
NESTED: dict[str, dict[str, frozenset[str]]] = {
    "azure-native:network:NetworkSecurityGroup": {"securityRules": frozenset({"name", "id"})},
    # A subnet's delegations are sub-resources of the subnet in turn (`name` beside `properties.serviceName`).
    "azure-native:network:VirtualNetwork": {"subnets": frozenset({"name", "id"}),
                                            "subnets.delegations": frozenset({"name", "id"})},
    "azure-native:network:RouteTable": {"routes": frozenset({"name", "id"})},
    "azure-native:network:PrivateDnsZoneGroup": {"privateDnsZoneConfigs": frozenset({"name"})},
    "azure-native:network:PrivateEndpoint": {
        "privateLinkServiceConnections": frozenset({"name", "id"}),
        "manualPrivateLinkServiceConnections": frozenset({"name", "id"}),
    },
}


# References to other resources that the SDK types as whole resource args: ARM reads only their `id`
# (a private endpoint's subnet is the subnet the endpoint joins, not a subnet definition), and the
# args' defaults (privateEndpointNetworkPolicies: "Disabled" and the like) would misstate the subnet.
REFERENCES: dict[str, tuple[str, ...]] = {
    "azure-native:network:PrivateEndpoint": ("subnet",),
}


def _rename(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {renames.get(k, k): _rename(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, renames) for v in value]
    return value


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _renest(items: Any, outside: frozenset[str]) -> Any:
    if not isinstance(items, list):
        return items
    out = []
    for item in items:
        if not isinstance(item, dict) or "properties" in item:
            out.append(item)
            continue
        kept = {k: v for k, v in item.items() if k in outside}
        kept["properties"] = {k: v for k, v in item.items() if k not in outside}
        out.append(kept)
    return out


def _identity(identity: Any) -> Any:
    # azure-native takes user-assigned identities as a list of IDs; ARM as a map of ID -> {}.
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        return {**identity, "userAssignedIdentities": {i: {} for i in identity["userAssignedIdentities"]}}
    return identity


def render_resource(res: PlannedResource) -> dict[str, Any]:
    spec = lookup(res.type)
    inputs = copy.deepcopy(res.inputs)
    name = "/".join(spec.names(inputs))
    for key in spec.addressing | spec.name_inputs:
        inputs.pop(key, None)

    out: dict[str, Any] = {"type": spec.arm_type, "apiVersion": spec.api_version, "name": name}
    if spec.parent_parts:
        rp, kind, parent = (res.inputs[k] for k in spec.parent_parts)
        out["scope"] = f"{rp}/{kind}/{parent}"
    elif spec.scope == "extension":
        if spec.scope_key is None:
            raise UnmappedError(f"{res.type}: an extension resource's mapping needs scope_key")
        out["scope"] = inputs.pop(spec.scope_key)
    for key in sorted(spec.top_level):
        if key in inputs:
            out[key] = _identity(inputs.pop(key)) if key == "identity" else inputs.pop(key)

    for key in REFERENCES.get(res.type, ()):
        if isinstance(inputs.get(key), dict):
            inputs[key] = {"id": inputs[key].get("id")}
    for path, outside in NESTED.get(res.type, {}).items():
        head, _, inner = path.partition(".")
        if head in inputs and not inner:
            inputs[head] = _renest(inputs[head], outside)
        elif head in inputs:
            # The outer list is renested already (paths are listed outer first): renest inside each item's properties.
            for item in inputs[head] if isinstance(inputs[head], list) else []:
                props = item.get("properties") if isinstance(item, dict) else None
                if isinstance(props, dict) and inner in props:
                    props[inner] = _renest(props[inner], outside)

    if spec.has_properties_input:
        props = inputs.pop("properties", {})
        if inputs:
            raise UnmappedError(f"{res.type}: inputs {sorted(inputs)} have no place in the ARM mapping")
    else:
        props = inputs
    if props:
        out["properties"] = _sorted(_rename(props, spec.renames))
    return out


def _descendants(plan: Plan) -> dict[str, list[str]]:
    """For each URN, the custom resources at or below it (components expand to their children)."""
    children: dict[str, list[str]] = {}
    for r in plan.resources:
        children.setdefault(r.parent, []).append(r.urn)
    by_urn = plan.by_urn()

    def walk(urn: str) -> list[str]:
        res = by_urn.get(urn)
        if res is not None and res.type in NOT_ARM:
            # Not rendered: whatever depends on it depends on what it waited for.
            return [d for dep in res.dependencies for d in walk(dep)]
        if res is not None and res.custom:
            return [urn]
        out: list[str] = []
        for child in children.get(urn, []):
            out.extend(walk(child))
        return out

    return {r.urn: walk(r.urn) for r in plan.resources}


def render(plan: Plan, skips: SkipRule | None = None) -> dict[str, Any]:
    """The whole plan as one template. An unmapped type is an error, never dropped."""
    unmapped = sorted({r.type for r in plan.custom() if r.type not in TYPES})
    if unmapped:
        raise UnmappedError(
            "no ARM mapping for " + ", ".join(unmapped) + " (add them to infra/offline/arm_types.py)"
        )
    by_urn = plan.by_urn()
    expand = _descendants(plan)
    resources = []
    for res in plan.custom():
        item = render_resource(res)
        deps = sorted(
            {
                dep_id
                for dep in res.dependencies
                for d in expand.get(dep, [])
                if d != res.urn and (dep_id := by_urn[d].id) and by_urn[d].type in TYPES
            }
        )
        if deps:
            item["dependsOn"] = deps
        item["comments"] = res.urn
        found = skips(item) if skips else []
        if found:
            item["metadata"] = {"checkov": [f"checkov:skip={cid}: {reason}" for cid, reason in found]}
        resources.append(item)
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {"generator": "amlplatform offline renderer", "stack": plan.stack},
        "resources": resources,
    }


_JSON_INDENT = 2


def to_json(template: dict[str, Any]) -> str:
    return json.dumps(template, indent=_JSON_INDENT) + "\n"


def write_json(template: dict[str, Any], path: Path) -> None:
    """to_json's text, streamed into the file (never held whole)."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(template, f, indent=_JSON_INDENT)
        f.write("\n")


def skipped_ids(template: dict[str, Any]) -> Iterable[tuple[str, str, str]]:
    """(resource name, check ID, reason) for every inline skip in a template."""
    for res in template["resources"]:
        for line in res.get("metadata", {}).get("checkov", []):
            head, _, reason = line.partition(": ")
            yield res["name"], head.removeprefix("checkov:skip="), reason
