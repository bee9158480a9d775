"""The stack config: typed, validated, one line per mistake. Import what other packages need from here.

    from infra import config
    cfg, raw = config.load_stack("prod")        # stacks/Pulumi.prod.yaml: a platform, team or registry stack

The package, by what each module holds:
- environments.py  the dev / staging / prod defaults table, merged under what a stack writes
- stack.py         StackConfig, the root of an environment stack, and the rules across its sections
- platform.py (platform, protection), network.py, workspace.py (workspace, storage, keyVault, registry,
  monitoring), encryption.py, rbac.py (rbac, teams), compute.py, aks.py, seeding.py (assets), registry.py
  (mlRegistryRef, mlRegistry): the sections, one class per mapping, each field with its docstring
- registry_stack.py  the registry stack's root model and loading
- team_stack.py    a team stack's root model, its platform stack's config and the preflight across stacks
- loading.py       reading stack files and the pulumi engine's config; secrets; the kinds of stack
- errors.py        ConfigError and the formatter that turns a validation error into one line
- base.py          the section base class (camelCase keys, unknown keys refused, field docstrings)
The value types the sections share with the component props (GUIDs, CIDRs, regions, names) are in
infra/types.py. The state backend's config (infra/state_backend/config.py) builds on base.py, errors.py and
loading.py directly; everything else imports from here.
"""

from infra.config.environments import ENVIRONMENT_DEFAULTS, Environment
from infra.config.errors import ConfigError
from infra.config.loading import (KIND_ORDER, NAMESPACE, PLATFORM_STACK_KEY, REGISTRY_KEY, SECRET_KEYS, STACKS_DIR,
                                  TEAM_KEY, AnyStackConfig, StackKind, check_checkout, from_pulumi, load_platform_stack,
                                  load_stack, parse, pulumi_config, read_stack_file, stack_file, stack_kind,
                                  stack_kinds)
from infra.config.rbac import Principal
from infra.config.registry_stack import RegistryStackConfig, registry_stack_file
from infra.config.stack import StackConfig
from infra.config.team_stack import TeamStackConfig

__all__ = [
    "ENVIRONMENT_DEFAULTS", "KIND_ORDER", "NAMESPACE", "PLATFORM_STACK_KEY", "REGISTRY_KEY", "SECRET_KEYS",
    "STACKS_DIR", "TEAM_KEY", "AnyStackConfig", "ConfigError", "Environment", "Principal", "RegistryStackConfig",
    "StackConfig", "StackKind", "TeamStackConfig", "check_checkout", "from_pulumi", "load_platform_stack",
    "load_stack", "parse", "pulumi_config", "read_stack_file", "registry_stack_file", "stack_file", "stack_kind",
    "stack_kinds",
]
