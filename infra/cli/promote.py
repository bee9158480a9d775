"""`amlplatform promote NAME@VERSION --to registry`: promotion is a reviewed change in git.

It adds the version to `assets/registry/promotions.yml` (comments and order kept) and its hash to the
lock, after checking the folder has that version; the registry stack seeds it on its next `pulumi up`,
after the pull request is reviewed and merged. `--to staging` and `--to prod` mean the same: both
deploy only what the registry holds.

    amlplatform promote credit-default-model@2 --to prod [--kind model] [--root DIR] [--folder assets]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from infra.config.stack import ConfigError

TARGETS = ("registry", "staging", "prod")
_REF = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]*)@(?P<version>[A-Za-z0-9][A-Za-z0-9_.\-]*)$")


def entry_text(kind: str, name: str, version: str) -> str:
    return f"  - kind: {kind}\n    name: {name}\n    version: \"{version}\"\n"


def promote(folder: Path, ref: str, kind: str = "model") -> tuple[Path, str]:
    """Add the version to the promotion list and the lock; nothing is written if anything is wrong."""
    m = _REF.match(ref)
    if not m:
        raise ConfigError(f"promote: {ref!r}: write NAME@VERSION, for example credit-default-model@2")
    name, version = m.group("name"), m.group("version")
    from infra.seeding.loader import PROMOTIONS

    path = folder / PROMOTIONS
    if not path.is_file():
        raise ConfigError(f"promote: {path}: no promotion list; create it with `registry: <the registry's name>` and "
                          "`promotions: []`")
    # The asset loaders (azure-ai-ml's schemas) load only once the arguments are known to be sound.
    from infra import seeding as assets
    from infra.seeding import lock as lock_mod
    loaded = assets.load(folder, check_lock=False)
    if loaded.find(kind, name, version) is None:  # type: ignore[arg-type]
        have = sorted(a.version or "" for a in loaded.versions(kind, name))  # type: ignore[arg-type]
        raise ConfigError(f"promote: {ref}: the folder has no {kind} {name} version {version} (versions: "
                          f"{', '.join(have) or 'none'})")
    promo = loaded.promotions
    if promo is not None and any(a.kind == kind and a.name == name and a.version == version for a in promo.resolved):
        raise ConfigError(f"promote: {ref}: already promoted in {PROMOTIONS}")
    before = path.read_text(encoding="utf-8")
    text = before.replace("promotions: []\n", "promotions:\n") if "promotions: []" in before else before
    text = (text if text.endswith("\n") else text + "\n") + entry_text(kind, name, version)
    lock_path = folder / lock_mod.LOCK_NAME
    lock_before = lock_path.read_text(encoding="utf-8") if lock_path.is_file() else None
    lock_mod.write_atomically(path, text)
    try:
        assets.write_lock(folder)
        assets.load(folder)
    except BaseException:
        lock_mod.write_atomically(path, before)
        if lock_before is not None:
            lock_mod.write_atomically(lock_path, lock_before)
        raise
    return path, f"{kind} {name} {version}"


def cmd_promote(args: argparse.Namespace) -> int:
    folder = Path(args.root) / args.folder
    if not folder.is_dir():
        raise ConfigError(f"promote: {folder}: no such assets folder (--root {args.root}, --folder {args.folder})")
    path, what = promote(folder, args.ref, args.kind)
    note = "" if args.to == "registry" else f" ({args.to} deploys only what the registry holds)"
    print(f"promote: {what} added to {path} and the lock{note}; commit both, open a pull request, and the registry "
          "stack seeds it once the change is reviewed and merged")
    return 0


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("promote", help="promote a version to the organisation's AML registry (edits the promotion "
                       "list: a reviewed change)")
    p.add_argument("ref", metavar="NAME@VERSION")
    p.add_argument("--to", required=True, choices=TARGETS, help="registry (staging and prod deploy from it)")
    p.add_argument("--kind", default="model", choices=("model",), help="what is promoted (models)")
    p.add_argument("--root", default=argparse.SUPPRESS, help="repository root (default: the global --root, .)")
    p.add_argument("--folder", default="assets", help="assets folder under the root (default: assets)")
    p.set_defaults(func=cmd_promote)
