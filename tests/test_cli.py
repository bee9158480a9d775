"""The CLI: a full plan writes its reports; user mistakes get one line, exit 2, nothing written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra import cli
from tests.conftest import ROOT


@pytest.fixture()
def repo(tmp_path) -> Path:
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    return tmp_path


def test_plan_dev_writes_every_report_and_passes(repo, capsys):
    code = cli.main(["--root", str(repo), "plan", "dev", "--out", str(repo / "out")])
    out = capsys.readouterr().out
    assert code == 0, out
    files = sorted(p.name for p in (repo / "out" / "dev").iterdir())
    assert files == ["azure.json", "checkov.json", "checkov.sarif", "checkov.xml", "plan.json", "report.md", "rules.json",
                     "template.json"]
    assert "platform rules: PASS" in out and "azure rules: PASS" in out
    # 42, and the compute instance identity with its four grants (instances are on in dev).
    assert "checkov: PASS" in out and "47 Azure resources" in out
    report = (repo / "out" / "dev" / "report.md").read_text()
    assert "```mermaid\nflowchart LR" in report and "CKV_AZURE_206" in report
    plan = json.loads((repo / "out" / "dev" / "plan.json").read_text())
    assert plan["stack"] == "dev" and plan["outputs"]["workspaceName"] == "mlw-contoso-dev"
    assert not [p for p in (repo / "out").iterdir() if p.name.startswith(".")]


def test_bad_config_exits_2_with_one_line_and_writes_nothing(repo, capsys):
    path = repo / "stacks" / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("prefix: contoso", 'prefix: "Contoso-ML!"'))
    code = cli.main(["--root", str(repo), "plan", "dev", "--out", str(repo / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().endswith(
        'amlplatform:platform.prefix: must be 2-10 lowercase letters or digits, got "Contoso-ML!"'
    )
    assert "Traceback" not in err
    assert not (repo / "out").exists()


def test_unknown_stack_is_a_user_error(repo, capsys):
    assert cli.main(["--root", str(repo), "plan", "qa"]) == 2
    assert "no stack 'qa': stacks/Pulumi.qa.yaml does not exist (stacks: dev, prod, staging)" in capsys.readouterr().err


def test_bad_arguments_exit_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "infra.cli", "plan", "--nope"], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 2
    assert "unrecognized arguments: --nope" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_checkov_exits_3(repo, capsys, monkeypatch):
    monkeypatch.setenv("CHECKOV_BIN", str(repo / "no-such-checkov"))
    code = cli.main(["--root", str(repo), "plan", "dev", "--out", str(repo / "out")])
    assert code == 3
    err = capsys.readouterr().err
    assert "cannot run checkov" in err and "Traceback" not in err
    assert not (repo / "out" / "dev").exists()
