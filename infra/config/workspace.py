"""The workspace and its associated resources: `amlplatform:workspace`, `storage`, `keyVault`, `registry`
(the container registry) and `monitoring` (Log Analytics and Application Insights)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infra.azure_facts.limits import KEY_VAULT_SOFT_DELETE_DAYS, LOG_ANALYTICS_RETENTION_DAYS
from infra.config.base import _Section
from infra.types import Replication


class WorkspaceConfig(_Section):
    hbi: bool = False
    """High business impact: Azure ML collects less diagnostic data and encrypts its compute's local scratch
    disks; set when the workspace is created. Customer-managed keys follow it
    (`encryption.customerManagedKey.enabled`)."""
    friendly_name: str | None = Field(default=None, max_length=256)
    """The name the studio shows; up to 256 characters. Unset: the workspace's resource name."""
    description: str | None = Field(default=None, max_length=1024)
    """The workspace's description in the studio; up to 1024 characters."""


class StorageConfig(_Section):
    replication: Replication = "Standard_LRS"
    """Redundancy of the stack's storage accounts (the workspace's, the data lake, the flow logs'): copies in
    one datacenter (LRS), across the region's zones (ZRS), or also in the paired region (GRS, GZRS; RA-: read
    access there). Below geo-redundancy the plan's report shows checkov's CKV_AZURE_206 skipped with the
    reason."""


class KeyVaultConfig(_Section):
    sku: Literal["standard", "premium"] = "standard"
    """premium holds HSM-protected keys (customer-managed keys of type RSA-HSM); standard software-protected
    ones only."""
    soft_delete_retention_days: int = Field(default=90, ge=KEY_VAULT_SOFT_DELETE_DAYS.low,
                                            le=KEY_VAULT_SOFT_DELETE_DAYS.high)
    """Days a deleted vault, key or secret stays recoverable (purge protection is always on: nobody can purge it
    sooner)."""


class RegistryConfig(_Section):
    """The workspace's container registry (Azure Container Registry); the organisation's AML registry is
    `mlRegistryRef`."""

    sku: Literal["Basic", "Standard", "Premium"] = "Basic"
    """Premium when network.mode is private or managed: private endpoints need it, and so do customer-managed
    keys and zone redundancy."""
    zone_redundancy: bool = False
    """Replicas across the region's availability zones; needs `sku` Premium."""
    quarantine: bool = False
    """Quarantine holds every pushed image until a scanner releases it, and AML's own image builds would then
    fail to pull: on only where the stack runs such a scanner."""


class MonitoringConfig(_Section):
    retention_days: int = Field(default=30, ge=LOG_ANALYTICS_RETENTION_DAYS.low, le=LOG_ANALYTICS_RETENTION_DAYS.high)
    """Days Log Analytics keeps the stack's logs (diagnostic settings, traffic analytics)."""
    app_insights_local_auth: bool = True
    """Application Insights takes telemetry by connection string (local authentication), as AML's online
    endpoints write it; false only once every writer authenticates with Entra ID."""
