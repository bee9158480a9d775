"""Render a plan, run checkov, the platform rules and Azure's rules, write one output folder whole or not at all."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies.rules import RuleReport

from . import arm, azure_rules, checkov_gate, platform_rules, report
from .azure_rules import AzureReport
from .checkov_gate import CheckovResult
from .engine import Plan


@dataclass
class GateResult:
    ok: bool
    text: str
    checkov: CheckovResult
    rules: RuleReport
    azure: AzureReport
    folder: Path


def run(plan: Plan, template: dict[str, Any], rules: RuleReport, azure: AzureReport, source: str, out_root: Path,
        folder: str, verb: str = "plan", extra: dict[str, str] | None = None) -> GateResult:
    out_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder}-", dir=out_root))
    final = out_root / folder
    try:
        (staging / "plan.json").write_text(plan.to_json(), encoding="utf-8")
        (staging / "template.json").write_text(arm.to_json(template), encoding="utf-8")
        (staging / "rules.json").write_text(platform_rules.to_json(rules), encoding="utf-8")
        (staging / "azure.json").write_text(azure_rules.to_json(azure), encoding="utf-8")
        for name, text in (extra or {}).items():
            (staging / name).write_text(text, encoding="utf-8")
        result = checkov_gate.run(staging / "template.json", staging)
        (staging / "report.md").write_text(report.markdown(plan, source, result, rules, azure), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    text = report.summary(plan, source, result, rules, azure, str(final), verb=verb)
    return GateResult(result.ok and rules.ok and azure.ok, text, result, rules, azure, final)
