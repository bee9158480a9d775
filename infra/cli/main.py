"""`amlplatform`: offline plans and their policy verdicts.

    amlplatform plan [STACK ...] [--all] [--out DIR]
    amlplatform check STACK [--write-policy-config]
    amlplatform scan --preview FILE [--stack STACK] [--out DIR]
    amlplatform diff STACK_A STACK_B [--json]
    amlplatform onboard|offboard --team NAME ...
    amlplatform promote NAME@VERSION --to registry|staging|prod   (infra/cli/promote.py)
    amlplatform assets validate|lock, amlplatform verify STACK     (infra/cli/seeding.py)

STACK is any stack in stacks/: a platform stack (an environment), a team stack on one, or the registry
stack (stacks/Pulumi.registry.yaml); config.stack_kind tells them apart. onboard and offboard take
platform stacks (--stack-kind team writes team stacks on them).

Exit codes: 0 everything passed; 1 a policy check failed; 2 a user mistake
(config, arguments); 3 a tool is missing (checkov).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

# Only light modules at the top: a stack file with a mistake is refused before pulumi,
# pulumi-azure-native, azure-ai-ml or checkov load (about 5 s of imports), in well under a
# second. Each command imports the heavy modules it needs once the input is validated;
# tests/test_cli.py checks that validating a bad stack imports none of them.
from infra.cli import seeding as cli_assets
from infra.cli import state_backend as cli_bootstrap
from infra.cli import promote as cli_promote
from infra.cli import onboarding
from infra.cli import onboarding_team
from infra.config.stack import KIND_ORDER, STACKS_DIR, AnyStackConfig, ConfigError, load_stack, stack_kind, stack_kinds
from infra.config.registry_stack import RegistryStackConfig
from infra.config.team_stack import TeamStackConfig
from infra.offline.arm_types import UnmappedError
from infra.offline.checkov_gate import CheckovUnavailable

if TYPE_CHECKING:
    from infra.offline import engine, gate

EXIT_OK, EXIT_POLICY, EXIT_USER, EXIT_TOOL = 0, 1, 2, 3


def all_stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (root / STACKS_DIR).glob("Pulumi.*.yaml"))


def environment_stacks(root: Path) -> list[str]:
    """The platform stacks: those that build an environment (not the registry stack, not the team stacks)."""
    return [s for s, kind in stack_kinds(root).items() if kind == "platform"]


def in_plan_order(stacks: list[tuple[AnyStackConfig, dict[str, Any]]]) -> list[tuple[AnyStackConfig, dict[str, Any]]]:
    """Platform stacks, then the registry stack, then team stacks (each after the platform stack it reads),
    by name within a kind."""
    return sorted(stacks, key=lambda loaded: (KIND_ORDER.index(stack_kind(loaded[1])), loaded[0].stack))


def _stage(cfg: AnyStackConfig, raw: dict[str, Any], out_root: Path) -> tuple[gate.Staged, list[str]]:
    """Plan, render and check one stack (of any kind); its folder is staged and its checkov scan queued."""
    from infra.offline import arm, azure_rules, gate, platform_rules
    from policies import relaxations
    from infra.offline import stack as offline_stack

    plan, missing = offline_stack.plan_stack(cfg, raw)
    # The registry stack relaxes nothing: no inline skips.
    template = arm.render(plan, None if isinstance(cfg, RegistryStackConfig) else relaxations.for_stack(cfg))
    rules = platform_rules.check(plan, platform_rules.facts_for(cfg, plan))
    # A team stack's rules see its platform stack's plan too (what its resources sit in).
    azure = azure_rules.evaluate(plan, referenced=offline_stack.referenced_plans(cfg))
    return gate.stage(plan, template, rules, azure, cfg.source, out_root, cfg.stack), missing


def _finish(staged: gate.Staged, missing: list[str]) -> tuple[bool, str]:
    from infra.offline import gate

    result = gate.finish(staged)
    text = result.text
    if missing:
        text += "\n  before `pulumi up`: " + "; ".join(
            f"pulumi config set --secret {k} -s {staged.plan.stack}" for k in missing)
    return result.ok, text


def plan_stacks(stacks: list[tuple[AnyStackConfig, dict[str, Any]]], out_root: Path) -> Iterator[tuple[bool, str]]:
    """Each stack's verdict and summary, in order; out_root/<stack>/ is written whole or not at all.

    One checkov process scans every stack, and it scans a stack while the next one's program
    runs. A stack that fails stops the run; the stacks before it are still reported."""
    pending: list[tuple[gate.Staged, list[str]]] = []
    try:
        for cfg, raw in stacks:
            try:
                stage = _stage(cfg, raw, out_root)
            except Exception:
                while pending:
                    yield _finish(*pending.pop(0))
                raise
            pending.append(stage)
            if len(pending) > 1:
                yield _finish(*pending.pop(0))
        while pending:
            yield _finish(*pending.pop(0))
    finally:
        for staged, _ in pending:
            staged.abort()


def plan_stack(stack: str, root: Path, out_root: Path) -> tuple[bool, str]:
    """Plan, render and scan one stack (of any kind); write out_root/<stack>/ whole or not at all."""
    return list(plan_stacks([load_stack(stack, root)], out_root))[0]


def cmd_plan(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if args.all and args.stacks:
        raise ConfigError("plan: give stack names or --all, not both")
    names = all_stacks(root) if args.all else args.stacks or ["dev"]
    # Every stack file is validated before anything heavy loads or any folder is written.
    stacks = [load_stack(_known_stack(root, name), root) for name in names]
    if args.all:
        stacks = in_plan_order(stacks)
    from infra.offline import checkov_gate

    checkov_gate.start()  # its start-up runs on the other core while the first program runs
    worst = EXIT_OK
    for ok, text in plan_stacks(stacks, Path(args.out)):
        print(text, flush=True)
        if not ok:
            worst = EXIT_POLICY
    return worst


def _known_stack(root: Path, stack: str) -> str:
    known = all_stacks(root)
    if stack not in known:
        raise ConfigError(f"no stack {stack!r}: {STACKS_DIR}/Pulumi.{stack}.yaml does not exist "
                          f"(stacks: {', '.join(known) or 'none'})")
    return stack


def cmd_check(args: argparse.Namespace) -> int:
    """The platform rules alone, as `pulumi preview --policy-pack policies` would apply them."""
    root = Path(args.root)
    cfg, raw = load_stack(_known_stack(root, args.stack), root)
    from infra.offline import platform_rules
    from infra.offline import stack as offline_stack

    plan, _ = offline_stack.plan_stack(cfg, raw)
    report = platform_rules.check(plan, platform_rules.facts_for(cfg, plan))
    environment = offline_stack.governing(cfg).platform.environment
    print(f"amlplatform check {args.stack}: {report.verdict()}  ({len(report.rules)} rules, {report.checked} "
          f"evaluations, {report.level} in {environment})")
    for v in report.violations:
        print(f"  {v.level:<9} {v.rule} {v.urn.rsplit('::', 1)[-1]}: {v.message}")
    if args.write_policy_config:
        target = root / "policies" / "config" / f"{args.stack}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(platform_rules.policy_config_json(cfg), encoding="utf-8")
        tmp.replace(target)
        print(f"  wrote {target.relative_to(root)}")
    return EXIT_OK if report.ok else EXIT_POLICY


def cmd_scan(args: argparse.Namespace) -> int:
    """checkov and the platform rules over a real `pulumi preview --json`."""
    import json
    from dataclasses import replace

    from infra.offline import arm, azure_rules, gate, platform_rules, preview

    from policies import relaxations
    from infra.offline import stack as offline_stack

    root = Path(args.root)
    result = preview.load(Path(args.preview))
    stack = _known_stack(root, args.stack) if args.stack else result.plan.stack
    referenced: list[engine.Plan] = []
    if stack in all_stacks(root):
        cfg = load_stack(stack, root)[0]
        # The registry stack relaxes nothing: no inline skips.
        skips = None if isinstance(cfg, RegistryStackConfig) else relaxations.for_stack(cfg)
        facts, source = platform_rules.facts_for(cfg), cfg.source
        # A team stack's platform, as context (its IDs match the live ones where the stack file sets subscriptionId).
        referenced = offline_stack.referenced_plans(cfg)
    else:
        # A stack this repository does not define: the strictest facts, no relaxations.
        from policies.pack import facts_from_config

        facts, skips, source = replace(facts_from_config({}), secrets_visible=True), None, args.preview
    mapped = result.mapped_plan()
    template = arm.render(mapped, skips)
    rules = platform_rules.evaluate_plan(result.plan, facts)
    unmapped = json.dumps(result.unmapped, indent=2, sort_keys=True) + "\n"
    outcome = gate.run(mapped, template, rules, azure_rules.evaluate(mapped, referenced=referenced), source, Path(args.out),
                       f"scan-{stack}", verb="scan", extra={"unmapped.json": unmapped})
    ops = ", ".join(f"{n} {op}" for op, n in result.ops.items())
    print(f"preview {args.preview}: {ops}")
    print(outcome.text)
    for kind, urns in result.unmapped.items():
        print(f"  not scanned by checkov (no ARM mapping): {kind} x{len(urns)}: "
              + ", ".join(u.rsplit("::", 1)[-1] for u in urns))
    return EXIT_OK if outcome.ok else EXIT_POLICY


def cmd_diff(args: argparse.Namespace) -> int:
    root = Path(args.root)
    loaded = [load_stack(_known_stack(root, stack), root) for stack in (args.a, args.b)]
    from infra.offline import diff as stack_diff
    from infra.offline import stack as offline_stack

    plans = [offline_stack.plan_stack(cfg, raw)[0] for cfg, raw in loaded]
    result = stack_diff.diff(*plans)
    print(result.to_json() if args.json else result.table())
    return EXIT_OK


def _envs(root: Path, text: str | None) -> list[str]:
    known = environment_stacks(root)
    if text is None:
        return known
    chosen = [e.strip() for e in text.split(",") if e.strip()]
    unknown = [e for e in chosen if e not in known]
    if unknown or not chosen:
        raise ConfigError(f"--env: unknown stack(s) {', '.join(unknown) or '(none given)'}; stacks: {', '.join(known)}")
    return chosen


def _describe(res: engine.PlannedResource) -> str:
    from infra.azure_facts.roles import BUILTIN_ROLES

    kind = res.type.split(":")[-1]
    if kind == "RoleAssignment":
        guid = res.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        role = next((n for n, g in BUILTIN_ROLES.items() if g == guid), "AML Job Submitter")
        scope = "/".join(res.inputs["scope"].split("/")[-2:])
        return f"{kind}: {role} on {scope} for {res.inputs['principalType']} {res.inputs['principalId']}"
    return f"{kind}: {res.physical_name}"


def _raw(text: str) -> dict:
    import yaml

    return (yaml.safe_load(text) or {}).get("config") or {}


def _gains(edit: onboarding.Edit, root: Path) -> tuple[list[str], list[str]]:
    """Resources the edit adds to and removes from the stack's offline plan."""
    from infra.offline import stack as offline_stack

    before_cfg = load_stack(edit.stack, root)[0]
    before = {r.urn: r for r in offline_stack.plan_stack(before_cfg, _raw(edit.before))[0].custom()}
    after = {r.urn: r for r in offline_stack.plan_stack(edit.config, _raw(edit.after))[0].custom()}
    added = sorted(_describe(r) for u, r in after.items() if u not in before)
    removed = sorted(_describe(r) for u, r in before.items() if u not in after)
    return added, removed


def _team_stack_lines(edit: onboarding.Edit, what: str) -> list[str]:
    """A new team stack's plan (only that stack is planned: its platform stack's plan answers the reference, once
    per platform), or what `pulumi destroy` of a removed one deletes and keeps."""
    from infra.offline import stack as offline_stack

    cfg = edit.config
    assert isinstance(cfg, TeamStackConfig)
    shown = f"stacks/{edit.path.name}"
    plan = offline_stack.plan_stack(cfg, _raw(edit.after or edit.before))[0].custom()
    if edit.after:
        return ([f"{what}: {shown}: new team stack on {cfg.platform_stack}: plan gains {len(plan)}"]
                + sorted(f"  + {_describe(r)}" for r in plan))
    kept = [r for r in plan if r.retain_on_delete]
    deleted = [r for r in plan if not r.retain_on_delete]
    return ([f"{what}: {shown}: team stack on {cfg.platform_stack} removed: `pulumi destroy -s {edit.stack}` deletes "
             f"{len(deleted)}, retains {len(kept)}"]
            + sorted(f"  - {_describe(r)}" for r in deleted)
            + sorted(f"  = {_describe(r)} (retained on delete: it stays in Azure)" for r in kept)
            + [f"  destroy it from a checkout that still has this file (its stack settings live there), before this "
               f"removal reaches the branch you deploy from: pulumi destroy -s {edit.stack} && pulumi stack rm "
               f"{edit.stack}"])


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
    if args.stack_kind == "team":
        edits = onboarding_team.plan_onboard(root, stacks, spec)
    else:
        held = _team_stacks(root, args.team)
        edits = onboarding.plan_onboard(root, stacks, spec, {p: s for s, p in held.items() if p in stacks})
    return _apply(edits, root, f"onboard {args.team}", args.dry_run)


def _team_stacks(root: Path, team: str) -> dict[str, str]:
    """Team stack -> its platform stack, for every team stack holding `team`."""
    return {s: onboarding_team.platform_of_file(root, s) or "" for s in onboarding_team.team_stacks_of(
        root, all_stacks(root), team)}


def cmd_offboard(args: argparse.Namespace) -> int:
    root = Path(args.root)
    platforms = _envs(root, args.env)
    held = {s: p for s, p in _team_stacks(root, args.team).items() if p in platforms}
    # With --env every named stack must have the team (in its file, or as a team stack on it).
    in_stack = [p for p in platforms if p not in held.values()] if args.env else \
        onboarding.stacks_with_team(root, platforms, args.team)
    if not in_stack and not held:
        raise ConfigError(f"offboard: team {args.team!r} is in no stack file")
    edits = onboarding.plan_offboard(root, in_stack, args.team) + onboarding_team.plan_offboard(root, sorted(held))
    return _apply(edits, root, f"offboard {args.team}", args.dry_run)


def _apply(edits: list[onboarding.Edit], root: Path, what: str, dry_run: bool) -> int:
    for edit in edits:
        if isinstance(edit.config, TeamStackConfig):
            print("\n".join(_team_stack_lines(edit, what)))
            continue
        added, removed = _gains(edit, root)
        print(f"{what}: stacks/{edit.path.name}: plan gains {len(added)}, loses {len(removed)}")
        print("\n".join([f"  + {a}" for a in added] + [f"  - {r}" for r in removed]))
    if dry_run:
        print("dry run: no file written")
        return EXIT_OK
    onboarding.write(edits)
    written = [f"stacks/{e.path.name}" for e in edits if e.after]
    removed = [f"stacks/{e.path.name}" for e in edits if not e.after]
    print("; ".join(([f"wrote {', '.join(written)}"] if written else [])
                    + ([f"removed {', '.join(removed)}"] if removed else [])))
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
    on.add_argument("--env", help="comma-separated platform stacks (default: every platform stack)")
    for opt in onboarding.ROLE_OPTIONS:
        on.add_argument(f"--{opt.replace('_', '-')}", dest=opt, action="append", metavar="ID",
                        help="object IDs, comma-separated: GUID (a group) or group:/user:/sp:GUID")
    on.add_argument("--members", action="append", metavar="ID", help="user object IDs for compute instances")
    on.add_argument("--containers", action="append", metavar="NAME", help="the team's blob containers")
    on.add_argument("--stack-kind", choices=("platform", "team"), default="platform",
                    help="platform: add the team to each platform stack file (default); team: write a team stack "
                         "stacks/Pulumi.<env>-<team>.yaml per environment instead")
    on.add_argument("--dry-run", action="store_true", help="validate and show the plan's gains; write nothing")
    on.set_defaults(func=cmd_onboard)

    off = sub.add_parser("offboard", help="remove a team from stack files, or its team stack files")
    off.add_argument("--team", required=True)
    off.add_argument("--env", help="comma-separated platform stacks (default: every stack that has the team)")
    off.add_argument("--dry-run", action="store_true")
    off.set_defaults(func=cmd_offboard)

    check = sub.add_parser("check", help="the platform rules (the CrossGuard pack's) over a stack's offline plan")
    check.add_argument("stack")
    check.add_argument("--write-policy-config", action="store_true",
                       help="also write policies/config/STACK.json for `pulumi preview --policy-pack-config`")
    check.set_defaults(func=cmd_check)

    scan = sub.add_parser("scan", help="checkov and the platform rules over `pulumi preview --json` output")
    scan.add_argument("--preview", required=True, metavar="FILE", help="the saved output of `pulumi preview --json`")
    scan.add_argument("--stack", help="stack whose config gives the facts (default: the stack in the URNs)")
    scan.add_argument("--out", default="out", help="output folder (default: out)")
    scan.set_defaults(func=cmd_scan)

    d = sub.add_parser("diff", help="what differs between two stacks' offline plans")
    d.add_argument("a", metavar="STACK_A")
    d.add_argument("b", metavar="STACK_B")
    d.add_argument("--json", action="store_true", help="machine-readable output")
    d.set_defaults(func=cmd_diff)

    cli_assets.register(sub)
    cli_bootstrap.register(sub)
    cli_promote.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CheckovUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_TOOL
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:
        if not isinstance(exc, _user_errors()):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that are the user's input (one line, exit 2). PropsError lives beside pulumi and can
    only have been raised if its module was loaded."""
    errors: list[type[Exception]] = [ConfigError, UnmappedError]
    common = sys.modules.get(f"{__package__}.components.common")
    if common is not None:
        errors.append(common.PropsError)
    return tuple(errors)


if __name__ == "__main__":
    sys.exit(main())
