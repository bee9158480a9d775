"""People's access: the platform owners, the CI/CD principal, and each team's roles.

Scopes are as narrow as the role allows: the AzureML roles on the workspace,
data roles on the team's own containers, and the resource group only for the
platform owners group (the one holder of a privileged role).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
from pulumi_azure_native import authorization

from ..naming import stable_guid
from .common import Common, PrincipalType, PropsError, assign_role, builtin_role_id

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

# Team role key -> (role on the workspace, data role on the team's containers or None).
TEAM_GRANTS: dict[str, tuple[str, str | None]] = {
    "readers": ("Reader", "Storage Blob Data Reader"),
    "dataScientists": ("AzureML Data Scientist", "Storage Blob Data Contributor"),
    "computeOperators": ("AzureML Compute Operator", None),
    "jobSubmitters": ("job-submitter", "Storage Blob Data Reader"),
}


@dataclass(frozen=True)
class Grantee:
    object_id: str
    type: PrincipalType


@dataclass(frozen=True)
class Team:
    name: str
    grants: Sequence[tuple[str, Grantee]]  # (role key of TEAM_GRANTS, principal)
    containers: Sequence[str] = ()


@dataclass
class AccessProps:
    common: Common
    stack_label: str  # makes the custom role's name unique in the tenant
    resource_group_id: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
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


class AccessComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: AccessProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Access", name, None, opts)
        c = props.common
        self.assignments: list[authorization.RoleAssignment] = []

        def role(role_name: str) -> pulumi.Input[str]:
            return self.job_submitter.id if role_name == "job-submitter" else builtin_role_id(c.subscription_id, role_name)

        def grant(key: str, scope: pulumi.Input[str], who: Grantee, role_name: str, why: str) -> None:
            self.assignments.append(
                assign_role(self, f"{name}-{key}-{who.object_id}", scope, who.object_id, who.type,
                            role(role_name), why)
            )

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

        if props.platform_owners:
            grant("platform-owners", props.resource_group_id, props.platform_owners, "Owner",
                  "Platform owners group: the only holder of a privileged role")
        if props.deployment:
            grant("deployment", props.workspace_id, props.deployment, "AzureML Data Scientist",
                  "CI/CD principal: registers assets and verifies the workspace")

        for team in props.teams:
            for key, who in team.grants:
                workspace_role, data_role = TEAM_GRANTS[key]
                grant(f"team-{team.name}-{key}", props.workspace_id, who, workspace_role,
                      f"Team {team.name}: {key}")
                if data_role:
                    for container in team.containers:
                        grant(f"team-{team.name}-{key}-{container}", props.container_ids[container], who,
                              data_role, f"Team {team.name}: {key} on its container {container}")

        self.register_outputs({"job_submitter_role_id": self.job_submitter.id})
