"""The workspace's storage account as Azure ML accepts it."""

from __future__ import annotations

from typing import Iterable

from infra.offline.azure_rules.base import AzureRule, PlanView

WORKSPACE = "Microsoft.MachineLearningServices/workspaces"


def workspace_storage_flat(view: PlanView) -> Iterable[tuple[str, str]]:
    """A workspace whose storageAccount is a planned account with a hierarchical namespace."""
    for ws in view.of_arm_type(WORKSPACE):
        account = view.get(ws.inputs.get("storageAccount"))
        if account is not None and account.inputs.get("isHnsEnabled") is True:
            yield ws.urn, (f"storageAccount {account.physical_name} has isHnsEnabled: Azure ML refuses a default "
                           "storage with a hierarchical namespace (\"Cannot use storage with HNS enabled\"); give the "
                           "workspace a flat StorageV2 account and keep ADLS Gen2 as a datastore")


RULES = (
    AzureRule(
        "azure-workspace-storage-no-hns",
        "A workspace's default storage account has no hierarchical namespace",
        # "Azure Machine Learning doesn't support hierarchical namespace (Azure Data Lake Storage Gen2
        # feature) for the default storage account of the workspace."
        "https://learn.microsoft.com/azure/machine-learning/how-to-manage-workspace#limitations",
        workspace_storage_flat,
    ),
)
