"""The platform rules: one list, run offline over plans and previews and live by the CrossGuard pack."""

from __future__ import annotations

from typing import Iterable

from . import access, aks, data, encryption, governance, network, serving, workspace
from .core import ANY, Resource, Rule, RuleReport, StackFacts, Violation, unknown
from .core import evaluate as _evaluate

RULES: tuple[Rule, ...] = (
    workspace.RULES + data.RULES + encryption.RULES + network.RULES + aks.RULES + access.RULES + governance.RULES
    + serving.RULES
)


def evaluate(resources: Iterable[Resource], facts: StackFacts, rules: Iterable[Rule] = RULES) -> RuleReport:
    return _evaluate(rules, resources, facts)


__all__ = ["ANY", "RULES", "Resource", "Rule", "RuleReport", "StackFacts", "Violation", "evaluate", "unknown"]
