"""Typed, validated inputs of the state-backend bootstrap.

The bootstrap is its own Pulumi project (`state-backend/`); its stack file
`state-backend/Pulumi.<stack>.yaml` keeps the inputs under the `bootstrap:`
namespace, one key per section, exactly as the platform's stack files keep
theirs under `amlplatform:`. Unknown keys are errors; every mistake is one
line naming the file, the key path and the rule, raised as the platform's
`ConfigError` before any resource is declared.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import Field, PrivateAttr, ValidatorFunctionWrapHandler, field_validator, model_validator
from pydantic.alias_generators import to_camel

from infra.azure_facts.limits import BLOB_SOFT_DELETE_DAYS, KEY_VAULT_SOFT_DELETE_DAYS, KeySize, KeyType
from infra.config import ConfigError, Principal, read_stack_file
from infra.config.base import _Section, _StackFile
from infra.config.errors import ErrorLines, _Rule, refuse_repeats
from infra.config.loading import STACK_NAME, display, is_secure, pulumi_config
from infra.naming import RULES
from infra.types import (PRIVATE_DNS_ZONE_ID, TAG_NAME_FORBIDDEN, TAG_NAME_MAX, TAG_VALUE_MAX, AzureRegion,
                         ContainerName, FirewallRange, IsoDuration, Replication, ResourceId, SubscriptionId, resource_id)

NAMESPACE = "bootstrap"
DEFAULT_FILE = Path("state-backend") / "Pulumi.state.yaml"
DEFAULT_STACK = "state"

# Key Vault object names: 1-127 letters, digits and hyphens.
_KEY_NAME = re.compile(r"^[A-Za-z0-9-]{1,127}$")
# ISO 8601 durations as Key Vault rotation policies take them (years, months, days).
_DURATION = re.compile(r"^P(?=\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")
_SUBNET_ID = resource_id(r"Microsoft\.Network/virtualNetworks/[-\w.]+/subnets/[-\w.]+")
_WORKSPACE_ID = resource_id(r"Microsoft\.OperationalInsights/workspaces/[-\w]+", re.IGNORECASE)
# The private DNS zones the two private endpoints (blob, vault) register in.
PRIVATE_ZONES = ("privatelink.blob.core.windows.net", "privatelink.vaultcore.azure.net")


def duration_days(text: str) -> int:
    """Approximate length of a PnYnMnD duration in days (a year 365, a month 30)."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a PnYnMnD duration")
    years, months, days = (int(g or 0) for g in m.groups())
    return years * 365 + months * 30 + days


def _arm_name(rule: str, what: str, value: str) -> str:
    r = RULES[rule]
    if not r.min_len <= len(value) <= r.max_len:
        raise ValueError(f"must be {r.min_len}-{r.max_len} characters (ARM {what} name rule)")
    if r.check(value):
        raise ValueError(f"must be {r.described} (ARM {what} name rule)")
    return value


class AzureSection(_Section):
    subscription_id: SubscriptionId
    """The subscription the state backend lives in."""
    location: AzureRegion
    """The region of its resources."""


class NamesSection(_Section):
    """The backend's resource names; the storage account's and key vault's are globally unique: pick names of
    your own (the example file's are taken)."""

    resource_group: str
    """The resource group (ARM resource group name rule)."""
    storage_account: str
    """The state's storage account (ARM storage account name rule)."""
    key_vault: str
    """The vault that holds the secrets provider's key (ARM key vault name rule)."""
    container: ContainerName = "state"
    """The blob container the state lives in."""
    key: str = "pulumi-state"
    """The secrets provider's key: 1-127 letters, digits and hyphens."""

    @field_validator("resource_group")
    @classmethod
    def _rg(cls, v: str) -> str:
        return _arm_name("resource_group", "resource group", v)

    @field_validator("storage_account")
    @classmethod
    def _st(cls, v: str) -> str:
        return _arm_name("storage", "storage account", v)

    @field_validator("key_vault")
    @classmethod
    def _kv(cls, v: str) -> str:
        return _arm_name("key_vault", "key vault", v)

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not _KEY_NAME.match(v):
            raise ValueError("must be 1-127 letters, digits and hyphens (Key Vault object name rule)")
        return v


class StorageSection(_Section):
    replication: Replication = "Standard_GZRS"
    """The account's redundancy; geo-zone-redundant by default: the state of every environment lives here."""
    soft_delete_days: int = Field(default=30, ge=BLOB_SOFT_DELETE_DAYS.low, le=BLOB_SOFT_DELETE_DAYS.high)
    """Blob and container soft delete: how long a deleted checkpoint or container can be restored."""
    delete_old_versions_after_days: int | None = Field(default=None, ge=1, le=3650)
    """Versioning keeps every overwritten checkpoint; a lifecycle rule deletes versions this old. Unset: versions
    are kept until deleted by hand."""


class KeyVaultSection(_Section):
    sku: Literal["standard", "premium"] = "premium"
    """premium holds HSM-protected keys (keyType RSA-HSM)."""
    soft_delete_retention_days: int = Field(default=90, ge=KEY_VAULT_SOFT_DELETE_DAYS.low,
                                            le=KEY_VAULT_SOFT_DELETE_DAYS.high)
    """Days a deleted vault or key stays recoverable (purge protection is always on)."""
    key_type: KeyType = "RSA-HSM"
    """RSA-HSM (needs the premium SKU) or RSA."""
    key_size: KeySize = 3072
    """Bits of the key."""
    key_expiry: IsoDuration = "P2Y"
    """Expiry the rotation policy gives every key version it creates: an ISO 8601 duration of years, months and
    days (PnYnMnD), at least 28 days."""
    notify_before_expiry: IsoDuration = "P30D"
    """Key Vault raises a near-expiry event this long before a version expires; shorter than `keyExpiry`."""

    @field_validator("key_expiry", "notify_before_expiry")
    @classmethod
    def _duration(cls, v: str) -> str:
        if not _DURATION.match(v):
            raise ValueError("must be an ISO 8601 duration of years, months and days, such as P2Y, P6M or P30D")
        return v

    @model_validator(mode="after")
    def _check(self) -> "KeyVaultSection":
        if duration_days(self.key_expiry) < 28:
            raise _Rule("keyVault.keyExpiry", "Key Vault rotation policies need an expiry of at least 28 days",
                        self.key_expiry)
        if duration_days(self.notify_before_expiry) >= duration_days(self.key_expiry):
            raise _Rule("keyVault.notifyBeforeExpiry", f"must be shorter than keyExpiry ({self.key_expiry})",
                        self.notify_before_expiry)
        if self.key_type == "RSA-HSM" and self.sku != "premium":
            raise _Rule("keyVault.keyType", "HSM-protected keys need the premium SKU (keyVault.sku: premium)",
                        self.key_type)
        return self


class NetworkSection(_Section):
    mode: Literal["public", "private"]
    """public: public endpoints, firewall default Deny, only `allowedIpRanges` get through; private: public access
    Disabled, private endpoints (blob, vault) in `privateEndpointSubnetId`."""
    allowed_ip_ranges: list[FirewallRange] = Field(default_factory=list)
    """Public mode, and required there: the public IPv4 addresses or ranges of the machines that run pulumi
    (operators, CI runners), /16 or narrower (the platform's allow-list rule)."""
    private_endpoint_subnet_id: ResourceId | None = None
    """Private mode, and required there: the subnet of the blob and vault private endpoints, in
    `azure.subscriptionId`."""
    dns_zone_ids: dict[str, ResourceId] = Field(default_factory=dict)
    """Private mode: existing central zones (zone name -> ID), both or none; leave out when a landing-zone policy
    adds the zone groups."""

    @field_validator("allowed_ip_ranges", mode="wrap")
    @classmethod
    def _ranges(cls, v: Any, handler: ValidatorFunctionWrapHandler) -> list[str]:
        # The platform's allow-list rule (FirewallRange): public IPv4, no wider than /16, no /31, /32 as a bare
        # address; and each range once.
        return refuse_repeats(handler(v), v, "is listed twice")

    @field_validator("private_endpoint_subnet_id")
    @classmethod
    def _subnet(cls, v: str | None) -> str | None:
        if v is not None and not _SUBNET_ID.match(v):
            raise ValueError("must be a subnet resource ID (/subscriptions/<id>/resourceGroups/<rg>/providers/"
                             "Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>)")
        return v

    @field_validator("dns_zone_ids")
    @classmethod
    def _zones(cls, v: dict[str, str]) -> dict[str, str]:
        for zone, rid in v.items():
            if zone not in PRIVATE_ZONES:
                raise ValueError(f"{zone!r} is not a zone the state backend uses ({', '.join(PRIVATE_ZONES)})")
            m = PRIVATE_DNS_ZONE_ID.match(rid)
            if not m or m.group("zone") != zone:
                raise ValueError(f"{zone}: {rid!r} must be the resource ID of the private DNS zone {zone}")
        return v

    @model_validator(mode="after")
    def _check(self) -> "NetworkSection":
        if self.mode == "public":
            if not self.allowed_ip_ranges:
                raise _Rule("network.allowedIpRanges", "public mode needs the public IP ranges of the machines that "
                            "run pulumi (operators, CI runners); everything else is denied", [])
            for key in ("private_endpoint_subnet_id", "dns_zone_ids"):
                if getattr(self, key):
                    raise _Rule(f"network.{to_camel(key)}", "applies only to private mode", getattr(self, key))
            return self
        if self.allowed_ip_ranges:
            raise _Rule("network.allowedIpRanges", "applies only to public mode (private mode disables public "
                        "access)", self.allowed_ip_ranges)
        if not self.private_endpoint_subnet_id:
            raise _Rule("network.privateEndpointSubnetId", "private mode needs the subnet for the blob and vault "
                        "private endpoints", None)
        if self.dns_zone_ids and set(self.dns_zone_ids) != set(PRIVATE_ZONES):
            missing = sorted(set(PRIVATE_ZONES) - set(self.dns_zone_ids))
            raise _Rule("network.dnsZoneIds", f"needs an ID for every zone or none; missing {', '.join(missing)}",
                        self.dns_zone_ids)
        return self


class AccessSection(_Section):
    """Who reads and writes state; each principal once."""

    deployment: Principal
    """The CI/CD principal that runs `pulumi` for the platform stacks (OIDC federated service principal)."""
    platform_owners: Principal
    """The platform owners group (type Group): runs pulumi by hand, migrates the bootstrap, rotates the key."""
    preview: Principal | None = None
    """Optional: a principal that only previews (pull requests). `pulumi preview` takes no lock in a DIY backend,
    so it reads state (Storage Blob Data Reader) and decrypts (Key Vault Crypto User)."""

    @field_validator("platform_owners")
    @classmethod
    def _group(cls, v: Principal) -> Principal:
        if v.type != "Group":
            raise ValueError("must be an Entra group (type Group): access goes to a group, not a person")
        return v

    @model_validator(mode="after")
    def _distinct(self) -> "AccessSection":
        seen: dict[str, str] = {}
        for key in ("deployment", "platform_owners", "preview"):
            p = getattr(self, key)
            if p is None:
                continue
            if p.object_id in seen:
                raise _Rule(f"access.{to_camel(key)}.objectId", f"must differ from {seen[p.object_id]}.objectId "
                            "(each principal gets one set of roles)", p.object_id)
            seen[p.object_id] = to_camel(key)
        return self


class DiagnosticsSection(_Section):
    log_analytics_workspace_id: ResourceId | None = None
    """Blob and Key Vault audit logs (who read state, who decrypted) to this existing Log Analytics workspace."""

    @field_validator("log_analytics_workspace_id")
    @classmethod
    def _ws(cls, v: str | None) -> str | None:
        if v is not None and not _WORKSPACE_ID.match(v):
            raise ValueError("must be a Log Analytics workspace resource ID (/subscriptions/<id>/resourceGroups/"
                             "<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>)")
        return v


class ProtectionSection(_Section):
    locks: bool = True
    """CanNotDelete locks on the storage account and the key vault."""
    protect: bool = True
    """Pulumi `protect` on the stateful resources (resource group, account, container, vault, key)."""


class BootstrapConfig(_StackFile):
    azure: AzureSection
    """Where the backend lives."""
    names: NamesSection
    """Its resources' names."""
    storage: StorageSection = Field(default_factory=StorageSection)
    """The state's storage account."""
    key_vault: KeyVaultSection = Field(default_factory=KeyVaultSection)
    """The vault and the secrets provider's key."""
    network: NetworkSection
    """How pulumi reaches the backend."""
    access: AccessSection
    """Who reads and writes state."""
    diagnostics: DiagnosticsSection = Field(default_factory=DiagnosticsSection)
    """Audit logs."""
    protection: ProtectionSection = Field(default_factory=ProtectionSection)
    """Locks and Pulumi `protect`."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags on every resource: at most 45, names of 1-512 characters without `< > % & \\ ? /`, values up to 256."""

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        if len(v) > 45:
            raise ValueError("must hold at most 45 tags (Azure allows 50; the bootstrap adds its own)")
        for name, value in v.items():
            if not name or len(name) > TAG_NAME_MAX or TAG_NAME_FORBIDDEN & set(name):
                raise ValueError(f"tag name {name!r} must be 1-{TAG_NAME_MAX} characters without < > % & \\ ? /")
            if len(value) > TAG_VALUE_MAX:
                raise ValueError(f"tag {name!r} value must be at most {TAG_VALUE_MAX} characters")
        return v

    @model_validator(mode="after")
    def _same_subscription(self) -> "BootstrapConfig":
        subnet = self.network.private_endpoint_subnet_id
        if subnet and subnet.split("/")[2].lower() != self.azure.subscription_id:
            raise _Rule("network.privateEndpointSubnetId", "a private endpoint lives in its virtual network's "
                        f"subscription: the subnet must be in azure.subscriptionId ({self.azure.subscription_id})",
                        subnet)
        return self

    _stack: str = PrivateAttr(default=DEFAULT_STACK)

    @property
    def vault_uri(self) -> str:
        return f"https://{self.names.key_vault}.vault.azure.net/"

    @property
    def key_id(self) -> str:
        """The versionless key identifier (the key's `kid` without its version)."""
        return f"https://{self.names.key_vault}.vault.azure.net/keys/{self.names.key}"

    @property
    def backend_url(self) -> str:
        """The `pulumi login` URL of the state container (Pulumi CLI 3.41.1 or later)."""
        return f"azblob://{self.names.container}?storage_account={self.names.storage_account}"

    def secrets_provider(self, version: str) -> str:
        return f"azurekeyvault://{self.names.key_vault}.vault.azure.net/keys/{self.names.key}/{version}"


LINES = ErrorLines(NAMESPACE, BootstrapConfig, values="whole")


def parse(raw: Mapping[str, Any], source: str, stack: str = DEFAULT_STACK) -> BootstrapConfig:
    """Validate the `bootstrap:*` keys of a stack's config (other namespaces, such as azure-native, are ignored)."""
    prefix = NAMESPACE + ":"
    data = {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}
    for key, value in data.items():
        if is_secure(value):
            raise ConfigError(f"{source}: {prefix}{key}: must not be a secret: the bootstrap takes plain values only")
    cfg = LINES.validate(data, source)
    cfg._source = source
    cfg._stack = stack
    return cfg


def load(path: Path | str) -> tuple[BootstrapConfig, dict[str, Any]]:
    """Read and validate a bootstrap stack file; the stack name comes from `Pulumi.<stack>.yaml`."""
    path = Path(path)
    raw = read_stack_file(path)
    name = path.name
    stack = name[len("Pulumi."):-len(".yaml")] if name.startswith("Pulumi.") and name.endswith(".yaml") else ""
    if not STACK_NAME.match(stack):
        raise ConfigError(f"{display(path)}: a bootstrap stack file is named Pulumi.<stack>.yaml")
    return parse(raw, display(path), stack), raw


def from_pulumi() -> BootstrapConfig:
    """The running stack's config, as the pulumi engine hands it to the program."""
    import pulumi

    stack = pulumi.get_stack()
    return parse(pulumi_config(), f"state-backend/Pulumi.{stack}.yaml", stack)
