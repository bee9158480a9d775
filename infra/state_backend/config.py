"""Typed, validated inputs of the state-backend bootstrap.

The bootstrap is its own Pulumi project (`state-backend/`); its stack file
`state-backend/Pulumi.<stack>.yaml` keeps the inputs under the `bootstrap:`
namespace, one key per section, exactly as the platform's stack files keep
theirs under `amlplatform:`. Unknown keys are errors; every mistake is one
line naming the file, the key path and the rule, raised as the platform's
`ConfigError` before any resource is declared.
"""

from __future__ import annotations

import json
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from infra.config.stack import AZURE_REGIONS, ConfigError, Replication, read_stack_file
from infra.config.base import NO_VALUE, _At, _Rule, _Section
from infra.config.network import NetworkConfig as _PlatformNetwork
from infra.config.rbac import Principal
from infra.naming import RULES

NAMESPACE = "bootstrap"
DEFAULT_FILE = Path("state-backend") / "Pulumi.state.yaml"
DEFAULT_STACK = "state"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Blob container names: 3-63 lowercase letters, digits and single hyphens, alphanumeric at both ends.
_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
# Key Vault object names: 1-127 letters, digits and hyphens.
_KEY_NAME = re.compile(r"^[A-Za-z0-9-]{1,127}$")
# ISO 8601 durations as Key Vault rotation policies take them (years, months, days).
_DURATION = re.compile(r"^P(?=\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")
_SUBNET_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/Microsoft\.Network/virtualNetworks/"
    r"[-\w.]+/subnets/[-\w.]+$"
)
_ZONE_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/Microsoft\.Network/privateDnsZones/"
    r"(?P<zone>[a-z0-9.-]+)$"
)
_WORKSPACE_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/Microsoft\.OperationalInsights/"
    r"workspaces/[-\w]+$",
    re.IGNORECASE,
)
# The private DNS zones the two private endpoints (blob, vault) register in.
PRIVATE_ZONES = ("privatelink.blob.core.windows.net", "privatelink.vaultcore.azure.net")
_TAG_NAME_FORBIDDEN = set("<>%&\\?/")


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
    subscription_id: str
    location: str

    @field_validator("subscription_id")
    @classmethod
    def _sub(cls, v: str) -> str:
        if not _GUID.match(v):
            raise ValueError("must be a subscription GUID such as 00000000-0000-0000-0000-000000000000")
        return v.lower()

    @field_validator("location")
    @classmethod
    def _loc(cls, v: str) -> str:
        if v not in AZURE_REGIONS:
            raise ValueError("must be an Azure region name in lowercase without spaces, such as westeurope")
        return v


class NamesSection(_Section):
    resource_group: str
    # Globally unique: pick names of your own (the defaults of the example file are taken).
    storage_account: str
    key_vault: str
    container: str = "state"
    key: str = "pulumi-state"

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

    @field_validator("container")
    @classmethod
    def _container(cls, v: str) -> str:
        if not _CONTAINER.match(v):
            raise ValueError("must be 3-63 lowercase letters, digits and single hyphens, starting and ending with "
                             "a letter or digit (blob container name rule)")
        return v

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not _KEY_NAME.match(v):
            raise ValueError("must be 1-127 letters, digits and hyphens (Key Vault object name rule)")
        return v


class StorageSection(_Section):
    # Geo-zone-redundant by default: the state of every environment lives here.
    replication: Replication = "Standard_GZRS"
    # Blob and container soft delete: how long a deleted checkpoint or container can be restored.
    soft_delete_days: int = Field(default=30, ge=1, le=365)
    # Versioning keeps every overwritten checkpoint; a lifecycle rule deletes versions this old.
    # Unset: versions are kept until deleted by hand.
    delete_old_versions_after_days: int | None = Field(default=None, ge=1, le=3650)


class KeyVaultSection(_Section):
    # premium: HSM-protected keys (keyType RSA-HSM).
    sku: Literal["standard", "premium"] = "premium"
    soft_delete_retention_days: int = Field(default=90, ge=7, le=90)
    key_type: Literal["RSA-HSM", "RSA"] = "RSA-HSM"
    key_size: Literal[3072, 4096] = 3072
    # Expiry the rotation policy gives every key version it creates (ISO 8601, at least 28 days).
    key_expiry: str = "P2Y"
    # Key Vault raises a near-expiry event this long before a version expires.
    notify_before_expiry: str = "P30D"

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
    # public: public endpoints, firewall default Deny, only allowedIpRanges get through;
    # private: public access Disabled, private endpoints (blob, vault) in privateEndpointSubnetId.
    mode: Literal["public", "private"]
    allowed_ip_ranges: list[str] = Field(default_factory=list)
    private_endpoint_subnet_id: str | None = None
    # Existing central zones (zone name -> ID); leave out when a landing-zone policy adds the zone groups.
    dns_zone_ids: dict[str, str] = Field(default_factory=dict)

    @field_validator("allowed_ip_ranges")
    @classmethod
    def _ranges(cls, v: list[str]) -> list[str]:
        # The platform's allow-list rule: public IPv4, no wider than /16, no /31, /32 as a bare address.
        return _PlatformNetwork._ranges(v)

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
            m = _ZONE_ID.match(rid)
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
                    raise _Rule(f"network.{_camel(key)}", "applies only to private mode", getattr(self, key))
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
    # The CI/CD principal that runs `pulumi` for the platform stacks (OIDC federated service principal).
    deployment: Principal
    # The platform owners group: runs pulumi by hand, migrates the bootstrap, rotates the key.
    platform_owners: Principal
    # Optional: a principal that only previews (pull requests). `pulumi preview` takes no lock in a
    # DIY backend, so it reads state (Storage Blob Data Reader) and decrypts (Key Vault Crypto User).
    preview: Principal | None = None

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
                raise _Rule(f"access.{_camel(key)}.objectId", f"must differ from {seen[p.object_id]}.objectId "
                            "(each principal gets one set of roles)", p.object_id)
            seen[p.object_id] = _camel(key)
        return self


class DiagnosticsSection(_Section):
    # Blob and Key Vault audit logs (who read state, who decrypted) to an existing Log Analytics workspace.
    log_analytics_workspace_id: str | None = None

    @field_validator("log_analytics_workspace_id")
    @classmethod
    def _ws(cls, v: str | None) -> str | None:
        if v is not None and not _WORKSPACE_ID.match(v):
            raise ValueError("must be a Log Analytics workspace resource ID (/subscriptions/<id>/resourceGroups/"
                             "<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>)")
        return v


class ProtectionSection(_Section):
    # CanNotDelete locks on the storage account and the key vault.
    locks: bool = True
    # Pulumi `protect` on the stateful resources (account, container, vault, key).
    protect: bool = True


class BootstrapConfig(_Section):
    azure: AzureSection
    names: NamesSection
    storage: StorageSection = Field(default_factory=StorageSection)
    key_vault: KeyVaultSection = Field(default_factory=KeyVaultSection)
    network: NetworkSection
    access: AccessSection
    diagnostics: DiagnosticsSection = Field(default_factory=DiagnosticsSection)
    protection: ProtectionSection = Field(default_factory=ProtectionSection)
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        if len(v) > 45:
            raise ValueError("must hold at most 45 tags (Azure allows 50; the bootstrap adds its own)")
        for name, value in v.items():
            if not name or len(name) > 512 or _TAG_NAME_FORBIDDEN & set(name):
                raise ValueError(f"tag name {name!r} must be 1-512 characters without < > % & \\ ? /")
            if len(value) > 256:
                raise ValueError(f"tag {name!r} value must be at most 256 characters")
        return v

    @model_validator(mode="after")
    def _same_subscription(self) -> "BootstrapConfig":
        subnet = self.network.private_endpoint_subnet_id
        if subnet and subnet.split("/")[2].lower() != self.azure.subscription_id:
            raise _Rule("network.privateEndpointSubnetId", "a private endpoint lives in its virtual network's "
                        f"subscription: the subnet must be in azure.subscriptionId ({self.azure.subscription_id})",
                        subnet)
        return self

    _source: str = "<config>"
    _stack: str = DEFAULT_STACK

    @property
    def source(self) -> str:
        return self._source

    @property
    def stack(self) -> str:
        return self._stack

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


# ---- error formatting ------------------------------------------------------

_TYPE_MESSAGES = {
    "missing": "required key is missing",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "string_type": "must be a string",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "list_type": "must be a list",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _unwrap(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1 else tp


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    current: Any = BootstrapConfig
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for f in current.model_fields.values() if f.alias == part), None)
            if field is None:
                return None
            current = _unwrap(field.annotation)
        elif typing.get_origin(current) in (dict, list):
            current = _unwrap(typing.get_args(current)[-1])
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _got(value: Any) -> str:
    return json.dumps(value, default=str)


def _format(err: Mapping[str, Any], source: str) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    key = f"{NAMESPACE}:{_path(loc)}"
    rule = (err.get("ctx") or {}).get("error")
    if isinstance(rule, _Rule):
        return f"{source}: {NAMESPACE}:{rule.path}: {rule.message}, got {_got(rule.value)}"
    if isinstance(rule, _At):
        # A rule about one key below the reported one (a list item, a field of a section).
        joined = key + rule.key if rule.key.startswith("[") else f"{key}.{rule.key}"
        shown = "" if rule.value is NO_VALUE else f", got {_got(rule.value)}"
        return f"{source}: {joined}: {rule.message}{shown}"
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = ", ".join(f.alias or n for n, f in parent.model_fields.items()) if parent else ""
        return f"{source}: {key}: unknown key" + (f" (allowed: {allowed})" if allowed else "")
    if kind == "missing":
        return f"{source}: {key}: {_TYPE_MESSAGES['missing']}"
    if kind == "value_error":
        msg = str(err["msg"]).removeprefix("Value error, ")
    elif kind == "literal_error":
        msg = "must be one of " + str(err["ctx"]["expected"]).replace("'", "")
    elif kind in ("greater_than_equal", "less_than_equal"):
        ctx = err["ctx"]
        msg = f"must be {'at least' if kind == 'greater_than_equal' else 'at most'} {ctx.get('ge', ctx.get('le'))}"
    else:
        msg = _TYPE_MESSAGES.get(kind, str(err["msg"]))
    return f"{source}: {key}: {msg}, got {_got(err.get('input'))}"


# ---- loading ---------------------------------------------------------------


def parse(raw: Mapping[str, Any], source: str, stack: str = DEFAULT_STACK) -> BootstrapConfig:
    """Validate the `bootstrap:*` keys of a stack's config (other namespaces, such as azure-native, are ignored)."""
    prefix = NAMESPACE + ":"
    data = {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}
    for key, value in data.items():
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            raise ConfigError(f"{source}: {prefix}{key}: must not be a secret: the bootstrap takes plain values only")
    try:
        cfg = BootstrapConfig.model_validate(data)
    except _Rule as rule:
        raise ConfigError(f"{source}: {prefix}{rule.path}: {rule.message}, got {_got(rule.value)}") from None
    except ValidationError as exc:
        raise ConfigError("\n".join(_format(e, source) for e in exc.errors())) from None
    cfg._source = source
    cfg._stack = stack
    return cfg


def load(path: Path | str) -> tuple[BootstrapConfig, dict[str, Any]]:
    """Read and validate a bootstrap stack file; the stack name comes from `Pulumi.<stack>.yaml`."""
    path = Path(path)
    raw = read_stack_file(path)
    name = path.name
    stack = name[len("Pulumi."):-len(".yaml")] if name.startswith("Pulumi.") and name.endswith(".yaml") else ""
    if not re.match(r"^[A-Za-z0-9_.-]{1,100}$", stack):
        raise ConfigError(f"{_display(path)}: a bootstrap stack file is named Pulumi.<stack>.yaml")
    return parse(raw, _display(path), stack), raw


def from_pulumi() -> BootstrapConfig:
    """The running stack's config, as the pulumi engine hands it to the program."""
    import pulumi
    from pulumi.runtime.config import CONFIG, get_config_env

    merged: dict[str, Any] = {**get_config_env(), **CONFIG.get()}
    raw: dict[str, Any] = {}
    for key, value in merged.items():
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        raw[key] = value
    stack = pulumi.get_stack()
    return parse(raw, f"state-backend/Pulumi.{stack}.yaml", stack)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
