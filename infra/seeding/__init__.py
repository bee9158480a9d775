"""Seed a workspace from a folder of Azure ML CLI v2 YAML.

    load(folder)        every file checked by the project's rules, references resolved, versions
                        derived, the lock checked, then loaded with azure-ai-ml; one AssetError
                        (a ConfigError) listing every problem with its rule (rules.py)
    write_lock(folder)  add the current versions' hashes to the lock file (never rewrites one)
"""

from __future__ import annotations

from pathlib import Path

from infra.seeding import lock as lock_mod
from infra.seeding import stack_rules
from infra.paths import REPO_ROOT
from infra.seeding.errors import Problems
from infra.seeding.loader import load_folder
from infra.seeding.model import Asset, AssetSet, StackContext, Upload  # noqa: F401 (re-exported)
from infra.seeding.resolve import resolve
from infra.seeding.sdk import load_entities

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
         check_lock: bool = True, stack: StackContext | None = None, use_cache: bool = True) -> AssetSet:
    """The folder's assets, validated, resolved and checked against the lock file (and the stack, if given).

    The project's own checks run first, in stages that each stop at their problems: the files,
    the lock file's form, references (and the stack), the lock's hashes. azure-ai-ml's schemas
    run last, on a folder every own check passed, unless the asset cache (infra/seeding/cache.py)
    holds the bodies azure-ai-ml gave these very inputs; `use_cache=False` always runs azure-ai-ml
    (and sets each asset's `entity`)."""
    folder = Path(folder)
    if stack is not None:
        storage_account = stack.storage_account
        extra_datastores = extra_datastores | stack.team_datastores
    key = (str(folder.resolve()), storage_account, extra_datastores, check_lock, stack, use_cache,
           _fingerprint(folder) if folder.is_dir() else ())
    if key in _CACHE:
        return _CACHE[key]
    label = _label(folder)
    assets = load_folder(folder, label)
    problems = Problems(label)
    locked = lock_mod.read(folder / lock_mod.LOCK_NAME, problems) if check_lock else None
    problems.raise_if_any()  # a lock that is no JSON says so alone, not "every version is missing"
    resolve(assets, problems, extra_datastores)
    if stack is not None:
        stack_rules.check_endpoint_names(assets, stack, problems)
        problems.raise_if_any()
        # The stack deploys the endpoints it names (assets.endpoints); the rest stay in the folder only.
        assets = assets.without_endpoints(stack.endpoints)
        stack_rules.check(assets, stack, problems)
        stack_rules.check_serving(assets, stack, problems)
    problems.raise_if_any()
    if check_lock:
        if locked is None:
            problems.add("lock-file", lock_mod.LOCK_NAME, "", "missing: run `amlplatform assets lock` and commit the "
                         "lock file (it records each version's content hash)")
        else:
            lock_mod.check(assets, locked, problems)
        problems.raise_if_any()
    load_entities(assets, problems, storage_account, use_cache)
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
