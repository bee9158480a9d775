"""Typed, validated stack configuration.

Every stack file keeps its settings under the `amlplatform:` namespace, one key
per section (`amlplatform:platform`, `amlplatform:network`, ...). The model
rejects unknown keys, fills what a stack leaves out from the environment table
below, and turns every mistake into one line naming the stack file, the key
path and the rule, raised as `ConfigError` before any resource is declared.
"""

from __future__ import annotations

import ipaddress
import json
import re
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping, TypeAlias

import yaml
from pydantic import BaseModel, Field, PrivateAttr, ValidationError, field_validator, model_validator

from infra.config.base import NO_VALUE, _At, _Rule, _Section
from infra.config.compute import AksConfig, ClusterConfig, ComputeConfig
from infra.config_encryption import EncryptionConfig, check_encryption
from infra.config.network import NetworkConfig
from infra.config.rbac import Principal, RbacConfig, TeamConfig, check_teams  # noqa: F401 (Principal re-exported)
from infra.config.registry import REGISTRY_SECTION, MlRegistryRefConfig
from infra.paths import REPO_ROOT

NAMESPACE = "amlplatform"
STACKS_DIR = "stacks"

Environment = Literal["dev", "staging", "prod"]
Replication = Literal[
    "Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS", "Standard_RAGRS", "Standard_RAGZRS"
]
GEO_REPLICATION = ("Standard_GRS", "Standard_GZRS", "Standard_RAGRS", "Standard_RAGZRS")

# Defaults per environment.
# A stack overrides any of them by setting the key. StackConfig's before-validator
# merges the column in before the sections validate, so every key listed here
# always has a value; the section models type those keys as required values, and
# their field defaults (dev's column) only keep a section constructible on its own.
ENVIRONMENT_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "dev": {
        "network": {"mode": "public"},
        "storage": {"replication": "Standard_LRS"},
        "registry": {"sku": "Basic", "zoneRedundancy": False},
        "keyVault": {"sku": "standard"},
        "monitoring": {"retentionDays": 30},
        "workspace": {"hbi": False},
        "protection": {"locks": False, "protect": False},
        "compute": {"defaultPriority": "LowPriority", "defaultMaxNodes": 2, "instances": {"enabled": True}},
        "aks": {"enabled": False},
        "assets": {"enabled": True, "schedulesEnabled": False},
    },
    "staging": {
        "network": {"mode": "private"},
        "storage": {"replication": "Standard_ZRS"},
        "registry": {"sku": "Premium", "zoneRedundancy": False},
        "keyVault": {"sku": "standard"},
        "monitoring": {"retentionDays": 90},
        "workspace": {"hbi": False},
        "protection": {"locks": True, "protect": True},
        "compute": {"defaultPriority": "Dedicated", "defaultMaxNodes": 4, "instances": {"enabled": False}},
        # Staging's maintenance the day before prod's: it meets new node images and versions first.
        "aks": {"enabled": True, "zones": ["1"], "clusterPurpose": "DevTest", "maintenance": {"day": "Saturday"}},
        "assets": {"enabled": True, "schedulesEnabled": False},
    },
    "prod": {
        "network": {"mode": "private"},
        "storage": {"replication": "Standard_GZRS"},
        "registry": {"sku": "Premium", "zoneRedundancy": True},
        "keyVault": {"sku": "premium"},
        "monitoring": {"retentionDays": 365},
        "workspace": {"hbi": True},
        # Customer-managed keys also follow workspace.hbi in every environment (config_encryption.py).
        "encryption": {"customerManagedKey": {"enabled": True}},
        "protection": {"locks": True, "protect": True},
        "compute": {"defaultPriority": "Dedicated", "defaultMaxNodes": 10, "instances": {"enabled": False}},
        "aks": {
            "enabled": True,
            "zones": ["1", "2", "3"],
            "clusterPurpose": "FastProd",
            "systemPool": {"vmSize": "Standard_D4ds_v5", "count": 3},
            "inferencePool": {"vmSize": "Standard_D8ds_v5", "minCount": 2, "maxCount": 6},
            "maintenance": {"day": "Sunday"},
        },
        "assets": {"enabled": True, "schedulesEnabled": True},
    },
}

# Log Analytics and App Insights ingestion only through an Azure Monitor private link scope, by default,
# in these environments wherever the stack creates its own private DNS zones (network.dns create): the
# scope's endpoint then writes Azure Monitor's names into zones nobody else uses. With central zones
# (existing, or none: policy-made) Microsoft allows one scope per DNS, which the landing zone decides.
PRIVATE_INGESTION_BY_DEFAULT = ("staging", "prod")

# Secrets the program reads with pulumi.Config.require_secret; set them with
# `pulumi config set --secret amlplatform:<key>` (never in plain text).
SECRET_KEYS = ("aksTlsCertPem", "aksTlsKeyPem", "databricksAccessToken")
DEFAULT_CLUSTER = {"name": "cpu-cluster", "vmSize": "Standard_DS3_v2"}

# Public-cloud region names (as `az account list-locations` prints them).
AZURE_REGIONS = frozenset(
    """
    australiacentral australiacentral2 australiaeast australiasoutheast austriaeast belgiumcentral brazilsouth
    brazilsoutheast canadacentral canadaeast centralindia centralus chilecentral eastasia eastus eastus2
    francecentral francesouth germanynorth germanywestcentral indonesiacentral israelcentral italynorth
    japaneast japanwest koreacentral koreasouth malaysiawest mexicocentral newzealandnorth northcentralus
    northeurope norwayeast norwaywest polandcentral qatarcentral southafricanorth southafricawest
    southcentralus southeastasia southindia spaincentral swedencentral swedensouth switzerlandnorth
    switzerlandwest uaecentral uaenorth uksouth ukwest westcentralus westeurope westindia westus westus2
    westus3
    """.split()
)

_PREFIX = re.compile(r"^[a-z0-9]{2,10}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_FEATURE = re.compile(r"^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)+/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TAG_NAME_FORBIDDEN = set('<>%&\\?/')
# Tags the platform sets on every resource itself (program.platform_tags); a stack's own tag of the
# same name (tag names are case-insensitive in Azure) would be overwritten.
PLATFORM_TAGS = ("environment", "managed-by", "project")
# Azure tag limits ("Use tags to organize your Azure resources", Limitations,
# https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations):
# 50 tags per resource; names up to 512 characters, values up to 256; on storage accounts names
# up to 128. Every tag lands on every resource here, the storage account included.
MAX_TAGS, TAG_VALUE_MAX, TAG_NAME_MAX_STORAGE = 50, 256, 128


class ConfigError(Exception):
    """A user mistake in a stack file: printed as is, never with a traceback.

    Under the pulumi CLI the program re-raises it as `pulumi.RunError`, which
    the engine also prints without a stack trace.
    """


class PlatformConfig(_Section):
    environment: Environment
    prefix: str
    location: str
    # The subscription this stack deploys to. Optional: the program reads the subscription of the
    # credentials it runs with and derives the global names' suffix from it; when set, a run whose
    # credentials point at another subscription stops before declaring anything.
    subscription_id: str | None = None
    # Raise it to re-create a destroyed stack under fresh global names while Azure still holds the
    # old ones (a purge-protected key vault for its retention, a soft-deleted workspace for 14 days).
    generation: int = Field(default=1, ge=1, le=99)
    tags: dict[str, str] = Field(default_factory=dict)
    # Regions resources may use (the allowed-locations rule); empty means the stack's location only.
    allowed_locations: list[str] = Field(default_factory=list)
    # Subscription preview features the operator has registered (`az feature register`), as
    # <Namespace>/<Feature>: the offline plan cannot ask Azure, so the stack states them and the Azure
    # rule azure-required-feature-registrations fails a plan that needs one not listed here.
    registered_features: list[str] = Field(default_factory=list)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not _PREFIX.match(v):
            raise ValueError("must be 2-10 lowercase letters or digits")
        return v

    @field_validator("location")
    @classmethod
    def _location(cls, v: str) -> str:
        if v not in AZURE_REGIONS:
            raise ValueError("must be an Azure region name in lowercase without spaces, such as westeurope")
        return v

    @field_validator("allowed_locations")
    @classmethod
    def _allowed(cls, v: list[str]) -> list[str]:
        for i, x in enumerate(v):
            if x not in AZURE_REGIONS:
                raise _At(f"[{i}]", "must be an Azure region name in lowercase without spaces, such as westeurope", x)
        return v

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

    @field_validator("subscription_id")
    @classmethod
    def _subscription(cls, v: str | None) -> str | None:
        if v is not None and not _GUID.match(v):
            raise ValueError("must be a subscription GUID such as 00000000-0000-0000-0000-000000000000")
        return v.lower() if v else v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        if len(v) > MAX_TAGS - len(PLATFORM_TAGS):
            raise ValueError(f"must hold at most {MAX_TAGS - len(PLATFORM_TAGS)} tags (Azure allows {MAX_TAGS} per "
                             f"resource; the platform adds {len(PLATFORM_TAGS)})")
        seen: dict[str, str] = {}
        for name, value in v.items():
            if not name or _TAG_NAME_FORBIDDEN & set(name):
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


class StorageConfig(_Section):
    replication: Replication = "Standard_LRS"


class KeyVaultConfig(_Section):
    sku: Literal["standard", "premium"] = "standard"
    soft_delete_retention_days: int = Field(default=90, ge=7, le=90)


class RegistryConfig(_Section):
    sku: Literal["Basic", "Standard", "Premium"] = "Basic"
    zone_redundancy: bool = False
    # Quarantine holds every pushed image until a scanner releases it; AML's own
    # image builds would then fail to pull. Off unless a stack runs such a scanner.
    quarantine: bool = False


class MonitoringConfig(_Section):
    retention_days: int = Field(default=30, ge=30, le=730)
    # AML writes online-endpoint telemetry with the App Insights connection string;
    # set false only once every writer authenticates with Entra ID.
    app_insights_local_auth: bool = True


class WorkspaceConfig(_Section):
    hbi: bool = False
    friendly_name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=1024)


class AssetsConfig(_Section):
    """Seed the workspace from a folder of AML CLI v2 YAML (infra/assets, infra/seeding/components.py)."""

    enabled: bool = True
    # Relative to the repository root. Unset: `assets/` when that folder exists (a checkout without
    # one seeds nothing); set: the folder must exist.
    folder: str | None = None
    # Schedules are declared in every stack; they run only where this is true (prod by default).
    schedules_enabled: bool = False
    # Expose each team container (teams.<name>.containers) as an identity-based ADLS Gen2 datastore.
    team_datastores: bool = True
    # The endpoints (online and batch, by name) this stack deploys from the folder; unset: all of them.
    # A stack without the AKS compute leaves out the Kubernetes endpoints here.
    endpoints: list[str] | None = None

    @field_validator("folder")
    @classmethod
    def _folder(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or Path(v).is_absolute() or ".." in Path(v).parts):
            raise ValueError("must be a folder inside the repository, relative to its root (such as assets)")
        return v


class ProtectionConfig(_Section):
    locks: bool = False
    protect: bool = False


class StackConfig(_Section):
    platform: PlatformConfig
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    key_vault: KeyVaultConfig = Field(default_factory=KeyVaultConfig)
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    workspace: WorkspaceConfig = Field(default_factory=WorkspaceConfig)
    encryption: EncryptionConfig = Field(default_factory=EncryptionConfig)
    protection: ProtectionConfig = Field(default_factory=ProtectionConfig)
    rbac: RbacConfig | None = None
    teams: dict[str, TeamConfig] = Field(default_factory=dict)
    compute: ComputeConfig = Field(default_factory=ComputeConfig)
    aks: AksConfig = Field(default_factory=AksConfig)
    assets: AssetsConfig = Field(default_factory=AssetsConfig)
    # The organisation's AML registry this stack consumes (infra/config/registry.py).
    ml_registry_ref: MlRegistryRefConfig | None = None

    _source: str = PrivateAttr(default="<config>")
    _stack: str = PrivateAttr(default="")
    _root: str | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, data: Any) -> Any:
        """Fill what the stack leaves out from its environment's column, before sections validate."""
        if not isinstance(data, dict) or not isinstance(data.get("platform"), dict):
            return data
        env = data["platform"].get("environment")
        if env not in ENVIRONMENT_DEFAULTS:
            return data
        filled = dict(data)
        for section, values in ENVIRONMENT_DEFAULTS[env].items():
            current = filled.get(section)
            if current is None:
                current = {}
            if isinstance(current, dict):
                filled[section] = _merge(values, current)
        net = filled.get("network")
        if env in PRIVATE_INGESTION_BY_DEFAULT and isinstance(net, dict) and "monitorPrivateLink" not in net \
                and net.get("mode") in ("private", "managed") and net.get("dns", "create") == "create":
            filled["network"] = {**net, "monitorPrivateLink": True}
        return filled

    @model_validator(mode="after")
    def _check(self) -> "StackConfig":
        check_teams(self.teams)
        env = self.platform.environment
        if self.network.mode == "public" and env != "dev":
            raise _Rule(
                "network.mode",
                f"public network access is allowed only in dev (this stack's environment is {env}); "
                "use private or managed",
                self.network.mode,
            )
        if self.network.mode == "public" and not self.network.allowed_ip_ranges:
            raise _Rule(
                "network.allowedIpRanges",
                "public mode needs at least one public IP range to allow; everything else is denied",
            )
        if self.network.mode in ("private", "managed") and self.registry.sku != "Premium":
            raise _Rule(
                "registry.sku",
                f"network mode {self.network.mode} reaches the registry through a private endpoint, "
                "which needs the Premium SKU",
                self.registry.sku,
            )
        if self.registry.zone_redundancy and self.registry.sku != "Premium":
            raise _Rule("registry.zoneRedundancy", "zone redundancy needs the Premium SKU", True)
        self._check_compute()
        self._check_dns_tags()
        check_encryption(self)
        return self

    def _check_dns_tags(self) -> None:
        # Azure DNS zones refuse tag names with spaces or starting with a digit (tag-resources,
        # Limitations); the stack's private DNS zones carry every tag.
        if self.network.mode == "public" or self.network.dns != "create":
            return
        for name in self.platform.tags:
            if " " in name or name[:1].isdigit():
                raise _Rule(f"platform.tags.{name}", "tag names on Azure DNS zones (this stack creates private DNS "
                            "zones: network.dns create) must not contain spaces or start with a digit")

    def _check_aks_ranges(self) -> None:
        """AKS service and pod ranges must stay clear of the VNet, its subnets and the hub's ranges.

        AKS: "the service address range must not overlap the cluster's virtual network, its subnets or
        any network connected to it" and the overlay pod range likewise
        (https://learn.microsoft.com/azure/aks/azure-cni-overlay#ip-address-planning,
        https://learn.microsoft.com/azure/aks/configure-azure-cni#plan-ip-addressing). The defaults
        (172.16.0.0/16 and 192.168.0.0/16) apply when the stack writes neither.
        """
        net = self.network
        spaces = [("the VNet's address space", s) for s in net.address_space]
        hub = [("the hub's range", s) for s in (net.hub.address_space if net.hub else [])]
        for key, rng, written in self.aks.address_ranges():
            for what, other in spaces + hub:
                if rng.overlaps(ipaddress.IPv4Network(other)):
                    default = "" if written else f" (the default, which the stack does not set: set aks.{key})"
                    raise _Rule(f"aks.{key}", f"overlaps {what} {other}{default}; Kubernetes {key[:-4]} "
                                "addresses must not overlap the cluster's network or networks peered with it",
                                str(rng))

    def _check_compute(self) -> None:
        c = self.compute
        if c.clusters is None:
            c.clusters = [ClusterConfig.model_validate(DEFAULT_CLUSTER)]
        for cluster in c.clusters:
            cluster.priority = cluster.priority or c.default_priority
            cluster.max_nodes = cluster.max_nodes or c.default_max_nodes
            if cluster.min_nodes > (cluster.max_nodes or 0):
                raise _Rule(f"compute.clusters[{cluster.name}].minNodes",
                            f"must not exceed maxNodes ({cluster.max_nodes}, the environment's default)",
                            cluster.min_nodes)
        members = {m for team in self.teams.values() for m in team.members}
        for i, user in enumerate(c.instances.users or []):
            if user not in members:
                raise _Rule(f"compute.instances.users[{i}]", "a compute instance's user must be a member of a "
                            "team in this stack (teams.<name>.members)", user)
        if self.aks.enabled:
            if self.network.mode != "private":
                raise _Rule("aks.enabled", f"AKS for inference runs in private mode's scoring subnet (network.mode "
                            f"is {self.network.mode})", True)
            scoring = self.network.subnets.scoring
            # NetworkConfig already refused private mode without a scoring subnet.
            assert scoring is not None
            self._check_aks_ranges()
            subnet = ipaddress.IPv4Network(scoring)
            usable = subnet.num_addresses - 5
            need = self.aks.addresses_needed()
            if need > usable:
                raise _Rule("aks.inferencePool.maxCount",
                            f"the scoring subnet {subnet} has {usable} usable addresses but the cluster needs {need} "
                            f"at full scale ({self.aks.nodes_at_most()} nodes incl. surge"
                            + ("" if self.aks.network_plugin_mode == "overlay" else f" x {self.aks.max_pods + 1} "
                               "addresses each with flat Azure CNI") + ", + 5 for load balancers)",
                            self.aks.inference_pool.max_count)

    def required_secrets(self) -> list[str]:
        """Secret config keys this stack's program will read."""
        out = []
        if self.aks.enabled and self.aks.tls.mode == "certificate":
            out += ["aksTlsCertPem", "aksTlsKeyPem"]
        if any(a.type == "Databricks" for a in self.compute.attach):
            out.append("databricksAccessToken")
        return out

    @property
    def source(self) -> str:
        """The stack file this config came from, for messages."""
        return self._source

    @property
    def root(self) -> Path | None:
        """The repository root this stack was loaded from (load_stack, or the project under pulumi);
        None for a config parsed from a mapping alone, which has no files beside it (no assets)."""
        return Path(self._root) if self._root else None

    @property
    def stack(self) -> str:
        return self._stack

    @property
    def is_geo_replicated(self) -> bool:
        return self.storage.replication in GEO_REPLICATION


if TYPE_CHECKING:
    from infra.config.registry_stack import RegistryStackConfig
    from infra.config.team_stack import TeamStackConfig

# What a stack file holds: a platform stack (an environment), a team stack on one (config_team.py), or the
# organisation's registry stack (config_registry_stack.py). `stack_kind` tells them apart.
AnyStackConfig: TypeAlias = "StackConfig | TeamStackConfig | RegistryStackConfig"
StackKind = Literal["platform", "registry", "team"]
# The key whose presence makes a stack file a team stack or the registry stack; any other file is a platform stack.
TEAM_KEY = f"{NAMESPACE}:team"
# The key a team stack names its platform stack with (config_team.py).
PLATFORM_STACK_KEY = f"{NAMESPACE}:platformStack"
REGISTRY_KEY = f"{NAMESPACE}:{REGISTRY_SECTION}"
# The order `plan --all` plans the kinds in: a team stack reads its platform stack's outputs.
KIND_ORDER: tuple[StackKind, ...] = ("platform", "registry", "team")


def stack_kind(raw: Mapping[str, Any]) -> StackKind:
    """The kind of stack a stack file's `config:` holds: the one place stack kinds are told apart (the
    program's entry point, the CLI, the preflight across stacks and the listings of stacks/ all ask here).
    A file with both keys is a team stack, whose validation then names the registry key as foreign."""
    if TEAM_KEY in raw:
        return "team"
    if REGISTRY_KEY in raw:
        return "registry"
    return "platform"


def _merge(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    out = dict(defaults)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


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


def _allowed_keys(model: type[BaseModel]) -> str:
    return ", ".join(f.alias or name for name, f in model.model_fields.items())


def _model_at(loc: tuple[Any, ...], root: type[BaseModel] | None = None) -> type[BaseModel] | None:
    """The model a key path points into (through optional, list and name-keyed sections)."""
    import typing

    def unwrap(tp: Any) -> Any:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1 else tp

    current: Any = root or StackConfig
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for f in current.model_fields.values() if f.alias == part), None)
            if field is None:
                return None
            current = unwrap(field.annotation)
        elif typing.get_origin(current) in (dict, list):
            current = unwrap(typing.get_args(current)[-1])
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _item_label(container: Any, index: int) -> str:
    """A list item by its name where it has one (clusters[gpu-cluster]), else by position."""
    item = container[index] if isinstance(container, list) and 0 <= index < len(container) else None
    name = item.get("name") if isinstance(item, dict) else None
    return f"[{name}]" if isinstance(name, str) and name else f"[{index}]"


def _path(loc: tuple[Any, ...], data: Any = None) -> str:
    """The key path of a pydantic location, list items named from the stack's own data."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += _item_label(node, part)
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
        else:
            out += ("." if out else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _join(path: str, key: str) -> str:
    return path + key if key.startswith("[") or not path else f"{path}.{key}"


MAX_SHOWN = 80


def _got(value: Any) -> str:
    """`, got <value>` for a scalar, capped at about 80 characters; nothing for sections and lists."""
    if value is NO_VALUE or isinstance(value, (dict, list, tuple)):
        return ""
    text = json.dumps(value, default=str)
    if len(text) > MAX_SHOWN:
        text = text[:MAX_SHOWN - 4] + '..."'
    return f", got {text}"


def _line(source: str, key: str, message: str, value: Any = NO_VALUE) -> str:
    return f"{source}: {NAMESPACE}:{key}: {message}{_got(value)}"


def _message(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        return "must be one of " + str(err["ctx"]["expected"]).replace("'", "")
    if kind in ("greater_than_equal", "less_than_equal"):
        ctx = err["ctx"]
        bound = ctx.get("ge", ctx.get("le"))
        return f"must be {'at least' if kind == 'greater_than_equal' else 'at most'} {bound}"
    if kind == "string_too_long":
        return f"must be at most {err['ctx']['max_length']} characters"
    return _TYPE_MESSAGES.get(kind, str(err["msg"]))


def _format_error(err: Mapping[str, Any], source: str, data: Any = None, root: type[BaseModel] | None = None) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    path = _path(loc, data)
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, _Rule):
        return _line(source, cause.path, cause.message, cause.value)
    if isinstance(cause, _At):
        return _line(source, _join(path, cause.key), cause.message, cause.value)
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1], root)
        allowed = f" (allowed: {_allowed_keys(parent)})" if parent else ""
        return _line(source, path, f"unknown key{allowed}")
    if kind == "missing":
        return _line(source, path, _TYPE_MESSAGES["missing"])
    return _line(source, path, _message(err), err.get("input", NO_VALUE))


# ---- loading ---------------------------------------------------------------


def parse(raw: Mapping[str, Any], source: str, stack: str = "", from_file: bool = True) -> StackConfig:
    """Validate the `amlplatform:*` keys of a stack's config (other namespaces are ignored).

    A mistake raises ConfigError with one line: the first one pydantic reports, in the stack's key order.
    """
    prefix = NAMESPACE + ":"
    data = {k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}
    for key in SECRET_KEYS:
        if key in data:
            value = data.pop(key)
            if from_file and not (isinstance(value, Mapping) and set(value) == {"secure"}):
                raise ConfigError(f"{source}: {prefix}{key}: must be a secret: set it with `pulumi config set "
                                  f"--secret {prefix}{key}` (it is stored encrypted, never in plain text)")
    for key, value in data.items():
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            raise ConfigError(
                f"{source}: {prefix}{key}: must not be a secret: platform settings are plain values "
                "(keep secrets out of stack config)"
            )
    if REGISTRY_SECTION in data:
        raise ConfigError(f"{source}: {prefix}{REGISTRY_SECTION}: this is the registry stack, not an environment "
                          "stack (its file is planned with `amlplatform plan`; environment stacks name it in "
                          f"{prefix}mlRegistryRef)")
    if "platform" not in data:
        raise ConfigError(f"{source}: {prefix}platform: required key is missing")
    try:
        cfg = StackConfig.model_validate(data)
    except _Rule as rule:
        raise ConfigError(_line(source, rule.path, rule.message, rule.value)) from None
    except ValidationError as exc:
        raise ConfigError(_format_error(exc.errors()[0], source, data)) from None
    cfg._source = source
    cfg._stack = stack
    return cfg


def stack_file(stack: str, root: Path | str = ".") -> Path:
    return Path(root) / STACKS_DIR / f"Pulumi.{stack}.yaml"


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a stack file, with YAML mistakes reported by file and line."""
    shown = _display(path)
    if not path.is_file():
        raise ConfigError(f"{shown}: no such stack file")
    try:
        text = path.read_text(encoding="utf-8")
        _refuse_repeated_keys(yaml.compose(text, Loader=yaml.SafeLoader), shown)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{shown}:{where}: not valid YAML: {problem}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{shown}: must be a mapping with a `config:` key")
    unknown = sorted(str(k) for k in set(doc) - {"config", "encryptionsalt", "secretsprovider", "encryptedkey",
                                                  "environment"})
    if unknown:
        raise ConfigError(f"{shown}: {unknown[0][:MAX_SHOWN]}: unknown top-level key; settings go under `config:`")
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(f"{shown}: config: must be a mapping of keys to values")
    return config


def _refuse_repeated_keys(node: yaml.Node | None, shown: str, path: str = "") -> None:
    """A key written twice in one mapping is an error: YAML loaders keep the last one silently.

    (A second `amlplatform:monitoring` would quietly replace the first, prod's 365-day retention
    with a default.) Nested mappings and list items are checked too; the message names the full key.
    """
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = key if path in ("", "config") else f"{path}.{key}"
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ConfigError(f"{shown}: line {line}: {child}: written twice (first on line {seen[key]}); "
                                  "YAML would keep only the last one silently: merge them into one")
            seen[key] = key_node.start_mark.line + 1
            _refuse_repeated_keys(value_node, shown, child)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            name = next((v.value for k, v in item.value if k.value == "name" and isinstance(v, yaml.ScalarNode)),
                        None) if isinstance(item, yaml.MappingNode) else None
            _refuse_repeated_keys(item, shown, f"{path}[{name if name else i}]")


def load_stack(stack: str, root: Path | str = ".", kinds: tuple[StackKind, ...] = KIND_ORDER,
               what: str = "this command") -> tuple[AnyStackConfig, dict[str, Any]]:
    """Read and validate `stacks/Pulumi.<stack>.yaml` of any kind (`stack_kind`): a platform stack, a team
    stack (config_team.py, with its platform stack's file and the preflight across stacks) or the registry
    stack (config_registry_stack.py); returns the model and the raw config. A kind not in `kinds` is refused
    in one line saying what `what` takes."""
    if not re.match(r"^[A-Za-z0-9_.-]{1,100}$", stack):
        raise ConfigError(f"stack name {stack!r} must be 1-100 letters, digits, '-', '_' or '.'")
    path = stack_file(stack, root)
    raw = read_stack_file(path)
    kind = stack_kind(raw)
    if kind not in kinds:
        _refuse_kind(path, stack, raw, kind, kinds, what)
    if kind == "team":
        from infra.config import team_stack as config_team

        return config_team.load(stack, root, raw), raw
    if kind == "registry":
        from infra.config import registry_stack as config_registry_stack

        return config_registry_stack.load(stack, root, raw), raw
    cfg = parse(raw, _display(path), stack)
    cfg._root = str(Path(root))
    return cfg, raw


def _refuse_kind(path: Path, stack: str, raw: Mapping[str, Any], kind: StackKind, kinds: tuple[StackKind, ...],
                 what: str) -> None:
    takes = " or ".join({"platform": "a platform stack (an environment)", "registry": "the registry stack",
                         "team": "a team stack"}[k] for k in kinds)
    if kind == "team":
        raise ConfigError(f"{_display(path)}: {TEAM_KEY}: {stack} is a team stack on {raw.get(PLATFORM_STACK_KEY)}; "
                          f"{what} takes {takes}")
    key = REGISTRY_KEY if kind == "registry" else f"{NAMESPACE}:platform"
    raise ConfigError(f"{_display(path)}: {key}: {stack} is {'the registry' if kind == 'registry' else 'a platform'} "
                      f"stack; {what} takes {takes}")


def load_platform_stack(stack: str, root: Path | str = ".", what: str = "this command"
                        ) -> tuple[StackConfig, dict[str, Any]]:
    """A platform stack's config; a team stack or the registry stack is refused in one line naming what needs
    a platform stack."""
    cfg, raw = load_stack(stack, root, ("platform",), what)
    assert isinstance(cfg, StackConfig)
    return cfg, raw


def stack_kinds(root: Path | str = ".") -> dict[str, StackKind]:
    """Every stack in stacks/ by name, with its kind. A file that does not read counts as a platform stack:
    whatever loads it next reports what is wrong with it, in one line."""
    out: dict[str, StackKind] = {}
    for path in sorted((Path(root) / STACKS_DIR).glob("Pulumi.*.yaml")):
        try:
            kind = stack_kind(read_stack_file(path))
        except ConfigError:
            kind = "platform"
        out[path.name[len("Pulumi."):-len(".yaml")]] = kind
    return out


def raw_from_pulumi() -> dict[str, Any]:
    """The running stack's config as the pulumi engine hands it over, structured values decoded."""
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
    return raw


def from_pulumi(raw: dict[str, Any] | None = None) -> StackConfig:
    """The running stack's config, as the pulumi engine hands it to the program."""
    import pulumi

    raw = raw_from_pulumi() if raw is None else raw
    stack = pulumi.get_stack()
    # The engine hands secrets over decrypted; only stack files show whether they are secure.
    cfg = parse(raw, f"{STACKS_DIR}/Pulumi.{stack}.yaml", stack, from_file=False)
    check_checkout()
    cfg._root = str(REPO_ROOT)
    return cfg


def check_checkout() -> None:
    """The stack files and assets/ are in the checkout this code runs from, whatever the working directory."""
    if not (REPO_ROOT / "Pulumi.yaml").is_file():
        raise ConfigError(f"{REPO_ROOT}: no Pulumi.yaml beside the running infra package: install the repository "
                          "editable (requirements.txt: -e .), as `pulumi install` and `make setup` do")


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
