"""Add a team to stack files, or take it out, keeping every comment and the key order.

Every edited file is re-validated as a whole stack before anything is
written; one bad value anywhere means no file changes. `offboard` after
`onboard` gives back the original bytes.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from infra.config import AnyStackConfig, ConfigError, StackConfig, parse, stack_file
from infra.topology import TEAM_ROLE_KEYS
from infra.types import TEAM_NAME_RULE, is_guid, is_team_name

TEAMS_KEY = "amlplatform:teams"
_KINDS = {"group": "Group", "user": "User", "sp": "ServicePrincipal"}
# CLI option (the key in snake case: --data-scientists) -> team role key, in the config's order.
ROLE_OPTIONS = {"".join(f"_{c.lower()}" if c.isupper() else c for c in key): key for key in TEAM_ROLE_KEYS}


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    # The stack files' own style: 2-space mappings, sequences indented under their key.
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    return y


def parse_principal(text: str, option: str) -> dict[str, str]:
    """`GUID` (a group), or `group:GUID`, `user:GUID`, `sp:GUID`."""
    kind, _, guid = text.rpartition(":")
    kind = kind or "group"
    if kind not in _KINDS or not is_guid(guid):
        raise ConfigError(
            f"--{option.replace('_', '-')}: {text!r} must be an Entra object ID (a GUID), optionally "
            "prefixed group:, user: or sp:"
        )
    return {"objectId": guid.lower(), "type": _KINDS[kind]}


@dataclass
class TeamSpec:
    name: str
    roles: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # config key -> principals
    members: list[str] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)

    def as_yaml(self) -> CommentedMap:
        team = CommentedMap()
        for key in TEAM_ROLE_KEYS:
            if self.roles.get(key):
                seq = CommentedSeq()
                for p in self.roles[key]:
                    seq.append(CommentedMap([("objectId", p["objectId"]), ("type", p["type"])]))
                team[key] = seq
        if self.members:
            team["members"] = CommentedSeq(self.members)
        if self.containers:
            team["containers"] = CommentedSeq(self.containers)
        return team


@dataclass
class Edit:
    """A stack file's text before and after; "" before: a new file (a team stack), "" after: the file goes."""

    stack: str
    path: Path
    before: str
    after: str
    config: AnyStackConfig


def _load(path: Path) -> Any:
    doc = _yaml().load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
        raise ConfigError(f"{path}: must be a mapping with a `config:` key")
    return doc


def _dump(doc: Any) -> str:
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def _validate(stack: str, path: Path, text: str, shown: str) -> StackConfig:
    raw = (yaml.safe_load(text) or {}).get("config") or {}
    cfg = parse(raw, shown, stack)
    # Same repository root as load_stack gives, so the plan gains compare like with like (assets).
    cfg._root = str(path.resolve().parent.parent)
    return cfg


def check_spec(spec: TeamSpec) -> None:
    if not is_team_name(spec.name):
        raise ConfigError(f"--team: {spec.name!r} must be {TEAM_NAME_RULE}")
    if not any(spec.roles.values()) and not spec.members and not spec.containers:
        raise ConfigError("onboard: give the team at least one role (--data-scientists, --readers, "
                          "--compute-operators, --job-submitters), --members or --containers")


def plan_onboard(root: Path, stacks: list[str], spec: TeamSpec, team_stacks: dict[str, str] | None = None
                 ) -> list[Edit]:
    """Add the team to each platform stack file. `team_stacks` maps a platform stack to a team stack file that
    already holds this team on it (a team lives in one place)."""
    check_spec(spec)
    edits = []
    for stack in stacks:
        path = stack_file(stack, root)
        shown = f"stacks/{path.name}"
        if team_stacks and stack in team_stacks:
            raise ConfigError(f"{shown}: {TEAMS_KEY}.{spec.name}: team {spec.name!r} has its own team stack on {stack} "
                              f"(stacks/Pulumi.{team_stacks[stack]}.yaml); a team lives in the platform stack or in its "
                              "own team stack, never both")
        before = path.read_text(encoding="utf-8")
        doc = _load(path)
        cfg = doc["config"]
        teams = cfg.get(TEAMS_KEY)
        if teams is None:
            teams = CommentedMap()
            cfg[TEAMS_KEY] = teams
        elif not isinstance(teams, dict):
            raise ConfigError(f"{shown}: {TEAMS_KEY}: must be a mapping of team name to its settings")
        if spec.name in teams:
            raise ConfigError(f"{shown}: {TEAMS_KEY}.{spec.name}: team already exists; offboard it first or "
                              "edit the file")
        teams[spec.name] = spec.as_yaml()
        after = _dump(doc)
        edits.append(Edit(stack, path, before, after, _validate(stack, path, after, shown)))
    return edits


def plan_offboard(root: Path, stacks: list[str], team: str) -> list[Edit]:
    edits = []
    for stack in stacks:
        path = stack_file(stack, root)
        shown = f"stacks/{path.name}"
        before = path.read_text(encoding="utf-8")
        doc = _load(path)
        teams = doc["config"].get(TEAMS_KEY)
        if not isinstance(teams, dict) or team not in teams:
            raise ConfigError(f"{shown}: {TEAMS_KEY}.{team}: no such team in this stack")
        del teams[team]
        if not teams:
            del doc["config"][TEAMS_KEY]
        after = _dump(doc)
        edits.append(Edit(stack, path, before, after, _validate(stack, path, after, shown)))
    return edits


def stacks_with_team(root: Path, stacks: list[str], team: str) -> list[str]:
    out = []
    for stack in stacks:
        raw = (yaml.safe_load(stack_file(stack, root).read_text(encoding="utf-8")) or {}).get("config") or {}
        if team in (raw.get(TEAMS_KEY) or {}):
            out.append(stack)
    return out


def write(edits: list[Edit]) -> None:
    """Replace, create or remove each file atomically (all edits were validated before the first write)."""
    for e in edits:
        if not e.after:
            e.path.unlink()
            continue
        fd, tmp = tempfile.mkstemp(prefix=f".{e.path.name}.", dir=e.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(e.after)
        os.replace(tmp, e.path)
