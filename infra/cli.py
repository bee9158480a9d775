"""`amlplatform`: offline plans and their policy verdicts.

    amlplatform plan [STACK ...] [--all] [--out DIR]

Exit codes: 0 everything passed; 1 a policy check failed; 2 a user mistake
(config, arguments); 3 a tool is missing (checkov).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from .components.common import PropsError
from .config import STACKS_DIR, ConfigError, load_stack
from .offline import arm, checkov_gate, engine, platform_rules, relaxations, report
from .offline.arm_types import UnmappedError
from .offline.emulator import OFFLINE_SUBSCRIPTION

EXIT_OK, EXIT_POLICY, EXIT_USER, EXIT_TOOL = 0, 1, 2, 3


def all_stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (root / STACKS_DIR).glob("Pulumi.*.yaml"))


def plan_stack(stack: str, root: Path, out_root: Path) -> tuple[bool, str]:
    """Plan, render and scan one stack; write out_root/<stack>/ whole or not at all."""
    from . import program

    cfg, raw = load_stack(stack, root)
    plan = engine.run(
        lambda: program.build(cfg), stack, raw, subscription_id=cfg.platform.subscription_id or OFFLINE_SUBSCRIPTION
    )
    template = arm.render(plan, relaxations.for_stack(cfg))
    rules = platform_rules.check(plan, platform_rules.facts_for(cfg, plan))

    out_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{stack}-", dir=out_root))
    try:
        (staging / "plan.json").write_text(plan.to_json(), encoding="utf-8")
        (staging / "template.json").write_text(arm.to_json(template), encoding="utf-8")
        (staging / "rules.json").write_text(platform_rules.to_json(rules), encoding="utf-8")
        result = checkov_gate.run(staging / "template.json", staging)
        (staging / "report.md").write_text(report.markdown(plan, cfg.source, result, rules), encoding="utf-8")
        final = out_root / stack
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result.ok and rules.ok, report.summary(plan, cfg.source, result, rules, str(final))


def cmd_plan(args: argparse.Namespace) -> int:
    root = Path(args.root)
    known = all_stacks(root)
    stacks = known if args.all else args.stacks or ["dev"]
    if args.all and args.stacks:
        raise ConfigError("plan: give stack names or --all, not both")
    for stack in stacks:
        if stack not in known:
            raise ConfigError(
                f"plan: no stack {stack!r}: {STACKS_DIR}/Pulumi.{stack}.yaml does not exist "
                f"(stacks: {', '.join(known) or 'none'})"
            )
    worst = EXIT_OK
    for stack in stacks:
        ok, text = plan_stack(stack, root, Path(args.out))
        print(text)
        if not ok:
            worst = EXIT_POLICY
    return worst


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="amlplatform", description="Offline plans of the AML platform stacks.")
    parser.add_argument("--root", default=".", help="repository root holding stacks/ (default: .)")
    sub = parser.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="plan stacks offline, render ARM, run the checkov gate")
    plan.add_argument("stacks", nargs="*", help="stack names (default: dev)")
    plan.add_argument("--all", action="store_true", help="every stack in stacks/")
    plan.add_argument("--out", default="out", help="output folder (default: out)")
    plan.set_defaults(func=cmd_plan)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, PropsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER
    except UnmappedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER
    except checkov_gate.CheckovUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_TOOL


if __name__ == "__main__":
    sys.exit(main())
