"""What the loader hands on: one `Asset` per YAML file, with its kind, name, version and hash."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["datastore", "environment", "component", "data", "pipeline", "schedule", "model", "online_endpoint",
               "online_deployment", "batch_endpoint", "batch_deployment"]

# Kinds AML versions (immutable once created) and the lock file tracks.
VERSIONED: tuple[Kind, ...] = ("environment", "component", "data", "model")
# Endpoints and their deployments (infra/components/endpoints.py): named, not versioned.
SERVING: tuple[Kind, ...] = ("online_endpoint", "online_deployment", "batch_endpoint", "batch_deployment")
# The workspace's own datastores, always there (AML creates them with the workspace).
SYSTEM_DATASTORES = frozenset({"workspaceblobstore", "workspacefilestore", "workspaceartifactstore",
                               "workspaceworkingdirectory"})
PLATFORM_STORAGE = "${platform.storageAccount}"
# Names of data, environments, components and models (AML's asset name rule).
ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")
ASSET_NAME_RULE = "1-255 letters, digits, '-', '_' or '.', starting alphanumeric"


@dataclass(frozen=True)
class Upload:
    """A local file or folder the platform uploads, content-addressed, to the default datastore."""

    source: Path  # absolute
    relative: str  # posix path from the assets folder, for messages and the plan
    sha256: str

    @property
    def prefix(self) -> str:
        # azure-ai-ml's layout: LocalUpload/<hash>/<basename>
        return f"LocalUpload/{self.sha256[:32]}/{self.source.name}"

    @property
    def is_dir(self) -> bool:
        return self.source.is_dir()


@dataclass
class Asset:
    kind: Kind
    name: str
    file: str  # posix path relative to the assets folder
    raw: dict[str, Any]
    entity: Any  # the azure-ai-ml entity: set by sdk.load_entities when azure-ai-ml loaded the file (not from cache)
    version: str | None = None  # resolved (auto -> derived from the hash); None for unversioned kinds
    declared_version: str | None = None
    sha256: str = ""
    uploads: dict[str, Upload] = field(default_factory=dict)  # role (code, build, path) -> upload
    # Resolved references: role -> (kind, name, version) of a seeded asset, or a literal ARM-relative ID.
    refs: dict[str, Any] = field(default_factory=dict)
    subtype: str = ""  # datastore type, data type, component type
    # What the program takes from the entity, as JSON (sdk.load_entities, or infra/seeding/cache.py); None for
    # kinds it builds from `raw` alone.
    body: Any = None

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}" + (f"/{self.version}" if self.version is not None else "")

    def describe(self) -> str:
        version = f" {self.version}" if self.version is not None else ""
        return f"{self.kind} {self.name}{version}"


@dataclass(frozen=True)
class StackContext:
    """What one stack offers its assets: `assets validate --stack` and the plan check against it."""

    storage_account: str  # the stack's data lake: what ${platform.storageAccount} stands for
    team_datastores: frozenset[str] = frozenset()  # datastores the platform makes of team containers
    team_containers: frozenset[str] = frozenset()  # teams.<name>.containers
    computes: frozenset[str] = frozenset()  # clusters, instances, attached and inference computes
    # The registry the stack consumes (mlRegistryRef.name), and whether deployments must take registry
    # versions only (staging and prod).
    registry: str | None = None
    registry_only: bool = False
    # The endpoints the stack deploys (assets.endpoints; None: all), and the AKS compute's instance types.
    endpoints: frozenset[str] | None = None
    instance_types: frozenset[str] = frozenset()
    environment: str = "dev"


@dataclass
class Promotions:
    """`registry/promotions.yml`: the versions the organisation's registry holds (`amlplatform promote` edits it)."""

    file: str  # relative to the assets folder
    registry: str  # the registry's name
    entries: list[dict[str, Any]]
    resolved: list[Asset] = field(default_factory=list)  # the folder's assets the entries name
    broken: bool = False  # an entry did not resolve (said once, not again by every deployment using it)


@dataclass
class AssetSet:
    folder: Path
    assets: list[Asset]
    promotions: Promotions | None = None

    def of_kind(self, kind: Kind) -> list[Asset]:
        return [a for a in self.assets if a.kind == kind]

    def find(self, kind: Kind, name: str, version: str | None = None) -> Asset | None:
        for a in self.assets:
            if a.kind == kind and a.name == name and (version is None or a.version == version):
                return a
        return None

    def versions(self, kind: Kind, name: str) -> list[Asset]:
        return [a for a in self.assets if a.kind == kind and a.name == name]

    def deployable(self) -> list[Asset]:
        """Everything but pipeline jobs (those run only through schedules)."""
        return [a for a in self.assets if a.kind != "pipeline"]

    def without_endpoints(self, keep: frozenset[str] | None) -> "AssetSet":
        """The set with only the endpoints named in `keep` (and their deployments); None keeps them all."""
        if keep is None:
            return self
        out = [a for a in self.assets if a.kind not in SERVING
               or (a.refs.get("endpoint") if "deployment" in a.kind else a.name) in keep]
        return AssetSet(self.folder, out, self.promotions)

    def summary(self) -> list[str]:
        """One sorted line per deployable asset: `kind name version`."""
        return sorted(a.describe() for a in self.deployable())
