"""Inline skips for a stack without customer-managed keys (or with a part of them off), naming the key.

The CMK checks (policies/checkov/encryption.py) fail any workspace, storage account, registry or AKS
cluster without its customer-managed key; where a stack's config deliberately keeps Microsoft-managed
keys, the report says so resource by resource, with the stack file and the key.
"""

from __future__ import annotations

from typing import Any

from infra.config.stack import StackConfig

Skip = tuple[str, str]
KEY = "amlplatform:encryption.customerManagedKey"
# Check -> what it covers, per ARM type.
OFF: dict[str, list[tuple[str, str]]] = {
    "Microsoft.MachineLearningServices/workspaces": [("CKV_AMLP_33", "the workspace's metadata")],
    "Microsoft.Storage/storageAccounts": [("CKV_AMLP_34", "the storage account")],
    "Microsoft.ContainerRegistry/registries": [("CKV_AMLP_35", "the registry's images")],
    "Microsoft.ContainerService/managedClusters": [("CKV_AMLP_36", "the AKS node disks"),
                                                   ("CKV_AMLP_37", "the AKS secrets in etcd")],
}


def encryption_skips(res: dict[str, Any], cfg: StackConfig) -> list[Skip]:
    cmk = cfg.encryption.customer_managed_key
    kind = res["type"]
    if not cmk.enabled:
        return [(check, f"{cfg.source} has {KEY}.enabled=false: Microsoft-managed keys encrypt {what} in "
                        f"{cfg.platform.environment} (customer-managed keys are the default in prod and with "
                        "workspace.hbi, and creation-only on most resources: README, Customer-managed keys)")
                for check, what in OFF.get(kind, [])]
    out: list[Skip] = []
    if kind == "Microsoft.ContainerService/managedClusters" and not cmk.aks_kms:
        out.append(("CKV_AMLP_37", f"{cfg.source} sets {KEY}.aksKms=false: Kubernetes secrets in etcd stay on "
                                   "platform-managed encryption (the node disks use the stack's key)"))
    if kind == "Microsoft.KeyVault/vaults/keys" and cmk.key_type != "RSA-HSM":
        out.append(("CKV_AZURE_112", f"{cfg.source} sets amlplatform:keyVault.sku={cfg.key_vault.sku}: the "
                                     f"customer-managed keys are software-protected {cmk.key_type} keys (HSM-protected "
                                     "keys need a premium vault)"))
    return out
