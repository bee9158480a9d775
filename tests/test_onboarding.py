"""Onboarding: adds a team keeping comments and order, offboarding gives the original bytes back,
bad input changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.cli import main as cli

from infra.config import stack as config
from infra.offline import azure_rules
from infra.offline.stack import plan_stack
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
    # Prod: the containers, and per principal its workspace role, its roles on the workspace storage
    # (identity-only: blob and file) and its roles on the team's containers.
    assert "stacks/Pulumi.prod.yaml: plan gains 13, loses 0" in out
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
         "stacks/Pulumi.dev.yaml: amlplatform:teams.fraud.containers[0]: must be 3-63 lowercase letters"),
        (["--env", "dev,prod", "--containers", "azureml-data"], "containers[0]: must not start with azureml"),
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


def _plan(repo: Path, stack: str):
    cfg, raw = config.load_stack(stack, repo)
    return plan_stack(cfg, raw)[0]


def test_offboarding_from_a_locked_prod_deletes_nothing_under_a_lock(repo):
    """CanNotDelete locks cover every resource below their scope, extension resources such as role assignments
    included: what offboarding deletes must lie under none of them (or be retained on delete)."""
    assert run(repo, "onboard", "--team", "fraud", "--env", "prod", "--data-scientists", DS, "--readers", f"user:{RD}",
               "--job-submitters", f"user:{RD}", "--compute-operators", f"sp:{SP}",
               "--containers", "fraud-raw,fraud-curated") == 0
    onboarded = _plan(repo, "prod")
    assert run(repo, "offboard", "--team", "fraud") == 0
    offboarded = _plan(repo, "prod")
    kept = {r.urn for r in offboarded.custom()}
    deleted = [r for r in onboarded.custom() if r.urn not in kept]
    locks = [lk.inputs["scope"].lower() + "/" for lk in onboarded.of_type("azure-native:authorization:ManagementLockByScope")]
    # Key vault, registry, Log Analytics and prod's disk encryption set.
    assert len(locks) == 4 and len(deleted) == 15
    under = [r.name for r in deleted if not r.retain_on_delete and any(r.id.lower().startswith(lk) for lk in locks)]
    assert under == []
    # The team's data outlives it; its grants do not.
    assert sorted(r.name for r in deleted if r.retain_on_delete) == ["datalake-container-fraud-curated",
                                                                      "datalake-container-fraud-raw"]
    assert azure_rules.evaluate(onboarded).ok and azure_rules.evaluate(offboarded).ok
