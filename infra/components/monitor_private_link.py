"""Azure Monitor private link scope: Log Analytics and App Insights ingestion over a private endpoint."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor

from infra.components.common import Common, Component, PropsError, add_private_endpoints, resource_opts


@dataclass
class MonitorPrivateLinkProps:
    common: Common
    """Placement and shared settings: tags, private endpoints (group azuremonitor; required)."""
    name: str
    """The private link scope's name."""
    log_analytics_id: pulumi.Input[str]
    """ARM ID of the Log Analytics workspace whose ingestion the scope carries."""
    app_insights_id: pulumi.Input[str]
    """ARM ID of the Application Insights component whose ingestion the scope carries."""

    def __post_init__(self) -> None:
        if self.common.private_endpoints is None:
            raise PropsError("an Azure Monitor private link scope needs common.private_endpoints (its subnet)")


class MonitorPrivateLinkComponent(Component):
    SUPPORTS = frozenset({"tags", "private_endpoints"})

    def __init__(self, name: str, props: MonitorPrivateLinkProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:MonitorPrivateLink", name, props.common, opts)
        c = props.common
        self.scope = monitor.PrivateLinkScope(
            f"{name}-ampls",
            scope_name=props.name,
            resource_group_name=c.resource_group_name,
            location="global",
            # Ingestion only through the scope; queries open so the portal works from outside (Entra-authorised).
            access_mode_settings=monitor.AccessModeSettingsArgs(
                ingestion_access_mode="PrivateOnly", query_access_mode="Open"
            ),
            tags=c.tags,
            opts=resource_opts(self, c),
        )
        for key, target in (("log", props.log_analytics_id), ("appi", props.app_insights_id)):
            monitor.PrivateLinkScopedResource(
                f"{name}-scoped-{key}",
                name=f"scoped-{key}",
                scope_name=self.scope.name,
                resource_group_name=c.resource_group_name,
                linked_resource_id=target,
                opts=resource_opts(self, c),
            )
        self.private_endpoints = add_private_endpoints(self, name, self.scope.id, props.name, ["azuremonitor"], c)
        self.id = self.scope.id
        self.register_outputs({"id": self.scope.id})
