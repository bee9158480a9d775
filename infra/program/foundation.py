"""The foundation: the resource group, the platform's identities and monitoring."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import resources

from infra.components.common import DiagnosticSettings, RoleAssignment
from infra.components.identity import IdentityComponent, IdentityProps
from infra.components.monitoring import MonitoringComponent, MonitoringProps
from infra import config as config_mod
from infra.naming import Names
from infra.program.site import Site, grant
from infra.topology import COMPUTE_IDENTITY, INSTANCE_IDENTITY, WORKSPACE_IDENTITY


def resource_group(cfg: config_mod.StackConfig, names: Names, tags: dict[str, str]) -> resources.ResourceGroup:
    return resources.ResourceGroup(
        "rg",
        resource_group_name=names.resource_group,
        location=cfg.platform.location,
        tags=tags,
        opts=pulumi.ResourceOptions(protect=cfg.protection.protect),
    )


@dataclass(frozen=True)
class Identities:
    workspace: IdentityComponent
    compute: IdentityComponent
    instance: IdentityComponent | None

    def instance_grant(self, key: str, role: str) -> list[RoleAssignment]:
        """The instances' identity's role, when the stack has instances."""
        return [grant(self.instance, "instance", key, role)] if self.instance else []


def identities(site: Site) -> Identities:
    # The workspace's identity, and the one jobs run as (only data-plane roles, never Owner or
    # Contributor). The workspace identity's set is Azure ML's documented one for a user-assigned
    # workspace identity: Contributor on the workspace and each linked resource (never the group)
    # plus the data roles that let it work without keys (how-to-identity-based-service-authentication).
    names = site.names
    ws_id = IdentityComponent(WORKSPACE_IDENTITY, IdentityProps(site.common(), names.identity("workspace")))
    job_id = IdentityComponent(COMPUTE_IDENTITY, IdentityProps(site.common(), names.identity("compute")))
    # Compute instances get their own: idle shutdown works only when the instance's identity holds
    # Contributor on the workspace (how-to-create-compute-instance#assign-managed-identity), a role
    # the identity every cluster job runs as must not have.
    # It exists whenever instances are on, so team stacks' members get instances too (infra/program/team.py).
    ci_id = IdentityComponent(INSTANCE_IDENTITY, IdentityProps(site.common(), names.identity("instance"))) \
        if site.cfg.compute.instances.enabled else None
    return Identities(ws_id, job_id, ci_id)


@dataclass(frozen=True)
class Monitoring:
    component: MonitoringComponent
    # Every component's diagnostic settings go to the stack's Log Analytics workspace.
    diagnostics: DiagnosticSettings


def monitoring(site: Site, ids: Identities) -> Monitoring:
    cfg, names = site.cfg, site.names
    component = MonitoringComponent(
        "monitoring",
        MonitoringProps(
            site.stateful(lock=site.lock,
                          role_assignments=[grant(ids.workspace, "workspace", "contributor", "Contributor")]),
            log_analytics_name=names.log_analytics,
            app_insights_name=names.app_insights,
            retention_days=cfg.monitoring.retention_days,
            app_insights_local_auth=cfg.monitoring.app_insights_local_auth,
            private_ingestion=cfg.network.monitor_private_link,
        ),
    )
    return Monitoring(component, DiagnosticSettings(workspace_id=component.log_analytics_id))
