"""Team access: the exact grants per stack for a two-team fixture, the custom role, the RBAC rules."""

from __future__ import annotations

import copy

import pytest

from infra.config import stack as config
from infra.naming import stable_guid
from infra.offline import azure_rules, platform_rules
from infra.azure_facts.roles import BUILTIN_ROLES as R
from policies.rules import RULES, Resource, StackFacts, evaluate
from tests.conftest import plan_raw, raw_stack, stack_plan

OWNERS = "00000000-0000-0000-0000-00000000a001"
CICD = "00000000-0000-0000-0000-00000000a002"
G_FRAUD_DS = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d01"
G_FRAUD_RD = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d02"
SP_FRAUD_OPS = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d03"
G_FC_DS = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d04"
U_FC_SUB = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d05"
U_MEMBER = "1c9c6f8e-0b1e-4d6a-9a43-3f3d2b4c5d06"

TEAMS = {
    "fraud": {
        "dataScientists": [{"objectId": G_FRAUD_DS, "type": "Group"}],
        "readers": [{"objectId": G_FRAUD_RD, "type": "Group"}],
        "computeOperators": [{"objectId": SP_FRAUD_OPS, "type": "ServicePrincipal"}],
        "members": [U_MEMBER],
        "containers": ["fraud-raw", "fraud-curated"],
    },
    "forecast": {
        "dataScientists": [{"objectId": G_FC_DS, "type": "Group"}],
        "jobSubmitters": [{"objectId": U_FC_SUB, "type": "User"}],
        "containers": ["forecast-data"],
    },
}


def two_teams(stack):
    raw = copy.deepcopy(raw_stack(stack))
    raw["amlplatform:teams"] = copy.deepcopy(TEAMS)
    return plan_raw(stack, raw)


def access_grants(plan):
    access = [r for r in plan.of_type("azure-native:authorization:RoleAssignment") if "components:Access" in r.urn]
    return {(r.inputs["scope"], r.inputs["roleDefinitionId"].rsplit("/", 1)[-1], r.inputs["principalId"],
             r.inputs["principalType"]) for r in access}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_two_team_grants_are_exactly(stack):
    _, plan = two_teams(stack)
    rg = plan.one("azure-native:resources:ResourceGroup").id
    ws = plan.one("azure-native:machinelearningservices:Workspace").id
    st = plan.one("azure-native:storage:StorageAccount", "storage-account").id
    lake = plan.one("azure-native:storage:StorageAccount", "datalake-account").id
    c = {n: f"{lake}/blobServices/default/containers/{n}" for n in ("fraud-raw", "fraud-curated", "forecast-data")}
    submitter = stable_guid(rg, "job-submitter")
    assert access_grants(plan) == {
        (rg, R["Owner"], OWNERS, "Group"),
        (ws, R["AzureML Data Scientist"], CICD, "ServicePrincipal"),
        (ws, R["Reader"], G_FRAUD_RD, "Group"),
        # Identity-only workspace storage: read-only users get the Reader pair (how-to-disable-local-auth-storage).
        (st, R["Storage Blob Data Reader"], G_FRAUD_RD, "Group"),
        (st, R["Storage File Data Privileged Reader"], G_FRAUD_RD, "Group"),
        (c["fraud-raw"], R["Storage Blob Data Reader"], G_FRAUD_RD, "Group"),
        (c["fraud-curated"], R["Storage Blob Data Reader"], G_FRAUD_RD, "Group"),
        (ws, R["AzureML Data Scientist"], G_FRAUD_DS, "Group"),
        # Notebooks, compute instances and uploads: blob and file, read and write.
        (st, R["Storage Blob Data Contributor"], G_FRAUD_DS, "Group"),
        (st, R["Storage File Data Privileged Contributor"], G_FRAUD_DS, "Group"),
        (c["fraud-raw"], R["Storage Blob Data Contributor"], G_FRAUD_DS, "Group"),
        (c["fraud-curated"], R["Storage Blob Data Contributor"], G_FRAUD_DS, "Group"),
        (ws, R["AzureML Compute Operator"], SP_FRAUD_OPS, "ServicePrincipal"),
        (ws, R["AzureML Data Scientist"], G_FC_DS, "Group"),
        (st, R["Storage Blob Data Contributor"], G_FC_DS, "Group"),
        (st, R["Storage File Data Privileged Contributor"], G_FC_DS, "Group"),
        (c["forecast-data"], R["Storage Blob Data Contributor"], G_FC_DS, "Group"),
        (ws, submitter, U_FC_SUB, "User"),
        # Job submission uploads the code snapshot to the default blob datastore.
        (st, R["Storage Blob Data Contributor"], U_FC_SUB, "User"),
        (c["forecast-data"], R["Storage Blob Data Reader"], U_FC_SUB, "User"),
    }


def test_team_containers_are_private_on_the_lake_and_outlive_offboarding():
    _, plan = two_teams("prod")
    lake = plan.one("azure-native:storage:StorageAccount", "datalake-account").physical_name
    containers = {r.inputs["containerName"]: r for r in plan.of_type("azure-native:storage:BlobContainer")}
    assert sorted(containers) == ["forecast-data", "fraud-curated", "fraud-raw"]
    assert all(c.inputs["publicAccess"] == "None" and c.inputs["accountName"] == lake for c in containers.values())
    # Offboarding removes a team's grants and datastores, never its data.
    assert all(c.retain_on_delete for c in containers.values())


def test_one_principal_in_two_roles_gets_each_grant_once():
    """readers and jobSubmitters both give Storage Blob Data Reader on the team's containers; two teams both give
    AzureML Data Scientist on the workspace: ARM keeps one assignment per (scope, role, principal)."""
    raw = copy.deepcopy(raw_stack("prod"))
    both = [{"objectId": G_FRAUD_RD, "type": "Group"}]
    raw["amlplatform:teams"] = {
        "fraud": {"readers": both, "jobSubmitters": both, "dataScientists": both, "containers": ["fraud-raw"]},
        "forecast": {"dataScientists": both, "containers": ["forecast-data"]},
    }
    _, plan = plan_raw("prod", raw)
    grants = [(r.inputs["scope"], r.inputs["roleDefinitionId"].rsplit("/", 1)[-1], r.inputs["principalId"])
              for r in plan.of_type("azure-native:authorization:RoleAssignment") if "components:Access" in r.urn]
    assert len(grants) == len(set(grants))
    ws = plan.one("azure-native:machinelearningservices:Workspace").id
    st = plan.one("azure-native:storage:StorageAccount", "storage-account").id
    lake = plan.one("azure-native:storage:StorageAccount", "datalake-account").id
    mine = {g for g in grants if g[2] == G_FRAUD_RD}
    assert (f"{lake}/blobServices/default/containers/fraud-raw", R["Storage Blob Data Reader"], G_FRAUD_RD) in mine
    assert (f"{lake}/blobServices/default/containers/fraud-raw", R["Storage Blob Data Contributor"], G_FRAUD_RD) in mine
    assert (ws, R["AzureML Data Scientist"], G_FRAUD_RD) in mine
    assert (st, R["Storage Blob Data Contributor"], G_FRAUD_RD) in mine
    # The resource is named by its (scope, role, principal), never by the team: adding or removing a team
    # that gives the same grant renames nothing, so no delete ever removes a grant another team still gives.
    ra = next(r for r in plan.of_type("azure-native:authorization:RoleAssignment")
              if r.inputs["scope"] == ws and r.inputs["roleDefinitionId"].endswith(R["AzureML Data Scientist"])
              and r.inputs["principalId"] == G_FRAUD_RD)
    assert ra.name == f"access-workspace-azureml-data-scientist-{G_FRAUD_RD}"
    assert azure_rules.evaluate(plan).ok


def test_job_submitter_role_can_run_jobs_but_not_touch_compute_or_workspace():
    plan = stack_plan("prod")
    role = plan.one("azure-native:authorization:RoleDefinition")
    rg = plan.one("azure-native:resources:ResourceGroup").id
    i = role.inputs
    assert i["roleName"] == "AML Job Submitter (contoso-prd)" and i["roleType"] == "CustomRole"
    assert i["assignableScopes"] == [rg] and i["scope"] == rg
    assert i["roleDefinitionId"] == stable_guid(rg, "job-submitter")
    (perm,) = i["permissions"]
    assert "Microsoft.MachineLearningServices/workspaces/jobs/*" in perm["actions"]
    assert "Microsoft.MachineLearningServices/workspaces/*/read" in perm["actions"]
    assert {"Microsoft.MachineLearningServices/workspaces/computes/write",
            "Microsoft.MachineLearningServices/workspaces/computes/delete",
            "Microsoft.MachineLearningServices/workspaces/write"} <= set(perm["notActions"])
    assert not any(a.endswith("/computes/write") or a == "*" for a in perm["actions"])


def test_every_stack_passes_the_rbac_rules(stack):
    cfg = config.parse(raw_stack(stack), f"stacks/Pulumi.{stack}.yaml", stack)
    plan = stack_plan(stack)
    report = platform_rules.check(plan, platform_rules.facts_for(cfg, plan))
    assert not [v for v in report.violations if v.rule.startswith("rbac-")]
    assert report.ok


def _ra(role, principal, scope="/subscriptions/s/resourceGroups/rg", principal_type="Group"):
    props = {"roleDefinitionId": f"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{R[role]}",
             "principalId": principal, "scope": scope}
    if principal_type:
        props["principalType"] = principal_type
    return Resource("urn:x", "azure-native:authorization:RoleAssignment", "ra", props)


FACTS = StackFacts(environment="prod", platform_owners=frozenset({OWNERS}), workspace_identities=frozenset({"wsid"}))
RBAC = [r for r in RULES if r.name.startswith("rbac-")]
ACR = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/cr1"


@pytest.mark.parametrize(
    "resource, rule",
    [
        (_ra("Owner", G_FRAUD_DS), "rbac-privileged-roles"),
        (_ra("Contributor", G_FRAUD_DS), "rbac-privileged-roles"),
        (_ra("User Access Administrator", SP_FRAUD_OPS, principal_type="ServicePrincipal"), "rbac-privileged-roles"),
        (_ra("Contributor", "computeid", scope=ACR, principal_type="ServicePrincipal"), "rbac-privileged-roles"),
        (_ra("Contributor", "wsid", principal_type="ServicePrincipal"), "rbac-privileged-roles"),  # group scope
        (_ra("Reader", G_FRAUD_RD, principal_type=None), "rbac-principal-type"),
    ],
)
def test_rbac_rules_fail_on_bad_assignments(resource, rule):
    report = evaluate([resource], FACTS, RBAC)
    assert [v.rule for v in report.violations] == [rule] and not report.ok


@pytest.mark.parametrize(
    "resource",
    [
        _ra("Owner", OWNERS),
        _ra("Contributor", "wsid", scope=ACR, principal_type="ServicePrincipal"),
        _ra("AzureML Data Scientist", G_FRAUD_DS),
    ],
)
def test_rbac_rules_pass_on_allowed_assignments(resource):
    assert evaluate([resource], FACTS, RBAC).ok


def test_violation_message_names_the_rule_and_fix():
    (v,) = evaluate([_ra("Owner", G_FRAUD_DS)], FACTS, RBAC).violations
    assert v.message.startswith("Owner on /subscriptions/s/resourceGroups/rg is granted to " + G_FRAUD_DS)
    assert "amlplatform:rbac.platformOwners" in v.message


@pytest.mark.parametrize(
    "teams, expected",
    [
        ({"Fraud": {}}, "amlplatform:teams.Fraud: team names are 2-24 lowercase letters"),
        ({"fraud": {"dataScientists": [{"objectId": "not-a-guid", "type": "Group"}]}},
         'amlplatform:teams.fraud.dataScientists[0].objectId: must be an Entra object ID (a GUID), got "not-a-guid"'),
        ({"fraud": {"readers": [{"objectId": G_FRAUD_RD, "type": "Robot"}]}},
         "amlplatform:teams.fraud.readers[0].type: must be one of User, Group or ServicePrincipal"),
        ({"fraud": {"owners": [{"objectId": G_FRAUD_RD, "type": "Group"}]}},
         "amlplatform:teams.fraud.owners: unknown key (allowed: readers, dataScientists, computeOperators, "
         "jobSubmitters, members, containers)"),
        ({"fraud": {"containers": ["Fraud_Raw"]}}, "amlplatform:teams.fraud.containers[0]: must be 3-63 lowercase letters"),
        ({"fraud": {"containers": ["azureml-x"]}}, "containers[0]: must not start with azureml"),
        ({"a1": {"containers": ["shared"]}, "b2": {"containers": ["shared"]}},
         'amlplatform:teams.b2.containers[0]: already belongs to team a1: a container has one owning team, got "shared"'),
        ({"fraud": {"readers": [{"objectId": G_FRAUD_RD, "type": "Group"}, {"objectId": G_FRAUD_RD, "type": "Group"}]}},
         f'amlplatform:teams.fraud.readers[1].objectId: repeats a principal listed earlier in this role, got "{G_FRAUD_RD}"'),
    ],
)
def test_bad_team_config_fails_clearly(teams, expected):
    raw = copy.deepcopy(raw_stack("dev"))
    raw["amlplatform:teams"] = teams
    with pytest.raises(config.ConfigError) as exc:
        config.parse(raw, "stacks/Pulumi.dev.yaml", "dev")
    assert expected in str(exc.value)


def test_platform_owners_must_be_a_group():
    raw = copy.deepcopy(raw_stack("dev"))
    raw["amlplatform:rbac"]["platformOwners"]["type"] = "User"
    expected = "amlplatform:rbac.platformOwners.type: must be Group: privileged roles go to an Entra group"
    with pytest.raises(config.ConfigError, match=expected):
        config.parse(raw, "stacks/Pulumi.dev.yaml", "dev")


WS_SCOPE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlw"


def test_instance_identity_contributor_only_on_the_workspace():
    facts = StackFacts(environment="prod", platform_owners=frozenset({OWNERS}), instance_identities=frozenset({"ciid"}))
    on_ws = _ra("Contributor", "ciid", scope=WS_SCOPE, principal_type="ServicePrincipal")
    assert evaluate([on_ws], facts, RBAC).ok
    for scope in (ACR, "/subscriptions/s/resourceGroups/rg", WS_SCOPE + "/computes/c1"):
        bad = _ra("Contributor", "ciid", scope=scope, principal_type="ServicePrincipal")
        assert [v.rule for v in evaluate([bad], facts, RBAC).violations] == ["rbac-privileged-roles"], scope
