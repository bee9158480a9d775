"""The `amlplatform:platform` and `amlplatform:protection` sections: what the whole stack shares."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from infra.config.base import _Section
from infra.config.environments import Environment
from infra.config.errors import NO_VALUE, _At
from infra.types import (MAX_TAGS, TAG_NAME_FORBIDDEN, TAG_NAME_MAX_STORAGE, TAG_VALUE_MAX, AzureRegion, Prefix,
                         SubscriptionId)

_FEATURE = re.compile(r"^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)+/[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Tags the platform sets on every resource itself (program.platform_tags); a stack's own tag of the
# same name (tag names are case-insensitive in Azure) would be overwritten.
PLATFORM_TAGS = ("environment", "managed-by", "project")


class PlatformConfig(_Section):
    environment: Environment
    """Picks the column of the environment table (infra/config/environments.py) that fills every key the stack
    leaves out; public network access is allowed in dev only."""
    prefix: Prefix
    """The stack's short name in every resource name (`rg-<prefix>-dev`, `st<prefix>dev<suffix>`)."""
    location: AzureRegion
    """The region the stack's resources live in: an Azure region name in lowercase without spaces, such as
    `westeurope`."""
    subscription_id: SubscriptionId | None = None
    """The subscription this stack deploys to. Unset: the subscription of the credentials `pulumi` runs with;
    set, a run whose credentials resolve to another subscription stops before declaring anything. The global
    names' suffix hashes the credentials' subscription either way."""
    generation: int = Field(default=1, ge=1, le=99)
    """Raise it to re-create a destroyed stack under fresh global names and workspace name while Azure still
    holds the old ones (a purge-protected key vault for its retention, a soft-deleted workspace for 14 days);
    1 adds nothing to any name."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags on every resource, beside the platform's own `environment`, `managed-by` and `project` (which a
    stack may not set, in any case). At most 47 (Azure allows 50 per resource); every tag lands on the
    storage account too, so names of up to 128 characters without `< > % & \\ ? /`, values up to 256; with
    private DNS zones of the stack's own (`network.dns: create`), no spaces or leading digit in names."""
    allowed_locations: list[AzureRegion] = Field(default_factory=list)
    """Regions resources may use (the allowed-locations rule); must include `location`. Unset: `location`
    only."""
    registered_features: list[str] = Field(default_factory=list)
    """Subscription preview features the operator has registered (`az feature register`), as
    `<Namespace>/<Feature>`: the offline plan cannot ask Azure, so the stack states them, and the Azure rule
    azure-required-feature-registrations fails a plan that needs one not listed (staging and prod need
    `Microsoft.Compute/EncryptionAtHost` and `Microsoft.ContainerService/DisableSSHPreview`)."""

    @field_validator("registered_features")
    @classmethod
    def _features(cls, v: list[str]) -> list[str]:
        for i, item in enumerate(v):
            if not _FEATURE.match(item):
                raise _At(f"[{i}]", "must be <Namespace>/<Feature>, such as Microsoft.Compute/EncryptionAtHost", item)
        return v

    @model_validator(mode="after")
    def _location_allowed(self) -> "PlatformConfig":
        if self.allowed_locations and self.location not in self.allowed_locations:
            raise _At("allowedLocations", f"must include the stack's own location {self.location}")
        if not self.allowed_locations:
            self.allowed_locations = [self.location]
        return self

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        if len(v) > MAX_TAGS - len(PLATFORM_TAGS):
            raise ValueError(f"must hold at most {MAX_TAGS - len(PLATFORM_TAGS)} tags (Azure allows {MAX_TAGS} per "
                             f"resource; the platform adds {len(PLATFORM_TAGS)})")
        seen: dict[str, str] = {}
        for name, value in v.items():
            if not name or TAG_NAME_FORBIDDEN & set(name):
                raise _At(f"{name}", "tag names must be non-empty, without < > % & \\ ? /", NO_VALUE)
            # Tags land on the storage account too, where names stop at 128 characters.
            if len(name) > TAG_NAME_MAX_STORAGE:
                raise _At(f"{name[:40]}...", f"tag names must be at most {TAG_NAME_MAX_STORAGE} characters: every "
                          f"tag also lands on the storage account (this one has {len(name)})")
            if name.lower() in PLATFORM_TAGS:
                raise _At(name, "is a tag the platform sets itself (environment, managed-by, project); "
                          "Azure tag names are case-insensitive, so yours would be overwritten")
            if name.lower() in seen:
                raise _At(name, f"differs from tag {seen[name.lower()]} only in case: Azure tag names are "
                          "case-insensitive")
            seen[name.lower()] = name
            if len(value) > TAG_VALUE_MAX:
                raise _At(name, f"tag values must be at most {TAG_VALUE_MAX} characters (this one has {len(value)})")
        return v


class ProtectionConfig(_Section):
    locks: bool = False
    """CanNotDelete locks on the key vault, the container registry, Log Analytics and the disk encryption set:
    the resources nothing comes and goes below (README: Locks, and what they may cover)."""
    protect: bool = False
    """Pulumi `protect` on the stateful resources (resource group, workspace, storage accounts, key vault and
    keys, container registry, Log Analytics): `pulumi destroy` stops at them (README: Locks, and what they may
    cover)."""
