"""VNet flow logs: every flow through the stack's VNet, kept in a storage account and analysed in Log Analytics.

NSG flow logs can no longer be created (Azure refuses new ones since 30 June 2025 and retires them on
30 September 2027); a VNet flow log covers every subnet, and so every NSG, of the VNet
(https://learn.microsoft.com/azure/network-watcher/vnet-flow-logs-overview). The flow log is a child of the
region's Network Watcher, which Azure keeps in its own resource group (NetworkWatcherRG/NetworkWatcher_<region>),
outside the stack's group: the deploying principal needs write access there.

The records go to an account of their own: nothing else reads or writes it, so the identities that work on
AML data (workspace, jobs, people) cannot touch the evidence of what the network did. It is hardened like
the platform's other accounts (no shared keys, no public network access, a private blob endpoint, and with
customer-managed keys a key of its own: flow records map who talked to what, so they are kept like data), so
Network Watcher writes with a user-assigned identity holding Storage Blob Data Contributor on it
(https://learn.microsoft.com/azure/network-watcher/vnet-flow-logs-managed-identity). Traffic analytics
processes the records every 10 minutes into the stack's Log Analytics workspace.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumiverse_time as time
from pulumi_azure_native import network

from infra.components.common import Common, PropsError, RoleAssignment, resource_opts
from infra.components.encryption import StorageKey
from infra.components.identity import IdentityComponent, IdentityProps
from infra.components.storage import StorageComponent, StorageProps

# Azure Policy 2f080164 and 3e9965dc accept 10 or 60 minutes; 10 shows traffic sooner at the same price per GB.
TRAFFIC_ANALYTICS_MINUTES = 10
WRITER_ROLE = "Storage Blob Data Contributor"


@dataclass
class FlowLogsProps:
    # The stack's resource group, tags, diagnostics and private endpoints: for the account and the identity.
    common: Common
    flow_log_name: str
    storage_name: str
    identity_name: str
    replication: str
    vnet_id: pulumi.Input[str]
    log_analytics_id: pulumi.Input[str]
    # The Log Analytics workspace's GUID (customerId): traffic analytics takes both.
    log_analytics_customer_id: pulumi.Input[str]
    network_watcher_resource_group: str = "NetworkWatcherRG"
    network_watcher_name: str = ""
    retention_days: int = 90
    role_propagation_seconds: int = 60
    # Customer-managed keys: the account's key (its own, like every other account of the stack) and what the
    # account waits for (the key identity's grant and its propagation pause).
    customer_managed_key: StorageKey | None = None
    depends_on: Sequence[pulumi.Resource] = ()

    def __post_init__(self) -> None:
        if not 90 <= self.retention_days <= 365:
            raise PropsError(f"flow log retention must be 90-365 days, got {self.retention_days}")
        if not self.network_watcher_name:
            self.network_watcher_name = f"NetworkWatcher_{self.common.location}"


class FlowLogsComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: FlowLogsProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:FlowLogs", name, None, opts)
        c = props.common
        child = pulumi.ResourceOptions(parent=self)
        self.identity = IdentityComponent(f"{name}-identity", IdentityProps(c, props.identity_name), opts=child)
        grant = RoleAssignment(key="flowlogs-blob-data", role=WRITER_ROLE, principal_id=self.identity.principal_id,
                               principal_type="ServicePrincipal",
                               description="VNet flow logs: Network Watcher writes the records")
        self.storage = StorageComponent(
            f"{name}-storage",
            StorageProps(dataclasses.replace(c, role_assignments=[grant]), name=props.storage_name,
                         replication=props.replication, public_network_access=False, logs_only=True,
                         customer_managed_key=props.customer_managed_key, depends_on=props.depends_on),
            opts=child,
        )
        # Network Watcher checks the identity's access when the flow log is created.
        propagation = time.Sleep(
            f"{name}-role-propagation",
            create_duration=f"{props.role_propagation_seconds}s",
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.storage.role_assignments),
        )
        self.flow_log = network.FlowLog(
            f"{name}-vnet",
            flow_log_name=props.flow_log_name,
            network_watcher_name=props.network_watcher_name,
            resource_group_name=props.network_watcher_resource_group,
            location=c.location,
            target_resource_id=props.vnet_id,
            storage_id=self.storage.id,
            enabled=True,
            identity=network.ManagedServiceIdentityArgs(
                type=network.ResourceIdentityType.USER_ASSIGNED, user_assigned_identities=[self.identity.id]),
            format=network.FlowLogFormatParametersArgs(type="JSON", version=2),
            retention_policy=network.RetentionPolicyParametersArgs(enabled=True, days=props.retention_days),
            flow_analytics_configuration=network.TrafficAnalyticsPropertiesArgs(
                network_watcher_flow_analytics_configuration=network.TrafficAnalyticsConfigurationPropertiesArgs(
                    enabled=True,
                    traffic_analytics_interval=TRAFFIC_ANALYTICS_MINUTES,
                    workspace_id=props.log_analytics_customer_id,
                    workspace_region=c.location,
                    workspace_resource_id=props.log_analytics_id,
                ),
            ),
            tags=c.tags,
            opts=resource_opts(self, c, depends_on=[propagation]),
        )
        self.id = self.flow_log.id
        self.register_outputs({"id": self.flow_log.id, "storage_id": self.storage.id})
