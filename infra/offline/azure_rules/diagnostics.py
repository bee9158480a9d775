"""Diagnostic settings ask only for what their target's type has."""

from __future__ import annotations

from typing import Any, Iterable

from infra.azure_facts.diagnostic_categories import arm_type_of, for_type
from infra.offline.azure_rules.base import AzureRule, PlanView

DIAGNOSTIC_SETTING = "Microsoft.Insights/diagnosticSettings"


def _entries(value: Any) -> list[dict[str, Any]]:
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def diagnostic_categories(view: PlanView) -> Iterable[tuple[str, str]]:
    """Every log category, category group and metric category a setting names must exist for its target's type."""
    for ds in view.of_arm_type(DIAGNOSTIC_SETTING):
        uri = str(ds.inputs.get("resourceUri", ""))
        target = view.get(uri)
        arm_type = view.arm_type(target) if target is not None else arm_type_of(uri)
        supported = for_type(arm_type)
        if supported is None:
            yield ds.urn, (f"targets a {arm_type}, a type infra/azure_facts/diagnostic_categories.py does not list: Azure "
                           "refuses categories the type lacks, so add its supported logs and metrics first")
            continue
        problems = []
        for entry in _entries(ds.inputs.get("logs")):
            if entry.get("categoryGroup") is not None and entry["categoryGroup"] not in supported.groups:
                problems.append(f"log category group {entry['categoryGroup']!r}")
            if entry.get("category") is not None and entry["category"] not in supported.logs:
                problems.append(f"log category {entry['category']!r}")
        for entry in _entries(ds.inputs.get("metrics")):
            if entry.get("category") not in supported.metrics:
                problems.append(f"metric category {entry.get('category')!r}")
        if problems:
            has = (f"logs {sorted(supported.logs) or 'none'}, groups {sorted(supported.groups) or 'none'}, "
                   f"metrics {sorted(supported.metrics) or 'none'}")
            yield ds.urn, (f"asks {arm_type} for {', '.join(problems)}: Azure Monitor answers 400 (such as "
                           f"\"Metric category 'AllMetrics' is not supported\"); the type has {has}")


RULES = (
    AzureRule(
        "azure-diagnostic-categories",
        "Diagnostic settings name only log categories, groups and metrics their target's type supports",
        # Per type: .../reference/supported-logs/<type>-logs and .../supported-metrics/<type>-metrics;
        # the AllMetrics 400 on storage: Azure/terraform-azurerm-avm-res-storage-storageaccount#325.
        "https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/logs-index",
        diagnostic_categories,
    ),
)
