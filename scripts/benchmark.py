"""How fast the offline plan is, measured: `make bench` (or .venv/bin/python scripts/benchmark.py [--quick] [--teams]).

Prints the machine (cores, CPU model, load average: a busy machine inflates wall times, CPU
seconds are steadier), then medians of several runs of:
- `amlplatform plan --all`, `amlplatform plan dev` and `amlplatform diff dev prod`, warm (after one
  run that fills the caches): wall seconds and CPU seconds (the CLI and its checkov process together);
- per stack, the CPU seconds of each stage in a fresh interpreter: import (infra and the Pulumi
  SDK), program (the program under the emulator, with the SDK modules it loads on first use;
  `program warm` is a second run in the same interpreter), render (ARM template), rules (platform
  and Azure rules), checkov (the scan; checkov's start-up is shown once, it runs beside the program),
  preview read (the plan as a `pulumi preview --json` read back, as `amlplatform scan` does);
- the time `amlplatform plan` takes to refuse a stack file with a config error;
- teams (`--teams` runs only this): prod with 0/10/50/100 generated teams in its stack file, and
  with as many team stacks beside it, in temporary copies of stacks/: `amlplatform plan prod`
  (CPU seconds with checkov, wall, peak MiB) and its program stage alone (CPU seconds, peak MiB of
  that process); what one team adds to each; one team stack's own plan.
These are benchmarks: no test times anything.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "infra.cli.main"]
STACKS = ("dev", "staging", "prod")
TEAMS = (0, 10, 50, 100)
TEAM_KINDS = ("in-stack", "team-stacks")

# One stack, stage by stage, in a fresh interpreter; prints one JSON line.
_STAGES = r"""
import json, sys, time
from pathlib import Path
cpu = time.process_time
t0 = cpu()
from infra import program
from infra import config
from infra.offline import arm, azure_rules, checkov_gate, engine, platform_rules, preview
from policies import relaxations
from infra.offline import stack as offline_stack
checkov_gate.start()
t1 = cpu()
cfg, raw = config.load_stack(sys.argv[1], Path(sys.argv[2]))
plan, _ = offline_stack.plan_stack(cfg, raw)
t2 = cpu()
offline_stack.plan_stack(cfg, raw)
t3 = cpu()
template = arm.render(plan, relaxations.for_stack(cfg))
t4 = cpu()
platform_rules.check(plan, platform_rules.facts_for(cfg, plan)); azure_rules.evaluate(plan)
t5 = cpu()
out = Path(sys.argv[3])
(out / "template.json").write_text(arm.to_json(template))
scan = checkov_gate.submit(out / "template.json", out)
answer = scan.worker.receive(scan.target) if scan.worker else {}
# The plan in `pulumi preview --json` shape (every resource a create step), read back as `amlplatform scan` does.
steps = [{"op": "create", "urn": r.urn, "newState": {
    "urn": r.urn, "type": r.type, "custom": r.custom, "parent": r.parent, "inputs": r.inputs,
    "dependencies": r.dependencies, "propertyDependencies": r.property_dependencies, "protect": r.protect}}
    for r in plan.resources]
(out / "preview.json").write_text(json.dumps({"steps": steps}))
t6 = cpu()
preview.load(out / "preview.json")
t7 = cpu()
print(json.dumps({"resources": len(plan.custom()), "import": t1 - t0, "program": t2 - t1, "program warm": t3 - t2,
                  "render": t4 - t3, "rules": t5 - t4, "checkov": answer.get("cpu", float("nan")),
                  "checkov start-up": answer.get("startup", float("nan")), "preview read": t7 - t6}))
"""


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"machine: {os.cpu_count()} cores, {model}; Python {platform.python_version()}; "
            f"load average {load} (at start)")


def timed(cmd: list[str], cwd: Path = ROOT) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (the process and the children it waited for), peak MiB of the
    largest process, exit code."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def median_run(cmd: list[str], runs: int, cwd: Path = ROOT, expect: int = 0) -> tuple[float, float, float]:
    timed(cmd, cwd)  # warm: page cache, bytecode, checkov's own caches
    results = []
    for _ in range(runs):
        wall, cpu, mib, code = timed(cmd, cwd)
        if code != expect:
            raise SystemExit(f"{' '.join(cmd)}: exit {code}, expected {expect}")
        results.append((wall, cpu, mib))
    return (statistics.median(r[0] for r in results), statistics.median(r[1] for r in results),
            max(r[2] for r in results))


def stages(stack: str, runs: int, scratch: Path) -> dict[str, float]:
    samples: list[dict[str, float]] = []
    for i in range(runs):
        out = scratch / f"stages-{stack}-{i}"
        out.mkdir()
        text = subprocess.run([sys.executable, "-c", _STAGES, stack, str(ROOT), str(out)], cwd=ROOT, check=True,
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
        samples.append(json.loads(text.strip().splitlines()[-1]))
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per median (default 5)")
    parser.add_argument("--quick", action="store_true", help="3 runs, teams 0 and 10 only")
    parser.add_argument("--teams", action="store_true", help="only the teams section")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    print(machine())
    print(f"medians of {runs} runs; CPU seconds include the checkov process")
    with tempfile.TemporaryDirectory(prefix="amlplatform-bench-") as tmp:
        scratch = Path(tmp)
        counts = TEAMS[:2] if args.quick else TEAMS
        if args.teams:
            teams(scratch, "prod", counts, max(1, (runs + 1) // 2))
            return
        out = ["--out", str(scratch / "out")]
        for what, argv in (("plan --all", ["plan", "--all", *out]), ("plan dev", ["plan", "dev", *out]),
                           ("diff dev prod", ["diff", "dev", "prod"])):
            wall, cpu, mib = median_run([*CLI, *argv], runs)
            print(f"amlplatform {what:<13} wall {wall:5.2f} s   CPU {cpu:5.2f} s   peak {mib:4.0f} MiB")

        print("\nCPU seconds per stage, one stack in a fresh interpreter:")
        cols = ["import", "program", "program warm", "render", "rules", "checkov", "preview read"]
        print(f"{'stack':<9}{'resources':>10}" + "".join(f"{c:>14}" for c in cols))
        startup = []
        for stack in STACKS:
            row = stages(stack, runs, scratch)
            startup.append(row["checkov start-up"])
            print(f"{stack:<9}{row['resources']:>10.0f}" + "".join(f"{row[c]:>14.2f}" for c in cols))
        print(f"checkov start-up (ARM runner and custom checks, beside the program): {statistics.median(startup):.2f} "
              "CPU s once per process")

        bad = scratch / "bad"
        (bad / "stacks").mkdir(parents=True)
        text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
        bad_key = "amlplatform:nosuchkey: 1\n  amlplatform:"  # an unknown key: a one-line error, exit 2
        (bad / "stacks" / "Pulumi.dev.yaml").write_text(text.replace("amlplatform:", bad_key, 1))
        wall, cpu, _ = median_run([*CLI, "--root", str(bad), "plan", "dev", "--out", str(scratch / "bad-out")], runs,
                                  expect=2)
        print(f"\nrefusing a stack file with a config error: wall {wall:.2f} s, CPU {cpu:.2f} s (exit 2)")

        teams(scratch, "prod", counts, max(1, (runs + 1) // 2))


# ---- teams: what each team costs a plan, in the platform stack and as team stacks ---------------------

# The program stage alone, in a fresh process (peak RSS is per process): CPU seconds of plan_stack, imports excluded.
_PROGRAM = r"""
import json, resource, sys
from pathlib import Path
from infra import config
from infra.offline import stack as offline_stack
import infra.program, infra.program.team  # imported before the clock starts
root, stack, warm = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
cfg, raw = config.load_stack(stack, root)
if warm == "warm":  # a team stack: its platform stack's plan is made first, as `plan --all` has it
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


def bench_team(i: int) -> tuple[str, dict[str, Any]]:
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


def copy_with_teams(dest: Path, platform: str, teams: int, kind: str) -> Path:
    """stacks/ copied and assets/ linked, with `teams` generated teams in the platform stack's file (kind
    "in-stack") or as team stacks on it ("team-stacks")."""
    dest.mkdir(parents=True)
    shutil.copytree(ROOT / "stacks", dest / "stacks")
    (dest / "assets").symlink_to(ROOT / "assets")
    generated = dict(bench_team(i) for i in range(teams))
    if kind == "in-stack" and generated:
        path = dest / "stacks" / f"Pulumi.{platform}.yaml"
        doc = yaml.safe_load(path.read_text())
        doc["config"].setdefault("amlplatform:teams", {}).update(generated)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    elif kind == "team-stacks":
        for name, team in generated.items():
            doc = {"config": {"amlplatform:platformStack": platform, "amlplatform:team": {"name": name, **team}}}
            (dest / "stacks" / f"Pulumi.{platform}-{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return dest


def program_stage(repo: Path, stack: str, warm: bool = False) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", _PROGRAM, str(repo), stack, "warm" if warm else "-"], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode:
        raise SystemExit(f"{stack}: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def teams(scratch: Path, platform: str = "prod", counts: tuple[int, ...] = TEAMS, rounds: int = 3) -> None:
    """The platform stack's plan with N teams in its file and with N team stacks beside it.

    Every configuration runs once per round (after one warm-up run each): a busy machine's drift spreads
    over all of them instead of skewing one row."""
    print(f"\nteams on {platform}: `amlplatform plan {platform}` (CPU s with checkov, wall s, peak MiB) and its "
          f"program stage alone (CPU s, peak MiB), medians of {rounds} rounds:")
    cases = [(n, kind) for n in counts for kind in TEAM_KINDS]
    repos = {(n, kind): copy_with_teams(scratch / f"teams-{kind}-{n}", platform, n, kind) for n, kind in cases}

    def plan_cmd(repo: Path) -> list[str]:
        return [*CLI, "--root", str(repo), "plan", platform, "--out", str(repo / "out")]

    for repo in repos.values():
        timed(plan_cmd(repo), repo)  # warm: page cache, bytecode
    samples: dict[tuple[int, str], list[dict[str, float]]] = {c: [] for c in cases}
    single: list[dict[str, float]] = []
    top = repos[(max(counts), "team-stacks")]
    for _ in range(rounds):
        for case in cases:
            wall, cpu, mib, code = timed(plan_cmd(repos[case]), repos[case])
            if code != 0:
                raise SystemExit(f"plan {platform} with {case}: exit {code}")
            stage = program_stage(repos[case], platform)
            samples[case].append({"cpu": cpu, "wall": wall, "mib": mib, "program": stage["cpu"],
                                  "program MiB": stage["mib"], "resources": stage["resources"]})
        if max(counts):
            single.append(program_stage(top, f"{platform}-team000", warm=True))
    rows = {c: {k: statistics.median(s[k] for s in got) for k in got[0]} for c, got in samples.items()}
    print(f"  {'teams':>5} {'where':<12} {'resources':>9} {'CPU s':>7} {'wall s':>7} {'MiB':>5} {'program CPU s':>14} "
          f"{'program MiB':>12}")
    for n, kind in cases:
        r = rows[(n, kind)]
        print(f"  {n:>5} {kind:<12} {r['resources']:>9.0f} {r['cpu']:>7.2f} {r['wall']:>7.2f} {r['mib']:>5.0f} "
              f"{r['program']:>14.2f} {r['program MiB']:>12.0f}")
    low, high = min(counts), max(counts)
    if high > low:
        for kind in TEAM_KINDS:
            d = {k: (rows[(high, kind)][k] - rows[(low, kind)][k]) / (high - low)
                 for k in ("cpu", "mib", "program", "program MiB")}
            print(f"  per team, {kind:<11}: plan {d['cpu']:+.3f} CPU s, {d['mib']:+.2f} MiB; program "
                  f"{d['program']:+.3f} CPU s, {d['program MiB']:+.2f} MiB")
    if single:
        one = {k: statistics.median(r[k] for r in single) for k in single[0]}
        print(f"  one team stack's own program ({platform}-team000, its platform's plan made first): "
              f"{one['cpu']:.2f} CPU s, {one['resources']:.0f} resources")


if __name__ == "__main__":
    main()
