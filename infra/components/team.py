"""One team's resources in its own team stack, on the platform stack's workspace and data lake.

The team's containers (private, retained on delete: offboarding never deletes data), a datastore
per container when the platform makes them, its grants (once per scope, role and principal, named
as the platform's Access component names them) and one compute instance per member when the
platform has instances on. Every ID comes from the platform stack's outputs; nothing here
reaches into a platform resource but as a scope or a parent name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
from pulumi_azure_native import authorization, storage

from infra.access_grants import (
    TEAM_GRANTS,
    WORKSPACE,
    WORKSPACE_STORAGE,
    Team,
    container_label,
    team_grants,
    unique_grants,
)
from infra.seeding.stack import team_datastore_name
from infra.components.access import assign_grants
from infra.seeding.components import TeamDatastore, team_datastore
from infra.components.common import Common, PropsError, resource_opts
from infra.components.compute import ComputeComponent, ComputeProps, Instance


@dataclass
class TeamProps:
    common: Common  # the platform's resource group, location, subscription and tags
    team: Team
    workspace_name: str
    workspace_id: str
    workspace_storage_id: str
    data_lake_name: str
    # Role name (TEAM_GRANTS' roles, "job-submitter") -> its definition ID, from the platform's outputs.
    role_ids: Mapping[str, str]
    datastores: bool = True
    instances: Sequence[Instance] = field(default_factory=list)
    instance_identity_id: str | None = None
    tenant_id: str = ""
    subnet_id: str | None = None

    def __post_init__(self) -> None:
        for key, _ in self.team.grants:
            if key not in TEAM_GRANTS:
                raise PropsError(f"team {self.team.name}: unknown role {key!r}; known: {sorted(TEAM_GRANTS)}")
        wanted = {g.role for g in team_grants(self.team)}
        missing = sorted(wanted - set(self.role_ids))
        if missing:
            raise PropsError(f"team {self.team.name}: the platform stack exports no role definition ID for "
                             f"{', '.join(missing)}")
        if self.instances and self.instance_identity_id is None:
            raise PropsError(f"team {self.team.name}: compute instances need the platform's instance identity")


class TeamComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: TeamProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Team", name, None, opts)
        c, team = props.common, props.team

        self.containers = {
            ct: storage.BlobContainer(
                f"{name}-container-{ct}",
                container_name=ct,
                account_name=props.data_lake_name,
                resource_group_name=c.resource_group_name,
                public_access=storage.PublicAccess.NONE,
                # As in the platform stack: offboarding removes grants and datastores, never data.
                opts=resource_opts(self, c, retain_on_delete=True),
            )
            for ct in team.containers
        }
        where = {"workspace_name": props.workspace_name, "resource_group_name": c.resource_group_name}
        self.datastores = [
            team_datastore(self, f"{name}-datastore-{team_datastore_name(ct)}",
                           TeamDatastore(team_datastore_name(ct), ct, team.name), where, props.data_lake_name,
                           c.resource_group_name, c.subscription_id,
                           resource_opts(self, c, depends_on=[container]))
            for ct, container in self.containers.items()
        ] if props.datastores else []

        scopes: dict[str, pulumi.Input[str]] = {WORKSPACE: props.workspace_id, WORKSPACE_STORAGE: props.workspace_storage_id}
        scopes.update({container_label(ct): container.id for ct, container in self.containers.items()})
        self.assignments: list[authorization.RoleAssignment] = assign_grants(
            self, name, unique_grants(team_grants(team)), scopes, lambda role: props.role_ids[role])

        self.compute = ComputeComponent(
            f"{name}-compute",
            ComputeProps(
                Common(resource_group_name=c.resource_group_name, location=c.location,
                       subscription_id=c.subscription_id, tags=c.tags, lock=c.lock, protect=c.protect),
                workspace_name=props.workspace_name,
                identity_id=props.instance_identity_id or "",
                tenant_id=props.tenant_id,
                subnet_id=props.subnet_id,
                instances=props.instances,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        ) if props.instances else None

        self.register_outputs({"containers": sorted(self.containers)})
