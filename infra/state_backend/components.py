"""The state backend's own pieces: a lean storage account for checkpoints and the secrets key.

The platform's `StorageComponent` is a data lake for Azure ML (hierarchical
namespace, a file service, team containers); blob versioning does not work
on a hierarchical-namespace account, so state gets a plain StorageV2 account
of its own, locked down the same way through the same helpers (role
assignments, locks, diagnostics, private endpoints). The key vault is the
platform's `KeyVaultComponent` as is; the key Pulumi encrypts with lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulumi
from pulumi_azure_native import keyvault, storage

from infra.components.common import (
    Common,
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
from infra.components.storage import SAS_MAX_VALIDITY

# Pulumi's azurekeyvault secrets provider calls Encrypt and Decrypt (RSA-OAEP-256) on the key
# (gocloud.dev/secrets/azurekeyvault). Key Vault Crypto User grants both; Key Vault Crypto
# Service Encryption User only wraps and unwraps, which is not enough.
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
KEY_OPS = ("encrypt", "decrypt")


@dataclass(frozen=True)
class Grant:
    """A principal that uses the backend: a blob data role on the container, Crypto User on the key."""

    key: str
    principal_id: str
    principal_type: PrincipalType
    description: str
    # Storage Blob Data Contributor reads and writes state (and its locks); Storage Blob Data Reader
    # is enough for `pulumi preview`, which takes no lock in a DIY backend.
    blob_role: Literal["Storage Blob Data Contributor", "Storage Blob Data Reader"] = "Storage Blob Data Contributor"


@dataclass
class StateStorageProps:
    common: Common
    name: str
    container: str
    replication: str
    public_network_access: bool
    allowed_ip_ranges: list[str] = field(default_factory=list)
    soft_delete_days: int = 30
    delete_old_versions_after_days: int | None = None
    grants: list[Grant] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_name("storage", self.name)
        if not 1 <= self.soft_delete_days <= 365:
            raise PropsError("blob soft delete must keep deleted blobs 1-365 days")


class StateStorageComponent(pulumi.ComponentResource):
    """A StorageV2 account for Pulumi checkpoints: Entra ID only, versioned, soft delete, one private container."""

    def __init__(self, name: str, props: StateStorageProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:bootstrap:StateStorage", name, None, opts)
        c = props.common

        self.account = storage.StorageAccount(
            f"{name}-account",
            account_name=props.name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            kind="StorageV2",
            sku=storage.SkuArgs(name=props.replication),
            access_tier=storage.AccessTier.HOT,
            # Blob versioning needs a flat namespace.
            is_hns_enabled=False,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            # No account keys or SAS: Pulumi's backend signs in with Entra ID (DefaultAzureCredential).
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            is_local_user_enabled=False,
            is_sftp_enabled=False,
            allow_cross_tenant_replication=False,
            allowed_copy_scope="AAD",
            # The platform's SAS cap (infra/components/storage.py): nothing valid is refused with shared keys off.
            sas_policy=storage.SasPolicyArgs(sas_expiration_period=SAS_MAX_VALIDITY, expiration_action="Block"),
            public_network_access="Enabled" if props.public_network_access else "Disabled",
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY,
                bypass="AzureServices",
                ip_rules=[storage.IPRuleArgs(i_p_address_or_range=ip, action=storage.Action.ALLOW)
                          for ip in props.allowed_ip_ranges],
            ),
            encryption=storage.EncryptionArgs(
                key_source="Microsoft.Storage",
                require_infrastructure_encryption=True,
                services=storage.EncryptionServicesArgs(
                    blob=storage.EncryptionServiceArgs(enabled=True, key_type="Account"),
                ),
            ),
            tags=c.tags,
            opts=resource_opts(self, c, stateful=True),
        )

        retention = storage.DeleteRetentionPolicyArgs(enabled=True, days=props.soft_delete_days)
        self.blob_service = storage.BlobServiceProperties(
            f"{name}-blob",
            account_name=self.account.name,
            resource_group_name=c.resource_group_name,
            blob_services_name="default",
            # Every checkpoint Pulumi overwrites stays as a version: state history beyond .pulumi/history.
            is_versioning_enabled=True,
            delete_retention_policy=retention,
            container_delete_retention_policy=retention,
            opts=resource_opts(self, c),
        )
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
        add_diagnostics(self, f"{name}-account", self.account.id, diag, "Microsoft.Storage/storageAccounts")
        add_diagnostics(self, f"{name}-blob", self.blob_service.id, diag, "Microsoft.Storage/storageAccounts/blobServices")
        self.role_assignments = [
            assign_role(self, f"{name}-ra-{g.key}-blob-data", self.container.id, g.principal_id, g.principal_type,
                        builtin_role_id(c.subscription_id, g.blob_role),
                        f"{g.description}: {'read' if g.blob_role.endswith('Reader') else 'read and write'} Pulumi state")
            for g in props.grants
        ]
        self.private_endpoints = add_private_endpoints(self, name, self.account.id, props.name, ["blob"], c)
        add_lock(self, name, self.account.id, c, "storage account")

        self.id = self.account.id
        self.name = self.account.name
        self.register_outputs({"id": self.account.id, "containerId": self.container.id})


@dataclass
class SecretsKeyProps:
    common: Common
    vault_name: pulumi.Input[str]
    name: str
    key_type: str = "RSA-HSM"
    key_size: int = 3072
    expiry: str = "P2Y"
    notify_before_expiry: str = "P30D"
    grants: list[Grant] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.key_type not in ("RSA", "RSA-HSM"):
            raise PropsError(f"the secrets key must be RSA or RSA-HSM, got {self.key_type!r}")
        if self.key_size not in (3072, 4096):
            raise PropsError(f"the secrets key must be 3072 or 4096 bits, got {self.key_size}")


class SecretsKeyComponent(pulumi.ComponentResource):
    """The RSA key Pulumi's azurekeyvault secrets provider encrypts each stack's data key with."""

    def __init__(self, name: str, props: SecretsKeyProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:bootstrap:SecretsKey", name, None, opts)
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
        role = pulumi.Output.from_input(c.subscription_id).apply(
            lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{KEY_VAULT_CRYPTO_USER}"
        )
        self.role_assignments = [
            assign_role(self, f"{name}-ra-{g.key}-crypto-user", self.key.id, g.principal_id, g.principal_type, role,
                        f"{g.description}: encrypt and decrypt stack secrets")
            for g in props.grants
        ]
        self.id = self.key.id
        self.uri_with_version = self.key.key_uri_with_version
        self.register_outputs({"id": self.key.id})
