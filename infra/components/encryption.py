"""Customer-managed keys: one key per consumer in the stack's key vault, the identities that use them, their grants.

Why one key per consumer rather than one shared key: a key disabled, deleted or cut off from its
identity stops exactly one service (storage answers 403, the registry stops serving images, AKS
nodes cannot start, etcd secrets become unreadable, the workspace's metadata is unreachable), each
identity can use only its own key (grants at key scope), and each key follows its consumer's
rotation behaviour: the storage accounts and the registry take the key without a version and adopt
a new version by themselves, the disk encryption set follows the latest version
(rotationToLatestKeyVersionEnabled), while the workspace and AKS KMS stay on the version they were
created with until an operator moves them (README: Customer-managed keys, rotation).

Keys come from ARM, which creates a key once and never updates it (Keys_CreateIfNotExist: "If it
already exists, then the existing key is returned without any write operations being performed"),
so their properties are create-time: `ignore_changes` keeps the stack from showing an update that
Azure would silently drop. The first version carries no expiry date (a date computed at plan time
would move on every run); the rotation policy gives every later version one.

Grants come before use: Azure checks a consumer's access to its key when the consumer is created,
and new grants take a while to reach the resource providers, so consumers wait for `ready` (a
pause after the grants, as the workspace does after its identity's roles).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumiverse_time as time
from pulumi_azure_native import compute, keyvault

from infra.components.common import Common, PropsError, add_lock, assign_role, builtin_role_id, resource_opts
from infra.components.identity import IdentityComponent, IdentityProps

WRAP_OPS = ("wrapKey", "unwrapKey")
ENCRYPT_OPS = ("encrypt", "decrypt")
WRAP_ROLE = "Key Vault Crypto Service Encryption User"


@dataclass(frozen=True)
class Consumer:
    key_name: str
    # The key operations the consumer calls (and the only ones the key permits).
    ops: tuple[str, ...]
    what: str
    # Storage and the registry take a user-assigned identity of their own for the key (the documented
    # path for both; the registry takes no other); the workspace uses its identity, the disk encryption
    # set its system-assigned one, and KMS the AKS cluster's identity (infra/components/inference.py).
    own_identity: bool = False


CONSUMERS: dict[str, Consumer] = {
    "workspace": Consumer("cmk-workspace", WRAP_OPS, "the Azure ML workspace's metadata (service-side encryption)"),
    "storage": Consumer("cmk-storage", WRAP_OPS, "the workspace storage account", own_identity=True),
    "datalake": Consumer("cmk-datalake", WRAP_OPS, "the data lake", own_identity=True),
    "registry": Consumer("cmk-registry", WRAP_OPS, "the container registry", own_identity=True),
    "flowlogs": Consumer("cmk-flowlogs", WRAP_OPS, "the VNet flow logs' storage account", own_identity=True),
    "disks": Consumer("cmk-disks", WRAP_OPS, "the AKS nodes' OS and data disks (disk encryption set)"),
    "kms": Consumer("cmk-kms", ENCRYPT_OPS, "the AKS cluster's Kubernetes secrets in etcd (KMS)"),
}


@dataclass(frozen=True)
class KeyPolicy:
    key_type: str
    key_size: int
    rotate_after: str
    expire_after: str
    notify_before: str


@dataclass(frozen=True)
class StorageKey:
    """A storage account's key, without a version: Azure Storage adopts new versions by itself."""

    key_name: str
    vault_uri: pulumi.Input[str]
    identity_id: pulumi.Input[str]


@dataclass(frozen=True)
class RegistryKey:
    """The registry's key without a version (adopted within an hour) and the client ID of its identity."""

    key_identifier: pulumi.Input[str]
    identity_id: pulumi.Input[str]
    identity_client_id: pulumi.Input[str]


@dataclass(frozen=True)
class WorkspaceKey:
    """The workspace's key version in the vault, used with the workspace's own identity."""

    vault_id: pulumi.Input[str]
    key_identifier: pulumi.Input[str]
    identity_id: pulumi.Input[str]


@dataclass(frozen=True)
class KmsKey:
    """AKS KMS: the key version, the key (grant scope) and the private vault it lives in."""

    key_id: pulumi.Input[str]
    key_resource_id: pulumi.Input[str]
    vault_id: pulumi.Input[str]


@dataclass(frozen=True)
class DiskEncryption:
    """The AKS nodes' disk encryption set, and what must exist before a cluster uses it."""

    set_id: pulumi.Input[str]
    ready: Sequence[pulumi.Resource] = ()


@dataclass
class CustomerManagedKeysProps:
    common: Common
    vault_id: pulumi.Input[str]
    vault_name: pulumi.Input[str]
    vault_uri: pulumi.Input[str]
    policy: KeyPolicy
    consumers: Sequence[str]
    # Names of the user-assigned identities of the consumers that take their own (the storage accounts, registry).
    identity_names: Mapping[str, str] = field(default_factory=dict)
    workspace_identity_id: pulumi.Input[str] | None = None
    workspace_principal_id: pulumi.Input[str] | None = None
    disk_encryption_set_name: str | None = None
    role_propagation_seconds: int = 60
    # What the keys wait for (the vault's own role assignments).
    depends_on: Sequence[pulumi.Resource] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.consumers) - set(CONSUMERS))
        if unknown:
            raise PropsError(f"unknown customer-managed key consumer(s) {unknown}; known: {sorted(CONSUMERS)}")
        if self.policy.key_type not in ("RSA", "RSA-HSM") or self.policy.key_size not in (3072, 4096):
            raise PropsError("customer-managed keys are RSA or RSA-HSM of 3072 or 4096 bits")
        for consumer in self.consumers:
            if CONSUMERS[consumer].own_identity and consumer not in self.identity_names:
                raise PropsError(f"customer-managed key consumer {consumer!r} needs an identity name")
        if "workspace" in self.consumers and (self.workspace_identity_id is None or self.workspace_principal_id is None):
            raise PropsError("the workspace's key needs the workspace identity's ID and principal")
        if ("disks" in self.consumers) != bool(self.disk_encryption_set_name):
            raise PropsError("a disk encryption set name goes with the disks consumer, and only with it")


class CustomerManagedKeysComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: CustomerManagedKeysProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:CustomerManagedKeys", name, None, opts)
        self.props = props
        c = props.common
        self.keys = {consumer: self._key(name, consumer) for consumer in props.consumers}
        self.identities = {
            consumer: IdentityComponent(f"{name}-{consumer}-identity", IdentityProps(c, props.identity_names[consumer]),
                                        opts=pulumi.ResourceOptions(parent=self))
            for consumer in props.consumers if CONSUMERS[consumer].own_identity
        }
        principals: dict[str, pulumi.Input[str]] = {k: v.principal_id for k, v in self.identities.items()}
        if "workspace" in props.consumers:
            assert props.workspace_principal_id is not None
            principals["workspace"] = props.workspace_principal_id
        self.grants = [self._grant(name, consumer, principal) for consumer, principal in sorted(principals.items())]
        self.ready = time.Sleep(
            f"{name}-role-propagation",
            create_duration=f"{props.role_propagation_seconds}s",
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.grants),
        )
        self.disk_encryption_set: compute.DiskEncryptionSet | None = None
        self._des_grant: pulumi.Resource | None = None
        if "disks" in props.consumers:
            self.disk_encryption_set, self._des_grant = self._disk_encryption_set(name)
        self.register_outputs({consumer: key.id for consumer, key in self.keys.items()})

    def _key(self, name: str, consumer: str) -> keyvault.Key:
        p, c, spec = self.props, self.props.common, CONSUMERS[consumer]
        return keyvault.Key(
            f"{name}-{consumer}-key",
            key_name=spec.key_name,
            vault_name=p.vault_name,
            resource_group_name=c.resource_group_name,
            properties=keyvault.KeyPropertiesArgs(
                kty=p.policy.key_type,
                key_size=p.policy.key_size,
                key_ops=list(spec.ops),
                attributes=keyvault.KeyAttributesArgs(enabled=True, exportable=False),
                rotation_policy=keyvault.RotationPolicyArgs(
                    attributes=keyvault.KeyRotationPolicyAttributesArgs(expiry_time=p.policy.expire_after),
                    lifetime_actions=[
                        keyvault.LifetimeActionArgs(
                            action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.ROTATE),
                            trigger=keyvault.TriggerArgs(time_after_create=p.policy.rotate_after),
                        ),
                        keyvault.LifetimeActionArgs(
                            action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.NOTIFY),
                            trigger=keyvault.TriggerArgs(time_before_expiry=p.policy.notify_before),
                        ),
                    ],
                ),
            ),
            tags=c.tags,
            # Create-time only (Keys_CreateIfNotExist): see the module docstring. Never deleted by the stack:
            # data encrypted with a key is lost with it, so a key the stack stops declaring stays in the vault.
            opts=resource_opts(self, c, stateful=True, depends_on=list(p.depends_on), ignore_changes=["properties"],
                               retain_on_delete=True),
        )

    def _grant(self, name: str, consumer: str, principal_id: pulumi.Input[str]) -> pulumi.Resource:
        c = self.props.common
        return assign_role(self, f"{name}-ra-{consumer}-key", self.keys[consumer].id, principal_id, "ServicePrincipal",
                           builtin_role_id(c.subscription_id, WRAP_ROLE),
                           f"{CONSUMERS[consumer].what}: wrap and unwrap with {CONSUMERS[consumer].key_name}")

    def _disk_encryption_set(self, name: str) -> tuple[compute.DiskEncryptionSet, pulumi.Resource]:
        """The set the AKS node disks are encrypted with, and its identity's grant on its key.

        Its identity is system-assigned, as AKS documents it (azure-disk-customer-managed-keys) and the
        API describes it ("Only SystemAssigned is supported for new creations"), so the grant follows the
        set; the cluster waits for it. With rotationToLatestKeyVersionEnabled Azure moves activeKey to
        each new version itself, which the stack must not undo: keyUrl is ignored after creation."""
        p, c = self.props, self.props.common
        assert p.disk_encryption_set_name
        key = self.keys["disks"]
        des = compute.DiskEncryptionSet(
            f"{name}-des",
            disk_encryption_set_name=p.disk_encryption_set_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            identity=compute.EncryptionSetIdentityArgs(type=compute.DiskEncryptionSetIdentityType.SYSTEM_ASSIGNED),
            active_key=compute.KeyForDiskEncryptionSetArgs(
                key_url=key.key_uri_with_version, source_vault=compute.SourceVaultArgs(id=p.vault_id)
            ),
            encryption_type=compute.DiskEncryptionSetType.ENCRYPTION_AT_REST_WITH_CUSTOMER_KEY,
            rotation_to_latest_key_version_enabled=True,
            tags=c.tags,
            opts=resource_opts(self, c, stateful=True, ignore_changes=["activeKey.keyUrl"]),
        )
        # Known once the set exists; a set created with a system-assigned identity always has one.
        principal: pulumi.Output[str] = des.identity.apply(lambda i: i.principal_id if i else "")
        grant = self._grant(name, "disks", principal)
        add_lock(self, f"{name}-des", des.id, c, "disk encryption set")
        return des, grant

    # ---- what each consumer takes ------------------------------------------------------------------

    def storage_key(self, consumer: str) -> StorageKey:
        return StorageKey(CONSUMERS[consumer].key_name, self.props.vault_uri, self.identities[consumer].id)

    def registry_key(self) -> RegistryKey:
        identity = self.identities["registry"]
        return RegistryKey(self.keys["registry"].key_uri, identity.id, identity.client_id)

    def workspace_key(self) -> WorkspaceKey:
        assert self.props.workspace_identity_id is not None
        return WorkspaceKey(self.props.vault_id, self.keys["workspace"].key_uri_with_version,
                            self.props.workspace_identity_id)

    def kms_key(self) -> KmsKey:
        key = self.keys["kms"]
        return KmsKey(key.key_uri_with_version, key.id, self.props.vault_id)

    def disk_encryption(self) -> DiskEncryption:
        assert self.disk_encryption_set is not None and self._des_grant is not None
        return DiskEncryption(self.disk_encryption_set.id, [self._des_grant])
