"""Monitoring and access rules: workspace-based App Insights, log retention, typed role assignments."""

from __future__ import annotations

from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

from policies.checkov._base import ValueCheck

ValueCheck(
    "CKV_AMLP_7", "Ensure Application Insights is workspace-based (stores in Log Analytics)",
    ["Microsoft.Insights/components"], "properties/IngestionMode", ["LogAnalytics"], CheckCategories.LOGGING,
)


class LogRetention(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Log Analytics keeps logs at least 30 days",
            id="CKV_AMLP_8",
            categories=[CheckCategories.LOGGING],
            supported_resources=["Microsoft.OperationalInsights/workspaces"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        days = (conf.get("properties") or {}).get("retentionInDays")
        return CheckResult.PASSED if isinstance(days, int) and days >= 30 else CheckResult.FAILED


LogRetention()
ValueCheck(
    "CKV_AMLP_9", "Ensure role assignments state the principal type (avoids replication-delay failures)",
    ["Microsoft.Authorization/roleAssignments"], "properties/principalType",
    ["User", "Group", "ServicePrincipal", "ForeignGroup", "Device"], CheckCategories.IAM,
)


class PrivateIngestion(BaseResourceCheck):
    """Azure Policy 6c53d030 / 1bc02227 (ingestion half) and a499fed8 (ingestion half): telemetry reaches Log
    Analytics and App Insights only through an Azure Monitor private link scope. Stacks without one
    (amlplatform:network.monitorPrivateLink false) skip it inline, naming the key."""

    def __init__(self) -> None:
        super().__init__(
            name="Ensure Log Analytics and App Insights take ingestion only through a private link scope",
            id="CKV_AMLP_30",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["Microsoft.OperationalInsights/workspaces", "Microsoft.Insights/components",
                                 "Microsoft.Insights/privateLinkScopes"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        props = conf.get("properties") or {}
        if conf.get("type") == "Microsoft.Insights/privateLinkScopes":
            ok = (props.get("accessModeSettings") or {}).get("ingestionAccessMode") == "PrivateOnly"
        else:
            ok = props.get("publicNetworkAccessForIngestion") == "Disabled"
        return CheckResult.PASSED if ok else CheckResult.FAILED


PrivateIngestion()
