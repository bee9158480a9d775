"""Print, per stack, the resource count and the seconds each offline step takes.

    make bench     (or: .venv/bin/python scripts/benchmark.py [STACK ...])

Columns: plan (the program under the emulator, assets included), render (ARM template),
rules (the 27 platform rules), checkov, scan (reading a `pulumi preview --json` of the
same size back into a plan), and one `diff` of the first two stacks at the end.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra import config  # noqa: E402
from infra.offline import arm, checkov_gate, platform_rules, preview, relaxations  # noqa: E402
from infra.offline import diff as stack_diff  # noqa: E402
from infra.offline.engine import Plan  # noqa: E402
from infra.offline.stack import plan_stack  # noqa: E402


def as_preview(plan: Plan) -> dict:
    """The plan in `pulumi preview --json` shape (every resource a create step)."""
    steps = [{"op": "create", "urn": r.urn, "newState": {
        "urn": r.urn, "type": r.type, "custom": r.custom, "parent": r.parent, "inputs": r.inputs,
        "dependencies": r.dependencies, "propertyDependencies": r.property_dependencies, "protect": r.protect}}
        for r in plan.resources]
    return {"steps": steps}


def main(stacks: list[str]) -> None:
    print(f"{'stack':<10} {'resources':>9} {'plan s':>7} {'render s':>9} {'rules s':>8} {'checkov s':>10} "
          f"{'scan-read s':>12}  verdict")
    plans = []
    for stack in stacks:
        cfg, raw = config.load_stack(stack, ROOT)
        t0 = time.perf_counter()
        plan, _ = plan_stack(cfg, raw)
        t1 = time.perf_counter()
        template = arm.render(plan, relaxations.for_stack(cfg))
        t2 = time.perf_counter()
        rules = platform_rules.check(plan, platform_rules.facts_for(cfg, plan))
        t3 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "template.json"
            path.write_text(arm.to_json(template))
            result = checkov_gate.run(path, Path(tmp))
            doc = Path(tmp) / "preview.json"
            doc.write_text(json.dumps(as_preview(plan)))
            t4 = time.perf_counter()
            preview.load(doc)
            t5 = time.perf_counter()
        plans.append(plan)
        print(f"{stack:<10} {len(plan.custom()):>9} {t1 - t0:>7.2f} {t2 - t1:>9.3f} {t3 - t2:>8.3f} "
              f"{result.seconds:>10.2f} {t5 - t4:>12.3f}  checkov {result.verdict()}, rules {rules.verdict()}")
    if len(plans) >= 2:
        t0 = time.perf_counter()
        found = stack_diff.diff(plans[0], plans[1])
        print(f"diff {plans[0].stack} {plans[1].stack}: {time.perf_counter() - t0:.3f} s, "
              f"{len(found.changed)} differing properties")


if __name__ == "__main__":
    main(sys.argv[1:] or ["dev", "staging", "prod"])
