"""The `amlplatform:rbac` and `amlplatform:teams` sections: who may do what, per stack.

Privileged roles (Owner, Contributor, User Access Administrator) go to the
platform owners group only; teams get the AzureML roles, the job-submitter
custom role and data roles on the containers they own.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidatorFunctionWrapHandler, field_validator, model_validator
from pydantic.alias_generators import to_snake

from infra.config.base import _Section
from infra.config.errors import _At, _Rule, refuse_repeats
from infra.types import ContainerName, ObjectId, PrincipalType, TeamName, UserObjectId

# Team role key -> what it grants (documented in README; pinned by tests).
TEAM_ROLES = ("readers", "dataScientists", "computeOperators", "jobSubmitters")


def _not_azureml(name: str) -> str:
    if name.startswith("azureml"):
        raise ValueError("must not start with azureml: those containers are Azure ML's own")
    return name


# A team's blob container in the data lake; Azure ML keeps the azureml* names for itself.
TeamContainer = Annotated[ContainerName, AfterValidator(_not_azureml)]


class Principal(_Section):
    """An Entra principal a role goes to."""

    object_id: ObjectId
    """Its Entra object ID (a GUID)."""
    type: PrincipalType
    """User, Group or ServicePrincipal: the role assignment's principal type."""


class TeamConfig(_Section):
    """A team's roles on the workspace, its workspace storage and its own containers (README: Identity, RBAC and
    teams)."""

    readers: list[Principal] = Field(default_factory=list)
    """Reader on the workspace; Storage Blob Data Reader and Storage File Data Privileged Reader on the workspace
    storage; Storage Blob Data Reader on the team's containers."""
    data_scientists: list[Principal] = Field(default_factory=list)
    """AzureML Data Scientist on the workspace; Storage Blob Data Contributor and Storage File Data Privileged
    Contributor on the workspace storage; Storage Blob Data Contributor on the team's containers."""
    compute_operators: list[Principal] = Field(default_factory=list)
    """AzureML Compute Operator on the workspace."""
    job_submitters: list[Principal] = Field(default_factory=list)
    """The stack's AML Job Submitter custom role on the workspace; Storage Blob Data Contributor on the workspace
    storage; Storage Blob Data Reader on the team's containers."""
    members: list[UserObjectId] = Field(default_factory=list)
    """Users with a personal compute instance (the compute section decides whether instances exist)."""
    containers: list[TeamContainer] = Field(default_factory=list)
    """The team's private blob containers in the data lake, retained on delete: 3-63 lowercase letters, digits
    and single hyphens, not `azureml*`, each owned by one team."""

    @field_validator("members", mode="wrap")
    @classmethod
    def _members(cls, v: Any, handler: ValidatorFunctionWrapHandler) -> list[str]:
        return refuse_repeats(handler(v), v, "repeats a member listed earlier")

    @field_validator("containers", mode="wrap")
    @classmethod
    def _containers(cls, v: Any, handler: ValidatorFunctionWrapHandler) -> list[str]:
        return refuse_repeats(handler(v), v, "repeats a container listed earlier")

    @model_validator(mode="after")
    def _no_repeats(self) -> "TeamConfig":
        for key in TEAM_ROLES:
            ids = [p.object_id for p in getattr(self, to_snake(key))]
            for i, x in enumerate(ids):
                if x in ids[:i]:
                    raise _At(f"{key}[{i}].objectId", "repeats a principal listed earlier in this role", x)
        return self

    def grants(self) -> list[tuple[str, Principal]]:
        """(role key, principal) for every grant, in config order."""
        return [(key, p) for key in TEAM_ROLES for p in getattr(self, to_snake(key))]


class RbacConfig(_Section):
    platform_owners: Principal
    """The one group that may hold Owner, Contributor or User Access Administrator (Owner on the resource group);
    must be a Group."""
    deployment: Principal | None = None
    """The CI/CD principal that runs `pulumi up`: AzureML Data Scientist on the workspace, to register assets and
    verify the stack (the registry stack: AzureML Registry User on the registry, its only writer). Its deployment
    rights are granted outside the stack."""
    role_propagation_seconds: int = Field(default=60, ge=0, le=600)
    """Azure RBAC can take minutes to reach the resource providers: the workspace (and the AKS attach) waits this
    long after its identity's grants before it is created."""

    @field_validator("platform_owners")
    @classmethod
    def _owners_group(cls, v: Principal) -> Principal:
        if v.type != "Group":
            raise _At("type", "must be Group: privileged roles go to an Entra group, not a person", v.type)
        return v


def check_teams(teams: dict[str, TeamConfig]) -> None:
    """A container belongs to one team."""
    seen: dict[str, str] = {}
    for name, team in teams.items():
        for i, container in enumerate(team.containers):
            if container in seen:
                raise _Rule(f"teams.{name}.containers[{i}]", f"already belongs to team {seen[container]}: a "
                            "container has one owning team", container)
            seen[container] = name


# The teams of a stack by name: 2-24 lowercase letters, digits or hyphens, starting with a letter.
Teams = dict[TeamName, TeamConfig]
