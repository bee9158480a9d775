"""Each component's exact properties per environment, read from the offline plan."""

from __future__ import annotations

import pytest

from infra.components.common import PropsError
from infra.azure_facts.roles import BUILTIN_ROLES
from tests.conftest import stack_plan
from tests.test_network import ML_REGISTRY

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"


def one(stack, token, name=None):
    return stack_plan(stack).one(token, name).inputs


STORAGE = "azure-native:storage:StorageAccount"
ACCOUNTS = ("storage-account", "datalake-account")


def test_workspace_storage_is_flat_and_the_lake_is_adls_gen2(stack):
    plan = stack_plan(stack)
    st, lake = plan.one(STORAGE, "storage-account"), plan.one(STORAGE, "datalake-account")
    assert st.inputs["isHnsEnabled"] is False and lake.inputs["isHnsEnabled"] is True
    # The workspace links the flat one; the lake is a separate account within the storage name rule.
    assert plan.one("azure-native:machinelearningservices:Workspace").inputs["storageAccount"] == st.id
    assert lake.physical_name == "dls" + st.physical_name.removeprefix("st") and len(lake.physical_name) <= 24
    # Private endpoints: blob + file (AML's notebooks share) on the workspace storage, blob + dfs on the lake.
    groups = {(pe.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"],
               pe.inputs["privateLinkServiceConnections"][0]["groupIds"][0])
              for pe in plan.of_type("azure-native:network:PrivateEndpoint")}
    want = {(st.id, "blob"), (st.id, "file"), (lake.id, "blob"), (lake.id, "dfs")}
    assert (want <= groups) if stack != "dev" else not groups
    # AML's file share lives on the workspace storage; the lake needs none.
    files = plan.of_type("azure-native:storage:FileServiceProperties")
    assert [f.inputs["accountName"] for f in files] == [st.physical_name]


@pytest.mark.parametrize("account", ACCOUNTS)
def test_both_storage_accounts_are_hardened_alike(stack, account):
    s = one(stack, STORAGE, account)
    assert s["kind"] == "StorageV2"
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


@pytest.mark.parametrize("blob", ["storage-blob", "datalake-blob"])
def test_blob_and_container_soft_delete(stack, blob):
    b = one(stack, "azure-native:storage:BlobServiceProperties", blob)
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
    assert i["storageAccount"] == plan.one(STORAGE, "storage-account").id
    assert i["keyVault"] == plan.one("azure-native:keyvault:Vault").id
    assert i["containerRegistry"] == plan.one("azure-native:containerregistry:Registry").id
    assert i["applicationInsights"] == plan.one("azure-native:applicationinsights:Component").id
    # It waits for every role its identity needs, plus the propagation pause after them.
    pause = plan.one("time:index/sleep:Sleep", "role-propagation")
    assert pause.urn in w.dependencies and pause.inputs["createDuration"] == "60s"
    # The AKS attach roles on the cluster come after the workspace (tests/test_inference.py).
    grants = {r.urn for r in plan.of_type("azure-native:authorization:RoleAssignment")
              if r.inputs["principalId"] == uai.outputs["principalId"] and "managedClusters" not in r.inputs["scope"]}
    # Every grant on what the workspace links (6; dev's managed network adds the lake's approver role) comes
    # before the pause; its Contributor on the workspace itself can only follow the workspace.
    on_workspace = {r.urn for r in plan.of_type("azure-native:authorization:RoleAssignment")
                    if r.inputs["scope"] == w.id}
    # Reader on the organisation's AML registry is no prerequisite of the workspace (the registry is no
    # associated resource): it comes with the stack's link to the registry.
    on_registry = {r.urn for r in plan.of_type("azure-native:authorization:RoleAssignment")
                   if r.inputs["scope"] == ML_REGISTRY}
    assert len(grants & on_registry) == 1
    # With customer-managed keys (prod) its grant on its key comes before the keys' own pause.
    on_key = {r.urn for r in plan.of_type("azure-native:authorization:RoleAssignment") if "/keys/" in r.inputs["scope"]}
    linked = grants - on_workspace - on_registry - on_key
    assert len(linked) == (7 if stack == "dev" else 6) and linked <= set(pause.dependencies)
    if stack == "prod":
        cmk_pause = plan.one("time:index/sleep:Sleep", "cmk-role-propagation")
        assert len(grants & on_key) == 1 and grants & on_key <= set(cmk_pause.dependencies)
        assert cmk_pause.urn in w.dependencies and cmk_pause.inputs["createDuration"] == "60s"


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
    # how-to-identity-based-service-authentication, "User-assigned managed identity": Contributor on the
    # workspace and each linked resource, Storage Blob Data Contributor, Key Vault Administrator.
    expected = {
        ("Microsoft.MachineLearningServices", r["Contributor"]),
        ("Microsoft.Storage", r["Contributor"]),
        ("Microsoft.Storage", r["Storage Blob Data Contributor"]),
        ("Microsoft.KeyVault", r["Contributor"]),
        ("Microsoft.KeyVault", r["Key Vault Administrator"]),
        ("Microsoft.ContainerRegistry", r["Contributor"]),
        ("Microsoft.Insights", r["Contributor"]),
        # Read-only use of the organisation's AML registry's assets (how-to-manage-registries, "Allow users to
        # use assets from the registry": Reader).
        ("Microsoft.MachineLearningServices", r["Reader"]),
        # Attaching AKS with a user-assigned workspace identity (how-to-attach-kubernetes-to-workspace).
        *((("Microsoft.ContainerService", r["Reader"]), ("Microsoft.ContainerService", r["Kubernetes Extension Contributor"]),
           ("Microsoft.ContainerService", r["Azure Kubernetes Service Cluster Admin Role"])) if stack != "dev" else ()),
    }
    if stack == "dev":
        # Dev's managed VNet has private endpoints to the lake, approved by the workspace identity (how-to-managed-network).
        expected.add(("Microsoft.Storage", r["Azure AI Enterprise Network Connection Approver"]))
    if stack == "prod":
        # Customer-managed keys: get, wrap and unwrap on its own key (concept-customer-managed-keys).
        expected.add(("Microsoft.KeyVault", r["Key Vault Crypto Service Encryption User"]))
    assert got == expected
    workspace = stack_plan(stack).one("azure-native:machinelearningservices:Workspace").id
    assert [ra.inputs["scope"] for ra in identity_grants(plan, "workspace-identity")
            if ra.inputs["roleDefinitionId"].endswith(r["Contributor"])
            and "MachineLearningServices" in ra.inputs["scope"]] == [workspace]
    # No grant at resource-group or subscription scope.
    for ra in identity_grants(plan, "workspace-identity"):
        assert "/providers/" in ra.inputs["scope"]


def test_compute_identity_has_only_data_roles(stack):
    plan = stack_plan(stack)
    r = BUILTIN_ROLES
    names = {res.id: res.name for res in plan.custom()} | {ML_REGISTRY: "ml-registry"}
    got = {(names[ra.inputs["scope"]], ra.inputs["roleDefinitionId"].rsplit("/", 1)[-1])
           for ra in identity_grants(plan, "compute-identity")}
    # Jobs write outputs to the workspace's default datastore and read team data (scheduled jobs have no
    # user identity); they never write the lake.
    assert got == {
        ("storage-account", r["Storage Blob Data Contributor"]),
        ("datalake-account", r["Storage Blob Data Reader"]),
        ("keyvault-vault", r["Key Vault Secrets User"]),
        ("registry-registry", r["AcrPull"]),
        # Batch deployments run on the cluster and read promoted models from the organisation's registry.
        ("ml-registry", r["Reader"]),
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
    # Customer-managed keys take their data with them; the disk encryption set its cluster's disks.
    "azure-native:keyvault:Key",
    "azure-native:compute:DiskEncryptionSet",
}
# Locked: nothing the platform adds or removes per team lives below them. The workspace and both
# storage accounts hold the teams' grants, containers, computes and datastores: protect only.
LOCKED = {
    "azure-native:keyvault:Vault",
    "azure-native:containerregistry:Registry",
    "azure-native:operationalinsights:Workspace",
}


def test_protect_and_locks_follow_environment(stack):
    plan = stack_plan(stack)
    on = stack != "dev"
    for r in plan.custom():
        assert r.protect is (on and r.type in STATEFUL), r.urn
    locks = plan.of_type("azure-native:authorization:ManagementLockByScope")
    locked = {plan.by_urn()[lock.dependencies[0]].type for lock in locks} if on else set()
    # Prod's disk encryption set (customer-managed keys) is locked too: below it only the AKS identity's Reader.
    cmk = stack == "prod"
    assert len(locks) == {"dev": 0, "staging": 3, "prod": 4}[stack]
    assert {lock.inputs["level"] for lock in locks} <= {"CanNotDelete"}
    assert locked == ((LOCKED | ({"azure-native:compute:DiskEncryptionSet"} if cmk else set())) if on else set())


def test_diagnostics_reach_log_analytics_for_every_data_service(stack):
    plan = stack_plan(stack)
    log_id = plan.one("azure-native:operationalinsights:Workspace").id
    diags = plan.of_type("azure-native:monitor:DiagnosticSetting")
    targets = {d.inputs["resourceUri"].split("/providers/", 1)[1] for d in diags}
    assert all(d.inputs["workspaceId"] == log_id for d in diags)
    network = {"Microsoft.Network/networkSecurityGroups", "Microsoft.Network/virtualNetworks",
               "Microsoft.Network/publicIPAddresses", "Microsoft.ContainerService/managedClusters"} \
        if stack != "dev" else set()
    assert {t.split("/")[0] + "/" + t.split("/")[1] for t in targets} == {
        "Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults",
        "Microsoft.ContainerRegistry/registries", "Microsoft.MachineLearningServices/workspaces", *network,
    }
    for account in ACCOUNTS:
        assert f"Microsoft.Storage/storageAccounts/{plan.one(STORAGE, account).physical_name}/blobServices/default" \
            in targets


def _diag(plan, target_id):
    (d,) = [d for d in plan.of_type("azure-native:monitor:DiagnosticSetting") if d.inputs["resourceUri"] == target_id]
    return d.inputs


def test_diagnostic_categories_follow_the_target_type(stack):
    plan = stack_plan(stack)
    for account in ACCOUNTS:
        st = plan.one(STORAGE, account).id
        # Storage takes metric categories, never AllMetrics (a 400); the account has no logs.
        assert _diag(plan, st)["metrics"] == [{"category": "Transaction", "enabled": True}]
        assert "logs" not in _diag(plan, st)
        blob = _diag(plan, f"{st}/blobServices/default")
        assert blob["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
        assert blob["metrics"] == [{"category": "Transaction", "enabled": True}]
    kv = _diag(plan, plan.one("azure-native:keyvault:Vault").id)
    assert kv["metrics"] == [{"category": "AllMetrics", "enabled": True}]
    if stack != "dev":
        nsg = _diag(plan, plan.of_type("azure-native:network:NetworkSecurityGroup")[0].id)
        assert nsg["logs"] == [{"categoryGroup": "allLogs", "enabled": True}] and "metrics" not in nsg


def test_add_diagnostics_refuses_a_type_or_group_the_table_lacks():
    from infra.components.common import DiagnosticSettings, add_diagnostics

    with pytest.raises(PropsError, match="Microsoft.Web/sites is not in infra/azure_facts/diagnostic_categories.py"):
        add_diagnostics(None, "x", "/id", DiagnosticSettings("/log"), "Microsoft.Web/sites")  # type: ignore[arg-type]
    with pytest.raises(PropsError, match="Microsoft.Network/networkSecurityGroups has no log category group 'audit'"):
        add_diagnostics(None, "x", "/id", DiagnosticSettings("/log"),  # type: ignore[arg-type]
                        "Microsoft.Network/networkSecurityGroups", log_group="audit")


def test_props_validate_before_any_resource():
    from infra.components.common import Common
    from infra.components.registry import RegistryProps
    from infra.components.storage import StorageProps

    common = Common(resource_group_name="rg", location="westeurope", subscription_id="s")
    with pytest.raises(PropsError, match="storage name 'St-Bad' must be lowercase letters and digits"):
        StorageProps(common, name="St-Bad", replication="Standard_LRS", public_network_access=False)
    with pytest.raises(PropsError, match="team containers live on the data lake"):
        StorageProps(common, name="stok1", replication="Standard_LRS", public_network_access=False,
                     containers=["fraud-raw"])
    with pytest.raises(PropsError, match="zone redundancy needs the Premium SKU"):
        RegistryProps(common, name="crok12", sku="Basic", public_network_access=False, zone_redundancy=True,
                      quarantine=False)


def test_compute_instances_run_as_their_own_identity_with_contributor_on_the_workspace():
    """Idle shutdown works only when the instance's identity holds Contributor on the workspace
    (how-to-create-compute-instance#assign-managed-identity); the clusters' identity never gets it."""
    import copy

    from infra.offline import platform_rules
    from tests.conftest import plan_raw, raw_stack

    member = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d06"
    raw = copy.deepcopy(raw_stack("dev"))
    raw["amlplatform:teams"] = {"fraud": {"members": [member]}}
    cfg, plan = plan_raw("dev", raw)
    ci = plan.one("azure-native:managedidentity:UserAssignedIdentity", "instance-identity-uai")
    assert ci.physical_name == "id-contoso-dev-instance"
    computes = {c.inputs["properties"]["computeType"]: c for c in plan.of_type("azure-native:machinelearningservices:Compute")}
    assert computes["ComputeInstance"].inputs["identity"]["userAssignedIdentities"] == [ci.id]
    job = plan.one("azure-native:managedidentity:UserAssignedIdentity", "compute-identity-uai")
    assert computes["AmlCompute"].inputs["identity"]["userAssignedIdentities"] == [job.id]
    r = BUILTIN_ROLES
    names = {res.id: res.name for res in plan.custom()}
    got = {(names[ra.inputs["scope"]], ra.inputs["roleDefinitionId"].rsplit("/", 1)[-1])
           for ra in identity_grants(plan, "instance-identity")}
    assert got == {("workspace-mlw", r["Contributor"]), ("storage-account", r["Storage Blob Data Contributor"]),
                   ("keyvault-vault", r["Key Vault Secrets User"]), ("registry-registry", r["AcrPull"])}
    assert not [ra for ra in identity_grants(plan, "compute-identity") if ra.inputs["roleDefinitionId"].endswith(
        r["Contributor"])]
    # The platform rule knows this documented exception, and only on the workspace.
    report = platform_rules.check(plan, platform_rules.facts_for(cfg, plan))
    assert not [v for v in report.violations if v.rule == "rbac-privileged-roles"]
    # Instances off (prod), no instance identity; on (dev), the identity exists with no member yet, so the
    # members of team stacks on dev get instances too (infra/program/team.py).
    identities = {s: {u.name for u in stack_plan(s).of_type("azure-native:managedidentity:UserAssignedIdentity")}
                  for s in ("dev", "prod")}
    assert "instance-identity-uai" not in identities["prod"] and "instance-identity-uai" in identities["dev"]
