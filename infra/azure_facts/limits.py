"""Bounds and value sets both the stack config and the component props check, defined once.

The config refuses a stack file that breaks them (one line naming the key); the props refuse a caller
that breaks them (a PropsError before any resource). Both read the numbers from here, so the two can
never disagree. Each range says where Azure (or the check that sets a stricter floor) states it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args


@dataclass(frozen=True)
class Range:
    """An inclusive range of whole numbers and what it bounds."""

    low: int
    """The smallest value allowed."""
    high: int
    """The largest value allowed."""
    what: str
    """What the number is, with its unit, as a message names it ("key vault soft delete retention (days)")."""

    def problem(self, value: int) -> str | None:
        """None when `value` is inside the range, else one line saying what the range is."""
        if self.low <= value <= self.high:
            return None
        return f"{self.what} must be {self.low}-{self.high}, got {value}"


# softDeleteRetentionInDays "accepts >=7 and <=90" (Microsoft.KeyVault/vaults, VaultProperties).
KEY_VAULT_SOFT_DELETE_DAYS = Range(7, 90, "key vault soft delete retention (days)")
# A PerGB2018 workspace keeps data 30-730 days interactively (azure-monitor/logs/data-retention-configure).
LOG_ANALYTICS_RETENTION_DAYS = Range(30, 730, "Log Analytics retention (days)")
# Network Watcher keeps flow records at most 365 days; checkov CKV_AZURE_12 wants at least 90 (0, forever, is
# refused for the same reason).
FLOW_LOG_RETENTION_DAYS = Range(90, 365, "flow log retention (days)")
# Blob and container soft delete: "The minimum specified value can be 1 and the maximum value can be 365"
# (Microsoft.Storage/storageAccounts/blobServices, DeleteRetentionPolicy.days).
BLOB_SOFT_DELETE_DAYS = Range(1, 365, "blob soft delete retention (days)")

# The keys the platform creates (customer-managed keys, the state backend's secrets key): RSA, software- or
# HSM-protected, of at least 3072 bits (Azure ML recommends 3072; storage, the registry, disk encryption sets,
# AKS KMS and Pulumi's azurekeyvault provider all take 3072 and 4096).
KeyType = Literal["RSA-HSM", "RSA"]
KeySize = Literal[3072, 4096]
KEY_TYPES: tuple[str, ...] = get_args(KeyType)
KEY_SIZES: tuple[int, ...] = get_args(KeySize)
