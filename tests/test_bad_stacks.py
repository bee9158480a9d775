"""A corpus of broken stack files: each is refused in one line naming the file, the exact key and the rule.

Every file in tests/fixtures/stacks_bad/ is a real stack file with one mistake; its header says what
the mistake is (`# expect:` the key the error must name, `# rule:` words of the rule it must state).
`amlplatform plan` runs in-process and must exit 2 with exactly one line on stderr, before any
resource is declared.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.cli import main as cli

FIXTURES = Path(__file__).parent / "fixtures" / "stacks_bad"
CASES = sorted(p.stem for p in FIXTURES.glob("*.yaml"))


def header(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# "):
            break
        key, _, value = line[2:].partition(": ")
        out[key] = value
    return out


def test_the_corpus_covers_every_rule_family():
    assert len(CASES) >= 140
    families = {c.split("-")[0] for c in CASES}
    assert {"aks", "vm", "compute", "schedule", "tag", "repeated", "network", "platform", "team", "rbac",
            "cluster", "instance", "attach", "yaml"} <= families


@pytest.mark.parametrize("case", CASES)
def test_broken_stack_is_refused_in_one_line(case, tmp_path, capsys):
    src = FIXTURES / f"{case}.yaml"
    expect = header(src)
    (tmp_path / "stacks").mkdir()
    shutil.copy(src, tmp_path / "stacks" / f"Pulumi.{case}.yaml")

    code = cli.main(["--root", str(tmp_path), "plan", case, "--out", str(tmp_path / "out")])

    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert code == 2, (out, err)
    assert len(lines) == 1, lines
    line = lines[0]
    assert f"Pulumi.{case}.yaml: " in line
    assert f": {expect['expect']}: " in line, line
    assert expect["rule"] in line, line
    assert line.count("got ") <= 1 and "Traceback" not in line
    assert not (tmp_path / "out").exists()
