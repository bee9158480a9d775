"""`amlplatform check`, `scan --preview` and `diff`: real verdicts, clear errors, nothing half-written."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from infra.cli import main as cli
from infra.offline import diff as stack_diff
from infra.offline import preview

from .conftest import ROOT, stack_plan

FIXTURE = ROOT / "tests" / "fixtures" / "preview" / "storage-change.json"


@pytest.fixture()
def repo(tmp_path) -> Path:
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    return tmp_path


def test_preview_reader_keeps_what_will_exist():
    result = preview.load(FIXTURE)
    names = sorted(r.name for r in result.plan.custom())
    # The deleted container is gone; the stack resource is not an Azure resource.
    assert names == ["model-ui", "rg", "someone-owner", "storage-account", "storage-pe-blob",
                     "workspace-contributor-storage", "workspace-identity-uai"]
    assert result.ops == {"create": 5, "delete": 1, "same": 2, "update": 1}
    assert result.plan.stack == "prod" and result.plan.subscription_id == "5f1c2a9e-0d6b-4c43-9a5e-3c2f8b7d1e44"
    assert result.unmapped == {"azure-native:web:WebApp": ["urn:pulumi:prod::amlplatform::azure-native:web:WebApp::"
                                                           "model-ui"]}
    # A resource still to be created gets the ID Azure will give it, so dependsOn can point at it.
    uai = next(r for r in result.plan.custom() if r.name == "workspace-identity-uai")
    assert uai.id == ("/subscriptions/5f1c2a9e-0d6b-4c43-9a5e-3c2f8b7d1e44/resourceGroups/rg-acme-prd/providers/"
                      "Microsoft.ManagedIdentity/userAssignedIdentities/id-acme-prd-workspace")
    # Secrets stay masked.
    app = next(r for r in result.plan.custom() if r.name == "model-ui")
    assert app.inputs["siteConfig"]["appSettings"][0]["value"] == "[secret]"


def test_scan_finds_the_drift_and_reports_unmapped_types(repo, capsys):
    code = cli.main(["--root", str(repo), "scan", "--preview", str(FIXTURE), "--out", str(repo / "out")])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "FAILED  CKV_AMLP_4 Microsoft.Storage/storageAccounts.stacmeprd7x2k9" in out
    assert "VIOLATION storage-no-shared-key storage-account" in out
    assert "VIOLATION rbac-privileged-roles someone-owner: Owner on" in out
    # The workspace identity's Contributor grant is recognised although its principal is unknown.
    assert "workspace-contributor-storage" not in out
    assert "not scanned by checkov (no ARM mapping): azure-native:web:WebApp x1: model-ui" in out
    folder = repo / "out" / "scan-prod"
    assert json.loads((folder / "unmapped.json").read_text()) == {
        "azure-native:web:WebApp": ["urn:pulumi:prod::amlplatform::azure-native:web:WebApp::model-ui"]}
    template = json.loads((folder / "template.json").read_text())
    pe = next(r for r in template["resources"] if r["type"] == "Microsoft.Network/privateEndpoints")
    assert pe["dependsOn"] == ["/subscriptions/5f1c2a9e-0d6b-4c43-9a5e-3c2f8b7d1e44/resourceGroups/rg-acme-prd/"
                               "providers/Microsoft.Storage/storageAccounts/stacmeprd7x2k9"]
    checkov = json.loads((folder / "checkov.json").read_text())
    failed = checkov["results"]["failed_checks"] if isinstance(checkov, dict) else checkov[0]["results"][
        "failed_checks"]
    assert [f["check_id"] for f in failed] == ["CKV_AMLP_4"]


def test_scan_takes_the_registry_stacks_facts(repo, capsys):
    # deploy.yml scans the registry stack's preview with its own config: prod's governance, no relaxations.
    code = cli.main(["--root", str(repo), "scan", "--preview", str(FIXTURE), "--stack", "registry", "--out",
                     str(repo / "out")])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "FAILED  CKV_AMLP_4 Microsoft.Storage/storageAccounts.stacmeprd7x2k9" in out
    assert "VIOLATION storage-no-shared-key storage-account" in out and "0 skipped with reasons" in out
    assert (repo / "out" / "scan-registry" / "checkov.json").is_file()


def test_scan_of_a_clean_preview_passes(repo, tmp_path, capsys):
    doc = json.loads(FIXTURE.read_text())
    doc["steps"] = [s for s in doc["steps"] if not s["urn"].endswith(("::someone-owner", "::model-ui"))]
    storage = next(s for s in doc["steps"] if s["urn"].endswith("::storage-account"))
    storage["newState"]["inputs"]["allowSharedKeyAccess"] = False
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(doc))
    assert cli.main(["--root", str(repo), "scan", "--preview", str(clean), "--out", str(repo / "out")]) == 0, \
        capsys.readouterr().out


@pytest.mark.parametrize("content,message", [
    ("not json", "not JSON"),
    ('{"changeSummary": {}}', "no `steps` list"),
    ('{"steps": [{"op": "create"}]}', "steps[0] has no `urn`"),
])
def test_scan_bad_input_is_a_user_error(repo, tmp_path, capsys, content, message):
    bad = tmp_path / "preview.json"
    bad.write_text(content)
    assert cli.main(["--root", str(repo), "scan", "--preview", str(bad), "--out", str(repo / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: {message}" in err and "pulumi preview --json" in err and "Traceback" not in err
    assert not (repo / "out").exists()


def test_scan_unknown_stack_named_explicitly(repo, capsys):
    assert cli.main(["--root", str(repo), "scan", "--preview", str(FIXTURE), "--stack", "qa"]) == 2
    assert "no stack 'qa'" in capsys.readouterr().err


def test_check_exit_codes_follow_enforcement(repo, capsys):
    assert cli.main(["--root", str(repo), "check", "dev"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("amlplatform check dev: PASS with 6 advisory finding(s)")
    assert "advisory  public-network-access workspace-mlw" in out
    assert cli.main(["--root", str(repo), "check", "prod"]) == 0
    # 36 rules, issue 16's endpoint-not-public, deployment-private-egress, ml-registry-not-public, and the six
    # customer-managed key rules (policies/rules/encryption.py).
    assert "PASS  (45 rules" in capsys.readouterr().out
    # Prod with unprotected state: mandatory, so the check fails.
    path = repo / "stacks" / "Pulumi.prod.yaml"
    text = path.read_text()
    assert "    locks: true\n    protect: true\n" in text
    path.write_text(text.replace("    locks: true\n    protect: true\n", "    locks: true\n    protect: false\n"))
    assert cli.main(["--root", str(repo), "check", "prod"]) == 1
    out = capsys.readouterr().out
    assert "mandatory protect-stateful storage-account" in out


def test_check_writes_policy_config(repo, capsys):
    assert cli.main(["--root", str(repo), "check", "staging", "--write-policy-config"]) == 0
    written = json.loads((repo / "policies" / "config" / "staging.json").read_text())
    assert written == json.loads((ROOT / "policies" / "config" / "staging.json").read_text())


def test_diff_pairs_resources_and_hides_names():
    result = stack_diff.diff(stack_plan("staging"), stack_plan("prod"))
    assert result.only_a == []
    assert ("Compute", "compute-cluster-gpu-cluster") in result.only_b
    # Staging ingests through a monitor private link scope as prod does.
    assert ("PrivateLinkScope", "monitor-link-ampls") not in result.only_b
    changed = {(t, n, p): (a, b) for t, n, p, a, b in result.changed}
    assert changed[("Compute", "compute-cluster-cpu-cluster", "properties.properties.scaleSettings.maxNodeCount")] \
        == (4, 10)
    assert changed[("StorageAccount", "storage-account", "sku.name")] == ("Standard_ZRS", "Standard_GZRS")
    assert changed[("ManagedCluster", "inference-aks", "agentPoolProfiles[system].count")] == (2, 3)
    # Names and IDs differ by design and are not reported.
    assert not [k for k in changed if k[2] in ("accountName", "scope", "vaultName", "resourceGroupName")]


def test_diff_cli_table_and_json(repo, capsys):
    assert cli.main(["--root", str(repo), "diff", "dev", "staging"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("amlplatform diff dev staging:")
    assert re.search(r"\n  11 resources +tags\.environment +dev +staging\n", out)
    assert "principalId" not in out  # identities' IDs differ by design
    assert cli.main(["--root", str(repo), "diff", "dev", "staging", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # Only dev's managed VNet needs rules to its public-with-firewall stores, to the organisation's registry (staging
    # has private endpoints in its VNet instead) and the lake's approver grant; only dev has compute instances on, so
    # only dev has their identity (with its four grants).
    assert data["a"] == "dev" and data["b"] == "staging"
    assert sorted(map(tuple, data["onlyIn"]["dev"])) == sorted(
        [("ManagedNetworkSettingsRule", f"workspace-rule-pe-{r}")
         for r in ("lake-blob", "lake-dfs", "storage-blob", "storage-file", "vault", "mlregistry", "mlregistry-blob",
                   "mlregistry-acr")]
        + [("RoleAssignment", "datalake-ra-workspace-pe-approver")]
        + [("UserAssignedIdentity", "instance-identity-uai")]
        + [("RoleAssignment", f"{where}-ra-instance-{role}") for where, role in (
            ("keyvault", "secrets-user"), ("registry", "acr-pull"), ("storage", "blob-data"),
            ("workspace", "contributor"))])
    assert cli.main(["--root", str(repo), "diff", "dev", "qa"]) == 2
    assert "no stack 'qa'" in capsys.readouterr().err
