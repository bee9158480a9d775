"""CAF-style physical names, and the ARM rules they must obey.

Globally unique names (storage accounts, key vault, registry) carry a short
suffix hashed from the deployment's subscription, prefix, environment and
generation: the same deployment always gets the same names, two deployments
(another subscription, another organisation's clone) never collide, and no
name can exceed its limit (a 10-character prefix is the longest the config
allows). The program hashes the subscription its credentials resolve to
(`authorization.get_client_config()`), so names differ per deployment even
when the stack file names no subscription.

The generation (`amlplatform:platform.generation`) exists for what Azure keeps
after a delete: a purge-protected key vault's name stays taken for its soft
delete retention and a soft-deleted AML workspace's name for 14 days. Raising
it gives a re-created stack fresh names for exactly those (and the other
global names); generation 1 adds nothing to any name.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

ENV_CODES = {"dev": "dev", "staging": "stg", "prod": "prd"}
SUFFIX_LENGTH = 5
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

# Namespace for deterministic GUIDs (role assignment names and the like).
GUID_NAMESPACE = uuid.UUID("6f1c2c2e-5b8a-4c1e-9a53-5d2f0c7a1b11")


@dataclass(frozen=True)
class NameRule:
    min_len: int
    max_len: int
    pattern: str  # full-match regex over the allowed characters and shape
    described: str

    def check(self, name: str) -> str | None:
        if not self.min_len <= len(name) <= self.max_len:
            return f"must be {self.min_len}-{self.max_len} characters (it has {len(name)})"
        if not re.fullmatch(self.pattern, name):
            return f"must be {self.described}"
        return None


_COMPUTE = r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9-]*[A-Za-z][A-Za-z0-9]*)?"
_COMPUTE_DESCRIBED = ("letters, digits and hyphens, starting with a letter, with a letter somewhere after the "
                      "last hyphen (so not ending in -2)")

# ARM name rules (CONVENTIONS.md name table, plus the resources the foundation adds).
_STORAGE_ACCOUNT = NameRule(3, 24, r"[a-z0-9]+", "lowercase letters and digits")

RULES: dict[str, NameRule] = {
    "resource_group": NameRule(1, 90, r"[-\w._()]*[-\w_()]", "letters, digits, -_.() and not end in '.'"),
    "storage": _STORAGE_ACCOUNT,
    "data_lake": _STORAGE_ACCOUNT,
    "flow_logs": _STORAGE_ACCOUNT,
    "key_vault": NameRule(
        3, 24, r"[A-Za-z](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]", "letters, digits, hyphens; start with a letter, "
        "end with a letter or digit, no '--'"
    ),
    "registry": NameRule(5, 50, r"[A-Za-z0-9]+", "letters and digits"),
    "workspace": NameRule(3, 33, r"[A-Za-z0-9][A-Za-z0-9_-]*", "letters, digits, '-', '_'; start alphanumeric"),
    "log_analytics": NameRule(4, 63, r"[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]", "letters, digits, '-'; "
                              "start and end alphanumeric"),
    "app_insights": NameRule(1, 255, r"[^%&\\?/]*[^%&\\?/. ]", "no % & \\ ? / and not end in '.' or space"),
    "identity": NameRule(3, 128, r"[A-Za-z0-9][A-Za-z0-9_-]*", "letters, digits, '-', '_'; start alphanumeric"),
    # Azure ML compute names (clusters, instances, attached computes): 3-24 letters, digits and
    # hyphens, starting with a letter; a hyphen must be followed later by a letter ("Create compute
    # clusters" and "Create a compute instance", compute name field): cpu-cluster-2 is refused.
    "compute": NameRule(3, 24, _COMPUTE, _COMPUTE_DESCRIBED),
    "compute_instance": NameRule(3, 24, _COMPUTE, _COMPUTE_DESCRIBED),
    "vnet": NameRule(2, 64, r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?", "letters, digits, '.-_'; start "
                     "alphanumeric, end alphanumeric or '_'"),
    "aks": NameRule(1, 63, r"[A-Za-z0-9][A-Za-z0-9_-]*", "letters, digits, '-', '_'"),
    # "Supported characters for the name are a-z, A-Z, 0-9, _ and -. The maximum name length is 80
    # characters" (Microsoft.Compute diskEncryptionSets, API 2024-03-02).
    "disk_encryption_set": NameRule(1, 80, r"[A-Za-z0-9_-]+", "letters, digits, '_' and '-'"),
}


def unique_suffix(prefix: str, environment: str, subscription_id: str | None, generation: int = 1) -> str:
    # Generation 1 hashes what the suffix always hashed, so it never renames a deployed stack.
    tail = f"/{generation}" if generation != 1 else ""
    digest = hashlib.sha256(f"{(subscription_id or '').lower()}/{prefix}/{environment}{tail}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    out = ""
    for _ in range(SUFFIX_LENGTH):
        number, rem = divmod(number, len(_ALPHABET))
        out += _ALPHABET[rem]
    return out


def stable_guid(*parts: str) -> str:
    """A GUID that is the same for the same parts on every run (uuid5)."""
    return str(uuid.uuid5(GUID_NAMESPACE, "/".join(p.lower() for p in parts)))


def instance_name(prefix: str, environment: str, user_object_id: str) -> str:
    """A user's compute instance in one environment (the platform's and its team stacks' alike)."""
    # Six letters from the hash: Azure ML wants a letter after the last hyphen.
    digest = hashlib.sha256(user_object_id.lower().encode()).digest()
    return f"ci-{prefix}{ENV_CODES[environment]}-{''.join(chr(97 + b % 26) for b in digest[:6])}"


@dataclass(frozen=True)
class Names:
    prefix: str
    environment: str
    suffix: str
    generation: int = 1

    @classmethod
    def for_stack(cls, prefix: str, environment: str, subscription_id: str | None = None,
                  generation: int = 1) -> "Names":
        return cls(prefix, environment, unique_suffix(prefix, environment, subscription_id, generation), generation)

    @property
    def env(self) -> str:
        return ENV_CODES[self.environment]

    @property
    def base(self) -> str:
        return f"{self.prefix}-{self.env}"

    @property
    def resource_group(self) -> str:
        return f"rg-{self.base}"

    @property
    def log_analytics(self) -> str:
        return f"log-{self.base}"

    @property
    def app_insights(self) -> str:
        return f"appi-{self.base}"

    @property
    def storage(self) -> str:
        """The workspace's own (flat) storage account."""
        return f"st{self.prefix}{self.env}{self.suffix}"

    @property
    def data_lake(self) -> str:
        """The teams' ADLS Gen2 account (CAF `dls`): at most 3 + 10 + 3 + 5 = 21 characters."""
        return f"dls{self.prefix}{self.env}{self.suffix}"

    @property
    def flow_logs(self) -> str:
        """The VNet flow logs' own account (`st` + `fl`): at most 4 + 10 + 3 + 5 = 22 characters."""
        return f"stfl{self.prefix}{self.env}{self.suffix}"

    @property
    def key_vault(self) -> str:
        return f"kv-{self.base}-{self.suffix}"

    @property
    def registry(self) -> str:
        return f"cr{self.prefix}{self.env}{self.suffix}"

    @property
    def workspace(self) -> str:
        # A soft-deleted workspace keeps its name for 14 days: a later generation takes another.
        return f"mlw-{self.base}" + (f"-g{self.generation}" if self.generation != 1 else "")

    @property
    def private_link_scope(self) -> str:
        return f"ampls-{self.base}"

    @property
    def vnet(self) -> str:
        return f"vnet-{self.base}"

    @property
    def aks(self) -> str:
        return f"aks-{self.base}"

    @property
    def disk_encryption_set(self) -> str:
        return f"des-{self.base}"

    def instance(self, user_object_id: str) -> str:
        """Compute instance names are unique per region, so they carry the stack and the user."""
        return instance_name(self.prefix, self.environment, user_object_id)

    def identity(self, purpose: str) -> str:
        return f"id-{self.base}-{purpose}"

    def all(self) -> dict[str, str]:
        """Every name this stack uses, keyed by its rule."""
        return {
            "resource_group": self.resource_group,
            "log_analytics": self.log_analytics,
            "app_insights": self.app_insights,
            "storage": self.storage,
            "data_lake": self.data_lake,
            "flow_logs": self.flow_logs,
            "key_vault": self.key_vault,
            "registry": self.registry,
            "workspace": self.workspace,
            "identity": self.identity("workspace"),
            "vnet": self.vnet,
            "aks": self.aks,
            "disk_encryption_set": self.disk_encryption_set,
            "compute_instance": self.instance("00000000-0000-0000-0000-000000000000"),
        }

    def violations(self) -> list[str]:
        out = []
        for rule, name in self.all().items():
            problem = RULES[rule].check(name)
            if problem:
                out.append(f"{rule} name {name!r} {problem}")
        return out
