"""Shared fixtures: plans of the real stacks, and plans of edited copies of them; markers and tools.

The shipped stacks' plans are computed once and shared by every test and every xdist worker
through a file cache keyed by a hash of everything a plan depends on (stacks/, assets/, infra/,
policies/, the SDK versions); a later run with the same inputs reads them back.

Markers (pyproject.toml): `slow`, `checkov` (needs checkov), `node` (needs Node and actionlint).
A test whose tool is missing is skipped with the reason, except under CI=true, where it fails:
CI runs every test.
"""

from __future__ import annotations

import copy
import fcntl
import functools
import hashlib
import os
import shutil
import sys
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn

import pytest
import yaml

from infra import config
from infra.offline import arm, checkov_gate, engine
from policies import relaxations
from infra.offline import stack as offline_stack

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("dev", "staging", "prod")
# What a shipped stack's plan depends on, beside the code of this file.
PLAN_INPUTS = ("stacks", "assets", "infra", "policies")
PLAN_PACKAGES = ("pulumi", "pulumi-azure-native", "pulumiverse-time", "azure-ai-ml", "pydantic")
PLAN_CACHE = ROOT / ".pytest_cache" / "amlplatform-plans"
# The asset cache (infra/seeding/cache.py) of every test and every process a test starts: beside the plans,
# not in the checkout's own .cache/ (tests/test_asset_cache.py gives each of its tests a fresh one).
os.environ.setdefault("AMLPLATFORM_CACHE_DIR", str(ROOT / ".pytest_cache" / "amlplatform-assets"))


def raw_stack(stack: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


def plan_raw(stack: str, raw: dict[str, Any]) -> tuple[config.StackConfig, engine.Plan]:
    cfg = config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)
    return cfg, offline_stack.plan_stack(cfg, raw)[0]


@functools.lru_cache(maxsize=None)
def inputs_key() -> str:
    """A hash of every file under PLAN_INPUTS, this file, the SDK versions and Python's."""
    digest = hashlib.sha256()
    files = [Path(__file__)] + sorted(p for d in PLAN_INPUTS for p in (ROOT / d).rglob("*")
                                      if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for package in PLAN_PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}\0".encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()[:16]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time (xdist workers wait for the one computing the plan, then read it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_plan(stack: str, compute: Callable[[], engine.Plan]) -> engine.Plan:
    """The shipped stack's plan from the file cache, computed by the first process that asks."""
    folder = PLAN_CACHE / inputs_key()
    if not folder.exists():
        # Plans of older inputs are never read again.
        for old in PLAN_CACHE.glob("*"):
            if old.name != folder.name:
                shutil.rmtree(old, ignore_errors=True)
    path = folder / f"{stack}.json"
    with _locked(folder / f"{stack}.lock"):
        if path.exists():
            return engine.Plan.from_json(path.read_text(encoding="utf-8"))
        plan = compute()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(plan.to_json(), encoding="utf-8")
        tmp.replace(path)
        return plan


@functools.lru_cache(maxsize=None)
def _stack_plan(stack: str) -> tuple[config.StackConfig, engine.Plan]:
    raw = raw_stack(stack)
    cfg = config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)
    return cfg, cached_plan(stack, lambda: offline_stack.plan_stack(cfg, raw)[0])


@pytest.fixture(params=STACKS)
def stack(request) -> str:
    return request.param


def stack_plan(stack: str) -> engine.Plan:
    return _stack_plan(stack)[1]


def stack_config(stack: str) -> config.StackConfig:
    return _stack_plan(stack)[0]


def edited_plan(stack: str, edit: Callable[[dict[str, Any]], None]) -> tuple[config.StackConfig, engine.Plan]:
    raw = copy.deepcopy(raw_stack(stack))
    edit(raw)
    return plan_raw(stack, raw)


def template_for(stack: str) -> dict[str, Any]:
    cfg, plan = _stack_plan(stack)
    return arm.render(plan, relaxations.for_stack(cfg))


def arm_resource(template: dict[str, Any], arm_type: str) -> dict[str, Any]:
    found = [r for r in template["resources"] if r["type"] == arm_type]
    assert len(found) == 1, (arm_type, [r["name"] for r in found])
    return found[0]


# --- tools: skipped with the reason locally, a failure in CI ------------------------------------

def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing_tool(reason: str) -> NoReturn:
    """Skip the test for a tool this machine lacks; under CI=true fail it instead."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: every test must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def checkov_tool() -> str:
    """checkov's launcher; tests that take this fixture are marked `checkov`."""
    try:
        return checkov_gate.checkov_bin()
    except checkov_gate.CheckovUnavailable as exc:
        missing_tool(str(exc))


ACTIONLINT_PKG = Path(
    os.environ.get("ACTIONLINT_PKG", ROOT / ".tools" / "node" / "node_modules" / "@tktco" / "node-actionlint"))


@pytest.fixture(scope="session")
def node_tool() -> str:
    """Node, with actionlint's WebAssembly build installed; tests that take this fixture are marked `node`."""
    node = shutil.which("node")
    if node is None:
        missing_tool("node is not on PATH: actionlint runs on Node (apt-get install nodejs npm)")
    if not (ACTIONLINT_PKG / "main.wasm").exists():
        missing_tool(f"actionlint is not installed at {ACTIONLINT_PKG}: run `make setup`")
    return node


# Fixture -> the marker of every test that uses it (directly or through another fixture).
TOOL_MARKERS = {"checkov_tool": pytest.mark.checkov, "node_tool": pytest.mark.node}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in TOOL_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


def _tool_missing_during(phase: str):
    @pytest.hookimpl(wrapper=True)
    def hook(item: pytest.Item) -> Any:
        # A test (or fixture) that reaches checkov on a machine without it: skip or, in CI, fail.
        try:
            return (yield)
        except checkov_gate.CheckovMissing as exc:
            missing_tool(str(exc))

    hook.__name__ = f"pytest_runtest_{phase}"
    return hook


pytest_runtest_setup = _tool_missing_during("setup")
pytest_runtest_call = _tool_missing_during("call")
