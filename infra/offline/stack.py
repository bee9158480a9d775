"""Plan a whole stack offline: the program, its config, placeholders for secrets not set yet.

A team stack's program reads its platform stack's outputs through a StackReference; offline,
the platform stack is planned first (once per process for the same config: `plan --all` and
every team stack on it share one plan) and the emulator answers the reference with its outputs.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from infra.config import AnyStackConfig, StackConfig, TeamStackConfig, load_stack
from infra.offline.emulator import OFFLINE_SUBSCRIPTION
from infra.offline.engine import ORGANIZATION, PROJECT, Plan, run, with_secret_placeholders

if TYPE_CHECKING:
    from infra.config import RegistryStackConfig

# Platform plans by (repository root, stack, config): what team stacks read their outputs from.
_PLATFORM_PLANS: OrderedDict[tuple[str, str, str], Plan] = OrderedDict()
_KEEP = 8


def _key(cfg: StackConfig, raw: dict[str, Any]) -> tuple[str, str, str]:
    return str(cfg.root.resolve()) if cfg.root else "", cfg.stack, json.dumps(raw, sort_keys=True, default=str)


def plan_stack(cfg: AnyStackConfig, raw: dict[str, Any]) -> tuple[Plan, list[str]]:
    """The stack's plan, and the secret keys it still needs before `pulumi up`."""
    if isinstance(cfg, TeamStackConfig):
        return plan_team_stack(cfg, raw), []
    from infra import program
    from infra.config import RegistryStackConfig

    if isinstance(cfg, RegistryStackConfig):
        from infra.program import registry as registry_program

        return run(lambda: registry_program.build_registry(cfg), cfg.stack, raw,
                   subscription_id=cfg.platform.subscription_id or OFFLINE_SUBSCRIPTION), []

    raw, missing = with_secret_placeholders(cfg.required_secrets(), raw)
    plan = run(lambda: program.build(cfg), cfg.stack, raw,
               subscription_id=cfg.platform.subscription_id or OFFLINE_SUBSCRIPTION)
    _PLATFORM_PLANS[_key(cfg, raw)] = plan
    while len(_PLATFORM_PLANS) > _KEEP:
        _PLATFORM_PLANS.popitem(last=False)
    return plan, missing


def platform_plan(cfg: StackConfig, raw: dict[str, Any]) -> Plan:
    """The platform stack's plan, planned once per process for the same config."""
    filled, _ = with_secret_placeholders(cfg.required_secrets(), raw)
    found = _PLATFORM_PLANS.get(_key(cfg, filled))
    return found if found is not None else plan_stack(cfg, raw)[0]


def reference_name(platform_stack: str) -> str:
    """How the team program names its platform stack offline (infra/program/team.py reference_name)."""
    return f"{ORGANIZATION}/{PROJECT}/{platform_stack}"


def governing(cfg: AnyStackConfig) -> StackConfig | RegistryStackConfig:
    """The stack whose settings and governance apply: the stack itself, or a team stack's platform stack."""
    return cfg.platform_config if isinstance(cfg, TeamStackConfig) else cfg


def referenced_plans(cfg: AnyStackConfig) -> list[Plan]:
    """The plans of the stacks this one references (a team stack's platform stack; a platform stack: none)."""
    if not isinstance(cfg, TeamStackConfig):
        return []
    platform = cfg.platform_config
    return [platform_plan(platform, load_stack(platform.stack, platform.root or ".")[1])]


def plan_team_stack(cfg: TeamStackConfig, raw: dict[str, Any]) -> Plan:
    """A team stack's plan: its platform stack is planned first and answers the StackReference."""
    from infra.program import team as team_program

    platform = cfg.platform_config
    outputs = referenced_plans(cfg)[0].outputs
    subscription = platform.platform.subscription_id or OFFLINE_SUBSCRIPTION
    return run(lambda: team_program.build(cfg), cfg.stack, raw, subscription_id=subscription,
               references={reference_name(platform.stack): outputs})
