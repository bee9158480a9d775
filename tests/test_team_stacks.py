"""Team stacks: one team's resources in a stack of its own, reading its platform stack through a StackReference.

The team stack's plan holds exactly the team's containers (on the platform's lake), datastores, grants
(role definition IDs and scopes from the platform's outputs) and instances; it equals what the same team
adds to the platform stack in-stack; the offline emulator answers the StackReference with the platform's
plan outputs; what no one stack can see (a team in both places, a container or a shared-scope grant in
two stacks) is refused in one line before anything is planned.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.program import team as team_program

from infra.cli import main as cli

from infra import config

from infra.cli import onboarding
from infra.naming import instance_name, stable_guid
from infra.offline import azure_rules, engine, platform_rules
from infra.offline import stack as offline_stack
from infra.offline.arm_types import UnmappedError
from infra.offline.emulator import OFFLINE_SUBSCRIPTION, OFFLINE_TENANT
from infra.azure_facts.roles import BUILTIN_ROLES as R
from tests.conftest import ROOT

DS = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d01"
RD = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d02"
OPS = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d03"
SUB = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d05"
MEMBER = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d06"
CICD = "00000000-0000-0000-0000-00000000a002"
TEAM: dict[str, Any] = {
    "dataScientists": [{"objectId": DS, "type": "Group"}],
    "readers": [{"objectId": RD, "type": "Group"}],
    "computeOperators": [{"objectId": OPS, "type": "ServicePrincipal"}],
    "jobSubmitters": [{"objectId": SUB, "type": "User"}],
    "members": [MEMBER],
    "containers": ["fraud-raw", "fraud-curated"],
}
RA = "azure-native:authorization:RoleAssignment"


def new_repo(root: Path) -> Path:
    """A repository with the shipped stacks and assets (the platform plans read assets/ beside stacks/)."""
    shutil.copytree(ROOT / "stacks", root / "stacks")
    (root / "assets").symlink_to(ROOT / "assets")
    return root


def write_team_stack(root: Path, stack: str, platform: str, team: dict[str, Any], name: str = "fraud") -> None:
    doc = {"config": {"amlplatform:platformStack": platform, "amlplatform:team": {"name": name, **team}}}
    (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = new_repo(tmp_path_factory.mktemp("teams"))
    write_team_stack(root, "dev-fraud", "dev", TEAM)
    write_team_stack(root, "prod-fraud", "prod", TEAM)
    return root


@pytest.fixture(scope="module")
def plans(repo) -> dict[str, tuple[Any, engine.Plan, engine.Plan]]:
    """stack -> (config, team plan, platform plan it referenced)."""
    out = {}
    for stack in ("dev-fraud", "prod-fraud"):
        cfg, raw = config.load_stack(stack, repo)
        plan, _ = offline_stack.plan_stack(cfg, raw)
        out[stack] = (cfg, plan, offline_stack.referenced_plans(cfg)[0])
    return out


def grants(plan: engine.Plan) -> set[tuple[str, str, str, str]]:
    return {(r.inputs["scope"], r.inputs["roleDefinitionId"].rsplit("/", 1)[-1], r.inputs["principalId"],
             r.inputs["principalType"]) for r in plan.of_type(RA)}


def test_prod_team_stack_plans_exactly_the_teams_resources(plans):
    cfg, plan, platform = plans["prod-fraud"]
    assert plan.references == ["organization/amlplatform/prod"]
    ws = platform.one("azure-native:machinelearningservices:Workspace").id
    st = platform.one("azure-native:storage:StorageAccount", "storage-account").id
    lake = platform.one("azure-native:storage:StorageAccount", "datalake-account")
    rg = platform.one("azure-native:resources:ResourceGroup").id
    c = {n: f"{lake.id}/blobServices/default/containers/{n}" for n in ("fraud-raw", "fraud-curated")}
    submitter = stable_guid(rg, "job-submitter")
    # Every scope and role definition ID is the platform's.
    roles = platform.outputs["roleDefinitionIds"]
    assert roles["job-submitter"] == platform.one("azure-native:authorization:RoleDefinition").id
    assert roles["Reader"] == f"/subscriptions/{OFFLINE_SUBSCRIPTION}/providers/Microsoft.Authorization/" \
                              f"roleDefinitions/{R['Reader']}"
    assert grants(plan) == {
        (ws, R["AzureML Data Scientist"], DS, "Group"),
        (st, R["Storage Blob Data Contributor"], DS, "Group"),
        (st, R["Storage File Data Privileged Contributor"], DS, "Group"),
        (c["fraud-raw"], R["Storage Blob Data Contributor"], DS, "Group"),
        (c["fraud-curated"], R["Storage Blob Data Contributor"], DS, "Group"),
        (ws, R["Reader"], RD, "Group"),
        (st, R["Storage Blob Data Reader"], RD, "Group"),
        (st, R["Storage File Data Privileged Reader"], RD, "Group"),
        (c["fraud-raw"], R["Storage Blob Data Reader"], RD, "Group"),
        (c["fraud-curated"], R["Storage Blob Data Reader"], RD, "Group"),
        (ws, R["AzureML Compute Operator"], OPS, "ServicePrincipal"),
        (ws, submitter, SUB, "User"),
        (st, R["Storage Blob Data Contributor"], SUB, "User"),
        (c["fraud-raw"], R["Storage Blob Data Reader"], SUB, "User"),
        (c["fraud-curated"], R["Storage Blob Data Reader"], SUB, "User"),
    }
    for ra in plan.of_type(RA):
        i = ra.inputs
        assert i["roleAssignmentName"] == stable_guid(i["scope"], i["principalId"], i["roleDefinitionId"].rsplit("/", 1)[-1])
    containers = {r.inputs["containerName"]: r for r in plan.of_type("azure-native:storage:BlobContainer")}
    assert sorted(containers) == ["fraud-curated", "fraud-raw"]
    for name, r in containers.items():
        assert r.id == c[name] and r.retain_on_delete and not r.protect
        assert r.inputs == {"accountName": lake.physical_name, "containerName": name, "publicAccess": "None",
                            "resourceGroupName": "rg-contoso-prd"}
    stores = {r.inputs["name"]: r for r in plan.of_type("azure-native:machinelearningservices:Datastore")}
    assert sorted(stores) == ["fraud_curated", "fraud_raw"]
    props = stores["fraud_raw"].inputs["properties"]
    assert stores["fraud_raw"].inputs["workspaceName"] == "mlw-contoso-prd"
    assert (props["datastoreType"], props["accountName"], props["filesystem"], props["resourceGroup"],
            props["subscriptionId"], props["credentials"]) == (
        "AzureDataLakeGen2", lake.physical_name, "fraud-raw", "rg-contoso-prd", OFFLINE_SUBSCRIPTION,
        {"credentialsType": "None"})
    assert containers["fraud-raw"].urn in stores["fraud_raw"].dependencies
    # Prod has no compute instances; nothing else is declared.
    assert sorted({r.type for r in plan.custom()}) == ["azure-native:authorization:RoleAssignment",
                                                        "azure-native:machinelearningservices:Datastore",
                                                        "azure-native:storage:BlobContainer"]
    assert len(plan.custom()) == 19
    assert plan.outputs["containerIds"] == c and plan.outputs["platformStack"] == "prod"


def test_dev_team_stack_gives_members_instances_as_the_platform_would(plans):
    cfg, plan, platform = plans["dev-fraud"]
    (ci,) = plan.of_type("azure-native:machinelearningservices:Compute")
    identity = platform.one("azure-native:managedidentity:UserAssignedIdentity", "instance-identity-uai").id
    props = ci.inputs["properties"]["properties"]
    assert ci.inputs["computeName"] == instance_name("contoso", "dev", MEMBER)
    assert ci.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [identity]}
    assert props["personalComputeInstanceSettings"]["assignedUser"] == {"objectId": MEMBER, "tenantId": OFFLINE_TENANT}
    assert (props["vmSize"], props["idleTimeBeforeShutdown"]) == ("Standard_DS11_v2", "PT60M")
    assert props["schedules"]["computeStartStop"] == [{"action": "Stop", "triggerType": "Cron", "status": "Enabled",
                                                       "cron": {"expression": "0 19 * * 1-5",
                                                                "timeZone": "W. Europe Standard Time"}}]
    assert "subnet" not in props  # dev: the AML managed VNet holds it
    assert ci.inputs["tags"] == platform.outputs["tags"] and ci.inputs["location"] == "westeurope"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_team_stack_declares_what_the_same_team_adds_in_stack(plans, tmp_path, stack):
    """Same resources, same IDs, same values: moving a team between the two places changes URNs, not Azure."""
    _, plan, platform = plans[f"{stack}-fraud"]
    root = new_repo(tmp_path)
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["config"]["amlplatform:teams"] = {"fraud": copy.deepcopy(TEAM)}
    path.write_text(yaml.safe_dump(doc))
    in_stack = offline_stack.plan_stack(*config.load_stack(stack, root))[0]
    base = {r.id for r in platform.custom()}
    added = {(r.type, r.id): r.inputs for r in in_stack.custom() if r.id not in base}
    assert {(r.type, r.id): r.inputs for r in plan.custom()} == added


def test_team_stack_passes_every_gate(plans):
    for stack, (cfg, plan, platform) in plans.items():
        assert azure_rules.evaluate(plan, referenced=[platform]).ok, stack
        assert platform_rules.check(plan, platform_rules.facts_for(cfg, plan)).ok, stack


def test_the_platform_plan_is_the_same_with_any_number_of_team_stacks(plans, tmp_path):
    """Nothing in the platform stack grows with its team stacks (the plan is byte for byte the same)."""
    _, _, platform = plans["dev-fraud"]
    bare = new_repo(tmp_path)
    assert platform.to_json() == offline_stack.plan_stack(*config.load_stack("dev", bare))[0].to_json()


def test_the_emulator_answers_a_stack_reference_with_the_platform_plans_outputs(plans):
    _, _, platform = plans["prod-fraud"]
    seen: dict[str, Any] = {}

    async def program() -> None:
        import pulumi

        ref = pulumi.StackReference("p", stack_name="organization/amlplatform/prod")
        seen["lake"] = (await ref.get_output_details("dataLakeId")).value

    plan = engine.run(program, "t", {}, references={"organization/amlplatform/prod": platform.outputs})
    assert seen["lake"] == platform.outputs["dataLakeId"] and plan.references == ["organization/amlplatform/prod"]
    assert plan.resources == []  # a read, not a resource
    with pytest.raises(UnmappedError, match=r"StackReference organization/amlplatform/prod: no such stack offline "
                                            r"\(planned first: none\)"):
        engine.run(program, "t", {})


def test_a_platform_deployed_without_an_output_is_one_line(plans):
    cfg, _, platform = plans["prod-fraud"]
    outputs = {k: v for k, v in platform.outputs.items() if k != "dataLakeName"}
    with pytest.raises(config.ConfigError) as exc:
        engine.run(lambda: team_program.build(cfg), "prod-fraud", {}, references={
            "organization/amlplatform/prod": outputs})
    assert str(exc.value) == (f"{cfg.source}: amlplatform:platformStack: the platform stack organization/amlplatform/"
                              "prod exports no dataLakeName: deploy it with this version of the platform first "
                              "(pulumi up -s prod)")
    with pytest.raises(config.ConfigError, match="lives in subscription 00000000-0000-0000-0000-000000000000, not in "
                                                 "the one the Azure credentials select"):
        engine.run(lambda: team_program.build(cfg), "prod-fraud", {}, subscription_id=SUB,
                   references={"organization/amlplatform/prod": platform.outputs})


def test_plan_cli_gates_a_team_stack(repo, capsys):
    assert cli.main(["--root", str(repo), "plan", "prod-fraud", "--out", str(repo / "out")]) == 0
    out = capsys.readouterr().out
    assert "19 Azure resources" in out and "reads the outputs of organization/amlplatform/prod (StackReference)" in out
    assert "checkov: PASS" in out and "platform rules: PASS" in out and "azure rules: PASS" in out
    assert "prod-fraud" in cli.all_stacks(repo) and "prod-fraud" not in cli.environment_stacks(repo)


# ---- the preflight across stacks: one line, exit 2, nothing planned ---------------------------------


def bad_repo(tmp_path: Path, team: dict[str, Any], platform: str = "prod", name: str = "fraud") -> Path:
    root = new_repo(tmp_path)
    write_team_stack(root, f"{platform}-{name}", platform, team, name)
    return root


def refused(root: Path, stack: str, capsys) -> str:
    code = cli.main(["--root", str(root), "plan", stack, "--out", str(root / "out")])
    lines = capsys.readouterr().err.splitlines()
    assert code == 2 and len(lines) == 1 and not (root / "out").exists(), lines
    return lines[0]


def test_a_team_in_both_places_is_refused(tmp_path, capsys):
    root = bad_repo(tmp_path, TEAM)
    prod = root / "stacks" / "Pulumi.prod.yaml"
    doc = yaml.safe_load(prod.read_text())
    doc["config"]["amlplatform:teams"] = {"fraud": {"readers": [{"objectId": RD, "type": "Group"}]}}
    prod.write_text(yaml.safe_dump(doc))
    line = refused(root, "prod-fraud", capsys)
    assert line.endswith("Pulumi.prod-fraud.yaml: amlplatform:team.name: team 'fraud' is also in "
                         f"{prod}'s amlplatform:teams; a team lives in the platform stack or in its own team "
                         "stack, never both: offboard it from one")


@pytest.mark.parametrize(
    "team, other, expected",
    [
        # A container has one owner, across stacks too.
        ({"containers": ["shared-data"]}, {"containers": ["shared-data"]},
         "amlplatform:team.containers[0]: already belongs to team other ("),
        # One (scope, role, principal) is one assignment: two stacks would both manage it.
        ({"dataScientists": [{"objectId": DS, "type": "Group"}]}, {"dataScientists": [{"objectId": DS, "type": "Group"}]},
         f"amlplatform:team.dataScientists[0].objectId: {DS} already holds AzureML Data Scientist on the workspace "
         "through team other ("),
        # The platform's CI/CD principal holds AzureML Data Scientist on the workspace already.
        ({"dataScientists": [{"objectId": CICD, "type": "ServicePrincipal"}]}, {},
         f"{CICD} already holds AzureML Data Scientist on the workspace through "),
    ],
)
def test_what_two_stacks_would_share_is_refused(tmp_path, capsys, team, other, expected):
    root = bad_repo(tmp_path, team)
    if other:
        write_team_stack(root, "prod-other", "prod", other, "other")
    line = refused(root, "prod-fraud", capsys)
    assert expected in line and line.split(": ")[1].endswith("Pulumi.prod-fraud.yaml")


def test_a_user_gets_one_instance_per_workspace(tmp_path, capsys):
    root = bad_repo(tmp_path, {"members": [MEMBER]}, platform="dev")
    write_team_stack(root, "dev-other", "dev", {"members": [MEMBER]}, "other")
    assert f"amlplatform:team.members[0]: user {MEMBER} already has a compute instance through team other (" in \
        refused(root, "dev-fraud", capsys)


@pytest.mark.parametrize(
    "config_, expected",
    [
        ({"amlplatform:platformStack": "qa", "amlplatform:team": {"name": "fraud"}},
         "amlplatform:platformStack: no stack 'qa': "),
        ({"amlplatform:platformStack": "prod-x", "amlplatform:team": {"name": "fraud"}},
         "amlplatform:platformStack: 'prod-x' is a team stack; a team stack runs on a platform stack"),
        ({"amlplatform:platformStack": "prod", "amlplatform:team": {"name": "fraud"}, "amlplatform:network": {}},
         "amlplatform:network: unknown key in a team stack (allowed: platformStack, team)"),
        # A file with both kind keys is a team stack, and the registry's key is foreign to it.
        ({"amlplatform:platformStack": "prod", "amlplatform:team": {"name": "fraud"}, "amlplatform:mlRegistry": {}},
         "amlplatform:mlRegistry: unknown key in a team stack (allowed: platformStack, team)"),
        ({"amlplatform:team": {"name": "fraud"}}, "amlplatform:platformStack: required key is missing"),
        ({"amlplatform:platformStack": "prod", "amlplatform:team": {"name": "Fraud!"}},
         "amlplatform:team.name: team names are 2-24 lowercase letters"),
        ({"amlplatform:platformStack": "prod", "amlplatform:team": {"name": "fraud", "owners": []}},
         "amlplatform:team.owners: unknown key (allowed: readers, dataScientists, computeOperators, jobSubmitters, "
         "members, containers, name)"),
    ],
)
def test_team_stack_config_mistakes_are_one_line(tmp_path, capsys, config_, expected):
    root = new_repo(tmp_path)
    (root / "stacks" / "Pulumi.prod-fraud.yaml").write_text(yaml.safe_dump({"config": config_}))
    write_team_stack(root, "prod-x", "prod", {}, "x")
    assert f"Pulumi.prod-fraud.yaml: {expected}" in refused(root, "prod-fraud", capsys)


def test_a_team_stack_on_the_registry_stack_is_one_line(tmp_path, capsys):
    """The registry stack has no workspace, lake or identities for a team: refused offline and under the engine."""
    root = new_repo(tmp_path)
    write_team_stack(root, "registry-fraud", "registry", {"containers": ["fraud-raw"]})
    line = refused(root, "registry-fraud", capsys)
    assert line == (f"error: {root}/stacks/Pulumi.registry-fraud.yaml: amlplatform:platformStack: 'registry' is the "
                    "registry stack (it holds no workspace); a team stack runs on a platform stack (an environment: "
                    "neither amlplatform:team nor amlplatform:mlRegistry in its file)")
    # Under the pulumi CLI the team program reads only the named stack's kind from this checkout's file.
    import runpy

    import pulumi

    from tests.pulumi_launch import launch

    raw = {"amlplatform:platformStack": "registry", "amlplatform:team": {"name": "fraud"}}
    lx = launch(ROOT)
    with pytest.raises(pulumi.RunError) as exc:
        engine.run(lambda: runpy.run_path(str(lx.pwd / lx.entry), run_name="__main__"), "registry-fraud", raw)
    assert str(exc.value) == ("stacks/Pulumi.registry-fraud.yaml: amlplatform:platformStack: 'registry' is the "
                              "registry stack (it holds no workspace); a team stack runs on a platform stack (an "
                              "environment: neither amlplatform:team nor amlplatform:mlRegistry in its file)")


def test_stack_kinds_are_told_apart_once_and_planned_platforms_first(tmp_path, capsys):
    root = new_repo(tmp_path)
    # Named to sort before its platform stack: --all still plans the platform stack first.
    write_team_stack(root, "a-fraud", "prod", {"containers": ["fraud-raw"]})
    assert config.stack_kinds(root) == {"a-fraud": "team", "dev": "platform", "prod": "platform",
                                        "registry": "registry", "staging": "platform"}
    assert cli.environment_stacks(root) == ["dev", "prod", "staging"]
    loaded = [config.load_stack(s, root) for s in cli.all_stacks(root)]
    assert [cfg.stack for cfg, _ in cli.in_plan_order(loaded)] == ["dev", "prod", "staging", "registry", "a-fraud"]
    # Commands that need one kind refuse the others in one line.
    assert run(root, "verify", "a-fraud") == 2
    assert capsys.readouterr().err == (f"error: {root}/stacks/Pulumi.a-fraud.yaml: amlplatform:team: a-fraud is a team "
                                       "stack on prod; verify takes a platform stack (an environment) or the registry "
                                       "stack\n")
    assert run(root, "assets", "validate", "--stack", "registry") == 2
    assert capsys.readouterr().err == (f"error: {root}/stacks/Pulumi.registry.yaml: amlplatform:mlRegistry: registry is "
                                       "the registry stack; assets validate --stack takes a platform stack (an "
                                       "environment)\n")


# ---- onboarding to team stacks --------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "stacks").iterdir())}


def run(root: Path, *argv: str) -> int:
    return cli.main(["--root", str(root), *argv])


def test_onboard_to_team_stacks_then_offboard_is_byte_identical(tmp_path, capsys):
    root = new_repo(tmp_path)
    original = snapshot(root)
    assert run(root, "onboard", "--team", "fraud", "--stack-kind", "team", "--env", "dev,prod", "--data-scientists", DS,
               "--members", f"user:{MEMBER}", "--containers", "fraud-raw") == 0
    out = capsys.readouterr().out
    assert snapshot(root).keys() - original.keys() == {"Pulumi.dev-fraud.yaml", "Pulumi.prod-fraud.yaml"}
    assert all(snapshot(root)[k] == v for k, v in original.items())  # platform stack files untouched
    # dev: the container, its datastore, the data scientists' four grants and the member's instance.
    assert "onboard fraud: stacks/Pulumi.dev-fraud.yaml: new team stack on dev: plan gains 7" in out
    assert "onboard fraud: stacks/Pulumi.prod-fraud.yaml: new team stack on prod: plan gains 6" in out
    assert f"  + RoleAssignment: AzureML Data Scientist on workspaces/mlw-contoso-prd for Group {DS}" in out
    text = (root / "stacks" / "Pulumi.prod-fraud.yaml").read_text()
    assert text.startswith("# Team fraud on the platform stack prod") and "amlplatform:platformStack: prod\n" in text
    assert f"    dataScientists:\n      - objectId: {DS}\n        type: Group\n" in text
    assert run(root, "offboard", "--team", "fraud") == 0
    out = capsys.readouterr().out
    assert ("offboard fraud: stacks/Pulumi.prod-fraud.yaml: team stack on prod removed: `pulumi destroy -s prod-fraud` "
            "deletes 5, retains 1") in out
    assert "  = BlobContainer: " in out and "fraud-raw (retained on delete: it stays in Azure)" in out
    assert snapshot(root) == original


def test_onboarding_keeps_a_team_in_one_place(tmp_path, capsys):
    root = new_repo(tmp_path)
    assert run(root, "onboard", "--team", "fraud", "--env", "prod", "--readers", RD) == 0
    before = snapshot(root)
    assert run(root, "onboard", "--team", "fraud", "--stack-kind", "team", "--env", "prod", "--readers", RD) == 2
    assert "amlplatform:team.name: team 'fraud' is also in " in capsys.readouterr().err
    assert snapshot(root) == before
    assert run(root, "offboard", "--team", "fraud") == 0
    assert run(root, "onboard", "--team", "fraud", "--stack-kind", "team", "--env", "prod", "--readers", RD) == 0
    capsys.readouterr()
    before = snapshot(root)
    assert run(root, "onboard", "--team", "fraud", "--env", "prod", "--readers", RD) == 2
    assert ("stacks/Pulumi.prod.yaml: amlplatform:teams.fraud: team 'fraud' has its own team stack on prod "
            "(stacks/Pulumi.prod-fraud.yaml)") in capsys.readouterr().err
    assert run(root, "onboard", "--team", "fraud", "--stack-kind", "team", "--env", "prod", "--readers", RD) == 2
    assert "stacks/Pulumi.prod-fraud.yaml: already exists: team fraud has a team stack on prod" in \
        capsys.readouterr().err
    assert snapshot(root) == before
    # --env names platform stacks only; a dry run writes nothing.
    assert run(root, "onboard", "--team", "risk", "--stack-kind", "team", "--env", "prod-fraud", "--readers", RD) == 2
    assert "--env: unknown stack(s) prod-fraud; stacks: dev, prod, staging" in capsys.readouterr().err
    assert run(root, "onboard", "--team", "risk", "--stack-kind", "team", "--env", "dev", "--readers", RD,
               "--dry-run") == 0
    assert "dry run: no file written" in capsys.readouterr().out and snapshot(root) == before


def test_onboarding_edits_leave_a_valid_team_spec_shape():
    spec = onboarding.TeamSpec("fraud", {"readers": [{"objectId": RD, "type": "Group"}]}, [MEMBER], ["fraud-raw"])
    from infra.cli import onboarding_team

    text = onboarding_team.render(spec, "prod")
    raw = yaml.safe_load(text)["config"]
    assert raw == {"amlplatform:platformStack": "prod", "amlplatform:team": {
        "name": "fraud", "readers": [{"objectId": RD, "type": "Group"}], "members": [MEMBER],
        "containers": ["fraud-raw"]}}


def test_a_team_stacks_preview_reads_its_reference_as_no_resource(tmp_path):
    """In `pulumi preview --json` the StackReference is a read step: `scan` records it, never as unmapped."""
    from infra.offline import preview

    urn = "urn:pulumi:prod-fraud::amlplatform::pulumi:pulumi:StackReference::platform"
    doc = {"steps": [{"op": "read", "urn": urn, "newState": {
        "urn": urn, "type": "pulumi:pulumi:StackReference", "custom": True, "id": "organization/amlplatform/prod",
        "inputs": {"name": "organization/amlplatform/prod"}, "outputs": {"outputs": {}}}}]}
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(doc))
    result = preview.load(path)
    assert result.plan.references == ["organization/amlplatform/prod"]
    assert result.plan.resources == [] and result.unmapped == {}


# ---- rules that look across to the platform stack -----------------------------------------------------

WS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlw-contoso-dev"


def planned(urn_name: str, kind: str, rid: str, inputs: dict[str, Any], **kw: Any) -> engine.PlannedResource:
    return engine.PlannedResource(urn=f"urn:pulumi:s::amlplatform::{kind}::{urn_name}", type=kind, name=urn_name,
                                  custom=True, parent="", id=rid, physical_name=rid.rsplit("/", 1)[-1], inputs=inputs,
                                  outputs={}, dependencies=[], protect=False, retain_on_delete=kw.get("retain", False))


def instance_plan() -> engine.Plan:
    ci = planned("ci", "azure-native:machinelearningservices:Compute", f"{WS}/computes/ci-x", {
        "computeName": "ci-x", "workspaceName": "mlw-contoso-dev", "properties": {
            "computeType": "ComputeInstance", "properties": {"enableNodePublicIp": False}}})
    return engine.Plan("dev-fraud", "amlplatform", "s", [ci])


def test_a_team_stacks_instance_is_judged_with_its_platforms_workspace():
    ws = planned("mlw", "azure-native:machinelearningservices:Workspace", WS,
                 {"workspaceName": "mlw-contoso-dev", "managedNetwork": {"isolationMode": "AllowInternetOutbound"}})
    platform = engine.Plan("dev", "amlplatform", "s", [ws])
    # Azure's rule: the workspace is found in the referenced plan; without it the instance has no network.
    alone = azure_rules.evaluate(instance_plan())
    assert [f.rule for f in alone.findings] == ["azure-no-public-ip-compute-network"]
    assert "its workspace is not in the plan" in alone.findings[0].message
    assert azure_rules.evaluate(instance_plan(), referenced=[platform]).ok
    # The platform rule: the platform's managed-network workspace is a fact (policies/config/dev.json).
    from policies.rules import RULES, StackFacts, evaluate

    rule = [r for r in RULES if r.name == "aml-compute-in-vnet"]
    resources = [platform_rules.to_resource(r) for r in instance_plan().custom()]
    facts = StackFacts(environment="prod")
    assert [v.rule for v in evaluate(resources, facts, rule).violations] == ["aml-compute-in-vnet"]
    assert evaluate(resources, StackFacts(environment="prod", managed_network_workspaces=("mlw-contoso-dev",)), rule).ok
    assert platform_rules.facts_for(config.load_stack("dev", ROOT)[0]).managed_network_workspaces == ("mlw-contoso-dev",)
    assert platform_rules.facts_for(config.load_stack("prod", ROOT)[0]).managed_network_workspaces == ()


def test_a_team_stacks_resource_below_a_platform_lock_is_a_finding():
    vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-x"
    lock = planned("lock", "azure-native:authorization:ManagementLockByScope", f"{vault}/providers/Microsoft."
                   "Authorization/locks/lock-kv", {"scope": vault, "level": "CanNotDelete", "lockName": "lock-kv"})
    ra = planned("ra", RA, f"{vault}/providers/Microsoft.Authorization/roleAssignments/g1", {
        "scope": vault, "principalId": DS, "principalType": "Group", "roleAssignmentName": "g1",
        "roleDefinitionId": f"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{R['Reader']}"})
    team = engine.Plan("prod-fraud", "amlplatform", "s", [ra])
    assert azure_rules.evaluate(team).ok
    found = azure_rules.evaluate(team, referenced=[engine.Plan("prod", "amlplatform", "s", [lock])]).findings
    assert [(f.rule, f.resource) for f in found] == [("azure-lock-over-managed-children", "ra")]
