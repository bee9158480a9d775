"""The registry stack's assets: the versions `registry/promotions.yml` promotes, from the assets folder.

The folder is read and checked as for a workspace (schema, references, the lock, which also records
each promoted version's hash under `registry/...`), then narrowed to what the promotion list names.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from infra.config import ConfigError
from infra.paths import REPO_ROOT
from infra.seeding import load
from infra.seeding.stack import DEFAULT_FOLDER, existing_folder
from infra.seeding.model import AssetSet

if TYPE_CHECKING:
    from infra.config import RegistryStackConfig


def folder_for(cfg: RegistryStackConfig) -> Path | None:
    """The assets folder the promotion list lives in, or None (registry assets off, or the default folder absent)."""
    settings = cfg.ml_registry.assets
    if not settings.enabled:
        return None
    return existing_folder(cfg.root or REPO_ROOT, settings.folder, cfg.source, "mlRegistry.assets.folder")


def load_for_registry(cfg: RegistryStackConfig) -> AssetSet | None:
    """The promoted versions (None when registry assets are off or the folder promotes nothing)."""
    folder = folder_for(cfg)
    if folder is None:
        return None
    assets = load(folder)
    promo = assets.promotions
    if promo is None:
        return None
    if promo.registry != cfg.ml_registry.name:
        listed = f"{cfg.ml_registry.assets.folder or DEFAULT_FOLDER}/{promo.file}"
        raise ConfigError(f"{cfg.source}: amlplatform:mlRegistry.name: {cfg.ml_registry.name!r} is not the registry "
                          f"{listed} promotes to ({promo.registry!r}); make them the same")
    return AssetSet(assets.folder, list(promo.resolved), promo)
