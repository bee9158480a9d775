"""Read `pulumi preview --json` into a Plan, so a real preview gets the same render, checkov and rules.

The document (pulumi's display/json.go `previewDigest`) holds `steps`, each with an `op`, a
`urn` and, for what will exist afterwards, `newState` (type, inputs, parent, dependencies,
propertyDependencies, protect, id once known); a step on a deployed resource also has its
`oldState`, whose inputs the plan keeps as `prior_inputs`. Values not known until `pulumi up` are the
engine's sentinel strings; secrets are masked. Deleted resources are left out; resources of
types the renderer does not map are reported, never dropped silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from policies.rules import unknown

from infra.config.stack import ConfigError
from infra.offline.arm_types import NOT_ARM, TYPES, UnmappedError, resource_id
from infra.offline.emulator import OFFLINE_SUBSCRIPTION, STACK_REFERENCE
from infra.offline.engine import Plan, PlannedResource, normalise

GONE = {"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace", "read",
        "read-replacement", "refresh"}
_SUBSCRIPTION = re.compile(r"/subscriptions/([0-9a-fA-F-]{36})/")


@dataclass
class Preview:
    plan: Plan
    # Custom resource types the renderer has no ARM mapping for, with their URNs.
    unmapped: dict[str, list[str]] = field(default_factory=dict)
    ops: dict[str, int] = field(default_factory=dict)

    def mapped_plan(self) -> Plan:
        """The plan without the unmapped resources (checkov gets only what can be rendered)."""
        dropped = {u for urns in self.unmapped.values() for u in urns}
        keep = [r for r in self.plan.resources if r.urn not in dropped]
        return Plan(self.plan.stack, self.plan.project, self.plan.subscription_id, keep, self.plan.outputs,
                    self.plan.references)


def _fail(path: Path, what: str) -> ConfigError:
    return ConfigError(f"{path}: {what}; expected the output of `pulumi preview --json -s STACK` "
                       "(an object with a `steps` list)")


def _pending_id(res: PlannedResource, subscription: str) -> str | None:
    spec = TYPES.get(res.type)
    if spec is None or not res.custom:
        return None
    try:
        rid = resource_id(spec, res.inputs, subscription)
    except UnmappedError:
        return None
    return None if any(unknown(part) for part in rid.split("/")) else rid


def load(path: Path) -> Preview:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(path, f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
        raise _fail(path, "no `steps` list")

    resources: list[PlannedResource] = []
    references: list[str] = []
    ops: dict[str, int] = {}
    stack = project = ""
    text = json.dumps(doc)
    found = _SUBSCRIPTION.search(text)
    subscription = found.group(1).lower() if found else OFFLINE_SUBSCRIPTION
    for i, step in enumerate(doc["steps"]):
        if not isinstance(step, dict) or not isinstance(step.get("urn"), str):
            raise _fail(path, f"steps[{i}] has no `urn`")
        op = str(step.get("op", ""))
        ops[op] = ops.get(op, 0) + 1
        state = step.get("newState")
        if isinstance(state, dict) and state.get("type") == STACK_REFERENCE:
            # A read of another stack's outputs (a team stack's platform stack), no resource of this one.
            references.append(str(state.get("id") or (state.get("inputs") or {}).get("name") or ""))
            continue
        if op in GONE or not isinstance(state, dict):
            continue
        urn = step["urn"]
        parts = urn.split("::")
        if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
            raise _fail(path, f"steps[{i}].urn {urn!r} is not a Pulumi URN")
        stack, project = parts[0][len("urn:pulumi:"):], parts[1]
        kind = str(state.get("type") or step.get("type") or "")
        if kind == "pulumi:pulumi:Stack":
            continue
        inputs = normalise(state.get("inputs") or {})
        old = step.get("oldState")
        res = PlannedResource(
            urn=urn, type=kind, name=parts[-1], custom=bool(state.get("custom", True)),
            parent=str(state.get("parent") or ""), id=state.get("id") or None,
            physical_name=None, inputs=inputs, outputs=normalise(state.get("outputs") or {}),
            dependencies=sorted(state.get("dependencies") or []), protect=bool(state.get("protect")),
            retain_on_delete=bool(state.get("retainOnDelete")),
            property_dependencies={k: sorted(v) for k, v in (state.get("propertyDependencies") or {}).items() if v},
            prior_inputs=normalise(old.get("inputs") or {}) if isinstance(old, dict) else None,
        )
        if res.id is None or unknown(res.id):
            res.id = _pending_id(res, subscription)
        spec = TYPES.get(kind)
        if spec is not None and res.custom:
            try:
                res.physical_name = "/".join(spec.names(inputs))
            except UnmappedError:
                res.physical_name = None
        resources.append(res)
    plan = Plan(stack=stack or "preview", project=project, subscription_id=subscription,
                resources=sorted(resources, key=lambda r: r.urn), references=sorted(set(references)))
    unmapped: dict[str, list[str]] = {}
    for r in plan.custom():
        if r.type not in TYPES and r.type not in NOT_ARM:
            unmapped.setdefault(r.type, []).append(r.urn)
        elif r.type in TYPES and r.physical_name is None:
            unmapped.setdefault(f"{r.type} (no explicit physical name)", []).append(r.urn)
    return Preview(plan, unmapped, dict(sorted(ops.items())))
