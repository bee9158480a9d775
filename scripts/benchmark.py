"""How fast the offline plan is, measured: `make bench` (or .venv/bin/python scripts/benchmark.py [--quick]).

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
- prod with 0/10/50/100 teams generated into a temporary copy of stacks/: CPU seconds and peak MiB
  of `amlplatform plan prod`.
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


def team(i: int) -> dict[str, Any]:
    """A team as `amlplatform onboard` writes one: a group per role, a member, a container."""
    def group(role: int) -> dict[str, str]:
        return {"objectId": f"00000000-0000-0000-{role:04d}-{i:012d}", "type": "Group"}

    return {"readers": [group(1)], "dataScientists": [group(2)], "computeOperators": [group(3)],
            "jobSubmitters": [group(4)], "members": [f"00000000-0000-0000-0005-{i:012d}"],
            "containers": [f"team{i:03d}-data"]}


def copy_with_teams(dest: Path, teams: int) -> Path:
    """A repository copy whose prod stack has `teams` generated teams (stacks/ and assets/ copied)."""
    for name in ("stacks", "assets"):
        shutil.copytree(ROOT / name, dest / name)
    path = dest / "stacks" / "Pulumi.prod.yaml"
    doc = yaml.safe_load(path.read_text())
    if teams:
        doc["config"].setdefault("amlplatform:teams", {}).update({f"team{i:03d}": team(i) for i in range(teams)})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per median (default 5)")
    parser.add_argument("--quick", action="store_true", help="3 runs, teams 0 and 10 only")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    print(machine())
    print(f"medians of {runs} runs; CPU seconds include the checkov process")
    with tempfile.TemporaryDirectory(prefix="amlplatform-bench-") as tmp:
        scratch = Path(tmp)
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

        print("\nprod with generated teams (amlplatform plan prod):")
        for n in TEAMS[:2] if args.quick else TEAMS:
            repo = copy_with_teams(scratch / f"teams-{n}", n)
            wall, cpu, mib = median_run([*CLI, "--root", str(repo), "plan", "prod", "--out", str(repo / "out")],
                                        max(1, runs // 2 if n >= 50 else runs))
            print(f"  {n:>3} teams: CPU {cpu:6.2f} s   wall {wall:6.2f} s   peak {mib:4.0f} MiB")


if __name__ == "__main__":
    main()
