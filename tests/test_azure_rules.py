"""Azure's own rules (infra/offline/azure_rules): every shipped stack passes, every rule fails its bad fixture."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from infra.offline import azure_rules
from infra.offline.engine import Plan
from tests.conftest import stack_plan


def test_every_shipped_stack_has_no_finding(stack):
    report = azure_rules.evaluate(stack_plan(stack))
    assert report.findings == [], [f"{f.rule} {f.resource}: {f.message}" for f in report.findings]
    assert report.ok and report.verdict() == "PASS"


def test_every_rule_names_its_source():
    assert azure_rules.RULES, "no Azure rules registered"
    for rule in azure_rules.RULES:
        assert rule.source.startswith("https://"), rule.id
    ids = [r.id for r in azure_rules.RULES]
    assert len(ids) == len(set(ids))


def with_copy(plan: Plan, token: str, pick: int = 0, **changes) -> Plan:
    """The plan plus a copy of one of its resources under another URN (inputs changed as given)."""
    original = plan.of_type(token)[pick]
    clone = dataclasses.replace(original, urn=original.urn + "-copy", name=original.name + "-copy",
                                inputs={**copy.deepcopy(original.inputs), **changes})
    return dataclasses.replace(plan, resources=[*plan.resources, clone])


def test_a_second_assignment_of_the_same_role_to_the_same_principal_is_a_409():
    plan = stack_plan("dev")
    bad = with_copy(plan, "azure-native:authorization:RoleAssignment",
                    roleAssignmentName="ffffffff-0000-0000-0000-000000000000")
    report = azure_rules.evaluate(bad)
    assert [(f.rule, f.resource) for f in report.findings] == [
        ("azure-role-assignment-unique", plan.of_type("azure-native:authorization:RoleAssignment")[0].name + "-copy")]
    assert "409 RoleAssignmentExists" in report.findings[0].message
    assert report.verdict() == "FAIL: 1 finding(s)"


@pytest.mark.parametrize("field", ["scope", "principalId"])
def test_the_same_role_on_another_scope_or_principal_is_no_finding(field):
    plan = stack_plan("dev")
    original = plan.of_type("azure-native:authorization:RoleAssignment")[0]
    other = original.inputs[field] + ("/x" if field == "scope" else "0")
    assert azure_rules.evaluate(with_copy(plan, "azure-native:authorization:RoleAssignment", **{field: other})).ok
