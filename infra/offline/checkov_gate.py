"""Run checkov over rendered templates and decide pass or fail.

checkov lives in its own virtualenv (it pins packaging==23.2, pulumi needs
newer), so it runs as a subprocess. It exits 0 on files it silently skipped
or could not parse, so the verdict comes from its JSON report: no failed
check, no parsing error, and at least one resource scanned.

Start-up is most of checkov's time (it imports every framework it has), so one
long-lived process per interpreter serves every scan: checkov_arm.py, run by
checkov's own Python, with the ARM runner alone. `start()` launches it early so
its start-up overlaps the caller's work; `submit()` queues a scan and returns at
once. Where checkov's interpreter cannot be told from its launcher, each scan
runs the checkov CLI instead (the same reports, slower).
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
CUSTOM_CHECKS = ROOT / "policies" / "checkov"
WORKER = Path(__file__).with_name("checkov_arm.py")
TIMEOUT = 600  # seconds one scan may take before checkov counts as broken
_REPORTS = (("results_json.json", "checkov.json"), ("results_sarif.sarif", "checkov.sarif"),
            ("results_junitxml.xml", "checkov.xml"))
REPORT_FILES = tuple(dst for _, dst in _REPORTS)


class CheckovUnavailable(Exception):
    """checkov cannot give a verdict: not installed, or it broke (exit 3)."""


class CheckovMissing(CheckovUnavailable):
    """checkov is not installed where the gate looks for it."""


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
    seconds: float = 0.0  # wall seconds from submission to result
    cpu_seconds: float = 0.0  # checkov's own CPU seconds for this scan (its start-up not included)

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
        resolved = shutil.which(explicit)
        if resolved is None:
            raise CheckovMissing(f"cannot run checkov ({explicit}): CHECKOV_BIN names no executable; "
                                 "run `make checkov` or fix CHECKOV_BIN")
        return resolved
    local = ROOT / ".venv-checkov" / "bin" / "checkov"
    if local.exists():
        return str(local)
    found = shutil.which("checkov")
    if found:
        return found
    raise CheckovMissing(
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


def _env() -> dict[str, str]:
    # PYTHONPATH: the custom checks import policies.checkov._base. BC_SKIP_MAPPING: no download.
    # PYTHONHASHSEED: checkov lists some evaluated keys in set order; a fixed seed keeps its reports byte-identical.
    return {**os.environ, "PYTHONPATH": str(ROOT), "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "",
            "PYTHONHASHSEED": "0"}


# pip's launcher for an interpreter path too long for #!: `#!/bin/sh` then `'''exec' "/path/python" "$0" "$@"`.
_SH_TRAMPOLINE = re.compile(r"""^'''exec' "?([^" ]+)"?""", re.M)


def checkov_python(launcher: str) -> str | None:
    """The interpreter a pip-installed `checkov` launcher runs; None when it is not a Python launcher."""
    try:
        with open(launcher, "rb") as f:
            lines = f.read(512).decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    if not lines or not lines[0].startswith("#!"):
        return None
    trampoline = _SH_TRAMPOLINE.search("\n".join(lines[1:3])) if lines[0].strip() == "#!/bin/sh" else None
    python = trampoline.group(1) if trampoline else lines[0][2:].strip().split(" ")[0]
    if not re.fullmatch(r"python[0-9.]*", Path(python).name) or not os.access(python, os.X_OK):
        return None
    return python


class _Worker:
    """One checkov_arm.py process; it answers in request order."""

    def __init__(self, launcher: str, python: str) -> None:
        self.launcher = launcher
        self._log: IO[bytes] = tempfile.TemporaryFile()  # stderr: a pipe nobody reads could fill and block it
        try:
            self.proc = subprocess.Popen([python, str(WORKER), str(CUSTOM_CHECKS)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=self._log, env=_env(), cwd=ROOT)
        except OSError as exc:
            self._log.close()
            raise CheckovMissing(f"cannot run checkov ({python}): {exc.strerror}; run `make checkov`") from None
        self._buffer = b""

    def send(self, target: Path, out_dir: Path) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps({"target": str(target), "out_dir": str(out_dir)}) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise self._broken() from None

    def receive(self, target: Path) -> dict[str, Any]:
        """The answer for target; answers to earlier requests nobody waits for any more are dropped."""
        while True:
            answer = self._next()
            if answer["target"] == str(target):
                if "error" in answer:
                    raise CheckovUnavailable(f"checkov failed on {target}: {answer['error'].strip()[-2000:]}")
                return answer

    def _next(self) -> dict[str, Any]:
        if self.proc.stdout is None or self.proc.stdout.closed:
            raise CheckovUnavailable("checkov was stopped before it answered")
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + TIMEOUT
        while b"\n" not in self._buffer:
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise CheckovUnavailable(f"checkov did not answer within {TIMEOUT} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise self._broken()
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _broken(self) -> CheckovUnavailable:
        code = self.proc.wait()
        self._log.seek(0)
        tail = self._log.read().decode("utf-8", "replace").strip()[-2000:]
        return CheckovUnavailable(f"checkov failed (exit {code}): {tail}")

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


_worker: _Worker | None = None


def _shared() -> _Worker | None:
    """This interpreter's checkov process (a new one when CHECKOV_BIN now names another checkov,
    or the last one failed); None when only the CLI can be run."""
    global _worker
    launcher = checkov_bin()
    if _worker is not None and (_worker.launcher != launcher or _worker.proc.poll() is not None):
        close()
    if _worker is None:
        python = checkov_python(launcher)
        if python is None:
            return None
        _worker = _Worker(launcher, python)
    return _worker


def start() -> None:
    """Launch checkov now, so its start-up runs beside the caller's own work (a no-op once it runs)."""
    _shared()


def close() -> None:
    """Stop this interpreter's checkov process (it is started again when needed)."""
    global _worker
    if _worker is not None:
        _worker.close()
        _worker = None


atexit.register(close)


@dataclass
class Scan:
    """A scan under way; result() waits for it. Collect results in the order the scans were submitted."""

    target: Path
    out_dir: Path
    worker: _Worker | None
    started: float
    answered: bool = False

    def result(self) -> CheckovResult:
        if self.worker is None:
            return _run_cli(self.target, self.out_dir)
        try:
            self.answered = True
            answer = self.worker.receive(self.target)
        except CheckovUnavailable:
            close()  # a broken or stuck process is not reused
            raise
        result = _collect(self.target, self.out_dir)
        result.seconds = time.perf_counter() - self.started
        result.cpu_seconds = float(answer.get("cpu", 0.0))
        return result

    def cancel(self) -> None:
        """Wait for checkov to be done with out_dir (so it is not written after the caller removes it)
        and drop its answer."""
        if self.worker is None or self.answered or self.worker is not _worker:
            return
        self.answered = True
        try:
            self.worker.receive(self.target)
        except CheckovUnavailable:
            close()


def submit(target: Path, out_dir: Path) -> Scan:
    """Queue a scan of a template file or a directory of them; its reports land in out_dir."""
    # Absolute: checkov runs in the repository root, the caller maybe elsewhere.
    target, out_dir = target.absolute(), out_dir.absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    worker = _shared()
    if worker is not None:
        worker.send(target, out_dir)
    return Scan(target, out_dir, worker, time.perf_counter())


def run(target: Path, out_dir: Path) -> CheckovResult:
    """Scan a template file or a directory of them; reports land in out_dir as checkov.{json,sarif,xml}."""
    return submit(target, out_dir).result()


def _collect(target: Path, out_dir: Path) -> CheckovResult:
    raw = out_dir / "results_json.json"
    if not raw.exists():
        raise CheckovUnavailable(f"checkov wrote no report for {target}")
    report = json.loads(raw.read_text(encoding="utf-8"))
    for src, dst in _REPORTS:
        if (out_dir / src).exists():
            (out_dir / src).replace(out_dir / dst)
    return apply_graph_skips(parse_report(report), _inline_skips(target))


def _run_cli(target: Path, out_dir: Path) -> CheckovResult:
    """The same scan by the checkov CLI, for a checkov whose interpreter is unknown."""
    target, out_dir = target.absolute(), out_dir.absolute()
    cmd = [
        checkov_bin(),
        "--framework", "arm",
        "--skip-download",
        "--external-checks-dir", str(CUSTOM_CHECKS),
        "-o", "json", "-o", "sarif", "-o", "junitxml",
        "--output-file-path", str(out_dir),
        "-d" if target.is_dir() else "-f", str(target),
    ]
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=TIMEOUT)
    except OSError as exc:
        raise CheckovMissing(f"cannot run checkov ({cmd[0]}): {exc.strerror}; run `make checkov`") from None
    if proc.returncode not in (0, 1) or not (out_dir / "results_json.json").exists():
        raise CheckovUnavailable(
            f"checkov failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-2000:]}"
        )
    result = _collect(target, out_dir)
    result.seconds = time.perf_counter() - started
    return result
