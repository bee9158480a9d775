"""Value types shared by the stack config and the component props: each rule and its message defined once.

Every type is a `typing.Annotated` string that pydantic checks (and normalises: GUIDs lowercase, ranges
canonical) with a message in plain words, which the config's error formatter puts after the key:
`stacks/Pulumi.dev.yaml: amlplatform:platform.location: must be an Azure region name ...`. The same
checks are plain functions (`is_guid`, `ipv4_network`, ...) for code that is not a pydantic model.
`TypeLabel` names a type in README's config reference (scripts/config_reference.py).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated, Callable, Literal

from pydantic import AfterValidator

from infra.azure_facts import vm_sizes
from infra.azure_facts.regions import AZURE_REGIONS
from infra.naming import RULES


@dataclass(frozen=True)
class TypeLabel:
    """How README's config reference writes a type in its `type` column (`plural` for a list of them)."""

    text: str
    plural: str = ""

    @property
    def many(self) -> str:
        return self.plural or self.text + "s"


def _checked(problem: Callable[[str], str | None]) -> Callable[[str], str]:
    """A pydantic after-validator from a function that says what is wrong with a value, or None."""

    def check(value: str) -> str:
        text = problem(value)
        if text:
            raise ValueError(text)
        return value

    return check


# ---- GUIDs: subscriptions and Entra objects ----------------------------------------------------------------

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_guid(text: str) -> bool:
    return bool(_GUID.match(text))


def _guid(message: str) -> Callable[[str], str]:
    """A GUID check with the message for what the GUID names; the value comes back lowercase, as ARM writes it."""

    def check(value: str) -> str:
        if not is_guid(value):
            raise ValueError(message)
        return value.lower()

    return check


SubscriptionId = Annotated[
    str, AfterValidator(_guid("must be a subscription GUID such as 00000000-0000-0000-0000-000000000000")),
    TypeLabel("subscription GUID"),
]
ObjectId = Annotated[str, AfterValidator(_guid("must be an Entra object ID (a GUID)")), TypeLabel("Entra object ID")]
UserObjectId = Annotated[str, AfterValidator(_guid("must be a user object ID (a GUID)")), TypeLabel("user object ID")]

# What an Entra object ID stands for in a role assignment (principalType).
PrincipalType = Literal["User", "Group", "ServicePrincipal"]


# ---- regions -----------------------------------------------------------------------------------------------


def _region(value: str) -> str | None:
    if value not in AZURE_REGIONS:
        return "must be an Azure region name in lowercase without spaces, such as westeurope"
    return None


AzureRegion = Annotated[str, AfterValidator(_checked(_region)), TypeLabel("Azure region")]


# ---- IPv4 ranges -------------------------------------------------------------------------------------------

# RFC 1918: the address space a VNet of the stack takes its ranges from.
PRIVATE_SPACE = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
# What the storage and key vault firewalls reject: private (RFC 1918), shared, loopback, link-local, multicast
# and "this network" ranges.
NOT_INTERNET = [
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
              "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "0.0.0.0/8")
]


def ipv4_network(value: str, example: str = "10.60.0.0/22") -> ipaddress.IPv4Network:
    """The IPv4 range `value` writes, or ValueError in plain words (`example` shows a good one)."""
    try:
        net = ipaddress.ip_network(value, strict=True)
    except (TypeError, ValueError):
        raise ValueError(f"must be an IPv4 CIDR range with no host bits set, such as {example}") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError("must be an IPv4 range")
    return net


def _private_range(value: str) -> str:
    net = ipv4_network(value)
    if not any(net.subnet_of(p) for p in PRIVATE_SPACE):
        raise ValueError("must be private address space (10/8, 172.16/12 or 192.168/16)")
    return str(net)


def _any_range(value: str) -> str:
    return str(ipv4_network(value))


# A VNet's or subnet's range: IPv4, no host bits, inside RFC 1918.
PrivateCidr = Annotated[str, AfterValidator(_private_range),
                        TypeLabel("IPv4 CIDR (RFC 1918)", "IPv4 CIDRs (RFC 1918)")]
# Any IPv4 range, such as a peered hub's.
Cidr = Annotated[str, AfterValidator(_any_range), TypeLabel("IPv4 CIDR")]


def firewall_range(item: str) -> tuple[str | None, str]:
    """(problem, the firewall's spelling) of one entry of a storage or key vault IP allow-list."""
    try:
        net = ipaddress.ip_network(item, strict=True)
    except (TypeError, ValueError):
        return "must be an IPv4 address or CIDR range with no host bits set", item
    if not isinstance(net, ipaddress.IPv4Network):
        return "must be IPv4: the storage and key vault firewalls take IPv4 rules only", item
    if any(net.subnet_of(blocked) for blocked in NOT_INTERNET):
        return "is a private or reserved range: firewall rules take public internet addresses only", item
    if net.prefixlen < 16:
        return "is wider than /16: an allow-list that broad is no allow-list", item
    if net.prefixlen == 31:
        return "is a /31, which the storage firewall refuses; list both addresses", item
    # The storage firewall rejects /32 ranges: a single address is written without a prefix.
    return None, str(net.network_address) if net.prefixlen == 32 else str(net)


def _firewall(item: str) -> str:
    problem, text = firewall_range(item)
    if problem:
        raise ValueError(problem)
    return text


# One public IPv4 address or range that a storage or key vault firewall lets through.
FirewallRange = Annotated[str, AfterValidator(_firewall),
                          TypeLabel("public IPv4 address or CIDR", "public IPv4 addresses or CIDRs")]


# ---- names -------------------------------------------------------------------------------------------------

_PREFIX = re.compile(r"^[a-z0-9]{2,10}$")
_TEAM = re.compile(r"^[a-z][a-z0-9-]{1,23}$")
# Blob container names: 3-63 lowercase letters, digits and single hyphens, alphanumeric at both ends.
_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
# AML registry names: 3-33 characters, letters, digits, '-' and '_', starting with a letter or digit (the
# resource provider: "Names must be between 3 and 33 in length"; azure-ai-ml's registry YAML).
_ML_REGISTRY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$")


def _prefix(value: str) -> str | None:
    return None if _PREFIX.match(value) else "must be 2-10 lowercase letters or digits"


TEAM_NAME_RULE = "2-24 lowercase letters, digits or hyphens, starting with a letter"


def is_team_name(value: str) -> bool:
    return bool(_TEAM.match(value))


def _team_name(value: str) -> str | None:
    return None if is_team_name(value) else f"team names are {TEAM_NAME_RULE}"


def _container(value: str) -> str | None:
    if not _CONTAINER.match(value):
        return "must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit"
    return None


def ml_registry_name_problem(name: str) -> str | None:
    if not _ML_REGISTRY.match(name):
        return ("must be 3-33 letters, digits, '-' or '_', starting with a letter or digit (AML registry names; "
                "unique across Azure)")
    return None


def _compute(value: str) -> str | None:
    return RULES["compute"].check(value)


def _resource_group(value: str) -> str | None:
    rule = RULES["resource_group"]
    if rule.check(value):
        return f"must be a resource group name: {rule.min_len}-{rule.max_len} {rule.described}"
    return None


# The stack's short name in every resource name (rg-<prefix>-dev, st<prefix>dev<suffix>...).
Prefix = Annotated[str, AfterValidator(_checked(_prefix)), TypeLabel("2-10 lowercase letters or digits")]
TeamName = Annotated[str, AfterValidator(_checked(_team_name)), TypeLabel("team name")]
ContainerName = Annotated[str, AfterValidator(_checked(_container)), TypeLabel("blob container name")]
# Azure ML compute names (clusters, instances, attached computes), infra/naming.py's rule.
ComputeName = Annotated[str, AfterValidator(_checked(_compute)), TypeLabel("compute name")]
MlRegistryName = Annotated[str, AfterValidator(_checked(ml_registry_name_problem)), TypeLabel("AML registry name")]
ResourceGroupName = Annotated[str, AfterValidator(_checked(_resource_group)), TypeLabel("resource group name")]


# ---- VM sizes ----------------------------------------------------------------------------------------------


def vm_size(value: str) -> vm_sizes.Size:
    """The size, or ValueError saying in plain words why Azure ML would not create it."""
    try:
        return vm_sizes.parse(value)
    except vm_sizes.SizeError as exc:
        raise ValueError(str(exc)) from None


# A VM size Azure ML offers and has not retired (infra/azure_facts/vm_sizes.py), in its canonical spelling.
VmSize = Annotated[str, AfterValidator(lambda v: vm_size(v).name), TypeLabel("VM size")]


# ---- storage redundancy ------------------------------------------------------------------------------------

# A storage account's SKU: locally, zone-, geo- or geo-zone-redundant (RA-: read access in the paired region).
Replication = Literal[
    "Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS", "Standard_RAGRS", "Standard_RAGZRS"
]
GEO_REPLICATION = ("Standard_GRS", "Standard_GZRS", "Standard_RAGRS", "Standard_RAGZRS")


# ---- labels ------------------------------------------------------------------------------------------------
# Strings whose rule the section's own validator checks (it depends on the resource or on other keys); the label
# only names them in README's config reference.

ResourceId = Annotated[str, TypeLabel("resource ID")]
IPv4Address = Annotated[str, TypeLabel("IPv4 address", "IPv4 addresses")]
IsoDuration = Annotated[str, TypeLabel("ISO 8601 duration")]


# ---- resource IDs and tags ---------------------------------------------------------------------------------


def resource_id(provider_path: str, flags: int = 0) -> re.Pattern[str]:
    """A full ARM resource ID whose part after `/providers/` matches the regex `provider_path`."""
    return re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/" + provider_path + "$",
                      flags)


# A private DNS zone's ID; the `zone` group is its name.
PRIVATE_DNS_ZONE_ID = resource_id(r"Microsoft\.Network/privateDnsZones/(?P<zone>[a-z0-9.-]+)")

# Azure tag limits ("Use tags to organize your Azure resources", Limitations,
# https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations):
# 50 tags per resource; names up to 512 characters (128 on storage accounts), values up to 256; names
# without these characters.
MAX_TAGS, TAG_NAME_MAX, TAG_NAME_MAX_STORAGE, TAG_VALUE_MAX = 50, 512, 128, 256
TAG_NAME_FORBIDDEN = frozenset('<>%&\\?/')
