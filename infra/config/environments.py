"""The defaults of each environment (dev, staging, prod): the one table a stack's left-out keys come from.

A stack overrides any of them by setting the key. `with_environment_defaults` merges the stack's column in
before the sections validate, so every key listed here always has a value in a parsed stack; the section
models' own field defaults are dev's column (tests/test_config.py holds them to it), and only keep a section
constructible on its own. README's config reference shows this table in its `default` column.
"""

from __future__ import annotations

from typing import Any, Literal

Environment = Literal["dev", "staging", "prod"]

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
        # Customer-managed keys also follow workspace.hbi in every environment (infra/config/encryption.py).
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


def with_environment_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """The stack's keys (below `amlplatform:`) over its environment's column; as is when the environment is unknown
    (the platform section then refuses it)."""
    platform = data.get("platform")
    env = platform.get("environment") if isinstance(platform, dict) else None
    if not isinstance(env, str) or env not in ENVIRONMENT_DEFAULTS:
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


def _merge(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    out = dict(defaults)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
