"""A team stack's config: one team on one platform stack of the same Pulumi project.

A stack file that holds `amlplatform:team` is a team stack; it names its platform stack with
`amlplatform:platformStack` and holds nothing else of the platform's:

    config:
      amlplatform:platformStack: prod
      amlplatform:team:
        name: fraud
        dataScientists: [{objectId: ..., type: Group}]
        members: [...]
        containers: [fraud-raw]

The program reads everything else (IDs, names, tenant, subnet, instance settings, role
definition IDs) from the platform stack's outputs through a StackReference. Offline, loading
a team stack also loads its platform stack's file and checks what no single stack can see
(the preflight below): a team lives in the platform stack or in its own team stack, never
both; containers have one owner; a principal holds a role on a shared scope through one
stack only; a user gets one compute instance per workspace.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml
from pydantic import PrivateAttr, field_validator

from infra.config.errors import ConfigError, ErrorLines
from infra.config.loading import (NAMESPACE, PLATFORM_STACK_KEY, REGISTRY_KEY, STACKS_DIR, TEAM_KEY, StackKind,
                                  check_checkout, display, parse, read_stack_file, stack_file, stack_kind)
from infra.config.stack import StackConfig
from infra.access_grants import shared_grants, shared_roles
from infra.config.base import _StackFile
from pydantic.alias_generators import to_snake

from infra.config.rbac import TEAM_ROLES, TeamConfig
from infra.paths import REPO_ROOT
from infra.types import TeamName

_STACK = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class TeamStackTeam(TeamConfig):
    """One team, as under the platform stack's `teams.<name>`, with its name inside."""

    name: TeamName
    """The team's name: 2-24 lowercase letters, digits or hyphens, starting with a letter, as in `teams`."""


class TeamStackConfig(_StackFile):
    """A team stack: one team on one platform stack, read through a StackReference."""

    platform_stack: str
    """The platform stack this team's resources live on: a stack of this project in stacks/, neither another
    team stack nor the registry stack."""
    team: TeamStackTeam
    """The team: its roles, members and containers, as `teams.<name>` in a platform stack."""

    # Offline: the platform stack's own config, loaded from its file beside this one.
    _platform: StackConfig | None = PrivateAttr(default=None)

    @field_validator("platform_stack")
    @classmethod
    def _platform_stack(cls, v: str) -> str:
        if not _STACK.match(v):
            raise ValueError("must be a stack name of this project (1-100 letters, digits, '-', '_' or '.')")
        return v

    @property
    def platform_config(self) -> StackConfig:
        """The platform stack's config (loaded with this stack by `load`)."""
        if self._platform is None:
            raise ConfigError(f"{self.source}: {PLATFORM_STACK_KEY}: the platform stack's config is not loaded")
        return self._platform

    def required_secrets(self) -> list[str]:
        """A team stack reads no secrets."""
        return []


def parse_team_stack(raw: Mapping[str, Any], source: str, stack: str = "") -> TeamStackConfig:
    """Validate a team stack's `amlplatform:*` keys (other namespaces are ignored); one line per mistake."""
    prefix = NAMESPACE + ":"
    data = {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}
    if "platform" in data:
        raise ConfigError(f"{source}: {prefix}platform: a stack file is a platform stack ({prefix}platform) or a "
                          f"team stack ({TEAM_KEY}), not both: platform settings live in the platform stack")
    allowed = [f.alias or name for name, f in TeamStackConfig.model_fields.items()]
    unknown = [k for k in data if k not in allowed]
    if unknown:
        raise ConfigError(f"{source}: {prefix}{unknown[0]}: unknown key in a team stack (allowed: "
                          f"{', '.join(allowed)}); platform settings live in the platform stack it names")
    if PLATFORM_STACK_KEY[len(prefix):] not in data:
        raise ConfigError(f"{source}: {PLATFORM_STACK_KEY}: required key is missing (the platform stack this "
                          "team runs on, such as prod)")
    cfg = ErrorLines(NAMESPACE, TeamStackConfig).validate(data, source)
    cfg._source = source
    cfg._stack = stack
    return cfg


def load(stack: str, root: Path | str, raw: dict[str, Any]) -> TeamStackConfig:
    """A team stack file's config with its platform stack's, checked against the platform and its other team stacks."""
    path = stack_file(stack, root)
    cfg = parse_team_stack(raw, display(path), stack)
    cfg._root = str(Path(root))
    cfg._platform = platform_of(cfg, Path(root))
    preflight(cfg, siblings(Path(root), cfg))
    return cfg


def from_pulumi(raw: dict[str, Any]) -> TeamStackConfig:
    """The running team stack's config, as the pulumi engine hands it over (the platform's values come from its
    outputs; of its stack file, only the kind is read)."""
    import pulumi

    stack = pulumi.get_stack()
    cfg = parse_team_stack(raw, f"{STACKS_DIR}/Pulumi.{stack}.yaml", stack)
    check_checkout()
    cfg._root = str(REPO_ROOT)
    # The named stack's own file, where the checkout has it, says what kind of stack it is.
    path = stack_file(cfg.platform_stack, REPO_ROOT)
    if path.is_file():
        refuse_kind(cfg, stack_kind(read_stack_file(path)))
    return cfg


def refuse_kind(cfg: TeamStackConfig, kind: StackKind) -> None:
    """A team stack's platform stack must be a platform stack: not another team stack, not the registry stack
    (which has no workspace, data lake or identities for a team)."""
    if kind == "platform":
        return
    what = "a team stack" if kind == "team" else "the registry stack (it holds no workspace)"
    raise ConfigError(f"{cfg.source}: {PLATFORM_STACK_KEY}: {cfg.platform_stack!r} is {what}; a team stack runs on "
                      f"a platform stack (an environment: neither {TEAM_KEY} nor {REGISTRY_KEY} in its file)")


def platform_of(cfg: TeamStackConfig, root: Path) -> StackConfig:
    """The platform stack the team stack names: a platform stack file in stacks/, or one clear line."""
    name = cfg.platform_stack
    path = stack_file(name, root)
    if not path.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in path.parent.glob("Pulumi.*.yaml"))
        raise ConfigError(f"{cfg.source}: {PLATFORM_STACK_KEY}: no stack {name!r}: {display(path)} does not exist "
                          f"(stacks: {', '.join(known) or 'none'})")
    raw = read_stack_file(path)
    refuse_kind(cfg, stack_kind(raw))
    platform = parse(raw, display(path), name)
    platform._root = str(root)
    return platform


# ---- the preflight across stacks ------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """A team that holds grants, containers or members: in the platform stack or in a team stack."""

    team: str
    where: str  # the stack file it is written in

    def __str__(self) -> str:
        return f"team {self.team} ({self.where})"


@functools.lru_cache(maxsize=4096)
def _sibling(path: str, mtime_ns: int, size: int) -> TeamStackConfig | None:
    """A team stack file parsed once per version of it; None for a file that is not one (or is broken:
    its own plan reports that)."""
    try:
        raw = read_stack_file(Path(path))
        if stack_kind(raw) != "team":
            return None
        return parse_team_stack(raw, display(Path(path)), Path(path).name[len("Pulumi."):-len(".yaml")])
    except (ConfigError, yaml.YAMLError):
        return None


def siblings(root: Path, cfg: TeamStackConfig) -> list[TeamStackConfig]:
    """The other team stacks on the same platform stack, in file-name order."""
    out = []
    for path in sorted((root / "stacks").glob("Pulumi.*.yaml")):
        if path.name == f"Pulumi.{cfg.stack}.yaml":
            continue
        st = path.stat()
        other = _sibling(str(path), st.st_mtime_ns, st.st_size)
        if other is not None and other.platform_stack == cfg.platform_stack:
            out.append(other)
    return out


def conflicts(cfg: TeamStackConfig, platform_teams: Mapping[str, Sequence[str]], instance_users: Sequence[str],
              where: str) -> str | None:
    """What the team stack shares with its platform stack's own teams (`where` names that stack), as one
    line, or None. Offline from the platform's file, under `pulumi up` from its outputs."""
    team = cfg.team
    if team.name in platform_teams:
        return (f"{cfg.source}: {TEAM_KEY}.name: team {team.name!r} is also in {where}'s {NAMESPACE}:teams; a team "
                "lives in the platform stack or in its own team stack, never both: offboard it from one")
    owners = {c: n for n, containers in platform_teams.items() for c in containers}
    for i, container in enumerate(team.containers):
        if container in owners:
            return (f"{cfg.source}: {TEAM_KEY}.containers[{i}]: already belongs to team {owners[container]} ({where}): "
                    f"a container has one owning team, got {json.dumps(container)}")
    for i, member in enumerate(team.members):
        if member in instance_users:
            return (f"{cfg.source}: {TEAM_KEY}.members[{i}]: user {member} already has a compute instance in {where}; "
                    "a user gets one instance per workspace: list them in one team's members")
    return None


def preflight(cfg: TeamStackConfig, others: list[TeamStackConfig]) -> None:
    """What the team stack must not share with its platform stack or the other team stacks on it."""
    platform = cfg.platform_config
    team = cfg.team
    instances = platform.compute.instances
    members = [m for t in platform.teams.values() for m in t.members]
    in_platform = (instances.users if instances.users is not None else members) if instances.enabled else []
    problem = conflicts(cfg, {n: t.containers for n, t in platform.teams.items()}, in_platform, platform.source)
    if problem:
        raise ConfigError(problem)
    for other in others:
        if other.team.name == team.name:
            raise ConfigError(f"{cfg.source}: {TEAM_KEY}.name: team {team.name!r} already has a team stack on "
                              f"{cfg.platform_stack}: {other.source}")
        for i, container in enumerate(team.containers):
            if container in other.team.containers:
                raise ConfigError(f"{cfg.source}: {TEAM_KEY}.containers[{i}]: already belongs to team "
                                  f"{other.team.name} ({other.source}): a container has one owning team, got "
                                  f"{json.dumps(container)}")
        for i, member in enumerate(team.members):
            if instances.enabled and member in other.team.members:
                raise ConfigError(f"{cfg.source}: {TEAM_KEY}.members[{i}]: user {member} already has a compute "
                                  f"instance through team {other.team.name} ({other.source}); a user gets one "
                                  "instance per workspace: list them in one team's members")
    # Grants on the scopes every team shares: ARM keeps one assignment per (scope, role, principal).
    held = shared_grants(platform, [(o.team.name, o.team, Holder(o.team.name, o.source)) for o in others])
    for role_key in TEAM_ROLES:
        for i, p in enumerate(getattr(team, to_snake(role_key))):
            for scope, role in shared_roles(role_key):
                holder = held.get((scope, role, p.object_id))
                if holder is not None:
                    raise ConfigError(
                        f"{cfg.source}: {TEAM_KEY}.{role_key}[{i}].objectId: {p.object_id} already holds {role} on "
                        f"the {scope.replace('-', ' ')} through {holder}; ARM keeps one assignment per scope, role "
                        "and principal, so both stacks would manage it and destroying either removes it: grant it in "
                        "one stack (a group per team avoids this)")


