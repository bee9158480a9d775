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

from . import cli_assets, cli_bootstrap, onboarding
from .components.common import PropsError
from .config import STACKS_DIR, ConfigError, load_stack
from .offline import arm, checkov_gate, engine, platform_rules, relaxations, report
from .offline import stack as offline_stack
from .offline.arm_types import UnmappedError

EXIT_OK, EXIT_POLICY, EXIT_USER, EXIT_TOOL = 0, 1, 2, 3


def all_stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (root / STACKS_DIR).glob("Pulumi.*.yaml"))


def plan_stack(stack: str, root: Path, out_root: Path) -> tuple[bool, str]:
    """Plan, render and scan one stack; write out_root/<stack>/ whole or not at all."""
    cfg, raw = load_stack(stack, root)
    plan, missing = offline_stack.plan_stack(cfg, raw)
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
    text = report.summary(plan, cfg.source, result, rules, str(final))
    if missing:
        text += "\n  before `pulumi up`: " + "; ".join(f"pulumi config set --secret {k} -s {stack}" for k in missing)
    return result.ok and rules.ok, text


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


def _envs(root: Path, text: str | None) -> list[str]:
    known = all_stacks(root)
    if text is None:
        return known
    chosen = [e.strip() for e in text.split(",") if e.strip()]
    unknown = [e for e in chosen if e not in known]
    if unknown or not chosen:
        raise ConfigError(f"--env: unknown stack(s) {', '.join(unknown) or '(none given)'}; stacks: {', '.join(known)}")
    return chosen


def _describe(res: engine.PlannedResource) -> str:
    from .roles import BUILTIN_ROLES

    kind = res.type.split(":")[-1]
    if kind == "RoleAssignment":
        guid = res.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        role = next((n for n, g in BUILTIN_ROLES.items() if g == guid), "AML Job Submitter")
        scope = "/".join(res.inputs["scope"].split("/")[-2:])
        return f"{kind}: {role} on {scope} for {res.inputs['principalType']} {res.inputs['principalId']}"
    return f"{kind}: {res.physical_name}"


def _gains(edit: onboarding.Edit, root: Path) -> tuple[list[str], list[str]]:
    """Resources the edit adds to and removes from the stack's offline plan."""
    import yaml

    before_cfg = load_stack(edit.stack, root)[0]
    before_raw = (yaml.safe_load(edit.before) or {}).get("config") or {}
    after_raw = (yaml.safe_load(edit.after) or {}).get("config") or {}
    before = {r.urn: r for r in offline_stack.plan_stack(before_cfg, before_raw)[0].custom()}
    after = {r.urn: r for r in offline_stack.plan_stack(edit.config, after_raw)[0].custom()}
    added = sorted(_describe(r) for u, r in after.items() if u not in before)
    removed = sorted(_describe(r) for u, r in before.items() if u not in after)
    return added, removed


def cmd_onboard(args: argparse.Namespace) -> int:
    root = Path(args.root)
    stacks = _envs(root, args.env)
    roles = {key: [onboarding.parse_principal(p, opt) for p in _split(getattr(args, opt))]
             for opt, key in onboarding.ROLE_OPTIONS.items()}
    members = []
    for m in _split(args.members):
        p = onboarding.parse_principal(m, "members")
        members.append(p["objectId"])
    spec = onboarding.TeamSpec(args.team, roles, members, _split(args.containers))
    edits = onboarding.plan_onboard(root, stacks, spec)
    return _apply(edits, root, f"onboard {args.team}", args.dry_run)


def cmd_offboard(args: argparse.Namespace) -> int:
    root = Path(args.root)
    stacks = _envs(root, args.env) if args.env else onboarding.stacks_with_team(root, all_stacks(root), args.team)
    if not stacks:
        raise ConfigError(f"offboard: team {args.team!r} is in no stack file")
    edits = onboarding.plan_offboard(root, stacks, args.team)
    return _apply(edits, root, f"offboard {args.team}", args.dry_run)


def _apply(edits: list[onboarding.Edit], root: Path, what: str, dry_run: bool) -> int:
    for edit in edits:
        added, removed = _gains(edit, root)
        print(f"{what}: stacks/{edit.path.name}: plan gains {len(added)}, loses {len(removed)}")
        print("\n".join([f"  + {a}" for a in added] + [f"  - {r}" for r in removed]))
    if dry_run:
        print("dry run: no file written")
        return EXIT_OK
    onboarding.write(edits)
    print(f"wrote {', '.join(f'stacks/{e.path.name}' for e in edits)}")
    return EXIT_OK


def _split(values: list[str] | None) -> list[str]:
    return [x.strip() for v in values or [] for x in v.split(",") if x.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="amlplatform", description="Offline plans of the AML platform stacks.")
    parser.add_argument("--root", default=".", help="repository root holding stacks/ (default: .)")
    sub = parser.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="plan stacks offline, render ARM, run the checkov gate")
    plan.add_argument("stacks", nargs="*", help="stack names (default: dev)")
    plan.add_argument("--all", action="store_true", help="every stack in stacks/")
    plan.add_argument("--out", default="out", help="output folder (default: out)")
    plan.set_defaults(func=cmd_plan)

    on = sub.add_parser("onboard", help="add a team to stack files (keeps comments and order)")
    on.add_argument("--team", required=True, help="team name: 2-24 lowercase letters, digits or hyphens")
    on.add_argument("--env", help="comma-separated stacks (default: every stack)")
    for opt in onboarding.ROLE_OPTIONS:
        on.add_argument(f"--{opt.replace('_', '-')}", dest=opt, action="append", metavar="ID",
                        help="object IDs, comma-separated: GUID (a group) or group:/user:/sp:GUID")
    on.add_argument("--members", action="append", metavar="ID", help="user object IDs for compute instances")
    on.add_argument("--containers", action="append", metavar="NAME", help="the team's blob containers")
    on.add_argument("--dry-run", action="store_true", help="validate and show the plan's gains; write nothing")
    on.set_defaults(func=cmd_onboard)

    off = sub.add_parser("offboard", help="remove a team from stack files")
    off.add_argument("--team", required=True)
    off.add_argument("--env", help="comma-separated stacks (default: every stack that has the team)")
    off.add_argument("--dry-run", action="store_true")
    off.set_defaults(func=cmd_offboard)

    cli_assets.register(sub)
    cli_bootstrap.register(sub)
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
