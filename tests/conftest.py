"""Shared fixtures: plans of the real stacks, and plans of edited copies of them."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from infra import config
from infra.offline import arm, engine, relaxations
from infra.offline import stack as offline_stack

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("dev", "staging", "prod")


def raw_stack(stack: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


def plan_raw(stack: str, raw: dict[str, Any]) -> tuple[config.StackConfig, engine.Plan]:
    cfg = config.parse(raw, f"stacks/Pulumi.{stack}.yaml", stack)
    return cfg, offline_stack.plan_stack(cfg, raw)[0]


@functools.lru_cache(maxsize=None)
def _stack_plan(stack: str) -> tuple[config.StackConfig, engine.Plan]:
    return plan_raw(stack, raw_stack(stack))


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
