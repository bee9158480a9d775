"""Log Analytics workspace and the workspace-based Application Insights on it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import applicationinsights, operationalinsights

from infra.components.common import Common, PropsError, add_lock, add_role_assignments, check_name, resource_opts


@dataclass
class MonitoringProps:
    common: Common
    log_analytics_name: str
    app_insights_name: str
    retention_days: int
    # Disabling local auth makes every telemetry writer use Entra ID; AML writes
    # endpoint telemetry with the connection string, so it stays a stack switch.
    app_insights_local_auth: bool = True
    # True when a private link scope (MonitorPrivateLinkComponent) carries ingestion.
    private_ingestion: bool = False

    def __post_init__(self) -> None:
        check_name("log_analytics", self.log_analytics_name)
        check_name("app_insights", self.app_insights_name)
        if not 30 <= self.retention_days <= 730:
            raise PropsError(f"Log Analytics retention must be 30-730 days, got {self.retention_days}")


class MonitoringComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: MonitoringProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Monitoring", name, None, opts)
        c = props.common
        # With a private link scope, telemetry arrives only over its private endpoint; queries
        # stay open so the portal works from outside the VNet (they are Entra-authorised).
        ingestion = "Disabled" if props.private_ingestion else "Enabled"

        self.log_analytics = operationalinsights.Workspace(
            f"{name}-log",
            workspace_name=props.log_analytics_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=props.retention_days,
            features=operationalinsights.WorkspaceFeaturesArgs(
                # Readers see only the logs of resources they can read.
                enable_log_access_using_only_resource_permissions=True,
                disable_local_auth=True,
            ),
            public_network_access_for_ingestion=ingestion,
            public_network_access_for_query="Enabled",
            tags=c.tags,
            opts=resource_opts(self, c, stateful=True),
        )
        add_lock(self, f"{name}-log", self.log_analytics.id, c, "Log Analytics workspace")

        # The SDK renames the physical-name input to `resource_name_` (the Pulumi name owns `resource_name`).
        self.app_insights = applicationinsights.Component(
            f"{name}-appi",
            resource_name_=props.app_insights_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            kind="web",
            application_type="web",
            ingestion_mode="LogAnalytics",
            workspace_resource_id=self.log_analytics.id,
            disable_local_auth=not props.app_insights_local_auth,
            disable_ip_masking=False,
            # Profiler and Snapshot Debugger only into a storage account of the customer's (none is linked: AML
            # uses neither), never Microsoft's shared one (Azure Policy 0c4bd2e8).
            force_customer_storage_for_profiler=True,
            public_network_access_for_ingestion=ingestion,
            public_network_access_for_query="Enabled",
            tags=c.tags,
            opts=resource_opts(self, c),
        )

        # Role assignments of this component are on Application Insights (the workspace's link).
        self.role_assignments = add_role_assignments(self, f"{name}-appi", self.app_insights.id, c)

        self.log_analytics_id = self.log_analytics.id
        # The workspace's GUID, which traffic analytics takes beside its resource ID.
        self.log_analytics_customer_id = self.log_analytics.customer_id
        self.app_insights_id = self.app_insights.id
        self.register_outputs(
            {"log_analytics_id": self.log_analytics.id, "app_insights_id": self.app_insights.id}
        )
