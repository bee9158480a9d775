"""Each platform rule passes a good resource and fails a bad one, with the message a user reads."""

from __future__ import annotations

import copy
import inspect
from typing import Any

import pytest

from policies.rules import RULES, Resource, StackFacts, evaluate
from policies.rules import tokens as t
from policies.rules.core import UNKNOWN_SENTINELS
from policies.rules.governance import TAGGABLE

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
OWNERS = "00000000-0000-0000-0000-00000000a001"
TAGS = {"environment": "prod", "managed-by": "pulumi", "project": "amlplatform"}
PROD = StackFacts(environment="prod", platform_owners=frozenset({OWNERS}), allowed_locations=("westeurope",),
                  protect_stateful=True, secrets_visible=True)
ROLE = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/"
SCOPE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1"


def res(kind: str, props: dict[str, Any], name: str = "r", protect: bool = True, **kw: Any) -> Resource:
    return Resource(urn=f"urn:pulumi:prod::amlplatform::{kind}::{name}", type=kind, name=name, props=props,
                    protect=protect, **kw)


def compute(kind: str, **inner: Any) -> dict[str, Any]:
    base = {"subnet": {"id": "/subnets/training"}, "enableNodePublicIp": False}
    if kind == "AmlCompute":
        base |= {"remoteLoginPortPublicAccess": "Disabled", "vmSize": "Standard_DS3_v2"}
    else:
        base |= {"sshSettings": {"sshPublicAccess": "Disabled"}, "idleTimeBeforeShutdown": "PT30M",
                 "vmSize": "Standard_DS11_v2"}
    return {"computeName": "c1", "location": "westeurope", "tags": TAGS,
            "properties": {"computeType": kind, "disableLocalAuth": True, "properties": {**base, **inner}}}


GOOD: dict[str, dict[str, Any]] = {
    t.WORKSPACE: {
        "workspaceName": "mlw", "location": "westeurope", "tags": TAGS, "publicNetworkAccess": "Disabled",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": ["/uai/1"]},
        "primaryUserAssignedIdentity": "/uai/1", "systemDatastoresAuthMode": "identity",
        "allowPublicAccessWhenBehindVnet": False,
    },
    t.STORAGE: {
        "accountName": "st1", "location": "westeurope", "tags": TAGS, "sku": {"name": "Standard_GZRS"},
        "allowSharedKeyAccess": False, "minimumTlsVersion": "TLS1_2", "enableHttpsTrafficOnly": True,
        "allowBlobPublicAccess": False, "publicNetworkAccess": "Disabled",
    },
    t.BLOB_SERVICE: {"accountName": "st1", "deleteRetentionPolicy": {"enabled": True, "days": 14},
                     "containerDeleteRetentionPolicy": {"enabled": True, "days": 14}},
    t.KEY_VAULT: {"vaultName": "kv", "location": "westeurope", "tags": TAGS, "properties": {
        "enableRbacAuthorization": True, "enablePurgeProtection": True, "publicNetworkAccess": "Disabled",
        "sku": {"family": "A", "name": "premium"}}},
    t.REGISTRY: {"registryName": "cr", "location": "westeurope", "tags": TAGS, "sku": {"name": "Premium"},
                 "adminUserEnabled": False, "anonymousPullEnabled": False, "publicNetworkAccess": "Disabled"},
    t.APP_INSIGHTS: {"resourceName": "appi", "location": "westeurope", "tags": TAGS, "ingestionMode": "LogAnalytics",
                     "workspaceResourceId": "/la/1"},
    t.LOG_ANALYTICS: {"workspaceName": "log", "location": "westeurope", "tags": TAGS, "retentionInDays": 90,
                      "sku": {"name": "PerGB2018"}},
    t.ONLINE_ENDPOINT: {"endpointName": "credit-online-prd", "kind": "Managed", "location": "westeurope", "tags": TAGS,
                        "properties": {"authMode": "AADToken", "publicNetworkAccess": "Disabled"}},
    t.ML_REGISTRY: {"registryName": "mlr-contoso", "location": "westeurope", "tags": TAGS,
                    "publicNetworkAccess": "Disabled"},
}

# (rule, type, change to the good props that breaks it, words the message must contain)
CASES = [
    ("aml-workspace-user-identity", t.WORKSPACE, {"identity": {"type": "SystemAssigned"}}, "user-assigned"),
    ("aml-workspace-identity-datastores", t.WORKSPACE, {"systemDatastoresAuthMode": "accessKey"}, "'accessKey'"),
    ("aml-workspace-no-public-behind-vnet", t.WORKSPACE, {"allowPublicAccessWhenBehindVnet": True}, "false"),
    ("public-network-access", t.WORKSPACE, {"publicNetworkAccess": "Enabled"}, "'Enabled'"),
    ("storage-no-shared-key", t.STORAGE, {"allowSharedKeyAccess": True}, "allowSharedKeyAccess"),
    ("storage-secure-transport", t.STORAGE, {"minimumTlsVersion": "TLS1_0"}, "'TLS1_0'"),
    ("storage-secure-transport", t.STORAGE, {"allowBlobPublicAccess": True}, "allowBlobPublicAccess"),
    ("storage-blob-soft-delete", t.BLOB_SERVICE, {"deleteRetentionPolicy": {"enabled": False}}, "deleteRetention"),
    ("keyvault-rbac-purge-protection", t.KEY_VAULT, {"properties": {"enableRbacAuthorization": True}},
     "enablePurgeProtection"),
    ("registry-no-admin-user", t.REGISTRY, {"adminUserEnabled": True}, "adminUserEnabled"),
    ("appinsights-workspace-based", t.APP_INSIGHTS, {"ingestionMode": "ApplicationInsights"}, "workspace-based"),
    ("log-retention", t.LOG_ANALYTICS, {"retentionInDays": 7}, "7"),
    ("allowed-skus", t.STORAGE, {"sku": {"name": "Standard_LRS"}}, "'Standard_LRS' is not allowed in prod"),
    ("allowed-skus", t.REGISTRY, {"sku": {"name": "Basic"}}, "'Basic'"),
    ("allowed-skus", t.KEY_VAULT, {"properties": {**GOOD[t.KEY_VAULT]["properties"], "sku": {"name": "standard"}}},
     "'standard'"),
    ("allowed-locations", t.STORAGE, {"location": "eastus"}, "'eastus' is not allowed"),
    ("required-tags", t.STORAGE, {"tags": {"environment": "prod"}}, "managed-by, project"),
    ("no-plain-secrets", t.STORAGE, {"tags": {**TAGS, "conn": "DefaultEndpointsProtocol=https;AccountKey="
                                                             + "A" * 40}}, "storage account key"),
    ("endpoint-not-public", t.ONLINE_ENDPOINT,
     {"properties": {"authMode": "AADToken", "publicNetworkAccess": "Enabled"}}, "publicNetworkAccess is 'Enabled'"),
    ("ml-registry-not-public", t.ML_REGISTRY, {"publicNetworkAccess": "Enabled"}, "must be Disabled"),
]


def _rule(name: str):
    return next(r for r in RULES if r.name == name)


@pytest.mark.parametrize("rule,kind,change,words", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fails_bad_resource_and_passes_good(rule, kind, change, words):
    r = _rule(rule)
    assert r.check is not None
    good = res(kind, copy.deepcopy(GOOD[kind]))
    assert r.check(good, PROD) is None
    bad = res(kind, {**copy.deepcopy(GOOD[kind]), **change})
    message = r.check(bad, PROD)
    assert message and words in message


def test_every_rule_has_a_failing_case_somewhere():
    from tests.test_serving import FAILING_HERE as SERVING  # failed on a shipped plan made bad

    covered = {c[0] for c in CASES} | {
        "aml-compute-local-auth", "aml-compute-in-vnet", "aml-compute-idle-shutdown", "aml-compute-no-public-ip",
        "aml-compute-ssh-off", "aml-inference-tls", "subnet-nsg", "nsg-no-open-management-ports",
        "private-endpoint-coverage", "rbac-privileged-roles", "rbac-principal-type", "protect-stateful",
        # tests/test_policy_rules_hardening.py
        "aks-command-invoke-off", "aks-node-ssh-off", "aks-image-cleaner", "aks-maintenance-windows",
        "registry-arm-audience-tokens-off", "storage-sas-policy", "nsg-lateral-traversal", "vnet-flow-logs",
        "private-ingestion",
        # tests/test_encryption.py
        "cmk-workspace", "cmk-storage", "cmk-registry", "cmk-aks-disks", "cmk-aks-kms", "keyvault-key-rotation",
    } | set(SERVING)
    assert {r.name for r in RULES} == covered


@pytest.mark.parametrize("kind", ["AmlCompute", "ComputeInstance"])
@pytest.mark.parametrize("rule,inner,outer", [
    ("aml-compute-local-auth", {}, {"disableLocalAuth": False}),
    ("aml-compute-no-public-ip", {"enableNodePublicIp": True}, {}),
    ("aml-compute-ssh-off", {"remoteLoginPortPublicAccess": "Enabled", "sshSettings": {"sshPublicAccess": "Enabled"}},
     {}),
])
def test_compute_rules(kind, rule, inner, outer):
    check = _rule(rule).check
    good = compute(kind)
    assert check(res(t.COMPUTE, good), PROD) is None
    bad = compute(kind, **inner)
    bad["properties"].update(outer)
    assert "c1" in check(res(t.COMPUTE, bad), PROD)


def test_idle_shutdown_only_for_instances_and_gpu_not_in_dev():
    check = _rule("aml-compute-idle-shutdown").check
    assert "idleTimeBeforeShutdown" in check(res(t.COMPUTE, compute("ComputeInstance", idleTimeBeforeShutdown=None)),
                                             PROD)
    assert check(res(t.COMPUTE, compute("AmlCompute")), PROD) is None
    sku = _rule("allowed-skus").check
    gpu = compute("AmlCompute", vmSize="Standard_NC6s_v3")
    assert sku(res(t.COMPUTE, gpu), PROD) is None
    assert "Standard_NC6s_v3 not allowed in dev" in sku(res(t.COMPUTE, gpu), StackFacts(environment="dev"))


def test_inference_extension_must_be_https_only():
    check = _rule("aml-inference-tls").check
    good = {"extensionType": "microsoft.azureml.kubernetes",
            "configurationSettings": {"allowInsecureConnections": "False", "sslCname": "scoring.contoso.internal"}}
    assert check(res(t.EXTENSION, good), PROD) is None
    bad = copy.deepcopy(good)
    bad["configurationSettings"]["allowInsecureConnections"] = "True"
    assert "HTTPS only" in check(res(t.EXTENSION, bad), PROD)
    assert check(res(t.EXTENSION, {"extensionType": "microsoft.flux"}), PROD) is None


def test_subnets_need_nsgs_except_where_azure_forbids():
    check = _rule("subnet-nsg").check
    vnet = {"subnets": [{"name": "snet-pe", "networkSecurityGroup": {"id": "/nsg/1"}},
                        {"name": "AzureFirewallSubnet"}]}
    assert check(res(t.VNET, vnet), PROD) is None
    vnet["subnets"].append({"name": "snet-training"})
    assert check(res(t.VNET, vnet), PROD) == "subnet(s) without a network security group: snet-training"
    assert "snet-x" in check(res(t.SUBNET, {"subnetName": "snet-x"}), PROD)


@pytest.mark.parametrize("rule_props,open_", [
    ({"access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "*", "destinationPortRange": "22"}, True),
    ({"access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "Internet",
      "destinationPortRanges": ["3000-4000"]}, True),
    ({"access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "0.0.0.0/0", "destinationPortRange": "*"},
     True),
    ({"access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "VirtualNetwork",
      "destinationPortRange": "22"}, False),
    ({"access": "Deny", "direction": "Inbound", "sourceAddressPrefix": "*", "destinationPortRange": "*"}, False),
    ({"access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "*", "destinationPortRange": "443"}, False),
])
def test_open_management_ports(rule_props, open_):
    check = _rule("nsg-no-open-management-ports").check
    message = check(res(t.NSG, {"securityRules": [{"name": "r1", **rule_props}]}), PROD)
    assert bool(message) is open_
    assert bool(check(res(t.SECURITY_RULE, {"securityRuleName": "r1", **rule_props}), PROD)) is open_


def test_private_endpoint_coverage_by_dependency_or_id():
    stack = _rule("private-endpoint-coverage").stack_check
    st = res(t.STORAGE, GOOD[t.STORAGE], "storage-account", id=SCOPE)
    assert stack([st], PROD) == [(st.urn, "StorageAccount storage-account has no private endpoint and no AML "
                                          "managed-network rule")]
    # During a preview the target ID is unknown; the dependency edge still says which service it serves.
    pe = res(t.PRIVATE_ENDPOINT, {"privateLinkServiceConnections": [{"privateLinkServiceId": UNKNOWN}]}, "pe",
             property_dependencies={"privateLinkServiceConnections": (st.urn,)})
    assert stack([st, pe], PROD) == []
    by_id = res(t.PRIVATE_ENDPOINT, {"privateLinkServiceConnections": [{"privateLinkServiceId": SCOPE}]}, "pe2")
    assert stack([st, by_id], PROD) == []
    rule = res(t.OUTBOUND_RULE, {}, "dfs-rule", dependencies=(st.urn,))
    assert stack([st, rule], PROD) == []


def _assignment(role: str, principal: str, name: str = "ra", scope: str = SCOPE, **kw: Any) -> Resource:
    return res(t.ROLE_ASSIGNMENT, {"roleDefinitionId": ROLE + role, "principalId": principal, "scope": scope,
                                   "principalType": "ServicePrincipal"}, name, **kw)


def test_privileged_roles_only_for_owners_and_the_workspace_identity():
    stack = _rule("rbac-privileged-roles").stack_check
    owner, contributor = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f7382dd24c"
    assert stack([_assignment(owner, OWNERS)], PROD) == []
    bad = _assignment(owner, "7a9d3b2c-1e4f-4a6b-8c0d-2e5f7a9b1c3d")
    assert [m for _, m in stack([bad], PROD)] == [
        f"Owner on {SCOPE} is granted to 7a9d3b2c-1e4f-4a6b-8c0d-2e5f7a9b1c3d; privileged roles go only to the "
        "platform owners group (amlplatform:rbac.platformOwners)"]
    # The workspace identity's documented Contributor on a linked resource, known only by where
    # its principal ID comes from (a preview).
    uai = res("azure-native:managedidentity:UserAssignedIdentity", {}, "workspace-identity-uai")
    grant = _assignment(contributor, UNKNOWN, property_dependencies={"principalId": (uai.urn,)})
    assert stack([uai, grant], PROD) == []
    # ...but not at resource-group scope, and not from another identity.
    wide = _assignment(contributor, UNKNOWN, scope="/subscriptions/s/resourceGroups/rg",
                       property_dependencies={"principalId": (uai.urn,)})
    assert "a principal known only after creation" in stack([uai, wide], PROD)[0][1]
    other = res("azure-native:managedidentity:UserAssignedIdentity", {}, "compute-identity-uai")
    sneaky = _assignment(contributor, UNKNOWN, property_dependencies={"principalId": (other.urn,)})
    assert len(stack([other, sneaky], PROD)) == 1


def test_principal_type_required():
    check = _rule("rbac-principal-type").check
    good = _assignment("ba92f5b4-2d11-453d-a403-e96b0029c9fe", "x")
    assert check(good, PROD) is None
    bad = res(t.ROLE_ASSIGNMENT, {k: v for k, v in good.props.items() if k != "principalType"})
    assert "no principal type" in check(bad, PROD)


def test_protect_stateful_follows_the_stack():
    check = _rule("protect-stateful").check
    assert "protect=True" in check(res(t.STORAGE, GOOD[t.STORAGE], protect=False), PROD)
    assert check(res(t.STORAGE, GOOD[t.STORAGE], protect=True), PROD) is None
    assert check(res(t.STORAGE, GOOD[t.STORAGE], protect=False), StackFacts(environment="dev")) is None


def test_secret_inputs_must_be_secrets_where_the_engine_shows_it():
    check = _rule("no-plain-secrets").check
    ext = {"extensionType": "microsoft.azureml.kubernetes", "configurationProtectedSettings": "[secret]"}
    assert check(res(t.EXTENSION, ext), PROD) is None
    plain = {**ext, "configurationProtectedSettings": {"sslKeyPemFile": "-----BEGIN PRIVATE KEY-----\nMII"}}
    assert "configurationProtectedSettings is not a Pulumi secret" in check(res(t.EXTENSION, plain), PROD)
    # The live analyzer gets secrets unwrapped: a designated secret input is not judged there...
    live = StackFacts(environment="prod", secrets_visible=False)
    assert check(res(t.EXTENSION, plain), live) is None
    # ...but a private key outside it is, everywhere.
    leaked = {**ext, "configurationSettings": {"sslKeyPemFile": "-----BEGIN RSA PRIVATE KEY-----\nMII"}}
    assert "configurationSettings.sslKeyPemFile holds a PEM private key" in check(res(t.EXTENSION, leaked), live)


def test_unknown_values_do_not_fail_rules_that_cannot_judge_them():
    assert _rule("allowed-locations").check(res(t.STORAGE, {**GOOD[t.STORAGE], "location": UNKNOWN}), PROD) is None
    assert _rule("required-tags").check(res(t.STORAGE, {**GOOD[t.STORAGE], "tags": UNKNOWN}), PROD) is None
    assert UNKNOWN in UNKNOWN_SENTINELS


def test_dev_findings_are_advisory_and_do_not_fail():
    bad = res(t.STORAGE, {**GOOD[t.STORAGE], "publicNetworkAccess": "Enabled"}, protect=False)
    dev = evaluate([bad], StackFacts(environment="dev", allowed_locations=("westeurope",)))
    prod = evaluate([bad], PROD)
    assert dev.ok and dev.verdict().startswith("PASS with") and {v.level for v in dev.violations} == {"advisory"}
    assert not prod.ok and "public-network-access" in {v.rule for v in prod.mandatory}


def test_taggable_table_matches_the_sdk():
    """A type is in TAGGABLE exactly when its azure-native class takes `tags` (for every type we map)."""
    import importlib

    from infra.offline.arm_types import TYPES

    for token in TYPES:
        _, module, cls = token.split(":")
        klass = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), cls)
        takes_tags = "tags" in inspect.signature(klass._internal_init).parameters
        assert takes_tags == (token in TAGGABLE), token


def _workspace(name: str, isolation: str | None) -> Resource:
    props = {**GOOD[t.WORKSPACE], "workspaceName": name}
    if isolation:
        props["managedNetwork"] = {"isolationMode": isolation}
    return res(t.WORKSPACE, props, f"ws-{name}")


@pytest.mark.parametrize("kind", ["AmlCompute", "ComputeInstance"])
@pytest.mark.parametrize("isolation, subnet, ok", [
    (None, True, True),
    (None, False, False),
    ("Disabled", False, False),
    ("AllowInternetOutbound", False, True),
    ("AllowOnlyApprovedOutbound", False, True),
])
def test_compute_in_a_subnet_or_a_managed_network_workspace(kind, isolation, subnet, ok):
    stack = _rule("aml-compute-in-vnet").stack_check
    ws = _workspace("mlw", isolation)
    c = res(t.COMPUTE, {**compute(kind, **({} if subnet else {"subnet": None})), "workspaceName": "mlw"}, "c1")
    found = stack([ws, c], PROD)
    assert found == ([] if ok else [(c.urn, f"{kind} c1: no subnet and no managed network on its workspace; compute "
                                             "joins the stack's training subnet or the AML managed VNet")])


def test_compute_finds_its_workspace_by_dependency_in_a_preview():
    stack = _rule("aml-compute-in-vnet").stack_check
    ws = _workspace("mlw", "AllowInternetOutbound")
    other = _workspace("other", None)
    c = res(t.COMPUTE, {**compute("AmlCompute", subnet=None), "workspaceName": UNKNOWN}, "c1",
            property_dependencies={"workspaceName": (ws.urn,)})
    assert stack([other, ws, c], PROD) == []
    orphan = res(t.COMPUTE, {**compute("AmlCompute", subnet=None), "workspaceName": UNKNOWN}, "c2",
                 property_dependencies={"workspaceName": (other.urn,)})
    assert [u for u, _ in stack([other, ws, orphan], PROD)] == [orphan.urn]
    # Attached compute (Kubernetes, Synapse, Databricks) has no placement of ours.
    attached = res(t.COMPUTE, {"computeName": "k", "properties": {"computeType": "Kubernetes"}}, "k")
    assert stack([other, attached], PROD) == []
