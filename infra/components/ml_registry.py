"""The organisation's Azure ML registry: models promoted from dev, consumed by every environment.

Public network access is Disabled: workspaces reach it through a private endpoint in their VNet
(`amlregistry`, zone privatelink.api.azureml.ms) or their managed VNet's outbound rules, and CI/CD
writes to it from the VNet runner. Azure ML creates a storage account and a Premium container
registry per region in the registry's managed resource group (`azureml-rg-<name>_<GUID>`); their
IDs are outputs, which the environment stacks name in `mlRegistryRef.managedResources`.

No management lock: the environment stacks grant their identities Reader on the registry, and a
CanNotDelete lock on it would keep any of them from removing its grant (extension resources inherit
the lock). `protect` guards the registry; promoted versions are retained on delete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pulumi
from pulumi_azure_native import machinelearningservices as ml

from infra.config.registry import registry_name_problem
from infra.components.common import Common, PropsError, add_diagnostics, add_role_assignments, resource_opts

REGISTRY_TYPE = "Microsoft.MachineLearningServices/registries"
# azure-ai-ml's registry schema: "Currently only Premium is a valid option for registries" (acr_account_sku).
ACR_SKU = "Premium"


@dataclass
class MlRegistryProps:
    common: Common
    name: str
    regions: Sequence[str]
    storage_replication: str = "Standard_ZRS"
    # Extra resources the registry waits for (none today; kept for symmetry with the workspace).
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)

    def __post_init__(self) -> None:
        problem = registry_name_problem(self.name)
        if problem:
            raise PropsError(f"registry name {self.name!r} {problem}")
        if not self.regions or self.regions[0] != self.common.location:
            raise PropsError("the registry's first region is its own location")


class MlRegistryComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: MlRegistryProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:MlRegistry", name, None, opts)
        c = props.common

        self.registry = ml.Registry(
            f"{name}-mlr",
            registry_name=props.name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            # What `az ml registry create` sends (azure-ai-ml Registry._to_rest_object): a system-assigned identity.
            identity=ml.ManagedServiceIdentityArgs(type="SystemAssigned"),
            public_network_access="Disabled",
            region_details=[
                ml.RegistryRegionArmDetailsArgs(
                    location=region,
                    acr_details=[ml.AcrDetailsArgs(
                        system_created_acr_account=ml.SystemCreatedAcrAccountArgs(acr_account_sku=ACR_SKU))],
                    storage_account_details=[ml.StorageAccountDetailsArgs(
                        system_created_storage_account=ml.SystemCreatedStorageAccountArgs(
                            storage_account_type=props.storage_replication,
                            # AML registries need a flat namespace and no anonymous blob access.
                            storage_account_hns_enabled=False,
                            allow_blob_public_access=False,
                        ))],
                )
                for region in props.regions
            ],
            tags=c.tags,
            opts=resource_opts(self, c, stateful=True, depends_on=list(props.depends_on)),
        )
        add_diagnostics(self, name, self.registry.id, c.diagnostic_settings, REGISTRY_TYPE)
        self.role_assignments = add_role_assignments(self, name, self.registry.id, c)

        details = self.registry.region_details
        self.id = self.registry.id
        self.name = self.registry.name
        self.storage_account_id = details.apply(lambda d: _first(d, "storage_account_details",
                                                                 "system_created_storage_account"))
        self.container_registry_id = details.apply(lambda d: _first(d, "acr_details", "system_created_acr_account"))
        self.register_outputs({"id": self.id})


def _get(obj: object, snake: str, camel: str) -> object:
    """A field of an output object (typed, snake_case attributes) or of a plain mapping (camelCase keys)."""
    if hasattr(obj, snake):
        return getattr(obj, snake)
    return obj.get(camel) if isinstance(obj, dict) else None


def _first(details: object, key: str, inner: str) -> str | None:
    """The ARM ID of the primary region's system-created storage account or container registry."""
    camel = {"storage_account_details": "storageAccountDetails", "acr_details": "acrDetails",
             "system_created_storage_account": "systemCreatedStorageAccount",
             "system_created_acr_account": "systemCreatedAcrAccount"}
    if not details:
        return None
    items = _get(details[0], key, camel[key])  # type: ignore[index]
    account = _get(items[0], inner, camel[inner]) if items else None  # type: ignore[index]
    arm = _get(account, "arm_resource_id", "armResourceId") if account is not None else None
    value = _get(arm, "resource_id", "resourceId") if arm is not None else None
    return value if isinstance(value, str) else None
