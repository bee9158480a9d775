"""Each component's exact properties per environment, read from the offline plan."""

from __future__ import annotations

import pytest

from infra.components.common import PropsError
from infra.roles import BUILTIN_ROLES
from tests.conftest import stack_plan

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"


def one(stack, token):
    return stack_plan(stack).one(token).inputs


def test_storage_account_is_adls_gen2_entra_only(stack):
    s = one(stack, "azure-native:storage:StorageAccount")
    assert s["kind"] == "StorageV2"
    assert s["isHnsEnabled"] is True
    assert s["enableHttpsTrafficOnly"] is True
    assert s["minimumTlsVersion"] == "TLS1_2"
    assert s["allowBlobPublicAccess"] is False
    assert s["allowSharedKeyAccess"] is False
    assert s["isLocalUserEnabled"] is False
    assert s["allowCrossTenantReplication"] is False
    assert s["networkRuleSet"]["defaultAction"] == "Deny"
    assert s["networkRuleSet"]["bypass"] == "AzureServices"
    assert s["sku"]["name"] == {"dev": "Standard_LRS", "staging": "Standard_ZRS", "prod": "Standard_GZRS"}[stack]
    assert s["publicNetworkAccess"] == ("Enabled" if stack == "dev" else "Disabled")
    expected_ips = ["203.0.113.0/24", "198.51.100.7"] if stack == "dev" else []
    assert [r["iPAddressOrRange"] for r in s["networkRuleSet"].get("ipRules", [])] == expected_ips


def test_blob_and_container_soft_delete(stack):
    b = one(stack, "azure-native:storage:BlobServiceProperties")
    assert b["deleteRetentionPolicy"] == {"enabled": True, "days": 14}
    assert b["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 14}
    assert b["blobServicesName"] == "default"


def test_key_vault_rbac_purge_protection_firewall(stack):
    p = one(stack, "azure-native:keyvault:Vault")["properties"]
    assert p["enableRbacAuthorization"] is True
    assert p["enableSoftDelete"] is True and p["enablePurgeProtection"] is True
    assert p["softDeleteRetentionInDays"] == 90
    assert p["networkAcls"]["defaultAction"] == "Deny"
    assert p["sku"] == {"family": "A", "name": "premium" if stack == "prod" else "standard"}
    assert p["publicNetworkAccess"] == ("Enabled" if stack == "dev" else "Disabled")
    assert p["tenantId"] == "11111111-1111-1111-1111-111111111111"
    assert "accessPolicies" not in p


def test_registry_sku_and_access(stack):
    r = one(stack, "azure-native:containerregistry:Registry")
    assert r["adminUserEnabled"] is False and r["anonymousPullEnabled"] is False
    assert r["sku"]["name"] == ("Basic" if stack == "dev" else "Premium")
    assert r["zoneRedundancy"] == ("Enabled" if stack == "prod" else "Disabled")
    assert r["publicNetworkAccess"] == ("Enabled" if stack == "dev" else "Disabled")
    assert r["policies"]["quarantinePolicy"] == {"status": "disabled"}
    if stack == "dev":
        assert "networkRuleSet" not in r  # Basic has no firewall
    else:
        assert r["networkRuleSet"]["defaultAction"] == "Deny"
        assert r["policies"]["exportPolicy"] == {"status": "disabled"}
        assert r["dataEndpointEnabled"] is True


def test_monitoring_retention_and_workspace_based_app_insights(stack):
    log = one(stack, "azure-native:operationalinsights:Workspace")
    assert log["retentionInDays"] == {"dev": 30, "staging": 90, "prod": 365}[stack]
    assert log["sku"] == {"name": "PerGB2018"}
    assert log["features"]["disableLocalAuth"] is True
    appi = one(stack, "azure-native:applicationinsights:Component")
    assert appi["ingestionMode"] == "LogAnalytics"
    assert appi["workspaceResourceId"] == stack_plan(stack).one("azure-native:operationalinsights:Workspace").id


def test_workspace_identity_network_and_links(stack):
    plan = stack_plan(stack)
    w = plan.one("azure-native:machinelearningservices:Workspace")
    uai = plan.one("azure-native:managedidentity:UserAssignedIdentity", "workspace-identity-uai")
    i = w.inputs
    assert i["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [uai.id]}
    assert i["primaryUserAssignedIdentity"] == uai.id
    assert i["systemDatastoresAuthMode"] == "identity"
    assert i["allowPublicAccessWhenBehindVnet"] is False
    assert i["publicNetworkAccess"] == ("Enabled" if stack == "dev" else "Disabled")
    assert i["hbiWorkspace"] is (stack == "prod")
    assert i["storageAccount"] == plan.one("azure-native:storage:StorageAccount").id
    assert i["keyVault"] == plan.one("azure-native:keyvault:Vault").id
    assert i["containerRegistry"] == plan.one("azure-native:containerregistry:Registry").id
    assert i["applicationInsights"] == plan.one("azure-native:applicationinsights:Component").id
    # It waits for every role its identity needs, plus the propagation pause after them.
    pause = plan.one("time:index/sleep:Sleep", "role-propagation")
    assert pause.urn in w.dependencies and pause.inputs["createDuration"] == "60s"
    # The AKS attach roles on the cluster come after the workspace (tests/test_inference.py).
    grants = {r.urn for r in plan.of_type("azure-native:authorization:RoleAssignment")
              if r.inputs["principalId"] == uai.outputs["principalId"] and "managedClusters" not in r.inputs["scope"]}
    assert len(grants) == 6 and grants <= set(pause.dependencies)


def identity_grants(plan, component):
    principal = plan.one("azure-native:managedidentity:UserAssignedIdentity", f"{component}-uai").outputs["principalId"]
    return [ra for ra in plan.of_type("azure-native:authorization:RoleAssignment")
            if ra.inputs["principalId"] == principal]


def test_workspace_identity_roles_are_exactly_the_documented_set(stack):
    plan = stack_plan(stack)
    got = set()
    for ra in identity_grants(plan, "workspace-identity"):
        i = ra.inputs
        assert i["principalType"] == "ServicePrincipal"
        assert i["roleDefinitionId"].startswith(f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/")
        got.add((i["scope"].split("/providers/")[-1].split("/")[0], i["roleDefinitionId"].rsplit("/", 1)[-1]))
    r = BUILTIN_ROLES
    assert got == {
        ("Microsoft.Storage", r["Contributor"]),
        ("Microsoft.Storage", r["Storage Blob Data Contributor"]),
        ("Microsoft.KeyVault", r["Contributor"]),
        ("Microsoft.KeyVault", r["Key Vault Administrator"]),
        ("Microsoft.ContainerRegistry", r["Contributor"]),
        ("Microsoft.Insights", r["Contributor"]),
        # Attaching AKS with a user-assigned workspace identity (how-to-attach-kubernetes-to-workspace).
        *((("Microsoft.ContainerService", r["Reader"]), ("Microsoft.ContainerService", r["Kubernetes Extension Contributor"]),
           ("Microsoft.ContainerService", r["Azure Kubernetes Service Cluster Admin Role"])) if stack != "dev" else ()),
    }
    # No grant at resource-group or subscription scope.
    for ra in identity_grants(plan, "workspace-identity"):
        assert "/providers/" in ra.inputs["scope"]


def test_compute_identity_has_only_data_roles(stack):
    plan = stack_plan(stack)
    r = BUILTIN_ROLES
    got = {(ra.inputs["scope"].split("/providers/")[-1].split("/")[0], ra.inputs["roleDefinitionId"].rsplit("/", 1)[-1])
           for ra in identity_grants(plan, "compute-identity")}
    assert got == {
        ("Microsoft.Storage", r["Storage Blob Data Contributor"]),
        ("Microsoft.KeyVault", r["Key Vault Secrets User"]),
        ("Microsoft.ContainerRegistry", r["AcrPull"]),
    }
    assert not {g for _, g in got} & {r["Owner"], r["Contributor"], r["User Access Administrator"]}


def test_role_assignment_names_are_uuid5_of_scope_principal_role(stack):
    from infra.naming import stable_guid

    for ra in stack_plan(stack).of_type("azure-native:authorization:RoleAssignment"):
        i = ra.inputs
        role_guid = i["roleDefinitionId"].rsplit("/", 1)[-1]
        assert i["roleAssignmentName"] == stable_guid(i["scope"], i["principalId"], role_guid)


STATEFUL = {
    "azure-native:storage:StorageAccount",
    "azure-native:keyvault:Vault",
    "azure-native:containerregistry:Registry",
    "azure-native:operationalinsights:Workspace",
    "azure-native:machinelearningservices:Workspace",
    "azure-native:resources:ResourceGroup",
}


def test_protect_and_locks_follow_environment(stack):
    plan = stack_plan(stack)
    on = stack != "dev"
    for r in plan.custom():
        assert r.protect is (on and r.type in STATEFUL), r.urn
    locks = plan.of_type("azure-native:authorization:ManagementLockByScope")
    locked = {plan.by_urn()[lock.dependencies[0]].type for lock in locks} if on else set()
    assert len(locks) == (5 if on else 0)
    assert {lock.inputs["level"] for lock in locks} <= {"CanNotDelete"}
    assert locked == (STATEFUL - {"azure-native:resources:ResourceGroup"} if on else set())


def test_diagnostics_reach_log_analytics_for_every_data_service(stack):
    plan = stack_plan(stack)
    log_id = plan.one("azure-native:operationalinsights:Workspace").id
    diags = plan.of_type("azure-native:monitor:DiagnosticSetting")
    targets = {d.inputs["resourceUri"].split("/providers/", 1)[1] for d in diags}
    assert all(d.inputs["workspaceId"] == log_id for d in diags)
    st = plan.one("azure-native:storage:StorageAccount").physical_name
    network = {"Microsoft.Network/networkSecurityGroups", "Microsoft.Network/virtualNetworks",
               "Microsoft.ContainerService/managedClusters"} if stack != "dev" else set()
    assert {t.split("/")[0] + "/" + t.split("/")[1] for t in targets} == {
        "Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults",
        "Microsoft.ContainerRegistry/registries", "Microsoft.MachineLearningServices/workspaces", *network,
    }
    assert f"Microsoft.Storage/storageAccounts/{st}/blobServices/default" in targets
    account = next(d for d in diags if d.inputs["resourceUri"].endswith(st))
    assert "logs" not in account.inputs and account.inputs["metrics"][0]["category"] == "AllMetrics"




def test_props_validate_before_any_resource():
    from infra.components.common import Common
    from infra.components.registry import RegistryProps
    from infra.components.storage import StorageProps

    common = Common(resource_group_name="rg", location="westeurope", subscription_id="s")
    with pytest.raises(PropsError, match="storage name 'St-Bad' must be lowercase letters and digits"):
        StorageProps(common, name="St-Bad", replication="Standard_LRS", public_network_access=False)
    with pytest.raises(PropsError, match="zone redundancy needs the Premium SKU"):
        RegistryProps(common, name="crok12", sku="Basic", public_network_access=False, zone_redundancy=True)
