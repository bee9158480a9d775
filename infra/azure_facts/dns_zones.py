"""Private DNS zones each private-endpoint group needs (Azure public cloud)."""

from __future__ import annotations

ZONES_BY_GROUP: dict[str, tuple[str, ...]] = {
    # The workspace needs both: its API and its notebooks.
    "amlworkspace": ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"),
    "blob": ("privatelink.blob.core.windows.net",),
    "file": ("privatelink.file.core.windows.net",),
    "dfs": ("privatelink.dfs.core.windows.net",),
    "vault": ("privatelink.vaultcore.azure.net",),
    "registry": ("privatelink.azurecr.io",),
    # The organisation's AML registry (Microsoft.MachineLearningServices/registries): its API shares the
    # workspace's zone (private-endpoint-dns, "AI + Machine Learning").
    "amlregistry": ("privatelink.api.azureml.ms",),
    # Azure Monitor private link scope: ingestion, query, agents, and the blob zone its solution packs use.
    "azuremonitor": (
        "privatelink.monitor.azure.com",
        "privatelink.oms.opinsights.azure.com",
        "privatelink.ods.opinsights.azure.com",
        "privatelink.agentsvc.azure-automation.net",
        "privatelink.blob.core.windows.net",
    ),
}
PLATFORM_GROUPS = ("amlworkspace", "blob", "file", "dfs", "vault", "registry")
ALL_ZONES: tuple[str, ...] = tuple(sorted({z for zones in ZONES_BY_GROUP.values() for z in zones}))


def required_zones(monitor_private_link: bool) -> tuple[str, ...]:
    """The zones a stack's private endpoints register in."""
    groups = PLATFORM_GROUPS + (("azuremonitor",) if monitor_private_link else ())
    return tuple(sorted({z for g in groups for z in ZONES_BY_GROUP[g]}))
