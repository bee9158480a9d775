"""Content hashes: of a file, a folder (paths and bytes), and of an asset's definition.

The hash ignores YAML comments and key order (it hashes the parsed document) and the
`version` key itself, so `version: auto` can be derived from it and a version bump alone
does not count as a content change.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

# Never part of an upload or a hash: caches and editor droppings.
IGNORED_DIRS = frozenset({"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache", ".git"})
IGNORED_SUFFIXES = (".pyc", ".pyo")
IGNORED_FILES = frozenset({".DS_Store", "Thumbs.db"})
AUTO_VERSION_LENGTH = 12


def files_of(path: Path) -> list[Path]:
    """The files an upload of `path` carries, sorted (a file is its own list)."""
    if path.is_file():
        return [path]
    out = []
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path)
        if any(part in IGNORED_DIRS for part in rel.parts) or not p.is_file():
            continue
        if p.name in IGNORED_FILES or p.name.endswith(IGNORED_SUFFIXES):
            continue
        out.append(p)
    return out


def path_sha256(path: Path) -> str:
    """sha256 over each file's relative path and bytes (a folder), or the bytes (a file)."""
    h = hashlib.sha256()
    base = path if path.is_dir() else path.parent
    for f in files_of(path):
        h.update(f.relative_to(base).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def asset_sha256(raw: dict[str, Any], parts: Iterable[tuple[str, str]]) -> str:
    """The hash of an asset: its document without `version`, plus (role, hash) of what it references."""
    h = hashlib.sha256()
    h.update(canonical({k: v for k, v in raw.items() if k != "version"}).encode())
    for role, digest in sorted(parts):
        h.update(f"\0{role}={digest}".encode())
    return h.hexdigest()


def auto_version(sha256: str) -> str:
    return sha256[:AUTO_VERSION_LENGTH]
