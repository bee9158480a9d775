"""AKS hardening (mirrors CKV_AMLP_25-27): no Command Invoke, no SSH on any pool, Image Cleaner on,
and planned maintenance windows for both automatic upgrade channels.

Azure Policy: "AKS Clusters should disable Command Invoke" (89f2d532), "Azure Kubernetes Clusters should
disable SSH" (28257686), "AKS Clusters should enable Image Cleaner" (af3c26b2), "Deploy Planned
Maintenance to schedule and control upgrades" (e1352e44); PSRule Azure.AKS.MaintenanceWindow.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from .core import Resource, Rule, StackFacts, dig, unknown
from .tokens import AGENT_POOL, AKS, MAINTENANCE_CONFIGURATION

# AKS takes the interval in hours within these bounds, and ARM clients must state it (image-cleaner.md).
IMAGE_CLEANER_HOURS = (24, 2160)
# The two configurations AKS's automatic upgrades follow (planned-maintenance.md).
MAINTENANCE_CONFIGS = ("aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule")


def command_invoke_off(res: Resource, facts: StackFacts) -> str | None:
    if dig(res.props, "apiServerAccessProfile.disableRunCommand") is True:
        return None
    return f"cluster {res.props.get('resourceName')}: apiServerAccessProfile.disableRunCommand must be true " \
           "(no `az aks command invoke`)"


def pools(res: Resource) -> Iterable[Mapping[str, Any]]:
    if res.type == AGENT_POOL:
        yield res.props
        return
    for pool in res.props.get("agentPoolProfiles") or []:
        if isinstance(pool, Mapping):
            yield pool


def ssh_disabled(pool: Mapping[str, Any]) -> bool:
    return str(dig(pool, "securityProfile.sshAccess", "")).lower() == "disabled"


def node_ssh_off(res: Resource, facts: StackFacts) -> str | None:
    open_pools = [str(p.get("name") or p.get("agentPoolName") or "?") for p in pools(res) if not ssh_disabled(p)]
    if not open_pools:
        return None
    return f"node pool(s) {', '.join(open_pools)}: securityProfile.sshAccess must be Disabled on every pool"


def image_cleaner_interval_ok(cleaner: Mapping[str, Any]) -> bool:
    hours = cleaner.get("intervalHours")
    low, high = IMAGE_CLEANER_HOURS
    return cleaner.get("enabled") is True and isinstance(hours, int) and low <= hours <= high


def image_cleaner(res: Resource, facts: StackFacts) -> str | None:
    cleaner = dig(res.props, "securityProfile.imageCleaner") or {}
    if isinstance(cleaner, Mapping) and image_cleaner_interval_ok(cleaner):
        return None
    low, high = IMAGE_CLEANER_HOURS
    return f"cluster {res.props.get('resourceName')}: securityProfile.imageCleaner must be enabled with " \
           f"intervalHours {low}-{high}"


def _configured(cluster: Resource, configs: Sequence[Resource]) -> set[str]:
    """Names of the maintenance configurations of a cluster: by its name, or in a preview (where a new
    cluster's name is unknown) by the resource its resourceName came from."""
    name = cluster.props.get("resourceName")
    out = set()
    for c in configs:
        sources = set(c.property_dependencies.get("resourceName") or ())
        same = c.props.get("resourceName") == name and name is not None and not unknown(name)
        if cluster.urn in sources or same:
            out.add(str(c.props.get("configName")))
    return out


def maintenance_windows(resources: Sequence[Resource], facts: StackFacts) -> list[tuple[str, str]]:
    configs = [r for r in resources if r.type == MAINTENANCE_CONFIGURATION]
    out = []
    for cluster in (r for r in resources if r.type == AKS):
        missing = [m for m in MAINTENANCE_CONFIGS if m not in _configured(cluster, configs)]
        if missing:
            out.append((cluster.urn, f"cluster {cluster.props.get('resourceName')}: no planned maintenance "
                                     f"configuration {', '.join(missing)}; automatic upgrades then run at any time"))
    return out


RULES = (
    Rule("aks-command-invoke-off", "AKS clusters have Command Invoke disabled", frozenset({AKS}),
         command_invoke_off, checkov="CKV_AMLP_25"),
    Rule("aks-node-ssh-off", "Every AKS node pool has SSH disabled", frozenset({AKS, AGENT_POOL}), node_ssh_off,
         checkov="CKV_AMLP_26"),
    Rule("aks-image-cleaner", "AKS clusters run Image Cleaner", frozenset({AKS}), image_cleaner,
         checkov="CKV_AMLP_27"),
    Rule("aks-maintenance-windows", "AKS clusters have both automatic-upgrade maintenance windows", frozenset(),
         stack_check=maintenance_windows),
)
