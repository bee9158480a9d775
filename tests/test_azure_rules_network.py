"""The flow-log Azure rule: passes the shipped stacks (test_azure_rules.py) and fails each fixture."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import stack_plan
from tests.test_azure_rules_aks import edited, findings, without

FLOW_LOG = "azure-native:network:FlowLog"


def _flow_log(plan):
    return plan.one(FLOW_LOG)


def test_flow_log_into_an_account_it_cannot_write_is_a_finding():
    plan = stack_plan("prod")
    account = plan.one("azure-native:storage:StorageAccount", "flow-logs-storage-account")
    fl = _flow_log(plan)
    name = fl.physical_name
    assert findings(without(plan, "flow-logs-storage-ra-flowlogs-blob-data")) == [(
        "azure-flow-log-storage", "flow-logs-vnet",
        f"flow log {name} has an identity without Storage Blob Data Contributor on {account.physical_name}: Network "
        "Watcher cannot write the records")]
    bare = {k: v for k, v in fl.inputs.items() if k != "identity"}
    assert findings(_replace_inputs(plan, bare)) == [(
        "azure-flow-log-storage", "flow-logs-vnet",
        f"flow log {name} stores in {account.physical_name}, which refuses shared keys, without a user-assigned "
        "identity: Network Watcher cannot write the records")]


def _replace_inputs(plan, inputs):
    """The plan with the flow log's inputs replaced whole (edited() merges, so it cannot drop a key)."""
    return dataclasses.replace(plan, resources=[dataclasses.replace(r, inputs=inputs) if r.name == "flow-logs-vnet"
                                                else r for r in plan.resources])


def test_flow_log_created_before_its_grant_is_a_finding():
    plan = stack_plan("staging")
    fl = next(r for r in plan.resources if r.name == "flow-logs-vnet")
    deps = [d for d in fl.dependencies if not d.endswith("::flow-logs-role-propagation")]
    account = plan.one("azure-native:storage:StorageAccount", "flow-logs-storage-account")
    assert findings(edited(plan, "flow-logs-vnet", dependencies=deps)) == [(
        "azure-flow-log-storage", "flow-logs-vnet",
        f"flow log {fl.physical_name} is created before its identity's Storage Blob Data Contributor grant on "
        f"{account.physical_name} exists")]


@pytest.mark.parametrize("change, words", [
    ({"location": "northeurope"}, "is in northeurope, but its target vnet-contoso-prd is in westeurope"),
])
def test_flow_log_outside_its_targets_region_is_a_finding(change, words):
    plan = stack_plan("prod")
    got = findings(edited(plan, "flow-logs-vnet", **change))
    assert any(words in message for _, _, message in got), got
    # The account then sits in another region than the flow log, too.
    assert any("the storage account must be in the flow log's region northeurope" in m for _, _, m in got)


def test_premium_storage_is_refused():
    plan = stack_plan("prod")
    premium = edited(plan, "flow-logs-storage-account", sku={"name": "Premium_LRS"})
    assert [m for _, _, m in findings(premium) if "Premium" in m] == [
        f"flow log {_flow_log(plan).physical_name} stores in "
        f"{plan.one('azure-native:storage:StorageAccount', 'flow-logs-storage-account').physical_name}, a Premium "
        "account: flow logs need a standard one"]


def test_traffic_analytics_names_its_workspace_by_guid_and_region():
    plan = stack_plan("staging")
    fl = _flow_log(plan)
    law = plan.one("azure-native:operationalinsights:Workspace")
    ta = fl.inputs["flowAnalyticsConfiguration"]["networkWatcherFlowAnalyticsConfiguration"]
    wrong = {"networkWatcherFlowAnalyticsConfiguration": {**ta, "workspaceId": law.id, "workspaceRegion": "eastus"}}
    assert [m for _, _, m in findings(edited(plan, "flow-logs-vnet", flowAnalyticsConfiguration=wrong))] == [
        f"flow log {fl.physical_name} gives traffic analytics workspaceId {law.id!r}, not the GUID (customerId) of "
        f"{law.physical_name}",
        f"flow log {fl.physical_name} gives traffic analytics workspaceRegion 'eastus', but {law.physical_name} is in "
        "westeurope"]
