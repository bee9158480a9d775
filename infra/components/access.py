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
from typing import Callable, Mapping, Sequence

import pulumi
from pulumi_azure_native import authorization

from infra.access_grants import (  # noqa: F401 (TEAM_GRANTS, Grantee, Team re-exported for the program)
    RESOURCE_GROUP,
    TEAM_GRANTS,
    WHERE,
    WORKSPACE,
    WORKSPACE_STORAGE,
    Grant,
    Grantee,
    Team,
    container_label,
    team_grants,
    unique_grants,
)
from infra.naming import stable_guid
from infra.components.common import Common, PropsError, assign_role, builtin_role_id

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


@dataclass
class AccessProps:
    common: Common
    stack_label: str  # makes the custom role's name unique in the tenant
    resource_group_id: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    # The workspace's default storage account (AML's containers and notebooks share).
    workspace_storage_id: pulumi.Input[str]
    # Team containers in the data lake, by name.
    container_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    platform_owners: Grantee | None = None
    deployment: Grantee | None = None
    teams: Sequence[Team] = ()

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


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def assign_grants(owner: pulumi.Resource, name: str, grants: Sequence[Grant], scopes: Mapping[str, pulumi.Input[str]],
                  role_id: Callable[[str], pulumi.Input[str]]) -> list[authorization.RoleAssignment]:
    """One assignment per grant, named by its scope label, role and principal (never by a team)."""
    out = []
    for g in grants:
        what = "AML Job Submitter" if g.role == "job-submitter" else g.role
        where = WHERE.get(g.scope_label, g.scope_label.replace("container-", "container "))
        out.append(assign_role(
            owner, f"{name}-{g.scope_label}-{_slug(g.role)}-{g.who.object_id}", scopes[g.scope_label],
            g.who.object_id, g.who.type, role_id(g.role), f"amlplatform access: {what} on {where}",
        ))
    return out


class AccessComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: AccessProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Access", name, None, opts)
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

        scopes: dict[str, pulumi.Input[str]] = {RESOURCE_GROUP: props.resource_group_id, WORKSPACE: props.workspace_id,
                                                WORKSPACE_STORAGE: props.workspace_storage_id}
        scopes.update({container_label(ct): cid for ct, cid in props.container_ids.items()})
        self.assignments = assign_grants(self, name, _unique_grants(props), scopes, role)

        self.register_outputs({"job_submitter_role_id": self.job_submitter.id})


def _unique_grants(props: AccessProps) -> list[Grant]:
    """Every grant the access settings imply, once per (scope, role, principal), in a stable order."""
    wanted: list[Grant] = []
    if props.platform_owners:
        wanted.append(Grant(RESOURCE_GROUP, "Owner", props.platform_owners))
    if props.deployment:
        # CI/CD registers assets and verifies the workspace.
        wanted.append(Grant(WORKSPACE, "AzureML Data Scientist", props.deployment))
    for team in props.teams:
        wanted += team_grants(team)
    return unique_grants(wanted)
