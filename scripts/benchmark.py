"""Print, per stack, the resource count, offline plan seconds and checkov seconds.

    make bench     (or: .venv/bin/python scripts/benchmark.py [STACK ...])
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra import config  # noqa: E402
from infra.offline import arm, checkov_gate, relaxations  # noqa: E402
from infra.offline.stack import plan_stack  # noqa: E402


def main(stacks: list[str]) -> None:
    print(f"{'stack':<10} {'resources':>9} {'plan s':>8} {'render s':>9} {'checkov s':>10}  verdict")
    for stack in stacks:
        cfg, raw = config.load_stack(stack, ROOT)
        t0 = time.perf_counter()
        plan, _ = plan_stack(cfg, raw)
        t1 = time.perf_counter()
        template = arm.render(plan, relaxations.for_stack(cfg))
        t2 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "template.json"
            path.write_text(arm.to_json(template))
            result = checkov_gate.run(path, Path(tmp))
        print(f"{stack:<10} {len(plan.custom()):>9} {t1 - t0:>8.2f} {t2 - t1:>9.3f} {result.seconds:>10.2f}  "
              f"{result.verdict()}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["dev", "staging", "prod"])
