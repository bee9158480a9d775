"""What the loader hands on: one `Asset` per YAML file, with its kind, name, version and hash."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["datastore", "environment", "component", "data", "pipeline", "schedule"]

# Kinds AML versions (immutable once created) and the lock file tracks.
VERSIONED: tuple[Kind, ...] = ("environment", "component", "data")
# The workspace's own datastores, always there (AML creates them with the workspace).
SYSTEM_DATASTORES = frozenset({"workspaceblobstore", "workspacefilestore", "workspaceartifactstore",
                               "workspaceworkingdirectory"})
PLATFORM_STORAGE = "${platform.storageAccount}"


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
    entity: Any  # the azure-ai-ml entity (None until sdk.load_entities, after the project's own checks)
    version: str | None = None  # resolved (auto -> derived from the hash); None for unversioned kinds
    declared_version: str | None = None
    sha256: str = ""
    uploads: dict[str, Upload] = field(default_factory=dict)  # role (code, build, path) -> upload
    # Resolved references: role -> (kind, name, version) of a seeded asset, or a literal ARM-relative ID.
    refs: dict[str, Any] = field(default_factory=dict)
    subtype: str = ""  # datastore type, data type, component type

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


@dataclass
class AssetSet:
    folder: Path
    assets: list[Asset]

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

    def summary(self) -> list[str]:
        """One sorted line per deployable asset: `kind name version`."""
        return sorted(a.describe() for a in self.deployable())
