"""The checkov gate end to end: every stack passes with zero failures, known-bad fixtures fail.

The bad fixtures go through the same path as the stacks (a Pulumi program,
the offline engine, the renderer), so a wrong render cannot pass silently.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pulumi_azure_native import (
    applicationinsights,
    authorization,
    compute,
    containerregistry as acr,
    containerservice as aks,
    keyvault,
    kubernetesconfiguration as k8sconfig,
    machinelearningservices as ml,
    network,
    operationalinsights,
    storage,
)

from infra.offline import arm, checkov_gate, engine
from tests.conftest import template_for

RG = "rg-fixture"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
# The customer-managed key checks (policies/checkov/encryption.py).
CMK_CHECKS = {f"CKV_AMLP_{n}" for n in range(33, 40)}


def _storage(name: str, **over):
    args = dict(
        account_name=name, resource_group_name=RG, location="westeurope", kind="StorageV2",
        sku=storage.SkuArgs(name="Standard_GZRS"), enable_https_traffic_only=True, minimum_tls_version="TLS1_2",
        allow_blob_public_access=False, allow_shared_key_access=False, public_network_access="Disabled",
        network_rule_set=storage.NetworkRuleSetArgs(default_action="Deny", bypass="AzureServices"),
    )
    args.update(over)
    return storage.StorageAccount(name, **args)


def storage_https_off():
    _storage("sthttpsoff", enable_https_traffic_only=False)


def storage_shared_key_on():
    _storage("stsharedkey", allow_shared_key_access=True)


def blob_soft_delete_off():
    storage.BlobServiceProperties(
        "blob", account_name="stnodelete", resource_group_name=RG, blob_services_name="default",
        delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=False),
    )


def vault_without_purge_protection():
    keyvault.Vault(
        "kv", vault_name="kv-fixture", resource_group_name=RG, location="westeurope",
        properties=keyvault.VaultPropertiesArgs(
            tenant_id="11111111-1111-1111-1111-111111111111", sku=keyvault.SkuArgs(family="A", name="standard"),
            enable_soft_delete=True, enable_purge_protection=False, enable_rbac_authorization=False,
            public_network_access="Disabled", network_acls=keyvault.NetworkRuleSetArgs(default_action="Deny"),
        ),
    )


def nsg_ssh_from_anywhere():
    network.NetworkSecurityGroup(
        "nsg", resource_group_name=RG, network_security_group_name="nsg-fixture", location="westeurope",
        security_rules=[network.SecurityRuleArgs(
            name="allow-ssh", priority=100, direction="Inbound", access="Allow", protocol="Tcp",
            source_address_prefix="*", source_port_range="*", destination_address_prefix="*",
            destination_port_range="22")],
    )


def nsg_rdp_from_anywhere():
    network.NetworkSecurityGroup(
        "nsg", resource_group_name=RG, network_security_group_name="nsg-rdp", location="westeurope",
        security_rules=[network.SecurityRuleArgs(
            name="allow-rdp", priority=100, direction="Inbound", access="Allow", protocol="*",
            source_address_prefix="*", source_port_range="*", destination_address_prefix="*",
            destination_port_range="3389")],
    )


def subnet_without_nsg():
    network.VirtualNetwork(
        "vnet", resource_group_name=RG, virtual_network_name="vnet-fixture", location="westeurope",
        address_space=network.AddressSpaceArgs(address_prefixes=["10.9.0.0/24"]),
        subnets=[network.SubnetArgs(name="snet-open", address_prefix="10.9.0.0/26")],
    )


def storage_without_private_endpoint():
    # Private in every setting, but nothing connects to it: no endpoint, no managed-network rule.
    _storage("stnope")


def cluster_with_keys_public_ip_and_ssh():
    ml.Compute(
        "cl", compute_name="open", workspace_name="mlw-fixture", resource_group_name=RG, location="westeurope",
        properties=ml.AmlComputeArgs(
            compute_type="AmlCompute", disable_local_auth=False,
            properties=ml.AmlComputePropertiesArgs(
                vm_size="Standard_DS3_v2", enable_node_public_ip=True, remote_login_port_public_access="Enabled",
                scale_settings=ml.ScaleSettingsArgs(max_node_count=2, min_node_count=0)),
        ),
    )


def instance_without_idle_shutdown():
    ml.Compute(
        "ci", compute_name="ci-forever", workspace_name="mlw-fixture", resource_group_name=RG, location="westeurope",
        properties=ml.ComputeInstanceArgs(
            compute_type="ComputeInstance", disable_local_auth=True,
            properties=ml.ComputeInstancePropertiesArgs(
                vm_size="Standard_DS11_v2", enable_node_public_ip=False,
                subnet=ml.ResourceIdArgs(id=f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/v/subnets/s"),
                ssh_settings=ml.ComputeInstanceSshSettingsArgs(ssh_public_access="Disabled")),
        ),
    )


def insecure_inference_extension():
    k8sconfig.Extension(
        "ext", extension_name="azureml", extension_type="microsoft.azureml.kubernetes",
        cluster_rp="Microsoft.ContainerService", cluster_resource_name="managedClusters", cluster_name="aks1",
        resource_group_name=RG, configuration_settings={"enableInference": "True", "allowInsecureConnections": "True"},
    )


def workspace_system_identity_with_keys():
    ml.Workspace(
        "mlw", workspace_name="mlw-fixture", resource_group_name=RG, location="westeurope",
        identity=ml.ManagedServiceIdentityArgs(type="SystemAssigned"),
        system_datastores_auth_mode="accessKey", public_network_access="Disabled",
        allow_public_access_when_behind_vnet=True,
    )


def app_insights_classic():
    applicationinsights.Component(
        "appi", resource_name_="appi-fixture", resource_group_name=RG, location="westeurope", kind="web",
        application_type="web", ingestion_mode="ApplicationInsights",
    )


def log_analytics_short_retention():
    operationalinsights.Workspace(
        "log", workspace_name="log-fixture", resource_group_name=RG, location="westeurope", retention_in_days=7,
        sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
    )


def role_assignment_without_principal_type():
    # azure-native fills principalType "User" when it is left out (wrong for groups and identities),
    # so the plan always carries one; the fixture removes it after rendering (see EDIT).
    authorization.RoleAssignment(
        "ra", role_assignment_name="3f7e0b52-5f3b-4c7a-9d5e-0a1b2c3d4e5f", scope=f"{SUB}/resourceGroups/{RG}",
        principal_id="5b0c1e6a-0000-4000-8000-000000000001",
        role_definition_id=f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
    )


KV = f"{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv-fixture"
KV_URI = "https://kv-fixture.vault.azure.net/"
FIXTURE_UAI = f"{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk"


def workspace_classic_cmk():
    # Encrypted, but subscription-side (classic): a managed resource group with Cosmos DB in the subscription.
    ml.Workspace(
        "mlw", workspace_name="mlw-classic", resource_group_name=RG, location="westeurope",
        identity=ml.ManagedServiceIdentityArgs(type="UserAssigned", user_assigned_identities=[FIXTURE_UAI]),
        primary_user_assigned_identity=FIXTURE_UAI, system_datastores_auth_mode="identity",
        allow_public_access_when_behind_vnet=False, public_network_access="Disabled",
        encryption=ml.EncryptionPropertyArgs(
            status="Enabled", identity=ml.IdentityForCmkArgs(user_assigned_identity=FIXTURE_UAI),
            key_vault_properties=ml.KeyVaultPropertiesArgs(key_vault_arm_id=KV, key_identifier=f"{KV_URI}keys/k/1")),
        enable_service_side_cmk_encryption=False,
    )


def storage_cmk_queues_on_service_keys():
    # The account's key is customer-managed, but queues and tables stay on Microsoft's service keys.
    _storage(
        "stqueueservice", identity=storage.IdentityArgs(type="UserAssigned", user_assigned_identities=[FIXTURE_UAI]),
        encryption=storage.EncryptionArgs(
            key_source="Microsoft.Keyvault",
            key_vault_properties=storage.KeyVaultPropertiesArgs(key_name="k", key_vault_uri=KV_URI),
            encryption_identity=storage.EncryptionIdentityArgs(encryption_user_assigned_identity=FIXTURE_UAI),
            services=storage.EncryptionServicesArgs(
                blob=storage.EncryptionServiceArgs(enabled=True, key_type="Account"),
                queue=storage.EncryptionServiceArgs(enabled=True, key_type="Service"),
                table=storage.EncryptionServiceArgs(enabled=True, key_type="Service"))),
    )


def registry_without_cmk():
    acr.Registry("cr", registry_name="crfixturenocmk", resource_group_name=RG, location="westeurope",
                 sku=acr.SkuArgs(name="Premium"), admin_user_enabled=False, public_network_access="Disabled")


def cluster_with_public_kms_and_no_disk_encryption_set():
    aks.ManagedCluster(
        "aks", resource_name_="aks-fixture", resource_group_name=RG, location="westeurope", dns_prefix="aks-fixture",
        security_profile=aks.ManagedClusterSecurityProfileArgs(azure_key_vault_kms=aks.AzureKeyVaultKmsArgs(
            enabled=True, key_id=f"{KV_URI}keys/k/1", key_vault_network_access="Public")),
    )


def key_without_rotation():
    keyvault.Key("key", key_name="k", vault_name="kv-fixture", resource_group_name=RG,
                 properties=keyvault.KeyPropertiesArgs(
                     kty="RSA-HSM", key_size=3072, rotation_policy=keyvault.RotationPolicyArgs(
                         attributes=keyvault.KeyRotationPolicyAttributesArgs(expiry_time="P2Y"),
                         lifetime_actions=[keyvault.LifetimeActionArgs(
                             action=keyvault.ActionArgs(type="notify"),
                             trigger=keyvault.TriggerArgs(time_before_expiry="P30D"))])))


def disk_encryption_set_pinned_to_one_version():
    compute.DiskEncryptionSet(
        "des", disk_encryption_set_name="des-fixture", resource_group_name=RG, location="westeurope",
        identity=compute.EncryptionSetIdentityArgs(type="SystemAssigned"),
        active_key=compute.KeyForDiskEncryptionSetArgs(key_url=f"{KV_URI}keys/k/1",
                                                       source_vault=compute.SourceVaultArgs(id=KV)),
        encryption_type="EncryptionAtRestWithCustomerKey", rotation_to_latest_key_version_enabled=False,
    )


def public_online_endpoint_with_key():
    ml.OnlineEndpoint(
        "ep", endpoint_name="ep-fixture", workspace_name="mlw-fixture", resource_group_name=RG, location="westeurope",
        kind="Managed", properties=ml.OnlineEndpointPropertiesArgs(auth_mode="Key", public_network_access="Enabled"),
    )


def managed_deployment_public_egress():
    ml.OnlineDeployment(
        "dep", endpoint_name="ep-fixture", deployment_name="blue", workspace_name="mlw-fixture",
        resource_group_name=RG, location="westeurope",
        properties=ml.ManagedOnlineDeploymentArgs(endpoint_compute_type="Managed", instance_type="Standard_DS3_v2",
                                                  egress_public_network_access="Enabled"),
    )


def public_ml_registry():
    ml.Registry("mlr", registry_name="mlr-fixture", resource_group_name=RG, location="westeurope",
                public_network_access="Enabled")


def aks_with_command_invoke_ssh_and_no_image_cleaner():
    aks.ManagedCluster(
        "aks", resource_name_="aks-open", resource_group_name=RG, location="westeurope", dns_prefix="aks-open",
        api_server_access_profile=aks.ManagedClusterAPIServerAccessProfileArgs(enable_private_cluster=True),
        agent_pool_profiles=[aks.ManagedClusterAgentPoolProfileArgs(
            name="system", mode="System", vm_size="Standard_D4ds_v5", count=3,
            security_profile=aks.AgentPoolSecurityProfileArgs(ssh_access="LocalUser"))],
    )


def registry_taking_arm_audience_tokens():
    # Without a status the SDK sends `enabled`: ARM tokens open the registry.
    acr.Registry(
        "cr", registry_name="crarmtokens", resource_group_name=RG, location="westeurope",
        sku=acr.SkuArgs(name="Premium"), admin_user_enabled=False, public_network_access="Disabled",
        policies=acr.PoliciesArgs(azure_ad_authentication_as_arm_policy=acr.AzureADAuthenticationAsArmPolicyArgs()),
    )


def nsg_open_to_lateral_ssh():
    # Denies a port range, which PSRule's Azure.NSG.LateralTraversal does not read as SSH or RDP.
    network.NetworkSecurityGroup(
        "nsg", resource_group_name=RG, network_security_group_name="nsg-lateral", location="westeurope",
        security_rules=[network.SecurityRuleArgs(
            name="deny-low-ports", priority=4000, direction="Outbound", access="Deny", protocol="Tcp",
            source_address_prefix="VirtualNetwork", source_port_range="*", destination_address_prefix="VirtualNetwork",
            destination_port_range="0-4000")],
    )


def log_analytics_public_ingestion():
    operationalinsights.Workspace(
        "log", workspace_name="log-public", resource_group_name=RG, location="westeurope", retention_in_days=90,
        sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"), public_network_access_for_ingestion="Enabled",
    )


def storage_without_sas_policy():
    _storage("stnosaspolicy")


def flow_log_without_traffic_analytics():
    network.FlowLog(
        "fl", flow_log_name="fl-bare", network_watcher_name="NetworkWatcher_westeurope",
        resource_group_name="NetworkWatcherRG", location="westeurope",
        target_resource_id=f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/vnet-x",
        storage_id=f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/stfl",
        enabled=True, retention_policy=network.RetentionPolicyParametersArgs(enabled=True, days=30),
    )


# fixture -> the check that must fail on it
BAD = {
    storage_https_off: "CKV_AZURE_3",
    vault_without_purge_protection: "CKV_AZURE_110",
    nsg_ssh_from_anywhere: "CKV_AZURE_10",
    nsg_rdp_from_anywhere: "CKV_AZURE_9",
    subnet_without_nsg: "CKV_AMLP_10",
    storage_without_private_endpoint: "CKV2_AMLP_2",
    workspace_system_identity_with_keys: "CKV_AMLP_1",
    storage_shared_key_on: "CKV_AMLP_4",
    blob_soft_delete_off: "CKV_AMLP_5",
    app_insights_classic: "CKV_AMLP_7",
    log_analytics_short_retention: "CKV_AMLP_8",
    role_assignment_without_principal_type: "CKV_AMLP_9",
    cluster_with_keys_public_ip_and_ssh: "CKV_AMLP_11",
    instance_without_idle_shutdown: "CKV_AMLP_13",
    insecure_inference_extension: "CKV_AMLP_16",
    public_online_endpoint_with_key: "CKV_AMLP_17",
    managed_deployment_public_egress: "CKV_AMLP_19",
    public_ml_registry: "CKV_AMLP_20",
    aks_with_command_invoke_ssh_and_no_image_cleaner: "CKV_AMLP_25",
    registry_taking_arm_audience_tokens: "CKV_AMLP_28",
    nsg_open_to_lateral_ssh: "CKV_AMLP_29",
    log_analytics_public_ingestion: "CKV_AMLP_30",
    storage_without_sas_policy: "CKV_AMLP_31",
    flow_log_without_traffic_analytics: "CKV_AMLP_32",
    workspace_classic_cmk: "CKV_AMLP_33",
    storage_cmk_queues_on_service_keys: "CKV_AMLP_34",
    registry_without_cmk: "CKV_AMLP_35",
    cluster_with_public_kms_and_no_disk_encryption_set: "CKV_AMLP_36",
    key_without_rotation: "CKV_AMLP_38",
    disk_encryption_set_pinned_to_one_version: "CKV_AMLP_39",
}
EDIT = {role_assignment_without_principal_type: lambda t: t["resources"][0]["properties"].pop("principalType")}
# Other custom checks proven by the same fixtures.
ALSO = {
    vault_without_purge_protection: ["CKV_AMLP_6"],
    cluster_with_keys_public_ip_and_ssh: ["CKV_AMLP_12", "CKV_AMLP_14", "CKV_AMLP_15"],
    # Neither keys nor KMS over a private vault: every customer-managed key check fails where the key is missing.
    workspace_system_identity_with_keys: ["CKV_AMLP_2", "CKV_AMLP_3", "CKV_AMLP_33"],
    storage_https_off: ["CKV_AMLP_34"],
    cluster_with_public_kms_and_no_disk_encryption_set: ["CKV_AMLP_37"],
    public_online_endpoint_with_key: ["CKV_AMLP_18"],
    aks_with_command_invoke_ssh_and_no_image_cleaner: ["CKV_AMLP_26", "CKV_AMLP_27"],
    # checkov's own retention check fails the same flow log (30 days).
    flow_log_without_traffic_analytics: ["CKV_AZURE_12"],
}


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory) -> Path:
    """The known-bad fixtures rendered, one template file each."""
    d = tmp_path_factory.mktemp("bad")
    for fn in BAD:
        template = arm.render(engine.run(fn, "fixture"))
        if fn in EDIT:
            EDIT[fn](template)
        (d / f"{fn.__name__}.json").write_text(arm.to_json(template))
    return d


@pytest.fixture(scope="module")
def bad_scan(bad_dir, tmp_path_factory, checkov_tool) -> checkov_gate.CheckovResult:
    return checkov_gate.run(bad_dir, tmp_path_factory.mktemp("bad-out"))


@pytest.mark.parametrize("fixture", list(BAD), ids=[f.__name__ for f in BAD])
def test_known_bad_fixture_fails_its_check(bad_scan, fixture):
    result = bad_scan.for_file(f"{fixture.__name__}.json")
    failed = {f.check_id for f in result.failures}
    for check in [BAD[fixture], *ALSO.get(fixture, [])]:
        assert check in failed, (check, failed)
    assert not result.ok


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def stack_scan(request, tmp_path_factory, checkov_tool):
    d = tmp_path_factory.mktemp(f"scan-{request.param}")
    (d / "template.json").write_text(arm.to_json(template_for(request.param)))
    return request.param, checkov_gate.run(d / "template.json", d), d


def test_every_stack_passes_with_zero_failures(stack_scan):
    stack, result, out = stack_scan
    assert result.failed == 0, [(f.check_id, f.resource) for f in result.failures]
    assert result.parsing_errors == 0
    assert result.resource_count == len(template_for(stack)["resources"])
    assert result.ok and result.verdict() == "PASS"
    for name in ("checkov.json", "checkov.sarif", "checkov.xml"):
        assert (out / name).stat().st_size > 0
    assert json.loads((out / "checkov.sarif").read_text())["version"] == "2.1.0"


def test_custom_checks_run_and_pass_on_stacks(stack_scan):
    stack, result, _ = stack_scan
    passed = {f.check_id for f in result.passes}
    assert {"CKV_AMLP_1", "CKV_AMLP_2", "CKV_AMLP_3", "CKV_AMLP_4", "CKV_AMLP_5", "CKV_AMLP_6", "CKV_AMLP_7",
            "CKV_AMLP_8", "CKV_AMLP_9"} <= passed
    # CKV_AMLP_12 in every stack: private mode's compute sits in the training subnet, dev's in the managed VNet.
    assert {"CKV_AMLP_11", "CKV_AMLP_12", "CKV_AMLP_14", "CKV_AMLP_15"} <= passed
    # Issue 13: ARM-audience tokens off on every registry, the SAS cap on every storage account.
    assert {"CKV_AMLP_28", "CKV_AMLP_31"} <= passed
    if stack != "dev":
        assert {"CKV_AMLP_10", "CKV2_AMLP_1", "CKV2_AMLP_2", "CKV2_AMLP_3", "CKV2_AMLP_4", "CKV_AZURE_10",
                "CKV_AZURE_9", "CKV_AMLP_12", "CKV_AMLP_16"} <= passed
        # The AKS checks checkov has pass, but for the two known-unfixable ones (skipped inline).
        assert {"CKV_AZURE_4", "CKV_AZURE_5", "CKV_AZURE_7", "CKV_AZURE_8", "CKV_AZURE_141", "CKV_AZURE_168",
                "CKV_AZURE_169", "CKV_AZURE_171", "CKV_AZURE_226", "CKV_AZURE_227"} <= passed
        assert {f.check_id for f in result.skips if "managedClusters" in f.resource
                and f.check_id not in CMK_CHECKS} == {"CKV_AZURE_6", "CKV_AZURE_172"}
        # Issue 13: Command Invoke, node SSH and Image Cleaner; NSGs against lateral SSH/RDP; private ingestion;
        # the VNet's flow log with traffic analytics (and checkov's own retention check on it).
        assert {"CKV_AMLP_25", "CKV_AMLP_26", "CKV_AMLP_27", "CKV_AMLP_29", "CKV_AMLP_30", "CKV_AMLP_32",
                "CKV2_AMLP_5", "CKV_AZURE_12"} <= passed
    assert {"CKV_AZURE_3", "CKV_AZURE_110", "CKV_AZURE_44", "CKV_AZURE_35"} <= passed
    # Customer-managed keys: prod holds every check; dev and staging skip them with the stack file's key.
    cmk = {"CKV_AMLP_33", "CKV_AMLP_34", "CKV_AMLP_35"} | ({"CKV_AMLP_36", "CKV_AMLP_37"} if stack != "dev" else set())
    if stack == "prod":
        assert cmk | {"CKV_AMLP_38", "CKV_AMLP_39", "CKV_AZURE_40", "CKV_AZURE_112"} <= passed
    else:
        assert {f.check_id for f in result.skips if f.check_id in CMK_CHECKS} == cmk


def test_every_skip_has_a_reason_from_the_stack_file(stack_scan):
    stack, result, _ = stack_scan
    # Dev and staging: the customer-managed key checks on the workspace, the storage accounts (staging's
    # flow-log account too), the registry and (staging) AKS's disks and etcd. Dev adds CKV_AMLP_30 (public
    # ingestion) on Log Analytics and App Insights; staging its flow-log account's CKV_AZURE_206
    # (zone-redundant storage by design).
    expected = {"dev": 17, "staging": 15, "prod": 4}[stack]
    assert result.skipped == expected == len(result.skips)
    assert all(f"stacks/Pulumi.{stack}.yaml" in f.reason for f in result.skips)


def test_template_checkov_would_skip_silently_is_a_failure(tmp_path, checkov_tool):
    (tmp_path / "t.json").write_text(json.dumps({"resources": [{"type": "Microsoft.Storage/storageAccounts"}]}))
    result = checkov_gate.run(tmp_path / "t.json", tmp_path / "out")
    assert result.resource_count == 0 and not result.ok
    assert "scanned no resources" in result.verdict()


def test_malformed_template_is_a_failure(tmp_path, checkov_tool):
    (tmp_path / "t.json").write_text('{"$schema": "x", "contentVersion": "1.0.0.0", "resources": [')
    result = checkov_gate.run(tmp_path / "t.json", tmp_path / "out")
    assert not result.ok


def test_graph_check_skips_are_applied_like_resource_skips():
    result = checkov_gate.CheckovResult(0, 1, 0, 0, 1, failures=[
        checkov_gate.Finding("CKV2_AZURE_49", "n", "T.x", "/a/template.json")])
    out = checkov_gate.apply_graph_skips(result, {("template.json", "T.x", "CKV2_AZURE_49"): "why"})
    assert out.failed == 0 and out.skipped == 1 and out.skips[0].reason == "why"
    kept = checkov_gate.apply_graph_skips(
        checkov_gate.CheckovResult(0, 1, 0, 0, 1, failures=[checkov_gate.Finding("CKV2_AZURE_49", "n", "T.y", "t")]),
        {("template.json", "T.x", "CKV2_AZURE_49"): "why"},
    )
    assert kept.failed == 1


def _cluster_in(workspace: str, managed: str | None, subnet: bool) -> None:
    ws = ml.Workspace(workspace, workspace_name=workspace, resource_group_name=RG, location="westeurope",
                      managed_network=ml.ManagedNetworkSettingsArgs(isolation_mode=managed) if managed else None)
    ml.Compute(
        f"{workspace}-cl", compute_name="cl", workspace_name=ws.name, resource_group_name=RG, location="westeurope",
        properties=ml.AmlComputeArgs(
            compute_type="AmlCompute", disable_local_auth=True,
            properties=ml.AmlComputePropertiesArgs(
                vm_size="Standard_DS3_v2", enable_node_public_ip=False, remote_login_port_public_access="Disabled",
                subnet=ml.ResourceIdArgs(id=f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/v/"
                                            "subnets/s") if subnet else None,
                scale_settings=ml.ScaleSettingsArgs(max_node_count=2, min_node_count=0)),
        ),
    )


# Each fixture its own workspace name: checkov joins resources of one directory scan by ID.
PLACEMENT = {
    "managed_internet": (lambda: _cluster_in("mlw-managed-a", "AllowInternetOutbound", False), "PASSED"),
    "managed_approved": (lambda: _cluster_in("mlw-managed-b", "AllowOnlyApprovedOutbound", False), "PASSED"),
    "in_subnet": (lambda: _cluster_in("mlw-subnet", None, True), "PASSED"),
    "no_network": (lambda: _cluster_in("mlw-nowhere", None, False), "FAILED"),
    "managed_disabled": (lambda: _cluster_in("mlw-disabled", "Disabled", False), "FAILED"),
}


def test_compute_needs_a_subnet_or_a_managed_network_workspace(tmp_path, checkov_tool):
    for name, (fn, _) in PLACEMENT.items():
        (tmp_path / f"{name}.json").write_text(arm.to_json(arm.render(engine.run(fn, "fixture"))))
    result = checkov_gate.run(tmp_path, tmp_path / "out")
    for name, (_, want) in PLACEMENT.items():
        one = result.for_file(f"{name}.json")
        verdicts = {("FAILED" if f in one.failures else "PASSED") for f in one.failures + one.passes
                    if f.check_id == "CKV_AMLP_12"}
        assert verdicts == {want}, name


# --- the ARM-only checkov process against the checkov CLI ---------------------------------------

def _canonical(value):
    """Lists sorted, SARIF's rule indexes and rule help dropped: checkov orders a directory's files by a
    set's iteration order, different each run, and a rule's help names the first resource it failed."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items() if k not in ("ruleIndex", "help")}
    if isinstance(value, list):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _same_reports(cli_out: Path, arm_out: Path) -> None:
    """The same reports, but for the output folder each was told to write to and the order of files."""
    for name in ("checkov.json", "checkov.sarif"):
        a, b = (_canonical(json.loads((d / name).read_text())) for d in (cli_out, arm_out))
        assert a == b, name
    a, b = (sorted(re.sub(r'name="output_file_path" value="[^"]*"', "", (d / "checkov.xml").read_text()).splitlines())
            for d in (cli_out, arm_out))
    assert a == b, "checkov.xml"


@pytest.mark.slow
def test_arm_runner_reports_what_the_cli_reports_on_a_folder(bad_dir, tmp_path, checkov_tool):
    # Every stack and every known-bad fixture, scanned as one folder (`checkov -d`) by both.
    folder = tmp_path / "templates"
    shutil.copytree(bad_dir, folder)
    for stack in ("dev", "staging", "prod"):
        (folder / f"stack-{stack}.json").write_text(arm.to_json(template_for(stack)))
    cli = checkov_gate._run_cli(folder, tmp_path / "cli")
    arm_only = checkov_gate.run(folder, tmp_path / "arm")
    assert cli.failed > 0 and (cli.passed, cli.failed, cli.skipped) == (arm_only.passed, arm_only.failed, arm_only.skipped)
    assert (cli.failures, cli.skips, cli.passes) == (arm_only.failures, arm_only.skips, arm_only.passes)
    for stack in ("dev", "staging", "prod"):
        assert arm_only.for_file(f"stack-{stack}.json").failed == 0
    _same_reports(tmp_path / "cli", tmp_path / "arm")


@pytest.mark.slow
def test_arm_runner_reports_what_the_cli_reports_on_a_file(tmp_path, checkov_tool):
    target = tmp_path / "template.json"
    target.write_text(arm.to_json(template_for("staging")))
    cli = checkov_gate._run_cli(target, tmp_path / "cli")
    arm_only = checkov_gate.run(target, tmp_path / "arm")
    assert (cli.failures, cli.skips, cli.passes) == (arm_only.failures, arm_only.skips, arm_only.passes)
    _same_reports(tmp_path / "cli", tmp_path / "arm")


def test_checkov_interpreter_comes_from_its_launcher(tmp_path):
    python = tmp_path / "venv" / "bin" / "python3.11"
    python.parent.mkdir(parents=True)
    python.write_text("")
    python.chmod(0o755)
    direct = tmp_path / "checkov"
    direct.write_text(f"#!{python}\n# -*- coding: utf-8 -*-\nimport sys\n")
    assert checkov_gate.checkov_python(str(direct)) == str(python)
    # pip's launcher when the interpreter's path is too long for #!
    trampoline = tmp_path / "checkov-sh"
    trampoline.write_text(f"#!/bin/sh\n'''exec' \"{python}\" \"$0\" \"$@\"\n' '''\nimport sys\n")
    assert checkov_gate.checkov_python(str(trampoline)) == str(python)
    # Anything else runs as the CLI.
    script = tmp_path / "checkov-wrapper"
    script.write_text("#!/bin/bash\nexec docker run bridgecrew/checkov \"$@\"\n")
    assert checkov_gate.checkov_python(str(script)) is None
    assert checkov_gate.checkov_python(str(tmp_path / "absent")) is None


def test_a_checkov_that_dies_is_a_tool_error_with_its_message(tmp_path, monkeypatch):
    python = tmp_path / "bin" / "python3"
    python.parent.mkdir()
    python.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named checkov' >&2\nexit 1\n")
    python.chmod(0o755)
    launcher = tmp_path / "bin" / "checkov"
    launcher.write_text(f"#!{python}\nfrom checkov.main import Checkov\n")
    launcher.chmod(0o755)
    monkeypatch.setenv("CHECKOV_BIN", str(launcher))
    (tmp_path / "t.json").write_text("{}")
    with pytest.raises(checkov_gate.CheckovUnavailable, match="exit 1.*No module named checkov"):
        checkov_gate.run(tmp_path / "t.json", tmp_path / "out")
    checkov_gate.close()


def _vnet_with_flow_log(name: str, flow_log: bool) -> None:
    vnet = network.VirtualNetwork(
        name, resource_group_name=RG, virtual_network_name=name, location="westeurope",
        address_space=network.AddressSpaceArgs(address_prefixes=["10.9.0.0/24"]),
    )
    if flow_log:
        network.FlowLog(
            f"{name}-fl", flow_log_name=f"fl-{name}", network_watcher_name="NetworkWatcher_westeurope",
            resource_group_name="NetworkWatcherRG", location="westeurope", target_resource_id=vnet.id,
            storage_id=f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/stfl", enabled=True,
            retention_policy=network.RetentionPolicyParametersArgs(enabled=True, days=90),
        )


def test_every_vnet_needs_a_flow_log_unless_skipped_for_central_flow_logs(tmp_path, checkov_tool):
    """CKV2_AMLP_5 follows the flow log's dependency on its VNet; a stack with flowLogs.mode central carries
    it as an inline skip naming the key (policies/relaxations.py)."""
    cases = {"with_flow_log": (lambda: _vnet_with_flow_log("vnet-logged", True), "PASSED"),
             "without_flow_log": (lambda: _vnet_with_flow_log("vnet-silent", False), "FAILED")}
    for name, (fn, _) in cases.items():
        (tmp_path / f"{name}.json").write_text(arm.to_json(arm.render(engine.run(fn, "fixture"))))
    result = checkov_gate.run(tmp_path, tmp_path / "out")
    for name, (_, want) in cases.items():
        one = result.for_file(f"{name}.json")
        verdicts = {("FAILED" if f in one.failures else "PASSED") for f in one.failures + one.passes
                    if f.check_id == "CKV2_AMLP_5"}
        assert verdicts == {want}, name


# The ARM-only process parses templates with libyaml (checkov_arm._parse_with_libyaml): the same mappings,
# lines included, as checkov's own loader, on every shipped template and on JSON that stresses the parser.
_PARSE_PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from checkov.common.parsers.yaml import loader
own = loader.loads
import checkov_arm
checkov_arm._parse_with_libyaml()
assert loader.loads is not own, "libyaml is missing from checkov's PyYAML"
for path in sys.argv[2:]:
    content = open(path, encoding="utf-8").read()
    print(json.dumps([path.rsplit("/", 1)[-1], loader.loads(content) == own(content), own(content)[0] is not None]))
"""


def test_libyaml_parses_templates_as_checkovs_own_loader(tmp_path, checkov_tool):
    python = checkov_gate.checkov_python(checkov_tool)
    if python is None:
        pytest.skip("checkov's launcher is not a Python script: the worker is not used")
    paths = []
    for stack in ("dev", "staging", "prod"):
        paths.append(tmp_path / f"stack-{stack}.json")
        paths[-1].write_text(arm.to_json(template_for(stack)))
    tricky = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "contentVersion": "1.0.0.0", "resources": [{"type": "Microsoft.Storage/storageAccounts", "name": "st",
              "properties": {"tab": "a\tb", "quote": "\"q\" \\ /", "unicode": "é ✓ \u2028 \U0001F600", "empty": {},
                             "list": [], "nums": [0, -1, 1.5, 1e21], "flags": [True, False, None], "yes": "yes",
                             "multi": "line1\nline2"}}]}
    paths.append(tmp_path / "tricky.json")
    paths[-1].write_text(json.dumps(tricky, indent=2))
    paths.append(tmp_path / "tricky-ascii.json")
    paths[-1].write_text(json.dumps(tricky))
    # A tab between tokens is JSON whitespace that YAML refuses: libyaml fails and checkov's loader answers.
    paths.append(tmp_path / "tabs.json")
    paths[-1].write_text(json.dumps(tricky, indent="\t"))
    done = subprocess.run([python, "-c", _PARSE_PROBE, str(checkov_gate.WORKER.parent), *map(str, paths)],
                          capture_output=True, text=True, check=True)
    got = [json.loads(line) for line in done.stdout.splitlines()]
    assert got == [["stack-dev.json", True, True], ["stack-staging.json", True, True], ["stack-prod.json", True, True],
                   ["tricky.json", True, True], ["tricky-ascii.json", True, True], ["tabs.json", True, False]]
