"""The state backend's bootstrap: its inputs, its offline plan, its checkov verdict and its CLI.

The plan is the one `pulumi up -s state` runs in state-backend/ (the same program
under the offline engine), so every property pinned here is what Azure gets.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pulumi
import pytest
import yaml

from infra.cli import main as cli
from infra.state_backend import config as bconfig
from infra.state_backend import plan as bplan
from infra.config.stack import ConfigError
from infra.naming import stable_guid
from infra.offline import arm, arm_types, checkov_gate, engine
from tests.conftest import ROOT

FILE = "state-backend/Pulumi.state.yaml"
SUB = "00000000-0000-0000-0000-000000000000"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/rg-contoso-pulumi-state"
ACCOUNT_ID = f"{RG_ID}/providers/Microsoft.Storage/storageAccounts/stcontosopulumistate"
CONTAINER_ID = f"{ACCOUNT_ID}/blobServices/default/containers/state"
VAULT_ID = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-contoso-pulumi-state"
KEY_ID = f"{VAULT_ID}/keys/pulumi-state"
DEPLOYMENT = "00000000-0000-0000-0000-00000000a002"
OWNERS = "00000000-0000-0000-0000-00000000a001"
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
SUBNET = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-pe"
LOG = f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/log-ops"


def raw_file() -> dict[str, Any]:
    return yaml.safe_load((ROOT / FILE).read_text())["config"]


def edited(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    raw = copy.deepcopy(raw_file())
    edit(raw)
    return raw


def private(raw: dict[str, Any]) -> None:
    raw["bootstrap:network"] = {
        "mode": "private",
        "privateEndpointSubnetId": SUBNET,
        "dnsZoneIds": {z: f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/{z}"
                       for z in bconfig.PRIVATE_ZONES},
    }


def plan_of(raw: dict[str, Any]) -> tuple[bconfig.BootstrapConfig, engine.Plan]:
    cfg = bconfig.parse(raw, FILE)
    return cfg, bplan.plan(cfg, raw)


@functools.lru_cache(maxsize=None)
def shipped() -> tuple[bconfig.BootstrapConfig, engine.Plan]:
    return plan_of(raw_file())


def one(plan: engine.Plan, token: str, name: str | None = None) -> engine.PlannedResource:
    return plan.one(f"azure-native:{token}", name)


def error(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as exc:
        bconfig.parse(raw, FILE)
    return str(exc.value)


# ---- inputs ------------------------------------------------------------------


def test_the_shipped_file_is_valid():
    cfg, _ = bconfig.load(ROOT / FILE)
    assert cfg.stack == "state"
    assert cfg.names.storage_account == "stcontosopulumistate" and cfg.names.container == "state"
    assert cfg.network.mode == "public" and cfg.network.allowed_ip_ranges == ["203.0.113.0/24", "198.51.100.7"]
    assert cfg.backend_url == "azblob://state?storage_account=stcontosopulumistate"
    assert cfg.key_id == "https://kv-contoso-pulumi-state.vault.azure.net/keys/pulumi-state"


@pytest.mark.parametrize("edit, line", [
    (lambda r: r["bootstrap:names"].update(storageAccount="St-Contoso-State"),
     'bootstrap:names.storageAccount: must be lowercase letters and digits (ARM storage account name rule), '
     'got "St-Contoso-State"'),
    (lambda r: r["bootstrap:names"].update(storageAccount="stcontosopulumistatebackend1"),
     'bootstrap:names.storageAccount: must be 3-24 characters (ARM storage account name rule), '
     'got "stcontosopulumistatebackend1"'),
    (lambda r: r["bootstrap:names"].update(keyVault="kv--state"),
     "bootstrap:names.keyVault: must be letters, digits, hyphens; start with a letter, end with a letter or digit, "
     "no '--' (ARM key vault name rule), got \"kv--state\""),
    (lambda r: r["bootstrap:network"].update(allowedIpRanges=["10.1.2.3"]),
     "bootstrap:network.allowedIpRanges[0]: is a private or reserved range: firewall rules take public "
     'internet addresses only, got "10.1.2.3"'),
    (lambda r: r["bootstrap:network"].update(allowedIpRanges=["203.0.113.300"]),
     "bootstrap:network.allowedIpRanges[0]: must be an IPv4 address or CIDR range with no host bits "
     'set, got "203.0.113.300"'),
    (lambda r: r["bootstrap:access"].pop("deployment"),
     "bootstrap:access.deployment: required key is missing"),
    (lambda r: r["bootstrap:storage"].update(versioning=True),
     "bootstrap:storage.versioning: unknown key (allowed: replication, softDeleteDays, deleteOldVersionsAfterDays)"),
    (lambda r: r.update({"bootstrap:backend": {}}),
     "bootstrap:backend: unknown key (allowed: azure, names, storage, keyVault, network, access, diagnostics, "
     "protection, tags)"),
    (lambda r: r["bootstrap:access"]["platformOwners"].update(type="User"),
     'bootstrap:access.platformOwners: must be an Entra group (type Group): access goes to a group, not a person, '
     'got {"objectId": "00000000-0000-0000-0000-00000000a001", "type": "User"}'),
    (lambda r: r["bootstrap:keyVault"].update(sku="standard"),
     'bootstrap:keyVault.keyType: HSM-protected keys need the premium SKU (keyVault.sku: premium), got "RSA-HSM"'),
    (lambda r: r["bootstrap:keyVault"].update(keyExpiry="P20D"),
     'bootstrap:keyVault.keyExpiry: Key Vault rotation policies need an expiry of at least 28 days, got "P20D"'),
    (lambda r: r["bootstrap:keyVault"].update(keySize=2048),
     "bootstrap:keyVault.keySize: must be one of 3072 or 4096, got 2048"),
    (lambda r: r["bootstrap:network"].update(allowedIpRanges=[]),
     "bootstrap:network.allowedIpRanges: public mode needs the public IP ranges of the machines that run pulumi "
     "(operators, CI runners); everything else is denied, got []"),
    (lambda r: r["bootstrap:network"].update(mode="private", allowedIpRanges=[]),
     "bootstrap:network.privateEndpointSubnetId: private mode needs the subnet for the blob and vault private "
     "endpoints, got null"),
    (lambda r: (private(r), r["bootstrap:network"].update(
        privateEndpointSubnetId=SUBNET.replace(SUB, "11111111-1111-1111-1111-111111111111"))),
     "bootstrap:network.privateEndpointSubnetId: a private endpoint lives in its virtual network's subscription: "
     f"the subnet must be in azure.subscriptionId ({SUB}), got "
     f'"{SUBNET.replace(SUB, "11111111-1111-1111-1111-111111111111")}"'),
    (lambda r: r.update({"bootstrap:names": {"secure": "AAABAx"}}),
     "bootstrap:names: must not be a secret: the bootstrap takes plain values only"),
])
def test_each_rule_fails_with_one_line(edit, line):
    message = error(edited(edit))
    assert message == f"{FILE}: {line}"
    assert "\n" not in message


def test_other_namespaces_are_left_alone():
    cfg = bconfig.parse(edited(lambda r: r.update({"azure-native:location": "westeurope"})), FILE)
    assert cfg.azure.location == "westeurope"


def test_a_bad_file_name_or_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(ConfigError, match="no such stack file"):
        bconfig.load(tmp_path / "Pulumi.state.yaml")
    other = tmp_path / "bootstrap.yaml"
    other.write_text((ROOT / FILE).read_text())
    with pytest.raises(ConfigError, match=r"a bootstrap stack file is named Pulumi.<stack>.yaml"):
        bconfig.load(other)


# ---- the plan ----------------------------------------------------------------


def test_the_plan_declares_exactly_the_backend():
    _, plan = shipped()
    found = sorted((r.type.split(":", 1)[1], r.physical_name) for r in plan.custom())
    assert found == sorted([
        ("resources:ResourceGroup", "rg-contoso-pulumi-state"),
        ("storage:StorageAccount", "stcontosopulumistate"),
        ("storage:BlobServiceProperties", "stcontosopulumistate/default"),
        ("storage:BlobContainer", "stcontosopulumistate/default/state"),
        ("keyvault:Vault", "kv-contoso-pulumi-state"),
        ("keyvault:Key", "kv-contoso-pulumi-state/pulumi-state"),
        ("authorization:ManagementLockByScope", "lock-state-storage"),
        ("authorization:ManagementLockByScope", "lock-state-keyvault"),
        *[("authorization:RoleAssignment", stable_guid(scope, who, role))
          for scope, role in ((CONTAINER_ID, BLOB_DATA_CONTRIBUTOR), (KEY_ID, KEY_VAULT_CRYPTO_USER))
          for who in (DEPLOYMENT, OWNERS)],
    ])
    provider = plan.one("pulumi:providers:azure-native")
    assert provider.inputs["subscriptionId"] == SUB and provider.inputs["location"] == "westeurope"


def test_the_plan_is_deterministic():
    cfg, raw = bconfig.load(ROOT / FILE)
    assert bplan.plan(cfg, raw).to_json() == shipped()[1].to_json()


def test_state_storage_is_entra_only_and_firewalled():
    a = one(shipped()[1], "storage:StorageAccount").inputs
    assert a["allowSharedKeyAccess"] is False and a["defaultToOAuthAuthentication"] is True
    assert a["minimumTlsVersion"] == "TLS1_2" and a["enableHttpsTrafficOnly"] is True
    assert a["allowBlobPublicAccess"] is False and a["allowCrossTenantReplication"] is False
    assert a["isLocalUserEnabled"] is False and a["isSftpEnabled"] is False and a["allowedCopyScope"] == "AAD"
    assert a["isHnsEnabled"] is False  # blob versioning needs a flat namespace
    assert a["kind"] == "StorageV2" and a["sku"] == {"name": "Standard_GZRS"}
    assert a["publicNetworkAccess"] == "Enabled"
    assert a["networkRuleSet"] == {
        "defaultAction": "Deny", "bypass": "AzureServices",
        "ipRules": [{"iPAddressOrRange": "203.0.113.0/24", "action": "Allow"},
                    {"iPAddressOrRange": "198.51.100.7", "action": "Allow"}],
    }
    assert a["encryption"]["requireInfrastructureEncryption"] is True


def test_state_history_versioning_soft_delete_and_a_private_container():
    plan = shipped()[1]
    blob = one(plan, "storage:BlobServiceProperties").inputs
    assert blob["isVersioningEnabled"] is True
    assert blob["deleteRetentionPolicy"] == {"enabled": True, "days": 30}
    assert blob["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 30}
    container = one(plan, "storage:BlobContainer")
    assert container.inputs["containerName"] == "state" and container.inputs["publicAccess"] == "None"
    assert container.id == CONTAINER_ID


def test_vault_is_rbac_with_purge_protection_and_the_key_does_only_encrypt_decrypt():
    plan = shipped()[1]
    v = one(plan, "keyvault:Vault").inputs["properties"]
    assert v["enableRbacAuthorization"] is True and v["enablePurgeProtection"] is True
    assert v["enableSoftDelete"] is True and v["softDeleteRetentionInDays"] == 90
    assert v["sku"] == {"family": "A", "name": "premium"}
    assert v["publicNetworkAccess"] == "Enabled"
    assert v["networkAcls"]["defaultAction"] == "Deny"
    assert [r["value"] for r in v["networkAcls"]["ipRules"]] == ["203.0.113.0/24", "198.51.100.7"]
    key = one(plan, "keyvault:Key")
    k = key.inputs["properties"]
    assert key.id == KEY_ID
    assert k["kty"] == "RSA-HSM" and k["keySize"] == 3072
    assert k["keyOps"] == ["encrypt", "decrypt"]  # what Pulumi's azurekeyvault provider calls
    assert k["attributes"] == {"enabled": True, "exportable": False}
    # No automatic rotation (stacks pin a key version); rotated versions expire, with a warning first.
    assert k["rotationPolicy"] == {
        "attributes": {"expiryTime": "P2Y"},
        "lifetimeActions": [{"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}}],
    }


def test_role_assignments_are_data_roles_on_the_container_and_the_key():
    plan = shipped()[1]
    got = sorted(
        (r.inputs["scope"], r.inputs["roleDefinitionId"].rsplit("/", 1)[-1], r.inputs["principalId"],
         r.inputs["principalType"], r.inputs["roleAssignmentName"])
        for r in plan.of_type("azure-native:authorization:RoleAssignment")
    )
    expected = sorted(
        (scope, role, who, kind, stable_guid(scope, who, role))
        for scope, role in ((CONTAINER_ID, BLOB_DATA_CONTRIBUTOR), (KEY_ID, KEY_VAULT_CRYPTO_USER))
        for who, kind in ((DEPLOYMENT, "ServicePrincipal"), (OWNERS, "Group"))
    )
    assert got == expected
    for r in plan.of_type("azure-native:authorization:RoleAssignment"):
        assert r.inputs["roleDefinitionId"].startswith(f"/subscriptions/{SUB}/providers/Microsoft.Authorization/")


def test_a_preview_principal_reads_state_and_decrypts():
    preview = "00000000-0000-0000-0000-00000000a003"
    _, plan = plan_of(edited(lambda r: r["bootstrap:access"].update(
        preview={"objectId": preview, "type": "ServicePrincipal"})))
    got = sorted((r.inputs["scope"], r.inputs["roleDefinitionId"].rsplit("/", 1)[-1])
                 for r in plan.of_type("azure-native:authorization:RoleAssignment") if r.inputs["principalId"] == preview)
    assert got == sorted([(CONTAINER_ID, BLOB_DATA_READER), (KEY_ID, KEY_VAULT_CRYPTO_USER)])
    assert len(plan.of_type("azure-native:authorization:RoleAssignment")) == 6


def test_one_principal_gets_one_set_of_roles():
    assert error(edited(lambda r: r["bootstrap:access"].update(
        preview={"objectId": DEPLOYMENT, "type": "ServicePrincipal"}))) == (
        f"{FILE}: bootstrap:access.preview.objectId: must differ from deployment.objectId (each principal gets one "
        f'set of roles), got "{DEPLOYMENT}"')


def test_locks_and_protect_keep_the_backend():
    plan = shipped()[1]
    locks = {r.inputs["scope"]: r.inputs["level"] for r in plan.of_type("azure-native:authorization:ManagementLockByScope")}
    assert locks == {ACCOUNT_ID: "CanNotDelete", VAULT_ID: "CanNotDelete"}
    protected = sorted(r.physical_name for r in plan.custom() if r.protect)
    assert protected == ["kv-contoso-pulumi-state", "kv-contoso-pulumi-state/pulumi-state", "rg-contoso-pulumi-state",
                         "stcontosopulumistate", "stcontosopulumistate/default/state"]
    _, off = plan_of(edited(lambda r: r.update({"bootstrap:protection": {"locks": False, "protect": False}})))
    assert not off.of_type("azure-native:authorization:ManagementLockByScope")
    assert not [r for r in off.custom() if r.protect]


def test_outputs_name_the_backend():
    out = shipped()[1].outputs
    assert out["backendUrl"] == "azblob://state?storage_account=stcontosopulumistate"
    assert out["keyId"] == "https://kv-contoso-pulumi-state.vault.azure.net/keys/pulumi-state"
    assert out["storageAccountName"] == "stcontosopulumistate" and out["keyVaultName"] == "kv-contoso-pulumi-state"
    # The versioned provider URL names the key version Azure creates (the emulator's stands in for it).
    assert re.fullmatch(r"azurekeyvault://kv-contoso-pulumi-state\.vault\.azure\.net/keys/pulumi-state/[0-9a-f]{32}",
                        out["secretsProvider"])


def test_private_mode_disables_public_access_and_adds_both_endpoints():
    cfg, plan = plan_of(edited(private))
    assert one(plan, "storage:StorageAccount").inputs["publicNetworkAccess"] == "Disabled"
    assert one(plan, "keyvault:Vault").inputs["properties"]["publicNetworkAccess"] == "Disabled"
    endpoints = {r.physical_name: r.inputs for r in plan.of_type("azure-native:network:PrivateEndpoint")}
    assert sorted(endpoints) == ["pe-kv-contoso-pulumi-state-vault", "pe-stcontosopulumistate-blob"]
    for inputs in endpoints.values():
        assert inputs["subnet"]["id"] == SUBNET
    zones = sorted(c["privateDnsZoneId"].rsplit("/", 1)[-1]
                   for g in plan.of_type("azure-native:network:PrivateDnsZoneGroup")
                   for c in g.inputs["privateDnsZoneConfigs"])
    assert zones == sorted(bconfig.PRIVATE_ZONES)
    template = arm.render(plan, bplan.skips(cfg))
    # Only the two decisions that do not depend on the network mode remain: Microsoft-managed keys for the
    # state account, and no automatic rotation of the secrets key.
    assert sorted(line.split(":")[1] for r in template["resources"] for line in r.get("metadata", {}).get("checkov", [])
                  ) == ["skip=CKV_AMLP_34", "skip=CKV_AMLP_38"]


def test_diagnostics_send_blob_and_vault_logs_to_log_analytics():
    _, plan = plan_of(edited(lambda r: r.update({"bootstrap:diagnostics": {"logAnalyticsWorkspaceId": LOG}})))
    diag = {r.inputs["resourceUri"]: r.inputs for r in plan.of_type("azure-native:monitor:DiagnosticSetting")}
    assert sorted(diag) == sorted([ACCOUNT_ID, f"{ACCOUNT_ID}/blobServices/default", VAULT_ID])
    assert all(d["workspaceId"] == LOG for d in diag.values())
    assert "logs" not in diag[ACCOUNT_ID] and diag[VAULT_ID]["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]


def test_old_versions_lifecycle_rule():
    assert "azure-native:storage:ManagementPolicy" in arm_types.TYPES
    cfg, plan = plan_of(edited(lambda r: r["bootstrap:storage"].update(deleteOldVersionsAfterDays=90)))
    policy = one(plan, "storage:ManagementPolicy")
    assert policy.physical_name == "stcontosopulumistate/default"
    rule = policy.inputs["policy"]["rules"][0]
    assert rule["definition"] == {
        "actions": {"version": {"delete": {"daysAfterCreationGreaterThan": 90}}},
        "filters": {"blobTypes": ["blockBlob"], "prefixMatch": ["state/"]},
    }
    rendered = arm_resource(arm.render(plan, bplan.skips(cfg)), "Microsoft.Storage/storageAccounts/managementPolicies")
    assert rendered["properties"]["policy"]["rules"][0]["enabled"] is True


def arm_resource(template: dict[str, Any], arm_type: str) -> dict[str, Any]:
    found = [r for r in template["resources"] if r["type"] == arm_type]
    assert len(found) == 1, found
    return found[0]


# ---- checkov -----------------------------------------------------------------


def test_checkov_passes_with_only_the_public_mode_relaxations(tmp_path):
    cfg, plan = shipped()
    path = tmp_path / "template.json"
    path.write_text(arm.to_json(arm.render(plan, bplan.skips(cfg))))
    result = checkov_gate.run(path, tmp_path)
    assert result.verdict() == "PASS", [(f.check_id, f.resource) for f in result.failures]
    assert result.failed == 0 and result.parsing_errors == 0 and result.resource_count == 12
    assert sorted((f.check_id, f.resource) for f in result.skips) == [
        ("CKV2_AMLP_2", "Microsoft.Storage/storageAccounts.stcontosopulumistate"),
        ("CKV2_AMLP_3", "Microsoft.KeyVault/vaults.kv-contoso-pulumi-state"),
        ("CKV_AMLP_34", "Microsoft.Storage/storageAccounts.stcontosopulumistate"),
        ("CKV_AMLP_38", "Microsoft.KeyVault/vaults/keys.kv-contoso-pulumi-state/pulumi-state"),
        ("CKV_AZURE_59", "Microsoft.Storage/storageAccounts.stcontosopulumistate"),
    ]
    passed = {f.check_id for f in result.passes}
    # Shared keys off, blob soft delete, RBAC vault, purge protection, HSM key, key expiry, typed grants.
    assert {"CKV_AMLP_4", "CKV_AMLP_5", "CKV_AMLP_6", "CKV_AZURE_110", "CKV_AZURE_112", "CKV_AZURE_40",
            "CKV_AMLP_9", "CKV_AZURE_44", "CKV_AZURE_35", "CKV_AZURE_34"} <= passed


def test_checkov_without_the_skips_fails_on_the_public_endpoint(tmp_path):
    cfg, plan = shipped()
    path = tmp_path / "template.json"
    path.write_text(arm.to_json(arm.render(plan)))
    result = checkov_gate.run(path, tmp_path)
    assert sorted(f.check_id for f in result.failures) == ["CKV2_AMLP_2", "CKV2_AMLP_3", "CKV_AMLP_34", "CKV_AMLP_38",
                                                           "CKV_AZURE_59"]


# ---- under the pulumi CLI ----------------------------------------------------


def run_entry(raw: dict[str, Any]) -> engine.Plan:
    return engine.run(lambda: runpy.run_path(str(ROOT / "state-backend"), run_name="__main__"), "state", raw,
                      subscription_id=SUB, project=bplan.PROJECT)


def test_the_project_entry_point_builds_the_same_plan():
    assert run_entry(raw_file()).to_json() == shipped()[1].to_json()


def test_a_mistake_under_pulumi_is_a_run_error():
    with pytest.raises(pulumi.RunError) as exc:
        run_entry(edited(lambda r: r["bootstrap:access"].pop("deployment")))
    assert str(exc.value) == f"{FILE}: bootstrap:access.deployment: required key is missing"


def test_the_project_uses_the_repository_virtualenv_and_package():
    project = yaml.safe_load((ROOT / "state-backend" / "Pulumi.yaml").read_text())
    assert project["name"] == bplan.PROJECT and "main" not in project
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "../.venv"}}
    lines = [x for x in (ROOT / "state-backend" / "requirements.txt").read_text().splitlines()
             if x and not x.startswith("#")]
    assert lines == ["-e .."]


# ---- the CLI -----------------------------------------------------------------


@pytest.fixture()
def repo(tmp_path) -> Path:
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    (tmp_path / "state-backend").mkdir()
    shutil.copy(ROOT / FILE, tmp_path / FILE)
    return tmp_path


def test_cli_plans_writes_reports_and_prints_the_commands(repo, capsys):
    code = cli.main(["--root", str(repo), "bootstrap", "plan"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "12 Azure resources" in out and "checkov: PASS (22 passed, 0 failed, 5 skipped)" in out
    assert sorted(p.name for p in (repo / "out" / "bootstrap").iterdir()) == [
        "checkov.json", "checkov.sarif", "checkov.xml", "plan.json", "template.json"]
    assert not [p for p in (repo / "out").iterdir() if p.name.startswith(".")]
    assert "  pulumi login 'azblob://state?storage_account=stcontosopulumistate'" in out
    assert ("  KEY_VERSION=$(az keyvault key show --vault-name kv-contoso-pulumi-state --name pulumi-state "
            "--query key.kid -o tsv | cut -d/ -f6)") in out
    assert "  PULUMI_STATE_ACCOUNT=stcontosopulumistate PULUMI_STATE_CONTAINER=state" in out
    for stack in ("dev", "staging", "prod"):
        assert (f'  pulumi stack init {stack} --secrets-provider '
                f'"azurekeyvault://kv-contoso-pulumi-state.vault.azure.net/keys/pulumi-state/${{KEY_VERSION}}"') in out
    plan = json.loads((repo / "out" / "bootstrap" / "plan.json").read_text())
    assert plan["project"] == "amlplatform-bootstrap" and plan["stack"] == "state"


def test_cli_config_option_and_bad_input_exit_2_with_one_line(repo, capsys):
    bad = repo / "elsewhere" / "Pulumi.state.yaml"
    bad.parent.mkdir()
    bad.write_text((ROOT / FILE).read_text().replace("storageAccount: stcontosopulumistate",
                                                     "storageAccount: st-contoso"))
    code = cli.main(["--root", str(repo), "bootstrap", "plan", "--config", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().endswith('bootstrap:names.storageAccount: must be lowercase letters and digits (ARM storage '
                                'account name rule), got "st-contoso"')
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (repo / "out").exists()


def test_cli_missing_file_and_bad_arguments_exit_2_without_traceback(repo):
    proc = subprocess.run([sys.executable, "-m", "infra.cli.main", "--root", str(repo), "bootstrap", "plan", "--config",
                           str(repo / "nope" / "Pulumi.state.yaml")], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "no such stack file" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "infra.cli.main", "bootstrap", "plan", "--nope"], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 2 and "unrecognized arguments: --nope" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_exits_1_when_a_check_fails(repo, capsys, monkeypatch):
    monkeypatch.setattr(bplan, "skips", lambda cfg: (lambda res: []))
    assert cli.main(["--root", str(repo), "bootstrap", "plan"]) == 1
    assert "checkov: FAIL: 5 failed check(s)" in capsys.readouterr().out


def test_cli_exits_3_without_checkov(repo, capsys, monkeypatch):
    monkeypatch.setenv("CHECKOV_BIN", str(repo / "no-such-checkov"))
    assert cli.main(["--root", str(repo), "bootstrap", "plan"]) == 3
    assert "cannot run checkov" in capsys.readouterr().err
    assert not (repo / "out" / "bootstrap").exists()
