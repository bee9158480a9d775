"""The `amlplatform:assets` section: what the stack seeds into its workspace from the assets folder."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator

from infra.config.base import _Section


class AssetsConfig(_Section):
    """Seed the workspace from a folder of AML CLI v2 YAML (infra/seeding/, README: Seeded assets)."""

    enabled: bool = True
    """Seed the folder's datastores, environments, components, data assets, models, schedules and endpoints
    into the workspace in the same `pulumi up`."""
    folder: str | None = None
    """The assets folder, relative to the repository root; a folder named here must exist. Unset: `assets`, and
    a checkout without one seeds nothing."""
    schedules_enabled: bool = False
    """Schedules are declared in every stack and run only where this is true."""
    team_datastores: bool = True
    """Expose each team container (`teams.<name>.containers`) as an identity-based ADLS Gen2 datastore."""
    endpoints: list[str] | None = None
    """The endpoints (online and batch, by name) this stack deploys from the folder; a stack without AKS leaves
    out the Kubernetes ones. Unset: all of them."""

    @field_validator("folder")
    @classmethod
    def _folder(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or Path(v).is_absolute() or ".." in Path(v).parts):
            raise ValueError("must be a folder inside the repository, relative to its root (such as assets)")
        return v
