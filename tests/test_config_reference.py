"""README's config reference is what scripts/config_reference.py generates from the config models, and every
config field has the docstring it is generated from."""

from __future__ import annotations

import importlib.util
import sys
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from infra import config
from infra.state_backend.config import BootstrapConfig

ROOT = Path(__file__).resolve().parents[1]


def _script():
    """scripts/config_reference.py as a module (scripts/ is not a package)."""
    if "config_reference" not in sys.modules:
        spec = importlib.util.spec_from_file_location("config_reference", ROOT / "scripts" / "config_reference.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["config_reference"] = module
        spec.loader.exec_module(module)
    return sys.modules["config_reference"]


def models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """`root` and every model its fields reach (through optional, list and dict fields)."""
    seen: list[type[BaseModel]] = []

    def walk(tp: object) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp not in seen:
                seen.append(tp)
                for field in tp.model_fields.values():
                    walk(field.annotation)
        for arg in typing.get_args(tp):
            walk(arg)

    walk(root)
    return seen


def test_readme_config_reference_is_generated_from_the_models():
    script = _script()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert script.BEGIN in readme and script.END in readme
    assert script.with_reference(readme) == readme, "README's config reference is stale: run `make config-reference`"


def test_the_check_mode_fails_on_a_stale_table(tmp_path, monkeypatch):
    script = _script()
    stale = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    stale.write_text(text.replace("| `platform.prefix` |", "| `platform.prefx` |"), encoding="utf-8")
    monkeypatch.setattr(script, "README", stale)
    assert script.main(["--check"]) == 1
    assert script.main([]) == 0 and script.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("root", [config.StackConfig, config.RegistryStackConfig, config.TeamStackConfig, BootstrapConfig],
                         ids=lambda m: m.__name__)
def test_every_config_field_has_a_docstring(root):
    missing = [f"{m.__name__}.{name}" for m in models(root) for name, f in m.model_fields.items()
               if not (f.description or "").strip()]
    assert missing == []


def test_the_reference_shows_each_environments_default():
    rows = {r.key: r for r in _script().environment_rows()}
    assert rows["network.mode"].default == "`public` (dev); `private` (staging, prod)"
    assert rows["monitoring.retentionDays"].default == "`30` (dev); `90` (staging); `365` (prod)"
    assert rows["network.monitorPrivateLink"].default == "`false` (dev); `true` (staging, prod)"
    assert rows["aks.systemPool.count"].default == "`2` (dev, staging); `3` (prod)"
    assert rows["platform.prefix"].type == "2-10 lowercase letters or digits" and rows["platform.prefix"].default == "required"
    assert rows["teams.<name>.members"].type == "list of user object IDs"
    assert rows["aks.maxPods"].type == "whole number, at most 250"
    # Each key once (the hand-written table had `aks` twice).
    keys = [r.key for r in _script().environment_rows()]
    assert len(keys) == len(set(keys))
