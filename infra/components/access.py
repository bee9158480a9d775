"""People's access: the platform owners, the CI/CD principal, and each team's roles.

Scopes are as narrow as the role allows: the AzureML roles on the workspace, the
data roles Azure ML needs on its identity-only default storage, data roles on the
team's own containers in the data lake, and the resource group only for the
platform owners group (the one holder of a privileged role).

ARM keeps one assignment per (scope, role, principal): a second one under another
name is a 409 RoleAssignmentExists, and deleting either removes the grant. So a
principal that several team roles (or teams) give the same role on the same scope
gets one assignment, named by that triple alone: adding or removing a team never
renames, and so never deletes, a grant another team still gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
from pulumi_azure_native import authorization

from infra.naming import stable_guid
from infra.components.common import Common, Component, PrincipalType, PropsError, assign_role, builtin_role_id

# What the job submitter may do: run and watch jobs and read every asset, but not
# create or delete compute nor change the workspace. NotActions spell out the
# refusals so a future wildcard in Actions cannot grant them by accident.
JOB_SUBMITTER_ACTIONS = (
    "Microsoft.MachineLearningServices/workspaces/read",
    "Microsoft.MachineLearningServices/workspaces/*/read",
    "Microsoft.MachineLearningServices/workspaces/experiments/*",
    "Microsoft.MachineLearningServices/workspaces/jobs/*",
    "Microsoft.MachineLearningServices/workspaces/environments/build/action",
    "Microsoft.MachineLearningServices/workspaces/metadata/artifacts/write",
    "Microsoft.MachineLearningServices/workspaces/metadata/snapshots/write",
)
JOB_SUBMITTER_NOT_ACTIONS = (
    "Microsoft.MachineLearningServices/workspaces/computes/write",
    "Microsoft.MachineLearningServices/workspaces/computes/delete",
    "Microsoft.MachineLearningServices/workspaces/write",
    "Microsoft.MachineLearningServices/workspaces/delete",
    "Microsoft.MachineLearningServices/workspaces/listKeys/action",
    "Microsoft.MachineLearningServices/workspaces/datastores/listsecrets/action",
)



@dataclass(frozen=True)
class TeamRole:
    """What one team role key grants, and where."""

    workspace: str
    """The role on the workspace (a built-in role's name, or job-submitter: the stack's custom role)."""
    workspace_storage: tuple[str, ...] = ()
    """Roles on the workspace's default storage account. With shared keys off, people reach AML's own
    containers and file share as themselves: Storage Blob Data Contributor and Storage File Data Privileged
    Contributor for those who work in the workspace, the Reader pair for read-only users
    (https://learn.microsoft.com/azure/machine-learning/how-to-disable-local-auth-storage)."""
    containers: str | None = None
    """The role on each of the team's own containers in the data lake; None: no data access."""


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


@dataclass(frozen=True)
class Grantee:
    """A principal people's access is granted to."""

    object_id: str
    """Its Entra object ID."""
    type: PrincipalType
    """User, Group or ServicePrincipal."""


@dataclass(frozen=True)
class Team:
    """One team: who holds which team role, and the team's containers in the data lake."""

    name: str
    """The team's name (teams.<name> in the stack file)."""
    grants: Sequence[tuple[str, Grantee]]
    """(role key of TEAM_GRANTS, principal) pairs."""
    containers: Sequence[str] = ()
    """The team's own containers in the data lake."""


@dataclass
class AccessProps:
    common: Common
    """Placement only (role assignments and definitions take no tags, locks or endpoints); no shared setting."""
    stack_label: str
    """Makes the custom role's name unique in the tenant (the stack's naming base)."""
    resource_group_id: pulumi.Input[str]
    """The stack's resource group ID: the custom role's scope and the platform owners' grant."""
    workspace_id: pulumi.Input[str]
    """The workspace's ARM ID."""
    workspace_storage_id: pulumi.Input[str]
    """ARM ID of the workspace's default storage account (AML's containers and notebooks share)."""
    container_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Team containers in the data lake: name -> ARM ID."""
    platform_owners: Grantee | None = None
    """The platform owners group (Owner on the resource group); None: no rbac section."""
    deployment: Grantee | None = None
    """The CI/CD principal (AzureML Data Scientist on the workspace); None: none named."""
    teams: Sequence[Team] = ()
    """The stack's teams."""

    def __post_init__(self) -> None:
        for team in self.teams:
            for key, _ in team.grants:
                if key not in TEAM_GRANTS:
                    raise PropsError(f"team {team.name}: unknown role {key!r}; known: {sorted(TEAM_GRANTS)}")
            for container in team.containers:
                if container not in self.container_ids:
                    raise PropsError(f"team {team.name}: container {container!r} is not declared on the storage")
        if self.platform_owners is not None and self.platform_owners.type != "Group":
            raise PropsError("the platform owners must be a group")


@dataclass(frozen=True)
class _Grant:
    scope_label: str
    """Stable words for the scope: names the resource, never changes with the teams."""
    scope: pulumi.Input[str]
    """ARM ID the role is granted on."""
    role: str
    """A built-in role's name, or job-submitter."""
    who: Grantee
    """The principal."""


# Scope label -> how a description names it (container labels name their container).
WHERE = {"resource-group": "the resource group", "workspace": "the workspace", "workspace-storage": "the workspace storage"}


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


class AccessComponent(Component):
    SUPPORTS = frozenset[str]()

    def __init__(self, name: str, props: AccessProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Access", name, props.common, opts)
        c = props.common

        self.job_submitter = authorization.RoleDefinition(
            f"{name}-job-submitter",
            role_definition_id=pulumi.Output.from_input(props.resource_group_id).apply(
                lambda rg: stable_guid(rg, "job-submitter")
            ),
            scope=props.resource_group_id,
            role_name=f"AML Job Submitter ({props.stack_label})",
            description="Runs jobs and reads assets in the workspace; cannot create or delete compute or "
            "change workspace settings.",
            role_type="CustomRole",
            permissions=[
                authorization.PermissionArgs(
                    actions=list(JOB_SUBMITTER_ACTIONS), not_actions=list(JOB_SUBMITTER_NOT_ACTIONS)
                )
            ],
            assignable_scopes=[props.resource_group_id],
            opts=pulumi.ResourceOptions(parent=self),
        )

        def role(role_name: str) -> pulumi.Input[str]:
            return self.job_submitter.id if role_name == "job-submitter" else builtin_role_id(c.subscription_id, role_name)

        self.assignments: list[authorization.RoleAssignment] = []
        for g in _unique_grants(props):
            what = "AML Job Submitter" if g.role == "job-submitter" else g.role
            self.assignments.append(assign_role(
                self, f"{name}-{g.scope_label}-{_slug(g.role)}-{g.who.object_id}", g.scope, g.who.object_id,
                g.who.type, role(g.role),
                f"amlplatform access: {what} on {WHERE.get(g.scope_label, g.scope_label.replace('container-', 'container '))}",
            ))

        self.register_outputs({"job_submitter_role_id": self.job_submitter.id})


def _unique_grants(props: AccessProps) -> list[_Grant]:
    """Every grant the access settings imply, once per (scope, role, principal), in a stable order."""
    wanted: list[_Grant] = []
    if props.platform_owners:
        wanted.append(_Grant("resource-group", props.resource_group_id, "Owner", props.platform_owners))
    if props.deployment:
        # CI/CD registers assets and verifies the workspace.
        wanted.append(_Grant("workspace", props.workspace_id, "AzureML Data Scientist", props.deployment))
    for team in props.teams:
        for key, who in team.grants:
            grants = TEAM_GRANTS[key]
            wanted.append(_Grant("workspace", props.workspace_id, grants.workspace, who))
            wanted += [_Grant("workspace-storage", props.workspace_storage_id, r, who) for r in grants.workspace_storage]
            if grants.containers:
                wanted += [_Grant(f"container-{ct}", props.container_ids[ct], grants.containers, who)
                           for ct in team.containers]
    unique: dict[tuple[str, str, str], _Grant] = {}
    for g in wanted:
        unique.setdefault((g.scope_label, g.role, g.who.object_id.lower()), g)
    return list(unique.values())
