"""The `amlplatform:encryption` section: customer-managed keys, and its preflight.

One switch turns customer-managed keys (CMK) on for everything that holds the stack's data at
rest: the workspace's metadata, the storage accounts (the flow logs' too), the container registry and, with AKS,
the node disks (a disk encryption set) and Kubernetes secrets in etcd (KMS). Each consumer gets
its own key in the stack's key vault (README: Customer-managed keys).

The key settings apply when the stack creates a key: Azure Resource Manager creates a key once
and never updates it (Keys_CreateIfNotExist), so later changes to them are made on the key
itself (`az keyvault key rotation-policy update`), never through the stack.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import _At, _Rule, _Section

# ISO 8601 durations as Key Vault's rotation policy takes them: one unit, days, months or years.
_DURATION = re.compile(r"^P(?P<n>[1-9][0-9]{0,3})(?P<unit>[DMY])$")
_DAYS_PER = {"D": 1, "M": 30, "Y": 365}
# Key Vault's rotation policy limits ("Configure key auto-rotation in Azure Key Vault", Key rotation
# policy): rotation at least 7 days after creation and 7 days before expiry; the expiry time of new
# versions at least 28 days (Update-AzKeyVaultKeyRotationPolicy: "It should be at least 28 days").
MIN_ROTATE_DAYS = 7
MIN_EXPIRY_DAYS = 28
ROTATE_BEFORE_EXPIRY_DAYS = 7


def duration_days(value: str) -> int:
    """Days in a one-unit ISO 8601 duration (months count 30 days, years 365)."""
    m = _DURATION.match(value)
    if not m:
        raise ValueError("must be an ISO 8601 duration of days, months or years, such as P30D, P18M or P2Y")
    return int(m.group("n")) * _DAYS_PER[m.group("unit")]


class CustomerManagedKeyConfig(_Section):
    # On: the workspace, the storage accounts, the registry and AKS (disks, and etcd with `aksKms`)
    # are encrypted with the stack's own keys. Unset: on in prod and wherever workspace.hbi is on.
    # Creation-only on the workspace, the registry, the storage accounts' queue/table keys and AKS's
    # disks: switching it for a deployed stack means new resources (README: Customer-managed keys).
    enabled: bool | None = None
    # RSA-HSM (a premium vault's HSM-protected keys) or RSA (software-protected); unset: RSA-HSM when
    # keyVault.sku is premium, else RSA. Every consumer here takes both (none takes EC keys).
    key_type: Literal["RSA-HSM", "RSA"] | None = None
    # 3072 is Azure ML's recommended minimum; storage, registry, disks and KMS take 3072 and 4096 too.
    key_size: Literal[3072, 4096] = 3072
    # Key Vault rotates every key this long after its (version's) creation: a new version, which the
    # storage accounts, the registry and the disk encryption set adopt by themselves.
    rotate_after: str = "P1Y"
    # Versions created by rotation expire this long after their creation (the first version, created
    # by ARM, carries no date); must leave rotation at least 7 days before expiry.
    expire_after: str = "P2Y"
    # Key Vault raises a KeyNearExpiry event (Event Grid) this long before a version expires.
    notify_before: str = "P30D"
    # AKS: Kubernetes secrets encrypted in etcd with a key of the stack (KMS, private key vault). Needs
    # network.subnets.apiServer (API Server VNet Integration); false keeps etcd on platform keys.
    aks_kms: bool = True

    @field_validator("rotate_after", "expire_after", "notify_before")
    @classmethod
    def _duration(cls, v: str) -> str:
        duration_days(v)
        return v

    @model_validator(mode="after")
    def _policy(self) -> "CustomerManagedKeyConfig":
        rotate, expire = duration_days(self.rotate_after), duration_days(self.expire_after)
        if expire < MIN_EXPIRY_DAYS:
            raise _At("expireAfter", f"must be at least {MIN_EXPIRY_DAYS} days (Key Vault's minimum expiry time "
                      "for rotated versions)", self.expire_after)
        if rotate < MIN_ROTATE_DAYS:
            raise _At("rotateAfter", f"must be at least {MIN_ROTATE_DAYS} days (Key Vault's minimum rotation time)",
                      self.rotate_after)
        if rotate > expire - ROTATE_BEFORE_EXPIRY_DAYS:
            raise _At("rotateAfter", f"must fall at least {ROTATE_BEFORE_EXPIRY_DAYS} days before expireAfter "
                      f"({self.expire_after}): Key Vault rotates a key before its version expires", self.rotate_after)
        if duration_days(self.notify_before) >= expire:
            raise _At("notifyBefore", f"must be shorter than expireAfter ({self.expire_after})", self.notify_before)
        return self


class EncryptionConfig(_Section):
    customer_managed_key: CustomerManagedKeyConfig = Field(default_factory=CustomerManagedKeyConfig)


def check_encryption(cfg) -> None:  # cfg: config.StackConfig (imported there, not here: no cycle)
    """Resolve the defaults that follow other sections, then the rules that span them."""
    cmk = cfg.encryption.customer_managed_key
    premium = cfg.key_vault.sku == "premium"
    followed_hbi = cmk.enabled is None
    if followed_hbi:
        cmk.enabled = cfg.workspace.hbi
    if cmk.key_type is None:
        cmk.key_type = "RSA-HSM" if premium else "RSA"
    _api_server_subnet(cfg)
    if not cmk.enabled:
        return
    key = "encryption.customerManagedKey"
    if cmk.key_type == "RSA-HSM" and not premium:
        raise _Rule(f"{key}.keyType", "RSA-HSM keys need keyVault.sku premium (a standard vault holds software-"
                    "protected keys only); use RSA or a premium vault", cmk.key_type)
    # "This feature is available in the Premium service tier" (ACR, customer-managed keys).
    if cfg.registry.sku != "Premium":
        why = " (on because workspace.hbi is on; set it false to keep Microsoft-managed keys)" if followed_hbi else ""
        raise _Rule(f"{key}.enabled", f"customer-managed keys on the container registry need registry.sku Premium "
                    f"(it is {cfg.registry.sku}){why}", True)
    if cfg.aks.enabled and cmk.aks_kms and cfg.network.subnets.api_server is None:
        raise _Rule("network.subnets.apiServer", "AKS KMS with the stack's private key vault (encryption."
                    "customerManagedKey.aksKms) runs only over API Server VNet Integration, which needs a delegated "
                    "subnet of /28 or larger for the API server")


def _api_server_subnet(cfg) -> None:
    subnet = cfg.network.subnets.api_server
    if subnet is not None and not cfg.aks.enabled:
        raise _Rule("network.subnets.apiServer", "is used only by AKS's API server (API Server VNet Integration) and "
                    "aks.enabled is false; remove it", subnet)
