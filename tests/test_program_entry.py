"""The program runs as the Pulumi engine launches it, and plans what `amlplatform plan` plans.

Each stack is launched in a fresh process exactly as the engine and the Python language host
would (tests/pulumi_launch.py: the working directory and entry point from Pulumi.yaml, the
virtualenv, the executor's arguments, config only through PULUMI_CONFIG), with the offline
emulator standing in for Azure (tests/harness/program_host.py); its resources must be the offline
plan's, resource for resource.
"""

from __future__ import annotations

import copy
import json
import os
import runpy
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from infra.config import stack as config

from infra.cli import onboarding
from infra.offline import engine
from infra.offline import stack as offline_stack
from infra.offline.emulator import OFFLINE_SUBSCRIPTION
from tests.conftest import ROOT, STACKS, raw_stack
from tests.pulumi_launch import engine_config, launch, program_command, venv_env

TEAM = onboarding.TeamSpec(
    name="fraud",
    roles={"dataScientists": [{"objectId": "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d01", "type": "Group"}]},
    members=["1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d02"],
    containers=["fraud-raw", "fraud-curated"],
)


def onboarded_raw(tmp: Path, stack: str) -> dict[str, Any]:
    """The stack file after `amlplatform onboard` (made on a copy of stacks/)."""
    shutil.copytree(ROOT / "stacks", tmp / "stacks")
    [edit] = onboarding.plan_onboard(tmp, [stack], TEAM)
    return yaml.safe_load(edit.after)["config"]


def expected_rows(stack: str, raw: dict[str, Any]) -> list[dict[str, Any]]:
    """`amlplatform plan`'s resources for the stack file."""
    cfg = config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)
    cfg._root = str(ROOT)  # as load_stack(stack, ROOT) gives: the repository beside the stack file
    plan, _ = offline_stack.plan_stack(cfg, raw)
    rows = [
        {"urn": r.urn, "type": r.type, "parent": r.parent, "inputs": r.inputs, "dependencies": r.dependencies,
         "protect": r.protect, "retain_on_delete": r.retain_on_delete}
        for r in plan.resources
    ]
    return rows


def start(stack: str, raw: dict[str, Any], secrets: list[str], out: Path,
          subscription: str = OFFLINE_SUBSCRIPTION, references: dict[str, Any] | None = None) -> subprocess.Popen[bytes]:
    """The program in a fresh process, launched as the language host launches it (`references`: the stacks a
    StackReference may read, by fully qualified name, as the engine would read them from the backend)."""
    lx = launch(ROOT)
    assert lx.program_venv is not None
    env = {**venv_env(lx.program_venv), **engine_config(raw, secrets), "HARNESS_RECORD": str(out),
           "ARM_SUBSCRIPTION_ID": subscription}
    if references is not None:
        refs = out.with_suffix(".references.json")
        refs.write_text(json.dumps(references))
        env["HARNESS_REFERENCES"] = str(refs)
    # Output to a file, not a pipe: nothing blocks while the offline plans are made here.
    with out.with_suffix(".log").open("w") as log:
        return subprocess.Popen(program_command(lx, stack), cwd=lx.pwd, env=env, stdout=log, stderr=subprocess.STDOUT)


def finish(proc: subprocess.Popen[bytes], out: Path) -> tuple[int, str]:
    """Exit code and output of a launch started with `start(..., out)`."""
    try:
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out.with_suffix(".log").read_text()


def test_the_engine_runs_the_program_from_the_project_root():
    # The working directory of the program and of its providers, where `pulumi install` runs pip,
    # is the project root: Pulumi.yaml's `virtualenv` (relative to the root for the program, to the
    # working directory for dynamic providers, pulumi/pulumi#7061) then names one virtualenv.
    lx = launch(ROOT)
    assert lx.pwd == ROOT and lx.entry == "."
    assert (ROOT / "__main__.py").is_file()
    assert lx.program_venv == lx.provider_venv == ROOT / ".venv"


def test_launched_program_plans_what_amlplatform_plan_plans(tmp_path):
    cases = {stack: (stack, raw_stack(stack)) for stack in STACKS}
    cases["dev+fraud"] = ("dev", onboarded_raw(tmp_path / "onboarded", "dev"))
    expected, running = {}, {}
    # Two launches at a time; the offline plans they are compared with are made meanwhile.
    pending = list(cases)
    while pending or running:
        while pending and len(running) < 2:
            case = pending.pop(0)
            stack, raw = cases[case]
            cfg = config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)
            subscription = cfg.platform.subscription_id or OFFLINE_SUBSCRIPTION
            secrets = [f"{config.NAMESPACE}:{key}" for key in cfg.required_secrets()]
            running[case] = start(stack, raw, secrets, tmp_path / f"{case}.json", subscription)
        todo = [c for c in cases if c not in expected]
        if todo:
            expected[todo[0]] = expected_rows(*cases[todo[0]])
        case = next(iter(running))
        code, err = finish(running.pop(case), tmp_path / f"{case}.json")
        assert code == 0, f"{case}: exit {code}\n{err[-3000:]}"
    for case in cases:
        got = json.loads((tmp_path / f"{case}.json").read_text())
        assert [r["urn"] for r in got] == [r["urn"] for r in expected[case]], case
        assert got == expected[case], case
    # The launch seeds the assets (uploads included), and the onboarded team shows in it.
    dev = {r["urn"] for r in expected["dev"]}
    uploads = [r for r in expected["dev"] if r["type"] == "pulumi-python:dynamic/amlplatform:WorkspaceUpload"]
    assert uploads and all(r["inputs"]["source"].startswith("assets/") for r in uploads)
    onboarded = {r["urn"] for r in expected["dev+fraud"]} - dev
    assert any("fraud-raw" in urn for urn in onboarded), sorted(onboarded)


def test_a_team_stack_launches_its_own_program_on_its_config(tmp_path):
    """Same project, same entry point: a stack whose config holds amlplatform:team runs the team program, which
    reads its platform stack through a StackReference (the engine answers from the backend, here from a file)."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "stacks", root / "stacks")
    (root / "assets").symlink_to(ROOT / "assets")
    team = {"name": "fraud", "dataScientists": [{"objectId": TEAM.roles["dataScientists"][0]["objectId"],
                                                 "type": "Group"}], "members": TEAM.members, "containers": ["fraud-raw"]}
    raw = {"amlplatform:platformStack": "dev", "amlplatform:team": team}
    (root / "stacks" / "Pulumi.dev-fraud.yaml").write_text(yaml.safe_dump({"config": raw}))
    cfg, _ = config.load_stack("dev-fraud", root)
    plan, _ = offline_stack.plan_stack(cfg, raw)
    outputs = offline_stack.referenced_plans(cfg)[0].outputs
    references = {"organization/amlplatform/dev": outputs}
    code, err = finish(start("dev-fraud", raw, [], tmp_path / "team.json", references=references), tmp_path / "team.json")
    assert code == 0, err[-3000:]
    got = json.loads((tmp_path / "team.json").read_text())
    expected = [{"urn": r.urn, "type": r.type, "parent": r.parent, "inputs": r.inputs, "dependencies": r.dependencies,
                 "protect": r.protect, "retain_on_delete": r.retain_on_delete} for r in plan.resources]
    assert got == expected
    assert {r["type"] for r in got} >= {"amlplatform:components:Team", "azure-native:storage:BlobContainer",
                                        "azure-native:machinelearningservices:Compute"}
    # A team the platform already holds is one line under the engine too (from the platform's outputs).
    both = {**references["organization/amlplatform/dev"], "teams": {"fraud": []}}
    code, err = finish(start("dev-fraud", raw, [], tmp_path / "both.json",
                             references={"organization/amlplatform/dev": both}), tmp_path / "both.json")
    errors = [line for line in err.splitlines() if line.startswith("ERROR: ")]
    assert code == 1 and errors == [
        "ERROR: stacks/Pulumi.dev-fraud.yaml: amlplatform:team.name: team 'fraud' is also in the platform stack dev's "
        "amlplatform:teams; a team lives in the platform stack or in its own team stack, never both: offboard it "
        "from one"] and "Traceback" not in err, err


def test_config_mistake_under_the_engine_is_one_line_without_traceback(tmp_path):
    raw = copy.deepcopy(raw_stack("prod"))
    raw["amlplatform:network"] = {"mode": "public", "allowedIpRanges": ["20.1.2.0/24"]}
    code, err = finish(start("prod", raw, [], tmp_path / "out.json"), tmp_path / "out.json")
    assert code == 1, err[-3000:]
    errors = [line for line in err.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and errors[0].startswith(
        "ERROR: stacks/Pulumi.prod.yaml: amlplatform:network.mode: public network access"), err
    assert "Traceback" not in err


def test_config_mistake_is_a_run_error_in_process():
    # The same entry point in-process: pulumi.RunError, which the executor prints without a trace.
    raw = copy.deepcopy(raw_stack("prod"))
    raw["amlplatform:network"] = {"mode": "public", "allowedIpRanges": ["20.1.2.0/24"]}
    raw, _ = engine.with_secret_placeholders(["aksTlsCertPem", "aksTlsKeyPem"], raw)
    lx = launch(ROOT)
    with pytest.raises(pulumi.RunError) as exc:
        engine.run(lambda: runpy.run_path(str(lx.pwd / lx.entry), run_name="__main__"), "prod", raw)
    assert str(exc.value).startswith("stacks/Pulumi.prod.yaml: amlplatform:network.mode: public network access")


def test_an_installed_copy_away_from_the_repository_is_refused(monkeypatch, tmp_path):
    # A non-editable install would run infra/ from site-packages, with no stacks/ or assets/ beside it.
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    lx = launch(ROOT)
    with pytest.raises(pulumi.RunError, match=r"no Pulumi.yaml beside the running infra package: install the "
                                              r"repository editable \(requirements.txt: -e \.\)"):
        engine.run(lambda: runpy.run_path(str(lx.pwd / lx.entry), run_name="__main__"), "dev", raw_stack("dev"))


def test_pulumi_install_installs_this_project_editable():
    # `pulumi install` runs `pip install -r requirements.txt` in the program directory and skips
    # it without a word when the file is not there (sdk/python/toolchain/pip.go).
    lx = launch(ROOT)
    requirements = lx.pwd / "requirements.txt"
    assert requirements.is_file(), f"pulumi install would install nothing: no {requirements}"
    lines = [ln.split("#")[0].strip() for ln in requirements.read_text().splitlines()]
    lines = [ln for ln in lines if ln]
    assert lines == ["-e ."], lines
    # pip resolves `.` against its working directory, the program directory: this project.
    target = Path(os.path.normpath(lx.pwd / lines[0].split()[1]))
    meta = tomllib.loads((target / "pyproject.toml").read_text())
    assert target == ROOT and meta["project"]["name"] == "amlplatform"
    assert "infra*" in meta["tool"]["setuptools"]["packages"]["find"]["include"]
