"""The registry stack's config (`stacks/Pulumi.registry.yaml`): validated like an environment stack's.

A stack file with `amlplatform:mlRegistry` is the registry stack (`config.stack_kind` tells the kinds of
stack apart), so `amlplatform plan --all` and `pulumi up -s registry` take the same path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from infra.config import stack as c
from infra.config.base import _At, _Rule, _Section
from infra.config.rbac import RbacConfig
from infra.config.registry import REGISTRY_SECTION, MlRegistryConfig

ALLOWED = ("platform", REGISTRY_SECTION, "monitoring", "protection", "rbac")
# Environment keys someone may reasonably look for here, with why the registry stack has none.
NOT_HERE = {
    "encryption": "the AML registry takes no customer-managed key: Microsoft.MachineLearningServices/registries "
                  "has no encryption property and its storage and container registry are system-created "
                  "(README: Customer-managed keys)",
}


class RegistryStackConfig(_Section):
    """`platform` (prefix, location, tags; `environment` sets the governance level: the registry holds what
    prod runs, so the shipped stack says prod), `mlRegistry`, `monitoring`, `protection`, `rbac` (its
    `deployment` principal is the registry's only writer)."""

    platform: c.PlatformConfig
    ml_registry: MlRegistryConfig
    monitoring: c.MonitoringConfig = Field(default_factory=lambda: c.MonitoringConfig.model_validate(
        {"retentionDays": 365}))
    protection: c.ProtectionConfig = Field(default_factory=lambda: c.ProtectionConfig.model_validate(
        {"locks": True, "protect": True}))
    rbac: RbacConfig | None = None

    _source: str = PrivateAttr(default="<config>")
    _stack: str = PrivateAttr(default="")
    _root: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _primary_region(self) -> "RegistryStackConfig":
        location = self.platform.location
        regions = self.ml_registry.regions
        if not regions:
            self.ml_registry.regions = [location]
        elif regions[0] != location:
            raise _Rule("mlRegistry.regions", f"must start with the stack's own location {location} (the "
                        "registry's primary region)", regions[0])
        return self

    @property
    def source(self) -> str:
        return self._source

    @property
    def stack(self) -> str:
        return self._stack

    @property
    def root(self) -> Path | None:
        return Path(self._root) if self._root else None

    def required_secrets(self) -> list[str]:
        return []


def parse(raw: Mapping[str, Any], source: str, stack: str = "") -> RegistryStackConfig:
    """The registry stack's keys, one ConfigError line per mistake (as infra/config/stack.py does for the others)."""
    prefix = c.NAMESPACE + ":"
    data = {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}
    for key, value in data.items():
        if key in NOT_HERE:
            raise c.ConfigError(f"{source}: {prefix}{key}: not a key of the registry stack: {NOT_HERE[key]}")
        if key not in ALLOWED:
            raise c.ConfigError(f"{source}: {prefix}{key}: not a key of the registry stack (allowed: "
                                f"{', '.join(ALLOWED)})")
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            raise c.ConfigError(f"{source}: {prefix}{key}: must not be a secret: platform settings are plain values")
    if "platform" not in data:
        raise c.ConfigError(f"{source}: {prefix}platform: required key is missing")
    try:
        cfg = RegistryStackConfig.model_validate(data)
    except _Rule as rule:
        raise c.ConfigError(c._line(source, rule.path, rule.message, rule.value)) from None
    except ValidationError as exc:
        raise c.ConfigError(c._format_error(exc.errors()[0], source, data)) from None
    cfg._source = source
    cfg._stack = stack
    return cfg


def load(stack: str, root: Path | str, raw: dict[str, Any]) -> RegistryStackConfig:
    """The registry stack file's config (config.load_stack calls this for a file of that kind)."""
    cfg = parse(raw, c._display(c.stack_file(stack, root)), stack)
    cfg._root = str(Path(root))
    return cfg


def from_pulumi(raw: dict[str, Any]) -> RegistryStackConfig:
    """The running registry stack's config, as the pulumi engine hands it over."""
    import pulumi

    stack = pulumi.get_stack()
    cfg = parse(raw, f"{c.STACKS_DIR}/Pulumi.{stack}.yaml", stack)
    c.check_checkout()
    cfg._root = str(c.REPO_ROOT)
    return cfg


def registry_stack_file(root: Path | str, stack: str) -> RegistryStackConfig | None:
    """The registry stack named `stack`, if the repository holds it (environment stacks check their ref)."""
    path = c.stack_file(stack, root)
    if not path.is_file():
        return None
    raw = c.read_stack_file(path)
    return parse(raw, c._display(path), stack) if c.stack_kind(raw) == "registry" else None


__all__ = ["RegistryStackConfig", "_At", "from_pulumi", "load", "parse", "registry_stack_file"]
