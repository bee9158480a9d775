"""`amlplatform bootstrap ...` subcommands.

    amlplatform bootstrap plan [--config FILE] [--out DIR]

Plans the state backend's bootstrap offline with the same engine as the
platform stacks, renders it as ARM, gates it with checkov and prints the
`pulumi login` and `pulumi stack init --secrets-provider` commands for every
stack in stacks/. Exit codes as for `plan`: 0 pass, 1 a check failed,
2 a mistake in the file or the arguments, 3 checkov missing.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from infra.state_backend import config as bootstrap_config
from infra.config import STACKS_DIR

EXIT_OK, EXIT_POLICY = 0, 1


def _stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (root / STACKS_DIR).glob("Pulumi.*.yaml"))


def _count(plan) -> str:
    kinds: dict[str, int] = {}
    for r in plan.custom():
        kinds[r.type.split(":")[-1]] = kinds.get(r.type.split(":")[-1], 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))


def cmd_plan(args: argparse.Namespace) -> int:
    root = Path(args.root)
    path = Path(args.config) if args.config else root / bootstrap_config.DEFAULT_FILE
    cfg, raw = bootstrap_config.load(path)
    # pulumi and checkov load only once the file is valid (infra/cli/main.py says why).
    from infra.state_backend import plan as bootstrap_plan
    from infra.offline import arm, checkov_gate

    checkov_gate.start()
    plan = bootstrap_plan.plan(cfg, raw)
    template = arm.render(plan, bootstrap_plan.skips(cfg))

    out = Path(args.out) if args.out else root / "out" / "bootstrap"
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bootstrap-", dir=out.parent))
    try:
        plan.write_json(staging / "plan.json")
        arm.write_json(template, staging / "template.json")
        result = checkov_gate.run(staging / "template.json", staging)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

    resources = plan.custom()
    lines = [
        f"bootstrap {cfg.stack}: {cfg.source} -> {out}",
        f"  {len(resources)} Azure resources: {_count(plan)}",
        f"  checkov: {result.verdict()} ({result.passed} passed, {result.failed} failed, {result.skipped} skipped)",
    ]
    lines += [f"    FAILED {f.check_id} {f.resource}: {f.check_name}" for f in result.failures]
    lines += [f"    skipped {f.check_id} {f.resource}: {f.reason}" for f in result.skips]
    stacks = _stacks(root)
    lines += ["", f"After `pulumi up -s {cfg.stack}` in state-backend/ (docs/state-backend.md), for the platform stacks "
                  f"({', '.join(stacks) or 'none in stacks/'}):", ""]
    lines += [f"  {c}" for c in bootstrap_plan.commands(cfg, stacks)]
    print("\n".join(lines))
    return EXIT_OK if result.ok else EXIT_POLICY


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add this module's subcommands to the CLI's parser."""
    boot = sub.add_parser("bootstrap", help="the Pulumi state backend (Azure Blob + Key Vault) and its bootstrap")
    boot_sub = boot.add_subparsers(dest="bootstrap_command", required=True)
    plan = boot_sub.add_parser("plan", help="plan the bootstrap offline, run the checkov gate, print the login and "
                                            "stack init commands")
    plan.add_argument("--config", metavar="FILE",
                      help=f"the bootstrap stack file (default: {bootstrap_config.DEFAULT_FILE})")
    plan.add_argument("--out", metavar="DIR", help="output folder (default: out/bootstrap)")
    plan.set_defaults(func=cmd_plan)
