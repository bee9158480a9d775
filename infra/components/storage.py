"""A storage account, hardened one way for both of the platform's accounts: Entra-only, firewalled, soft delete on.

The workspace's default storage must be flat: "Azure Machine Learning doesn't support hierarchical
namespace (Azure Data Lake Storage Gen2 feature) for the default storage account of the workspace"
(https://learn.microsoft.com/azure/machine-learning/how-to-manage-workspace#limitations); the
service answers "Cannot use storage with HNS enabled". The teams' data lake is ADLS Gen2. One component serves both, switched by
`data_lake`: the namespace, the endpoints that get private endpoints (blob + file for AML's
notebooks share, blob + dfs for the lake) and the team containers follow from it.

No management lock here: the teams' grants (role assignments at the account and container scopes)
and containers are created and removed per team, and a CanNotDelete lock on the account blocks
deleting anything below it, extension resources included. `protect` keeps Pulumi from deleting
the accounts; team containers are retained on delete so offboarding never deletes data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pulumi
from pulumi_azure_native import storage

from infra.components.common import (
    Common,
    PropsError,
    add_diagnostics,
    add_private_endpoints,
    add_role_assignments,
    check_name,
    resource_opts,
)
from infra.components.encryption import StorageKey

ACCOUNT = "Microsoft.Storage/storageAccounts"
# d.hh:mm:ss, as ARM takes sasExpirationPeriod.
SAS_MAX_VALIDITY = "7.00:00:00"


@dataclass
class StorageProps:
    common: Common
    name: str
    replication: str
    public_network_access: bool
    allowed_ip_ranges: list[str] = field(default_factory=list)
    soft_delete_days: int = 14
    # False: the workspace's default storage (flat namespace); True: the teams' ADLS Gen2 data lake.
    data_lake: bool = False
    # Private containers (team data) on the data lake; never publicly readable, kept on delete.
    containers: list[str] = field(default_factory=list)
    # Encrypt with this customer-managed key (infra/components/encryption.py); None: Microsoft-managed keys.
    customer_managed_key: StorageKey | None = None
    # What the account waits for (the key identity's grant and its propagation pause).
    depends_on: Sequence[pulumi.Resource] = ()
    # True: a flat account only Azure services write to (VNet flow logs): blob alone, no file share.
    logs_only: bool = False

    def __post_init__(self) -> None:
        check_name("data_lake" if self.data_lake else "flow_logs" if self.logs_only else "storage", self.name)
        if self.containers and not self.data_lake:
            raise PropsError("team containers live on the data lake (data_lake=True), not on the workspace storage")
        if self.logs_only and self.data_lake:
            raise PropsError("a logs-only account is flat (logs_only excludes data_lake)")

    @property
    def endpoint_groups(self) -> list[str]:
        """Private endpoint groups: what clients reach. AML's notebooks use the workspace storage's file share."""
        if self.logs_only:
            return ["blob"]
        return ["blob", "dfs"] if self.data_lake else ["blob", "file"]


class StorageComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: StorageProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Storage", name, None, opts)
        c = props.common

        self.account = storage.StorageAccount(
            f"{name}-account",
            account_name=props.name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            kind="StorageV2",
            sku=storage.SkuArgs(name=props.replication),
            access_tier=storage.AccessTier.HOT,
            is_hns_enabled=props.data_lake,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            # No account keys anywhere: Entra ID only, for people, AML and jobs alike.
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            is_local_user_enabled=False,
            is_sftp_enabled=False,
            allow_cross_tenant_replication=False,
            # With shared keys off only user-delegation SAS exist, and their key lives at most 7 days: capping
            # SAS at 7 days and blocking longer ones refuses nothing Azure could issue, and states the limit
            # (Azure Policy 7aa1c9d5 "Storage SAS tokens should adhere to 7 day maximum validity").
            sas_policy=storage.SasPolicyArgs(sas_expiration_period=SAS_MAX_VALIDITY, expiration_action="Block"),
            public_network_access="Enabled" if props.public_network_access else "Disabled",
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY,
                bypass="AzureServices",
                ip_rules=[
                    storage.IPRuleArgs(i_p_address_or_range=ip, action=storage.Action.ALLOW)
                    for ip in props.allowed_ip_ranges
                ],
            ),
            identity=storage.IdentityArgs(type=storage.IdentityType.USER_ASSIGNED,
                                          user_assigned_identities=[props.customer_managed_key.identity_id])
            if props.customer_managed_key else None,
            encryption=encryption(props.customer_managed_key),
            tags=c.tags,
            opts=resource_opts(self, c, stateful=True, depends_on=list(props.depends_on)),
        )

        retention = storage.DeleteRetentionPolicyArgs(enabled=True, days=props.soft_delete_days)
        self.blob_service = storage.BlobServiceProperties(
            f"{name}-blob",
            account_name=self.account.name,
            resource_group_name=c.resource_group_name,
            blob_services_name="default",
            delete_retention_policy=retention,
            container_delete_retention_policy=retention,
            opts=resource_opts(self, c),
        )
        self.file_service = None if props.data_lake or props.logs_only else storage.FileServiceProperties(
            f"{name}-file",
            account_name=self.account.name,
            resource_group_name=c.resource_group_name,
            file_services_name="default",
            share_delete_retention_policy=retention,
            opts=resource_opts(self, c),
        )

        self.containers = {
            container: storage.BlobContainer(
                f"{name}-container-{container}",
                container_name=container,
                account_name=self.account.name,
                resource_group_name=c.resource_group_name,
                public_access=storage.PublicAccess.NONE,
                # Offboarding a team removes its grants and datastores, never its data.
                opts=resource_opts(self, c, depends_on=[self.blob_service], retain_on_delete=True),
            )
            for container in props.containers
        }

        diag = c.diagnostic_settings
        # The account level carries metrics only (it has no logs); logs live on each service.
        add_diagnostics(self, f"{name}-account", self.account.id, diag, ACCOUNT)
        add_diagnostics(self, f"{name}-blob", self.blob_service.id, diag, f"{ACCOUNT}/blobServices")
        if self.file_service is not None:
            add_diagnostics(self, f"{name}-file", self.file_service.id, diag, f"{ACCOUNT}/fileServices")
        self.role_assignments = add_role_assignments(self, name, self.account.id, c)
        self.private_endpoints = add_private_endpoints(self, name, self.account.id, props.name, props.endpoint_groups, c)

        self.id = self.account.id
        self.name = self.account.name
        self.register_outputs({"id": self.account.id, "name": self.account.name})


def encryption(key: StorageKey | None) -> storage.EncryptionArgs:
    """Infrastructure (double) encryption, and account-scoped keys for every service, CMK or not.

    Queues and tables take the account's key only when the account is created with keyType Account;
    otherwise they stay on a service-scoped Microsoft key even once a customer-managed key protects the
    account, and that cannot be changed later (customer-managed-keys-overview, "Customer-managed keys
    for queues and tables"; Azure Policy f0e5abd0 and 7c322315). Setting it from the start keeps a later
    switch to customer-managed keys an in-place change for both accounts. The key has no version, so
    Azure Storage adopts each new version itself (it checks the vault daily)."""
    services = storage.EncryptionServicesArgs(
        **{svc: storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT)
           for svc in ("blob", "file", "queue", "table")}
    )
    if key is None:
        return storage.EncryptionArgs(key_source=storage.KeySource.MICROSOFT_STORAGE,
                                      require_infrastructure_encryption=True, services=services)
    return storage.EncryptionArgs(
        key_source=storage.KeySource.MICROSOFT_KEYVAULT,
        key_vault_properties=storage.KeyVaultPropertiesArgs(key_name=key.key_name, key_vault_uri=key.vault_uri),
        encryption_identity=storage.EncryptionIdentityArgs(encryption_user_assigned_identity=key.identity_id),
        require_infrastructure_encryption=True,
        services=services,
    )
