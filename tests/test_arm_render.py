"""The ARM renderer: full types, parent/child names, ARM property names, re-nesting, dependsOn."""

from __future__ import annotations

import pytest
from pulumi_azure_native import network

from infra.offline import arm, engine
from infra.offline.arm_types import UnmappedError
from tests.conftest import arm_resource, stack_plan, template_for


def test_template_header_and_every_resource_rendered(stack):
    t = template_for(stack)
    assert t["$schema"].endswith("deploymentTemplate.json#")
    assert t["contentVersion"] == "1.0.0.0"
    assert len(t["resources"]) == len(stack_plan(stack).custom())
    assert all(r["comments"].startswith(f"urn:pulumi:{stack}::amlplatform::") for r in t["resources"])


def _account(template, prefix):
    return next(r for r in template["resources"] if r["type"] == "Microsoft.Storage/storageAccounts"
                and r["name"].startswith(prefix))


def test_storage_uses_arm_property_names():
    st = _account(template_for("dev"), "st")
    p = st["properties"]
    assert p["supportsHttpsTrafficOnly"] is True and "enableHttpsTrafficOnly" not in p
    assert p["networkAcls"]["ipRules"] == [
        {"action": "Allow", "value": "203.0.113.0/24"}, {"action": "Allow", "value": "198.51.100.7"}
    ]
    assert "networkRuleSet" not in p and "accountName" not in p and "resourceGroupName" not in p
    assert st["sku"] == {"name": "Standard_LRS"} and st["kind"] == "StorageV2"
    assert st["location"] == "westeurope" and st["apiVersion"] == "2024-01-01"


def test_child_resources_are_flat_with_full_types_and_names():
    t = template_for("prod")
    st = _account(t, "st")
    blob = next(r for r in t["resources"] if r["type"] == "Microsoft.Storage/storageAccounts/blobServices"
                and r["name"].startswith(st["name"] + "/"))
    assert blob["name"] == f"{st['name']}/default"
    assert blob["properties"]["deleteRetentionPolicy"] == {"days": 14, "enabled": True}


def test_extension_resources_carry_scope():
    t = template_for("prod")
    locks = [r for r in t["resources"] if r["type"] == "Microsoft.Authorization/locks"]
    # Key vault, registry, Log Analytics and the disk encryption set (customer-managed keys).
    assert len(locks) == 4
    assert all(r["scope"].startswith("/subscriptions/") and r["properties"]["level"] == "CanNotDelete" for r in locks)
    ra = next(r for r in t["resources"] if r["type"] == "Microsoft.Authorization/roleAssignments")
    assert set(ra["properties"]) >= {"principalId", "principalType", "roleDefinitionId"}


def test_app_insights_and_log_analytics_shapes():
    t = template_for("staging")
    appi = arm_resource(t, "Microsoft.Insights/components")
    assert appi["properties"]["Application_Type"] == "web" and appi["properties"]["IngestionMode"] == "LogAnalytics"
    assert "WorkspaceResourceId" in appi["properties"]
    log = arm_resource(t, "Microsoft.OperationalInsights/workspaces")
    assert log["properties"]["sku"] == {"name": "PerGB2018"} and "sku" not in log
    assert log["properties"]["retentionInDays"] == 90


def test_workspace_identity_becomes_arm_map_and_depends_on_grants():
    t = template_for("prod")
    ws = arm_resource(t, "Microsoft.MachineLearningServices/workspaces")
    (uid,) = ws["identity"]["userAssignedIdentities"]
    assert ws["identity"]["userAssignedIdentities"] == {uid: {}} and uid.endswith("/id-contoso-prd-workspace")
    principal = stack_plan("prod").one("azure-native:managedidentity:UserAssignedIdentity",
                                       "workspace-identity-uai").outputs["principalId"]
    grants = [r for r in t["resources"] if r["type"] == "Microsoft.Authorization/roleAssignments"
              and r["properties"]["principalId"] == principal and r["scope"] != ws_id(ws)]
    # Seven before the workspace (six documented ones and its key's); three on the AKS cluster for the attach,
    # after it.
    assert len([g for g in grants if "managedClusters" in g["scope"]]) == 3
    grants = [g for g in grants if "managedClusters" not in g["scope"]]
    # Reader on the organisation's AML registry (another stack's resource) comes with the registry link.
    registry = [g for g in grants if "/registries/mlr-contoso" in g["scope"]]
    assert len(registry) == 1 and registry[0]["properties"]["roleDefinitionId"].endswith(
        "acdd72a7-3385-48ef-bd42-f606fba81ae7")
    grants = [g for g in grants if g not in registry]
    assert len(grants) == 7 and len([g for g in grants if g["scope"].endswith("/keys/cmk-workspace")]) == 1
    # The RBAC pause is not rendered; the workspace depends on what it waited for.
    grant_ids = {f"{g['scope']}/providers/Microsoft.Authorization/roleAssignments/{g['name']}" for g in grants}
    assert grant_ids <= set(ws["dependsOn"])


def ws_id(ws):
    return f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-contoso-prd/providers/" \
           f"Microsoft.MachineLearningServices/workspaces/{ws['name']}"


def test_vault_properties_input_is_kept_as_is():
    kv = arm_resource(template_for("prod"), "Microsoft.KeyVault/vaults")
    assert kv["properties"]["enablePurgeProtection"] is True
    assert kv["properties"]["sku"] == {"family": "A", "name": "premium"}


def test_nsg_rules_are_renested_under_properties():
    def prog():
        network.NetworkSecurityGroup(
            "nsg", resource_group_name="rg", network_security_group_name="nsg-a",
            security_rules=[network.SecurityRuleArgs(
                name="ssh", priority=100, direction="Inbound", access="Allow", protocol="Tcp",
                source_address_prefix="*", source_port_range="*", destination_address_prefix="*",
                destination_port_range="22")],
        )

    t = arm.render(engine.run(prog, "t"))
    (rule,) = t["resources"][0]["properties"]["securityRules"]
    assert rule["name"] == "ssh"
    assert rule["properties"]["destinationPortRange"] == "22" and rule["properties"]["access"] == "Allow"


def test_unknown_type_in_plan_is_refused_by_renderer():
    plan = stack_plan("dev")
    bad = engine.Plan(plan.stack, plan.project, plan.subscription_id,
                      [*plan.resources, engine.PlannedResource(
                          "urn:x", "azure-native:web:WebApp", "app", True, "", "/x", "app", {}, {}, [], False, False)])
    with pytest.raises(UnmappedError, match="no ARM mapping for azure-native:web:WebApp"):
        arm.render(bad)


def test_inline_skips_name_config_key_and_stack_file():
    skips = list(arm.skipped_ids(template_for("dev")))
    ids = sorted(s[1] for s in skips)
    # Dev's compute is in the AML managed VNet and its stores are reached by its outbound rules: no
    # CKV_AMLP_12 (compute in a network) or CKV2_AMLP_1-3 (private reach) relaxation left; both storage
    # accounts carry the storage relaxations; Log Analytics and App Insights take public ingestion (no VNet
    # for a private link scope's endpoint); Microsoft-managed keys on the workspace, both storage accounts and
    # the registry.
    assert ids == sorted(["CKV_AZURE_59", "CKV_AZURE_206", "CKV_AZURE_59", "CKV_AZURE_206", "CKV_AZURE_139",
                          "CKV_AZURE_163", "CKV_AZURE_233", "CKV_AZURE_166", "CKV2_AZURE_49", "CKV_AZURE_243",
                          "CKV2_AMLP_4", "CKV_AMLP_30", "CKV_AMLP_30",
                          "CKV_AMLP_33", "CKV_AMLP_34", "CKV_AMLP_34", "CKV_AMLP_35"])
    assert all("stacks/Pulumi.dev.yaml" in reason and "amlplatform:" in reason for _, _, reason in skips)
    prod = sorted(s[1] for s in arm.skipped_ids(template_for("prod")))
    assert prod == ["CKV_AZURE_166", "CKV_AZURE_172", "CKV_AZURE_243", "CKV_AZURE_6"]


def test_vnet_subnets_and_endpoint_children_are_renested():
    t = template_for("prod")
    v = arm_resource(t, "Microsoft.Network/virtualNetworks")
    pe_subnet = next(s for s in v["properties"]["subnets"] if s["name"] == "snet-pe")
    assert set(pe_subnet) == {"name", "properties"}
    assert pe_subnet["properties"]["networkSecurityGroup"]["id"].endswith("/networkSecurityGroups/nsg-contoso-prd-pe")
    assert pe_subnet["properties"]["addressPrefix"] == "10.70.0.0/26"
    # A subnet's delegations are sub-resources too: name outside, serviceName under properties.
    api = next(s for s in v["properties"]["subnets"] if s["name"] == "snet-apiserver")
    assert api["properties"]["delegations"] == [
        {"name": "aks-apiserver", "properties": {"serviceName": "Microsoft.ContainerService/managedClusters"}}]
    pe = next(r for r in t["resources"] if r["type"] == "Microsoft.Network/privateEndpoints"
              and r["name"].endswith("-vault"))
    (conn,) = pe["properties"]["privateLinkServiceConnections"]
    assert conn["properties"]["groupIds"] == ["vault"] and "groupIds" not in conn
    group = next(r for r in t["resources"] if r["type"] == "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"
                 and r["name"].startswith(pe["name"] + "/"))
    assert group["name"] == f"{pe['name']}/default"
    (cfg,) = group["properties"]["privateDnsZoneConfigs"]
    assert cfg["name"] == "privatelink-vaultcore-azure-net"
    assert cfg["properties"]["privateDnsZoneId"].endswith("/privateDnsZones/privatelink.vaultcore.azure.net")


def test_storage_encryption_takes_arm_names():
    """azure-native's keyVaultProperties/keyName/keyVaultUri and encryptionIdentity are ARM's lower-case
    keyvaultproperties/keyname/keyvaulturi and identity (Microsoft.Storage 2024-01-01 Encryption)."""
    st = next(r for r in template_for("prod")["resources"]
              if r["type"] == "Microsoft.Storage/storageAccounts" and r["name"].startswith("stcontoso"))
    enc = st["properties"]["encryption"]
    uai = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-contoso-prd/providers/" \
          "Microsoft.ManagedIdentity/userAssignedIdentities/id-contoso-prd-cmk-storage"
    assert enc["keyvaultproperties"] == {"keyname": "cmk-storage", "keyvaulturi": "https://kv-contoso-prd-i3pvt.vault.azure.net/"}
    assert enc["identity"] == {"userAssignedIdentity": uai} and st["identity"] == {
        "type": "UserAssigned", "userAssignedIdentities": {uai: {}}}
    assert "encryptionIdentity" not in enc and "keyVaultProperties" not in enc


def test_role_definition_type_is_properties_type():
    role = arm_resource(template_for("prod"), "Microsoft.Authorization/roleDefinitions")
    assert role["properties"]["type"] == "CustomRole" and "roleType" not in role["properties"]


def test_private_endpoint_subnet_carries_only_its_id():
    t = template_for("prod")
    vnet = arm_resource(t, "Microsoft.Network/virtualNetworks")
    pes = [r for r in t["resources"] if r["type"] == "Microsoft.Network/privateEndpoints"]
    assert pes and all(pe["properties"]["subnet"] == {"id": f"{vnet_id(vnet)}/subnets/snet-pe"} for pe in pes)
    # The SDK's subnet args carry defaults (privateEndpointNetworkPolicies: Disabled) the plan keeps as inputs;
    # the template says only which subnet the endpoint joins.
    planned = stack_plan("prod").of_type("azure-native:network:PrivateEndpoint")[0].inputs["subnet"]
    assert set(planned) > {"id"}


def vnet_id(vnet):
    return f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-contoso-prd/providers/" \
           f"Microsoft.Network/virtualNetworks/{vnet['name']}"
