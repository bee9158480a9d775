"""The workspace's storage account: ADLS Gen2, Entra-only, firewalled, soft delete on."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import storage

from .common import (
    Common,
    add_diagnostics,
    add_lock,
    add_private_endpoints,
    add_role_assignments,
    check_name,
    resource_opts,
)


@dataclass
class StorageProps:
    common: Common
    name: str
    replication: str
    public_network_access: bool
    allowed_ip_ranges: list[str] = field(default_factory=list)
    soft_delete_days: int = 14
    # Private blob containers (team data); never publicly readable.
    containers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_name("storage", self.name)


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
            is_hns_enabled=True,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            # No account keys anywhere: Entra ID only, for people, AML and jobs alike.
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            is_local_user_enabled=False,
            is_sftp_enabled=False,
            allow_cross_tenant_replication=False,
            public_network_access="Enabled" if props.public_network_access else "Disabled",
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY,
                bypass="AzureServices",
                ip_rules=[
                    storage.IPRuleArgs(i_p_address_or_range=ip, action=storage.Action.ALLOW)
                    for ip in props.allowed_ip_ranges
                ],
            ),
            encryption=storage.EncryptionArgs(
                key_source="Microsoft.Storage",
                require_infrastructure_encryption=True,
                services=storage.EncryptionServicesArgs(
                    blob=storage.EncryptionServiceArgs(enabled=True, key_type="Account"),
                    file=storage.EncryptionServiceArgs(enabled=True, key_type="Account"),
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
            delete_retention_policy=retention,
            container_delete_retention_policy=retention,
            opts=resource_opts(self, c),
        )
        self.file_service = storage.FileServiceProperties(
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
                opts=resource_opts(self, c, depends_on=[self.blob_service]),
            )
            for container in props.containers
        }

        diag = c.diagnostic_settings
        # Account level carries metrics only; logs live on each service.
        add_diagnostics(self, f"{name}-account", self.account.id, diag, logs=False)
        add_diagnostics(self, f"{name}-blob", self.blob_service.id, diag)
        add_diagnostics(self, f"{name}-file", self.file_service.id, diag)
        self.role_assignments = add_role_assignments(self, name, self.account.id, c)
        self.private_endpoints = add_private_endpoints(self, name, self.account.id, props.name, ["blob", "file", "dfs"], c)
        add_lock(self, name, self.account.id, c, "storage account")

        self.id = self.account.id
        self.name = self.account.name
        self.register_outputs({"id": self.account.id, "name": self.account.name})
