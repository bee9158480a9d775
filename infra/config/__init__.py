"""The stack config: typed, validated, one line per mistake. Import what other packages need from here.

    from infra import config
    cfg, raw = config.load_any("prod")          # stacks/Pulumi.prod.yaml: an environment or the registry stack

The package, by what each module holds:
- environments.py  the dev / staging / prod defaults table, merged under what a stack writes
- stack.py         StackConfig, the root of an environment stack, and the rules across its sections
- platform.py (platform, protection), network.py, workspace.py (workspace, storage, keyVault, registry,
  monitoring), encryption.py, rbac.py (rbac, teams), compute.py, aks.py, seeding.py (assets), registry.py
  (mlRegistryRef, mlRegistry): the sections, one class per mapping, each field with its docstring
- registry_stack.py  the registry stack's root model and loading
- loading.py       reading stack files and the pulumi engine's config; secrets
- errors.py        ConfigError and the formatter that turns a validation error into one line
- base.py          the section base class (camelCase keys, unknown keys refused, field docstrings)
The value types the sections share with the component props (GUIDs, CIDRs, regions, names) are in
infra/types.py. The state backend's config (infra/state_backend/config.py) builds on base.py, errors.py and
loading.py directly; everything else imports from here.
"""

from infra.config.environments import ENVIRONMENT_DEFAULTS, Environment
from infra.config.errors import ConfigError
from infra.config.loading import (NAMESPACE, SECRET_KEYS, STACKS_DIR, from_pulumi, load_stack, parse,
                                  read_stack_file, stack_file)
from infra.config.rbac import Principal
from infra.config.registry_stack import RegistryStackConfig, is_registry_stack, load_any, registry_stack_file
from infra.config.stack import StackConfig

__all__ = [
    "ENVIRONMENT_DEFAULTS", "NAMESPACE", "SECRET_KEYS", "STACKS_DIR", "ConfigError", "Environment", "Principal",
    "RegistryStackConfig", "StackConfig", "from_pulumi", "is_registry_stack", "load_any", "load_stack", "parse",
    "read_stack_file", "registry_stack_file", "stack_file",
]
