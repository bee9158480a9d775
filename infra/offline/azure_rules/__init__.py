"""Azure's own rules: what Azure Resource Manager would reject, or accept and mis-handle, at `pulumi up`.

checkov judges security posture and the platform rules judge governance; neither knows that
Azure ML refuses a workspace storage account with a hierarchical namespace, or that two
role assignments with the same scope, role and principal are a 409. Each rule here is a
small function over the planned resources that names the Microsoft document or GitHub
issue stating the behaviour, and each has a passing and a failing fixture in the tests.
The plan fails on any finding. An open risk (RISKS) is a behaviour a primary source states but the
plan cannot settle (a documented limitation nobody has yet seen lifted or confirmed): the report
lists what it matches under "To verify on the first deployment", and the plan does not fail on it.

Rules live one module per area (rbac.py, ...); add a rule to its module's RULES and it runs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Sequence

from infra.offline.azure_rules.base import AzureRule, Finding, PlanView
from infra.offline.azure_rules import aks, compute, diagnostics, encryption, locks, network, rbac, serving, storage, subscription
from infra.offline.engine import Plan

RULES: tuple[AzureRule, ...] = (rbac.RULES + storage.RULES + diagnostics.RULES + locks.RULES + compute.RULES
                                + aks.RULES + network.RULES + encryption.RULES + subscription.RULES
                                + serving.RULES)
RISKS: tuple[AzureRule, ...] = encryption.RISKS


@dataclass
class AzureReport:
    rules: tuple[str, ...]
    resources: int
    findings: list[Finding] = field(default_factory=list)
    # Open risks the plan matches: reported, never failing it.
    risks: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def verdict(self) -> str:
        return f"FAIL: {len(self.findings)} finding(s)" if self.findings else "PASS"


def evaluate(plan, rules: tuple[AzureRule, ...] = RULES, referenced: Sequence[Plan] = (),
             risks: tuple[AzureRule, ...] = RISKS) -> AzureReport:
    """Every rule and open risk over the plan's Azure resources (the referenced stacks' plans as context);
    findings sorted by rule, then resource."""
    view = PlanView(plan, referenced)
    report = AzureReport(tuple(r.id for r in rules), len(view.resources))
    for found, checks in ((report.findings, rules), (report.risks, risks)):
        for rule in checks:
            found.extend(Finding(rule.id, urn, message, rule.source) for urn, message in rule.check(view))
        found.sort(key=lambda f: (f.rule, f.urn, f.message))
    return report


def to_json(report: AzureReport) -> str:
    return json.dumps({"rules": list(report.rules), "resources": report.resources, "verdict": report.verdict(),
                       "findings": [asdict(f) for f in report.findings],
                       "risks": [asdict(f) for f in report.risks]}, indent=2, sort_keys=True) + "\n"


__all__ = ["RISKS", "RULES", "AzureReport", "AzureRule", "Finding", "PlanView", "evaluate", "to_json"]
