"""Log Analytics workspace and the workspace-based Application Insights on it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import applicationinsights, operationalinsights

from infra.azure_facts.limits import LOG_ANALYTICS_RETENTION_DAYS
from infra.components.common import Common, Component, PropsError, add_lock, add_role_assignments, check_name, resource_opts


@dataclass
class MonitoringProps:
    common: Common
    """Placement and shared settings: tags, role assignments (on Application Insights, the workspace's link),
    lock (on the Log Analytics workspace), protect."""
    log_analytics_name: str
    """The Log Analytics workspace's name (infra/naming.py rule `log_analytics`)."""
    app_insights_name: str
    """The Application Insights component's name (infra/naming.py rule `app_insights`)."""
    retention_days: int
    """Days Log Analytics keeps data interactively (30-730, infra/azure_facts/limits.py)."""
    app_insights_local_auth: bool
    """Keep Application Insights' connection-string (key) ingestion: AML writes endpoint telemetry with it.
    False makes every writer use Entra ID."""
    private_ingestion: bool
    """True when a private link scope (MonitorPrivateLinkComponent) carries ingestion: public ingestion off."""

    def __post_init__(self) -> None:
        check_name("log_analytics", self.log_analytics_name)
        check_name("app_insights", self.app_insights_name)
        problem = LOG_ANALYTICS_RETENTION_DAYS.problem(self.retention_days)
        if problem:
            raise PropsError(problem)


class MonitoringComponent(Component):
    SUPPORTS = frozenset({"tags", "role_assignments", "lock", "protect"})

    def __init__(self, name: str, props: MonitoringProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:Monitoring", name, props.common, opts)
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
        add_lock(self, f"{name}-log", self.log_analytics.id, c.lock, "Log Analytics workspace")

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
