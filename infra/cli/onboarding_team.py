"""Onboard a team as its own team stack per environment, or offboard it, instead of editing the platform stack.

`onboard --stack-kind team` writes `stacks/Pulumi.<platform>-<team>.yaml` for each platform stack;
every new file is validated as a whole team stack (its model, its platform stack, the preflight
across the platform's other team stacks) before anything is written, and nothing is written when
any file fails. `offboard` removes the files again, so offboarding after onboarding gives back
the original stacks/ byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from ruamel.yaml.comments import CommentedMap

from infra.config.stack import PLATFORM_STACK_KEY, TEAM_KEY, ConfigError, read_stack_file, stack_file, stack_kind
from infra.config.team_stack import TeamStackConfig, parse_team_stack
from infra.config.team_stack import load as load_team_stack
from infra.cli.onboarding import Edit, TeamSpec, _dump, check_spec

HEADER = ("# Team {team} on the platform stack {platform}: its containers, datastores, grants and compute\n"
          "# instances (written by `amlplatform onboard --stack-kind team`; the platform's values come from\n"
          "# its outputs). Deploy it after {platform}: pulumi up -s {stack}\n")


def team_stack_name(platform: str, team: str) -> str:
    """A team stack is named after its platform stack and its team: prod-fraud."""
    return f"{platform}-{team}"


def platform_of_file(root: Path, stack: str) -> str | None:
    """The platform stack a stack file is a team stack on; None for a platform stack (or a file that does not
    read: planning it reports what is wrong)."""
    try:
        raw = read_stack_file(stack_file(stack, root))
    except ConfigError:
        return None
    return str(raw.get(PLATFORM_STACK_KEY)) if stack_kind(raw) == "team" else None


def team_stacks_of(root: Path, stacks: list[str], team: str) -> list[str]:
    """The team stacks (among `stacks`) that hold team `team`."""
    out = []
    for stack in stacks:
        try:
            raw = read_stack_file(stack_file(stack, root))
        except ConfigError:
            continue
        if stack_kind(raw) == "team" and isinstance(raw[TEAM_KEY], dict) and raw[TEAM_KEY].get("name") == team:
            out.append(stack)
    return out


def render(spec: TeamSpec, platform: str) -> str:
    doc = CommentedMap()
    config = CommentedMap()
    config[PLATFORM_STACK_KEY] = platform
    team = CommentedMap([("name", spec.name)])
    team.update(spec.as_yaml())
    config[TEAM_KEY] = team
    doc["config"] = config
    header = HEADER.format(team=spec.name, platform=platform, stack=team_stack_name(platform, spec.name))
    return header + _dump(doc)


def plan_onboard(root: Path, platforms: list[str], spec: TeamSpec) -> list[Edit]:
    """One new team stack file per platform stack, each validated as a whole; none written yet."""
    check_spec(spec)
    edits = []
    for platform in platforms:
        stack = team_stack_name(platform, spec.name)
        path = stack_file(stack, root)
        shown = f"stacks/{path.name}"
        if path.exists():
            raise ConfigError(f"{shown}: already exists: team {spec.name} has a team stack on {platform}; offboard it "
                              "first or edit the file")
        text = render(spec, platform)
        raw = (yaml.safe_load(text) or {}).get("config") or {}
        parse_team_stack(raw, shown, stack)  # the model first: its mistakes name this file
        edits.append(Edit(stack, path, "", text, load_team_stack(stack, root, raw)))
    return edits


def plan_offboard(root: Path, stacks: list[str]) -> list[Edit]:
    """Each team stack file to remove (its config loaded, so its plan shows what a destroy would delete)."""
    edits = []
    for stack in stacks:
        path = stack_file(stack, root)
        raw = read_stack_file(path)
        cfg = load_team_stack(stack, root, raw)
        edits.append(Edit(stack, path, path.read_text(encoding="utf-8"), "", cfg))
    return edits


def describe(cfg: TeamStackConfig) -> str:
    return f"team stack on {cfg.platform_stack}"
