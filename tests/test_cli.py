"""The CLI: a full plan writes its reports; user mistakes get one line, exit 2, nothing written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.cli import main as cli
from infra.offline import checkov_gate
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
    # 42, the compute instance identity with its four grants (instances are on in dev), and the link to the
    # organisation's registry: two Reader grants, three managed-network rules.
    assert "checkov: PASS" in out and "52 Azure resources" in out
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
    assert "no stack 'qa': stacks/Pulumi.qa.yaml does not exist (stacks: dev, prod, registry, staging)" in capsys.readouterr().err


def test_bad_arguments_exit_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "infra.cli.main", "plan", "--nope"], capture_output=True, text=True,
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


HEAVY = ("pulumi", "pulumi_azure_native", "azure.ai.ml", "checkov")
_REFUSE = """
import json, sys
from infra.cli import main as cli
from infra.offline import checkov_gate
code = cli.main(sys.argv[1:])
print(json.dumps([code, [m for m in {heavy!r} if m in sys.modules]]))
"""


@pytest.mark.parametrize("argv", [
    ["plan", "dev"], ["plan", "--all"], ["check", "dev"], ["diff", "dev", "prod"],
    ["onboard", "--team", "fraud", "--env", "dev", "--readers", "00000000-0000-0000-0000-0000000000f1", "--dry-run"],
], ids=lambda a: a[0] + ("-all" if "--all" in a else ""))
def test_a_bad_stack_is_refused_before_pulumi_azure_ml_or_checkov_load(repo, argv):
    path = repo / "stacks" / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("prefix: contoso", 'prefix: "Contoso-ML!"'))
    out = ["--out", str(repo / "out")] if argv[0] == "plan" else []
    proc = subprocess.run([sys.executable, "-c", _REFUSE.format(heavy=HEAVY), "--root", str(repo), *argv, *out],
                          capture_output=True, text=True, cwd=ROOT)
    code, loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert code == 2, proc.stderr
    assert "amlplatform:platform.prefix: must be 2-10 lowercase letters or digits" in proc.stderr
    assert loaded == []
    assert not (repo / "out").exists()


@pytest.mark.parametrize("argv, line", [
    (["promote", "credit-default-model", "--to", "prod"],
     "promote: 'credit-default-model': write NAME@VERSION, for example credit-default-model@2"),
    (["verify", "registry"], "amlplatform:platform.subscriptionId: verify needs the stack's subscription"),
], ids=["promote", "verify-registry"])
def test_promote_and_verify_refuse_bad_input_before_azure_ml_loads(repo, argv, line):
    shutil.copytree(ROOT / "assets", repo / "assets")
    proc = subprocess.run([sys.executable, "-c", _REFUSE.format(heavy=HEAVY), "--root", str(repo), *argv],
                          capture_output=True, text=True, cwd=ROOT)
    code, loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert code == 2, proc.stderr
    assert line in proc.stderr and "Traceback" not in proc.stderr
    assert loaded == []


def _per_stack(out: Path, stack: str) -> dict[str, object]:
    folder = out / stack
    files = {name: (folder / name).read_text() for name in ("plan.json", "template.json", "rules.json", "azure.json",
                                                           "report.md")}
    report = json.loads((folder / "checkov.json").read_text())
    result = checkov_gate.parse_report(report)
    findings = {kind: sorted((f.check_id, f.resource, Path(f.file).name) for f in getattr(result, kind))
                for kind in ("failures", "skips", "passes")}
    return {"files": files, "summary": report["summary"], "findings": findings}


@pytest.mark.slow
def test_plan_all_scans_every_stack_in_one_checkov_process_with_single_stack_results(repo, capsys, monkeypatch,
                                                                                     checkov_tool):
    started = []
    real_init = checkov_gate._Worker.__init__

    def counting_init(self, *args):
        started.append(args)
        real_init(self, *args)

    monkeypatch.setattr(checkov_gate._Worker, "__init__", counting_init)
    checkov_gate.close()
    assert cli.main(["--root", str(repo), "plan", "--all", "--out", str(repo / "all")]) == 0
    together = capsys.readouterr().out
    assert len(started) == 1
    assert [line.split()[2] for line in together.splitlines() if line.startswith("amlplatform plan ")] == \
        ["dev", "prod", "staging", "registry"]  # platform stacks by name, then the registry stack
    for stack in ("dev", "prod", "registry", "staging"):
        checkov_gate.close()  # a single-stack run has a checkov process of its own
        assert cli.main(["--root", str(repo), "plan", stack, "--out", str(repo / "one")]) == 0
        alone = capsys.readouterr().out
        assert _per_stack(repo / "all", stack) == _per_stack(repo / "one", stack)
        assert alone.replace(str(repo / "one"), "OUT") in together.replace(str(repo / "all"), "OUT")


def test_a_stack_failing_its_program_stops_the_run_after_reporting_the_ones_before(repo, capsys, monkeypatch,
                                                                                    checkov_tool):
    from infra.offline import stack as offline_stack
    from infra.offline.arm_types import UnmappedError

    real = offline_stack.plan_stack

    def failing_prod(cfg, raw):
        if cfg.stack == "prod":
            raise UnmappedError("azure-native:network:BastionHost: no ARM mapping")
        return real(cfg, raw)

    monkeypatch.setattr(offline_stack, "plan_stack", failing_prod)
    code = cli.main(["--root", str(repo), "plan", "--all", "--out", str(repo / "out")])
    captured = capsys.readouterr()
    assert code == 2
    assert "amlplatform plan dev" in captured.out and "amlplatform plan staging" not in captured.out
    assert captured.err.strip() == "error: azure-native:network:BastionHost: no ARM mapping"
    # dev is whole; no staging folder is left behind, for prod or anyone
    assert sorted(p.name for p in (repo / "out").iterdir()) == ["dev"]
    assert len(list((repo / "out" / "dev").iterdir())) == 8
