"""Run the platform rules (policies/rules.py) over an offline plan."""

from __future__ import annotations

import json
from dataclasses import asdict

from policies.rules import RuleReport, StackFacts, evaluate

from ..config import StackConfig
from .engine import Plan

WORKSPACE_IDENTITY = "workspace-identity-uai"


def facts_for(cfg: StackConfig, plan: Plan) -> StackFacts:
    owners = {cfg.rbac.platform_owners.object_id} if cfg.rbac else set()
    identities = {
        str(r.outputs.get("principalId", "")).lower()
        for r in plan.of_type("azure-native:managedidentity:UserAssignedIdentity")
        if r.name == WORKSPACE_IDENTITY
    }
    return StackFacts(platform_owners=frozenset(owners), workspace_identities=frozenset(identities))


def check(plan: Plan, facts: StackFacts) -> RuleReport:
    return evaluate(((r.urn, r.type, r.inputs) for r in plan.custom()), facts)


def to_json(report: RuleReport) -> str:
    return json.dumps({"rules": list(report.rules), "checked": report.checked, "verdict": report.verdict(),
                       "violations": [asdict(v) for v in report.violations]}, indent=2, sort_keys=True) + "\n"
