"""References between assets, as data scientists write them, resolved offline.

    azureml:NAME:VERSION   azureml:NAME@latest
    azureml://registries/azureml/environments/NAME/versions/VERSION   (curated, Microsoft's registry)
    azureml://datastores/NAME/paths/PATH

A reference must land on an asset in the folder, or on a curated `AzureML-*` environment
(pinned to a version), or on one of the workspace's own datastores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra.seeding.model import SYSTEM_DATASTORES, Asset, AssetSet, Kind

CURATED_PREFIX = "AzureML-"
_SHORT = re.compile(r"^azureml:(?P<name>[A-Za-z0-9_.\-]+)(?:(?P<sep>[:@])(?P<version>[A-Za-z0-9_.\-]+))?$")
_REGISTRY = re.compile(r"^azureml://registries/(?P<registry>[^/]+)/environments/(?P<name>[^/]+)/"
                       r"(?P<what>versions|labels)/(?P<version>[^/]+)$")
_DATASTORE_URI = re.compile(r"^azureml://datastores/(?P<name>[^/]+)/paths/(?P<path>.*)$")


class RefError(ValueError):
    """A reference that does not resolve; the message says why and what to write instead."""


class LabelError(RefError):
    """`NAME@LABEL` with a label AML does not have: azure-ai-ml resolves labels through each asset
    kind's `_managed_label_resolver`, which holds `latest` only (operations/_environment_operations.py,
    _component_operations.py, _data_operations.py), and refuses any other with "Asset NAME with version
    label LABEL does not exist in workspace"."""


LATEST = "latest"


def _label_error(ref: str, name: str, label: str) -> LabelError:
    return LabelError(f"{ref!r}: @{label} names a label, and AML has only @{LATEST} (`az ml` refuses it: "
                      f"\"Asset {name} with version label {label} does not exist\"); write azureml:{name}:{label} "
                      f"for the version or azureml:{name}@{LATEST}")


@dataclass(frozen=True)
class Resolved:
    """Where a reference points: a seeded asset (kind, name, version) or a literal ID."""

    kind: Kind | None
    name: str
    version: str | None
    literal: str | None = None  # curated/registry references, kept as written

    @property
    def key(self) -> str:
        return self.literal or f"{self.kind}/{self.name}/{self.version}"


def datastore_of(uri: str) -> str | None:
    m = _DATASTORE_URI.match(uri)
    return m.group("name") if m else None


def version_key(version: str) -> tuple[int, ...] | None:
    m = re.fullmatch(r"(\d+(?:\.\d+)*)(?:-.*)?", version)
    return tuple(int(x) for x in m.group(1).split(".")) if m else None


def latest(candidates: list[Asset], kind: Kind, name: str) -> Asset:
    """The folder's highest version. (`az ml` asks the workspace for the most recently created one;
    the two agree unless a lower version is added after a higher one, and this one is known offline.)"""
    if len(candidates) == 1:
        return candidates[0]
    keyed = [(version_key(a.version or ""), a) for a in candidates]
    if any(k is None for k, _ in keyed):
        raise RefError(f"{kind} {name} has several versions ({', '.join(sorted(a.version or '' for a in candidates))}) "
                       "and not all are numeric, so @latest is ambiguous: reference one version")
    return max(keyed, key=lambda ka: ka[0])[1]  # type: ignore[arg-type,return-value]


def resolve_named(assets: AssetSet, kind: Kind, ref: str) -> Resolved:
    """`azureml:NAME:VERSION` (or @VERSION / @latest) to a seeded asset of `kind`."""
    m = _SHORT.match(ref)
    if not m:
        raise RefError(f"{ref!r} is not a reference of the form azureml:NAME:VERSION or azureml:NAME@latest")
    name, sep, version = m.group("name"), m.group("sep"), m.group("version")
    if version is None:
        raise RefError(f"{ref!r} names no version: write azureml:{name}:VERSION (or azureml:{name}@latest)")
    if sep == "@" and version != LATEST:
        raise _label_error(ref, name, version)
    candidates = assets.versions(kind, name)
    if not candidates:
        seeded = sorted({a.name for a in assets.of_kind(kind)})
        raise RefError(f"{kind} {name!r} is not seeded from this folder (seeded {kind}s: "
                       f"{', '.join(seeded) or 'none'})")
    if sep == "@":
        target = latest(candidates, kind, name)
    else:
        found = next((a for a in candidates if a.version == version), None)
        if found is None:
            raise RefError(f"{kind} {name} has no version {version} in this folder (versions: "
                           f"{', '.join(sorted(a.version or '' for a in candidates))})")
        target = found
    return Resolved(kind, target.name, target.version)


def resolve_environment(assets: AssetSet, ref: object) -> Resolved:
    if not isinstance(ref, str):
        raise RefError("inline environments are not seeded: declare the environment in its own file and reference "
                       "it as azureml:NAME:VERSION")
    reg = _REGISTRY.match(ref)
    if reg:
        if reg.group("registry") != "azureml":
            raise RefError(f"{ref!r}: only Microsoft's curated registry (azureml) can be referenced; seed other "
                           "environments from this folder")
        if reg.group("what") == "labels":
            raise RefError(f"{ref!r}: pin a curated environment to a version (…/versions/N), not a label, so the "
                           "component does not change when Microsoft publishes a new one")
        return Resolved(None, reg.group("name"), reg.group("version"), literal=ref)
    m = _SHORT.match(ref)
    if m and m.group("name").startswith(CURATED_PREFIX):
        name, sep, version = m.group("name"), m.group("sep"), m.group("version")
        if sep == "@" and version != LATEST:
            raise _label_error(ref, name, version)
        if version is None or version == LATEST:
            raise RefError(f"{ref!r}: pin the curated environment to a version (azureml:{name}:N) so the component "
                           "does not change when Microsoft publishes a new one")
        return Resolved(None, name, version, literal=f"azureml:{name}:{version}")
    return resolve_named(assets, "environment", ref)


def resolve_datastore(assets: AssetSet, name: str, extra: frozenset[str] = frozenset()) -> None:
    if name in SYSTEM_DATASTORES or name in extra or assets.find("datastore", name):
        return
    seeded = sorted(a.name for a in assets.of_kind("datastore"))
    raise RefError(f"datastore {name!r} is neither seeded from this folder ({', '.join(seeded) or 'none'}) nor one "
                   f"of the workspace's own ({', '.join(sorted(SYSTEM_DATASTORES))})")
