"""What differs between two stacks' plans, once each stack's own names are set aside.

Resources pair up by type and logical name. Physical names, resource IDs built from them and
the subscription differ by design between environments; they are replaced by placeholders
before comparing, so what remains is a real difference (a SKU, a flag, a rule, a count).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from infra.offline.engine import Plan, PlannedResource

Key = tuple[str, str]


def _key(res: PlannedResource) -> Key:
    return res.type.split(":")[-1], res.name


def _placeholders(plan: Plan) -> list[tuple[str, str]]:
    """(stack-specific text, placeholder), longest first so IDs are replaced before their parts."""
    pairs: dict[str, str] = {plan.subscription_id: "<subscription>"}
    for res in plan.custom():
        if res.physical_name:
            last = res.physical_name.rsplit("/", 1)[-1]
            if len(last) >= 4:
                pairs.setdefault(last, f"<{_key(res)[0]}:{res.name}>")
        for key in ("principalId", "clientId", "workspaceId"):
            value = res.outputs.get(key)
            if isinstance(value, str) and value:
                pairs.setdefault(value, f"<{key}:{res.name}>")
    return sorted(pairs.items(), key=lambda p: -len(p[0]))


def _neutral(value: Any, pairs: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for text, placeholder in pairs:
            value = value.replace(text, placeholder)
        return value
    if isinstance(value, dict):
        return {k: _neutral(v, pairs) for k, v in value.items()}
    if isinstance(value, list):
        return [_neutral(v, pairs) for v in value]
    return value


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k in sorted(value):
            out.update(_flatten(value[k], f"{path}.{k}" if path else k))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value):
        # Named lists (subnets, NSG rules, pools) compare by name, not position.
        out = {}
        for item in value:
            out.update(_flatten({k: v for k, v in item.items() if k != "name"}, f"{path}[{item['name']}]"))
        return out
    return {path: value}


@dataclass
class StackDiff:
    a: str
    b: str
    only_a: list[Key] = field(default_factory=list)
    only_b: list[Key] = field(default_factory=list)
    # (type, logical name, property path, value in a, value in b); None means absent.
    changed: list[tuple[str, str, str, Any, Any]] = field(default_factory=list)
    same: int = 0

    def to_json(self) -> str:
        return json.dumps({
            "a": self.a, "b": self.b, "same": self.same,
            "onlyIn": {self.a: [list(k) for k in self.only_a], self.b: [list(k) for k in self.only_b]},
            "changed": [{"type": t, "name": n, "path": p, self.a: va, self.b: vb} for t, n, p, va, vb in self.changed],
        }, indent=2, sort_keys=True) + "\n"

    def table(self) -> str:
        lines = [f"amlplatform diff {self.a} {self.b}: {len(self.only_a)} only in {self.a}, {len(self.only_b)} only "
                 f"in {self.b}, {len(self.changed)} differing properties, {self.same} resources identical"]
        for side, keys in ((self.a, self.only_a), (self.b, self.only_b)):
            if keys:
                lines.append(f"\nonly in {side}:")
                lines += [f"  {t:<32} {n}" for t, n in keys]
        if self.changed:
            # The same change on many resources (a tag, say) is one row with a count.
            groups: dict[tuple[str, str, str], list[str]] = {}
            for t, n, p, va, vb in self.changed:
                groups.setdefault((p, _cell(va), _cell(vb)), []).append(f"{t} {n}")
            rows = [("resource", "property", self.a, self.b)]
            for (p, va, vb), where in sorted(groups.items(), key=lambda g: (len(g[1]) == 1, g[1][0], g[0][0])):
                rows.append((where[0] if len(where) == 1 else f"{len(where)} resources", p, va, vb))
            widths = [min(max(len(r[i]) for r in rows), 60) for i in range(3)]
            lines.append("")
            for r in rows:
                lines.append("  " + "  ".join(c[:w].ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3])
        return "\n".join(lines)


def _cell(value: Any) -> str:
    return "-" if value is None else json.dumps(value) if not isinstance(value, str) else value


def diff(a: Plan, b: Plan) -> StackDiff:
    pa, pb = _placeholders(a), _placeholders(b)
    ra = {_key(r): r for r in a.custom()}
    rb = {_key(r): r for r in b.custom()}
    out = StackDiff(a.stack, b.stack, sorted(ra.keys() - rb.keys()), sorted(rb.keys() - ra.keys()))
    for key in sorted(ra.keys() & rb.keys()):
        fa = _flatten(_neutral(ra[key].inputs, pa))
        fb = _flatten(_neutral(rb[key].inputs, pb))
        if ra[key].protect != rb[key].protect:
            fa["(protect)"], fb["(protect)"] = ra[key].protect, rb[key].protect
        rows = [(key[0], key[1], p, fa.get(p), fb.get(p)) for p in sorted(fa.keys() | fb.keys()) if fa.get(p) != fb.get(p)]
        out.changed += rows
        out.same += not rows
    return out
