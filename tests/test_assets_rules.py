"""`amlplatform assets validate` on the corpus of broken folders (tests/assets_corpus.py): each mistake
is exit 2 and exactly one line naming the file and the field, recorded under its rule; every rule
has a case; README lists exactly the rules; a folder the project's own checks refuse never loads
azure-ai-ml (that keeps the answer within two seconds)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import infra.seeding
from infra.cli import main as cli
from infra.seeding import checks
from infra.seeding.errors import AssetError
from infra.seeding.rules import RULES
from tests.assets_corpus import CASES, Case, build
from tests.conftest import ROOT


def validate(root: Path, case: Case, monkeypatch, capsys) -> tuple[int, list[str], list[str]]:
    """Run the CLI in-process; (exit code, stderr lines, rules of the error the loader raised)."""
    seen: list[AssetError] = []
    original = infra.seeding.load

    def spy(*args, **kwargs):
        try:
            return original(*args, **kwargs)
        except AssetError as exc:
            seen.append(exc)
            raise

    monkeypatch.setattr(infra.seeding, "load", spy)
    argv = ["assets", "validate", "--root", str(root)] + (["--stack", case.stack] if case.stack else [])
    code = cli.main(argv)
    err = capsys.readouterr()
    assert err.out == ""
    return code, err.err.splitlines(), [rule for e in seen for rule, _ in e.findings]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_each_mistake_is_one_line_naming_the_file_and_the_field(case, tmp_path, monkeypatch, capsys):
    root = build(case, tmp_path)
    code, lines, rules = validate(root, case, monkeypatch, capsys)
    assert code == 2 and len(lines) == 1, lines
    prefix = f"error: {root}/assets/{case.file}: " + (f"{case.field}: " if case.field else "")
    assert lines[0].startswith(prefix), lines[0]
    assert case.says in lines[0]
    assert rules == [case.rule]
    rest = lines[0][len(prefix):]
    assert str(tmp_path) not in rest and "Traceback" not in rest and len(rest) < 500, rest


def test_every_rule_has_a_broken_folder():
    assert {c.rule for c in CASES} == set(RULES)
    assert len({c.id for c in CASES}) == len(CASES)


def _readme_rules() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    table = text[text.index("### Asset rules"):]
    table = table[:table.index("\n\n", table.index("| ID"))]
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| `([a-z0-9-]+)` \| (.*?) \|[^|]*\|$", table, re.M)}


def test_readme_lists_exactly_the_rules():
    assert _readme_rules() == RULES


def test_the_shipped_folder_passes_with_every_stack(capsys):
    # Dev deploys the managed online and the batch endpoint; staging and prod also the Kubernetes one.
    for stack, count in (("dev", 16), ("staging", 18), ("prod", 18)):
        assert cli.main(["--root", str(ROOT), "assets", "validate", "--stack", stack]) == 0
        assert capsys.readouterr().out.startswith(f"assets: {count} valid in assets/ for stack {stack} (lock up to "
                                                  "date)\n")


def test_a_subprocess_answers_one_line_without_traceback_or_azure_ai_ml(tmp_path):
    case = next(c for c in CASES if c.id == "asset-not-utf8")
    root = build(case, tmp_path)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "infra.cli.main", "assets", "validate", "--root", str(root)],
                          capture_output=True, text=True, cwd=ROOT)
    elapsed = time.monotonic() - started
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr == (f"error: {root}/assets/{case.file}: line 6: not UTF-8 text (byte 0xe9): save the file as "
                           "UTF-8, as azure-ai-ml and AML read it\n")
    # The project's own checks refused the folder: azure-ai-ml (seconds to import) was never loaded.
    probe = ("import sys; from infra.cli import main as cli; code = cli.main(['assets', 'validate', '--root', sys.argv[1]]); "
             "print(code, 'azure.ai.ml' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", probe, str(root)], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout == "2 False\n"
    print(f"assets validate on a bad folder: {elapsed:.2f} s")


# ---- the checks on their own --------------------------------------------------------------


@pytest.mark.parametrize("expression", ["0 2 * * 1", "*/15 8-18 * * mon-fri", "30 6 * * 0,6", "0 0 * * SUN"])
def test_cron_expressions_aml_runs(expression):
    assert checks.cron(expression) is None


@pytest.mark.parametrize("expression, problem", [
    ("60 2 * * 1", "minutes '60' is not in 0-59"),
    ("0 2 * * 7", "days of the week '7' is not in 0-6 or sun-sat"),
    ("0 2 * * funday", "days of the week 'funday' is not in 0-6 or sun-sat"),
    ("*/0 2 * * 1", "minutes '*/0': the step after / must be a positive integer"),
    ("0 2 * 1 *", "months must be * (AML ignores the months field"),
    ("0 2 * * 1 2024", "has 6 field(s); AML reads five fields: MINUTES HOURS DAYS MONTHS DAYS-OF-WEEK"),
])
def test_cron_expressions_aml_refuses_or_ignores(expression, problem):
    assert problem in (checks.cron(expression) or "")


def test_recurrence_patterns():
    assert checks.recurrence({"hours": [0, 23], "minutes": 59, "week_days": ["Monday", "sunday"], "month_days": [1, 31]}) == []
    assert checks.recurrence({"hours": 24, "minutes": [60], "week_days": "mon", "month_days": [0]}) == [
        ("hours", "24 not in 0-23"), ("minutes", "60 not in 0-59"), ("month_days", "0 not in 1-31"),
        ("week_days", "'mon' is not one of: monday, tuesday, wednesday, thursday, friday, saturday, sunday")]


def test_bindings_left_to_azure_ai_ml_are_only_other_roots():
    refused, unjudged = checks.bindings("run ${{inputs.a}} ${{ outputs.b }} ${{inputs.c}} ${{name}}",
                                        {"a": {}}, {"b": {}})
    assert refused == ["inputs.c"] and unjudged == ["name"]
