"""Print, per stack, the resource count and the seconds each offline step takes.

    make bench     (or: .venv/bin/python scripts/benchmark.py [STACK ...] | --teams [PLATFORM])

Columns: plan (the program under the emulator, assets included), render (ARM template),
rules (the 27 platform rules), checkov, scan (reading a `pulumi preview --json` of the
same size back into a plan), and one `diff` of the first two stacks at the end. Then `teams`: the
platform stack's plan with 0/10/50/100 teams in it and with as many team stacks beside it.
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


# ---- teams: what each team costs a plan, in the platform stack and in team stacks ---------------------

TEAM_COUNTS = (0, 10, 50, 100)
# Measured in a fresh process each (peak RSS is per process); CPU seconds, steadier than wall on a shared machine.
CHILD = """
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from infra import config
from infra.offline import stack as offline_stack
import infra.program, infra.team_program  # imported before the clock starts
root, stack, warm = sys.argv[2], sys.argv[3], sys.argv[4]
cfg, raw = config.load_stack(stack, root)
if warm != "-":  # a team stack: its platform stack's plan is made first, as `plan --all` has it
    offline_stack.referenced_plans(cfg)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t0 = cpu()
plan, _ = offline_stack.plan_stack(cfg, raw)
print(json.dumps({"cpu": cpu() - t0, "mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "resources": len(plan.custom())}))
"""


def _gid(team: str, i: int) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"amlplatform-bench/{team}/{i}"))


def bench_team(i: int) -> tuple[str, dict]:
    """A team as onboarding writes one: a data scientists group, a reader who has an instance, an operator SP,
    two containers."""
    name = f"team{i:03d}"
    return name, {
        "dataScientists": [{"objectId": _gid(name, 1), "type": "Group"}],
        "readers": [{"objectId": _gid(name, 2), "type": "User"}],
        "computeOperators": [{"objectId": _gid(name, 3), "type": "ServicePrincipal"}],
        "members": [_gid(name, 2)],
        "containers": [f"{name}-raw", f"{name}-curated"],
    }


def _repo(tmp: Path, platform: str, teams: int, kind: str) -> None:
    """stacks/ and assets/ with `teams` teams in the platform stack file (kind "in-stack") or as team stacks."""
    import shutil

    import yaml

    shutil.copytree(ROOT / "stacks", tmp / "stacks")
    (tmp / "assets").symlink_to(ROOT / "assets")
    generated = dict(bench_team(i) for i in range(teams))
    if kind == "in-stack" and generated:
        path = tmp / "stacks" / f"Pulumi.{platform}.yaml"
        doc = yaml.safe_load(path.read_text())
        doc["config"]["amlplatform:teams"] = generated
        path.write_text(yaml.safe_dump(doc))
    elif kind == "team-stacks":
        for name, team in generated.items():
            doc = {"config": {"amlplatform:platformStack": platform, "amlplatform:team": {"name": name, **team}}}
            (tmp / "stacks" / f"Pulumi.{platform}-{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def _once(root: Path, stack: str, warm: bool) -> dict:
    import subprocess

    done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(root), stack, "warm" if warm else "-"],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{stack}: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def teams(platform: str = "prod", counts: tuple[int, ...] = TEAM_COUNTS, repeat: int = 3) -> None:
    """The platform stack's plan with 0/10/50/100 teams in it and with as many team stacks beside it.

    Every configuration runs once per round, `repeat` rounds: a busy machine's drift spreads over all of
    them instead of skewing one row."""
    import os
    import statistics

    print(f"\nteams on {platform}: the platform stack's plan, CPU s and peak MiB (medians of {repeat}, a fresh process "
          f"each; {os.cpu_count()} cores)")
    cases = [(n, kind) for n in counts for kind in ("in-stack", "team-stacks")]
    runs: dict[tuple[int, str], list[dict]] = {c: [] for c in cases}
    single: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        roots = {}
        for n, kind in cases:
            roots[(n, kind)] = Path(tmp) / f"{kind}-{n}"
            roots[(n, kind)].mkdir()
            _repo(roots[(n, kind)], platform, n, kind)
        for _ in range(repeat):
            for case in cases:
                runs[case].append(_once(roots[case], platform, False))
            # One team stack's own plan, its platform stack's plan made first (as `plan --all` has it).
            single.append(_once(roots[(max(counts), "team-stacks")], f"{platform}-team000", True))
    rows = {c: {k: statistics.median(r[k] for r in got) for k in got[0]} for c, got in runs.items()}
    print(f"{'teams':>5} {'in-stack CPU s':>15} {'MiB':>7} {'resources':>9}   {'team stacks: CPU s':>18} {'MiB':>7} "
          f"{'resources':>9}")
    for n in counts:
        a, b = rows[(n, "in-stack")], rows[(n, "team-stacks")]
        print(f"{n:>5} {a['cpu']:>15.2f} {a['mib']:>7.0f} {a['resources']:>9}   {b['cpu']:>18.2f} {b['mib']:>7.0f} "
              f"{b['resources']:>9}")
    low, high = min(counts), max(counts)
    if high > low:
        for kind in ("in-stack", "team-stacks"):
            d = {k: (rows[(high, kind)][k] - rows[(low, kind)][k]) / (high - low) for k in ("cpu", "mib")}
            print(f"  per team, {kind}: {d['cpu']:+.3f} CPU s, {d['mib']:+.2f} MiB")
    one = {k: statistics.median(r[k] for r in single) for k in single[0]}
    print(f"  one team stack's own plan ({platform}-team000, its platform's plan made first): {one['cpu']:.2f} CPU s, "
          f"{one['resources']} resources")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--teams"]:
        teams(*(args[1:2] or ["prod"]))
    else:
        main(args or ["dev", "staging", "prod"])
        teams()
