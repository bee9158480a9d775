"""The organisation's AML registry: the registry stack's own config, and how environment stacks name it.

One registry per organisation lives in a small stack of its own (`stacks/Pulumi.registry.yaml`): the
program builds it when the stack has `amlplatform:mlRegistry`. Environment stacks reference it by
config (`amlplatform:mlRegistryRef`: its name, resource group and subscription), never through a
StackReference, so every plan stays deterministic and offline.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidatorFunctionWrapHandler, field_validator

from infra.config.base import _Section
from infra.config.errors import refuse_repeats
from infra.types import (AzureRegion, MlRegistryName, Replication, ResourceGroupName, ResourceId, SubscriptionId,
                         resource_id)

_STORAGE_ID = resource_id(r"Microsoft\.Storage/storageAccounts/[a-z0-9]{3,24}")
_ACR_ID = resource_id(r"Microsoft\.ContainerRegistry/registries/[A-Za-z0-9]{5,50}")
# The key whose presence makes a stack file the registry stack.
REGISTRY_SECTION = "mlRegistry"
REGISTRY_STACK = "registry"


class RegistryAssetsConfig(_Section):
    """What the registry stack seeds: the versions the folder's promotion list (`registry/promotions.yml`,
    which `amlplatform promote` edits) names."""

    enabled: bool = True
    """Seed the promoted versions; false for the first bring-up, while the registry's storage takes uploads
    only through the private endpoints the environment stacks create after it (README: Models, endpoints and
    promotion)."""
    folder: str | None = None
    """The assets folder, relative to the repository root; a folder named here must exist. Unset: `assets`, and
    nothing is seeded when the checkout has none (as for environment stacks)."""


class MlRegistryConfig(_Section):
    """`amlplatform:mlRegistry`, the registry stack's own section."""

    name: MlRegistryName
    """The registry's name, unique across Azure: 3-33 letters, digits, '-' or '_', starting with a letter or
    digit."""
    regions: list[AzureRegion] = Field(default_factory=list)
    """Regions the registry replicates to (its regionDetails), each once; the first is its primary, the stack's
    location. Every environment stack that consumes the registry must be in one of them. Unset: the stack's
    location only."""
    storage_replication: Replication = "Standard_ZRS"
    """Redundancy of the storage account Azure ML creates for each region (in the registry's managed resource
    group)."""
    assets: RegistryAssetsConfig = Field(default_factory=RegistryAssetsConfig)
    """What the registry stack seeds."""

    @field_validator("regions", mode="wrap")
    @classmethod
    def _regions(cls, v: Any, handler: ValidatorFunctionWrapHandler) -> list[str]:
        return refuse_repeats(handler(v), v, "is listed twice")


class RegistryManagedResources(_Section):
    """The storage account and container registry Azure ML created for the registry in this stack's region.

    They live in the registry's managed resource group (`azureml-rg-<registry>_<GUID>`, the GUID chosen by
    Azure), so their IDs are known only after the registry stack's first `pulumi up` (its outputs
    `registryStorageAccountId` and `registryContainerRegistryId`)."""

    storage_account_id: ResourceId
    """The registry's storage account in this region: the registry stack's output `registryStorageAccountId`."""
    container_registry_id: ResourceId
    """The registry's container registry in this region: the registry stack's output
    `registryContainerRegistryId`."""

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

    name: MlRegistryName
    """The registry's name (the registry stack's `mlRegistry.name`)."""
    resource_group: ResourceGroupName
    """The registry's resource group."""
    subscription_id: SubscriptionId | None = None
    """The registry's subscription. Unset: the stack's own."""
    stack: str = REGISTRY_STACK
    """The registry stack's name in stacks/; when the repository holds that file, the reference is checked
    against it."""
    managed_resources: RegistryManagedResources
    """The registry's storage and container registry in this stack's region: with the registry's public access
    off, workspaces reach them through private endpoints (or managed-network rules) too."""

    def registry_id(self, default_subscription: str) -> str:
        sub = self.subscription_id or default_subscription
        return (f"/subscriptions/{sub}/resourceGroups/{self.resource_group}/providers/"
                f"Microsoft.MachineLearningServices/registries/{self.name}")
