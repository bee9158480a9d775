"""Customer-managed keys end to end: the config section, the keys, their identities and grants, the encryption
of each consumer, and the checks that keep them (platform rules and Azure rules; checkov in test_checkov_gate)."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from infra.config.encryption import duration_days
from infra.config import load_stack
from infra.offline import arm, azure_rules, checkov_gate, platform_rules, preview
from policies import relaxations
from infra.offline.engine import Plan, PlannedResource
from policies.rules import RULES, Resource, StackFacts
from tests.conftest import ROOT, edited_plan, stack_config, stack_plan

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
RG = f"{SUB}/resourceGroups/rg-contoso-prd"
VAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-contoso-prd-i3pvt"
VAULT_URI = "https://kv-contoso-prd-i3pvt.vault.azure.net/"
UAI = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
ROLE = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
VAULT_CONTRIBUTOR = "f25e0fa2-a7c8-4377-a976-54943a77a395"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
KEY = "azure-native:keyvault:Key"
DES = "azure-native:compute:DiskEncryptionSet"
STORAGE = "azure-native:storage:StorageAccount"
REGISTRY = "azure-native:containerregistry:Registry"
WORKSPACE = "azure-native:machinelearningservices:Workspace"
CLUSTER = "azure-native:containerservice:ManagedCluster"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
WRAP, ENCRYPT = ["wrapKey", "unwrapKey"], ["encrypt", "decrypt"]


def one(plan: Plan, token: str, name: str | None = None) -> PlannedResource:
    return plan.one(token, name)


def principal(plan: Plan, name: str) -> str:
    return one(plan, IDENTITY, name).outputs["principalId"]


# ---- config --------------------------------------------------------------------------------------------


def test_customer_managed_keys_default_on_in_prod_and_with_hbi():
    assert stack_config("prod").encryption.customer_managed_key.enabled is True
    assert stack_config("staging").encryption.customer_managed_key.enabled is False
    assert stack_config("dev").encryption.customer_managed_key.enabled is False
    # Key type follows the vault: HSM keys in prod's premium vault, software keys in a standard one.
    assert stack_config("prod").encryption.customer_managed_key.key_type == "RSA-HSM"

    def hbi_staging(raw):
        raw["amlplatform:workspace"] = {"hbi": True}
        del raw["amlplatform:encryption"]

    cfg, plan = edited_plan("staging", hbi_staging)
    cmk = cfg.encryption.customer_managed_key
    assert (cmk.enabled, cmk.key_type) == (True, "RSA")
    assert {k.inputs["properties"]["kty"] for k in plan.of_type(KEY)} == {"RSA"}

    # An explicit false wins over hbi: a visible relaxation, not a default.
    cfg, _ = edited_plan("staging", lambda raw: raw.update({"amlplatform:workspace": {"hbi": True}}))
    assert cfg.encryption.customer_managed_key.enabled is False


@pytest.mark.parametrize("value, days", [("P7D", 7), ("P18M", 540), ("P2Y", 730), ("P1Y", 365)])
def test_durations_count_days(value, days):
    assert duration_days(value) == days


@pytest.mark.parametrize("value", ["P1W", "PT24H", "P0D", "2Y", "P1Y6M", "p1y"])
def test_other_durations_are_refused(value):
    with pytest.raises(ValueError, match="ISO 8601 duration of days, months or years"):
        duration_days(value)


# ---- the keys ------------------------------------------------------------------------------------------

KEYS = {"cmk-workspace": WRAP, "cmk-storage": WRAP, "cmk-datalake": WRAP, "cmk-flowlogs": WRAP, "cmk-registry": WRAP,
        "cmk-disks": WRAP, "cmk-kms": ENCRYPT}


def test_prod_has_one_key_per_consumer_with_the_documented_properties():
    plan = stack_plan("prod")
    keys = {k.inputs["keyName"]: k for k in plan.of_type(KEY)}
    assert sorted(keys) == sorted(KEYS)
    vault_grants = {r.urn for r in plan.of_type(ROLE_ASSIGNMENT) if r.name.startswith("keyvault-ra-")}
    assert len(vault_grants) == 3
    for name, ops in KEYS.items():
        key = keys[name]
        assert key.id == f"{VAULT}/keys/{name}" and key.inputs["vaultName"] == "kv-contoso-prd-i3pvt"
        assert key.inputs["properties"] == {
            "kty": "RSA-HSM", "keySize": 3072, "keyOps": ops,
            "attributes": {"enabled": True, "exportable": False},
            "rotationPolicy": {
                "attributes": {"expiryTime": "P2Y"},
                "lifetimeActions": [
                    {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P1Y"}},
                    {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}},
                ],
            },
        }
        # ARM creates a key once (Keys_CreateIfNotExist): its properties are create-time, and the stack
        # never deletes a key (the data it encrypts would go with it).
        assert key.ignore_changes == ["properties"] and key.retain_on_delete and key.protect
        assert vault_grants <= set(key.dependencies)
        assert key.outputs["keyUri"] == f"{VAULT_URI}keys/{name}"


def test_each_key_is_granted_to_exactly_its_consumer_with_the_documented_role():
    plan = stack_plan("prod")
    des = one(plan, DES)
    got = sorted((r.inputs["scope"].rsplit("/keys/", 1)[-1], r.inputs["roleDefinitionId"], r.inputs["principalId"])
                 for r in plan.of_type(ROLE_ASSIGNMENT) if "/keys/" in r.inputs["scope"])
    des_grant = one(plan, ROLE_ASSIGNMENT, "cmk-ra-disks-key")
    assert des_grant.property_dependencies["principalId"] == [des.urn]
    assert got == sorted([
        ("cmk-workspace", ROLE + SERVICE_ENCRYPTION_USER, principal(plan, "workspace-identity-uai")),
        ("cmk-storage", ROLE + SERVICE_ENCRYPTION_USER, principal(plan, "cmk-storage-identity-uai")),
        ("cmk-datalake", ROLE + SERVICE_ENCRYPTION_USER, principal(plan, "cmk-datalake-identity-uai")),
        ("cmk-flowlogs", ROLE + SERVICE_ENCRYPTION_USER, principal(plan, "cmk-flowlogs-identity-uai")),
        ("cmk-registry", ROLE + SERVICE_ENCRYPTION_USER, principal(plan, "cmk-registry-identity-uai")),
        ("cmk-disks", ROLE + SERVICE_ENCRYPTION_USER, des_grant.inputs["principalId"]),
        # AKS KMS calls encrypt and decrypt (use-kms-etcd-encryption: Key Vault Crypto User).
        ("cmk-kms", ROLE + CRYPTO_USER, principal(plan, "inference-identity-uai")),
    ])
    assert {r.physical_name for r in plan.of_type(IDENTITY) if "-cmk-" in r.physical_name} == {
        "id-contoso-prd-cmk-storage", "id-contoso-prd-cmk-datalake", "id-contoso-prd-cmk-flowlogs",
        "id-contoso-prd-cmk-registry"}


def test_the_key_vault_holds_the_prerequisites_of_its_keys():
    """Issue 13's vault prerequisites in prod: purge protection and soft delete (every consumer requires both),
    RBAC authorization (the grants above are role assignments), private access only (a VNet mode), with the
    trusted-services bypass the consumers other than KMS reach it through, and its private endpoint."""
    plan = stack_plan("prod")
    vault = one(plan, "azure-native:keyvault:Vault").inputs["properties"]
    assert (vault["enablePurgeProtection"], vault["enableSoftDelete"], vault["enableRbacAuthorization"]) == (
        True, True, True)
    assert vault["publicNetworkAccess"] == "Disabled"
    assert vault["networkAcls"] == {"bypass": "AzureServices", "defaultAction": "Deny", "ipRules": []}
    pe = one(plan, "azure-native:network:PrivateEndpoint", "keyvault-pe-vault")
    assert [(c["privateLinkServiceId"], c["groupIds"]) for c in pe.inputs["privateLinkServiceConnections"]] == [
        (VAULT, ["vault"])]


def test_storage_accounts_use_their_keys_without_a_version_and_account_keys_for_every_service():
    plan = stack_plan("prod")
    pause = one(plan, "time:index/sleep:Sleep", "cmk-role-propagation")
    # The flow logs' account too: every account of the stack takes a key of its own (README: Customer-managed keys).
    for account, key in (("storage-account", "cmk-storage"), ("datalake-account", "cmk-datalake"),
                         ("flow-logs-storage-account", "cmk-flowlogs")):
        st = one(plan, STORAGE, account)
        uai = f"{UAI}id-contoso-prd-{key}"
        assert st.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [uai]}
        assert st.inputs["encryption"] == {
            "keySource": "Microsoft.Keyvault",
            "keyVaultProperties": {"keyName": key, "keyVaultUri": VAULT_URI},
            "encryptionIdentity": {"encryptionUserAssignedIdentity": uai},
            "requireInfrastructureEncryption": True,
            "services": {svc: {"enabled": True, "keyType": "Account"} for svc in ("blob", "file", "queue", "table")},
        }
        assert pause.urn in st.dependencies


def test_without_customer_managed_keys_queues_and_tables_still_take_the_account_key():
    st = one(stack_plan("staging"), STORAGE, "storage-account")
    assert "identity" not in st.inputs
    assert st.inputs["encryption"] == {
        "keySource": "Microsoft.Storage", "requireInfrastructureEncryption": True,
        "services": {svc: {"enabled": True, "keyType": "Account"} for svc in ("blob", "file", "queue", "table")}}


def test_registry_takes_its_key_without_a_version_and_its_identity_by_client_id():
    plan = stack_plan("prod")
    reg = one(plan, REGISTRY)
    uai = one(plan, IDENTITY, "cmk-registry-identity-uai")
    assert reg.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {uai.id: {}}}
    assert reg.inputs["encryption"] == {
        "status": "enabled",
        "keyVaultProperties": {"keyIdentifier": f"{VAULT_URI}keys/cmk-registry", "identity": uai.outputs["clientId"]}}
    assert one(plan, "time:index/sleep:Sleep", "cmk-role-propagation").urn in reg.dependencies


def test_workspace_uses_service_side_encryption_with_its_own_identity():
    plan = stack_plan("prod")
    ws = one(plan, WORKSPACE)
    key = one(plan, KEY, "cmk-workspace-key")
    assert ws.inputs["encryption"] == {
        "status": "Enabled",
        "keyVaultProperties": {"keyVaultArmId": VAULT, "keyIdentifier": key.outputs["keyUriWithVersion"]},
        "identity": {"userAssignedIdentity": f"{UAI}id-contoso-prd-workspace"}}
    assert ws.inputs["enableServiceSideCMKEncryption"] is True
    # Pinned to its version: a refreshed key never moves the workspace silently.
    assert ws.ignore_changes == ["encryption.keyVaultProperties.keyIdentifier"]
    assert key.outputs["keyUriWithVersion"].startswith(f"{VAULT_URI}keys/cmk-workspace/")
    staging = one(stack_plan("staging"), WORKSPACE)
    assert "encryption" not in staging.inputs and staging.ignore_changes == []


def test_aks_disks_use_the_disk_encryption_set_and_etcd_uses_kms_over_vnet_integration():
    plan = stack_plan("prod")
    des = one(plan, DES)
    disks = one(plan, KEY, "cmk-disks-key")
    assert des.physical_name == "des-contoso-prd"
    assert {k: v for k, v in des.inputs.items() if k not in ("tags", "resourceGroupName")} == {
        "diskEncryptionSetName": "des-contoso-prd", "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "activeKey": {"keyUrl": disks.outputs["keyUriWithVersion"], "sourceVault": {"id": VAULT}},
        "encryptionType": "EncryptionAtRestWithCustomerKey", "rotationToLatestKeyVersionEnabled": True}
    # Azure moves activeKey to each new version itself; the stack must not move it back.
    assert des.ignore_changes == ["activeKey.keyUrl"] and des.protect
    cluster = one(plan, CLUSTER)
    kms = one(plan, KEY, "cmk-kms-key")
    a = cluster.inputs
    assert a["diskEncryptionSetID"] == des.id
    assert a["securityProfile"]["azureKeyVaultKms"] == {
        "enabled": True, "keyId": kms.outputs["keyUriWithVersion"], "keyVaultNetworkAccess": "Private",
        "keyVaultResourceId": VAULT}
    assert a["apiServerAccessProfile"] == {
        "enablePrivateCluster": True, "enablePrivateClusterPublicFQDN": False, "privateDNSZone": "system",
        "enableVnetIntegration": True, "disableRunCommand": True,
        "subnetId": f"{RG}/providers/Microsoft.Network/virtualNetworks/vnet-contoso-prd/subnets/snet-apiserver"}
    assert cluster.ignore_changes == ["securityProfile.azureKeyVaultKms.keyId"]
    # The cluster waits for every grant it needs at creation, then a pause.
    pause = one(plan, "time:index/sleep:Sleep", "inference-key-propagation")
    assert pause.urn in cluster.dependencies
    assert sorted(plan.by_urn()[u].name for u in pause.dependencies) == [
        "cmk-ra-disks-key", "inference-ra-apiserver-subnet", "inference-ra-disk-encryption-set", "inference-ra-kms-key",
        "inference-ra-kms-vault", "inference-ra-subnet"]
    assert {(plan.by_urn()[u].inputs["scope"], plan.by_urn()[u].inputs["roleDefinitionId"].rsplit("/", 1)[-1])
            for u in pause.dependencies if plan.by_urn()[u].name.startswith("inference-ra-")} == {
        (des.id, READER), (kms.id, CRYPTO_USER), (VAULT, VAULT_CONTRIBUTOR),
        (a["apiServerAccessProfile"]["subnetId"], NETWORK_CONTRIBUTOR),
        (f"{RG}/providers/Microsoft.Network/virtualNetworks/vnet-contoso-prd/subnets/snet-scoring", NETWORK_CONTRIBUTOR)}


def test_the_api_server_subnet_nsg_lets_nodes_and_the_load_balancer_in():
    plan = stack_plan("prod")
    nsg = next(r for r in plan.of_type("azure-native:network:NetworkSecurityGroup")
               if r.physical_name == "nsg-contoso-prd-apiserver")
    got = [(r["name"], r["priority"], r["direction"], r["access"], r["protocol"], r["sourceAddressPrefix"],
            r.get("destinationPortRange") or ",".join(r["destinationPortRanges"])) for r in nsg.inputs["securityRules"]]
    assert got == [
        ("allow-nodes-apiserver-inbound", 100, "Inbound", "Allow", "Tcp", "10.70.2.0/23", "443,4443"),
        ("allow-lb-apiserver-inbound", 110, "Inbound", "Allow", "Tcp", "AzureLoadBalancer", "9988"),
        ("deny-internet-inbound", 4096, "Inbound", "Deny", "*", "Internet", "*"),
        # Like every subnet's NSG: no SSH or RDP from here to the rest of the VNet (PSRule Azure.NSG.LateralTraversal).
        ("deny-ssh-rdp-vnet-outbound", 4000, "Outbound", "Deny", "Tcp", "VirtualNetwork", "22,3389"),
    ]


# The customer-managed key checks (policies/checkov/encryption.py).
CMK_CHECKS = {f"CKV_AMLP_{n}" for n in range(33, 40)}


def _cmk_skip(line: str) -> bool:
    return any(f"skip={check}:" in line for check in CMK_CHECKS)


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_stacks_without_customer_managed_keys_have_no_keys_and_say_so(stack):
    plan = stack_plan(stack)
    assert not plan.of_type(KEY) and not plan.of_type(DES)
    assert not [r for r in plan.of_type(IDENTITY) if "-cmk-" in r.physical_name]
    skips = relaxations.for_stack(stack_config(stack))
    template = arm.render(plan, skips)
    reasons = {(r["type"], line.split(":")[1].removeprefix("skip=")): line for r in template["resources"]
               for line in r.get("metadata", {}).get("checkov", []) if _cmk_skip(line)}
    expected = {("Microsoft.MachineLearningServices/workspaces", "CKV_AMLP_33"),
                ("Microsoft.Storage/storageAccounts", "CKV_AMLP_34"), ("Microsoft.ContainerRegistry/registries", "CKV_AMLP_35")}
    if stack == "staging":
        expected |= {("Microsoft.ContainerService/managedClusters", "CKV_AMLP_36"),
                     ("Microsoft.ContainerService/managedClusters", "CKV_AMLP_37")}
    assert set(reasons) == expected
    assert all(f"stacks/Pulumi.{stack}.yaml has amlplatform:encryption.customerManagedKey.enabled=false" in line
               for line in reasons.values())


def test_aks_kms_off_is_a_visible_relaxation():
    def kms_off(raw):
        raw["amlplatform:encryption"] = {"customerManagedKey": {"aksKms": False}}

    cfg, plan = edited_plan("prod", kms_off)
    assert "kms" not in {k.inputs["keyName"].removeprefix("cmk-") for k in plan.of_type(KEY)}
    cluster = one(plan, CLUSTER)
    assert "azureKeyVaultKms" not in cluster.inputs["securityProfile"] and cluster.inputs["diskEncryptionSetID"]
    skips = relaxations.for_stack(cfg)({"type": "Microsoft.ContainerService/managedClusters"})
    assert [s[0] for s in skips if s[0] in CMK_CHECKS] == ["CKV_AMLP_37"]
    assert "stacks/Pulumi.prod.yaml sets amlplatform:encryption.customerManagedKey.aksKms=false" in skips[-1][1]
    assert not platform_rules.facts_for(cfg, plan).aks_kms
    assert azure_rules.evaluate(plan).ok


# ---- staging with customer-managed keys: every gate at zero --------------------------------------------


def test_staging_with_customer_managed_keys_passes_every_gate(tmp_path):
    cfg, plan = edited_plan("staging", lambda raw: raw.update(
        {"amlplatform:encryption": {"customerManagedKey": {"enabled": True}}}))
    keys = plan.of_type(KEY)
    # Staging's standard vault holds software keys: RSA, the HSM check skipped with the vault's key.
    assert len(keys) == 7 and {k.inputs["properties"]["kty"] for k in keys} == {"RSA"}
    template = arm.render(plan, relaxations.for_stack(cfg))
    path = tmp_path / "template.json"
    path.write_text(arm.to_json(template))
    result = checkov_gate.run(path, tmp_path / "out")
    assert result.failed == 0 and result.ok, [(f.check_id, f.resource) for f in result.failures]
    passed = {f.check_id for f in result.passes}
    assert {"CKV_AMLP_33", "CKV_AMLP_34", "CKV_AMLP_35", "CKV_AMLP_36", "CKV_AMLP_37", "CKV_AMLP_38",
            "CKV_AMLP_39", "CKV_AZURE_40"} <= passed
    hsm = [f for f in result.skips if f.check_id == "CKV_AZURE_112"]
    assert len(hsm) == 7 and all("stacks/Pulumi.staging.yaml sets amlplatform:keyVault.sku=standard" in f.reason
                                 for f in hsm)
    assert not [f for f in result.skips if f.check_id in CMK_CHECKS]
    assert platform_rules.check(plan, platform_rules.facts_for(cfg, plan)).violations == []
    report = azure_rules.evaluate(plan)
    assert report.ok, [(f.rule, f.resource, f.message) for f in report.findings]


# ---- platform rules ------------------------------------------------------------------------------------

FACTS = StackFacts(environment="prod", customer_managed_key=True, aks_kms=True)


def _resource(res: PlannedResource, **changes) -> Resource:
    props = copy.deepcopy(res.inputs)
    for path, value in changes.items():
        *head, last = path.split(".")
        node = props
        for step in head:
            node = node[step]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return Resource(urn=res.urn, type=res.type, name=res.name, props=props)


CMK_RULES = [
    ("cmk-workspace", WORKSPACE, None, {"enableServiceSideCMKEncryption": False}, "enableServiceSideCMKEncryption"),
    ("cmk-workspace", WORKSPACE, None, {"encryption": None}, "status Enabled"),
    ("cmk-storage", STORAGE, "storage-account", {"encryption.services.queue.keyType": "Service"},
     "services.queue.keyType Account"),
    ("cmk-storage", STORAGE, "datalake-account", {"encryption.keySource": "Microsoft.Storage"},
     "keySource Microsoft.Keyvault"),
    # The flow logs' account is held like the others (README: Customer-managed keys).
    ("cmk-storage", STORAGE, "flow-logs-storage-account", {"encryption": None}, "keySource Microsoft.Keyvault"),
    ("cmk-registry", REGISTRY, None, {"encryption": None}, "status enabled"),
    ("cmk-aks-disks", CLUSTER, None, {"diskEncryptionSetID": None}, "diskEncryptionSetID"),
    ("cmk-aks-kms", CLUSTER, None, {"securityProfile.azureKeyVaultKms.keyVaultNetworkAccess": "Public"},
     "keyVaultNetworkAccess Private"),
    ("cmk-aks-kms", CLUSTER, None, {"apiServerAccessProfile.enableVnetIntegration": None}, "API Server VNet"),
    ("keyvault-key-rotation", KEY, "cmk-kms-key", {"properties.rotationPolicy.lifetimeActions": [
        {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}}]}, "Rotate lifetime action"),
]


@pytest.mark.parametrize("rule, token, name, change, words", CMK_RULES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CMK_RULES)])
def test_cmk_platform_rules_fail_a_dropped_key_and_pass_prod(rule, token, name, change, words):
    check = next(r for r in RULES if r.name == rule).check
    assert check is not None
    res = one(stack_plan("prod"), token, name)
    assert check(_resource(res), FACTS) is None
    message = check(_resource(res, **change), FACTS)
    assert message and words in message
    # Where the stack keeps Microsoft-managed keys, the rule has nothing to hold (the inline skip says why).
    if rule != "keyvault-key-rotation":
        assert check(_resource(res, **change), StackFacts(environment="prod")) is None


def test_unknown_values_in_a_preview_count_as_set():
    check = next(r for r in RULES if r.name == "cmk-workspace").check
    assert check is not None
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    res = one(stack_plan("prod"), WORKSPACE)
    assert check(_resource(res, **{"encryption.keyVaultProperties.keyIdentifier": unknown}), FACTS) is None


def test_policy_pack_config_carries_the_facts():
    prod = platform_rules.policy_config(stack_config("prod"))
    staging = platform_rules.policy_config(stack_config("staging"))
    assert prod["cmk-workspace"] == {"enforcementLevel": "mandatory", "customerManagedKey": True}
    assert prod["cmk-aks-kms"] == {"enforcementLevel": "mandatory", "aksKms": True}
    assert staging["cmk-storage"] == {"enforcementLevel": "mandatory", "customerManagedKey": False}
    for stack in ("dev", "staging", "prod"):
        written = json.loads((ROOT / "policies" / "config" / f"{stack}.json").read_text())
        assert written == platform_rules.policy_config(stack_config(stack))
    # The registry stack has no encryption section (README: Customer-managed keys): its facts say so, rather
    # than leave the pack's strictest default (customerManagedKey true) to a stack without keys.
    registry, _ = load_stack("registry", ROOT)
    written = json.loads((ROOT / "policies" / "config" / "registry.json").read_text())
    assert written == platform_rules.policy_config(registry)
    assert {written[name]["customerManagedKey"] for name in ("cmk-workspace", "cmk-storage", "cmk-registry")} == {False}
    assert written["cmk-aks-kms"]["aksKms"] is False


# ---- Azure rules: each fails its fixture -----------------------------------------------------------------


def _edit(plan: Plan, name: str, token: str | None = None, **changes) -> Plan:
    """The plan with one resource's inputs changed at dotted paths (None removes the key)."""
    res = next(r for r in plan.resources if r.name == name and (token is None or r.type == token))
    edited = _resource(res, **changes)
    return dataclasses.replace(plan, resources=[dataclasses.replace(r, inputs=dict(edited.props)) if r.urn == res.urn
                                                else r for r in plan.resources])


def _without(plan: Plan, *names: str) -> Plan:
    return dataclasses.replace(plan, resources=[r for r in plan.resources if r.name not in names])


def findings(plan: Plan, rule: str) -> list[tuple[str, str]]:
    return [(f.resource, f.message) for f in azure_rules.evaluate(plan).findings if f.rule == rule]


def test_shipped_prod_has_no_encryption_finding():
    report = azure_rules.evaluate(stack_plan("prod"))
    assert not [f for f in report.findings if "cmk" in f.rule or "kms" in f.rule or "api-server" in f.rule]


def test_a_consumer_without_its_key_grant_is_refused():
    plan = stack_plan("prod")
    (found,) = findings(_without(plan, "cmk-ra-storage-key"), "azure-cmk-key-access")
    assert found[0] == "storage-account" and "encrypts with kv-contoso-prd-i3pvt/cmk-storage" in found[1]
    # A grant that permits no wrap or unwrap (Reader) is no grant.
    bad = _edit(plan, "cmk-ra-registry-key", roleDefinitionId=ROLE + READER)
    assert [f[0] for f in findings(bad, "azure-cmk-key-access")] == ["registry-registry"]
    # KMS needs encrypt and decrypt: the service encryption role does not do.
    bad = _edit(plan, "inference-ra-kms-key", roleDefinitionId=ROLE + SERVICE_ENCRYPTION_USER)
    assert [f[0] for f in findings(bad, "azure-cmk-key-access")] == ["inference-aks"]
    # The disk encryption set's system-assigned identity, recognised by where its principal comes from.
    assert [f[0] for f in findings(_without(plan, "cmk-ra-disks-key"), "azure-cmk-key-access")] == ["cmk-des"]
    # A grant at the vault scope covers the key.
    assert findings(_edit(plan, "cmk-ra-storage-key", scope=VAULT), "azure-cmk-key-access") == []
    # Role assignments grant nothing on a vault that authorizes with access policies (false is ARM's default).
    policies = _edit(plan, "keyvault-vault", **{"properties.enableRbacAuthorization": None})
    assert sorted(f[0] for f in findings(policies, "azure-cmk-key-access")) == sorted([
        "workspace-mlw", "storage-account", "datalake-account", "flow-logs-storage-account", "registry-registry",
        "cmk-des", "inference-aks"])
    assert all("access policies" in f[1] for f in findings(policies, "azure-cmk-key-access"))


def test_a_consumer_created_before_its_grant_is_refused():
    plan = stack_plan("prod")
    pause = one(plan, "time:index/sleep:Sleep", "cmk-role-propagation")
    st = one(plan, STORAGE, "storage-account")
    early = dataclasses.replace(st, dependencies=[d for d in st.dependencies if d != pause.urn])
    bad = dataclasses.replace(plan, resources=[early if r.urn == st.urn else r for r in plan.resources])
    (found,) = findings(bad, "azure-cmk-key-access")
    assert found[0] == "storage-account" and "created before the grant" in found[1]
    # The cluster waits for the disk encryption set's grant (the set itself is created before it).
    cluster = one(plan, CLUSTER)
    early = dataclasses.replace(cluster, dependencies=[d for d in cluster.dependencies if "key-propagation" not in d])
    bad = dataclasses.replace(plan, resources=[early if r.urn == cluster.urn else r for r in plan.resources])
    assert {f[0] for f in findings(bad, "azure-cmk-key-access")} == {"inference-aks"}


def test_a_vault_without_purge_protection_is_refused_for_every_consumer():
    plan = stack_plan("prod")
    bad = _edit(plan, "keyvault-vault", **{"properties.enablePurgeProtection": False})
    assert sorted(f[0] for f in findings(bad, "azure-cmk-vault-protection")) == sorted([
        "workspace-mlw", "storage-account", "datalake-account", "flow-logs-storage-account", "registry-registry",
        "cmk-des", "inference-aks"])


def test_a_firewalled_vault_without_the_trusted_services_bypass_is_refused():
    plan = stack_plan("prod")
    bad = _edit(plan, "keyvault-vault", **{"properties.networkAcls.bypass": "None"})
    # KMS reaches the private vault over its own private link, not as a trusted service.
    assert sorted(f[0] for f in findings(bad, "azure-cmk-vault-reachable")) == sorted([
        "workspace-mlw", "storage-account", "datalake-account", "flow-logs-storage-account", "registry-registry",
        "cmk-des"])
    public = _edit(plan, "inference-aks", **{"securityProfile.azureKeyVaultKms.keyVaultNetworkAccess": "Public"})
    (found,) = findings(public, "azure-cmk-vault-reachable")
    assert found[0] == "inference-aks" and "use Private access" in found[1]


def test_a_key_that_does_not_fit_its_vault_or_consumer_is_refused():
    plan = stack_plan("prod")
    standard = _edit(plan, "keyvault-vault", **{"properties.sku": {"family": "A", "name": "standard"}})
    assert len([f for f in findings(standard, "azure-cmk-key-fits") if "HSM-protected keys need premium" in f[1]]) == 7
    no_wrap = _edit(plan, "cmk-storage-key", KEY, **{"properties.keyOps": ["encrypt", "decrypt"]})
    (found,) = findings(no_wrap, "azure-cmk-key-fits")
    assert found[0] == "cmk-storage-key" and "calls wrapKey and unwrapKey" in found[1]
    ec = _edit(plan, "cmk-registry-key", KEY, **{"properties.kty": "EC-HSM"})
    assert [f[0] for f in findings(ec, "azure-cmk-key-fits")] == ["registry-registry"]
    missing = _without(plan, "cmk-workspace-key")
    assert [f for f in findings(missing, "azure-cmk-key-fits") if f[0] == "workspace-mlw"] == [
        ("workspace-mlw", "workspace mlw-contoso-prd names key cmk-workspace, which the plan does not create in "
                          "kv-contoso-prd-i3pvt")]


def test_kms_with_a_private_vault_needs_api_server_vnet_integration():
    plan = stack_plan("prod")
    bad = _edit(plan, "inference-aks", **{"apiServerAccessProfile.enableVnetIntegration": None,
                                          "apiServerAccessProfile.subnetId": None})
    (found,) = findings(bad, "azure-aks-kms-private-vnet-integration")
    assert found[0] == "inference-aks" and "API Server VNet Integration" in found[1]


def test_the_api_server_subnet_is_delegated_large_enough_and_for_api_servers_only():
    plan = stack_plan("prod")
    vnet = one(plan, "azure-native:network:VirtualNetwork")
    subnets = copy.deepcopy(vnet.inputs["subnets"])
    api = next(s for s in subnets if s["name"] == "snet-apiserver")
    api.pop("delegations")
    api["addressPrefix"] = "10.70.0.64/29"
    bad = _edit(plan, "network-vnet", subnets=subnets)
    assert sorted(f[1] for f in findings(bad, "azure-aks-api-server-subnet")) == [
        "API server subnet snet-apiserver is 10.70.0.64/29: the minimum is /28",
        "API server subnet snet-apiserver is not delegated to Microsoft.ContainerService/managedClusters"]
    cluster = one(plan, CLUSTER)
    pools = copy.deepcopy(cluster.inputs["agentPoolProfiles"])
    pools[1]["vnetSubnetID"] = cluster.inputs["apiServerAccessProfile"]["subnetId"]
    shared = _edit(plan, "inference-aks", agentPoolProfiles=pools)
    assert [f[1] for f in findings(shared, "azure-aks-api-server-subnet")] == [
        "API server subnet snet-apiserver also holds node pools: it serves API servers only"]


def test_registry_customer_managed_keys_need_premium():
    plan = stack_plan("prod")
    (found,) = findings(_edit(plan, "registry-registry", sku={"name": "Standard"}), "azure-registry-cmk-premium")
    assert found == ("registry-registry", "registry crcontosoprdi3pvt is Standard: customer-managed keys are a "
                                          "Premium feature")


# ---- creation-only properties: a real preview of a deployed stack ----------------------------------------


def _deployed(plan: Plan, name: str, prior: dict) -> Plan:
    return dataclasses.replace(plan, resources=[dataclasses.replace(r, prior_inputs=prior) if r.name == name else r
                                                for r in plan.resources])


@pytest.mark.parametrize("name, path, words", [
    ("registry-registry", "encryption", "changes encryption.status from None to 'enabled'"),
    ("workspace-mlw", "encryption", "changes encryption.status from None to 'Enabled'"),
    ("workspace-mlw", "enableServiceSideCMKEncryption", "changes enableServiceSideCMKEncryption from None to True"),
    ("inference-aks", "diskEncryptionSetID", "changes diskEncryptionSetID from None to"),
])
def test_turning_customer_managed_keys_on_for_a_deployed_resource_is_a_finding(name, path, words):
    plan = stack_plan("prod")
    res = next(r for r in plan.resources if r.name == name)
    prior = {k: v for k, v in copy.deepcopy(res.inputs).items() if k != path}
    found = [f[1] for f in findings(_deployed(plan, name, prior), "azure-cmk-creation-only") if f[0] == name]
    assert any(words in m for m in found) and all("new platform.generation" in m for m in found)
    # The same inputs before and after: nothing to say; a key moved within its vault is allowed.
    assert findings(_deployed(plan, name, copy.deepcopy(res.inputs)), "azure-cmk-creation-only") == []


def test_queue_keys_of_a_deployed_account_cannot_change():
    plan = stack_plan("prod")
    st = one(plan, STORAGE, "storage-account")
    prior = copy.deepcopy(st.inputs)
    prior["encryption"]["services"]["queue"]["keyType"] = "Service"
    (found,) = findings(_deployed(plan, "storage-account", prior), "azure-cmk-creation-only")
    assert "encryption.services.queue.keyType from 'Service' to 'Account'" in found[1]


def test_a_real_preview_that_enables_registry_encryption_fails_the_scan(tmp_path):
    """`pulumi preview --json` keeps each deployed resource's oldState; the scan compares it."""
    reg = one(stack_plan("prod"), REGISTRY)
    old = {k: v for k, v in reg.inputs.items() if k not in ("encryption", "identity")}
    urn = "urn:pulumi:prod::amlplatform::amlplatform:components:Registry$azure-native:containerregistry:Registry::" \
          "registry-registry"
    doc = {"steps": [{
        "op": "update", "urn": urn, "diffReasons": ["encryption", "identity"],
        "oldState": {"urn": urn, "custom": True, "type": REGISTRY, "id": reg.id, "inputs": old},
        "newState": {"urn": urn, "custom": True, "type": REGISTRY, "id": reg.id, "inputs": reg.inputs},
    }]}
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(doc))
    loaded = preview.load(path)
    (res,) = loaded.plan.custom()
    assert res.prior_inputs == old and res.inputs == reg.inputs
    found = [f for f in azure_rules.evaluate(loaded.mapped_plan()).findings if f.rule == "azure-cmk-creation-only"]
    assert [f.resource for f in found] == ["registry-registry"]
    assert "You can currently enable a customer-managed key only while creating a registry" in found[0].message


def test_hbi_turns_keys_on_and_the_message_says_so():
    from infra import config

    def dev_hbi(raw):
        raw["amlplatform:workspace"] = {"hbi": True}

    with pytest.raises(config.ConfigError) as err:
        edited_plan("dev", dev_hbi)
    assert str(err.value) == (
        "stacks/Pulumi.dev.yaml: amlplatform:encryption.customerManagedKey.enabled: customer-managed keys on the "
        "container registry need registry.sku Premium (it is Basic) (on because workspace.hbi is on; set it false to "
        "keep Microsoft-managed keys), got true")


def test_service_side_encryption_with_a_private_vault_is_an_open_risk_that_does_not_fail_the_plan():
    plan = stack_plan("prod")
    report = azure_rules.evaluate(plan)
    assert report.ok
    assert [(r.rule, r.resource) for r in report.risks] == [("azure-cmk-service-side-private-vault", "workspace-mlw")]
    assert "kv-contoso-prd-i3pvt, whose public network access is disabled" in report.risks[0].message
    assert report.risks[0].source.endswith("concept-customer-managed-keys#preview-service-side-encryption-of-metadata")
    # A vault behind a firewall with public network access enabled, or the classic architecture: nothing to verify.
    firewalled = _edit(plan, "keyvault-vault", **{"properties.publicNetworkAccess": "Enabled"})
    assert azure_rules.evaluate(firewalled).risks == []
    classic = _edit(plan, "workspace-mlw", enableServiceSideCMKEncryption=False)
    assert azure_rules.evaluate(classic).risks == []
    # Staging (keys off) has none; the report names the section only where there is one.
    assert azure_rules.evaluate(stack_plan("staging")).risks == []
