"""Storage, key vault and registry rules checkov lacks for ARM: keys off, soft delete, RBAC vaults, a SAS
cap, ACR-audience tokens only."""

from __future__ import annotations

from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

from policies.checkov._base import ValueCheck
from policies.rules.data import SAS_MAX_DAYS, sas_period_ok

ValueCheck(
    "CKV_AMLP_4", "Ensure storage accounts disable shared key (account key) access",
    ["Microsoft.Storage/storageAccounts"], "properties/allowSharedKeyAccess", [False], CheckCategories.IAM,
)


class BlobSoftDelete(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure blob and container soft delete are enabled",
            id="CKV_AMLP_5",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["Microsoft.Storage/storageAccounts/blobServices"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        props = conf.get("properties") or {}
        for key in ("deleteRetentionPolicy", "containerDeleteRetentionPolicy"):
            policy = props.get(key) or {}
            if policy.get("enabled") is not True or int(policy.get("days") or 0) < 1:
                return CheckResult.FAILED
        return CheckResult.PASSED


BlobSoftDelete()
ValueCheck(
    "CKV_AMLP_6", "Ensure key vaults use the Azure RBAC permission model",
    ["Microsoft.KeyVault/vaults"], "properties/enableRbacAuthorization", [True], CheckCategories.IAM,
)
ValueCheck(
    "CKV_AMLP_28", "Ensure container registries accept only ACR-audience Entra tokens (ARM-audience tokens off)",
    ["Microsoft.ContainerRegistry/registries"], "properties/policies/azureADAuthenticationAsArmPolicy/status",
    ["disabled", "Disabled"], CheckCategories.IAM,
)


class SasPolicy(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=f"Ensure storage accounts cap SAS validity at {SAS_MAX_DAYS} days and block longer ones",
            id="CKV_AMLP_31",
            categories=[CheckCategories.IAM],
            supported_resources=["Microsoft.Storage/storageAccounts"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        policy = (conf.get("properties") or {}).get("sasPolicy") or {}
        ok = sas_period_ok(policy.get("sasExpirationPeriod")) and policy.get("expirationAction") == "Block"
        return CheckResult.PASSED if ok else CheckResult.FAILED


SasPolicy()
