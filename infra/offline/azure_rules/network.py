"""VNet flow logs as Network Watcher accepts them and can write them."""

from __future__ import annotations

from typing import Iterable

from infra.azure_facts.roles import BUILTIN_ROLES
from infra.offline.engine import PlannedResource
from infra.offline.azure_rules.aks import _grants, _principal, _waits_for
from infra.offline.azure_rules.base import AzureRule, PlanView

FLOW_LOG = "Microsoft.Network/networkWatchers/flowLogs"
LOG_ANALYTICS = "Microsoft.OperationalInsights/workspaces"
WRITER = "Storage Blob Data Contributor"


def _storage_problems(view: PlanView, flow_log: PlannedResource, account: PlannedResource) -> Iterable[str]:
    """The account: same region, standard tier, and with shared keys off a user-assigned identity that may write."""
    i = account.inputs
    if str(i.get("location", "")).lower() != str(flow_log.inputs.get("location", "")).lower():
        yield (f"stores in {account.physical_name} in {i.get('location')}, but the storage account must be in the "
               f"flow log's region {flow_log.inputs.get('location')}")
    if str((i.get("sku") or {}).get("name", "")).startswith("Premium"):
        yield f"stores in {account.physical_name}, a Premium account: flow logs need a standard one"
    if i.get("allowSharedKeyAccess") is not False:
        return
    principal = _principal(view, flow_log.inputs.get("identity"))
    if principal is None:
        yield (f"stores in {account.physical_name}, which refuses shared keys, without a user-assigned identity: "
               "Network Watcher cannot write the records")
        return
    grant = _grants(view, account.id, principal).get(BUILTIN_ROLES[WRITER])
    if grant is None:
        yield f"has an identity without {WRITER} on {account.physical_name}: Network Watcher cannot write the records"
    elif not _waits_for(view, flow_log, grant.urn):
        yield f"is created before its identity's {WRITER} grant on {account.physical_name} exists"


def _analytics_problems(view: PlanView, flow_log: PlannedResource) -> Iterable[str]:
    ta = ((flow_log.inputs.get("flowAnalyticsConfiguration") or {})
          .get("networkWatcherFlowAnalyticsConfiguration") or {})
    if ta.get("enabled") is not True:
        return
    workspace = view.get(ta.get("workspaceResourceId"))
    if workspace is None:
        return
    if ta.get("workspaceId") != workspace.outputs.get("customerId"):
        yield (f"gives traffic analytics workspaceId {ta.get('workspaceId')!r}, not the GUID (customerId) of "
               f"{workspace.physical_name}")
    if str(ta.get("workspaceRegion", "")).lower() != str(workspace.inputs.get("location", "")).lower():
        yield (f"gives traffic analytics workspaceRegion {ta.get('workspaceRegion')!r}, but {workspace.physical_name} "
               f"is in {workspace.inputs.get('location')}")


def flow_log_targets(view: PlanView) -> Iterable[tuple[str, str]]:
    """A VNet flow log's target, storage account and traffic analytics workspace as Network Watcher takes them."""
    for flow_log in view.of_arm_type(FLOW_LOG):
        i = flow_log.inputs
        target = view.get(i.get("targetResourceId"))
        problems: list[str] = []
        if target is not None and str(target.inputs.get("location", "")).lower() != str(i.get("location", "")).lower():
            problems.append(f"is in {i.get('location')}, but its target {target.physical_name} is in "
                            f"{target.inputs.get('location')}: a flow log lives in its target's region")
        account = view.get(i.get("storageId"))
        if account is not None:
            problems.extend(_storage_problems(view, flow_log, account))
        problems.extend(_analytics_problems(view, flow_log))
        for problem in problems:
            yield flow_log.urn, f"flow log {flow_log.physical_name} {problem}"


RULES = (
    AzureRule(
        "azure-flow-log-storage",
        "A flow log sits in its target's region, stores in a standard account of that region it may write to, and "
        "names its traffic analytics workspace by GUID",
        # Storage: "must be in the same region as the virtual network", "must be standard"; with shared keys off,
        # a user-assigned identity with Storage Blob Data Contributor (vnet-flow-logs-managed-identity).
        "https://learn.microsoft.com/azure/network-watcher/vnet-flow-logs-overview"
        "#storage-account-considerations-for-virtual-network-flow-logs",
        flow_log_targets,
    ),
)
