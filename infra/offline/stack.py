"""Plan a whole stack offline: the program, its config, placeholders for secrets not set yet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra.config import StackConfig
from infra.offline.emulator import OFFLINE_SUBSCRIPTION
from infra.offline.engine import Plan, run, with_secret_placeholders


if TYPE_CHECKING:
    from infra.config import RegistryStackConfig


def plan_stack(cfg: StackConfig | RegistryStackConfig, raw: dict[str, Any]) -> tuple[Plan, list[str]]:
    """The stack's plan, and the secret keys it still needs before `pulumi up`."""
    from infra import program
    from infra.config import RegistryStackConfig

    if isinstance(cfg, RegistryStackConfig):
        from infra import registry_program

        return run(lambda: registry_program.build_registry(cfg), cfg.stack, raw,
                   subscription_id=cfg.platform.subscription_id or OFFLINE_SUBSCRIPTION), []

    raw, missing = with_secret_placeholders(cfg.required_secrets(), raw)
    plan = run(lambda: program.build(cfg), cfg.stack, raw,
               subscription_id=cfg.platform.subscription_id or OFFLINE_SUBSCRIPTION)
    return plan, missing
