"""Render a plan, run checkov, the platform rules and Azure's rules, write one output folder whole or not at all.

Two steps, so several stacks can share one checkov process and keep it busy: `stage` writes
the files into a hidden staging folder and queues the checkov scan; `finish` waits for the
scan, writes the report and moves the folder into place. `run` does both.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies.rules import RuleReport

from infra.offline import arm, azure_rules, checkov_gate, platform_rules, report
from infra.offline.azure_rules import AzureReport
from infra.offline.checkov_gate import CheckovResult
from infra.offline.engine import Plan


@dataclass
class GateResult:
    ok: bool
    text: str
    checkov: CheckovResult
    rules: RuleReport
    azure: AzureReport
    folder: Path


@dataclass
class Staged:
    """A plan's folder, written but for checkov's reports and report.md, with its scan under way."""

    plan: Plan
    rules: RuleReport
    azure: AzureReport
    source: str
    staging: Path
    final: Path
    verb: str
    scan: checkov_gate.Scan

    def abort(self) -> None:
        self.scan.cancel()
        shutil.rmtree(self.staging, ignore_errors=True)


def stage(plan: Plan, template: dict[str, Any], rules: RuleReport, azure: AzureReport, source: str, out_root: Path,
          folder: str, verb: str = "plan", extra: dict[str, str] | None = None) -> Staged:
    out_root.mkdir(parents=True, exist_ok=True)
    # A fixed name: checkov's reports carry the path it scanned (and hashes of it), so a fixed path keeps two runs
    # byte-identical; one left by a run that died is replaced (one run per output folder at a time).
    staging = out_root / f".{folder}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        plan.write_json(staging / "plan.json")
        arm.write_json(template, staging / "template.json")
        (staging / "rules.json").write_text(platform_rules.to_json(rules), encoding="utf-8")
        (staging / "azure.json").write_text(azure_rules.to_json(azure), encoding="utf-8")
        for name, text in (extra or {}).items():
            (staging / name).write_text(text, encoding="utf-8")
        scan = checkov_gate.submit(staging / "template.json", staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Staged(plan, rules, azure, source, staging, out_root / folder, verb, scan)


def finish(staged: Staged) -> GateResult:
    plan, rules, azure, final = staged.plan, staged.rules, staged.azure, staged.final
    try:
        result = staged.scan.result()
        _name_final_folder(staged.staging, final)
        (staged.staging / "report.md").write_text(report.markdown(plan, staged.source, result, rules, azure),
                                                  encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        staged.staging.rename(final)
    except BaseException:
        staged.abort()
        raise
    text = report.summary(plan, staged.source, result, rules, azure, str(final), verb=staged.verb)
    return GateResult(result.ok and rules.ok and azure.ok, text, result, rules, azure, final)


def _name_final_folder(staging: Path, final: Path) -> None:
    """checkov's reports name the folder it scanned, the staging folder, gone after the rename: name the
    final folder instead, so the reports point at files that exist."""
    for name in checkov_gate.REPORT_FILES:
        path = staging / name
        if path.exists():
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace(staging.name, final.name), encoding="utf-8")


def run(plan: Plan, template: dict[str, Any], rules: RuleReport, azure: AzureReport, source: str, out_root: Path,
        folder: str, verb: str = "plan", extra: dict[str, str] | None = None) -> GateResult:
    return finish(stage(plan, template, rules, azure, source, out_root, folder, verb, extra))
