"""The state backend's own pieces: a lean storage account for checkpoints and the secrets key.

The platform's `StorageComponent` serves Azure ML (a file share for notebooks, team containers on a
hierarchical-namespace data lake); state needs blob versioning, which a hierarchical namespace does not
support, one container and a lifecycle rule, so it gets a component of its own. The account itself is the
platform's: `hardened_account` and `blob_service` (infra/components/storage.py) declare it with the same
hardening, and the shared helpers add role assignments, the lock, diagnostics and private endpoints. The key
vault is the platform's `KeyVaultComponent` as is; the key Pulumi encrypts with lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulumi
from pulumi_azure_native import keyvault, storage

from infra.azure_facts.limits import BLOB_SOFT_DELETE_DAYS, KEY_SIZES, KEY_TYPES
from infra.components.common import (
    Common,
    Component,
    PrincipalType,
    PropsError,
    add_diagnostics,
    add_lock,
    add_private_endpoints,
    assign_role,
    builtin_role_id,
    check_name,
    resource_opts,
)
from infra.components.storage import ACCOUNT, blob_service, encryption, hardened_account

# Pulumi's azurekeyvault secrets provider calls Encrypt and Decrypt (RSA-OAEP-256) on the key
# (gocloud.dev/secrets/azurekeyvault). Key Vault Crypto User grants both; Key Vault Crypto
# Service Encryption User only wraps and unwraps, which is not enough.
CRYPTO_ROLE = "Key Vault Crypto User"
KEY_OPS = ("encrypt", "decrypt")


@dataclass(frozen=True)
class Grant:
    """A principal that uses the backend: a blob data role on the container, Crypto User on the key."""

    key: str
    """Names the grants in the Pulumi URNs."""
    principal_id: str
    """The principal's Entra object ID."""
    principal_type: PrincipalType
    """User, Group or ServicePrincipal."""
    description: str
    """Who this is, as the grants' descriptions name it."""
    blob_role: Literal["Storage Blob Data Contributor", "Storage Blob Data Reader"] = "Storage Blob Data Contributor"
    """Storage Blob Data Contributor reads and writes state (and its locks); Storage Blob Data Reader is enough
    for `pulumi preview`, which takes no lock in a DIY backend."""


@dataclass
class StateStorageProps:
    common: Common
    """Placement and shared settings: tags, diagnostics, private endpoints (group blob), lock, protect."""
    name: str
    """The account's name (infra/naming.py rule `storage`)."""
    container: str
    """The container Pulumi keeps its checkpoints in."""
    replication: str
    """The SKU name, which sets replication (Standard_GZRS, ...)."""
    public_network_access: bool
    """True: reachable from the IP ranges in `allowed_ip_ranges`; False: private endpoints only."""
    allowed_ip_ranges: list[str]
    """Public IPv4 addresses or CIDR ranges the firewall lets in; everything else is denied."""
    soft_delete_days: int
    """Days deleted blobs and containers stay restorable (1-365, infra/azure_facts/limits.py)."""
    delete_old_versions_after_days: int | None
    """Days after which a lifecycle rule deletes old checkpoint versions; None: versions are kept."""
    grants: list[Grant] = field(default_factory=list)
    """Who reads or writes state (a blob data role on the container)."""

    def __post_init__(self) -> None:
        check_name("storage", self.name)
        problem = BLOB_SOFT_DELETE_DAYS.problem(self.soft_delete_days)
        if problem:
            raise PropsError(problem)


class StateStorageComponent(Component):
    """A StorageV2 account for Pulumi checkpoints: Entra ID only, versioned, soft delete, one private container."""

    SUPPORTS = frozenset({"tags", "diagnostic_settings", "private_endpoints", "lock", "protect"})

    def __init__(self, name: str, props: StateStorageProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:bootstrap:StateStorage", name, props.common, opts)
        c = props.common

        self.account = hardened_account(
            self, f"{name}-account", c,
            account_name=props.name,
            replication=props.replication,
            public_network_access=props.public_network_access,
            allowed_ip_ranges=props.allowed_ip_ranges,
            # Blob versioning needs a flat namespace.
            hierarchical_namespace=False,
            # Only the blob service holds anything; its scope is the account's key.
            encryption=encryption(None, services=("blob",)),
            # Copies only to and from accounts in the tenant.
            allowed_copy_scope="AAD",
        )
        # Every checkpoint Pulumi overwrites stays as a version: state history beyond .pulumi/history.
        self.blob_service = blob_service(self, f"{name}-blob", self.account, c, props.soft_delete_days,
                                         versioning=True)
        self.container = storage.BlobContainer(
            f"{name}-container",
            container_name=props.container,
            account_name=self.account.name,
            resource_group_name=c.resource_group_name,
            public_access=storage.PublicAccess.NONE,
            opts=resource_opts(self, c, stateful=True, depends_on=[self.blob_service]),
        )
        if props.delete_old_versions_after_days:
            storage.ManagementPolicy(
                f"{name}-lifecycle",
                account_name=self.account.name,
                resource_group_name=c.resource_group_name,
                management_policy_name="default",
                policy=storage.ManagementPolicySchemaArgs(rules=[
                    storage.ManagementPolicyRuleArgs(
                        name="delete-old-state-versions",
                        enabled=True,
                        type="Lifecycle",
                        definition=storage.ManagementPolicyDefinitionArgs(
                            actions=storage.ManagementPolicyActionArgs(
                                version=storage.ManagementPolicyVersionArgs(
                                    delete=storage.DateAfterCreationArgs(
                                        days_after_creation_greater_than=props.delete_old_versions_after_days,
                                    ),
                                ),
                            ),
                            filters=storage.ManagementPolicyFilterArgs(
                                blob_types=["blockBlob"], prefix_match=[f"{props.container}/"],
                            ),
                        ),
                    ),
                ]),
                opts=resource_opts(self, c, depends_on=[self.blob_service]),
            )

        diag = c.diagnostic_settings
        # Account level carries metrics only; the blob service's logs say who read or wrote state.
        add_diagnostics(self, f"{name}-account", self.account.id, diag, ACCOUNT)
        add_diagnostics(self, f"{name}-blob", self.blob_service.id, diag, f"{ACCOUNT}/blobServices")
        self.role_assignments = [
            assign_role(self, f"{name}-ra-{g.key}-blob-data", self.container.id, g.principal_id, g.principal_type,
                        builtin_role_id(c.subscription_id, g.blob_role),
                        f"{g.description}: {'read' if g.blob_role.endswith('Reader') else 'read and write'} Pulumi state")
            for g in props.grants
        ]
        self.private_endpoints = add_private_endpoints(self, name, self.account.id, props.name, ["blob"], c)
        add_lock(self, name, self.account.id, c.lock, "storage account")

        self.id = self.account.id
        self.name = self.account.name
        self.register_outputs({"id": self.account.id, "containerId": self.container.id})


@dataclass
class SecretsKeyProps:
    common: Common
    """Placement and shared settings: tags, protect (the vault carries the endpoints, lock and diagnostics)."""
    vault_name: pulumi.Input[str]
    """The vault the key is created in."""
    name: str
    """The key's name in the vault."""
    key_type: str
    """RSA-HSM (a premium vault) or RSA."""
    key_size: int
    """Bits: 3072 or 4096."""
    expiry: str
    """ISO 8601 duration every version rotation creates stays valid (P2Y)."""
    notify_before_expiry: str
    """ISO 8601 duration before expiry when Key Vault raises a near-expiry event (P30D)."""
    grants: list[Grant] = field(default_factory=list)
    """Who encrypts and decrypts stack secrets with the key (Key Vault Crypto User on it)."""

    def __post_init__(self) -> None:
        if self.key_type not in KEY_TYPES:
            raise PropsError(f"the secrets key must be {' or '.join(KEY_TYPES)}, got {self.key_type!r}")
        if self.key_size not in KEY_SIZES:
            raise PropsError(f"the secrets key must be {' or '.join(map(str, KEY_SIZES))} bits, got {self.key_size}")


class SecretsKeyComponent(Component):
    """The RSA key Pulumi's azurekeyvault secrets provider encrypts each stack's data key with."""

    SUPPORTS = frozenset({"tags", "protect"})

    def __init__(self, name: str, props: SecretsKeyProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:bootstrap:SecretsKey", name, props.common, opts)
        c = props.common
        self.key = keyvault.Key(
            f"{name}-key",
            key_name=props.name,
            vault_name=props.vault_name,
            resource_group_name=c.resource_group_name,
            properties=keyvault.KeyPropertiesArgs(
                kty=props.key_type,
                key_size=props.key_size,
                # Only what the secrets provider calls: nothing signs, wraps or exports with this key.
                key_ops=list(KEY_OPS),
                attributes=keyvault.KeyAttributesArgs(enabled=True, exportable=False),
                # No automatic rotation: stacks name a key version, and a new version is adopted
                # per stack with `pulumi stack change-secrets-provider`. Versions that rotation
                # creates expire after `expiry`; Key Vault raises a near-expiry event before that.
                rotation_policy=keyvault.RotationPolicyArgs(
                    attributes=keyvault.KeyRotationPolicyAttributesArgs(expiry_time=props.expiry),
                    lifetime_actions=[
                        keyvault.LifetimeActionArgs(
                            action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.NOTIFY),
                            trigger=keyvault.TriggerArgs(time_before_expiry=props.notify_before_expiry),
                        )
                    ],
                ),
            ),
            tags=c.tags,
            opts=resource_opts(self, c, stateful=True),
        )
        role = builtin_role_id(c.subscription_id, CRYPTO_ROLE)
        self.role_assignments = [
            assign_role(self, f"{name}-ra-{g.key}-crypto-user", self.key.id, g.principal_id, g.principal_type, role,
                        f"{g.description}: encrypt and decrypt stack secrets")
            for g in props.grants
        ]
        self.id = self.key.id
        self.uri_with_version = self.key.key_uri_with_version
        self.register_outputs({"id": self.key.id})
