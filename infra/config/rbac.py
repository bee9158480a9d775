"""The `amlplatform:rbac` and `amlplatform:teams` sections: who may do what, per stack.

Privileged roles (Owner, Contributor, User Access Administrator) go to the
platform owners group only; teams get the AzureML roles, the job-submitter
custom role and data roles on the containers they own.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import _At, _Rule, _Section

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TEAM = re.compile(r"^[a-z][a-z0-9-]{1,23}$")
# Blob container names: 3-63 lowercase letters, digits and single hyphens, alphanumeric at both ends.
_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")

PrincipalType = Literal["User", "Group", "ServicePrincipal"]

# Team role key -> what it grants (documented in README; pinned by tests).
TEAM_ROLES = ("readers", "dataScientists", "computeOperators", "jobSubmitters")


def _guid(value: str) -> str:
    if not _GUID.match(value):
        raise ValueError("must be an Entra object ID (a GUID)")
    return value.lower()


class Principal(_Section):
    object_id: str
    type: PrincipalType

    @field_validator("object_id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _guid(v)


class TeamConfig(_Section):
    readers: list[Principal] = Field(default_factory=list)
    data_scientists: list[Principal] = Field(default_factory=list)
    compute_operators: list[Principal] = Field(default_factory=list)
    job_submitters: list[Principal] = Field(default_factory=list)
    # Users with a personal compute instance (the compute section decides whether instances exist).
    members: list[str] = Field(default_factory=list)
    containers: list[str] = Field(default_factory=list)

    @field_validator("members")
    @classmethod
    def _members(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for i, x in enumerate(v):
            if not _GUID.match(x):
                raise _At(f"[{i}]", "must be a user object ID (a GUID)", x)
            if x.lower() in out:
                raise _At(f"[{i}]", "repeats a member listed earlier", x)
            out.append(x.lower())
        return out

    @field_validator("containers")
    @classmethod
    def _containers(cls, v: list[str]) -> list[str]:
        for i, name in enumerate(v):
            if not _CONTAINER.match(name):
                raise _At(f"[{i}]", "must be 3-63 lowercase letters, digits and single hyphens, starting and "
                          "ending with a letter or digit", name)
            if name.startswith("azureml"):
                raise _At(f"[{i}]", "must not start with azureml: those containers are Azure ML's own", name)
            if name in v[:i]:
                raise _At(f"[{i}]", "repeats a container listed earlier", name)
        return v

    @model_validator(mode="after")
    def _no_repeats(self) -> "TeamConfig":
        for role in ("readers", "data_scientists", "compute_operators", "job_submitters"):
            ids = [p.object_id for p in getattr(self, role)]
            for i, x in enumerate(ids):
                if x in ids[:i]:
                    raise _At(f"{_camel(role)}[{i}].objectId", "repeats a principal listed earlier in this role", x)
        return self

    def grants(self) -> list[tuple[str, Principal]]:
        """(role key, principal) for every grant, in config order."""
        return [(key, p) for key in TEAM_ROLES for p in getattr(self, _snake(key))]


class RbacConfig(_Section):
    # The one group that may hold Owner, Contributor or User Access Administrator.
    platform_owners: Principal
    # The CI/CD principal that runs `pulumi up`; it gets AzureML Data Scientist on the workspace
    # to register assets and verify the stack. Its deployment rights are granted outside the stack.
    deployment: Principal | None = None
    # Azure RBAC can take minutes to reach the resource providers: the workspace waits this long
    # after its identity's grants before it is created.
    role_propagation_seconds: int = Field(default=60, ge=0, le=600)

    @field_validator("platform_owners")
    @classmethod
    def _owners_group(cls, v: Principal) -> Principal:
        if v.type != "Group":
            raise _At("type", "must be Group: privileged roles go to an Entra group, not a person", v.type)
        return v


def check_teams(teams: dict[str, TeamConfig]) -> None:
    seen: dict[str, str] = {}
    for name, team in teams.items():
        if not _TEAM.match(name):
            raise _Rule(f"teams.{name}", "team names are 2-24 lowercase letters, digits or hyphens, "
                        "starting with a letter", name)
        for i, container in enumerate(team.containers):
            if container in seen:
                raise _Rule(f"teams.{name}.containers[{i}]", f"already belongs to team {seen[container]}: a "
                            "container has one owning team", container)
            seen[container] = name


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
