"""Azure ML workspace rules (PSRule Azure.ML.UserManagedIdentity; Azure Policy)."""

from __future__ import annotations

from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

from policies.checkov._base import ValueCheck

WORKSPACE = ["Microsoft.MachineLearningServices/workspaces"]


class WorkspaceUserAssignedIdentity(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure the AML workspace runs as a user-assigned managed identity",
            id="CKV_AMLP_1",
            categories=[CheckCategories.IAM],
            supported_resources=WORKSPACE,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        identity = conf.get("identity") or {}
        props = conf.get("properties") or {}
        kinds = str(identity.get("type", "")).replace(" ", "").split(",")
        if "UserAssigned" in kinds and identity.get("userAssignedIdentities") and props.get(
            "primaryUserAssignedIdentity"
        ):
            return CheckResult.PASSED
        return CheckResult.FAILED


WorkspaceUserAssignedIdentity()
# Public network access itself is checkov's CKV2_AZURE_49.
ValueCheck(
    "CKV_AMLP_2", "Ensure the AML workspace reaches its system datastores with identities, not keys", WORKSPACE,
    "properties/systemDatastoresAuthMode", ["identity"], CheckCategories.IAM,
)
ValueCheck(
    "CKV_AMLP_3", "Ensure the AML workspace is not publicly reachable when behind a VNet", WORKSPACE,
    "properties/allowPublicAccessWhenBehindVnet", [False], CheckCategories.NETWORKING,
)
