"""An environment's side of the organisation's AML registry: how its network reaches it, who may read it.

The registry (and the storage account and container registry Azure ML created for it) have public
network access Disabled. In private mode the stack's endpoint subnet gets private endpoints to the
three (`amlregistry`, `blob`, `registry`), as how-to-registry-network-isolation asks ("Create a
private endpoint to the registry, storage and ACR from the VNet of the workspace"); in the AML
managed VNet (dev, managed mode) the workspace gets private-endpoint outbound rules to them instead
(see `outbound_rules`). The stack's identities get Reader on the registry: read-only use of its assets
(how-to-manage-registries, "Allow users to use assets from the registry").
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.components.common import Common, add_private_endpoints, add_role_assignments

# Managed-network rule name -> (target, sub-resource); reserved, like the platform's other rule names.
RULES = {"pe-mlregistry": ("registry", "amlregistry"), "pe-mlregistry-blob": ("storage", "blob"),
         "pe-mlregistry-acr": ("acr", "registry")}


@dataclass
class RegistryLinkProps:
    common: Common
    name: str  # the registry's name (for endpoint names)
    registry_id: str
    storage_account_id: str
    container_registry_id: str

    def target(self, what: str) -> str:
        return {"registry": self.registry_id, "storage": self.storage_account_id, "acr": self.container_registry_id}[what]


class RegistryLinkComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: RegistryLinkProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:RegistryLink", name, None, opts)
        c = props.common
        self.role_assignments = add_role_assignments(self, name, props.registry_id, c)
        self.private_endpoints = [
            *add_private_endpoints(self, f"{name}-mlr", props.registry_id, props.name, ["amlregistry"], c),
            *add_private_endpoints(self, f"{name}-st", props.storage_account_id,
                                   props.storage_account_id.rsplit("/", 1)[-1], ["blob"], c),
            *add_private_endpoints(self, f"{name}-cr", props.container_registry_id,
                                   props.container_registry_id.rsplit("/", 1)[-1], ["registry"], c),
        ]
        self.register_outputs({"registry_id": props.registry_id})
