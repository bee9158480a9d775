"""Run checkov over rendered templates and decide pass or fail.

checkov lives in its own virtualenv (it pins packaging==23.2, pulumi needs
newer), so it runs as a subprocess. It exits 0 on files it silently skipped
or could not parse, so the verdict comes from its JSON report: no failed
check, no parsing error, and at least one resource scanned.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CUSTOM_CHECKS = ROOT / "policies" / "checkov"


class CheckovUnavailable(Exception):
    pass


@dataclass(frozen=True)
class Finding:
    check_id: str
    check_name: str
    resource: str
    file: str
    reason: str = ""


@dataclass
class CheckovResult:
    passed: int
    failed: int
    skipped: int
    parsing_errors: int
    resource_count: int
    failures: list[Finding] = field(default_factory=list)
    skips: list[Finding] = field(default_factory=list)
    passes: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.parsing_errors == 0 and self.resource_count > 0

    def verdict(self) -> str:
        if self.parsing_errors:
            return f"FAIL: checkov could not parse {self.parsing_errors} file(s)"
        if self.resource_count == 0:
            return "FAIL: checkov scanned no resources (is the template ARM-shaped?)"
        if self.failed:
            return f"FAIL: {self.failed} failed check(s)"
        return "PASS"

    def for_file(self, name: str) -> "CheckovResult":
        """The findings of one file of a directory scan (counts recomputed)."""
        pick = [f for f in self.failures if Path(f.file).name == name]
        skips = [f for f in self.skips if Path(f.file).name == name]
        passes = [f for f in self.passes if Path(f.file).name == name]
        resources = {f.resource for f in pick + skips + passes}
        return CheckovResult(len(passes), len(pick), len(skips), 0, len(resources), pick, skips, passes)


def checkov_bin() -> str:
    explicit = os.environ.get("CHECKOV_BIN")
    if explicit:
        return explicit
    local = ROOT / ".venv-checkov" / "bin" / "checkov"
    if local.exists():
        return str(local)
    found = shutil.which("checkov")
    if found:
        return found
    raise CheckovUnavailable(
        "checkov is not installed: run `make checkov` (it gets its own virtualenv, .venv-checkov) "
        "or set CHECKOV_BIN"
    )


def _findings(items: list[dict[str, Any]]) -> list[Finding]:
    out = []
    for item in items:
        suppress = item.get("check_result", {}).get("suppress_comment", "") or ""
        out.append(
            Finding(
                check_id=item["check_id"],
                check_name=item.get("check_name", ""),
                resource=item.get("resource", ""),
                file=item.get("file_path", ""),
                reason=suppress.strip(),
            )
        )
    return sorted(out, key=lambda f: (f.file, f.resource, f.check_id))


def parse_report(report: Any) -> CheckovResult:
    # One framework gives a dict; an empty scan gives a bare summary or an empty list.
    if isinstance(report, list):
        report = next((r for r in report if r.get("check_type") == "arm"), report[0] if report else {})
    summary = report.get("summary", {})
    results = report.get("results", {})
    return CheckovResult(
        passed=int(summary.get("passed", 0)),
        failed=int(summary.get("failed", 0)),
        skipped=int(summary.get("skipped", 0)),
        parsing_errors=int(summary.get("parsing_errors", 0)),
        resource_count=int(summary.get("resource_count", 0)),
        failures=_findings(results.get("failed_checks", [])),
        skips=_findings(results.get("skipped_checks", [])),
        passes=_findings(results.get("passed_checks", [])),
    )


def _inline_skips(target: Path) -> dict[tuple[str, str, str], str]:
    """(file name, resource, check ID) -> reason, from the templates' metadata.checkov."""
    files = sorted(target.glob("*.json")) if target.is_dir() else [target]
    out = {}
    for path in files:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        for res in doc.get("resources", []) if isinstance(doc, dict) else []:
            for line in (res.get("metadata") or {}).get("checkov", []):
                head, _, reason = str(line).partition(": ")
                out[(path.name, f"{res.get('type')}.{res.get('name')}", head.removeprefix("checkov:skip="))] = reason
    return out


def apply_graph_skips(result: CheckovResult, skips: dict[tuple[str, str, str], str]) -> CheckovResult:
    """checkov honours inline skips in ARM for resource checks but not for graph checks (CKV2_*):
    apply the same skips to those, so one mechanism covers both."""
    kept = []
    for f in result.failures:
        reason = skips.get((Path(f.file).name, f.resource, f.check_id))
        if reason is None:
            kept.append(f)
        else:
            result.skips.append(Finding(f.check_id, f.check_name, f.resource, f.file, reason))
    moved = len(result.failures) - len(kept)
    result.failures = kept
    result.failed -= moved
    result.skipped += moved
    return result


def run(target: Path, out_dir: Path) -> CheckovResult:
    """Scan a template file or a directory of them; reports land in out_dir as checkov.{json,sarif,xml}."""
    import time

    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        checkov_bin(),
        "--framework", "arm",
        "--skip-download",
        "--external-checks-dir", str(CUSTOM_CHECKS),
        "-o", "json", "-o", "sarif", "-o", "junitxml",
        "--output-file-path", str(out_dir),
        "-d" if target.is_dir() else "-f", str(target),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": ""}
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    except OSError as exc:
        raise CheckovUnavailable(f"cannot run checkov ({cmd[0]}): {exc.strerror}; run `make checkov`") from None
    seconds = time.perf_counter() - start
    raw = out_dir / "results_json.json"
    if proc.returncode not in (0, 1) or not raw.exists():
        raise CheckovUnavailable(
            f"checkov failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-2000:]}"
        )
    report = json.loads(raw.read_text(encoding="utf-8"))
    for src, dst in (("results_json.json", "checkov.json"), ("results_sarif.sarif", "checkov.sarif"),
                     ("results_junitxml.xml", "checkov.xml")):
        if (out_dir / src).exists():
            (out_dir / src).replace(out_dir / dst)
    result = apply_graph_skips(parse_report(report), _inline_skips(target))
    result.seconds = seconds
    return result
