"""A storage account, hardened one way for every account the project creates: Entra-only, firewalled, soft delete on.

The workspace's default storage must be flat: "Azure Machine Learning doesn't support hierarchical
namespace (Azure Data Lake Storage Gen2 feature) for the default storage account of the workspace"
(https://learn.microsoft.com/azure/machine-learning/how-to-manage-workspace#limitations); the
service answers "Cannot use storage with HNS enabled". The teams' data lake is ADLS Gen2. One component serves both, switched by
`data_lake`: the namespace, the endpoints that get private endpoints (blob + file for AML's
notebooks share, blob + dfs for the lake) and the team containers follow from it. The hardening itself
(`hardened_account`, `blob_service`) is shared with the state backend's account
(infra/state_backend/components.py), so every account of the project is locked down by the same lines.

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

from infra.azure_facts.limits import BLOB_SOFT_DELETE_DAYS
from infra.components.common import (
    Common,
    Component,
    CustomerManagedKey,
    PropsError,
    add_diagnostics,
    add_private_endpoints,
    add_role_assignments,
    check_name,
    resource_opts,
)

ACCOUNT = "Microsoft.Storage/storageAccounts"
# d.hh:mm:ss, as ARM takes sasExpirationPeriod.
SAS_MAX_VALIDITY = "7.00:00:00"
# The services whose encryption scope is the account's key (see `encryption`).
SERVICES = ("blob", "file", "queue", "table")


@dataclass
class StorageProps:
    common: Common
    """Placement and shared settings: tags, role assignments (on the account), diagnostics, private endpoints,
    customer-managed key (the account takes the key's user-assigned identity), protect."""
    name: str
    """The account's name, globally unique (infra/naming.py rule `storage`, `data_lake` or `flow_logs`)."""
    replication: str
    """The SKU name, which sets replication (Standard_LRS, Standard_ZRS, Standard_GZRS, ...)."""
    public_network_access: bool
    """True: reachable from the IP ranges in `allowed_ip_ranges` (dev); False: private endpoints only."""
    allowed_ip_ranges: list[str] = field(default_factory=list)
    """Public IPv4 addresses or CIDR ranges the firewall lets in; everything else is denied."""
    soft_delete_days: int = 14
    """Days deleted blobs, containers and file shares stay restorable (1-365, Azure's range)."""
    data_lake: bool = False
    """False: the workspace's default storage (flat namespace); True: the teams' ADLS Gen2 data lake."""
    containers: list[str] = field(default_factory=list)
    """Private containers (team data) on the data lake; never publicly readable, kept on delete."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the account waits for (with a customer-managed key: its identity's grant and propagation pause)."""
    logs_only: bool = False
    """True: a flat account only Azure services write to (VNet flow logs): blob alone, no file share."""

    def __post_init__(self) -> None:
        check_name("data_lake" if self.data_lake else "flow_logs" if self.logs_only else "storage", self.name)
        if self.containers and not self.data_lake:
            raise PropsError("team containers live on the data lake (data_lake=True), not on the workspace storage")
        if self.logs_only and self.data_lake:
            raise PropsError("a logs-only account is flat (logs_only excludes data_lake)")
        problem = BLOB_SOFT_DELETE_DAYS.problem(self.soft_delete_days)
        if problem:
            raise PropsError(problem)
        key = self.common.customer_managed_key
        if key is not None and key.user_assigned_identity is None:
            raise PropsError(f"storage account {self.name}: a customer-managed key needs the user-assigned identity "
                             "that reaches it (the account's own identity is created with the account, too late)")

    @property
    def endpoint_groups(self) -> list[str]:
        """Private endpoint groups: what clients reach. AML's notebooks use the workspace storage's file share."""
        if self.logs_only:
            return ["blob"]
        return ["blob", "dfs"] if self.data_lake else ["blob", "file"]


class StorageComponent(Component):
    SUPPORTS = frozenset({"tags", "role_assignments", "diagnostic_settings", "private_endpoints",
                          "customer_managed_key", "protect"})

    def __init__(self, name: str, props: StorageProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Storage", name, props.common, opts)
        c = props.common
        key = c.customer_managed_key

        self.account = hardened_account(
            self, f"{name}-account", c,
            account_name=props.name,
            replication=props.replication,
            public_network_access=props.public_network_access,
            allowed_ip_ranges=props.allowed_ip_ranges,
            hierarchical_namespace=props.data_lake,
            identity=storage.IdentityArgs(type=storage.IdentityType.USER_ASSIGNED,
                                          user_assigned_identities=[key.user_assigned_identity.resource_id])
            if key and key.user_assigned_identity else None,
            encryption=encryption(key),
            depends_on=props.depends_on,
        )

        self.blob_service = blob_service(self, f"{name}-blob", self.account, c, props.soft_delete_days)
        self.file_service = None if props.data_lake or props.logs_only else storage.FileServiceProperties(
            f"{name}-file",
            account_name=self.account.name,
            resource_group_name=c.resource_group_name,
            file_services_name="default",
            share_delete_retention_policy=retention(props.soft_delete_days),
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


def hardened_account(
    owner: pulumi.Resource,
    resource_name: str,
    common: Common,
    *,
    account_name: str,
    replication: str,
    public_network_access: bool,
    allowed_ip_ranges: Sequence[str],
    hierarchical_namespace: bool,
    encryption: storage.EncryptionArgs,
    identity: storage.IdentityArgs | None = None,
    allowed_copy_scope: str | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> storage.StorageAccount:
    """A StorageV2 account reachable with Entra ID only, over TLS 1.2+, behind a deny-by-default firewall.

    Every account of the project (the workspace storage, the data lake, the flow logs' account, the state
    backend's) is declared here; what differs is passed in: the namespace, the encryption (customer-managed
    key or not, which services), the identity, and `allowed_copy_scope` (AAD: copies only within the tenant)."""
    return storage.StorageAccount(
        resource_name,
        account_name=account_name,
        resource_group_name=common.resource_group_name,
        location=common.location,
        kind="StorageV2",
        sku=storage.SkuArgs(name=replication),
        access_tier=storage.AccessTier.HOT,
        is_hns_enabled=hierarchical_namespace,
        enable_https_traffic_only=True,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
        # No account keys anywhere: Entra ID only, for people, AML, jobs and Pulumi's backend alike.
        allow_shared_key_access=False,
        default_to_o_auth_authentication=True,
        is_local_user_enabled=False,
        is_sftp_enabled=False,
        allow_cross_tenant_replication=False,
        allowed_copy_scope=allowed_copy_scope,
        # With shared keys off only user-delegation SAS exist, and their key lives at most 7 days: capping
        # SAS at 7 days and blocking longer ones refuses nothing Azure could issue, and states the limit
        # (Azure Policy 7aa1c9d5 "Storage SAS tokens should adhere to 7 day maximum validity").
        sas_policy=storage.SasPolicyArgs(sas_expiration_period=SAS_MAX_VALIDITY, expiration_action="Block"),
        public_network_access="Enabled" if public_network_access else "Disabled",
        network_rule_set=storage.NetworkRuleSetArgs(
            default_action=storage.DefaultAction.DENY,
            bypass="AzureServices",
            ip_rules=[
                storage.IPRuleArgs(i_p_address_or_range=ip, action=storage.Action.ALLOW)
                for ip in allowed_ip_ranges
            ],
        ),
        identity=identity,
        encryption=encryption,
        tags=common.tags,
        opts=resource_opts(owner, common, stateful=True, depends_on=list(depends_on)),
    )


def retention(days: int) -> storage.DeleteRetentionPolicyArgs:
    """Soft delete for `days` (blobs, containers, file shares)."""
    return storage.DeleteRetentionPolicyArgs(enabled=True, days=days)


def blob_service(owner: pulumi.Resource, resource_name: str, account: storage.StorageAccount, common: Common,
                 soft_delete_days: int, versioning: bool | None = None) -> storage.BlobServiceProperties:
    """The account's blob service with blob and container soft delete, and blob versioning when asked."""
    policy = retention(soft_delete_days)
    return storage.BlobServiceProperties(
        resource_name,
        account_name=account.name,
        resource_group_name=common.resource_group_name,
        blob_services_name="default",
        is_versioning_enabled=versioning,
        delete_retention_policy=policy,
        container_delete_retention_policy=policy,
        opts=resource_opts(owner, common),
    )


def encryption(key: CustomerManagedKey | None, services: Sequence[str] = SERVICES) -> storage.EncryptionArgs:
    """Infrastructure (double) encryption, and account-scoped keys for `services`, CMK or not.

    Queues and tables take the account's key only when the account is created with keyType Account;
    otherwise they stay on a service-scoped Microsoft key even once a customer-managed key protects the
    account, and that cannot be changed later (customer-managed-keys-overview, "Customer-managed keys
    for queues and tables"; Azure Policy f0e5abd0 and 7c322315). Setting it from the start keeps a later
    switch to customer-managed keys an in-place change for both accounts. The key has no version, so
    Azure Storage adopts each new version itself (it checks the vault daily)."""
    scoped = storage.EncryptionServicesArgs(
        **{svc: storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT) for svc in services}
    )
    if key is None:
        return storage.EncryptionArgs(key_source=storage.KeySource.MICROSOFT_STORAGE,
                                      require_infrastructure_encryption=True, services=scoped)
    if key.user_assigned_identity is None:
        raise PropsError("a storage account's customer-managed key needs the user-assigned identity that reaches it")
    return storage.EncryptionArgs(
        key_source=storage.KeySource.MICROSOFT_KEYVAULT,
        key_vault_properties=storage.KeyVaultPropertiesArgs(key_name=key.key_name, key_vault_uri=key.key_vault_uri),
        encryption_identity=storage.EncryptionIdentityArgs(
            encryption_user_assigned_identity=key.user_assigned_identity.resource_id),
        require_infrastructure_encryption=True,
        services=scoped,
    )
