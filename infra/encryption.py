"""Customer-managed keys from the stack's config: which consumers get a key, and their identities' names."""

from __future__ import annotations

from infra.config import stack as config_mod
from infra.components.common import Common
from infra.components.encryption import CustomerManagedKeysComponent, CustomerManagedKeysProps, KeyPolicy
from infra.components.identity import IdentityComponent
from infra.components.keyvault import KeyVaultComponent
from infra.naming import Names

# Consumers that take a user-assigned identity of their own, and its name's purpose (id-<base>-<purpose>).
OWN_IDENTITIES = {"storage": "cmk-storage", "datalake": "cmk-datalake", "registry": "cmk-registry",
                  "flowlogs": "cmk-flowlogs"}


def consumers(cfg: config_mod.StackConfig) -> list[str]:
    """Everything that holds the stack's data at rest: the workspace's metadata, the workspace storage, the
    data lake and the registry; the flow logs' account where the stack records its VNet's flow logs; with AKS its node
    disks and, with `aksKms`, its etcd secrets."""
    out = ["workspace", "storage", "datalake", "registry"]
    if cfg.network.stack_flow_logs:
        out.append("flowlogs")
    if cfg.aks.enabled:
        out.append("disks")
        if cfg.encryption.customer_managed_key.aks_kms:
            out.append("kms")
    return out


def customer_managed_keys(cfg: config_mod.StackConfig, names: Names, common: Common, vault: KeyVaultComponent,
                          workspace_identity: IdentityComponent, role_propagation_seconds: int
                          ) -> CustomerManagedKeysComponent | None:
    """The stack's keys, their identities and grants; None when customer-managed keys are off."""
    cmk = cfg.encryption.customer_managed_key
    if not cmk.enabled:
        return None
    # config.check_encryption resolved the key type from the vault's SKU.
    assert cmk.key_type is not None
    used = consumers(cfg)
    return CustomerManagedKeysComponent(
        "cmk",
        CustomerManagedKeysProps(
            common,
            vault_id=vault.id,
            vault_name=vault.vault.name,
            vault_uri=vault.vault.properties.apply(lambda p: p.vault_uri),
            policy=KeyPolicy(cmk.key_type, cmk.key_size, cmk.rotate_after, cmk.expire_after, cmk.notify_before),
            consumers=used,
            identity_names={c: names.identity(purpose) for c, purpose in OWN_IDENTITIES.items() if c in used},
            workspace_identity_id=workspace_identity.id,
            workspace_principal_id=workspace_identity.principal_id,
            disk_encryption_set_name=names.disk_encryption_set if "disks" in used else None,
            role_propagation_seconds=role_propagation_seconds,
            # The keys after the vault's own grants (the vault complete, as its identities see it).
            depends_on=vault.role_assignments,
        ),
    )
