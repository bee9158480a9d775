"""Onboarding: adds a team keeping comments and order, offboarding gives the original bytes back,
bad input changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra import cli
from tests.conftest import ROOT

DS = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d01"
RD = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d02"
SP = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d03"


@pytest.fixture()
def repo(tmp_path) -> Path:
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    return tmp_path


def snapshot(repo: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((repo / "stacks").iterdir())}


def run(repo: Path, *argv: str) -> int:
    return cli.main(["--root", str(repo), *argv])


@pytest.mark.slow
def test_onboard_then_offboard_is_byte_identical(repo, capsys):
    original = snapshot(repo)
    assert run(repo, "onboard", "--team", "fraud", "--env", "dev,staging,prod", "--data-scientists", DS,
               "--readers", f"user:{RD}", "--compute-operators", f"sp:{SP}", "--containers", "fraud-raw,fraud-curated",
               "--members", f"user:{RD}") == 0
    out = capsys.readouterr().out
    assert "stacks/Pulumi.prod.yaml: plan gains 9, loses 0" in out
    assert f"+ RoleAssignment: AzureML Compute Operator on workspaces/mlw-contoso-prd for ServicePrincipal {SP}" in out
    dev = (repo / "stacks" / "Pulumi.dev.yaml").read_text()
    assert "# Deliberate dev relaxation" in dev  # comments kept
    assert dev.index("amlplatform:rbac:") < dev.index("amlplatform:teams:")  # appended, order kept
    assert f"        - objectId: {DS}\n          type: Group\n" in dev
    assert run(repo, "offboard", "--team", "fraud") == 0
    assert snapshot(repo) == original


def test_second_team_round_trip_keeps_the_first(repo):
    assert run(repo, "onboard", "--team", "fraud", "--env", "dev", "--data-scientists", DS) == 0
    with_one = snapshot(repo)
    assert run(repo, "onboard", "--team", "forecast", "--env", "dev", "--job-submitters", f"user:{RD}",
               "--containers", "forecast-data") == 0
    assert run(repo, "offboard", "--team", "forecast", "--env", "dev") == 0
    assert snapshot(repo) == with_one


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--env", "qa", "--data-scientists", DS], "--env: unknown stack(s) qa; stacks: dev, prod, staging"),
        (["--env", "dev", "--data-scientists", "not-a-guid"],
         "--data-scientists: 'not-a-guid' must be an Entra object ID (a GUID), optionally prefixed group:, user: or sp:"),
        (["--env", "dev", "--readers", f"robot:{RD}"], "--readers: 'robot:"),
        (["--env", "dev"], "onboard: give the team at least one role"),
        (["--env", "dev", "--containers", "Bad_Name"],
         "stacks/Pulumi.dev.yaml: amlplatform:teams.fraud.containers: 'Bad_Name' must be 3-63 lowercase letters"),
        (["--env", "dev,prod", "--containers", "azureml-data"], "names starting with azureml are Azure ML's own"),
    ],
)
def test_bad_onboarding_input_is_refused_and_nothing_changes(repo, capsys, argv, expected):
    before = snapshot(repo)
    assert run(repo, "onboard", "--team", "fraud", *argv) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert snapshot(repo) == before


def test_duplicate_team_is_refused_in_every_file(repo, capsys):
    assert run(repo, "onboard", "--team", "fraud", "--env", "prod", "--data-scientists", DS) == 0
    before = snapshot(repo)
    assert run(repo, "onboard", "--team", "fraud", "--env", "dev,prod", "--readers", RD) == 2
    assert "stacks/Pulumi.prod.yaml: amlplatform:teams.fraud: team already exists" in capsys.readouterr().err
    assert snapshot(repo) == before  # dev was valid, but nothing is written when any file fails


def test_bad_team_name_and_unknown_offboard(repo, capsys):
    assert run(repo, "onboard", "--team", "Fraud!", "--env", "dev", "--readers", RD) == 2
    assert "--team: 'Fraud!' must be 2-24 lowercase letters" in capsys.readouterr().err
    assert run(repo, "offboard", "--team", "ghost") == 2
    assert "offboard: team 'ghost' is in no stack file" in capsys.readouterr().err


def test_dry_run_writes_nothing(repo, capsys):
    before = snapshot(repo)
    assert run(repo, "onboard", "--team", "fraud", "--env", "dev", "--readers", RD, "--dry-run") == 0
    assert "dry run: no file written" in capsys.readouterr().out
    assert snapshot(repo) == before
