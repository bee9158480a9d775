"""Customer-managed keys, as the Azure Policy built-ins measure them (checkov has no ARM checks for any).

Workspace ba769a63, storage 6fac406b with queue/table f0e5abd0 and 7c322315, registry 5b9159ae,
AKS disks 7d7be79c and KMS dbbdc317 (Azure/azure-policy, built-in-policies/policyDefinitions), key
rotation as PSRule's Azure.KeyVault.AutoRotationPolicy. A stack without customer-managed keys carries
inline skips naming its stack file and key (policies/relaxations.py).
"""

from __future__ import annotations

from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


def _get(conf: dict[str, Any], path: str) -> Any:
    value: Any = conf
    for step in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def _lower(value: Any) -> str:
    return str(value or "").lower()


class _EncryptionCheck(BaseResourceCheck):
    def __init__(self, check_id: str, name: str, resource: str) -> None:
        super().__init__(name=name, id=check_id, categories=[CheckCategories.ENCRYPTION], supported_resources=[resource])

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return CheckResult.PASSED if self.ok(conf, conf.get("properties") or {}) else CheckResult.FAILED

    def ok(self, conf: dict[str, Any], props: dict[str, Any]) -> bool:
        raise NotImplementedError


class WorkspaceCmk(_EncryptionCheck):
    """Encryption Enabled with a vault, a key and a user-assigned identity, service-side (no managed resource group)."""

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        # Policy ba769a63 leaves out projects: they take their hub's encryption.
        if _lower(conf.get("kind")) == "project":
            return CheckResult.UNKNOWN
        return super().scan_resource_conf(conf)

    def ok(self, conf, props) -> bool:
        enc = props.get("encryption") or {}
        return (_lower(enc.get("status")) == "enabled"
                and bool(_get(enc, "keyVaultProperties/keyVaultArmId"))
                and bool(_get(enc, "keyVaultProperties/keyIdentifier"))
                and bool(_get(enc, "identity/userAssignedIdentity"))
                and props.get("enableServiceSideCMKEncryption") is True)


class StorageCmk(_EncryptionCheck):
    """keySource Microsoft.Keyvault with a key, a vault and a user-assigned identity; queues and tables on the
    account's key too (without keyType Account they stay on a Microsoft key)."""

    def ok(self, conf, props) -> bool:
        enc = props.get("encryption") or {}
        return (_lower(enc.get("keySource")) == "microsoft.keyvault"
                and bool(_get(enc, "keyvaultproperties/keyname"))
                and bool(_get(enc, "keyvaultproperties/keyvaulturi"))
                and bool(_get(enc, "identity/userAssignedIdentity"))
                and all(_get(enc, f"services/{svc}/keyType") == "Account" for svc in ("queue", "table")))


class RegistryCmk(_EncryptionCheck):
    """encryption.status enabled with a key and the client ID of a user-assigned identity."""

    def ok(self, conf, props) -> bool:
        enc = props.get("encryption") or {}
        return (_lower(enc.get("status")) == "enabled"
                and bool(_get(enc, "keyVaultProperties/keyIdentifier"))
                and bool(_get(enc, "keyVaultProperties/identity")))


class AksDiskEncryptionSet(_EncryptionCheck):
    def ok(self, conf, props) -> bool:
        return bool(props.get("diskEncryptionSetID"))


class AksKms(_EncryptionCheck):
    """KMS on with a key in a private vault, which AKS reaches only over API Server VNet Integration."""

    def ok(self, conf, props) -> bool:
        kms = _get(props, "securityProfile/azureKeyVaultKms") or {}
        api = props.get("apiServerAccessProfile") or {}
        return (kms.get("enabled") is True and bool(kms.get("keyId"))
                and kms.get("keyVaultNetworkAccess") == "Private" and bool(kms.get("keyVaultResourceId"))
                and api.get("enableVnetIntegration") is True and bool(api.get("subnetId")))


class KeyRotation(_EncryptionCheck):
    """A rotation policy with a Rotate lifetime action (PSRule Azure.KeyVault.AutoRotationPolicy)."""

    def ok(self, conf, props) -> bool:
        actions = _get(props, "rotationPolicy/lifetimeActions") or []
        return any(_lower(_get(a, "action/type")) == "rotate"
                   and (_get(a, "trigger/timeAfterCreate") or _get(a, "trigger/timeBeforeExpiry"))
                   for a in actions if isinstance(a, dict))


class DiskEncryptionSetCmk(_EncryptionCheck):
    """A customer key that the set follows to each new version (rotationToLatestKeyVersionEnabled)."""

    def ok(self, conf, props) -> bool:
        return (props.get("encryptionType") in ("EncryptionAtRestWithCustomerKey",
                                                "EncryptionAtRestWithPlatformAndCustomerKeys")
                and bool(_get(props, "activeKey/keyUrl"))
                and props.get("rotationToLatestKeyVersionEnabled") is True)


WorkspaceCmk("CKV_AMLP_33", "Ensure the AML workspace is encrypted with a customer-managed key (service-side)",
             "Microsoft.MachineLearningServices/workspaces")
StorageCmk("CKV_AMLP_34", "Ensure storage accounts use a customer-managed key, queues and tables included",
           "Microsoft.Storage/storageAccounts")
RegistryCmk("CKV_AMLP_35", "Ensure container registries are encrypted with a customer-managed key",
            "Microsoft.ContainerRegistry/registries")
AksDiskEncryptionSet("CKV_AMLP_36", "Ensure AKS OS and data disks use a customer-managed key (disk encryption set)",
                     "Microsoft.ContainerService/managedClusters")
AksKms("CKV_AMLP_37", "Ensure AKS encrypts etcd secrets with KMS and a private key vault over API Server VNet "
       "Integration", "Microsoft.ContainerService/managedClusters")
KeyRotation("CKV_AMLP_38", "Ensure Key Vault keys rotate automatically", "Microsoft.KeyVault/vaults/keys")
DiskEncryptionSetCmk("CKV_AMLP_39", "Ensure disk encryption sets use a customer key and follow its latest version",
                     "Microsoft.Compute/diskEncryptionSets")
