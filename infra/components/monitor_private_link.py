"""Azure Monitor private link scope: Log Analytics and App Insights ingestion over a private endpoint."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor

from infra.components.common import Common, PropsError, add_private_endpoints, resource_opts


@dataclass
class MonitorPrivateLinkProps:
    common: Common
    name: str
    log_analytics_id: pulumi.Input[str]
    app_insights_id: pulumi.Input[str]

    def __post_init__(self) -> None:
        if self.common.private_endpoints is None:
            raise PropsError("an Azure Monitor private link scope needs common.private_endpoints (its subnet)")


class MonitorPrivateLinkComponent(pulumi.ComponentResource):
    def __init__(self, name: str, props: MonitorPrivateLinkProps, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("amlplatform:components:MonitorPrivateLink", name, None, opts)
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
