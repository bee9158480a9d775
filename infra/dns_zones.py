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
}
ALL_ZONES: tuple[str, ...] = tuple(sorted({z for zones in ZONES_BY_GROUP.values() for z in zones}))
