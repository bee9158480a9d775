"""Which roles each team grant carries, and where: plain tables the platform, its team stacks and
the preflight across them share (no Pulumi here, so validating a stack file stays light).

ARM keeps one assignment per (scope, role, principal): a second one under another name is a
409 RoleAssignmentExists, and deleting either removes the grant. So grants are deduplicated
by that triple and named by it, never by the team that asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

from infra.config.rbac import PrincipalType, TeamConfig

if TYPE_CHECKING:
    from infra.config.stack import StackConfig


@dataclass(frozen=True)
class TeamRole:
    """What one team role key grants, and where."""

    workspace: str
    # On the workspace's default storage account. With shared keys off, people reach AML's own
    # containers and file share as themselves: Storage Blob Data Contributor and Storage File Data
    # Privileged Contributor for those who work in the workspace, the Reader pair for read-only users
    # (https://learn.microsoft.com/azure/machine-learning/how-to-disable-local-auth-storage).
    workspace_storage: tuple[str, ...] = ()
    # On each of the team's own containers in the data lake (None: no data access).
    containers: str | None = None


TEAM_GRANTS: dict[str, TeamRole] = {
    "readers": TeamRole("Reader", ("Storage Blob Data Reader", "Storage File Data Privileged Reader"),
                        "Storage Blob Data Reader"),
    # Notebooks, compute instances and studio uploads: blob and file, read and write.
    "dataScientists": TeamRole("AzureML Data Scientist",
                               ("Storage Blob Data Contributor", "Storage File Data Privileged Contributor"),
                               "Storage Blob Data Contributor"),
    # Compute only: no data.
    "computeOperators": TeamRole("AzureML Compute Operator"),
    # Submitting a job uploads its code snapshot to the default blob datastore; no notebooks share.
    "jobSubmitters": TeamRole("job-submitter", ("Storage Blob Data Contributor",), "Storage Blob Data Reader"),
}


# Every role a team grant may carry ("job-submitter" is the stack's custom role): what the platform
# exports as roleDefinitionIds for its team stacks.
TEAM_ROLE_NAMES = tuple(sorted({r for t in TEAM_GRANTS.values() for r in (t.workspace, *t.workspace_storage, t.containers)
                                if r}))


@dataclass(frozen=True)
class Grantee:
    object_id: str
    type: PrincipalType


@dataclass(frozen=True)
class Team:
    name: str
    grants: Sequence[tuple[str, Grantee]]  # (role key of TEAM_GRANTS, principal)
    containers: Sequence[str] = ()


# Scope labels: stable words for a scope, naming the resource and never the teams (a grant's URN holds it).
RESOURCE_GROUP, WORKSPACE, WORKSPACE_STORAGE = "resource-group", "workspace", "workspace-storage"
# Scope label -> how a description names it (container labels name their container).
WHERE = {RESOURCE_GROUP: "the resource group", WORKSPACE: "the workspace", WORKSPACE_STORAGE: "the workspace storage"}
# Scopes every team shares: one principal's role on them is one assignment, whoever grants it.
SHARED_SCOPES = (RESOURCE_GROUP, WORKSPACE, WORKSPACE_STORAGE)


def container_label(container: str) -> str:
    return f"container-{container}"


@dataclass(frozen=True)
class Grant:
    scope_label: str
    role: str  # a built-in role's name, or "job-submitter" (the stack's custom role)
    who: Grantee


def team_grants(team: Team) -> list[Grant]:
    """Every grant a team's role keys imply, in config order (repeats included)."""
    out: list[Grant] = []
    for key, who in team.grants:
        role = TEAM_GRANTS[key]
        out.append(Grant(WORKSPACE, role.workspace, who))
        out += [Grant(WORKSPACE_STORAGE, r, who) for r in role.workspace_storage]
        if role.containers:
            out += [Grant(container_label(ct), role.containers, who) for ct in team.containers]
    return out


def unique_grants(grants: Iterable[Grant]) -> list[Grant]:
    """Once per (scope, role, principal), first occurrence first: ARM keeps one assignment per triple."""
    unique: dict[tuple[str, str, str], Grant] = {}
    for g in grants:
        unique.setdefault((g.scope_label, g.role, g.who.object_id.lower()), g)
    return list(unique.values())


def shared_roles(role_key: str) -> list[tuple[str, str]]:
    """(scope label, role) a team role key grants on the scopes every team shares."""
    role = TEAM_GRANTS[role_key]
    return [(WORKSPACE, role.workspace), *((WORKSPACE_STORAGE, r) for r in role.workspace_storage)]


def team_from_config(name: str, team: TeamConfig) -> Team:
    return Team(name, [(key, Grantee(p.object_id, p.type)) for key, p in team.grants()], tuple(team.containers))


def shared_grants(platform: "StackConfig", teams: Sequence[tuple[str, TeamConfig, object]] = ()
                  ) -> dict[tuple[str, str, str], object]:
    """(scope label, role, principal) -> who holds it, for every grant on a shared scope the platform stack
    makes (its owners, CI/CD and in-stack teams) and the given team stacks' teams make (with their holders)."""
    held: dict[tuple[str, str, str], object] = {}

    def add(grants: Iterable[Grant], holder: object) -> None:
        for g in grants:
            if g.scope_label in SHARED_SCOPES:
                held.setdefault((g.scope_label, g.role, g.who.object_id.lower()), holder)

    rbac = platform.rbac
    if rbac is not None:
        add([Grant(RESOURCE_GROUP, "Owner", Grantee(rbac.platform_owners.object_id, rbac.platform_owners.type))],
            f"{platform.source}'s amlplatform:rbac.platformOwners")
        if rbac.deployment is not None:
            add([Grant(WORKSPACE, "AzureML Data Scientist", Grantee(rbac.deployment.object_id, rbac.deployment.type))],
                f"{platform.source}'s amlplatform:rbac.deployment")
    for name, team in platform.teams.items():
        add(team_grants(team_from_config(name, team)), f"team {name} ({platform.source})")
    for name, team, holder in teams:
        add(team_grants(team_from_config(name, team)), holder)
    return held
