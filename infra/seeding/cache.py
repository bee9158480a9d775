"""A file cache of the REST bodies azure-ai-ml gives a folder's assets, keyed by everything they depend on.

Importing azure-ai-ml and loading a folder with it takes seconds, most of an offline plan of a stack with
assets. What the program takes from it (`Asset.body`, infra/seeding/sdk.py) is a function of:
- the files: every byte under the folder, and each asset's hash, which covers what it references outside
  the folder (uploads, conda files); an upload's files count once, through the hash the loader made of
  them (a folder of model weights is not read twice);
- the stack's storage account (what `${platform.storageAccount}` datastores point at);
- each upload's blob prefix and kind (file or folder), which the data bodies' URIs carry;
- the azure-ai-ml and marshmallow versions and Python's, and azure-ai-ml's switches (every AZURE_ML_* and
  AZUREML_* environment variable: AZURE_ML_CLI_PRIVATE_FEATURES_ENABLED changes what its schemas accept);
- the project's code that reads the folder and turns entities into bodies (every module of infra/seeding/).
The key hashes all of them. The folder's files (but the uploads') are hashed again once azure-ai-ml has
read them, and the bodies are kept only if they did not change in between. Only a folder azure-ai-ml
accepted is cached, so a hit stands for a folder that passed its schemas with these very inputs. Bodies go
through JSON on a miss too, so a hit and a miss give the program the same values (tests/test_asset_cache.py
compares the plans).

Where: `.cache/assets/` in the checkout (gitignored; `make clean` removes it), or the folder
AMLPLATFORM_CACHE_DIR names; AMLPLATFORM_CACHE_DIR set to an empty value turns the cache off. A cache
that cannot be read or written is passed over: the folder is loaded with azure-ai-ml as without one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from infra.paths import REPO_ROOT
from infra.seeding.hashing import files_of
from infra.seeding.model import AssetSet

ENV = "AMLPLATFORM_CACHE_DIR"
FORMAT = "1"  # bump when the shape of a cache file changes
KEEP = 32  # cache files kept (the newest); each is a few kB
_PACKAGES = ("azure-ai-ml", "marshmallow")
_SWITCHES = ("AZURE_ML_", "AZUREML_")  # environment variables azure-ai-ml reads
_FILE = re.compile(r"^[0-9a-f]{64}\.json$")  # the cache's own files: the only ones it prunes


def directory() -> Path | None:
    """Where bodies are kept; None when AMLPLATFORM_CACHE_DIR is set empty."""
    value = os.environ.get(ENV)
    if value is None:
        return REPO_ROOT / ".cache" / "assets"
    return Path(value) if value.strip() else None


def key(assets: AssetSet, storage_account: str) -> str | None:
    """The hash of every input of the folder's bodies; None when the cache is off."""
    if directory() is None:
        return None
    digest = hashlib.sha256(f"format {FORMAT}\0python {sys.version}\0account {storage_account}\0".encode())
    for package in _PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}\0".encode())
    switches = sorted((k, v) for k, v in os.environ.items() if k.startswith(_SWITCHES))
    digest.update(json.dumps(switches).encode() + b"\0")
    for code in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(code.name.encode() + b"\0" + code.read_bytes() + b"\0")
    _hash_files(digest, assets)
    for a in assets.assets:
        uploads = sorted((role, u.sha256, u.prefix, u.is_dir) for role, u in a.uploads.items())
        digest.update(json.dumps([a.kind, a.file, a.version, a.sha256, uploads]).encode() + b"\0")
    return digest.hexdigest()


def _hash_files(digest: Any, assets: AssetSet) -> None:
    """Each file under the folder (path and bytes) but those inside an upload: its hash is in the key."""
    uploads = {u.source for a in assets.assets for u in a.uploads.values()}
    for path in files_of(assets.folder):
        if path in uploads or not uploads.isdisjoint(path.parents):
            continue
        digest.update(path.relative_to(assets.folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def read(cache_key: str, files: list[str]) -> dict[str, Any] | None:
    """The bodies of `files` stored under the key; None when absent, unreadable or not covering every file."""
    folder = directory()
    if folder is None:
        return None
    try:
        stored = json.loads((folder / f"{cache_key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != cache_key or not isinstance(stored.get("bodies"), dict):
        return None
    bodies: dict[str, Any] = stored["bodies"]
    return bodies if set(bodies) == set(files) else None


def write(cache_key: str, bodies: dict[str, Any]) -> None:
    """Store the bodies under the key, atomically (a rename); drop all but the newest KEEP files."""
    folder = directory()
    if folder is None:
        return
    path = folder / f"{cache_key}.json"
    tmp = folder / f".{cache_key}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"key": cache_key, "bodies": bodies}, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
        ours = [p for p in folder.glob("*.json") if _FILE.match(p.name)]
        for old in sorted(ours, key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
