"""The organisation's AML registry: the registry stack's own config, and how environment stacks name it.

One registry per organisation lives in a small stack of its own (`stacks/Pulumi.registry.yaml`): the
program builds it when the stack has `amlplatform:mlRegistry`. Environment stacks reference it by
config (`amlplatform:mlRegistryRef`: its name, resource group and subscription), never through a
StackReference, so every plan stays deterministic and offline.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from infra.config.base import _At, _Section

# Registry names: 3-33 characters, letters, digits, '-' and '_', starting with a letter or digit
# (the resource provider: "Names must be between 3 and 33 in length"; azure-ai-ml's registry YAML).
_REGISTRY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RG = re.compile(r"^[-\w._()]{0,89}[-\w_()]$")
_STORAGE_ID = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/Microsoft\.Storage/"
                         r"storageAccounts/[a-z0-9]{3,24}$")
_ACR_ID = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/"
                     r"Microsoft\.ContainerRegistry/registries/[A-Za-z0-9]{5,50}$")
# The key whose presence makes a stack file the registry stack.
REGISTRY_SECTION = "mlRegistry"
REGISTRY_STACK = "registry"
RegistryStorage = Literal["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS", "Standard_RAGRS",
                          "Standard_RAGZRS"]


def registry_name_problem(name: str) -> str | None:
    if not _REGISTRY_NAME.match(name):
        return ("must be 3-33 letters, digits, '-' or '_', starting with a letter or digit (AML registry names; "
                "unique across Azure)")
    return None


class RegistryAssetsConfig(_Section):
    """What the registry stack seeds: the versions the folder's promotion list (`registry/promotions.yml`,
    which `amlplatform promote` edits) names."""

    # Off for the first bring-up: the registry's storage takes uploads only through the private endpoints the
    # environment stacks create after it (README, Models, endpoints and promotion).
    enabled: bool = True
    # The assets folder, relative to the repository root; unset: `assets`, and nothing is seeded when the
    # checkout has none (as for environment stacks). A folder named here must exist.
    folder: str | None = None


class MlRegistryConfig(_Section):
    """`amlplatform:mlRegistry`, the registry stack's own section."""

    name: str
    # Regions the registry replicates to (its regionDetails); the first is its primary, the stack's location.
    # Every environment stack that consumes the registry must be in one of them.
    regions: list[str] = Field(default_factory=list)
    # Replication of the storage account Azure ML creates for each region (in the registry's managed group).
    storage_replication: RegistryStorage = "Standard_ZRS"
    assets: RegistryAssetsConfig = Field(default_factory=RegistryAssetsConfig)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        problem = registry_name_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: list[str]) -> list[str]:
        from infra.config.stack import AZURE_REGIONS

        seen: set[str] = set()
        for i, region in enumerate(v):
            if region not in AZURE_REGIONS:
                raise _At(f"[{i}]", "must be an Azure region name in lowercase without spaces, such as westeurope",
                          region)
            if region in seen:
                raise _At(f"[{i}]", "is listed twice", region)
            seen.add(region)
        return v


class RegistryManagedResources(_Section):
    """The storage account and container registry Azure ML created for the registry in this stack's region.

    They live in the registry's managed resource group (`azureml-rg-<registry>_<GUID>`, the GUID chosen by
    Azure), so their IDs are known only after the registry stack's first `pulumi up` (its outputs
    `registryStorageAccountId` and `registryContainerRegistryId`)."""

    storage_account_id: str
    container_registry_id: str

    @field_validator("storage_account_id")
    @classmethod
    def _storage(cls, v: str) -> str:
        if not _STORAGE_ID.match(v):
            raise ValueError("must be a storage account ID (/subscriptions/<sub>/resourceGroups/<rg>/providers/"
                             "Microsoft.Storage/storageAccounts/<name>): the registry stack's output "
                             "registryStorageAccountId")
        return v

    @field_validator("container_registry_id")
    @classmethod
    def _acr(cls, v: str) -> str:
        if not _ACR_ID.match(v):
            raise ValueError("must be a container registry ID (.../providers/Microsoft.ContainerRegistry/registries/"
                             "<name>): the registry stack's output registryContainerRegistryId")
        return v


class MlRegistryRefConfig(_Section):
    """`amlplatform:mlRegistryRef` in an environment stack: which registry it consumes, by config."""

    name: str
    resource_group: str
    # Unset: the stack's own subscription.
    subscription_id: str | None = None
    # The registry stack's file in stacks/ (checked against it when the repository holds it).
    stack: str = REGISTRY_STACK
    # The registry's storage and container registry in this stack's region: with the registry's public
    # access off, workspaces reach them through private endpoints (or managed-network rules) too.
    managed_resources: RegistryManagedResources

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        problem = registry_name_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("resource_group")
    @classmethod
    def _rg(cls, v: str) -> str:
        if not _RG.match(v):
            raise ValueError("must be a resource group name: 1-90 letters, digits, -_.() and not end in '.'")
        return v

    @field_validator("subscription_id")
    @classmethod
    def _sub(cls, v: str | None) -> str | None:
        if v is not None and not _GUID.match(v):
            raise ValueError("must be a subscription GUID such as 00000000-0000-0000-0000-000000000000")
        return v.lower() if v else v

    def registry_id(self, default_subscription: str) -> str:
        sub = self.subscription_id or default_subscription
        return (f"/subscriptions/{sub}/resourceGroups/{self.resource_group}/providers/"
                f"Microsoft.MachineLearningServices/registries/{self.name}")
