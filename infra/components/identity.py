"""A user-assigned managed identity.

Its role assignments are declared on the resources they scope (each
component's `role_assignments`), so every grant sits beside what it opens.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import managedidentity

from infra.components.common import Common, Component, check_name, resource_opts
from infra.topology import identity_resource


@dataclass
class IdentityProps:
    common: Common
    """Placement and shared settings: tags."""
    name: str
    """The identity's name (infra/naming.py rule `identity`)."""

    def __post_init__(self) -> None:
        check_name("identity", self.name)


class IdentityComponent(Component):
    SUPPORTS = frozenset({"tags"})

    def __init__(self, name: str, props: IdentityProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Identity", name, props.common, opts)
        c = props.common
        # The SDK renames the physical-name input to `resource_name_` (the Pulumi name owns `resource_name`).
        self.identity = managedidentity.UserAssignedIdentity(
            identity_resource(name),
            resource_name_=props.name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            tags=c.tags,
            opts=resource_opts(self, c),
        )
        self.id = self.identity.id
        self.principal_id = self.identity.principal_id
        self.client_id = self.identity.client_id
        self.register_outputs({"id": self.id, "principal_id": self.principal_id, "client_id": self.client_id})
