"""The committed lock file: one content hash per (kind, name, version) ever seeded.

AML refuses to change an asset version once it exists, so the plan fails when a file's
content changed but its version did not. The lock keeps the hashes of every version it
has seen (old versions stay in the workspaces: the program retains them on delete), and
`amlplatform assets lock` only ever adds entries: it refuses to rewrite a hash.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from infra.seeding.errors import Problems
from infra.seeding.loader import encoding_problem
from infra.seeding.model import VERSIONED, AssetSet

LOCK_NAME = "assets.lock.json"
FORMAT = 1
HOW = ("AML versions are immutable, so Azure would refuse the change: bump `version` (or use `version: auto`), "
       "then run `amlplatform assets lock` and commit the lock file")


def read(path: Path, problems: Problems) -> dict[str, dict[str, str]] | None:
    """The lock's entries, or None when there is no lock (or it is unreadable; recorded as a problem)."""
    if not path.is_file():
        return None
    fix = ("restore it from version control (after a merge conflict: keep the entries of both sides, then run "
           "`amlplatform assets lock`)")
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        where, message = encoding_problem(exc)
        problems.add("lock-file", path.name, where, f"{message}; {fix}")
        return None
    except json.JSONDecodeError as exc:  # a merge conflict's markers, a truncated save
        problems.add("lock-file", path.name, f"line {exc.lineno}, column {exc.colno}", f"not valid JSON "
                     f"({exc.msg}); {fix}")
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("assets"), dict):
        problems.add("lock-file", path.name, "format", f"must be {FORMAT} with an `assets` mapping; restore it from "
                     "version control")
        return None
    return doc["assets"]


REGISTRY_PREFIX = "registry/"


def entries(assets: AssetSet) -> dict[str, dict[str, str]]:
    out = {a.key: {"sha256": a.sha256, "file": a.file} for a in assets.assets if a.kind in VERSIONED}
    # Registry versions are immutable too: the lock keeps each promoted version's hash under its own key.
    for a in assets.promotions.resolved if assets.promotions else []:
        out[REGISTRY_PREFIX + a.key] = {"sha256": a.sha256, "file": a.file}
    return out


def check(assets: AssetSet, locked: dict[str, dict[str, Any]] | None, problems: Problems,
          require_entries: bool = True) -> list[str]:
    """Record a problem per content change under a locked version; return the keys the lock lacks."""
    missing = []
    for key, entry in sorted(entries(assets).items()):
        old = (locked or {}).get(key)
        if old is None:
            missing.append(key)
            continue
        if old.get("sha256") != entry["sha256"]:
            kind, name, version = key.removeprefix(REGISTRY_PREFIX).split("/", 2)
            was, now = str(old.get("sha256"))[:12], entry["sha256"][:12]
            problems.add("lock-changed", entry["file"], "version", f"{kind} {name} {version}: content changed but "
                         f"the version did not (locked sha256 {was}…, now {now}…). {HOW}")
    if missing and require_entries:
        for key in missing:
            kind, name, version = key.removeprefix(REGISTRY_PREFIX).split("/", 2)
            file = entries(assets)[key]["file"]
            problems.add("lock-entry", file, "version", f"{kind} {name} {version} is not in {LOCK_NAME}: run "
                         "`amlplatform assets lock` after a deliberate new version and commit the lock file")
    return missing


def render(locked: dict[str, dict[str, Any]] | None, assets: AssetSet) -> str:
    merged = dict(locked or {})
    merged.update(entries(assets))
    doc = {
        "format": FORMAT,
        "comment": "Content hashes of every seeded asset version (AML versions are immutable). Written by "
                   "`amlplatform assets lock`; commit it. Entries are only ever added.",
        "assets": {k: merged[k] for k in sorted(merged)},
    }
    return json.dumps(doc, indent=2) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write next to the target, then rename over it: readers see the old file or the new, never half."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
