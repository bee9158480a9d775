"""Azure's own rules (infra/offline/azure_rules): every shipped stack passes, every rule fails its bad fixture."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from infra.offline import azure_rules
from infra.offline.engine import Plan
from tests.conftest import stack_plan


def test_every_shipped_stack_has_no_finding(stack):
    report = azure_rules.evaluate(stack_plan(stack))
    assert report.findings == [], [f"{f.rule} {f.resource}: {f.message}" for f in report.findings]
    assert report.ok and report.verdict() == "PASS"


def test_every_rule_names_its_source():
    assert azure_rules.RULES, "no Azure rules registered"
    for rule in azure_rules.RULES:
        assert rule.source.startswith("https://"), rule.id
    ids = [r.id for r in azure_rules.RULES]
    assert len(ids) == len(set(ids))


def with_copy(plan: Plan, token: str, pick: int = 0, **changes) -> Plan:
    """The plan plus a copy of one of its resources under another URN (inputs changed as given)."""
    original = plan.of_type(token)[pick]
    clone = dataclasses.replace(original, urn=original.urn + "-copy", name=original.name + "-copy",
                                inputs={**copy.deepcopy(original.inputs), **changes})
    return dataclasses.replace(plan, resources=[*plan.resources, clone])


def test_a_second_assignment_of_the_same_role_to_the_same_principal_is_a_409():
    plan = stack_plan("dev")
    bad = with_copy(plan, "azure-native:authorization:RoleAssignment",
                    roleAssignmentName="ffffffff-0000-0000-0000-000000000000")
    report = azure_rules.evaluate(bad)
    assert [(f.rule, f.resource) for f in report.findings] == [
        ("azure-role-assignment-unique", plan.of_type("azure-native:authorization:RoleAssignment")[0].name + "-copy")]
    assert "409 RoleAssignmentExists" in report.findings[0].message
    assert report.verdict() == "FAIL: 1 finding(s)"


@pytest.mark.parametrize("field", ["scope", "principalId"])
def test_the_same_role_on_another_scope_or_principal_is_no_finding(field):
    plan = stack_plan("dev")
    original = plan.of_type("azure-native:authorization:RoleAssignment")[0]
    other = original.inputs[field] + ("/x" if field == "scope" else "0")
    assert azure_rules.evaluate(with_copy(plan, "azure-native:authorization:RoleAssignment", **{field: other})).ok


def _replace(plan: Plan, res, **inputs) -> Plan:
    """The plan with one resource's inputs changed (None removes the key)."""
    changed = {**copy.deepcopy(res.inputs), **inputs}
    changed = {k: v for k, v in changed.items() if v is not None}
    return dataclasses.replace(plan, resources=[dataclasses.replace(r, inputs=changed) if r.urn == res.urn else r
                                                for r in plan.resources])


def findings(plan: Plan, rule: str) -> list[tuple[str, str]]:
    return [(f.resource, f.message) for f in azure_rules.evaluate(plan).findings if f.rule == rule]


# ---- the workspace's default storage ------------------------------------------------------------------


def test_a_workspace_on_an_hns_storage_account_is_refused():
    plan = stack_plan("prod")
    st = plan.one("azure-native:storage:StorageAccount", "storage-account")
    assert st.inputs["isHnsEnabled"] is False
    (found,) = findings(_replace(plan, st, isHnsEnabled=True), "azure-workspace-storage-no-hns")
    assert found[0] == "workspace-mlw" and "Cannot use storage with HNS enabled" in found[1]
    # The lake has its namespace, and no workspace links it.
    assert plan.one("azure-native:storage:StorageAccount", "datalake-account").inputs["isHnsEnabled"] is True


# ---- diagnostic settings --------------------------------------------------------------------------------


def _diag_on(plan: Plan, suffix: str):
    return next(d for d in plan.of_type("azure-native:monitor:DiagnosticSetting") if d.name == suffix)


def test_allmetrics_on_a_storage_account_is_a_400():
    plan = stack_plan("dev")
    diag = _diag_on(plan, "storage-account-diag")
    bad = _replace(plan, diag, metrics=[{"category": "AllMetrics", "enabled": True}])
    (found,) = findings(bad, "azure-diagnostic-categories")
    assert found[0] == "storage-account-diag"
    assert found[1].startswith("asks Microsoft.Storage/storageAccounts for metric category 'AllMetrics'")
    assert "metrics ['Transaction']" in found[1]


@pytest.mark.parametrize("diag, entry, words", [
    ("keyvault-diag", {"logs": [{"category": "SignInLogs", "enabled": True}]}, "log category 'SignInLogs'"),
    ("registry-diag", {"logs": [{"categoryGroup": "everything", "enabled": True}]}, "log category group 'everything'"),
    # Capacity is reported refused on the storage services (terraform-azurerm-avm-res-storage-storageaccount#322).
    ("storage-blob-diag", {"metrics": [{"category": "Capacity", "enabled": True}]}, "metric category 'Capacity'"),
    # An NSG has resource logs only, no platform metrics.
    ("network-nsg-training-diag", {"metrics": [{"category": "AllMetrics", "enabled": True}]},
     "metric category 'AllMetrics'"),
])
def test_unknown_categories_for_the_target_type_are_findings(diag, entry, words):
    plan = stack_plan("staging")
    (found,) = findings(_replace(plan, _diag_on(plan, diag), **entry), "azure-diagnostic-categories")
    assert found[0] == diag and words in found[1]


def test_a_setting_on_a_type_the_table_lacks_is_a_finding():
    plan = stack_plan("dev")
    diag = _diag_on(plan, "keyvault-diag")
    web = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Web/sites/app"
    (found,) = findings(_replace(plan, diag, resourceUri=web), "azure-diagnostic-categories")
    assert "Microsoft.Web/sites, a type infra/azure_facts/diagnostic_categories.py does not list" in found[1]


# ---- locks ----------------------------------------------------------------------------------------------


def test_a_lock_over_the_workspace_is_a_finding_for_each_compute_and_grant_below():
    plan = stack_plan("prod")
    ws = plan.one("azure-native:machinelearningservices:Workspace")
    lock = plan.one("azure-native:authorization:ManagementLockByScope", "keyvault-lock")
    bad = with_copy(plan, "azure-native:authorization:ManagementLockByScope",
                    pick=plan.of_type("azure-native:authorization:ManagementLockByScope").index(lock),
                    scope=ws.id, lockName="lock-workspace")
    # The copy needs its own ID below the workspace, as the emulator would give it.
    clone = bad.resources[-1]
    bad.resources[-1] = dataclasses.replace(clone, id=f"{ws.id}/providers/Microsoft.Authorization/locks/lock-workspace",
                                            physical_name="lock-workspace")
    found = dict(findings(bad, "azure-lock-over-managed-children"))
    assert {"compute-cluster-cpu-cluster", "compute-cluster-gpu-cluster", "inference-attach"} <= set(found)
    assert "ScopeLocked" in found["compute-cluster-cpu-cluster"]
    # The workspace identity's own grant on the workspace and the diagnostic setting are static: not findings.
    assert "workspace-diag" not in found and "workspace-ra-workspace-contributor" not in found


def test_the_shipped_locks_cover_only_static_children():
    plan = stack_plan("prod")
    scopes = [lk.inputs["scope"] for lk in plan.of_type("azure-native:authorization:ManagementLockByScope")]
    view = azure_rules.PlanView(plan)
    below = sorted(r.name for s in scopes for r in view.under(s) if view.arm_type(r) != "Microsoft.Authorization/locks")
    # Below the vault's lock also the customer-managed keys (retained on delete: the stack never deletes a
    # key) and the grants on them and the vault, all to the stack's own identities (the disk encryption set's
    # system-assigned one included); below the disk encryption set's, the AKS identity's Reader.
    assert below == ["cmk-datalake-key", "cmk-disks-key", "cmk-flowlogs-key", "cmk-kms-key", "cmk-ra-datalake-key",
                     "cmk-ra-disks-key", "cmk-ra-flowlogs-key", "cmk-ra-registry-key", "cmk-ra-storage-key",
                     "cmk-ra-workspace-key", "cmk-registry-key",
                     "cmk-storage-key", "cmk-workspace-key", "inference-ra-acr-pull",
                     "inference-ra-disk-encryption-set", "inference-ra-kms-key", "inference-ra-kms-vault",
                     "keyvault-diag", "keyvault-ra-compute-secrets-user", "keyvault-ra-workspace-contributor",
                     "keyvault-ra-workspace-kv-admin", "registry-diag", "registry-ra-compute-acr-pull",
                     "registry-ra-workspace-contributor"]
    assert all(r.retain_on_delete for r in plan.of_type("azure-native:keyvault:Key"))


def test_a_team_grant_under_a_lock_is_a_finding_unless_retained():
    plan = stack_plan("prod")
    vault = plan.one("azure-native:keyvault:Vault")
    grant = plan.of_type("azure-native:authorization:RoleAssignment")[0]
    person = dataclasses.replace(grant, urn=grant.urn.rsplit("::", 1)[0] + "::person-on-vault", name="person-on-vault",
                                 id=f"{vault.id}/providers/Microsoft.Authorization/roleAssignments/x",
                                 inputs={**grant.inputs, "scope": vault.id, "principalId": "not-a-platform-identity"})
    bad = dataclasses.replace(plan, resources=[*plan.resources, person])
    assert [f[0] for f in findings(bad, "azure-lock-over-managed-children")] == ["person-on-vault"]
    kept = dataclasses.replace(bad, resources=[*plan.resources, dataclasses.replace(person, retain_on_delete=True)])
    assert findings(kept, "azure-lock-over-managed-children") == []


# ---- no-public-IP compute --------------------------------------------------------------------------------


def test_no_public_ip_compute_without_subnet_or_managed_network_is_a_finding():
    plan = stack_plan("dev")
    ws = plan.one("azure-native:machinelearningservices:Workspace")
    assert ws.inputs["managedNetwork"]["isolationMode"] == "AllowInternetOutbound"
    assert findings(plan, "azure-no-public-ip-compute-network") == []
    (found,) = findings(_replace(plan, ws, managedNetwork=None), "azure-no-public-ip-compute-network")
    assert found[0] == "compute-cluster-cpu-cluster" and "no public IP and no subnet" in found[1]


def test_no_public_ip_serverless_needs_a_subnet_or_a_managed_network():
    plan = stack_plan("staging")
    ws = plan.one("azure-native:machinelearningservices:Workspace")
    settings = ws.inputs["serverlessComputeSettings"]
    assert settings["serverlessComputeNoPublicIP"] is True and settings["serverlessComputeCustomSubnet"]
    bad = _replace(plan, ws, serverlessComputeSettings={"serverlessComputeNoPublicIP": True})
    (found,) = findings(bad, "azure-no-public-ip-compute-network")
    assert found[0] == "workspace-mlw" and "serverless compute has no public IP" in found[1]
    managed = _replace(plan, ws, serverlessComputeSettings={"serverlessComputeNoPublicIP": True},
                       managedNetwork={"isolationMode": "AllowOnlyApprovedOutbound"})
    assert findings(managed, "azure-no-public-ip-compute-network") == []


def test_every_module_registers_its_rules():
    ids = {r.id for r in azure_rules.RULES}
    assert ids == {"azure-role-assignment-unique", "azure-workspace-storage-no-hns", "azure-diagnostic-categories",
                   "azure-lock-over-managed-children", "azure-no-public-ip-compute-network",
                   "azure-aks-udr-public-network-access", "azure-aks-attach-roles", "azure-aks-attach-namespace",
                   "azure-aks-container-insights-dcr", "azure-aks-container-insights-private-link",
                   "azure-aks-trusted-access", "azure-aks-image-cleaner-interval", "azure-flow-log-storage",
                   "azure-required-feature-registrations", "azure-kubernetes-endpoint-auth",
                   "azure-kubernetes-instance-type", "azure-managed-deployment-egress", "azure-endpoint-routing",
                   "azure-cmk-key-access", "azure-cmk-vault-protection", "azure-cmk-vault-reachable",
                   "azure-cmk-key-fits", "azure-aks-kms-private-vnet-integration", "azure-aks-api-server-subnet",
                   "azure-registry-cmk-premium", "azure-cmk-creation-only"}
