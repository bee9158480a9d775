"""Seed a workspace from a folder of Azure ML CLI v2 YAML.

    load(folder)        every file loaded and validated with azure-ai-ml, references resolved,
                        versions derived, the lock checked; one ConfigError listing every problem
    write_lock(folder)  add the current versions' hashes to the lock file (never rewrites one)
"""

from __future__ import annotations

from pathlib import Path

from . import lock as lock_mod
from ..paths import REPO_ROOT
from .errors import Problems
from .loader import load_folder
from .model import Asset, AssetSet, Upload  # noqa: F401 (re-exported)
from .resolve import resolve

_CACHE: dict[tuple, AssetSet] = {}


def _fingerprint(folder: Path) -> tuple:
    return tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()))


def _label(folder: Path) -> str:
    """How messages name the folder: relative to the repository when it is in it."""
    try:
        return folder.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(folder)


def load(folder: Path, storage_account: str | None = None, extra_datastores: frozenset[str] = frozenset(),
         check_lock: bool = True) -> AssetSet:
    """The folder's assets, validated, resolved and checked against the lock file."""
    folder = Path(folder)
    key = (str(folder.resolve()), storage_account, extra_datastores, check_lock,
           _fingerprint(folder) if folder.is_dir() else ())
    if key in _CACHE:
        return _CACHE[key]
    label = _label(folder)
    assets = load_folder(folder, label, storage_account)
    problems = Problems(label)
    resolve(assets, problems, extra_datastores)
    problems.raise_if_any()
    if check_lock:
        path = folder / lock_mod.LOCK_NAME
        locked = lock_mod.read(path, problems)
        if locked is None and not problems:
            problems.add(lock_mod.LOCK_NAME, "", "missing: run `amlplatform assets lock` and commit the lock file "
                         "(it records each version's content hash)")
        else:
            lock_mod.check(assets, locked, problems)
        problems.raise_if_any()
    _CACHE[key] = assets
    return assets


def write_lock(folder: Path, extra_datastores: frozenset[str] = frozenset()) -> tuple[list[str], Path]:
    """Add every current version to the lock, atomically; refuse if a locked version's content changed."""
    folder = Path(folder)
    label = _label(folder)
    assets = load(folder, extra_datastores=extra_datastores, check_lock=False)
    problems = Problems(label)
    path = folder / lock_mod.LOCK_NAME
    locked = lock_mod.read(path, problems)
    problems.raise_if_any()
    missing = lock_mod.check(assets, locked, problems, require_entries=False)
    problems.raise_if_any()
    text = lock_mod.render(locked, assets)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        lock_mod.write_atomically(path, text)
    return missing, path
