"""The assets of one stack: where its folder is, which team datastores it adds, which computes it has."""

from __future__ import annotations

from pathlib import Path

from infra.config import ConfigError, StackConfig
from infra.naming import Names
from infra.paths import REPO_ROOT
from infra.seeding import load
from infra.seeding.model import AssetSet, StackContext
from infra.topology import Topology

DEFAULT_FOLDER = "assets"


def folder_for(cfg: StackConfig) -> Path | None:
    """The stack's assets folder, or None when assets are off (or the default folder is absent)."""
    a = cfg.assets
    if not a.enabled:
        return None
    if cfg.root is None and a.folder is None:
        return None  # a config parsed from a mapping alone has no repository beside it
    return existing_folder(cfg.root or REPO_ROOT, a.folder, cfg.source, "assets.folder")


def existing_folder(root: Path, folder: str | None, source: str, key: str) -> Path | None:
    """`folder` under the repository root (unset: the default `assets/`, None when absent); a folder the stack
    names must exist."""
    path = root / (folder or DEFAULT_FOLDER)
    if path.is_dir():
        return path
    if folder is not None:
        raise ConfigError(f"{source}: amlplatform:{key}: {folder!r} is not a folder under the repository root {root}")
    return None


def team_datastore_name(container: str) -> str:
    """AML datastore names take letters, digits and underscores: the container's, hyphens made underscores."""
    return container.replace("-", "_")


def team_datastore_names(cfg: StackConfig) -> dict[str, tuple[str, str]]:
    """Datastore name -> (team, container) for every team container, when the stack exposes them."""
    if not cfg.assets.team_datastores:
        return {}
    return {team_datastore_name(c): (team, c) for team, t in cfg.teams.items() for c in t.containers}


def computes_for(cfg: StackConfig, names: Names) -> list[str]:
    return Topology.of(cfg).compute_names(cfg, names)


def context_for(cfg: StackConfig, names: Names) -> StackContext:
    """What the stack offers its assets (infra/seeding/stack_rules.py checks against it)."""
    return StackContext(
        # `${platform.storageAccount}` datastores point at the teams' data lake.
        storage_account=names.data_lake,
        team_datastores=frozenset(team_datastore_names(cfg)),
        team_containers=frozenset(c for t in cfg.teams.values() for c in t.containers),
        computes=frozenset(computes_for(cfg, names)),
        registry=cfg.ml_registry_ref.name if cfg.ml_registry_ref else None,
        # Staging and prod deploy what was promoted to the registry, never a workspace-only model.
        registry_only=cfg.platform.environment != "dev",
        endpoints=frozenset(cfg.assets.endpoints) if cfg.assets.endpoints is not None else None,
        instance_types=frozenset(cfg.aks.instance_types) if cfg.aks.enabled else frozenset(),
        environment=cfg.platform.environment,
    )


def load_for_stack(cfg: StackConfig, names: Names) -> AssetSet | None:
    folder = folder_for(cfg)
    if folder is None:
        return None
    return load(folder, stack=context_for(cfg, names))
