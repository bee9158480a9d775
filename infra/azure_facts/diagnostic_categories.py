"""What a diagnostic setting may ask for, per resource type: one table for the program and the plan's check.

Azure Monitor answers 400 to a diagnostic setting that names a log category, category group
or metric category the target's type does not have ("Metric category 'AllMetrics' is not
supported"). `add_diagnostics` (infra/components/common.py) builds every setting from this
table by the target's ARM type, and the Azure rule `azure-diagnostic-categories`
(infra/offline/azure_rules/diagnostics.py) checks every setting in a plan against it.

Sources, per type: Microsoft Learn's Azure Monitor references "Supported logs for <type>"
(https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/logs-index) and
"Supported metrics for <type>" (.../reference/supported-metrics/metrics-index): the log
categories, and the metric categories a diagnostic setting exports. Category groups: `allLogs`
exists for every type with resource logs; `audit` only where Azure Policy's built-in initiative
"Enable audit category group resource logging for supported resources to Log Analytics" lists the
type (Azure/azure-policy, policySetDefinitions/Monitoring/AzureMonitor_DiagSettings_logAnalytics_audit.json)
or the type's audit tables say so (AKS: AKSAudit, AKSAuditAdmin).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Categories:
    logs: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    metrics: frozenset[str] = frozenset()


ALL_LOGS = "allLogs"
AUDIT = "audit"
ALL_METRICS = "AllMetrics"

# Storage exports its metrics by category. Azure's 400 for AllMetrics on an account lists
# "Capacity;Transaction" (Azure/terraform-azurerm-avm-res-storage-storageaccount#325), but Capacity is
# reported refused in 2026 (same repository, #322) and Learn marks the capacity metrics as not
# exported by diagnostic settings: the platform asks for, and accepts, Transaction only.
_STORAGE_METRICS = frozenset({"Transaction"})
_STORAGE_SERVICE_LOGS = frozenset({"StorageRead", "StorageWrite", "StorageDelete"})

SUPPORTED: dict[str, Categories] = {
    "Microsoft.Storage/storageAccounts": Categories(metrics=_STORAGE_METRICS),
    "Microsoft.Storage/storageAccounts/blobServices": Categories(
        _STORAGE_SERVICE_LOGS, frozenset({ALL_LOGS, AUDIT}), _STORAGE_METRICS),
    "Microsoft.Storage/storageAccounts/fileServices": Categories(
        _STORAGE_SERVICE_LOGS, frozenset({ALL_LOGS, AUDIT}), _STORAGE_METRICS),
    "Microsoft.KeyVault/vaults": Categories(
        frozenset({"AuditEvent", "AzurePolicyEvaluationDetails"}), frozenset({ALL_LOGS, AUDIT}),
        frozenset({ALL_METRICS})),
    "Microsoft.ContainerRegistry/registries": Categories(
        frozenset({"ContainerRegistryRepositoryEvents", "ContainerRegistryLoginEvents"}),
        frozenset({ALL_LOGS, AUDIT}), frozenset({ALL_METRICS})),
    "Microsoft.MachineLearningServices/workspaces": Categories(
        frozenset({
            "AmlComputeClusterEvent", "AmlComputeClusterNodeEvent", "AmlComputeCpuGpuUtilization",
            "AmlComputeJobEvent", "AmlRunStatusChangedEvent", "ComputeInstanceEvent", "DataLabelChangeEvent",
            "DataLabelReadEvent", "DataSetChangeEvent", "DataSetReadEvent", "DataStoreChangeEvent",
            "DataStoreReadEvent", "DeploymentEventACI", "DeploymentEventAKS", "DeploymentReadEvent",
            "EnvironmentChangeEvent", "EnvironmentReadEvent", "InferencingOperationACI", "InferencingOperationAKS",
            "ModelsActionEvent", "ModelsChangeEvent", "ModelsReadEvent", "PipelineChangeEvent", "PipelineReadEvent",
            "RunEvent", "RunReadEvent",
        }),
        frozenset({ALL_LOGS, AUDIT}), frozenset({ALL_METRICS})),
    # The AML registry: asset reads and writes on its data plane (AmlRegistryReadEventsLog, AmlRegistryWriteEventsLog);
    # Azure Monitor lists no platform metrics for the type, so a setting asks for logs only.
    "Microsoft.MachineLearningServices/registries": Categories(
        frozenset({"RegistryAssetReadEvent", "RegistryAssetWriteEvent"}), frozenset({ALL_LOGS})),
    # NSGs have resource logs but no platform metrics at all.
    "Microsoft.Network/networkSecurityGroups": Categories(
        frozenset({"NetworkSecurityGroupEvent", "NetworkSecurityGroupRuleCounter", "NetworkSecurityGroupFlowEvent"}),
        frozenset({ALL_LOGS})),
    "Microsoft.Network/virtualNetworks": Categories(
        frozenset({"VMProtectionAlerts"}), frozenset({ALL_LOGS}), frozenset({ALL_METRICS})),
    # The DDoS Protection categories exist on every public IP; the metrics (bytes, packets, SYN, VIP
    # availability) are AllMetrics.
    "Microsoft.Network/publicIPAddresses": Categories(
        frozenset({"DDoSMitigationFlowLogs", "DDoSMitigationReports", "DDoSProtectionNotifications"}),
        frozenset({ALL_LOGS}), frozenset({ALL_METRICS})),
    "Microsoft.ContainerService/managedClusters": Categories(
        frozenset({
            "cloud-controller-manager", "cluster-autoscaler", "csi-azuredisk-controller", "csi-azurefile-controller",
            "csi-snapshot-controller", "guard", "kube-apiserver", "kube-audit", "kube-audit-admin",
            "kube-controller-manager", "kube-scheduler",
        }),
        frozenset({ALL_LOGS, AUDIT}), frozenset({ALL_METRICS})),
}

_BY_LOWER = {k.lower(): v for k, v in SUPPORTED.items()}


def for_type(arm_type: str) -> Categories | None:
    """The categories of an ARM type (ARM compares types case-insensitively); None for a type not in the table."""
    return _BY_LOWER.get(arm_type.lower())


def arm_type_of(resource_id: str) -> str:
    """The ARM type an ID names: /subscriptions/s/resourceGroups/g/providers/NS/a/x/b/y -> NS/a/b.

    For an extension resource's scope, the last provider segment decides (the innermost resource)."""
    if "/providers/" not in resource_id:
        return "Microsoft.Resources/resourceGroups" if "/resourcegroups/" in resource_id.lower() else \
            "Microsoft.Resources/subscriptions"
    _, _, tail = resource_id.rpartition("/providers/")
    parts = [p for p in tail.split("/") if p]
    if not parts:
        return ""
    return "/".join([parts[0], *parts[1::2]])
