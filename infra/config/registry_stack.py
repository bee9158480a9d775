"""The registry stack's config (`stacks/Pulumi.registry.yaml`): validated like an environment stack's.

A stack file with `amlplatform:mlRegistry` is the registry stack (`config.stack_kind` tells the kinds of
stack apart), so `amlplatform plan --all` and `pulumi up -s registry` take the same path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from pydantic import Field, model_validator

from infra.config.base import _StackFile
from infra.config.errors import ConfigError, ErrorLines, _Rule
from infra.config.loading import (NAMESPACE, STACKS_DIR, check_checkout, display, is_secure, read_stack_file,
                                  stack_file, stack_kind)
from infra.paths import REPO_ROOT
from infra.config.platform import PlatformConfig, ProtectionConfig
from infra.config.rbac import RbacConfig
from infra.config.registry import REGISTRY_SECTION, MlRegistryConfig
from infra.config.workspace import MonitoringConfig

ALLOWED = ("platform", REGISTRY_SECTION, "monitoring", "protection", "rbac")
# Environment keys someone may reasonably look for here, with why the registry stack has none.
NOT_HERE = {
    "encryption": "the AML registry takes no customer-managed key: Microsoft.MachineLearningServices/registries "
                  "has no encryption property and its storage and container registry are system-created "
                  "(README: Customer-managed keys)",
}


class RegistryStackConfig(_StackFile):
    """`platform` (prefix, location, tags; `environment` sets the governance level: the registry holds what
    prod runs, so the shipped stack says prod), `mlRegistry`, `monitoring`, `protection`, `rbac` (its
    `deployment` principal is the registry's only writer)."""

    platform: PlatformConfig
    """As in environment stacks; `environment` sets the governance level (the shipped stack says prod)."""
    ml_registry: MlRegistryConfig
    """The registry itself."""
    monitoring: MonitoringConfig = Field(default_factory=lambda: MonitoringConfig.model_validate(
        {"retentionDays": 365}))
    """The registry's Log Analytics workspace, as in environment stacks."""
    protection: ProtectionConfig = Field(default_factory=lambda: ProtectionConfig.model_validate(
        {"locks": True, "protect": True}))
    """Locks and Pulumi `protect`, as in environment stacks."""
    rbac: RbacConfig | None = None
    """As in environment stacks; the `deployment` principal is the registry's only writer."""


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

    def required_secrets(self) -> list[str]:
        return []


LINES = ErrorLines(NAMESPACE, RegistryStackConfig)


def parse(raw: Mapping[str, Any], source: str, stack: str = "") -> RegistryStackConfig:
    """The registry stack's keys, one ConfigError line per mistake (as infra/config/loading.py does for the others)."""
    prefix = NAMESPACE + ":"
    data = {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}
    for key, value in data.items():
        if key in NOT_HERE:
            raise ConfigError(f"{source}: {prefix}{key}: not a key of the registry stack: {NOT_HERE[key]}")
        if key not in ALLOWED:
            raise ConfigError(f"{source}: {prefix}{key}: not a key of the registry stack (allowed: "
                              f"{', '.join(ALLOWED)})")
        if is_secure(value):
            raise ConfigError(f"{source}: {prefix}{key}: must not be a secret: platform settings are plain values")
    if "platform" not in data:
        raise ConfigError(f"{source}: {prefix}platform: required key is missing")
    cfg = LINES.validate(data, source)
    cfg._source = source
    cfg._stack = stack
    return cfg


def load(stack: str, root: Path | str, raw: dict[str, Any]) -> RegistryStackConfig:
    """The registry stack file's config (config.load_stack calls this for a file of that kind)."""
    cfg = parse(raw, display(stack_file(stack, root)), stack)
    cfg._root = str(Path(root))
    return cfg


def from_pulumi(raw: dict[str, Any]) -> RegistryStackConfig:
    """The running registry stack's config, as the pulumi engine hands it over."""
    import pulumi

    stack = pulumi.get_stack()
    cfg = parse(raw, f"{STACKS_DIR}/Pulumi.{stack}.yaml", stack)
    check_checkout()
    cfg._root = str(REPO_ROOT)
    return cfg


def registry_stack_file(root: Path | str, stack: str) -> RegistryStackConfig | None:
    """The registry stack named `stack`, if the repository holds it (environment stacks check their ref)."""
    path = stack_file(stack, root)
    if not path.is_file():
        return None
    raw = read_stack_file(path)
    return parse(raw, display(path), stack) if stack_kind(raw) == "registry" else None
