"""`amlplatform assets ...` and `amlplatform verify`: the seeded assets, offline and after `pulumi up`.

    amlplatform assets validate [--root DIR] [--folder assets] [--stack STACK]
    amlplatform assets lock [--root DIR] [--folder assets] [--stack STACK]
    amlplatform verify STACK [--root DIR]   (a platform stack, or the registry stack)

Mistakes (every rule in infra/seeding/rules.py: schema, keys in datastores, dangling references,
content changed under a version, what the stack lacks with --stack) exit 2 with one line per
problem naming the file, the field and the rule.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from infra.config import ConfigError, StackConfig, load_platform_stack, load_stack

if TYPE_CHECKING:
    from infra.seeding.model import StackContext

EXIT_OK, EXIT_FAIL = 0, 1


def _folder(args: argparse.Namespace) -> Path:
    folder = Path(args.root) / args.folder
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such assets folder (--root {args.root}, --folder {args.folder})")
    return folder


def _stack_context(args: argparse.Namespace) -> StackContext | None:
    """With --stack: what the stack offers (storage account, team datastores and containers, computes),
    so the folder is checked as `plan` checks it for that stack."""
    from infra.seeding import stack as assets_stack
    from infra.naming import Names

    if not getattr(args, "stack", None):
        return None
    cfg, _ = load_platform_stack(args.stack, args.root, "assets validate --stack")
    names = Names.for_stack(cfg.platform.prefix, cfg.platform.environment, cfg.platform.subscription_id)
    return assets_stack.context_for(cfg, names)


def cmd_validate(args: argparse.Namespace) -> int:
    from infra import seeding as assets

    stack = _stack_context(args)
    loaded = assets.load(_folder(args), stack=stack, use_cache=False)  # validate: azure-ai-ml runs every time
    unscheduled = sorted(p.file for p in loaded.of_kind("pipeline")
                         if not any(s.refs.get("pipeline") is p for s in loaded.of_kind("schedule")))
    against = f" for stack {args.stack}" if stack else ""
    lines = [f"assets: {len(loaded.deployable())} valid in {args.folder}/{against} (lock up to date)"]
    for a in sorted(loaded.deployable(), key=lambda a: (a.kind, a.name, a.version or "")):
        version = f" {a.version}" if a.version is not None else ""
        lines.append(f"  {a.kind:<11} {a.name}{version}  ({a.file})")
    for file in unscheduled:
        lines.append(f"  note: {file} is a pipeline no schedule runs (validated, not deployed)")
    print("\n".join(lines))
    return EXIT_OK


def cmd_lock(args: argparse.Namespace) -> int:
    from infra import seeding as assets

    stack = _stack_context(args)
    added, path = assets.write_lock(_folder(args), stack.team_datastores if stack else frozenset())
    if added:
        print(f"assets lock: added {len(added)} version(s) to {path}:\n" + "\n".join(f"  + {k}" for k in added))
    else:
        print(f"assets lock: {path} already holds every version")
    return EXIT_OK


def _ml_client(cfg: Any, names: Any) -> Any:
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential

    return MLClient(DefaultAzureCredential(), cfg.platform.subscription_id, names.resource_group, names.workspace)


def _registry_client(cfg: Any, resource_group: str) -> Any:
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential

    return MLClient(DefaultAzureCredential(), cfg.platform.subscription_id, resource_group,
                    registry_name=cfg.ml_registry.name)


def cmd_verify(args: argparse.Namespace, client_factory: Callable[[Any, Any], Any] | None = None) -> int:
    from infra.config import RegistryStackConfig

    cfg, _ = load_stack(args.stack, args.root, ("platform", "registry"), "verify")
    assert isinstance(cfg, (StackConfig, RegistryStackConfig))  # load_stack refused a team stack
    if not cfg.platform.subscription_id:
        raise ConfigError(f"{cfg.source}: amlplatform:platform.subscriptionId: verify needs the stack's "
                          "subscription to find what it deployed, got null")
    if isinstance(cfg, RegistryStackConfig):
        return _verify_registry(args, cfg, client_factory)
    from infra.seeding import stack as assets_stack
    from infra.seeding import verify
    from infra.naming import Names

    names = Names.for_stack(cfg.platform.prefix, cfg.platform.environment, cfg.platform.subscription_id)
    seeded = assets_stack.load_for_stack(cfg, names)
    items = verify.expected(seeded, assets_stack.computes_for(cfg, names), sorted(assets_stack.team_datastore_names(cfg)),
                            names.env)
    client = (client_factory or _ml_client)(cfg, names)
    ok, text = verify.report(verify.check(items, client))
    print(f"amlplatform verify {args.stack}  (workspace {names.workspace} in {names.resource_group})\n{text}")
    return EXIT_OK if ok else EXIT_FAIL


def _verify_registry(args: argparse.Namespace, cfg: Any, client_factory: Callable[[Any, Any], Any] | None) -> int:
    """The registry stack: every version the promotion list names is in the registry, with the folder's hash."""
    from infra.seeding import registry as registry_assets
    from infra.seeding import verify
    from infra.program.registry import names_for

    resource_group = names_for(cfg)["resource_group"]
    items = verify.expected_in_registry(registry_assets.load_for_registry(cfg))
    client = (client_factory or _registry_client)(cfg, resource_group)
    ok, text = verify.report(verify.check(items, client, where="registry"))
    print(f"amlplatform verify {args.stack}  (registry {cfg.ml_registry.name} in {resource_group})\n{text}")
    return EXIT_OK if ok else EXIT_FAIL


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add this module's subcommands to the CLI's parser."""
    root_help = "repository root (default: the global --root, .)"
    assets = sub.add_parser("assets", help="the seeded AML assets (assets/): validate, lock")
    asub = assets.add_subparsers(dest="assets_command", required=True)
    val = asub.add_parser("validate", help="load and check every asset file offline (schema, keys, references, lock)")
    val.add_argument("--root", default=argparse.SUPPRESS, help=root_help)
    val.add_argument("--folder", default="assets", help="assets folder under the root (default: assets)")
    val.add_argument("--stack", help="also check against the stack, as `plan` does: its storage account, team "
                     "datastores and containers, computes")
    val.set_defaults(func=cmd_validate)
    lock = asub.add_parser("lock", help="record the current versions' content hashes (after a deliberate bump)")
    lock.add_argument("--root", default=argparse.SUPPRESS, help=root_help)
    lock.add_argument("--folder", default="assets", help="assets folder under the root (default: assets)")
    lock.add_argument("--stack", help="resolve the stack's team datastores")
    lock.set_defaults(func=cmd_lock)

    ver = sub.add_parser("verify", help="after `pulumi up`: check the workspace holds every seeded asset, endpoint and "
                         "compute (the registry stack: the registry holds every promoted version)")
    ver.add_argument("stack", help="stack name")
    ver.add_argument("--root", default=argparse.SUPPRESS, help=root_help)
    ver.set_defaults(func=cmd_verify)
