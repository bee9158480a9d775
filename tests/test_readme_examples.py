"""Every example in README's config reference plans with zero failures (checkov, platform and Azure rules)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from infra.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]


def examples() -> list[tuple[str, str]]:
    """(base stack, YAML block) for each yaml block in the config reference."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Config reference", 1)[1].split("\n## ", 1)[0]
    out = []
    for block in re.findall(r"```yaml\n(.*?)```", section, re.S):
        first = block.splitlines()[0]
        m = re.fullmatch(r"# stacks/Pulumi\.(?P<stack>[\w.-]+)\.yaml", first.strip())
        assert m, f"a config reference example must start with '# stacks/Pulumi.<stack>.yaml': {first}"
        out.append((m.group("stack"), block))
    return out


def test_the_config_reference_has_examples():
    assert len(examples()) >= 2


@pytest.mark.parametrize("index", range(len(examples())))
def test_readme_example_plans(index, tmp_path, capsys):
    stack, block = examples()[index]
    doc = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    doc["config"].update(yaml.safe_load(block))
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    shutil.copytree(ROOT / "assets", tmp_path / "assets")

    code = cli.main(["--root", str(tmp_path), "plan", stack, "--out", str(tmp_path / "out")])

    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "0 failed" in out and "platform rules: PASS" in out and "azure rules: PASS" in out
